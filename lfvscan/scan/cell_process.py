"""Cells computed in a child process, so that a cell stuck in C code cannot block the coordinator.

A wall limit in the computing process (SIGALRM, :func:`lfvscan.scan.cells.call_with_wall_limit`)
acts between Python bytecodes only: a cell stuck inside one C call that holds the GIL is never
interrupted, and it would also starve every other thread of its process.  Under MPI rank 0's
service thread (:mod:`lfvscan.scan.mpi`) must keep answering the workers and watching their
silence, so rank 0 never computes a cell in its own process: its cells (and the exclusive
suspects at the end of a run) go to a :class:`CellProcess`, a forked child that computes them one
at a time (its caches stay warm across cells).  A serial run computes every cell the same way, so
that no cell can hang it either (~0.3 ms more per closed cell on a loaded 2-core host, nothing
measurable on open cells: ``benchmarks/serial_cells.py``).  Rank 0 waits for each result off the GIL
(``select``) with a hard limit of :func:`hard_limit_s`; past it the child is killed
(SIGKILL works whatever the child does) and the cell is FAILED "stuck"; a child that dies
(segfault, out-of-memory kill) fails its cell "process died".  Either way a new child takes the
next cell, and the job goes on.

Tasks may be queued in the child (:meth:`CellProcess.send`, :meth:`CellProcess.receive`): a
serial run keeps the next cell waiting there, so the child never waits for its parent to wake up
between two cells.  SIGINT/SIGTERM do not interrupt the child's cell: once one has come (passed
on by the parent when its stop flag is set, or from a terminal's Ctrl-C) the child finishes the
cell it is computing and starts no other (each comes back as None, given back by the caller).  The
child is killed when its parent dies (``PR_SET_PDEATHSIG`` on Linux).  It never calls MPI.

A record comes back as the packed row of a :class:`~lfvscan.store.records.RecordBatch` (its raw
bytes, the number of lab bins and the error message), which the parent appends to the store as
it is: ~5.5 kB and ~10 us to pack, where a pickled :class:`~lfvscan.store.records.CellRecord`
holding its ``CellResult`` is ~7.5 kB and costs ~60 us to pickle and ~50 us to unpickle.  A child
started with ``warm_up`` (the physics with the compiled engine) integrates one cell of the grid
and drops it before it reads its first task: the compiled engine's one-off cost per process
(importing numba, loading its cached machine code: ~1 s, docs/scaling.md) is then paid while the
parent opens the store and plans, not by the first cell.  Such a child sends :data:`READY` when its
warm-up has ended (or at once if a stop signal came before it began); the parent starts the first
task's hard-limit clock then, so the warm-up never eats into a cell's limit.  Cells are pure
functions of their arguments (the seed is the task's), so the warm-up cell changes no result.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import time
from collections import deque

import numpy as np

from lfvscan.scan.attribution import died_message
from lfvscan.scan.cells import CellFn, compute_task
from lfvscan.scan.plan import Task
from lfvscan.spec.config import ScanConfig
from lfvscan.store.records import CellRecord, RecordBatch, row_dtype
from lfvscan.util.fileio import write_all

#: a cell in a child process is killed this long after its wall limit (plus 10% of it) if it has
#: not ended by then (its own SIGALRM ends it at the limit unless it is stuck outside Python) [s]
KILL_GRACE_S = 1.0
_LEN = struct.Struct("<Q")
POLL_S = 0.25  #: how often the parent looks at its stop flag while a cell runs [s]
#: tasks a rank keeps in its cell process at least: the one computing and the next three, so the
#: child does not wait for its parent to wake up between two cells; those queued that have not
#: started when the run stops are given back (benchmarks/serial_cells.py)
QUEUED_TASKS = 4
#: cheap cells (closed ones take ~0.1 ms) are queued up to this much expected work [s], so that a
#: parent woken late (a busy host) finds the child still computing and takes every record that has
#: arrived at once (:meth:`CellProcess.receive_ready`) ...
QUEUED_WORK_S = 0.05
QUEUED_TASKS_MAX = 64  #: ... and at most this many tasks


def queue_depth(mean_cell_s: float | None) -> int:
    """Tasks to keep queued in a cell process for cells of ``mean_cell_s`` seconds (None: not timed
    yet): :data:`QUEUED_WORK_S` of work, within [:data:`QUEUED_TASKS`, :data:`QUEUED_TASKS_MAX`]."""
    if mean_cell_s is None:
        return QUEUED_TASKS
    return max(QUEUED_TASKS, min(QUEUED_TASKS_MAX, int(QUEUED_WORK_S / max(mean_cell_s, 1e-6))))


def hard_limit_s(config: ScanConfig) -> float | None:
    """Seconds after which a cell's child process is killed; None without a wall limit
    (``cell_timeout_s`` <= 0)."""
    if config.cell_timeout_s <= 0:
        return None
    return config.cell_timeout_s * 1.1 + KILL_GRACE_S


#: what a child started with a warm-up sends when the warm-up has ended (before any record)
READY = "ready"


def _send(fd: int, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    write_all(fd, _LEN.pack(len(data)) + data)


def _read_exactly(fd: int, n: int, deadline: float | None, poll=None) -> bytes | None:
    """``n`` bytes from ``fd``; None at end of file; TimeoutError past ``deadline`` (monotonic).
    ``poll()`` is called every :data:`POLL_S` seconds while waiting.  Without a deadline and a poll
    (the child reading its next task) it blocks in ``os.read`` as long as it takes."""
    parts, got = [], 0
    while got < n:
        while deadline is not None or poll is not None:
            left = POLL_S if deadline is None else min(POLL_S, deadline - time.monotonic())
            if left <= 0:
                raise TimeoutError
            if select.select([fd], [], [], left)[0]:
                break
            if poll is not None:
                poll()
        chunk = os.read(fd, n - got)
        if not chunk:
            return None
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


#: bytes the records pipe holds (Linux F_SETPIPE_SZ; the default 64 kB holds ~11 records): the
#: records of QUEUED_TASKS_MAX cheap cells fit, so a child is not blocked by a parent woken late
PIPE_BYTES = 2**20
_F_SETPIPE_SZ = 1031


def _widen(fd: int) -> None:
    """Give the pipe ``fd`` :data:`PIPE_BYTES` where the system allows it (best effort)."""
    try:
        import fcntl

        fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, OSError):  # not Linux, or above /proc/sys/fs/pipe-max-size: the default size works too
        pass


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (best effort elsewhere)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the child may outlive a killed parent until its cell ends
        pass


def _packed(rec: CellRecord, n_xbins: int) -> tuple[bytes, int, str]:
    """``rec`` as (its packed row's bytes, lab bins, error message): what the child sends."""
    batch = RecordBatch.from_records([rec], n_xbins)
    return batch.rows.tobytes(), batch.n_lab, batch.error(0)


def _unpacked(msg: tuple[bytes, int, str], n_xbins: int) -> RecordBatch:
    """The one-row batch of a record the child sent (:func:`_packed`)."""
    data, n_lab, error = msg
    rows = np.frombuffer(data, dtype=row_dtype(n_xbins, n_lab)).copy()
    return RecordBatch(rows, {0: error} if not rows["done"][0] else None)


def _warm_up(cell_fn: CellFn, config: ScanConfig, rank: int) -> None:
    """Integrate one open cell of the grid and drop it (module docstring): the first requested
    target at its highest energy with the lightest boson.  Whatever happens there is ignored."""
    target = config.targets[0]
    task = Task((0, 0, 0), target.name, max(target.energies_GeV), min(config.masses_GeV), seed=0, attempt=1)
    try:
        compute_task(cell_fn, config, task, rank)
    except Exception:  # noqa: BLE001 - a warm-up only: the real cells report their own failures
        pass


def _serve(cell_fn: CellFn, config: ScanConfig, rank: int, warm_up: bool, r: int, w: int) -> None:
    """The child: compute each task read from ``r``, send its packed record to ``w``; exit at end
    of file.  Once SIGINT/SIGTERM has come (the parent's drain, or a terminal's Ctrl-C) it starts no
    task: it sends the signal's number for each (not started), while a cell it had started finishes."""
    stopped = []
    try:
        _die_with_parent()
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, lambda signum, frame: stopped.append(signum))
        if warm_up:
            if not stopped:
                _warm_up(cell_fn, config, rank)
            _send(w, READY)
        while (head := _read_exactly(r, _LEN.size, None)) is not None:
            task = pickle.loads(_read_exactly(r, _LEN.unpack(head)[0], None))
            if stopped:
                _send(w, stopped[0])  # not started: the signal that stopped the child
                continue
            rec = compute_task(cell_fn, config, task, rank)
            try:
                msg = _packed(rec, config.n_xbins)
            except Exception as exc:  # noqa: BLE001 - a result that cannot be packed: the cell fails, not the child
                msg = _packed(CellRecord(rec.index, None, f"cannot return the cell's result: {exc}"[:500],
                                         rec.wall_seconds, rank, rec.attempts), config.n_xbins)
            _send(w, msg)
    except BaseException:  # noqa: BLE001 - the parent sees the end of file and reports the death
        pass
    os._exit(0)


