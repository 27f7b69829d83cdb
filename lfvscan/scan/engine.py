"""Parallel scan engine: MPI master/worker over the cells of a scan store (issue 4).

Design (``mpiexec -n N lfvscan scan CONFIG``):

* Rank 0 owns the store (creates/opens it, is the only writer) and the task list: every cell
  not DONE (FAILED cells only while ``attempts < max_attempts``), sorted by expected cost,
  largest first (:func:`expected_cost`), so a slow cell never ends up last.
* Rank 0 also computes.  Its main thread runs cells like any worker, while a *service thread*
  does all MPI communication (MPI_THREAD_SERIALIZED suffices: after start-up only that thread
  calls MPI), hands out cells on request (dynamic scheduling: nobody waits for a slow cell of
  someone else) and collects results, and a *writer thread* writes them to the store (so slow
  file creation never delays the workers).  All waiting is done by polling (``Iprobe`` + short
  sleeps with back-off) instead of MPI's busy-waiting blocking calls, so an idle rank does not
  steal the CPU of a computing one on a full node.
* Workers: keep PREFETCH cells in reserve beyond the one they compute (hides rank 0's reply
  latency), send results with each request for more, until told to stop.
* ``-n 1`` or no MPI launcher: the same coordinator runs serially, no thread, no MPI import.
* The per-cell seed is :func:`cell_seed` (global seed, flat cell index) via numpy's
  SeedSequence, so results do not depend on N, on the order or on interruptions.
* Faults: an exception in a cell marks it FAILED with its message and the scan goes on.
  SIGTERM/SIGINT (see :func:`install_signal_handlers`) drain: no new cells are handed out,
  cells in flight finish and are written, exit status 128+signal.  ``kill -9`` loses at most
  the cells in flight (see :mod:`lfvscan.store` for the write protocol).
"""

from __future__ import annotations

import functools
import importlib
import math
import os
import resource
import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from lfvscan.physics import reach
from lfvscan.xsec.result import CellResult, x_tau_edges
from lfvscan.scan.config import ScanConfig
from lfvscan.errors import UsageError
from lfvscan.store.journal import CellRecord
from lfvscan.scan.progress import Progress
from lfvscan.store.scandata import DONE, FAILED, PENDING
from lfvscan.store.zarr_store import ScanStore, open_for_scan

CellFn = Callable[..., CellResult]

TAG_REQUEST, TAG_TASK, TAG_STOP = 11, 12, 13
#: environment variables that reveal the launcher's idea of the number of tasks
LAUNCH_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS", "SLURM_STEP_NUM_TASKS")
#: variables whose presence means "started by an MPI launcher" (then mpi4py is imported)
LAUNCH_VARS = LAUNCH_SIZE_VARS + ("PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK", "PMI_FD", "HYDRA_CONTROL_FD")
POLL_MIN_S, POLL_MAX_S = 0.001, 0.01  #: polling interval range of waiting ranks [s]
PREFETCH = 2  #: cells a worker holds in reserve beyond the one it computes
SWITCH_INTERVAL_S = 0.0005  #: GIL switch interval on rank 0 while its service thread runs
EXIT_OK, EXIT_FAILED_CELLS = 0, 1


# ---------------------------------------------------------------------------- cells
def default_cell_fn() -> CellFn:
    """The physics: :func:`lfvscan.xsec.compute_cell`."""
    try:
        from lfvscan.xsec import compute_cell
    except ImportError as exc:
        raise UsageError(f"the cross-section module lfvscan.xsec is not available ({exc})") from None
    return compute_cell


def resolve_cell_fn(spec: str) -> CellFn:
    """``""`` -> the real compute_cell; ``"module:function"`` -> that callable (testing hook)."""
    if not spec:
        return default_cell_fn()
    mod_name, _, fn_name = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(mod_name), fn_name)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"cell_function {spec!r} cannot be imported: {exc}") from None
    if not callable(fn):
        raise UsageError(f"cell_function {spec!r} is not callable")
    return fn


def cell_seed(global_seed: int, flat_index: int) -> int:
    """Seed of one cell: SeedSequence([global seed, flat cell index]) -> uint32 (independent of N, order)."""
    return int(np.random.SeedSequence([int(global_seed), int(flat_index)]).generate_state(1, np.uint32)[0])


