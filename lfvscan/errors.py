"""Exception types and the exit statuses of every ``lfvscan`` command.

:data:`EXIT_STATUSES` is the one table of exit statuses: the ``--help`` epilogs of ``lfvscan`` and
of its commands (:func:`exit_status_help`), the README's "Exit statuses" list and the scan engine
(:mod:`lfvscan.scan.engine`, :mod:`lfvscan.scan.mpi`) take their codes and meanings from it
(tests/test_exit_statuses.py checks the README and the help texts against it).
"""

from __future__ import annotations

from dataclasses import dataclass

@dataclass(frozen=True)
class ExitStatus:
    """One exit status: ``code`` (its text, e.g. ``"75"`` or ``"128+signal"``), ``meaning`` (one
    line) and the ``commands`` that can end with it (None: every command)."""

    code: str
    meaning: str
    commands: tuple[str, ...] | None = None


EXIT_OK = 0
EXIT_FAILED_CELLS = 1
EXIT_USAGE = 2
EXIT_UNCONVERGED = 3
#: BSD ``EX_IOERR``
EXIT_IO = 74
#: BSD ``EX_TEMPFAIL``: a rank fell silent; a rerun resumes
EXIT_RANK_LOST = 75
#: an interrupted command exits with this plus the signal number (130 SIGINT, 143 SIGTERM)
EXIT_SIGNAL_BASE = 128

_SCANNING = ("scan", "run")

#: the exit statuses of every command, in increasing order
EXIT_STATUSES: tuple[ExitStatus, ...] = (
    ExitStatus(str(EXIT_OK), "success"),
    ExitStatus(str(EXIT_FAILED_CELLS), "cells failed or damaged: the scan finished with failed cells, or verify "
               "found damaged rows (rerun the scan to compute them)", _SCANNING + ("verify",)),
    ExitStatus(str(EXIT_USAGE), "usage error: a bad value, option, file, config or store, named in one line"),
    ExitStatus(str(EXIT_UNCONVERGED), "complete, but some results did not reach the requested precision",
               ("xsec",) + _SCANNING),
    ExitStatus(str(EXIT_IO), "I/O or environment failure (disk full, read-only or unwritable path, out of "
               "memory), named in one line"),
    ExitStatus(str(EXIT_RANK_LOST), "the scan ended because a rank fell silent (a worker, or rank 0) or died in "
               "the middle of a message (rerun to resume)", _SCANNING),
    ExitStatus(f"{EXIT_SIGNAL_BASE}+signal", "interrupted: 130 by SIGINT, 143 by SIGTERM (rerun to resume)"),
)


def exit_statuses(command: str | None = None) -> tuple[ExitStatus, ...]:
    """The statuses ``command`` can end with (all of them for None)."""
    return tuple(s for s in EXIT_STATUSES if command is None or s.commands is None or command in s.commands)


def exit_status_help(command: str | None = None) -> str:
    """The ``exit status:`` epilog of ``lfvscan --help`` (``command`` None: one status per line,
    for a raw formatter) or of ``lfvscan COMMAND --help`` (one paragraph, argparse rewraps it)."""
    rows = exit_statuses(command)
    if command is None:
        width = max(len(s.code) for s in rows) + 2
        return "exit status:\n" + "\n".join(f"  {s.code:<{width}}{s.meaning}" for s in rows)
    return "exit status: " + "; ".join(f"{s.code} {s.meaning}" for s in rows)


class UsageError(ValueError):
    """Bad user input (value, file, config).  The CLI prints it as one line and exits 2."""


class EnvironmentFailure(RuntimeError):
    """An I/O or environment failure (disk full, read-only store, unwritable output, out of
    memory).  The CLI prints it as one line and exits :data:`EXIT_IO` (74)."""


def describe_environment_error(exc: BaseException) -> str:
    """One line for an I/O or environment failure: what failed and on which path."""
    if isinstance(exc, MemoryError):
        return "out of memory (reduce the grid, n_xbins or the number of ranks per node)"
    if isinstance(exc, OSError) and exc.strerror:
        names = " -> ".join(repr(str(f)) for f in (exc.filename, exc.filename2) if f)
        hint = {28: " (disk full: free space, then rerun the same command; nothing finished is lost)",
                30: " (read-only file system)", 13: " (permission denied)", 122: " (disk quota exceeded)"}
        return f"{exc.strerror}{': ' + names if names else ''}{hint.get(exc.errno, '')}"
    return " ".join(str(exc).split()) or type(exc).__name__
