"""Attempt records: which cell attempts a run started, and the suspects a store keeps.

The store only records and reads back; what a death means is decided by the scan engine
(:mod:`lfvscan.scan.attribution`).  Before a batch of cell attempts starts (serial loop, rank 0's
own cells) or is handed to a worker, the writer appends a *started* line to the run's attempt log
(checksummed JSON lines, :mod:`lfvscan.store.checked_lines`; on disk
``<store>/journal/<time_ns>-<pid>.started``)::

    {"started": [[i, j, k, attempt], ...], "rank": r, "max_attempts": n, "per_cell": true|false[, "exclusive": true]}
    {"returned": [[i, j, k, attempt], ...]}          (handed out, given back uncomputed: a drain)

``per_cell`` is the batch's ``reports_each`` (each result reported right after its cell), and
``exclusive`` says nothing else ran meanwhile (:mod:`lfvscan.scan.attribution`).  A run that
ends with every started attempt finished (it has a record) or returned deletes its log on
:meth:`AttemptLog.close`; a log left behind is an *ended* log for the next run to settle.

Suspects (cell, attempt, exclusive?) are kept in ``<store>/journal/suspects.json``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lfvscan.store.checked_lines import decode_lines, encode_line
from lfvscan.util.fileio import write_all, write_atomic

STARTED_SUFFIX = ".started"
SUSPECTS_FILE = "suspects.json"
#: (i, j, k) cell index and attempt number (1 for the first)
Attempt = tuple[tuple[int, int, int], int]
#: a suspect: (cell index, the attempt number it will be computed with, exclusive?)
Suspect = tuple[tuple[int, int, int], int, bool]


@dataclass(frozen=True)
class AttemptRecord:
    """One decoded line of an attempt log: ``attempts`` that started on ``rank`` (``returned``
    false; ``max_attempts``, ``reports_each`` and ``exclusive`` as the run recorded them), or that
    were handed out and given back uncomputed (``returned`` true).  What the scan engine reads back
    (:meth:`lfvscan.store.backend.ScanBackend.ended_attempt_logs`), independent of the on-disk keys."""

    attempts: tuple[Attempt, ...]
    returned: bool = False
    rank: int = -1
    max_attempts: int = 0
    reports_each: bool = True
    exclusive: bool = False


def decode_record(line: dict) -> AttemptRecord | None:
    """The :class:`AttemptRecord` of one log line (the JSON of the module docstring), or None for a
    line of another shape.  A started line without ``per_cell`` reported each result (the key was
    added with coalesced reporting)."""
    try:
        if "started" in line:
            return AttemptRecord(_attempts(line["started"]), False, int(line["rank"]), int(line["max_attempts"]),
                                 bool(line.get("per_cell", True)), bool(line.get("exclusive", False)))
        if "returned" in line:
            return AttemptRecord(_attempts(line["returned"]), True)
    except (KeyError, TypeError, ValueError):
        return None
    return None


def decode_records(lines: list[dict]) -> list[AttemptRecord]:
    """The records of a log's intact lines, in order (lines of another shape left out)."""
    return [r for r in map(decode_record, lines) if r is not None]


def _attempts(cells) -> tuple[Attempt, ...]:
    return tuple(((int(i), int(j), int(k)), int(a)) for i, j, k, a in cells)


def _cells(attempts: list[Attempt]) -> list[list[int]]:
    return [[int(i), int(j), int(k), int(a)] for (i, j, k), a in attempts]


class AttemptLog:
    """The attempts of one run (module docstring): appended before cells start.

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
        write_all(self._fd, encode_line(d))

    def started(self, attempts: list[Attempt], rank: int, max_attempts: int, reports_each: bool,
                exclusive: bool) -> None:
        """Record that these attempts start now on ``rank`` (in the order they will run there)."""
        if not attempts:
            return
        line = {"started": _cells(attempts), "rank": int(rank), "max_attempts": int(max_attempts),
                "per_cell": bool(reports_each)}
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


def ended_logs(journal_dir: str | Path) -> dict[str, list[AttemptRecord]]:
    """{file name: records of its intact lines} of the attempt logs in a journal directory, oldest
    first (a torn last line is skipped)."""
    d = Path(journal_dir)
    out: dict[str, list[dict]] = {}
    for path in (sorted(d.glob("*" + STARTED_SUFFIX)) if d.is_dir() else []):
        try:
            out[path.name] = decode_records(decode_lines(path.read_bytes()))
        except FileNotFoundError:
            continue
    return out


def discard_logs(journal_dir: str | Path, names: list[str]) -> None:
    """Delete the attempt logs ``names`` of a journal directory."""
    for name in names:
        (Path(journal_dir) / name).unlink(missing_ok=True)


def read_suspects(journal_dir: str | Path) -> list[Suspect]:
    """Suspects a store keeps (``journal/suspects.json``; [] if none or unreadable)."""
    try:
        d = json.loads((Path(journal_dir) / SUSPECTS_FILE).read_text())
        return [((int(e[0]), int(e[1]), int(e[2])), int(e[3]), bool(e[4]) if len(e) > 4 else False)
                for e in d["suspects"]]
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return []


def write_suspects(journal_dir: str | Path, suspects: list[Suspect]) -> None:
    """Keep ``suspects`` (``journal/suspects.json``, replaced atomically); no file when there are none."""
    path = Path(journal_dir) / SUSPECTS_FILE
    if suspects:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"suspects": [[*c, a, e] for c, a, e in suspects]}))
    else:
        path.unlink(missing_ok=True)
