"""MPI transport of a scan: launch detection and the master/worker protocol (``mpiexec -n N``).

* Launch: :func:`get_world` imports mpi4py only when an MPI launcher started the process
  (:data:`LAUNCH_VARS`); :func:`launch_problem` catches a launcher that started N singletons.
* Rank 0 (:func:`run_rank0`): a *service thread* (:func:`_service`) does all MPI communication
  (MPI_THREAD_SERIALIZED suffices: after start-up only that thread calls MPI), hands out cells on
  request (dynamic scheduling: nobody waits for a slow cell of someone else) and collects
  results, and a *writer thread* (:func:`_writer`) writes them to the store (so slow file
  creation never delays the workers).  In jobs of at most ``rank0_computes_up_to`` ranks its main
  thread also computes cells like a worker; without thread support rank 0 only dispatches.  At
  the end, with every worker finished, rank 0 computes the *exclusive* suspects one by one
  (:mod:`lfvscan.scan.plan`).
* All waiting is done by polling (``Iprobe`` + short sleeps with back-off, :class:`Backoff`)
  instead of MPI's busy-waiting blocking calls, so an idle rank does not steal the CPU of a
  computing one on a full node.
* Batches: rank 0 hands out cells in batches of about :data:`lfvscan.scan.coordinator.BATCH_TARGET_S`
  of work, sized from the measured cell cost and shrinking on the tail
  (:meth:`~lfvscan.scan.coordinator.Coordinator.batch_size`); each batch's attempts are recorded
  with one journal line.
* Workers (:func:`run_worker`): ask for the next batch when half of the last one is left (hides
  rank 0's reply latency), until told to stop.  Results go back as one
  :class:`~lfvscan.store.records.RecordBatch` per message: coalesced over
  :data:`RESULT_WINDOW_S` (and sent with every request and whenever the worker runs dry), or right
  after each cell in a batch that reports each (slow cells, suspects, the first cells of a run),
  whose crash is then charged to it (:func:`lfvscan.scan.attribution.died_attempts`).  Rank 0 thus
  handles ~ranks / RESULT_WINDOW_S messages per second whatever the cell cost.
  A worker's stop signal travels with its messages and drains every rank; a worker hands back
  the cells it holds but will not compute.
* Faults: an exception in rank 0's service or writer thread aborts the job (the workers cannot
  be told otherwise); a resumed run picks up the pieces.  An I/O or environment failure there
  (disk full, read-only store, out of memory) ends the job the same way with one line and exit
  status 74 (:data:`lfvscan.errors.EXIT_IO`, by ``main_scan``).  A dead worker makes mpiexec end the
  job.  A worker that stops answering without dying (a hung node, ``kill -STOP``, a cell stuck
  in C code), whether or not it holds cells, is *lost*: rank 0 counts the time since its last
  message, and past :func:`liveness_timeout_s` it stops handing out cells, writes what it has,
  prints why and ends the job with :data:`lfvscan.errors.EXIT_RANK_LOST` (``main_scan`` aborts the MPI job);
  rerunning resumes.  Rank 0 sends that limit with every batch, and a worker waiting for rank 0
  longer than it (a stopped or hung rank 0) prints why and ends the job the same way (75).  Rank
  0 itself never computes a cell in its own process (:mod:`lfvscan.scan.cell_process`), so a cell
  stuck in C code cannot silence it.
  The same happens when receiving from a worker fails (it died in the middle of a message): the
  job usually ends by mpiexec first, with the dead rank's status; if rank 0 sees it first, 75.

The bookkeeping itself (queue, buffer, writes) is :class:`lfvscan.scan.coordinator.Coordinator`.
"""

from __future__ import annotations

import collections
import os
import signal
import sys
import threading
import time
import traceback

from lfvscan.scan.cell_process import CellProcess, queue_depth
from lfvscan.scan.cells import CellFn, compute_task
from lfvscan.spec.config import ScanConfig
from lfvscan.scan.coordinator import Coordinator, max_rss_MB
from lfvscan.scan.plan import Task
from lfvscan.scan.signals import StopFlag
from lfvscan.store.records import CellRecord, RecordBatch