def expected_cost(energy_GeV: float, mass_GeV: float) -> float:
    """Relative cost of a cell for scheduling only (never affects results).

    Closed cells (m_a above the §7.1 reach) cost ~0; open cells cost more at higher energy and
    for masses closer to the reach (where the integrand is most peaked).
    """
    m_max = float(reach.max_mass_GeV(energy_GeV))
    if mass_GeV >= m_max:
        return 1e-3
    return (1.0 + math.log(energy_GeV)) * (1.0 + mass_GeV / m_max)


@dataclass(frozen=True)
class Task:
    """One cell to compute."""

    index: tuple[int, int, int]
    target: str
    energy_GeV: float
    mass_GeV: float
    seed: int
    attempt: int  #: 1 for the first attempt
    cost: float = 0.0


def plan_tasks(config: ScanConfig, status: np.ndarray, attempts: np.ndarray, max_attempts: int) -> list[Task]:
    """Cells to (re)compute, largest expected cost first (ties: grid order)."""
    energies, masses, names = config.energies_GeV, config.masses_GeV, config.target_names
    nT, nE, nM = config.shape
    tasks = []
    for i in range(nT):
        for j in range(nE):
            for k in range(nM):
                s, a = int(status[i, j, k]), int(attempts[i, j, k])
                if s == PENDING or (s == FAILED and a < max_attempts):
                    flat = (i * nE + j) * nM + k
                    tasks.append(
                        Task((i, j, k), names[i], energies[j], masses[k], cell_seed(config.seed, flat), a + 1,
                             expected_cost(energies[j], masses[k]))
                    )
    tasks.sort(key=lambda t: -t.cost)  # stable: grid order among equal costs
    return tasks


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ").strip()
    return text[:500]


def compute_task(cell_fn: CellFn, config: ScanConfig, task: Task, rank: int) -> CellRecord:
    """Run one cell; an exception (or a malformed result) becomes a FAILED record."""
    t0 = time.perf_counter()
    try:
        res = cell_fn(
            task.target,
            task.energy_GeV,
            task.mass_GeV,
            rel_err=config.rel_err,
            theta=config.theta,
            convention=config.convention,
            seed=task.seed,
            n_xbins=config.n_xbins,
        )
        _check_result(res, config, task)
        error = ""
    except Exception as exc:  # noqa: BLE001 - any failure of a cell is recorded, the scan goes on
        res, error = None, _one_line(exc)
    return CellRecord(task.index, res, error, time.perf_counter() - t0, rank, task.attempt)


def _check_result(res, config: ScanConfig, task: Task) -> None:
    if not isinstance(res, CellResult):
        raise TypeError(f"cell function returned {type(res).__name__}, expected CellResult")
    nb = config.n_xbins
    for name in ("dsigma_dlnx_tau_pb", "dsigma_dlnx_tau_err_pb"):
        if np.shape(getattr(res, name)) != (nb,):
            raise ValueError(f"{name} has shape {np.shape(getattr(res, name))}, expected ({nb},)")
    if np.shape(res.x_tau_edges) != (nb + 1,) or not _edges_match(res.x_tau_edges, task.energy_GeV, nb):
        raise ValueError("x_tau_edges differ from lfvscan.cell.x_tau_edges(E, n_xbins)")


@functools.lru_cache(maxsize=4096)
def _reference_edges(energy_GeV: float, nb: int) -> np.ndarray:
    return x_tau_edges(energy_GeV, nb)


def _edges_match(edges, energy_GeV: float, nb: int) -> bool:
    """Edges equal to :func:`x_tau_edges` (to 1e-12 relative)."""
    ref = _reference_edges(float(energy_GeV), nb)
    return bool(np.all(np.abs(np.asarray(edges, dtype=float) - ref) <= 1e-12 * np.abs(ref)))


# ---------------------------------------------------------------------------- stop flag / signals
class StopFlag:
    """Set by a signal handler (or a test); tells the engine to drain."""

    def __init__(self):
        self.signum: int | None = None
        self._event = threading.Event()

    def set(self, signum: int = signal.SIGTERM) -> None:
        if self.signum is None:
            self.signum = int(signum)
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


