"""Append-only journal of finished cells: the durable first step of every store write.

A finished cell (result or failure) is appended as one line to a log file
``<store>/journal/<time_ns>-<pid>.log`` before the store folds it into its zarr arrays
(:mod:`lfvscan.store.zarr_store`, "Writing").  One line per cell::

    <JSON of the CellRecord> TAB <crc32 of the JSON, 8 hex digits> LF

* Exact: scalars are written with ``repr`` by :mod:`json`; the arrays of a result
  (:data:`lfvscan.xsec.result.ARRAY_FIELDS`: the x_tau edges and the schema's per-bin quantities)
  as base64 of their little-endian float64 bytes.  ``meta`` is not recorded.
* Crash-safe: each append is one ``os.write`` on an ``O_APPEND`` descriptor, so a ``kill -9``
  leaves at most a torn last line, which the checksum (and the missing LF) exposes; such a line
  is skipped on reading (that cell counts as not finished and is computed again).
* Cheap on cluster file systems: one file creation per fold interval, not one per cell (creating
  a file costs ~0.5-1 ms even on a local disk here, milliseconds on Lustre/GPFS).
* Ordered: logs sort chronologically by name; reading all of them, a later line for the same
  cell replaces an earlier one.

Only the store's single writer (it holds the store's ``flock``) appends; anybody may read
(``lfvscan status`` while a scan runs).  After a fold the store discards the logs it has folded.

Attempts (:class:`StartLog`): before a cell attempt starts (serial loop, rank 0's own cells) or
is handed to a worker (one line per batch), the writer appends a *started* line to the run's
``<store>/journal/<time_ns>-<pid>.started`` (same framing: JSON, TAB, crc32, LF)::

    {"started": [[i, j, k, attempt], ...], "rank": r, "max_attempts": n}
    {"returned": [[i, j, k, attempt], ...]}          (handed out, given back uncomputed: a drain)

A run that ends normally has recorded every started cell as finished or returned and deletes its
log.  A run whose process died (segfault, ``SystemExit``, out-of-memory kill, ``kill -9`` of the
job) leaves it behind; the next opening turns it into FAILED records (:func:`died_records`), so
a cell that kills its process counts against ``max_attempts`` like any failure.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lfvscan.util.fileio import write_all
from lfvscan.xsec.result import ARRAY_FIELDS, CellResult

JOURNAL_DIR = "journal"
LOG_SUFFIX = ".log"


@dataclass
class CellRecord:
    """What the store records for one cell: a result (DONE) or an error message (FAILED)."""

    index: tuple[int, int, int]
    result: CellResult | None
    error: str
    wall_seconds: float  #: wall time of the cell on its rank [s]
    rank: int
    attempts: int


def _frame(d: dict) -> bytes:
    """One line: JSON, TAB, crc32 of the JSON (8 hex digits), LF."""
    text = json.dumps(d).encode()
    return text + b"\t" + f"{zlib.crc32(text):08x}".encode() + b"\n"


def _unframe(line: bytes) -> dict | None:
    """The JSON object of one framed line, or None if torn or corrupt."""
    if not line.endswith(b"\n"):
        return None
    text, sep, crc = line[:-1].rpartition(b"\t")
    if not sep or crc != f"{zlib.crc32(text):08x}".encode():
        return None
    try:
        d = json.loads(text)
    except ValueError:
        return None
    return d if isinstance(d, dict) else None


def encode_record(rec: CellRecord) -> bytes:
    """One journal line (JSON, TAB, crc32 hex, LF) for ``rec``."""
    d = {
        "index": [int(v) for v in rec.index],
        "error": rec.error,
        "wall_seconds": rec.wall_seconds,
        "rank": rec.rank,
        "attempts": rec.attempts,
        "result": None,
    }
    if rec.result is not None:
        r = rec.result.to_dict(skip=ARRAY_FIELDS + ("meta",))  # arrays as base64 below, not as lists
        r.pop("meta", None)
        for name in ARRAY_FIELDS:
            raw = np.asarray(getattr(rec.result, name), dtype="<f8").tobytes()
            r[name] = {"f8le_b64": base64.b64encode(raw).decode()}
        d["result"] = r
    return _frame(d)


def decode_line(line: bytes) -> CellRecord | None:
    """The record of one journal line, or None if the line is torn or corrupt."""
    d = _unframe(line)
    if d is None:
        return None
    try:
        res = None
        if d["result"] is not None:
            r = d["result"]
            for name in ARRAY_FIELDS:
                if name not in r:  # optional histogram newer than the line: CellResult fills NaN
                    continue
                r[name] = np.frombuffer(base64.b64decode(r[name]["f8le_b64"]), dtype="<f8").astype("f8")
            res = CellResult(**r)
        return CellRecord(tuple(int(v) for v in d["index"]), res, d["error"], d["wall_seconds"], d["rank"],
                          d["attempts"])
    except (ValueError, KeyError, TypeError):  # checksum collision on garbage: treat as corrupt
        return None


def read_log(path: Path) -> tuple[list[CellRecord], int]:
    """(records, number of torn or corrupt lines) of one log; a vanished log reads as empty."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:  # folded and discarded meanwhile
        return [], 0
    records, bad = [], 0
    for line in data.splitlines(keepends=True):
        rec = decode_line(line)
        if rec is None:
            bad += 1
        else:
            records.append(rec)
    return records, bad


