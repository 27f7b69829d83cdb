"""Exception types and exit statuses shared by the CLI and the library.

Exit statuses of every ``lfvscan`` command (README "Exit statuses"):

* 0: success;
* 1: ``scan`` finished with failed cells (rerun to retry them);
* 2 (:data:`EXIT_USAGE`): usage error -- a bad value, file, config or store, named in one line;
* 3 (:data:`EXIT_UNCONVERGED`): the results are complete but some did not reach the requested
  precision within their evaluation budget (``xsec``, ``scan``; stored with ``converged`` false);
* 74 (:data:`EXIT_IO`, BSD ``EX_IOERR``): an I/O or environment failure -- disk full, read-only
  or unwritable path, out of memory -- named in one line; nothing half-written is left that a
  rerun does not repair;
* 75 (``lfvscan.scan.engine.EXIT_RANK_LOST``): ``scan`` ended because a rank fell silent (a hung
  node or process); rerun to resume;
* 128 + signal: interrupted (130 SIGINT, 143 SIGTERM); rerun to resume.
"""

EXIT_USAGE = 2
EXIT_UNCONVERGED = 3
EXIT_IO = 74


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
