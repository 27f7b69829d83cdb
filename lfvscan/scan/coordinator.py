"""Rank 0's bookkeeping of a scan run: task queue, result buffer, store writes, progress, run info.

Rank 0 owns the store (it is the only writer, through the :class:`~lfvscan.store.backend.ScanBackend`
protocol) and the task list (:func:`lfvscan.scan.plan.plan_tasks`).  The :class:`Coordinator` is
the same whatever moves the cells: the serial loop of :mod:`lfvscan.scan.engine` calls it
directly; under MPI (:mod:`lfvscan.scan.mpi`) rank 0's compute thread and MPI service thread share
it (thread-safe) and its writer thread flushes it.

* :meth:`Coordinator.next_tasks` hands out the next tasks to a rank, none once the stop flag is
  set (drain) or an error happened, and records their attempts in the store *before* they start
  (``start_cells``: an attempt that kills its process still counts against ``max_attempts``);
  :meth:`~Coordinator.submit` buffers a finished cell; tasks handed out but returned uncomputed
  (a draining worker) are :meth:`~Coordinator.give_back` (recorded as such, not queued again:
  the next run computes them).
* :meth:`~Coordinator.flush` writes buffered records with one ``write_cells`` call, reports failed
  cells, updates the progress display and writes the heartbeat every ``heartbeat_s`` seconds.
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

from lfvscan.scan.config import ScanConfig
from lfvscan.scan.plan import Task
from lfvscan.scan.progress import Progress
from lfvscan.scan.signals import StopFlag
from lfvscan.store.backend import ScanBackend
from lfvscan.store.journal import CellRecord
from lfvscan.store.scandata import DONE, FAILED


#: work per batch handed to a worker [s of cell time] (one message and one journal line per batch)
BATCH_TARGET_S = 0.25
BATCH_MAX = 1000  #: cells per batch at most
EMA_WEIGHT = 0.1  #: weight of the latest cell in the running mean cell time


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
        self.tasks = collections.deque(tasks)  # popped from the left: O(1) per task
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
        #: longest wall time of a finished cell so far [s] (the liveness timeout derives from it)
        self.longest_cell_s = 0.0
        self.cells_seen = 0
        self.mean_cell_s: float | None = None  #: running mean of recent cell times [s] (EMA_WEIGHT)
        self.idle_s: dict[int, float] = {}  #: seconds each worker waited with nothing to compute        #: monotonic start of the cell rank 0 is computing (None: none)
        self.rank0_cell_since: float | None = None
        self._last_beat = 0.0
        self.write_seconds = 0.0

    # -- tasks
    def next_tasks(self, n: int, rank: int) -> list[Task]:
        """Up to ``n`` tasks for ``rank`` (in the order it computes them), their attempts recorded
        in the store first; [] once stopping, after an error, or when none are left."""
        with self.lock:
            if self.stop.is_set() or self.error is not None or not self.tasks:
                return []
            tasks = [self.tasks.popleft() for _ in range(min(n, len(self.tasks)))]
            self.in_flight += len(tasks)
            # under the lock: this rank's attempts are logged in the order the tasks left the queue
            self.store.start_cells([(t.index, t.attempt) for t in tasks], rank, self.max_attempts)
        return tasks

    def batch_size(self) -> int:
        """Cells per batch: BATCH_TARGET_S of work at the running mean cell time (1 before any
        cell is timed), at most BATCH_MAX, and at most 1/(2 x ranks) of what is left (small
        batches on the tail, so no rank idles while another works through a big one)."""
        with self.lock:
            mean, left = self.mean_cell_s, len(self.tasks)
        size = 1 if mean is None else min(BATCH_MAX, max(1, int(BATCH_TARGET_S / max(mean, 1e-6))))
        return max(1, min(size, left // (2 * self.n_ranks)))

    def next_task(self, rank: int = 0) -> Task | None:
        tasks = self.next_tasks(1, rank)
        return tasks[0] if tasks else None

    def give_back(self, tasks: list[Task]) -> None:
        """Tasks handed out but not computed (a draining rank): recorded as given back."""
        if not tasks:
            return
        self.store.return_cells([(t.index, t.attempt) for t in tasks])
        with self.lock:
            self.in_flight -= len(tasks)

    def submit(self, rec: CellRecord) -> None:
        with self.lock:
            self.buffer.append(rec)
            self.in_flight -= 1
            self.cells_seen += 1
            w = float(rec.wall_seconds)
            if w == w:  # not NaN
                self.longest_cell_s = max(self.longest_cell_s, w)
                self.mean_cell_s = w if self.mean_cell_s is None else (1 - EMA_WEIGHT) * self.mean_cell_s + EMA_WEIGHT * w
        self.wake.set()

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
                    self.report_failure(rec)
            self.progress.update(int((self.status == DONE).sum()), self.failed_now)
        if time.time() - self._last_beat >= self.heartbeat_s:
            self.heartbeat("running")
        return len(batch)

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
                "max_rss_MB_per_rank": {str(k): v for k, v in sorted(self.rss_MB.items())},
                "idle_seconds_per_rank": {str(k): round(v, 3) for k, v in sorted(self.idle_s.items())},
                "pids": {str(k): v for k, v in sorted(self.pids.items())},
            }
        )
