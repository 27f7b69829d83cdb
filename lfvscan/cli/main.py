"""Command-line entry point ``lfvscan``.

Each subcommand lives in its own module under :mod:`lfvscan.cli` exposing
``add_parser(subparsers)`` and ``run(args) -> int``.  Only the module of the command being run is
imported (``lfvscan scan`` does not pay for the plotting or dark-matter imports, in every MPI
rank); ``lfvscan --help`` imports them all to list them.  Errors in user input raise
:class:`lfvscan.errors.UsageError` and become one line on stderr with :data:`~lfvscan.errors.EXIT_USAGE`;
I/O and environment failures (``OSError``: disk full, read-only or unwritable path; ``MemoryError``;
:class:`lfvscan.errors.EnvironmentFailure`) one line with :data:`~lfvscan.errors.EXIT_IO`.  Every
``--help`` ends with the exit statuses of its command (:func:`lfvscan.errors.exit_status_help`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from lfvscan import __version__
from lfvscan.errors import (
    EXIT_IO,
    EXIT_USAGE,
    EnvironmentFailure,
    UsageError,
    describe_environment_error,
    exit_status_help,
)

#: subcommand modules, in the order shown by --help
COMMANDS = ("model", "xsec", "scan", "run", "status", "verify", "limits", "figures", "export", "flux")


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit status :data:`EXIT_USAGE`."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser(commands: tuple[str, ...] = COMMANDS) -> argparse.ArgumentParser:
    """The parser with the subcommands ``commands`` (all by default)."""
    parser = _Parser(
        prog="lfvscan",
        description="LFV tau-mu ALP production at TeV muon beams: cross sections, scans, limits (arXiv:2407.15942).",
        epilog=exit_status_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lfvscan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in commands:
        mod = importlib.import_module(f"lfvscan.cli.{name}")
        p = mod.add_parser(sub)
        p.epilog = exit_status_help(name)
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
        return EXIT_USAGE
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
