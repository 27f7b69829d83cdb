"""Parallel scan engine: MPI master/worker over the cells of a scan store.

``mpiexec -n N lfvscan scan CONFIG`` -> :func:`main_scan` (MPI detection, launch sanity check,
signal handlers) -> :func:`run_scan` on every rank.  One job per module:

* :mod:`lfvscan.scan.plan`: the tasks of a run (retry rule, largest expected cost first, per-cell
  seed from (global seed, flat cell index), so results do not depend on N, order, interruptions);
* :mod:`lfvscan.scan.cells`: which function computes a cell; an exception in a cell marks it
  FAILED with its message and the scan goes on;
* :mod:`lfvscan.scan.attribution`: which cell a dead process is charged with, and the suspects
  to compute in isolation, settled from the store's attempt records before every run;
* :mod:`lfvscan.scan.coordinator`: rank 0's bookkeeping (queue, buffer, store writes, progress,
  run info); rank 0 owns the store and is its only writer;
* :mod:`lfvscan.scan.mpi`: the MPI transport (rank 0's service and writer threads, workers with
  prefetch, polling instead of busy-waiting);
* :mod:`lfvscan.scan.signals`: SIGTERM/SIGINT drain (no new cells, cells in flight finish and
  are written, exit status 128+signal); a second signal aborts.

The store is reached only through the :class:`~lfvscan.store.backend.ScanBackend` protocol:
``run_scan(config, store)`` takes a path (rank 0 opens or creates the zarr store with
:func:`lfvscan.store.open_for_scan`, imported only then, and closes it at the end) or a backend
object the caller owns (e.g. :class:`lfvscan.store.memory.MemoryStore`).  ``-n 1`` or no MPI
launcher: the same coordinator runs serially here (:func:`_serial_loop`), no thread, no MPI
import, its cells computed in one child process (:mod:`lfvscan.scan.cell_process`).  ``kill -9`` loses at most the cells in flight (see :mod:`lfvscan.store` for the write
protocol); rerunning the same command resumes.

Faults and exit statuses: 0 complete; 1 cells failed (retried by the next run while attempts <
max_attempts) or left pending; 2 usage error; 128+signal after a SIGTERM/SIGINT drain;
75 (:data:`EXIT_RANK_LOST`) when a rank fell silent (:mod:`lfvscan.scan.mpi`).  Every attempt is
recorded before it starts, so an attempt that kills its process (segfault, ``SystemExit``,
out-of-memory kill) counts against max_attempts ("process died (attempt k/n)"); a cell over its
wall limit ``cell_timeout_s`` is failed (:mod:`lfvscan.scan.cells`), and where cells run in a
child process (serially, and rank 0's) so is a cell stuck in C code, its process killed.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field

from lfvscan.errors import (
    EXIT_FAILED_CELLS,
    EXIT_IO,
    EXIT_OK,
    EXIT_RANK_LOST,
    EXIT_SIGNAL_BASE,
    EXIT_UNCONVERGED,
    EXIT_USAGE,
    UsageError,
    describe_environment_error,
)
from lfvscan.scan.attribution import retire_suspects, settle
from lfvscan.scan.cell_process import CellProcess, queue_depth
from lfvscan.scan.cells import CellFn, cell_engine, resolve_cell_fn
from lfvscan.spec.config import ScanConfig, check_same_physics
from lfvscan.scan.coordinator import Coordinator, max_rss_MB
from lfvscan.scan.mpi import RankLost, get_world, launch_problem, run_rank0, run_worker
from lfvscan.scan.plan import Isolation, cell_seed, plan_tasks
from lfvscan.scan.progress import Progress
from lfvscan.scan.signals import StopFlag, install_signal_handlers
from lfvscan.store.backend import ScanBackend
from lfvscan.store.records import RecordBatch
from lfvscan.schema import DONE, FAILED, PENDING

__all__ = ["ScanOutcome", "main_scan", "run_scan"]


@dataclass
class ScanOutcome:
    """What one ``run_scan`` call did: the whole scan on rank 0, its own cells on other ranks."""

    exit_code: int
    total: int = 0  #: requested cells
    done: int = 0
    failed: int = 0
    computed_this_run: int = 0
    interrupted_by: int | None = None
    message: str = ""
    rss_MB: dict = field(default_factory=dict)
    #: DONE cells stored with ``converged`` False (counted on rank 0 when the scan is complete)
    unconverged: int = 0


def run_scan(
    config: ScanConfig,
    store: str | os.PathLike | ScanBackend | None,
    *,
    config_text: str = "",
    cell_fn: CellFn | None = None,
    comm=None,
    stop: StopFlag | None = None,
    progress_stream=None,
    progress_interval_s: float = 10.0,
    quiet: bool = False,
    max_attempts: int | None = None,
    rank0_computes: bool | None = None,
) -> ScanOutcome:
    """Run (or resume) the scan of ``config`` into ``store``.  Call on every rank.

    ``store``: a store path, or a :class:`ScanBackend` (used as is, not closed); only rank 0 uses
    it.  ``comm``: an mpi4py communicator (None: serial).  ``cell_fn``: None -> resolved from
    ``config.cell_function`` (default :func:`lfvscan.xsec.compute_cell`).  ``rank0_computes``: whether
    rank 0 computes cells besides coordinating (None: in jobs of at most
    ``config.rank0_computes_up_to`` ranks).  Raises
    :class:`UsageError` on rank 0 for a bad store; other ranks then return exit code 2.
    """
    stop = stop or StopFlag()
    rank = 0 if comm is None else comm.Get_rank()
    max_attempts = config.max_attempts if max_attempts is None else max_attempts
    if cell_fn is None:
        cell_fn = resolve_cell_fn(config.cell_function)

    size = 1 if comm is None else comm.Get_size()
    if rank0_computes is None:
        rank0_computes = size <= config.rank0_computes_up_to
    # rank 0's cell process is forked first, so that it loads the cells' code while this process
    # opens the store and plans (lfvscan.scan.cell_process)
    cells = _cell_process(cell_fn, config, stop, max_attempts, rank == 0 and (size == 1 or rank0_computes))
    try:
        opened, error = _open_on_rank0(store, config, config_text, comm)
    except BaseException:
        if cells is not None:
            cells.close()
        raise
    if error is not None:
        if cells is not None:
            cells.close()
        if rank == 0:
            raise UsageError(error)
        return ScanOutcome(exit_code=EXIT_USAGE, message=error)
    if rank != 0:
        try:
            n = run_worker(comm, config, cell_fn, stop)
        except RankLost as exc:  # rank 0 fell silent: the caller (main_scan) aborts the job
            return ScanOutcome(exit_code=EXIT_RANK_LOST, message=f"rank {rank}: {exc}; resume with: lfvscan scan "
                               f"{config.source or 'CONFIG'} --store {_store_name(store)}")
        code = EXIT_SIGNAL_BASE + stop.signum if stop.is_set() else EXIT_OK
        return ScanOutcome(exit_code=code, computed_this_run=n, interrupted_by=stop.signum)

    backend, verb, owned = opened
    cells = cells or CellProcess(cell_fn, config, 0, max_attempts, stop, warm_up=False)  # started if needed
    try:
        progress_opts = dict(stream=progress_stream, interval_s=progress_interval_s, enabled=not quiet)
        out = _scan_on_rank0(backend, _store_name(store), verb, config, cells, comm, stop, progress_opts,
                             max_attempts, rank0_computes)
        if out.exit_code == EXIT_OK:
            out.unconverged = _count_unconverged(backend)
        return out
    finally:
        cells.close()
        try:
            retire_suspects(backend)
        except Exception as exc:  # noqa: BLE001 - the next run's settling filters them again
            warnings.warn(f"could not update the suspects of {_store_name(store)} ({exc}); the next scan will")
        if owned:
            backend.close()


def _count_unconverged(backend: ScanBackend) -> int:
    """DONE cells of ``backend`` stored with ``converged`` False, as ``lfvscan status`` counts them
    (journaled cells included; damaged rows read as not computed), reading only those two arrays."""
    cells = backend.read_cells(("status", "converged"))
    return int(((cells["status"] == DONE) & ~cells["converged"].astype(bool)).sum())


def _cell_process(cell_fn: CellFn, config: ScanConfig, stop: StopFlag, max_attempts: int,
                  computes: bool) -> CellProcess | None:
    """Rank 0's cell process, started now if rank 0 ``computes`` cells (else None): with a warm-up
    cell when its cells are the physics on the compiled engine (:mod:`lfvscan.scan.cell_process`)."""
    if not computes:
        return None
    warm = not config.cell_function and cell_engine(config) == "compiled"
    cells = CellProcess(cell_fn, config, 0, max_attempts, stop, warm_up=warm)
    cells.start()
    return cells


def _scan_on_rank0(backend: ScanBackend, name: str, verb: str, config: ScanConfig, cells: CellProcess, comm,
                   stop: StopFlag, progress_opts: dict, max_attempts: int, rank0_computes: bool) -> ScanOutcome:
    """Rank 0: plan the run from the store's state, compute (serially or with the workers) with its
    cell process ``cells`` (started when first needed), finish."""
    size = 1 if comm is None else comm.Get_size()
    config = config.with_target_order(backend.config.target_names)  # cells by the store's axes
    cells.config = config  # the same cells (the child finds a task's target by name), indexed like the store
    settlement = settle(backend)
    status, attempts = backend.cell_state()
    tasks = plan_tasks(config, status, attempts, max_attempts, stop, settlement.suspects)
    total = int(config.requested().sum()) * len(config.masses_GeV)
    done_before = int((status == DONE).sum())
    progress = Progress(total, done_before, **progress_opts)
    coord = Coordinator(backend, config, tasks, stop, progress, status, size, max_attempts)
    progress.message(
        f"lfvscan scan: {verb} store {name}: {total} cells requested, {done_before} done, "
        f"{len(tasks)} to compute on {size} rank{'s' if size > 1 else ''}"
    )
    for rec in settlement.died:
        coord.report_failure(rec)
    if (n_isolated := sum(t.isolation != Isolation.SHARED for t in tasks)):
        n_exclusive = sum(t.isolation == Isolation.EXCLUSIVE for t in tasks)
        progress.message(f"lfvscan scan: {n_isolated} cell(s) were running when a previous run died and which one ended "
                         f"it is not certain; each is computed alone ({n_exclusive} of them at the end, "
                         "with nothing else running)")
    coord.heartbeat("running")
    lost = None
    try:
        if size == 1:
            _serial_loop(coord, cells)
        else:
            run_rank0(comm, coord, cells, rank0_computes)
    except RankLost as exc:  # the caller (main_scan) must abort the job: that rank never ends
        lost = str(exc)
    except (OSError, MemoryError) as exc:  # say so in the run information if it can still be written
        try:
            coord.heartbeat(f"ended: I/O or environment error ({describe_environment_error(exc)})")
        except Exception:  # noqa: BLE001 - the disk is full: `lfvscan status` then says the run is gone
            pass
        raise
    coord.rss_MB[0] = max_rss_MB()
    return _finish(coord, name, lost)


def _is_path(store) -> bool:
    return isinstance(store, (str, os.PathLike))


def _store_name(store) -> str:
    """How messages name the store: its path."""
    return str(store) if _is_path(store) else str(getattr(store, "path", store))


def _open_on_rank0(store, config: ScanConfig, config_text: str, comm) -> tuple[tuple | None, str | None]:
    """Rank 0 opens the store and broadcasts its verdict: ((backend, verb, opened here?) on rank 0
    else None, None or the UsageError message that every rank gets)."""
    opened, error = None, None
    if comm is None or comm.Get_rank() == 0:
        try:
            opened = _open_store(store, config, config_text)
        except UsageError as exc:
            error = str(exc)
    if comm is not None and comm.Get_size() > 1:
        error = comm.bcast(error, root=0)
    return opened, error


def _open_store(store, config: ScanConfig, config_text: str) -> tuple[ScanBackend, str, bool]:
    """(backend, verb for the start message, opened here?) of rank 0; UsageError if unusable."""
    if _is_path(store):
        from lfvscan.store import open_for_scan  # zarr only when a path is given

        backend, created = open_for_scan(store, config, config_text)
        return backend, "created" if created else "resuming", True
    if not isinstance(store, ScanBackend):
        raise UsageError(f"store must be a path or a ScanBackend, got {type(store).__name__}")
    check_same_physics(store.config, config, _store_name(store))
    return store, "using", False


def _serial_loop(coord: Coordinator, cells: CellProcess) -> None:
    """``-n 1``: compute the cells, each result written as it arrives, then the exclusive suspects
    (cells that were running when an earlier job died or fell silent), each written before the next
    starts.  Every cell runs in one persistent child process (:mod:`lfvscan.scan.cell_process`): a
    cell stuck in C code (where SIGALRM cannot act) is killed past the hard wall limit and FAILED, a
    cell that kills its process is FAILED "process died", and the scan goes on with a new child.
    On a stop the cell computing finishes and is written; those queued behind it are given back."""
    try:
        while True:
            if (free := queue_depth(coord.mean_cell_s) - cells.queued) > 0:
                for task in coord.next_tasks(free, 0)[0]:  # one attempt line for them
                    cells.send(task)
            if not cells.queued:
                break
            for task, rec in cells.receive_ready():
                _submit(coord, task, rec)
        while (task := coord.next_exclusive()) is not None:
            cells.send(task)
            _submit(coord, *cells.receive())
    finally:
        cells.close()
        coord.flush()


def _submit(coord: Coordinator, task, rec: RecordBatch | None) -> None:
    """Write the record of ``task`` (a one-row batch), or give the task back if it was not started
    (stopping)."""
    if rec is None:
        coord.give_back([task])
    else:
        coord.submit_batch(rec)
        coord.flush()


def _finish(coord: Coordinator, store_name: str, lost: str | None = None) -> ScanOutcome:
    """Final state, exit code and message (how to resume or retry) of rank 0; ``lost``: why a
    rank was given up (then EXIT_RANK_LOST)."""
    status, stop, config = coord.status, coord.stop, coord.config
    total = coord.progress.total
    done = int((status == DONE).sum())
    failed = int((status == FAILED).sum())
    pending = int((status == PENDING).sum())
    coord.progress.finish()
    resume = f"lfvscan scan {config.source or 'CONFIG'} --store {store_name}"
    if lost:
        state = "ended: a rank was lost"
        code = EXIT_RANK_LOST
        msg = f"{lost}; {done}/{total} cells done, kept in {store_name}; resume with: {resume}"
    elif stop.is_set():
        state = "interrupted"
        code = EXIT_SIGNAL_BASE + (stop.signum or signal.SIGTERM)
        msg = (
            f"scan interrupted by signal {stop.signum}: {done}/{total} cells done, kept in {store_name}; "
            f"resume with: {resume}"
        )
    elif failed:
        state = "finished with failures"
        code = EXIT_FAILED_CELLS
        msg = (
            f"scan finished: {done}/{total} cells done, {failed} failed (see `lfvscan status {store_name}`); "
            f"failed cells are retried by running the same command again while attempts < max_attempts "
            f"({coord.max_attempts}; raise it with --max-attempts)"
        )
    else:
        state = "finished" if pending == 0 else "incomplete"
        code = EXIT_OK if pending == 0 else EXIT_FAILED_CELLS
        msg = f"scan complete: {done}/{total} cells done in {store_name}"
    coord.heartbeat(state)
    coord.progress.message(msg)
    return ScanOutcome(code, total, done, failed, coord.computed, stop.signum, msg, dict(coord.rss_MB))


def main_scan(config: ScanConfig, store_path: str, config_text: str, *, quiet: bool = False,
              progress_interval_s: float = 10.0, max_attempts: int | None = None) -> int:
    """CLI driver: MPI detection, launch sanity check, signal handlers; returns the exit code."""
    comm = get_world()
    size = 1 if comm is None else comm.Get_size()
    problem = launch_problem(size)
    if problem:
        raise UsageError(problem)
    stop = StopFlag()
    restore = install_signal_handlers(stop)
    try:
        out = run_scan(
            config, store_path, config_text=config_text, comm=comm, stop=stop, quiet=quiet,
            progress_interval_s=progress_interval_s, max_attempts=max_attempts,
        )
        if out.exit_code == EXIT_RANK_LOST and comm is not None and size > 1:
            if quiet or comm.Get_rank() != 0:
                sys.stderr.write(f"lfvscan scan: {out.message}\n")  # one write: the abort may cut a second
            abort_job(comm, EXIT_RANK_LOST)  # the lost rank would never reach MPI_Finalize
    except KeyboardInterrupt:
        print(f"lfvscan scan: aborted (second signal); cells in flight lost; resume with: "
              f"lfvscan scan {config.source or 'CONFIG'} --store {store_path}", file=sys.stderr)
        if comm is not None and size > 1:
            abort_job(comm, 130)
        return 130
    except UsageError:
        raise
    except BaseException as exc:
        # an engine bug or an I/O error: never leave the other ranks hanging in MPI
        if comm is not None and size > 1:
            if isinstance(exc, (OSError, MemoryError)):  # I/O or environment: one line, exit 74
                sys.stderr.write(f"lfvscan scan: I/O or environment error: {describe_environment_error(exc)}\n")
                abort_job(comm, EXIT_IO)
            traceback.print_exc()
            abort_job(comm, 1)
        raise
    finally:
        restore()
    if out.exit_code == EXIT_OK and (comm is None or comm.Get_rank() == 0):
        return _unconverged_exit(out.unconverged, store_path)
    return out.exit_code


def _wait_until_read(fd: int, limit_s: float = 2.0) -> None:
    """Wait (at most ``limit_s``) until what this process wrote to the pipe ``fd`` has been read:
    mpiexec forwards a rank's stderr through a pipe, and MPI_Abort may end the job before the
    last line is forwarded.  Returns at once if ``fd`` is not a pipe."""
    import fcntl
    import stat
    import struct
    import termios

    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            unread = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
            if unread == 0:
                return
            time.sleep(0.01)
    except OSError:
        return


def abort_job(comm, code: int) -> None:
    """End the whole MPI job with exit status ``code`` after this rank has said why (one line):
    MPI_Abort, with the MPI library's own abort notice silenced (stderr is closed first), and
    ``os._exit`` should MPI_Abort return."""
    sys.stdout.flush()
    sys.stderr.flush()
    _wait_until_read(2)
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
    except OSError:
        pass
    try:
        comm.Abort(code)
    finally:
        os._exit(code)


def _unconverged_exit(n: int, store_path: str) -> int:
    """EXIT_UNCONVERGED (with one line on stderr) if ``n`` done cells of the complete store did not
    reach their requested precision (``converged`` false, as ``lfvscan status`` counts them), else EXIT_OK."""
    if not n:
        return EXIT_OK
    print(f"lfvscan scan: {n} done cell(s) did not reach the requested rel_err within their evaluation budget "
          f"(stored with converged = false and their larger error; see `lfvscan status {store_path}`)",
          file=sys.stderr)
    return EXIT_UNCONVERGED
