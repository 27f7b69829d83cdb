"""Command-line entry point ``lfvscan``.

Each subcommand lives in its own module under :mod:`lfvscan.cli` exposing
``add_parser(subparsers)`` and ``run(args) -> int``.  Only the module of the command being run is
imported (``lfvscan scan`` does not pay for the plotting or dark-matter imports, in every MPI
rank); ``lfvscan --help`` imports them all to list them.  Errors in user input raise
:class:`lfvscan.errors.UsageError` and become one line on stderr with exit status 2; I/O and
environment failures (``OSError``: disk full, read-only or unwritable path; ``MemoryError``;
:class:`lfvscan.errors.EnvironmentFailure`) one line with exit status 74 (:mod:`lfvscan.errors`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from lfvscan import __version__
from lfvscan.errors import EXIT_IO, EXIT_USAGE, EnvironmentFailure, UsageError, describe_environment_error

#: subcommand modules, in the order shown by --help
COMMANDS = ("model", "xsec", "scan", "run", "status", "verify", "limits", "figures", "export", "flux")


#: the exit statuses of every command (lfvscan.errors), shown by ``lfvscan --help``
EXIT_STATUS_HELP = """exit status:
  0    success
  1    scan finished with failed cells (rerun to retry them)
  2    usage error: a bad value, file, config or store, named in one line
  3    complete, but some results did not reach the requested precision (xsec, scan)
  74   I/O or environment failure (disk full, read-only or unwritable path, out of memory), one line
  130/143  interrupted by SIGINT/SIGTERM (rerun to resume)"""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(commands: tuple[str, ...] = COMMANDS) -> argparse.ArgumentParser:
    """The parser with the subcommands ``commands`` (all by default)."""
    parser = _Parser(
        prog="lfvscan",
        description="LFV tau-mu ALP production at TeV muon beams: cross sections, scans, limits (arXiv:2407.15942).",
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lfvscan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in commands:
        mod = importlib.import_module(f"lfvscan.cli.{name}")
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run)
    return parser


def _requested_command(argv: list[str]) -> str | None:
    """The subcommand named on the command line, if it is the first non-option argument."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> str:
    """Warnings as one line (``lfvscan: warning: ...``), without the source line."""
    return f"lfvscan: warning: {message}\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    warnings.formatwarning = _one_line_warning
    name = _requested_command(argv)
    parser = build_parser((name,) if name else COMMANDS)
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except UsageError as exc:
        print(f"lfvscan {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, MemoryError, EnvironmentFailure) as exc:
        print(f"lfvscan {args.command}: I/O or environment error: {describe_environment_error(exc)}", file=sys.stderr)
        return EXIT_IO


if __name__ == "__main__":
    sys.exit(main())