TAG_REQUEST, TAG_TASK, TAG_STOP = 11, 12, 13
#: environment variables that reveal the launcher's idea of the number of tasks
LAUNCH_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS", "SLURM_STEP_NUM_TASKS")
#: variables whose presence means "started by an MPI launcher" (then mpi4py is imported)
LAUNCH_VARS = LAUNCH_SIZE_VARS + ("PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK", "PMI_FD", "HYDRA_CONTROL_FD")
POLL_MIN_S, POLL_MAX_S = 0.001, 0.01  #: polling interval range of waiting ranks [s]
PREFETCH = 2  #: cells a worker holds in reserve beyond the one it computes
#: a worker coalesces the results of cells not reported one by one over this window [s]
RESULT_WINDOW_S = 0.25
SWITCH_INTERVAL_S = 0.0005  #: GIL switch interval on rank 0 while its service thread runs
#: automatic liveness timeout: LIVENESS_FACTOR x the longest cell seen, at least LIVENESS_MIN_S [s],
#: at most cell_timeout_s + LIVENESS_MIN_S (no legitimate cell is longer), or LIVENESS_MAX_S [s]
#: without a cell wall limit; before any cell has finished, that upper bound
LIVENESS_FACTOR, LIVENESS_MIN_S, LIVENESS_MAX_S = 10.0, 60.0, 3600.0
LIVENESS_CHECK_S = 0.5  #: how often rank 0 checks its workers' silence [s]


class RankLost(RuntimeError):
    """A rank stayed silent longer than the liveness timeout (a worker for rank 0, or rank 0 for a
    worker), or a worker died in the middle of a message."""


def liveness_timeout_s(config: ScanConfig, cell_seconds_seen: float | None) -> float:
    """Seconds a worker holding cells may stay silent before it counts as lost.

    ``rank_timeout_s`` > 0 in the config: that.  Otherwise derived from the longest cell seen
    (a worker reports at least once per cell or per RESULT_WINDOW_S): clamp(LIVENESS_FACTOR x seen, LIVENESS_MIN_S, upper),
    upper = cell_timeout_s + LIVENESS_MIN_S (LIVENESS_MAX_S without a wall limit); the upper
    bound itself before any cell has been seen.
    """
    if config.rank_timeout_s > 0:
        return float(config.rank_timeout_s)
    upper = config.cell_timeout_s + LIVENESS_MIN_S if config.cell_timeout_s > 0 else LIVENESS_MAX_S
    if cell_seconds_seen is None:
        return upper
    return min(upper, max(LIVENESS_MIN_S, LIVENESS_FACTOR * cell_seconds_seen))


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
def run_rank0(comm, coord: Coordinator, cells: CellProcess, rank0_computes: bool) -> None:
    """Rank 0 of an MPI run: service and writer threads; the calling (main) thread computes, in
    the cell process ``cells`` (started here if the caller has not)."""
    from mpi4py import MPI

    if MPI.Query_thread() < MPI.THREAD_SERIALIZED:
        rank0_computes = False
        coord.progress.message("lfvscan scan: MPI without thread support: rank 0 only dispatches")
    main_done = threading.Event()
    # the service thread must get the GIL quickly when a worker asks for work, even while the
    # compute thread runs Python code: shorten the interpreter's thread switch interval
    old_switch = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    # rank 0's cells run in a child process, forked before any thread starts (lfvscan.scan.cell_process)
    if rank0_computes or coord.has_exclusive():
        cells.start()
    service = threading.Thread(target=_service, args=(comm, coord, main_done), name="lfvscan-mpi-service", daemon=True)
    served_all = threading.Event()
    writer = threading.Thread(target=_writer, args=(coord, served_all), name="lfvscan-writer", daemon=True)
    service.start()
    writer.start()
    try:
        if rank0_computes:  # in batches like a worker (one attempt line per batch), each result at once
            while tasks := coord.next_tasks(coord.batch_size(), 0)[0]:
                _compute_batch(coord, cells, tasks)
    finally:
        main_done.set()
        while service.is_alive():  # join in slices so signals reach the main thread
            service.join(0.2)
        served_all.set()
        coord.wake.set()
        while writer.is_alive():
            writer.join(0.2)
        sys.setswitchinterval(old_switch)
    # every worker has finished and the writer has written everything: the exclusive suspects, one
    # by one, each written before the next starts (so a death here is certainly that cell's)
    try:
        while coord.error is None and (task := coord.next_exclusive()) is not None:
            cells.send(task)
            if (rec := cells.receive()[1]) is None:  # not started: stopping
                coord.give_back([task])
            else:
                coord.submit_batch(rec)
                coord.flush()
    finally:
        cells.close()
        coord.flush()
    if coord.error is not None:
        raise coord.error


