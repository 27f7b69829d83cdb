"""A scan store held in memory: the :class:`~lfvscan.store.backend.ScanBackend` of tests.

``run_scan(config, MemoryStore(config), cell_fn=...)`` runs the real scheduling (plan, retries,
crash attribution, drain on a stop signal, resume) without disk, zarr or subprocesses; the
records written stay readable (:attr:`MemoryStore.records`, :meth:`MemoryStore.result`,
:func:`lfvscan.store.load_scan`) and a second ``run_scan`` on the same object resumes it, as on
disk.
"""

from __future__ import annotations

import copy
import threading

import numpy as np

from lfvscan.schema import COORDINATES, DONE, FAILED, LAB_COORDINATES, SKIPPED, stored_cell_fields
from lfvscan.spec.config import ScanConfig
from lfvscan.store import layout
from lfvscan.store.attempt_log import Attempt, AttemptLog, AttemptRecord, Suspect, decode_records
from lfvscan.store.cell_arrays import empty_cell_arrays, initial_status, put_records
from lfvscan.store.records import CellRecord, RecordBatch
from lfvscan.xsec.result import CellResult


class MemoryStore:
    """Cell state, records, attempt records and run information of one scan, in memory."""

    def __init__(self, config: ScanConfig):
        self.config = config
        self.status = initial_status(config)
        self.attempts = np.zeros(config.shape, dtype=np.int32)
        #: latest record of each written cell
        self.records: dict[tuple[int, int, int], CellRecord] = {}
        #: every record in the order written (all runs)
        self.history: list[CellRecord] = []
        self.attrs = layout.root_attributes(config, "")
        self._run_info: dict = {}
        self._suspects: list[Suspect] = []
        self._lock = threading.Lock()
        #: attempts started since the last settling (:mod:`lfvscan.scan.attribution`); a run that
        #: ended leaves them as its ended log
        self.attempt_log = AttemptLog(None)

    def __str__(self) -> str:
        return "<in-memory store>"

    # ------------------------------------------------------------------ reading
    def cell_state(self) -> tuple[np.ndarray, np.ndarray]:
        """(status, attempts), copies."""
        with self._lock:
            return self.status.copy(), self.attempts.copy()

    def read_attrs(self) -> dict:
        """The attributes a store on disk made for the same config has, with ``units``."""
        attrs = copy.deepcopy(self.attrs)
        lab = self.config.has_collider_target
        attrs["units"] = {f.name: f.unit for f in COORDINATES + (LAB_COORDINATES if lab else ()) + stored_cell_fields(lab)}
        return attrs

    def read_coordinates(self) -> dict[str, np.ndarray]:
        lab = layout.lab_coordinate_values(self.config) if self.config.has_collider_target else {}
        return {**layout.coordinate_values(self.config), **lab}

    def read_cells(self, names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """The per-cell arrays ``names`` (None: all) with every written record put in."""
        arrays = empty_cell_arrays(self.config, layout.dim_sizes(self.config))
        if names is not None:
            arrays = {name: a for name, a in arrays.items() if name in names}
        with self._lock:
            records = list(self.records.values())
        if records:
            put_records(arrays, RecordBatch.from_records(records, self.config.n_xbins))
        return arrays

    def verify(self, refresh: bool = False) -> dict[tuple[int, int], list[str]]:
        """Nothing in memory is damaged: {}."""
        return {}

    def dropped_journal_frames(self) -> int:
        """No journal in memory: 0."""
        return 0

    def result(self, index: tuple[int, int, int]) -> CellResult | None:
        """The result of a DONE cell, else None."""
        rec = self.records.get(tuple(index))
        return None if rec is None else rec.result

    # ------------------------------------------------------------------ writing
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

    # ------------------------------------------------------------------ attempt records
    def start_cells(self, attempts: list[Attempt], rank: int, max_attempts: int, reports_each: bool,
                    exclusive: bool) -> None:
        self.attempt_log.started(attempts, rank, max_attempts, reports_each, exclusive)

    def return_cells(self, attempts: list[Attempt]) -> None:
        self.attempt_log.returned(attempts)

    def ended_attempt_logs(self) -> dict[str, list[AttemptRecord]]:
        """The attempts recorded since the last settling, as one log (read before a run starts)."""
        return {"memory": decode_records(self.attempt_log.lines)} if self.attempt_log.lines else {}

    def discard_attempt_logs(self, names: list[str]) -> None:
        if names:
            self.attempt_log = AttemptLog(None)

    def read_suspects(self) -> list[Suspect]:
        with self._lock:
            return list(self._suspects)

    def keep_suspects(self, suspects: list[Suspect]) -> None:
        with self._lock:
            self._suspects = sorted(set(suspects))