def install_signal_handlers(flag: StopFlag) -> Callable[[], None]:
    """SIGTERM/SIGINT -> drain (first signal); a second signal aborts at once.  Returns a restorer."""
    old = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

    def handler(signum, frame):
        if flag.is_set():  # second signal: give up on the cells in flight
            for s, h in old.items():
                signal.signal(s, h)
            raise KeyboardInterrupt
        flag.set(signum)

    for s in old:
        signal.signal(s, handler)

    def restore():
        for s, h in old.items():
            signal.signal(s, h)

    return restore


# ---------------------------------------------------------------------------- MPI helpers
def launched_by_mpi(environ=os.environ) -> bool:
    return any(v in environ for v in LAUNCH_VARS)


def launch_problem(comm_size: int, environ=os.environ) -> str | None:
    """Message if the launcher started several tasks but MPI sees a world of 1 (N singletons)."""
    if comm_size != 1:
        return None
    for var in LAUNCH_SIZE_VARS:
        try:
            n = int(environ.get(var, "1"))
        except ValueError:
            continue
        if n > 1:
            return (
                f"MPI launched wrongly: {var}={n} but MPI.COMM_WORLD has size 1, so {n} independent "
                "copies would each run the whole scan; the launcher does not match the MPI library of "
                "mpi4py (under SLURM try `srun --mpi=pmi2` or `--mpi=pmix`, or use the mpiexec of the "
                "same MPI as mpi4py)"
            )
    return None


def get_world():
    """MPI.COMM_WORLD if started by an MPI launcher, else None (serial; MPI never initialised)."""
    if not launched_by_mpi():
        return None
    import mpi4py

    mpi4py.rc.thread_level = "multiple"  # honoured only if MPI is not initialised yet
    from mpi4py import MPI

    return MPI.COMM_WORLD


def _max_rss_MB() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---------------------------------------------------------------------------- outcome
@dataclass
class ScanOutcome:
    exit_code: int
    total: int = 0  #: requested cells
    done: int = 0
    failed: int = 0
    computed_this_run: int = 0
    interrupted_by: int | None = None
    message: str = ""
    rss_MB: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------- coordinator (rank 0)
class Coordinator:
    """Rank 0's bookkeeping: task queue, result buffer, store writes, progress, run info.

    Thread-safe: the compute thread and the MPI service thread share it.
    """

    def __init__(self, store: ScanStore, config: ScanConfig, tasks: list[Task], stop: StopFlag,
                 progress: Progress, status: np.ndarray, n_ranks: int, max_attempts: int,
                 heartbeat_s: float = 5.0):
        self.store = store
        self.config = config
        self.tasks = list(tasks)
        self.stop = stop
        self.progress = progress
        self.n_ranks = n_ranks
        self.max_attempts = max_attempts
        self.heartbeat_s = heartbeat_s
        self.lock = threading.Lock()
        self.wake = threading.Event()  #: set when results wait to be written
        self.status = status.copy()
        self.buffer: list[CellRecord] = []
        self.in_flight = 0
        self.computed = 0
        self.failed_now = 0
        self.error: BaseException | None = None
        self.rss_MB: dict[int, float] = {}
        self.pids: dict[int, int] = {0: os.getpid()}
        self.started = time.time()
        self._last_beat = 0.0
        self.write_seconds = 0.0

    # -- tasks
    def next_task(self) -> Task | None:
        with self.lock:
            if self.stop.is_set() or self.error is not None or not self.tasks:
                return None
            self.in_flight += 1
            return self.tasks.pop(0)

    def give_back(self, task: Task) -> None:
        """A task handed out but not computed (rank draining)."""
        with self.lock:
            self.in_flight -= 1

    def submit(self, rec: CellRecord) -> None:
        with self.lock:
            self.buffer.append(rec)
            self.in_flight -= 1
        self.wake.set()

    # -- writing
    def flush(self) -> int:
        """Write buffered records (data first, then statuses); update progress and heartbeat."""
        with self.lock:
            batch, self.buffer = self.buffer, []
        if batch:
            t0 = time.perf_counter()
            self.store.write_cells(batch)
            self.write_seconds += time.perf_counter() - t0
            for rec in batch:
                self.status[rec.index] = DONE if rec.result is not None else FAILED
                self.computed += 1
                self.failed_now += rec.result is None
                if rec.result is None:
                    t = self.config
                    i, j, k = rec.index
                    self.progress.message(
                        f"cell failed (attempt {rec.attempts}/{self.max_attempts}): target={t.target_names[i]} "
                        f"E={t.energies_GeV[j]:g} GeV m_a={t.masses_GeV[k]:g} GeV: {rec.error}"
                    )
            self.progress.update(int((self.status == DONE).sum()), self.failed_now)
        if time.time() - self._last_beat >= self.heartbeat_s:
            self.heartbeat("running")
        return len(batch)

    def heartbeat(self, state: str) -> None:
        self._last_beat = time.time()
        self.store.write_run_info(
            {
                "state": state,
                "started_unix": self.started,
                "updated_unix": self._last_beat,
                "heartbeat_seconds": self.heartbeat_s,
                "n_ranks": self.n_ranks,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "max_attempts": self.max_attempts,
                "computed_this_run": self.computed,
                "failed_this_run": self.failed_now,
                "write_seconds": self.write_seconds,
                "max_rss_MB_per_rank": {str(k): v for k, v in sorted(self.rss_MB.items())},
                "pids": {str(k): v for k, v in sorted(self.pids.items())},
            }
        )


