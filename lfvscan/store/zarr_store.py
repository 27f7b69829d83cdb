"""The scan store on disk: :class:`ScanStore`, the zarr v3 :class:`~lfvscan.store.backend.ScanBackend`.
The layout on disk is described in :mod:`lfvscan.store.layout`; opening one for a scan is
:func:`lfvscan.store.opening.open_for_scan`.

Writing, atomicity and durability (only rank 0 writes; :meth:`ScanStore.write_cells`):

1. *Journal.*  Finished cells (results or failures) are first appended to the store's journal log
   as checksummed binary frames of rows (:mod:`lfvscan.store.journal`), so a ``kill -9`` loses at
   most the cells still being computed (and a worker's results not yet sent).  Values are read
   back bit-identically.
2. *Fold.*  Every ``sync_interval_s`` (default :data:`SYNC_INTERVAL_S` = 30 s), when the cells
   journaled since the last fold hold :data:`SYNC_MAX_BYTES`, and when the store is closed, the
   journal is folded into the zarr arrays (:mod:`lfvscan.store.fold`): each per-cell array has
   one chunk per (target, energy) row holding all masses, so a fold writes one file per array
   and touched row (data first, ``status`` -- the commit marker -- last), and then discards the
   folded logs.  Each chunk file is written atomically (:mod:`lfvscan.store.chunks`), so a reader
   sees the old or the new chunk, never half of one.  A kill during a fold leaves the journal in
   place; the next fold rewrites the same values.
3. *Resume.*  Opening a store for a scan first folds any journal left by a killed run.

File creations are what costs on cluster file systems (milliseconds each on Lustre/GPFS): per
cell the journal creates none (one log per fold interval), and a fold creates ~20 files per
touched row.  A store holds ~20 files per (target, energy) row.  Readers of a running scan see
the arrays as of the last fold plus the journal (:meth:`ScanStore.read_cells`).

Attempt records (:mod:`lfvscan.store.attempt_log`) live in the journal directory too; the run
information side file is :mod:`lfvscan.store.run_info`.  A scan holds the store's writer lock
(:mod:`lfvscan.store.lock`) while it writes.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
import uuid
import warnings
from pathlib import Path

import numpy as np

from lfvscan.errors import UsageError
from lfvscan.schema import COORDINATES, FIELDS, LAB_COORDINATES, stored_cell_fields
from lfvscan.spec.config import ScanConfig, config_from_dict
from lfvscan.store import attempt_log, layout, run_info
from lfvscan.store.attempt_log import Attempt, AttemptLog, AttemptRecord, Suspect
from lfvscan.store.cell_arrays import put_records
from lfvscan.store.chunks import RowCache, clean_partials
from lfvscan.store.fold import Fold
from lfvscan.store.journal import Journal
from lfvscan.store.legacy_names import store_group
from lfvscan.store.lock import try_lock, unlock
from lfvscan.store.records import CellRecord, RecordBatch, as_batch
from lfvscan.store.row_arrays import Damaged, RowArrays

#: default seconds between folds of the journal into the arrays (module docstring, "Writing")
SYNC_INTERVAL_S = 30.0
#: fold as soon as the cells journaled since the last fold hold this many bytes of columns, whatever
#: the interval (bounds rank 0's memory at high cell rates; docs/scaling.md)
SYNC_MAX_BYTES = 256 * 2**20
_CELL_NAMES = frozenset(f.name for f in stored_cell_fields(lab=True))


class ScanStore:
    """A scan store on disk.  Only rank 0 creates or writes one; anybody may read."""

    def __init__(self, path: str | Path, group, writable: bool, sync_interval_s: float = SYNC_INTERVAL_S):
        self.path = Path(path)
        self.group = group = store_group(group)  # under the current names (lfvscan.store.legacy_names)
        self.writable = writable
        #: seconds between folds of the journal into the zarr arrays (see module docstring)
        self.sync_interval_s = sync_interval_s
        self.attrs = dict(group.attrs)
        self.config = layout.store_grid(group, config_from_dict(self.attrs["config"], source=str(self.path)),
                                        self.path)
        self.shape = self.config.shape
        self.n_xbins = self.config.n_xbins
        self.journal = Journal(self.path, self.n_xbins, group.disk_name if group.legacy else None)
        self.attempt_log = AttemptLog(self.journal.dir)  #: attempts started by this run
        self._requested = self.config.requested()
        self._rows = RowCache(self.path, group)  # rows of the single writer
        self._arrays = RowArrays(self.path, group, self._rows, self._requested, writable)
        self._fold = Fold(group, self._rows, self.journal, self.shape[1])
        self._lock_fd: int | None = None
        self._dropped_frames = 0

    def __str__(self) -> str:
        return str(self.path)

    # ------------------------------------------------------------------ creation / opening
    @classmethod
    def create(cls, path: str | Path, config: ScanConfig, config_text: str = "") -> "ScanStore":
        """Create a new store for ``config`` (refuses an existing path); it appears complete or not
        at all (made in a temporary directory, then renamed)."""
        path = Path(path)
        if path.exists():
            raise UsageError(f"store {str(path)!r} already exists")
        tmp = path.with_name(f"{path.name}.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}.creating")
        try:
            layout.create(tmp, config, config_text)
            try:
                os.replace(tmp, path)
            except OSError:
                if (path / "zarr.json").exists():  # another scan created it first: it owns the store
                    raise UsageError(
                        f"store {str(path)!r} was created by another scan at the same moment and is being written by "
                        f"it; see `lfvscan status {path}`, or use another --store") from None
                raise
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)  # disk full, a lost race, a signal: leave nothing behind
            raise
        return cls.open(path, writable=True)

    @classmethod
    def open(cls, path: str | Path, writable: bool = False) -> "ScanStore":
        """Open an existing store (raises :class:`UsageError` if it is not one)."""
        return cls(path, layout.open_group(path, writable), writable)

    def lock(self) -> None:
        """Take the store's writer lock (freed when the process dies).

        Raises :class:`UsageError` if another scan is writing this store.
        """
        fd = try_lock(self.path)
        if fd is None:
            run = self.read_run_info()
            who = f" (pid {run.get('pid')} on {run.get('host')})" if run.get("pid") else ""
            raise UsageError(
                f"store {str(self.path)!r} is being written by another scan{who}; wait for it to finish "
                f"or stop it (SIGTERM), or use another --store"
            )
        self._lock_fd = fd

    def close(self) -> None:
        """Fold the journal into the arrays (if writable) and release the writer lock (if held).

        If the fold fails the journal stays on disk and the next scan folds it (nothing is lost).
        """
        if self.writable and self._fold.unfolded:
            try:
                self.sync()
            except Exception as exc:  # noqa: BLE001 - the journal keeps the results
                warnings.warn(f"could not fold the journal of {str(self.path)!r} ({exc}); the next scan will")
        self.journal.close()
        self.attempt_log.close()
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            unlock(fd)

    def clean_partials(self) -> int:
        """Remove ``*.partial`` leftovers of writes interrupted by a kill; returns how many."""
        return clean_partials(self.path)

    # ------------------------------------------------------------------ reading
    def read(self, name: str) -> np.ndarray:
        """The whole array ``name`` as of the last fold; per-cell arrays never raise on damage: the
        rows found damaged by :meth:`verify` read as not computed."""
        if name not in _CELL_NAMES:
            return np.asarray(self.group[name][...])
        return self._arrays.read(name)

    def verify(self, refresh: bool = False) -> Damaged:
        """Damaged rows: {(i, j): names of the per-cell arrays whose chunk of that row is damaged}
        (:mod:`lfvscan.store.row_arrays`); computed once per open store (``refresh`` recomputes)."""
        return self._arrays.verify(refresh)

    @property
    def has_row_records(self) -> bool:
        """True if the store records where each row chunk belongs (:mod:`lfvscan.store.row_checksums`)."""
        return self._arrays.binding is not None

    def repair(self) -> int:
        """Reset every damaged row to "not computed" so the scan recomputes its cells; returns the
        number of rows reset; warns."""
        return self._arrays.repair()

    def read_attrs(self) -> dict:
        """The root attributes, with ``units``: {schema array name: unit}."""
        attrs = dict(self.attrs)
        attrs["units"] = {name: self.group[name].attrs.get("units", "") for name in self.group.array_keys()
                          if name in FIELDS}
        return attrs

    def read_coordinates(self) -> dict[str, np.ndarray]:
        """The coordinate arrays (:data:`lfvscan.schema.COORDINATES`) the store has."""
        return {f.name: self.read(f.name) for f in COORDINATES + LAB_COORDINATES if f.name in self.group}

    def read_cells(self, names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """The per-cell arrays ``names`` (None: every one the store has) as of now: the folded
        arrays (damaged rows as not computed) with the cells journaled but not folded yet put in,
        so readers agree with ``lfvscan status``."""
        wanted = [f.name for f in stored_cell_fields(lab=True) if f.name in self.group
                  and (names is None or f.name in names)]
        arrays = {name: self.read(name) for name in wanted}
        latest, _, self._dropped_frames = self.journal.read_all()
        if latest is not None:
            put_records(arrays, latest)
        return arrays

    def dropped_journal_frames(self) -> int:
        """Torn or corrupt journal frames skipped by the last :meth:`read_cells` (their cells read as
        not computed; a kill in the middle of an append leaves one)."""
        return self._dropped_frames

    def cell_state(self) -> tuple[np.ndarray, np.ndarray]:
        """(status, attempts) arrays over (target, energy, mass), every written record applied."""
        cells = self.read_cells(("status", "attempts"))
        return cells["status"], cells["attempts"]

    # ------------------------------------------------------------------ writing
    def write_cells(self, records: RecordBatch | list[CellRecord]) -> None:
        """Record finished cells (a :class:`RecordBatch` or a list of records): appended to the
        journal now, folded into the arrays every ``sync_interval_s`` seconds, when
        :data:`SYNC_MAX_BYTES` have accumulated, and on :meth:`close` (module docstring, "Writing")."""
        if not self.writable:
            raise RuntimeError("store opened read-only")
        batch = as_batch(records, self.n_xbins)
        if not len(batch):
            return
        unrequested = ~self._requested[batch.index[:, 0], batch.index[:, 1]]
        if unrequested.any():
            raise ValueError(f"cell {tuple(int(v) for v in batch.index[unrequested][0])} is not requested by the config")
        self.journal.append(batch)  # shapes were checked per cell on arrival (lfvscan.scan.cells)
        self._fold.add(batch)
        self.attempt_log.finished(batch.index)
        if (time.monotonic() - self._fold.last_sync >= self.sync_interval_s
                or self._fold.pending_bytes >= SYNC_MAX_BYTES):
            self.sync()

    def replay_journal(self) -> int:
        """Fold the journal left by an interrupted run into the arrays; returns how many cells."""
        latest, logs, bad = self.journal.read_all()
        if bad:
            warnings.warn(f"{str(self.path)!r}: {bad} torn or corrupt journal frame(s) skipped (cells cut off by a "
                          "kill; they are computed again)")
        self._fold.replayed_logs = logs
        if latest is None:
            self.journal.discard(logs)
            return 0
        self._fold.add(latest)
        self.sync()
        return len(latest)

    def sync(self) -> None:
        """Fold the journaled cells into the arrays (:meth:`lfvscan.store.fold.Fold.sync`)."""
        self._fold.sync()

    # ------------------------------------------------------------------ attempt records
    def start_cells(self, attempts: list[Attempt], rank: int, max_attempts: int, reports_each: bool,
                    exclusive: bool) -> None:
        """Record attempts about to start on ``rank`` (before they start)."""
        if not self.writable:
            raise RuntimeError("store opened read-only")
        self.attempt_log.started(attempts, rank, max_attempts, reports_each, exclusive)

    def return_cells(self, attempts: list[Attempt]) -> None:
        """Record attempts handed out but given back uncomputed (a drain)."""
        self.attempt_log.returned(attempts)

    def ended_attempt_logs(self) -> dict[str, list[AttemptRecord]]:
        """The attempt logs runs left behind ({name: lines}); read before this run starts cells."""
        return attempt_log.ended_logs(self.journal.dir)

    def discard_attempt_logs(self, names: list[str]) -> None:
        attempt_log.discard_logs(self.journal.dir, names)

    def read_suspects(self) -> list[Suspect]:
        return attempt_log.read_suspects(self.journal.dir)

    def keep_suspects(self, suspects: list[Suspect]) -> None:
        attempt_log.write_suspects(self.journal.dir, suspects)

    # ------------------------------------------------------------------ run info side file
    def write_run_info(self, info: dict) -> None:
        """Replace the run information side file atomically."""
        run_info.write_run_info(self.path, info)

    def read_run_info(self) -> dict:
        """The run information side file ({} if absent or unreadable)."""
        return run_info.read_run_info(self.path)
