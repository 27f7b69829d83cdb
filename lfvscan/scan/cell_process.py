"""Cells computed in a child process, so that a cell stuck in C code cannot block the coordinator.

A wall limit in the computing process (SIGALRM, :func:`lfvscan.scan.cells.call_with_wall_limit`)
acts between Python bytecodes only: a cell stuck inside one C call that holds the GIL is never
interrupted, and it would also starve every other thread of its process.  Under MPI rank 0's
service thread (:mod:`lfvscan.scan.mpi`) must keep answering the workers and watching their
silence, so rank 0 never computes a cell in its own process: its cells (and the exclusive
suspects at the end of a run) go to a :class:`CellProcess`, a forked child that computes them one
at a time (its caches stay warm across cells).  Rank 0 waits for each result off the GIL
(``select``) with a hard limit of :func:`hard_limit_s`; past it the child is killed
(SIGKILL works whatever the child does) and the cell is FAILED "stuck"; a child that dies
(segfault, out-of-memory kill) fails its cell "process died".  Either way a new child takes the
next cell, and the job goes on.

The child ignores SIGINT/SIGTERM (its parent decides about a drain: the cell in flight finishes;
the parent passes the signal on, for cell functions that handle it) and is killed when its parent
dies (``PR_SET_PDEATHSIG`` on Linux).  It never calls MPI.  Records come back pickled.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import time

from lfvscan.scan.attribution import died_message
from lfvscan.scan.cells import CellFn, compute_task
from lfvscan.scan.plan import Task
from lfvscan.spec.config import ScanConfig
from lfvscan.store.records import CellRecord
from lfvscan.util.fileio import write_all

#: a cell in a child process is killed this long after its wall limit (plus 10% of it) if it has
#: not ended by then (its own SIGALRM ends it at the limit unless it is stuck outside Python) [s]
KILL_GRACE_S = 1.0
_LEN = struct.Struct("<Q")
POLL_S = 0.25  #: how often the parent looks at its stop flag while a cell runs [s]


def hard_limit_s(config: ScanConfig) -> float | None:
    """Seconds after which a cell's child process is killed; None without a wall limit
    (``cell_timeout_s`` <= 0)."""
    if config.cell_timeout_s <= 0:
        return None
    return config.cell_timeout_s * 1.1 + KILL_GRACE_S


def _send(fd: int, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    write_all(fd, _LEN.pack(len(data)) + data)


def _read_exactly(fd: int, n: int, deadline: float | None, poll=None) -> bytes | None:
    """``n`` bytes from ``fd``; None at end of file; TimeoutError past ``deadline`` (monotonic).
    ``poll()`` is called every :data:`POLL_S` seconds while waiting."""
    parts, got = [], 0
    while got < n:
        while True:
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


def _read_blocking(fd: int, n: int) -> bytes | None:
    """``n`` bytes from ``fd`` (None at end of file), waiting as long as it takes (the child)."""
    parts, got = [], 0
    while got < n:
        chunk = os.read(fd, n - got)
        if not chunk:
            return None
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (best effort elsewhere)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the child may outlive a killed parent until its cell ends
        pass


def _serve(cell_fn: CellFn, config: ScanConfig, rank: int, r: int, w: int) -> None:
    """The child: compute each task read from ``r``, send its record to ``w``; exit at end of file."""
    try:
        _die_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while (head := _read_blocking(r, _LEN.size)) is not None:
            task = pickle.loads(_read_blocking(r, _LEN.unpack(head)[0]))
            rec = compute_task(cell_fn, config, task, rank)
            try:
                _send(w, rec)
            except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable ``meta``: the cell fails, not the child
                _send(w, CellRecord(rec.index, None, f"cannot return the cell's result: {exc}"[:500],
                                    rec.wall_seconds, rank, rec.attempts))
    except BaseException:  # noqa: BLE001 - the parent sees the end of file and reports the death
        pass
    os._exit(0)


class CellProcess:
    """A child process computing the cells of one rank one at a time (module docstring)."""

    def __init__(self, cell_fn: CellFn, config: ScanConfig, rank: int, max_attempts: int, stop=None):
        self.cell_fn, self.config, self.rank, self.max_attempts = cell_fn, config, rank, max_attempts
        self.stop = stop  #: the run's StopFlag: once set, its signal is passed on to the child
        self._pid: int | None = None
        self._r = self._w = -1

    def start(self) -> None:
        """Fork the child now (before the caller starts threads); :meth:`compute` does it if needed."""
        if self._pid is None:
            self._start()

    def _start(self) -> None:
        down_r, down_w = os.pipe()  # tasks to the child
        up_r, up_w = os.pipe()  # records to the parent
        pid = os.fork()
        if pid == 0:
            os.close(down_w)
            os.close(up_r)
            _serve(self.cell_fn, self.config, self.rank, down_r, up_w)
        os.close(down_r)
        os.close(up_w)
        self._pid, self._r, self._w = pid, up_r, down_w

    def compute(self, task: Task) -> CellRecord:
        """The record of ``task``, computed in the child; FAILED if the child is stuck past
        :func:`hard_limit_s` (then killed) or dies."""
        if self._pid is None:
            self._start()
        t0 = time.perf_counter()
        limit = hard_limit_s(self.config)
        deadline = None if limit is None else time.monotonic() + limit
        forwarded = []

        def forward_stop() -> None:
            """Pass the stop signal on once (the child ignores it unless its cell handles it)."""
            if self.stop is not None and self.stop.is_set() and not forwarded and self._pid is not None:
                forwarded.append(True)
                os.kill(self._pid, self.stop.signum or signal.SIGTERM)

        try:
            _send(self._w, task)
            head = _read_exactly(self._r, _LEN.size, deadline, forward_stop)
            data = None if head is None else _read_exactly(self._r, _LEN.unpack(head)[0], deadline)
        except TimeoutError:
            self._end(kill=True)
            return CellRecord(task.index, None,
                              f"CellTimeout: cell did not end within {limit:g} s (cell_timeout_s = "
                              f"{self.config.cell_timeout_s:g} s; stuck outside Python, e.g. in C code): its process "
                              "was killed; it is computed again by the next run while attempts < max_attempts",
                              time.perf_counter() - t0, self.rank, task.attempt)
        except BrokenPipeError:
            data = None
        if data is None:
            how = self._end(kill=False)
            return CellRecord(task.index, None, f"{died_message(task.attempt, self.max_attempts, self.rank)}: {how}",
                              time.perf_counter() - t0, self.rank, task.attempt)
        return pickle.loads(data)

    def _end(self, kill: bool) -> str:
        """Stop the child (SIGKILL if ``kill``, else it has ended or ends at the end of its input);
        returns how it ended."""
        pid, self._pid = self._pid, None
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
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
        """End the child (it exits at the end of its input)."""
        self._end(kill=False)
