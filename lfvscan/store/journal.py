"""Append-only journal of finished cells: the durable first step of every store write.

Finished cells (results or failures) are appended as *frames* to a log file
``<store>/journal/<time_ns>-<pid>.jnl`` before the store folds them into its zarr arrays
(:mod:`lfvscan.store.zarr_store`, "Writing").  One frame per :class:`~lfvscan.store.records.RecordBatch`
(the cells one write brings: a worker's last ~0.25 s, or one cell of a serial run)::

    b"LFVB" | header length (u32 LE) | payload length (u32 LE) | crc32 of header + payload (u32 LE)
    header: JSON {"n": rows, "fields": [[name, numpy dtype str, shape], ...], "errors": [[row, message], ...]}
    payload: the rows, packed little-endian records of those fields (lfvscan.store.records.row_dtype)

* Exact: values are raw float64/int/bool bytes (nan, inf, -0.0, subnormals read back bit for
  bit); fields of the schema the frame does not have (a frame older than a field) read as the
  field's fill value, fields the schema no longer has are ignored.
* Cheap: one ``os.write`` and a few microseconds per cell (issue 13: the JSON + base64 lines this
  replaced cost ~70 us per cell on rank 0); :func:`encode_batch`, :func:`decode_frames`.
* Crash-safe: each append is one ``os.write`` on an ``O_APPEND`` descriptor, so a ``kill -9``
  leaves at most a torn last frame, which the lengths and the checksum expose; such a frame is
  skipped on reading (its cells count as not finished and are computed again).  A corrupt frame
  in the middle (bit rot) is skipped too: reading resynchronises on the next ``LFVB``.
* Cheap on cluster file systems: one file creation per fold interval, not one per cell.
* Ordered: logs sort chronologically by name; reading all of them, a later row for the same
  cell replaces an earlier one.
* Older stores: logs ``*.log`` of the previous line format (one JSON line per cell, arrays as
  base64, :func:`encode_record`/:func:`decode_line`) are still read, so a scan a previous version
  left interrupted resumes.

Only the store's single writer (it holds the store's ``flock``) appends; anybody may read
(``lfvscan status`` while a scan runs).  After a fold the store discards the logs it has folded.

Attempts (:class:`StartLog`): before a batch of cell attempts starts (serial loop, rank 0's own
cells) or is handed to a worker, the writer appends a *started* line to the run's
``<store>/journal/<time_ns>-<pid>.started`` (JSON, TAB, crc32, LF)::

    {"started": [[i, j, k, attempt], ...], "rank": r, "max_attempts": n, "per_cell": true|false[, "exclusive": true]}
    {"returned": [[i, j, k, attempt], ...]}          (handed out, given back uncomputed: a drain)

``per_cell``: the rank reports each of these results right after its cell (so the first attempt
without a record was the one running when the process died, unless its result was still on its
way); false: results are coalesced (issue 13, and rank 0's own cells under MPI, which its writer
thread writes while it computes the next), and which cell of the batch was running is not
known.  ``exclusive``: nothing else ran meanwhile and every earlier result was written before it
started (a serial run; rank 0 computing suspects at the end of an MPI run), so a death is
certainly this cell's.

A run that ends normally has recorded every started cell as finished or returned and deletes its
log.  A run whose process died (segfault, ``SystemExit``, out-of-memory kill, ``kill -9`` of the
job) leaves it behind; the next opening turns it into FAILED "process died" records or suspects
(:func:`died_attempts`), so a cell that kills its process counts against ``max_attempts`` like
any failure.  Where it is unsure which cell killed the job, innocent cells may lose attempts to
the guess, but never their last one: a death fails a cell for good only when it is certain.
An outside ``kill -9`` of a serial run (or of rank 0 computing exclusive cells at the end of an
MPI run) counts against the cell it interrupted, like a death of that cell.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import struct
import threading
import time
import zlib
from pathlib import Path

import numpy as np

from lfvscan.schema import DONE, FAILED
from lfvscan.store.records import PER_BIN_FIELD, CellRecord, RecordBatch, row_dtype
from lfvscan.util.fileio import write_all
from lfvscan.xsec.result import ARRAY_FIELDS, CellResult

__all__ = ["CellRecord", "Journal", "RecordBatch", "StartLog", "decode_frames", "died_attempts", "encode_batch"]

JOURNAL_DIR = "journal"
LOG_SUFFIX = ".jnl"  #: logs of frames (this format)
LEGACY_SUFFIX = ".log"  #: logs of JSON lines (previous format, read only)
FRAME_MAGIC = b"LFVB"
FRAME_MAX_BYTES = 64 * 2**20  #: rows per frame at most this many bytes (lengths are u32)
_PREFIX = struct.Struct("<4sIII")


# ---------------------------------------------------------------------------- frames (this format)
@functools.lru_cache(maxsize=16)
def _descr_json(dtype: np.dtype) -> str:
    return json.dumps([[name, dtype.fields[name][0].base.str, list(dtype.fields[name][0].shape)] for name in dtype.names])


def encode_batch(batch: RecordBatch) -> bytes:
    """One journal frame (module docstring) holding every row of ``batch``: the header names each
    field with its dtype and shape; the payload is the rows' packed little-endian bytes."""
    errors = json.dumps([[int(r), m] for r, m in sorted(batch.errors.items())])
    header = f'{{"n": {len(batch)}, "fields": {_descr_json(batch.rows.dtype)}, "errors": {errors}}}'.encode()
    payload = np.ascontiguousarray(batch.rows).tobytes()
    body = header + payload
    return _PREFIX.pack(FRAME_MAGIC, len(header), len(payload), zlib.crc32(body)) + body