# ---------------------------------------------------------------------------- entry point
def run_scan(
    config: ScanConfig,
    store_path: str,
    *,
    config_text: str = "",
    cell_fn: CellFn | None = None,
    comm=None,
    stop: StopFlag | None = None,
    progress_stream=None,
    progress_interval_s: float = 10.0,
    quiet: bool = False,
    max_attempts: int | None = None,
    rank0_computes: bool = True,
) -> ScanOutcome:
    """Run (or resume) the scan of ``config`` into ``store_path``.  Call on every rank.

    ``comm``: an mpi4py communicator (None: serial).  ``cell_fn``: None -> resolved from
    ``config.cell_function`` (default :func:`lfvscan.xsec.compute_cell`).  Raises
    :class:`UsageError` on rank 0 for a bad store; other ranks then return exit code 2.
    """
    stop = stop or StopFlag()
    size = 1 if comm is None else comm.Get_size()
    rank = 0 if comm is None else comm.Get_rank()
    max_attempts = config.max_attempts if max_attempts is None else max_attempts
    if cell_fn is None:
        cell_fn = resolve_cell_fn(config.cell_function)

    # --- set-up on rank 0; its verdict is broadcast
    setup = None
    if rank == 0:
        try:
            store, created = open_for_scan(store_path, config, config_text)
            status, attempts = store.cell_state()
            tasks = plan_tasks(config, status, attempts, max_attempts)
            setup = ("ok", "")
        except UsageError as exc:
            setup = ("error", str(exc))
    if size > 1:
        setup = comm.bcast(setup, root=0)
    if setup[0] != "ok":
        if rank == 0:
            raise UsageError(setup[1])
        return ScanOutcome(exit_code=2, message=setup[1])
    if rank != 0:
        return _worker(comm, config, cell_fn, stop)

    total = int(config.requested().sum()) * len(config.masses_GeV)
    done_before = int((status == DONE).sum())
    progress = Progress(total, done_before, stream=progress_stream, interval_s=progress_interval_s, enabled=not quiet)
    coord = Coordinator(store, config, tasks, stop, progress, status, size, max_attempts)
    verb = "created" if created else "resuming"
    progress.message(
        f"lfvscan scan: {verb} store {store_path}: {total} cells requested, {done_before} done, "
        f"{len(tasks)} to compute on {size} rank{'s' if size > 1 else ''}"
    )
    try:
        coord.heartbeat("running")
        if size == 1:
            _serial_loop(coord, cell_fn, config)
        else:
            _master(comm, coord, cell_fn, config, rank0_computes)
        coord.rss_MB[0] = _max_rss_MB()
        return _finish(coord, store_path, config, stop)
    finally:
        store.close()