class Journal:
    """The journal directory of one store.  :meth:`append` is for the store's single writer."""

    def __init__(self, store_path: str | Path):
        self.dir = Path(store_path) / JOURNAL_DIR
        self._fd: int | None = None
        self._current: Path | None = None

    def logs(self) -> list[Path]:
        """Log files, oldest first."""
        if not self.dir.is_dir():
            return []
        return sorted(self.dir.glob("*" + LOG_SUFFIX))

    def append(self, records: list[CellRecord]) -> None:
        """Append ``records`` with one write (a new log is started after each :meth:`discard`)."""
        if not records:
            return
        if self._fd is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._current = self.dir / f"{time.time_ns():020d}-{os.getpid()}{LOG_SUFFIX}"
            self._fd = os.open(self._current, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        write_all(self._fd, b"".join(encode_record(r) for r in records))

    def read_all(self) -> tuple[dict[tuple[int, int, int], CellRecord], list[Path], int]:
        """(latest record per cell, logs read, torn/corrupt lines) over all logs."""
        latest: dict[tuple[int, int, int], CellRecord] = {}
        bad = 0
        logs = self.logs()
        for p in logs:
            records, b = read_log(p)
            bad += b
            for rec in records:
                latest[rec.index] = rec
        return latest, logs, bad

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


# ---------------------------------------------------------------------------- attempts
STARTED_SUFFIX = ".started"
#: (i, j, k) cell index and attempt number (1 for the first)
Attempt = tuple[tuple[int, int, int], int]


def _cells(attempts: list[Attempt]) -> list[list[int]]:
    return [[int(i), int(j), int(k), int(a)] for (i, j, k), a in attempts]


class StartLog:
    """The attempts of one run (module docstring, "Attempts"): appended before cells start.

    Thread-safe (rank 0's compute thread and MPI service thread start cells, its writer thread
    finishes them).  ``directory`` None: nothing on disk (the lines stay in :attr:`lines`).
    """

    def __init__(self, directory: str | Path | None):
        self.dir = None if directory is None else Path(directory)
        self.lines: list[dict] = []  #: what this run appended (kept in memory too)
        self._outstanding: dict[tuple[int, int, int], int] = {}  # started, neither finished nor returned
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._path: Path | None = None

    def _append(self, d: dict) -> None:
        self.lines.append(d)
        if self.dir is None:
            return
        if self._fd is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._path = self.dir / f"{time.time_ns():020d}-{os.getpid()}{STARTED_SUFFIX}"
            self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        write_all(self._fd, _frame(d))

    def started(self, attempts: list[Attempt], rank: int, max_attempts: int) -> None:
        """Record that these attempts start now on ``rank`` (in the order they will run there)."""
        if not attempts:
            return
        with self._lock:
            self._append({"started": _cells(attempts), "rank": int(rank), "max_attempts": int(max_attempts)})
            for ijk, a in attempts:
                self._outstanding[tuple(int(v) for v in ijk)] = int(a)

    def returned(self, attempts: list[Attempt]) -> None:
        """Record attempts handed out but given back uncomputed (they did not happen)."""
        if not attempts:
            return
        with self._lock:
            self._append({"returned": _cells(attempts)})
            for ijk, _ in attempts:
                self._outstanding.pop(tuple(int(v) for v in ijk), None)

    def finished(self, indices) -> None:
        """These cells' attempts have a record (result or failure) in the store."""
        with self._lock:
            for ijk in indices:
                self._outstanding.pop(tuple(int(v) for v in ijk), None)

    def close(self) -> None:
        """Close the log; delete it if every started attempt finished or was returned."""
        with self._lock:
            fd, self._fd = self._fd, None
            if fd is not None:
                os.close(fd)
            if not self._outstanding and self._path is not None:
                self._path.unlink(missing_ok=True)


def started_logs(journal_dir: str | Path) -> list[Path]:
    """Attempt logs left in a journal directory, oldest first."""
    d = Path(journal_dir)
    return sorted(d.glob("*" + STARTED_SUFFIX)) if d.is_dir() else []


def read_started(path: Path) -> list[dict]:
    """The intact lines of one attempt log (a torn last line is skipped)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    return [d for d in map(_unframe, data.splitlines(keepends=True)) if d is not None]


def died_records(lines: list[dict], attempts: np.ndarray) -> list[CellRecord]:
    """FAILED records of the attempts whose process died, from one run's attempt log.

    ``attempts``: the store's attempt counts with every finished record applied; an attempt a of
    cell c finished iff attempts[c] >= a.  Each rank computes its cells in the order they were
    handed out, so the first unfinished attempt of each rank was running when the process died;
    the ones queued behind it never started and are not counted.  (If a rank's last results were
    lost in flight with the job, a cell finished but not recorded is counted instead; it is
    computed again, and so is the unrecorded one.)
    """
    queues: dict[int, dict[tuple[int, int, int], tuple[int, int]]] = {}
    for d in lines:
        try:
            if "started" in d:
                q = queues.setdefault(int(d["rank"]), {})
                for i, j, k, a in d["started"]:
                    q[(int(i), int(j), int(k))] = (int(a), int(d["max_attempts"]))
            elif "returned" in d:
                for i, j, k, _ in d["returned"]:
                    for q in queues.values():
                        q.pop((int(i), int(j), int(k)), None)
        except (KeyError, TypeError, ValueError):  # a line of an unknown shape: ignore it
            continue
    records = []
    for rank, q in sorted(queues.items()):
        for ijk, (a, n) in q.items():
            try:
                finished = int(attempts[ijk]) >= a
            except IndexError:
                break
            if finished:
                continue
            records.append(CellRecord(ijk, None, died_message(a, n, rank), float("nan"), rank, a))
            break
    return records


def died_message(attempt: int, max_attempts: int, rank: int) -> str:
    """The error text of an attempt whose process died."""
    return (f"process died (attempt {attempt}/{max_attempts}) on rank {rank}: the process ended while computing "
            "this cell (segfault, SystemExit, out-of-memory kill, or the job was killed)")