def _decode_body(header: bytes, payload: bytes, n_xbins: int | None) -> RecordBatch:
    h = json.loads(header)
    n = int(h["n"])
    dtype = np.dtype([(name, dt, tuple(shape)) if shape else (name, dt) for name, dt, shape in h["fields"]])
    if n * dtype.itemsize != len(payload):
        raise ValueError("payload length disagrees with the fields")
    got = np.frombuffer(payload, dtype=dtype, count=n)
    nb = n_xbins if n_xbins is not None else (dtype[PER_BIN_FIELD].shape[0] if PER_BIN_FIELD in dtype.names else 0)
    if dtype == row_dtype(nb):
        rows = got.copy()
    else:  # written with another schema: common fields copied, missing ones keep their fill value
        rows = RecordBatch.empty(n, nb).rows
        for name in rows.dtype.names:
            if name in dtype.names:
                rows[name] = got[name]
    return RecordBatch(rows, {int(r): str(m) for r, m in h["errors"]})


def decode_frames(data: bytes, n_xbins: int | None = None) -> tuple[list[RecordBatch], int]:
    """(batches, number of torn or corrupt frames) of a log's bytes."""
    batches, bad, pos = [], 0, 0
    while pos < len(data):
        ok = False
        if len(data) - pos >= _PREFIX.size:
            magic, hlen, plen, crc = _PREFIX.unpack_from(data, pos)
            end = pos + _PREFIX.size + hlen + plen
            if magic == FRAME_MAGIC and end <= len(data):
                body = data[pos + _PREFIX.size:end]
                if zlib.crc32(body) == crc:
                    try:
                        batches.append(_decode_body(body[:hlen], body[hlen:], n_xbins))
                        ok = True
                    except (ValueError, KeyError, TypeError):  # a checksum collision on garbage
                        pass
        if ok:
            pos = end
            continue
        bad += 1
        nxt = data.find(FRAME_MAGIC, pos + 1)  # resynchronise on the next frame
        if nxt < 0:
            break
        pos = nxt
    return batches, bad


# ---------------------------------------------------------------------------- lines (previous format, read)
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
    """One line of the previous journal format (``*.log``: JSON, TAB, crc32 hex, LF) for ``rec``.

    Scans no longer write it; it defines the format :func:`decode_line` reads (and the tests make
    such logs with it)."""
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
    """The record of one line of the previous format, or None if the line is torn or corrupt."""
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


