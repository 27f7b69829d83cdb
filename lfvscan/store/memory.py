"""A scan store held in memory: the :class:`~lfvscan.store.backend.ScanBackend` of tests.

``run_scan(config, MemoryStore(config), cell_fn=...)`` runs the real scheduling (plan, retries,
drain on a stop signal, resume) without disk, zarr or subprocesses; the records written stay
readable (:attr:`MemoryStore.records`, :meth:`MemoryStore.result`) and a second ``run_scan`` on the
same object resumes it, as on disk.
"""

from __future__ import annotations

import copy
import threading

import numpy as np

from lfvscan.spec.config import ScanConfig
from lfvscan.store.journal import Attempt, StartLog, Suspect, died_attempts, is_death, live_suspects
from lfvscan.store.records import CellRecord, RecordBatch
from lfvscan.store.scandata import DONE, FAILED, PENDING, SKIPPED
from lfvscan.xsec.result import CellResult


class MemoryStore:
    """Cell state, records and run information of one scan, in memory."""

    def __init__(self, config: ScanConfig):
        self.config = config
        requested = np.broadcast_to(config.requested()[:, :, None], config.shape)
        self.status = np.where(requested, PENDING, SKIPPED).astype(np.int8)
        self.attempts = np.zeros(config.shape, dtype=np.int32)
        #: latest record of each written cell
        self.records: dict[tuple[int, int, int], CellRecord] = {}
        #: every record in the order written (all runs)
        self.history: list[CellRecord] = []
        self._run_info: dict = {}
        self._lock = threading.Lock()
        self.attempt_log = StartLog(None)  #: attempts started by the current run
        #: FAILED records of attempts whose run ended without finishing them (found by cell_state)
        self.died: list[CellRecord] = []
        #: attempts of an ended run that may have ended it (journal.died_attempts); computed alone
        self.suspects: list[Suspect] = []

    def __str__(self) -> str:
        return "<in-memory store>"

    def cell_state(self) -> tuple[np.ndarray, np.ndarray]:
        """(status, attempts); first, attempts a previous run started and never finished (it was
        ended by an exception such as SystemExit) become FAILED "process died" records."""
        with self._lock:
            lines, self.attempt_log = self.attempt_log.lines, StartLog(None)
            attempts = self.attempts.copy()
        with self._lock:
            settled = frozenset((c, r.attempts) for c, r in self.records.items()
                                if r.result is None and is_death(r.error))
        self.died, new = died_attempts(lines, attempts, settled)
        self.write_cells(self.died)
        with self._lock:
            self.suspects = live_suspects(self.suspects + new, self.attempts, self.status)
        with self._lock:
            return self.status.copy(), self.attempts.copy()

    def start_cells(self, attempts: list[Attempt], rank: int, max_attempts: int, per_cell: bool = True,
                    exclusive: bool = False) -> None:
        self.attempt_log.started(attempts, rank, max_attempts, per_cell, exclusive)

    def return_cells(self, attempts: list[Attempt]) -> None:
        self.attempt_log.returned(attempts)

    def write_cells(self, records: RecordBatch | list[CellRecord]) -> None:
        """Record a :class:`RecordBatch` or a list of records (kept as :class:`CellRecord` objects)."""
        if isinstance(records, RecordBatch):
            records = records.records(self.config)
        with self._lock:
            for rec in records:
                index = tuple(int(v) for v in rec.index)
                if self.status[index] == SKIPPED:
                    raise ValueError(f"cell {index} is not requested by the config")
                self.status[index] = DONE if rec.result is not None else FAILED
                self.attempts[index] = rec.attempts
                self.records[index] = rec
                self.history.append(rec)
        self.attempt_log.finished(np.array([rec.index for rec in records], dtype=np.int64).reshape(-1, 3))

    def write_run_info(self, info: dict) -> None:
        info = copy.deepcopy(info)
        with self._lock:
            self._run_info = info

    def read_run_info(self) -> dict:
        with self._lock:
            return copy.deepcopy(self._run_info)

    def close(self) -> None:
        """Nothing to release: the store stays readable and can be resumed."""

    def result(self, index: tuple[int, int, int]) -> CellResult | None:
        """The result of a DONE cell, else None."""
        rec = self.records.get(tuple(index))
        return None if rec is None else rec.result
