"""MPI transport of a scan: launch detection and the master/worker protocol (``mpiexec -n N``).

* Launch: :func:`get_world` imports mpi4py only when an MPI launcher started the process
  (:data:`LAUNCH_VARS`); :func:`launch_problem` catches a launcher that started N singletons.
* Rank 0 also computes (:func:`run_rank0`).  Its main thread runs cells like any worker, while a
  *service thread* (:func:`_service`) does all MPI communication (MPI_THREAD_SERIALIZED suffices:
  after start-up only that thread calls MPI), hands out cells on request (dynamic scheduling:
  nobody waits for a slow cell of someone else) and collects results, and a *writer thread*
  (:func:`_writer`) writes them to the store (so slow file creation never delays the workers).
  Without thread support rank 0 only dispatches.
* All waiting is done by polling (``Iprobe`` + short sleeps with back-off, :class:`Backoff`)
  instead of MPI's busy-waiting blocking calls, so an idle rank does not steal the CPU of a
  computing one on a full node.
* Workers (:func:`run_worker`): keep :data:`PREFETCH` cells in reserve beyond the one they compute
  (hides rank 0's reply latency), send results with each request for more, until told to stop.
  A worker's stop signal travels with its messages and drains every rank; a worker hands back
  the cells it holds but will not compute.
* Faults: an exception in rank 0's service or writer thread aborts the job (the workers cannot
  be told otherwise); a resumed run picks up the pieces.

The bookkeeping itself (queue, buffer, writes) is :class:`lfvscan.scan.coordinator.Coordinator`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback

from lfvscan.scan.cells import CellFn, compute_task
from lfvscan.scan.config import ScanConfig
from lfvscan.scan.coordinator import Coordinator, max_rss_MB
from lfvscan.scan.plan import Task
from lfvscan.scan.signals import StopFlag
from lfvscan.store.journal import CellRecord

TAG_REQUEST, TAG_TASK, TAG_STOP = 11, 12, 13
#: environment variables that reveal the launcher's idea of the number of tasks
LAUNCH_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS", "SLURM_STEP_NUM_TASKS")
#: variables whose presence means "started by an MPI launcher" (then mpi4py is imported)
LAUNCH_VARS = LAUNCH_SIZE_VARS + ("PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK", "PMI_FD", "HYDRA_CONTROL_FD")
POLL_MIN_S, POLL_MAX_S = 0.001, 0.01  #: polling interval range of waiting ranks [s]
PREFETCH = 2  #: cells a worker holds in reserve beyond the one it computes
SWITCH_INTERVAL_S = 0.0005  #: GIL switch interval on rank 0 while its service thread runs


# ---------------------------------------------------------------------------- launch
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
                "mpi4py: for the mpich wheel use `srun --mpi=pmi2` (not pmix) or, inside an allocation, "
                "`mpiexec -launcher fork -n N`; for a site MPI, its own launcher with mpi4py built against "
                "it (see docs/clusters.md)"
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


class Backoff:
    """Sleep between polls: POLL_MIN_S after activity, doubling up to POLL_MAX_S while idle."""

    def __init__(self):
        self.dt = POLL_MIN_S

    def reset(self) -> None:
        self.dt = POLL_MIN_S

    def sleep(self) -> None:
        time.sleep(self.dt)
        self.dt = min(2 * self.dt, POLL_MAX_S)


# ---------------------------------------------------------------------------- rank 0
def run_rank0(comm, coord: Coordinator, cell_fn: CellFn, rank0_computes: bool) -> None:
    """Rank 0 of an MPI run: service and writer threads; the calling (main) thread computes."""
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
                coord.submit(compute_task(cell_fn, coord.config, task, 0))
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


def _service(comm, coord: Coordinator, main_done: threading.Event) -> None:
    """Rank 0's MPI thread: serve workers until everybody has finished and nothing is in flight."""
    from mpi4py import MPI

    active = set(range(1, comm.Get_size()))
    st = MPI.Status()
    backoff = Backoff()
    try:
        while True:
            served = False
            while comm.Iprobe(source=MPI.ANY_SOURCE, tag=TAG_REQUEST, status=st):
                src = st.Get_source()
                served = True
                if not _serve(comm, coord, src, comm.recv(source=src, tag=TAG_REQUEST)):
                    active.discard(src)
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


def _serve(comm, coord: Coordinator, src: int, msg: tuple) -> bool:
    """Handle one message of worker ``src``; False if it was the worker's last.

    Message (tag TAG_REQUEST): (results, returned tasks, its stop signal or None, max RSS MB,
    pid, want).  ``want`` > 0: send up to ``want`` tasks (TAG_TASK), or TAG_STOP (payload:
    drain?) when none are left; ``want`` == 0: the worker's last message.
    """
    results, returned, stopping, rss, pid, want = msg
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
        return False
    tasks = []
    while len(tasks) < want and (task := coord.next_task()) is not None:
        tasks.append(task)
    if tasks:
        comm.send(tasks, dest=src, tag=TAG_TASK)
    else:
        comm.send(coord.stop.is_set() or coord.error is not None, dest=src, tag=TAG_STOP)
    return True


def _writer(coord: Coordinator, served_all: threading.Event) -> None:
    """Rank 0's writer thread: write results as they arrive (kept apart from the MPI service
    thread so that slow file creation never delays handing out cells)."""
    try:
        while True:
            coord.wake.wait(coord.heartbeat_s)
            coord.wake.clear()
            done = served_all.is_set()  # then every result has been submitted: one last flush
            coord.flush()
            if done:
                return
    except BaseException as exc:  # noqa: BLE001 - reported by the main thread
        coord.error = exc
        coord.stop.set(signal.SIGTERM)
        traceback.print_exc()


# ---------------------------------------------------------------------------- workers
def run_worker(comm, config: ScanConfig, cell_fn: CellFn, stop: StopFlag) -> int:
    """Compute cells handed out by rank 0, keeping PREFETCH in reserve (so that rank 0's reply
    latency never leaves this rank idle), until told to stop.  Returns the cells computed."""
    from mpi4py import MPI

    rank = comm.Get_rank()
    queue: list[Task] = []
    results: list[CellRecord] = []
    returned: list[Task] = []
    n = 0

    def send(want: int) -> None:
        msg = (list(results), list(returned), stop.signum if stop.is_set() else None, max_rss_MB(), os.getpid(), want)
        comm.send(msg, dest=0, tag=TAG_REQUEST)
        results.clear()
        returned.clear()

    st = MPI.Status()
    backoff = Backoff()
    send(PREFETCH + 1)
    outstanding, no_more = True, False
    while True:
        if outstanding and (reply := _poll_reply(comm, st, backoff, wait=not queue)) is not None:
            tag, msg = reply
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
    return n


def _poll_reply(comm, st, backoff: Backoff, wait: bool) -> tuple[int, object] | None:
    """Rank 0's reply (tag, payload) if one has arrived; with ``wait``, wait for it off the CPU."""
    from mpi4py import MPI

    got = comm.Iprobe(source=0, tag=MPI.ANY_TAG, status=st)
    while not got and wait:  # nothing to do: wait, off the CPU
        backoff.sleep()
        got = comm.Iprobe(source=0, tag=MPI.ANY_TAG, status=st)
    backoff.reset()
    if not got:
        return None
    tag = st.Get_tag()
    return tag, comm.recv(source=0, tag=tag)
