"""Append-only journal of finished cells: the durable first step of every store write.

Finished cells (results or failures) are appended as binary frames (:mod:`lfvscan.store.frames`)
to a log file ``<store>/journal/<time_ns>-<pid>.jnl`` before the store folds them into its zarr
arrays (:mod:`lfvscan.store.zarr_store`, "Writing").

* Crash-safe: each append is one ``os.write`` on an ``O_APPEND`` descriptor, so a ``kill -9``
  leaves at most a torn last frame, which is skipped on reading (its cells count as not finished
  and are computed again).
* Cheap on cluster file systems: one file creation per fold interval, not one per cell.
* Ordered: logs sort chronologically by name; reading all of them, a later row for the same
  cell replaces an earlier one.
* JSON-line logs ``*.log`` (:mod:`lfvscan.store.legacy_journal`) are read too.

Only the store's single writer (it holds the store's ``flock``) appends; anybody may read
(``lfvscan status`` while a scan runs).  After a fold the store discards the logs it has folded.
The attempt logs in the same directory are :mod:`lfvscan.store.attempt_log`'s.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from lfvscan.store.frames import decode_frames, encode_frames
from lfvscan.store.legacy_journal import LEGACY_SUFFIX, decode_legacy_log
from lfvscan.store.records import RecordBatch
from lfvscan.util.fileio import write_all

__all__ = ["JOURNAL_DIR", "Journal", "read_log"]

JOURNAL_DIR = "journal"
LOG_SUFFIX = ".jnl"  #: logs of frames


def read_log(path: Path, n_xbins: int | None = None) -> tuple[list[RecordBatch], int]:
    """(batches, number of torn or corrupt frames or lines) of one log of either format; a vanished
    log reads as empty.  ``n_xbins``: bins of the store (needed only for JSON-line logs holding
    failures alone)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:  # folded and discarded meanwhile
        return [], 0
    if Path(path).suffix == LEGACY_SUFFIX:
        return decode_legacy_log(data, n_xbins)
    return decode_frames(data, n_xbins)


class Journal:
    """The journal directory of one store.  :meth:`append` is for the store's single writer.

    ``n_xbins``: the store's number of x_f bins (reading JSON-line logs that hold only failures)."""

    def __init__(self, store_path: str | Path, n_xbins: int | None = None):
        self.dir = Path(store_path) / JOURNAL_DIR
        self.n_xbins = n_xbins
        self._fd: int | None = None
        self._current: Path | None = None

    def logs(self) -> list[Path]:
        """Log files of both formats, oldest first."""
        if not self.dir.is_dir():
            return []
        return sorted([*self.dir.glob("*" + LOG_SUFFIX), *self.dir.glob("*" + LEGACY_SUFFIX)], key=lambda p: p.name)

    def append(self, batch: RecordBatch) -> None:
        """Append ``batch`` with one write; a new log is started after each :meth:`discard`."""
        if not len(batch):
            return
        if self._fd is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._current = self.dir / f"{time.time_ns():020d}-{os.getpid()}{LOG_SUFFIX}"
            self._fd = os.open(self._current, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        write_all(self._fd, encode_frames(batch))

    def read_all(self) -> tuple[RecordBatch | None, list[Path], int]:
        """(the latest row of each journaled cell, or None if there is none; logs read; torn or
        corrupt frames/lines) over all logs."""
        batches, bad = [], 0
        logs = self.logs()
        for p in logs:
            got, b = read_log(p, self.n_xbins)
            bad += b
            batches.extend(got)
        if not batches:
            return None, logs, bad
        return RecordBatch.concat(batches).latest(), logs, bad

    def open_logs(self) -> list[Path]:
        """The log this writer is appending to (empty list if none)."""
        return [self._current] if self._current is not None else []

    def discard(self, logs: list[Path]) -> None:
        """Delete folded logs (closing the current one if it is among them)."""
        if self._current is not None and self._current in logs:
            self.close()
        for p in logs:
            p.unlink(missing_ok=True)

    def close(self) -> None:
        fd, self._fd, self._current = self._fd, None, None
        if fd is not None:
            os.close(fd)