class CellProcess:
    """A child process computing the cells of one rank one at a time (module docstring)."""

    def __init__(self, cell_fn: CellFn, config: ScanConfig, rank: int, max_attempts: int, stop=None,
                 warm_up: bool = False):
        self.cell_fn, self.config, self.rank, self.max_attempts = cell_fn, config, rank, max_attempts
        self.stop = stop  #: the run's StopFlag: once set, its signal is passed on to the child
        #: the first child integrates one cell before its first task (module docstring); its successors
        #: (after a death or a kill) do not: by then the job has paid for it
        self.warm_up = warm_up
        self._warming = False  #: the child is in its warm-up: its first message is READY
        self._pid: int | None = None
        self._r = self._w = -1
        self._queue: deque[Task] = deque()  #: tasks sent to the child, oldest first (records come in this order)
        self._head_since = 0.0  #: when the oldest queued task started (monotonic) [s]
        self._forwarded: int | None = None  #: the child the stop signal was passed on to

    def start(self) -> None:
        """Fork the child now (before the caller starts threads); :meth:`compute` does it if needed."""
        if self._pid is None:
            self._start()

    def _start(self) -> None:
        down_r, down_w = os.pipe()  # tasks to the child
        up_r, up_w = os.pipe()  # records to the parent
        _widen(up_w)
        pid = os.fork()
        if pid == 0:
            os.close(down_w)
            os.close(up_r)
            _serve(self.cell_fn, self.config, self.rank, self.warm_up, down_r, up_w)
        os.close(down_r)
        os.close(up_w)
        self._pid, self._r, self._w = pid, up_r, down_w
        self._warming, self.warm_up = self.warm_up, False

    @property
    def queued(self) -> int:
        """Tasks sent to the child whose records have not been received."""
        return len(self._queue)

    def send(self, task: Task) -> None:
        """Queue ``task`` in the child (it starts when the tasks sent before it have ended); its
        record comes from :meth:`receive`, in the order of sending."""
        if self._pid is None:
            self._start()
        if not self._queue:
            self._head_since = time.monotonic()
        self._queue.append(task)
        try:
            _send(self._w, task)
        except BrokenPipeError:  # the child died in an earlier task: receive() reports it, then resends
            pass

    def compute(self, task: Task) -> CellRecord | None:
        """The record of ``task``, computed in the child (nothing else queued), as a
        :class:`CellRecord` (its result rebuilt from the packed row); None if the child did not
        start it (stopping)."""
        self.send(task)
        batch = self.receive()[1]
        return None if batch is None else batch.record(0, self.config)

    @property
    def head_since(self) -> float | None:
        """When the oldest queued task started or will start (monotonic) [s]; None if none is queued."""
        return self._head_since if self._queue else None

    def forward_stop(self) -> None:
        """Once the run's stop flag is set, pass its signal on to the child (once per child): the
        child starts no further task (a cell function may handle the signal itself)."""
        if self.stop is not None and self.stop.is_set() and self._pid is not None and self._forwarded != self._pid:
            self._forwarded = self._pid
            os.kill(self._pid, self.stop.signum or signal.SIGTERM)

    def receive(self) -> tuple[Task, RecordBatch | None]:
        """The oldest queued task and its record as a one-row :class:`RecordBatch`: None if the child
        did not start it (stopping), FAILED if the child is stuck in it past :func:`hard_limit_s`
        (then killed) or dies in it; then a new child takes the tasks queued behind it."""
        task = self._queue[0]
        limit = hard_limit_s(self.config)
        if self._warming:
            self._await_ready(limit)
        deadline = None if limit is None else self._head_since + limit
        self.forward_stop()
        try:
            data = self._read_message(deadline)
        except TimeoutError:
            return task, self._replace_child(True, f"CellTimeout: cell did not end within {limit:g} s (cell_timeout_s = "
                                                   f"{self.config.cell_timeout_s:g} s; stuck outside Python, e.g. in "
                                                   "C code): its process was killed; it is computed again by the "
                                                   "next run while attempts < max_attempts")
        if data is None:
            return task, self._replace_child(False, died_message(task.attempt, self.max_attempts, self.rank) + ": ")
        self._queue.popleft()
        self._head_since = time.monotonic()
        msg = pickle.loads(data)
        if isinstance(msg, int):  # not started: the child was signalled (by this process, or from outside)
            if self.stop is not None and not self.stop.is_set():
                self.stop.set(msg)  # a signal that reached only the child drains the run too
            return task, None
        return task, _unpacked(msg, self.config.n_xbins)

    def _read_message(self, deadline: float | None) -> bytes | None:
        """The next message of the child (its pickled bytes); None at end of file (the child died);
        TimeoutError past ``deadline``.  The stop flag is watched while waiting."""
        head = _read_exactly(self._r, _LEN.size, deadline, self.forward_stop)
        return None if head is None else _read_exactly(self._r, _LEN.unpack(head)[0], deadline)

    def _await_ready(self, limit: float | None) -> None:
        """Wait for the warm-up's :data:`READY` (within ``limit`` of the child's start, the warm-up
        being one cell), then start the head task's clock.  A child that dies or is stuck in its
        warm-up is left to :meth:`receive`: its deadline then runs from now."""
        self._warming = False
        deadline = None if limit is None else time.monotonic() + limit
        try:
            data = self._read_message(deadline)
        except TimeoutError:
            data = None
        if data is not None and pickle.loads(data) != READY:
            raise RuntimeError("cell process: the first message of a warmed-up child was not READY")
        self._head_since = time.monotonic()

    def receive_ready(self) -> list[tuple[Task, RecordBatch | None]]:
        """:meth:`receive` of the oldest queued task (waiting for it), then of each further one whose
        record has already begun to arrive: one wake-up of the parent for every record the child
        sent meanwhile, each still handed back on its own and in order."""
        got = [self.receive()]
        while self._queue and select.select([self._r], [], [], 0)[0]:
            got.append(self.receive())
        return got

    def _replace_child(self, kill: bool, error: str) -> RecordBatch:
        """The FAILED record of the oldest queued task (``error``, followed by how the child ended
        when it ends in ": "); the tasks behind it go to a new child."""
        task = self._queue.popleft()
        wall = time.monotonic() - self._head_since
        rest = list(self._queue)
        how = self._end(kill=kill)
        for t in rest:
            self.send(t)
        rec = CellRecord(task.index, None, error + how if error.endswith(": ") else error, wall, self.rank,
                         task.attempt)
        return RecordBatch.from_records([rec], self.config.n_xbins)

    def _end(self, kill: bool) -> str:
        """Stop the child (SIGKILL if ``kill``, else it has ended or ends at the end of its input);
        returns how it ended."""
        pid, self._pid = self._pid, None
        self._queue.clear()
        for fd in (self._r, self._w):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._r = self._w = -1  # closed: the numbers may be reused by files opened later
        if pid is None:
            return ""
        if kill:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            return f"its cell process was ended by signal {os.WTERMSIG(status)}"
        return f"its cell process exited with status {os.WEXITSTATUS(status)}"

    def close(self) -> None:
        """End the child: it exits at the end of its input, or is killed if its cell is still
        running (the caller left :meth:`compute` by an exception, e.g. a second Ctrl-C: waiting for a
        cell that may be stuck would hang the exit) or if it is still in its warm-up (it has no
        result to give: a run with nothing to compute does not wait for it)."""
        self._end(kill=bool(self._queue) or self._warming)