def _serial_loop(coord: Coordinator, cell_fn: CellFn, config: ScanConfig) -> None:
    try:
        while (task := coord.next_task()) is not None:
            coord.submit(compute_task(cell_fn, config, task, 0))
            coord.flush()
    finally:
        coord.flush()


def _master(comm, coord: Coordinator, cell_fn: CellFn, config: ScanConfig, rank0_computes: bool) -> None:
    from mpi4py import MPI

    if MPI.Query_thread() < MPI.THREAD_SERIALIZED:
        rank0_computes = False
        coord.progress.message("lfvscan scan: MPI without thread support: rank 0 only dispatches")
    main_done = threading.Event()
    # the service thread must get the GIL quickly when a worker asks for work, even while the
    # compute thread runs Python code: shorten the interpreter's thread switch interval
    old_switch = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    service = threading.Thread(target=_service, args=(comm, coord, main_done), name="lfvscan-mpi-service", daemon=True)
    served_all = threading.Event()
    writer = threading.Thread(target=_writer, args=(coord, served_all), name="lfvscan-writer", daemon=True)
    service.start()
    writer.start()
    try:
        if rank0_computes:
            while (task := coord.next_task()) is not None:
                coord.submit(compute_task(cell_fn, config, task, 0))
    finally:
        main_done.set()
        while service.is_alive():  # join in slices so signals reach the main thread
            service.join(0.2)
        served_all.set()
        coord.wake.set()
        while writer.is_alive():
            writer.join(0.2)
        sys.setswitchinterval(old_switch)
    if coord.error is not None:
        raise coord.error


class _Backoff:
    """Sleep between polls: POLL_MIN_S after activity, doubling up to POLL_MAX_S while idle."""

    def __init__(self):
        self.dt = POLL_MIN_S

    def reset(self) -> None:
        self.dt = POLL_MIN_S

    def sleep(self) -> None:
        time.sleep(self.dt)
        self.dt = min(2 * self.dt, POLL_MAX_S)


def _service(comm, coord: Coordinator, main_done: threading.Event) -> None:
    """Rank 0's MPI thread: serve workers, write results, until everybody has finished.

    Message from a worker (tag TAG_REQUEST): (results, returned tasks, its stop signal or None,
    max RSS MB, pid, want).  ``want`` > 0: send up to ``want`` tasks (TAG_TASK), or TAG_STOP
    (payload: drain?) when none are left; ``want`` == 0: the worker's last message.
    """
    from mpi4py import MPI

    active = set(range(1, comm.Get_size()))
    st = MPI.Status()
    backoff = _Backoff()
    try:
        while True:
            served = False
            while comm.Iprobe(source=MPI.ANY_SOURCE, tag=TAG_REQUEST, status=st):
                src = st.Get_source()
                results, returned, stopping, rss, pid, want = comm.recv(source=src, tag=TAG_REQUEST)
                served = True
                coord.rss_MB[src] = rss
                for rec in results:
                    coord.submit(rec)
                for task in returned:
                    coord.give_back(task)
                if stopping:
                    coord.stop.set(stopping)
                if src not in coord.pids:
                    coord.pids[src] = pid
                    coord.heartbeat("running")
                if want == 0:
                    active.discard(src)
                    continue
                tasks = []
                while len(tasks) < want and (task := coord.next_task()) is not None:
                    tasks.append(task)
                if tasks:
                    comm.send(tasks, dest=src, tag=TAG_TASK)
                else:
                    comm.send(coord.stop.is_set() or coord.error is not None, dest=src, tag=TAG_STOP)
            if not active and main_done.is_set():
                with coord.lock:
                    idle = coord.in_flight == 0
                if idle:
                    break
            if served:
                backoff.reset()
            else:
                backoff.sleep()
    except BaseException as exc:  # noqa: BLE001 - reported by the main thread
        coord.error = exc
        traceback.print_exc()
        sys.stderr.flush()
        comm.Abort(1)  # the workers cannot be told otherwise; resume picks up the pieces


