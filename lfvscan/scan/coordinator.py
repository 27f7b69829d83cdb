"""Rank 0's bookkeeping of a scan run: task queue, result buffer, store writes, progress, run info.

Rank 0 owns the store (it is the only writer, through the :class:`~lfvscan.store.backend.ScanBackend`
protocol) and the task list (:func:`lfvscan.scan.plan.plan_tasks`).  The :class:`Coordinator` is
the same whatever moves the cells: the serial loop of :mod:`lfvscan.scan.engine` calls it
directly; under MPI (:mod:`lfvscan.scan.mpi`) rank 0's compute thread and MPI service thread share
it (thread-safe) and its writer thread flushes it.

* :meth:`Coordinator.next_tasks` hands out the next batch of tasks to a rank, none once the stop
  flag is set (drain) or an error happened, and records their attempts in the store *before*
  they start (``start_cells``: an attempt that kills its process still counts against
  ``max_attempts``).  It also decides whether the rank reports each result of the batch right
  after its cell (``reports_each``: exact attribution of a crash, :mod:`lfvscan.scan.attribution`)
  or coalesces them: each reported for a suspect (a task computed in isolation, always by a
  worker) and for cells of at least :data:`REPORT_EACH_MIN_S` (then batches are single cells
  anyway), or before any cell is timed; never for rank 0's own cells under MPI (its writer thread
  writes them while it computes the next).
* :meth:`~Coordinator.submit` buffers one finished cell as a record object,
  :meth:`~Coordinator.submit_batch` a :class:`~lfvscan.store.records.RecordBatch` (a worker's
  message, or one record of rank 0's cell process); tasks handed out but returned uncomputed
  (a draining worker) are :meth:`~Coordinator.give_back` (recorded as such, not queued again:
  the next run computes them).
* :meth:`~Coordinator.flush` writes everything buffered as one batch with one ``write_cells``
  call, reports failed cells, updates the progress display and writes the heartbeat every
  ``heartbeat_s`` seconds.  Its cost per cell is a few numpy operations, not Python per field.
* :meth:`~Coordinator.heartbeat` writes the run information ``lfvscan status`` shows (state,
  ranks, pids, max RSS per rank, counts, time spent writing).
"""

from __future__ import annotations

import collections
import os
import resource
import socket
import threading
import time

import numpy as np

from lfvscan.spec.config import ScanConfig
from lfvscan.scan.plan import Isolation, Task
from lfvscan.scan.progress import Progress
from lfvscan.scan.signals import StopFlag
from lfvscan.store.backend import ScanBackend
from lfvscan.store.records import CellRecord, RecordBatch
from lfvscan.schema import DONE, FAILED


#: work per batch handed to a worker [s of cell time] (one message and one journal line per batch)
BATCH_TARGET_S = 0.25
BATCH_MAX = 1000  #: cells per batch at most
EMA_WEIGHT = 0.1  #: weight of the latest cell in the running mean cell time
#: cells expected to take at least this long [s] are reported one by one (reports_each); shorter ones
#: are coalesced by the workers (one message per ~RESULT_WINDOW_S, lfvscan.scan.mpi)
REPORT_EACH_MIN_S = BATCH_TARGET_S