def _compute_batch(coord: Coordinator, cells: CellProcess, tasks: list) -> None:
    """Rank 0's own batch ``tasks``: :func:`~lfvscan.scan.cell_process.queue_depth` of them queued in its cell process (so
    the child does not wait for this thread, which shares the GIL with the service and writer
    threads, between two cells), each record handed to the writer as it arrives.  Once stopping
    (or after an error) the tasks not sent are given back, like those the child did not start."""
    todo = collections.deque(tasks)
    while todo or cells.queued:
        if coord.stop.is_set() or coord.error is not None:
            coord.give_back(list(todo))
            todo.clear()
        depth = queue_depth(coord.mean_cell_s)
        while todo and cells.queued < depth:
            cells.send(todo.popleft())
        if not cells.queued:
            break
        coord.rank0_cell_since = cells.head_since
        for task, rec in cells.receive_ready():
            if rec is None:  # not started: its cell process was stopped by a signal
                coord.give_back([task])
            else:
                coord.submit_batch(rec)
        coord.rank0_cell_since = None


def _service(comm, coord: Coordinator, main_done: threading.Event) -> None:
    """Rank 0's MPI thread: serve workers until everybody has finished and nothing is in flight.

    Every MPI call here returns at once (matched probes, non-blocking receives and sends tested in
    the loop): on MPI libraries whose large-message protocol needs the sender inside an MPI call, a
    blocking receive would wait for a worker busy computing (or stopped), and the liveness check
    would not run meanwhile."""
    from mpi4py import MPI

    active = set(range(1, comm.Get_size()))
    st = MPI.Status()
    backoff = Backoff()
    now = time.monotonic()
    last_heard = {src: now for src in active}  # monotonic time of each worker's last message
    holding = {src: 0 for src in active}  # cells handed to each worker and not reported back
    next_check = now + LIVENESS_CHECK_S
    sending: list = []  # replies handed to MPI and not yet received (non-blocking sends)
    receiving: list = []  # (source, request) of messages matched and being received, in match order
    src = None
    try:
        while True:
            served = False
            while (msg := comm.improbe(source=MPI.ANY_SOURCE, tag=TAG_REQUEST, status=st)) is not None:
                src = st.Get_source()
                last_heard[src] = time.monotonic()
                receiving.append((src, msg.irecv()))  # never a blocking receive (docstring)
            waiting, blocked = [], set()
            for src, req in receiving:  # each source's messages in the order they were sent
                done, payload = (False, None) if src in blocked else req.test()
                if not done:
                    blocked.add(src)
                    waiting.append((src, req))
                    continue
                served = True
                last_heard[src] = time.monotonic()
                more, delta = _serve(comm, coord, src, payload, sending)
                holding[src] += delta
                if not more:
                    active.discard(src)
            receiving = waiting
            src = None
            sending = [req for req in sending if not req.Test()]
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + LIVENESS_CHECK_S
                if (lost := _silent_worker(coord, active, last_heard, holding)) is not None:
                    coord.error = lost
                    coord.progress.message(f"lfvscan scan: {lost}")
                    return  # rank 0 writes what it has; main_scan then aborts the job
            if not active and main_done.is_set():
                with coord.lock:
                    idle = coord.in_flight == 0
                if idle or coord.error is not None:  # after an error nothing more is coming
                    break
            if served:
                backoff.reset()
            else:
                backoff.sleep()
    except MPI.Exception as exc:  # a worker died in the middle of a message (or its node failed)
        who = "a worker" if src is None else f"rank {src} (pid {coord.pids.get(src, '?')})"
        coord.error = RankLost(f"lost contact with {who}: {' '.join(str(exc).split())}; it died or its node failed, "
                               "ending the job")
        coord.progress.message(f"lfvscan scan: {coord.error}")
        return  # as for a silent rank: rank 0 writes what it has; main_scan aborts the job (exit 75)
    except (OSError, MemoryError) as exc:  # disk full, read-only store...: main_scan reports it in one line (74)
        if coord.error is None:
            coord.error = exc
        coord.stop.set(signal.SIGTERM)
        return
    except BaseException as exc:  # noqa: BLE001 - reported by the main thread
        coord.error = exc
        traceback.print_exc()
        sys.stderr.flush()
        comm.Abort(1)  # the workers cannot be told otherwise; resume picks up the pieces