def read_log(path: Path, n_xbins: int | None = None) -> tuple[list[RecordBatch], int]:
    """(batches, number of torn or corrupt frames or lines) of one log of either format; a vanished
    log reads as empty.  ``n_xbins``: bins of the store (needed only for old logs holding failures alone)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:  # folded and discarded meanwhile
        return [], 0
    if Path(path).suffix != LEGACY_SUFFIX:
        return decode_frames(data, n_xbins)
    records, bad = [], 0
    for line in data.splitlines(keepends=True):
        rec = decode_line(line)
        if rec is None:
            bad += 1
        else:
            records.append(rec)
    if not records:
        return [], bad
    if n_xbins is None:
        n_xbins = next((len(r.result.dsigma_dlnx_tau_pb) for r in records if r.result is not None), 0)
    return [RecordBatch.from_records(records, n_xbins)], bad


class Journal:
    """The journal directory of one store.  :meth:`append` is for the store's single writer.

    ``n_xbins``: the store's number of x_tau bins (reading old logs that hold only failures)."""

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
        """Append ``batch`` with one write, as frames of at most FRAME_MAX_BYTES of rows (the
        frame lengths are 32-bit); a new log is started after each :meth:`discard`."""
        if not len(batch):
            return
        if self._fd is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._current = self.dir / f"{time.time_ns():020d}-{os.getpid()}{LOG_SUFFIX}"
            self._fd = os.open(self._current, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        per_frame = max(1, FRAME_MAX_BYTES // batch.rows.dtype.itemsize)
        if len(batch) <= per_frame:
            write_all(self._fd, encode_batch(batch))
        else:
            write_all(self._fd, b"".join(encode_batch(batch.take(np.arange(i, min(i + per_frame, len(batch)))))
                                         for i in range(0, len(batch), per_frame)))

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


# ---------------------------------------------------------------------------- attempts
STARTED_SUFFIX = ".started"
SUSPECTS_FILE = "suspects.json"
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

    def started(self, attempts: list[Attempt], rank: int, max_attempts: int, per_cell: bool = True,
                exclusive: bool = False) -> None:
        """Record that these attempts start now on ``rank`` (in the order they will run there);
        ``per_cell``: the rank reports each result right after its cell; ``exclusive``: nothing
        else runs meanwhile (module docstring)."""
        if not attempts:
            return
        line = {"started": _cells(attempts), "rank": int(rank), "max_attempts": int(max_attempts),
                "per_cell": bool(per_cell)}
        if exclusive:
            line["exclusive"] = True
        with self._lock:
            self._append(line)
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

    def finished(self, indices: np.ndarray) -> None:
        """These cells' attempts ((n, 3) indices) have a record (result or failure) in the store."""
        with self._lock:
            if not self._outstanding:
                return
            for ijk in map(tuple, np.asarray(indices).tolist()):
                self._outstanding.pop(ijk, None)

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


#: a suspect: (cell index, the attempt number it will be computed with, exclusive?)
Suspect = tuple[tuple[int, int, int], int, bool]


def died_attempts(lines: list[dict], attempts: np.ndarray,
                  settled: frozenset = frozenset()) -> tuple[list[CellRecord], list[Suspect]]:
    """What a run whose process died leaves, from its attempt log: (FAILED "process died" records,
    suspects).

    ``attempts``: the store's attempt counts with every finished record applied; an attempt a of
    cell c finished iff attempts[c] >= a.  ``settled``: (cell, attempt) pairs already charged as
    "process died" (a settling killed before it deleted the log: that rank is not charged twice).
    Each rank computes its cells in the order they were handed out.  Per rank, its first
    unfinished attempt u:

    * u in a ``per_cell`` batch (each result reported right after its cell): u was running when
      the job died, or its result was lost in flight.  If u ran ``exclusive`` (nothing else ran and
      every earlier result was written before it started: a serial run, or rank 0 computing
      suspects at the end of an MPI run), u certainly killed the job: it is charged (a FAILED
      record that counts against ``max_attempts``).  Otherwise (mpiexec tears the whole job down,
      so every rank has such a u, and which process died first is unknowable; or u's result was
      in flight) u is charged too, unless it was the cell's last allowed attempt: then it is not
      charged but becomes an *exclusive* suspect, so a death fails a cell for good only when it
      is certain.  A charged cell's retry is a suspect (exclusive if it is the last).
    * u in a coalesced batch: the rank's results of its last fraction of a second may have died
      with it, so the cell that was running is unknown.  Nobody is charged: every unfinished
      attempt of that rank becomes a suspect with the same attempt number.

    Suspects are computed alone, each result reported at once (:func:`lfvscan.scan.plan.plan_tasks`),
    exclusive ones by rank 0 at the end of the run with nothing else running.
    """
    queues: dict[int, dict[tuple[int, int, int], tuple[int, int, bool, bool]]] = {}
    for d in lines:
        try:
            if "started" in d:
                q = queues.setdefault(int(d["rank"]), {})
                per_cell = bool(d.get("per_cell", True))  # logs older than coalescing: per cell
                exclusive = bool(d.get("exclusive", False))
                for i, j, k, a in d["started"]:
                    q[(int(i), int(j), int(k))] = (int(a), int(d["max_attempts"]), per_cell, exclusive)
            elif "returned" in d:
                for i, j, k, _ in d["returned"]:
                    for q in queues.values():
                        q.pop((int(i), int(j), int(k)), None)
        except (KeyError, TypeError, ValueError):  # a line of an unknown shape: ignore it
            continue
    unfinished: dict[int, list] = {}
    for rank, q in sorted(queues.items()):
        try:
            left = [(ijk, v) for ijk, v in q.items() if int(attempts[ijk]) < v[0] or (ijk, v[0]) in settled]
        except IndexError:
            continue
        if left:
            unfinished[rank] = left
    records: list[CellRecord] = []
    suspects: list[Suspect] = []
    for rank, left in unfinished.items():
        ijk, (a, n, per_cell, exclusive) = left[0]
        if (ijk, a) in settled:
            continue  # charged by a settling that was cut short
        if not per_cell:
            suspects.extend((c, v[0], False) for c, v in left)
        elif exclusive or a < n:
            records.append(CellRecord(ijk, None, died_message(a, n, rank), float("nan"), rank, a))
            if a < n:
                suspects.append((ijk, a + 1, a + 1 == n))
        else:
            suspects.append((ijk, a, True))
    return records, suspects


def died_message(attempt: int, max_attempts: int, rank: int) -> str:
    """The error text of an attempt whose process died."""
    return (f"{DIED_PREFIX}{attempt}/{max_attempts}) on rank {rank}: the process ended while computing "
            "this cell (segfault, SystemExit, out-of-memory kill, or the job was killed)")


#: how every "process died" message begins (died_message)
DIED_PREFIX = "process died (attempt "


def is_death(message: str) -> bool:
    """Whether a cell's error message is a charged process death (:func:`died_message`)."""
    return message.startswith(DIED_PREFIX)


def settled_deaths(status: np.ndarray, attempts: np.ndarray, error: np.ndarray) -> frozenset:
    """(cell, attempt) of the FAILED cells whose last attempt was charged as a process death."""
    failed = np.argwhere(status == FAILED)
    return frozenset((tuple(int(v) for v in c), int(attempts[tuple(c)])) for c in failed
                     if is_death(str(error[tuple(c)])))


def live_suspects(suspects: list[Suspect], attempts: np.ndarray, status: np.ndarray) -> list[Suspect]:
    """The suspects still waiting for their attempt: in the grid, not DONE, and no attempt finished
    since they became suspects (attempts[c] == a - 1)."""
    live = []
    for c, a, exclusive in suspects:
        c = tuple(int(v) for v in c)
        if len(c) == 3 and all(0 <= v < n for v, n in zip(c, attempts.shape)) and int(attempts[c]) == int(a) - 1 \
                and int(status[c]) != DONE:
            live.append((c, int(a), bool(exclusive)))
    return sorted(set(live))


def read_suspects(journal_dir: str | Path) -> list[Suspect]:
    """Suspects a store keeps (``journal/suspects.json``; [] if none or unreadable)."""
    try:
        d = json.loads((Path(journal_dir) / SUSPECTS_FILE).read_text())
        return [((int(e[0]), int(e[1]), int(e[2])), int(e[3]), bool(e[4]) if len(e) > 4 else False)
                for e in d["suspects"]]
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return []