def cpu_seconds() -> float:
    """CPU time of this process so far, all threads, user + system [s]."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def max_rss_MB() -> float:
    """Peak resident memory of this process [MB]."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Coordinator:
    """Rank 0's bookkeeping: task queue, result buffer, store writes, progress, run info.

    Thread-safe: the compute thread and the MPI service thread share it.
    """

    def __init__(self, store: ScanBackend, config: ScanConfig, tasks: list[Task], stop: StopFlag,
                 progress: Progress, status: np.ndarray, n_ranks: int, max_attempts: int,
                 heartbeat_s: float = 5.0):
        self.store = store
        self.config = config
        # popped from the left: O(1) per task
        self.tasks = collections.deque(t for t in tasks if t.isolation != Isolation.EXCLUSIVE)
        #: suspects computed at the end of the run with nothing else running (lfvscan.scan.plan)
        self.exclusive = collections.deque(t for t in tasks if t.isolation == Isolation.EXCLUSIVE)
        #: suspects rank 0 met in the queue under MPI, for the next worker that asks
        self.deferred: collections.deque[Task] = collections.deque()
        self.n_xbins = config.n_xbins
        self.stop = stop
        self.progress = progress
        self.n_ranks = n_ranks
        self.max_attempts = max_attempts
        self.heartbeat_s = heartbeat_s
        self.lock = threading.Lock()
        self.wake = threading.Event()  #: set when results wait to be written
        self.status = status.copy()
        self.n_done = int((self.status == DONE).sum())
        self.buffer: list[RecordBatch] = []  #: workers' batches waiting to be written
        self.own: list[CellRecord] = []  #: rank 0's own finished cells waiting to be written
        self.in_flight = 0
        self.computed = 0
        self.failed_now = 0
        self.error: BaseException | None = None
        self.rss_MB: dict[int, float] = {}
        self.pids: dict[int, int] = {0: os.getpid()}
        self.started = time.time()
        self.cpu_started = cpu_seconds()
        #: longest wall time of a finished cell so far [s] (the liveness timeout derives from it)
        self.longest_cell_s = 0.0
        self.cells_seen = 0
        self.mean_cell_s: float | None = None  #: running mean of recent cell times [s] (EMA_WEIGHT)
        self.idle_s: dict[int, float] = {}  #: seconds each worker waited with nothing to compute
        #: monotonic start of the cell rank 0 is computing (None: none)
        self.rank0_cell_since: float | None = None
        self._last_beat = 0.0
        self.write_seconds = 0.0

    # -- tasks
    def next_tasks(self, n: int, rank: int, coalesces: bool = False) -> tuple[list[Task], bool]:
        """(up to ``n`` tasks for ``rank`` in the order it computes them, reports_each), their
        attempts recorded in the store first; ([], True) once stopping, after an error, or when
        none are left.

        ``coalesces``: the rank may coalesce its results (a worker); the batch then reports each
        result right after its cell only if it is a suspect, if no cell has been timed yet, or if
        cells take at least REPORT_EACH_MIN_S.  A suspect (``Task.isolation`` ALONE) always leaves in
        a batch of its own, to a worker: under MPI rank 0's own results are written by its writer
        thread while it computes the next cell, so its batches count as coalesced and the suspects
        it meets are deferred to the workers.  A serial run reports every cell at once."""
        with self.lock:
            if self.stop.is_set() or self.error is not None or not (self.tasks or self.deferred):
                return [], True
            rank0_of_mpi = rank == 0 and self.n_ranks > 1
            if rank0_of_mpi:
                while self.tasks and self.tasks[0].isolation != Isolation.SHARED:
                    self.deferred.append(self.tasks.popleft())
                if not self.tasks:
                    return [], True
            if self.deferred and not rank0_of_mpi:
                tasks = [self.deferred.popleft()]
            else:
                tasks = [self.tasks.popleft()]
                if tasks[0].isolation == Isolation.SHARED:
                    while len(tasks) < n and self.tasks and self.tasks[0].isolation == Isolation.SHARED:
                        tasks.append(self.tasks.popleft())
            reports_each = not rank0_of_mpi and (not coalesces or tasks[0].isolation != Isolation.SHARED
                                                 or self.mean_cell_s is None or self.mean_cell_s >= REPORT_EACH_MIN_S)
            self.in_flight += len(tasks)
            # under the lock: this rank's attempts are logged in the order the tasks left the queue;
            # never exclusive: a serial run queues the next cell in its cell process before the
            # result of the one computing is written (only next_exclusive's cells are)
            self.store.start_cells([(t.index, t.attempt) for t in tasks], rank, self.max_attempts, reports_each,
                                   exclusive=False)
        return tasks, reports_each

    def batch_size(self) -> int:
        """Cells per batch: BATCH_TARGET_S of work at the running mean cell time (1 before any
        cell is timed), at most BATCH_MAX, and at most 1/(2 x ranks) of what is left (small
        batches on the tail, so no rank idles while another works through a big one)."""
        with self.lock:
            mean, left = self.mean_cell_s, len(self.tasks)
        size = 1 if mean is None else min(BATCH_MAX, max(1, int(BATCH_TARGET_S / max(mean, 1e-6))))
        return max(1, min(size, left // (2 * self.n_ranks)))

    def next_task(self, rank: int = 0) -> Task | None:
        tasks, _ = self.next_tasks(1, rank)
        return tasks[0] if tasks else None

    def has_exclusive(self) -> bool:
        """Whether exclusive tasks are queued for the end of the run."""
        with self.lock:
            return bool(self.exclusive)

    def next_exclusive(self) -> Task | None:
        """The next exclusive task for rank 0, recorded as such; None once stopping or when none are
        left.  The caller's promise: nothing else is running, and it writes each result
        (:meth:`flush`) before it starts the next cell."""
        with self.lock:
            if self.stop.is_set() or self.error is not None or not self.exclusive:
                return None
            task = self.exclusive.popleft()
            self.in_flight += 1
            self.store.start_cells([(task.index, task.attempt)], 0, self.max_attempts, reports_each=True,
                                   exclusive=True)
        return task

    def give_back(self, tasks: list[Task]) -> None:
        """Tasks handed out but not computed (a draining rank): recorded as given back."""
        if not tasks:
            return
        with self.lock:  # not in flight any more, even if recording it fails (disk full)
            self.in_flight -= len(tasks)
        self.store.return_cells([(t.index, t.attempt) for t in tasks])

    def submit(self, rec: CellRecord) -> None:
        """One finished cell of rank 0 (serial loop or its compute thread)."""
        with self.lock:
            self.own.append(rec)
            self.in_flight -= 1
            self._timed(np.array([rec.wall_seconds], dtype=float))
        self.wake.set()

    def submit_batch(self, batch: RecordBatch) -> None:
        """Finished cells as a batch: a worker's message, or a record of rank 0's cell process."""
        if not len(batch):
            return
        with self.lock:
            self.buffer.append(batch)
            self.in_flight -= len(batch)
            self._timed(batch.wall_seconds)
        self.wake.set()

    def _timed(self, walls: np.ndarray) -> None:
        """Cell times [s] in the order they finished: longest, count and running mean (EMA_WEIGHT
        per cell, the closed form of applying the EMA cell by cell); NaN times are skipped."""
        w = walls[~np.isnan(walls)]
        self.cells_seen += len(walls)
        if not len(w):
            return
        self.longest_cell_s = max(self.longest_cell_s, float(w.max()))
        if self.mean_cell_s is None:
            self.mean_cell_s, w = float(w[0]), w[1:]
        decay = (1 - EMA_WEIGHT) ** np.arange(len(w) - 1, -1, -1)
        self.mean_cell_s = float((1 - EMA_WEIGHT) ** len(w) * self.mean_cell_s + EMA_WEIGHT * (decay * w).sum())

    def cell_seconds_seen(self) -> float | None:
        """Longest cell seen [s]: finished cells and the one rank 0 computes; None before any."""
        with self.lock:
            seen = self.longest_cell_s if self.cells_seen else None
            since = self.rank0_cell_since
        if since is not None:
            seen = max(seen or 0.0, time.monotonic() - since)
        return seen

    # -- writing
    def flush(self) -> int:
        """Write everything buffered as one batch (data first, then statuses); update progress and
        heartbeat.  Returns the number of cells written."""
        with self.lock:
            own, self.own = self.own, []
            batches, self.buffer = self.buffer, []
        if own:
            batches.insert(0, RecordBatch.from_records(own, self.n_xbins))
        n = 0
        if batches:
            batch = RecordBatch.concat(batches)
            n = len(batch)
            t0 = time.perf_counter()
            self.store.write_cells(batch)
            self.write_seconds += time.perf_counter() - t0
            latest = batch.latest()
            cells = tuple(latest.index.T)
            was_done = int((self.status[cells] == DONE).sum())
            self.status[cells] = np.where(latest.done, DONE, FAILED)
            self.n_done += int(latest.done.sum()) - was_done
            self.computed += n
            failed = np.flatnonzero(~batch.done)
            self.failed_now += len(failed)
            for r in failed.tolist():
                self.report_failure(CellRecord(tuple(batch.index[r].tolist()), None, batch.error(r),
                                               float(batch.wall_seconds[r]), int(batch.rank[r]), int(batch.attempts[r])))
            self.progress.update(self.n_done, self.failed_now)
        if time.time() - self._last_beat >= self.heartbeat_s:
            self.heartbeat("running")
        return n

    def report_failure(self, rec: CellRecord) -> None:
        """One line naming a failed cell and the attempt."""
        t = self.config
        i, j, k = rec.index
        self.progress.message(
            f"cell failed (attempt {rec.attempts}/{self.max_attempts}): target={t.target_names[i]} "
            f"E={t.energies_GeV[j]:g} GeV m_a={t.masses_GeV[k]:g} GeV: {rec.error}"
        )

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
                "cpu_seconds": cpu_seconds() - self.cpu_started,
                "max_rss_MB_per_rank": {str(k): v for k, v in sorted(self.rss_MB.items())},
                "idle_seconds_per_rank": {str(k): round(v, 3) for k, v in sorted(self.idle_s.items())},
                "pids": {str(k): v for k, v in sorted(self.pids.items())},
            }
        )