def _silent_worker(coord: Coordinator, active: set, last_heard: dict, holding: dict) -> RankLost | None:
    """The first worker silent beyond the liveness timeout, as an error, whether or not it holds
    cells: a worker always either computes (and reports at least once per cell) or waits for
    rank 0's answer, so a long silence means it is hung or stopped (or never started)."""
    limit = liveness_timeout_s(coord.config, coord.cell_seconds_seen())
    now = time.monotonic()
    for src in sorted(active):
        silent = now - last_heard[src]
        if silent > limit:
            how = ("rank_timeout_s" if coord.config.rank_timeout_s > 0 else
                   f"automatic: {LIVENESS_FACTOR:g} x the longest cell seen, within [{LIVENESS_MIN_S:g} s, "
                   f"cell_timeout_s + {LIVENESS_MIN_S:g} s]; set rank_timeout_s to change it")
            held = (f"while holding {holding[src]} cell(s)" if holding[src] > 0 else
                    "holding no cells" if src in coord.pids else "since the start (it never reported)")
            return RankLost(
                f"rank {src} (pid {coord.pids.get(src, '?')}) has not answered for {silent:.0f} s {held} "
                f"(limit {limit:.0f} s, {how}): it is hung or stopped; ending the job"
            )
    return None


def _serve(comm, coord: Coordinator, src: int, msg: tuple, sending: list) -> tuple[bool, int]:
    """Handle one message of worker ``src``: (False if it was the worker's last, change in the
    number of cells the worker holds).

    Replies are non-blocking sends (their requests are appended to ``sending``): a batch of tasks
    is too big for MPI's eager protocol, and a blocking send would wait for the worker to post
    its receive while the worker waits in its own send of results for rank 0 (a deadlock), or
    for ever on a hung worker (then the liveness check could not run).

    Message (tag TAG_REQUEST): (a RecordBatch of results or None, returned tasks, its stop signal
    or None, max RSS MB, pid, want, seconds it waited idle so far).  ``want`` > 0: send a batch of
    at least ``want`` tasks, sized by :meth:`Coordinator.batch_size`, as (tasks, reports_each)
    with rank 0's current liveness limit [s] (TAG_TASK), or TAG_STOP (payload: drain?) when none are left; ``want`` == 0: results only, no
    reply; ``want`` < 0: its last message.
    """
    results, returned, stopping, rss, pid, want, idle_s = msg
    coord.rss_MB[src] = rss
    coord.idle_s[src] = idle_s
    n_results = 0
    if results is not None:
        coord.submit_batch(results)
        n_results = len(results)
    coord.give_back(returned)
    if stopping:
        coord.stop.set(stopping)
    if src not in coord.pids:
        coord.pids[src] = pid
        coord.heartbeat("running")
    delta = -n_results - len(returned)
    if want < 0:
        return False, delta
    if want == 0:
        return True, delta
    tasks, reports_each = coord.next_tasks(max(want, coord.batch_size()), src, coalesces=True)
    if tasks:  # with the silence rank 0 allows its workers: they allow rank 0 the same (run_worker)
        limit = liveness_timeout_s(coord.config, coord.cell_seconds_seen())
        sending.append(comm.isend((tasks, reports_each, limit), dest=src, tag=TAG_TASK))
    else:
        sending.append(comm.isend(coord.stop.is_set() or coord.error is not None, dest=src, tag=TAG_STOP))
    return True, delta + len(tasks)


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
        if coord.error is None:
            coord.error = exc
        coord.stop.set(signal.SIGTERM)
        if not isinstance(exc, (OSError, MemoryError)):  # those: one line by main_scan (exit 74)
            traceback.print_exc()