def _writer(coord: Coordinator, served_all: threading.Event) -> None:
    """Rank 0's writer thread: write results as they arrive (kept apart from the MPI service
    thread so that slow file creation never delays handing out cells)."""
    try:
        while True:
            coord.wake.wait(coord.heartbeat_s)
            coord.wake.clear()
            done = served_all.is_set()
            coord.flush()
            if done:
                coord.flush()
                return
    except BaseException as exc:  # noqa: BLE001 - reported by the main thread
        coord.error = exc
        coord.stop.set(signal.SIGTERM)
        traceback.print_exc()


def _worker(comm, config: ScanConfig, cell_fn: CellFn, stop: StopFlag) -> ScanOutcome:
    """Compute cells handed out by rank 0, keeping one in reserve (prefetch) so that rank 0's
    reply latency never leaves this rank idle."""
    from mpi4py import MPI

    rank = comm.Get_rank()
    queue: list[Task] = []
    results: list[CellRecord] = []
    returned: list[Task] = []
    n = 0

    def send(want: int) -> None:
        msg = (list(results), list(returned), stop.signum if stop.is_set() else None, _max_rss_MB(), os.getpid(), want)
        comm.send(msg, dest=0, tag=TAG_REQUEST)
        results.clear()
        returned.clear()

    st = MPI.Status()
    backoff = _Backoff()
    send(PREFETCH + 1)
    outstanding, no_more = True, False
    while True:
        if outstanding:
            got = comm.Iprobe(source=0, tag=MPI.ANY_TAG, status=st)
            while not got and not queue:  # nothing to do: wait, off the CPU
                backoff.sleep()
                got = comm.Iprobe(source=0, tag=MPI.ANY_TAG, status=st)
            backoff.reset()
            if got:
                tag = st.Get_tag()
                msg = comm.recv(source=0, tag=tag)
                outstanding = False
                if tag == TAG_STOP:
                    no_more = True
                    if msg:  # drain: hand back what is queued
                        returned.extend(queue)
                        queue.clear()
                else:
                    queue.extend(msg)
        if stop.is_set() and queue:
            returned.extend(queue)
            queue.clear()
        if queue:
            results.append(compute_task(cell_fn, config, queue.pop(0), rank))
            n += 1
        if not outstanding:
            if no_more:
                if not queue:
                    send(0)
                    break
            else:
                send(max(1, PREFETCH + 1 - len(queue)))
                outstanding = True
    code = 128 + stop.signum if stop.is_set() else 0
    return ScanOutcome(exit_code=code, computed_this_run=n, interrupted_by=stop.signum)


def _finish(coord: Coordinator, store_path: str, config: ScanConfig, stop: StopFlag) -> ScanOutcome:
    status = coord.status
    total = coord.progress.total
    done = int((status == DONE).sum())
    failed = int((status == FAILED).sum())
    pending = int((status == PENDING).sum())
    coord.progress.finish()
    resume = f"lfvscan scan {config.source or 'CONFIG'} --store {store_path}"
    if stop.is_set():
        state = "interrupted"
        code = 128 + (stop.signum or signal.SIGTERM)
        msg = (
            f"scan interrupted by signal {stop.signum}: {done}/{total} cells done, kept in {store_path}; "
            f"resume with: {resume}"
        )
    elif failed:
        state = "finished with failures"
        code = EXIT_FAILED_CELLS
        msg = (
            f"scan finished: {done}/{total} cells done, {failed} failed (see `lfvscan status {store_path}`); "
            f"failed cells are retried by running the same command again while attempts < max_attempts "
            f"({coord.max_attempts}; raise it with --max-attempts)"
        )
    else:
        state = "finished" if pending == 0 else "incomplete"
        code = EXIT_OK if pending == 0 else EXIT_FAILED_CELLS
        msg = f"scan complete: {done}/{total} cells done in {store_path}"
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
    except KeyboardInterrupt:
        print(f"lfvscan scan: aborted (second signal); cells in flight lost; resume with: "
              f"lfvscan scan {config.source or 'CONFIG'} --store {store_path}", file=sys.stderr)
        if comm is not None and size > 1:
            comm.Abort(130)
        return 130
    except UsageError:
        raise
    except BaseException:
        # an engine bug or an I/O error: never leave the other ranks hanging in MPI
        if comm is not None and size > 1:
            traceback.print_exc()
            sys.stderr.flush()
            comm.Abort(1)
        raise
    finally:
        restore()
    return out.exit_code