# ---------------------------------------------------------------------------- workers
def run_worker(comm, config: ScanConfig, cell_fn: CellFn, stop: StopFlag) -> int:
    """Compute the batches of cells rank 0 hands out until told to stop; returns the cells computed.

    Results go to rank 0 as one RecordBatch per message: right after each cell of a batch that
    reports each (rank 0 has matched everything computed before it before it starts, so a crash in
    it is charged to it, :func:`lfvscan.scan.attribution.died_attempts`; what remains open is rank 0's
    own write latency, milliseconds, if the job dies with it), otherwise coalesced and sent once
    RESULT_WINDOW_S has passed since the last message, with every request, and whenever the queue
    runs dry.  The next batch is asked for when the queue is down to half the last batch (at
    least PREFETCH cells), so rank 0's reply latency is hidden behind the cells still queued.
    Messages are non-blocking synchronous sends (``issend``: a batch of results of several MB
    would otherwise wait for rank 0's service thread to post its receive, up to its polling
    interval, every time; synchronous, so that a completed send means rank 0 has matched it, not
    merely that MPI buffered it); the worker completes them as it goes and waits for all of them
    before a cell whose result is reported at once, and before it returns.
    """
    from mpi4py import MPI

    rank = comm.Get_rank()
    queue: collections.deque[tuple[Task, bool]] = collections.deque()  # (task, reports_each)
    results: list[CellRecord] = []
    returned: list[Task] = []
    n, last_batch, idle, last_sent = 0, 0, [0.0], [time.monotonic()]
    # silence allowed to rank 0 [s]: what rank 0 allows this worker (sent with every batch); before
    # the first batch at least LIVENESS_MIN_S (rank 0 settles and plans the run first)
    limit = [max(liveness_timeout_s(config, None), LIVENESS_MIN_S)]
    sending: list = []  # non-blocking sends not yet received by rank 0 (in order: MPI does not reorder them)

    def send(want: int) -> None:
        batch = RecordBatch.from_records(results, config.n_xbins) if results else None
        msg = (batch, returned[:], stop.signum if stop.is_set() else None, max_rss_MB(), os.getpid(), want, idle[0])
        sending.append(comm.issend(msg, dest=0, tag=TAG_REQUEST))  # completes once rank 0 has matched it
        sending[:] = [req for req in sending if not req.Test()]
        results.clear()
        returned.clear()
        last_sent[0] = time.monotonic()

    st = MPI.Status()
    backoff = Backoff()
    send(PREFETCH + 1)
    outstanding, no_more, reports_each = True, False, True
    while True:
        if outstanding and (reply := _poll_reply(comm, st, backoff, not queue, idle, limit[0])) is not None:
            tag, msg = reply
            outstanding = False
            if tag == TAG_STOP:
                no_more = True
                if msg:  # drain: hand back what is queued
                    returned.extend(t for t, _ in queue)
                    queue.clear()
            else:
                tasks, batch_reports_each, limit[0] = msg
                queue.extend((t, batch_reports_each) for t in tasks)
                last_batch = len(tasks)
        if stop.is_set() and queue:
            returned.extend(t for t, _ in queue)
            queue.clear()
        if sending:  # lets MPI libraries that progress only inside MPI calls move the data on
            sending[:] = [req for req in sending if not req.Test()]
        if queue:
            task, reports_each = queue.popleft()
            if reports_each:  # what came before reaches rank 0 before such a cell starts
                if results:
                    send(0)
                _wait_sent(sending, backoff, idle, limit[0])
            results.append(compute_task(cell_fn, config, task, rank))
            n += 1
        if not outstanding and no_more and not queue:
            send(-1)
            _wait_sent(sending, backoff, idle, limit[0])
            break
        if not outstanding and not no_more and len(queue) <= max(PREFETCH, last_batch // 2):
            send(1)
            outstanding = True
        elif returned or (results and (reports_each or not queue or time.monotonic() - last_sent[0] >= RESULT_WINDOW_S)):
            send(0)
    return n


def _rank0_silent(waited_s: float, limit_s: float) -> RankLost:
    return RankLost(f"rank 0 has not answered for {waited_s:.0f} s (limit {limit_s:.0f} s, the silence rank 0 "
                    "allows its workers): it is hung or stopped; ending the job")


def _wait_sent(sending: list, backoff: Backoff, idle: list, limit_s: float) -> None:
    """Wait, off the CPU, until rank 0 has received every message in ``sending`` (the seconds
    waited are added to ``idle[0]``); :class:`RankLost` after ``limit_s`` seconds."""
    t0 = time.perf_counter()
    while sending:
        sending[:] = [req for req in sending if not req.Test()]
        if sending:
            if time.perf_counter() - t0 > limit_s:
                raise _rank0_silent(time.perf_counter() - t0, limit_s)
            backoff.sleep()
    backoff.reset()
    idle[0] += time.perf_counter() - t0


def _poll_reply(comm, st, backoff: Backoff, wait: bool, idle: list, limit_s: float) -> tuple[int, object] | None:
    """Rank 0's reply (tag, payload) if one has arrived; with ``wait``, wait for it off the CPU
    (the seconds waited are added to ``idle[0]``; :class:`RankLost` after ``limit_s`` seconds)."""
    from mpi4py import MPI

    got = comm.Iprobe(source=0, tag=MPI.ANY_TAG, status=st)
    if not got and wait:  # nothing to do: wait, off the CPU
        t0 = time.perf_counter()
        while not got:
            if time.perf_counter() - t0 > limit_s:
                raise _rank0_silent(time.perf_counter() - t0, limit_s)
            backoff.sleep()
            got = comm.Iprobe(source=0, tag=MPI.ANY_TAG, status=st)
        idle[0] += time.perf_counter() - t0
    backoff.reset()
    if not got:
        return None
    tag = st.Get_tag()
    return tag, comm.recv(source=0, tag=tag)
