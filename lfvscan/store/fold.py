"""Folding journaled records into a store's row chunks: :class:`Fold`.

Records are put into the cached row chunks in one vectorised pass per fold (one numpy assignment
per (row chunk, field)); :meth:`Fold.sync` then writes each touched row of every data array, the
error messages, and the ``status`` rows last (the commit marker: a cell counts as present only
once its ``status`` chunk says DONE/FAILED), and discards the folded journal logs.  In stores with
row records (:mod:`lfvscan.store.row_checksums`) each touched row's record is written before its
chunks (accepting the old and the new ones) and after them (the new ones only).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from lfvscan.schema import DONE, FAILED, FIELDS, LAB_FIELDS, RESULT_FIELDS, stored_cell_fields
from lfvscan.store import row_checksums
from lfvscan.store.cell_arrays import RECORD_FIELDS
from lfvscan.store.chunks import RowCache, write_chunk
from lfvscan.store.journal import Journal
from lfvscan.store.records import RecordBatch
from lfvscan.store.row_checksums import chunk_crc



def data_fields(group) -> tuple:
    """The arrays a fold writes as raw row chunks before the status rows, in store order (the lab
    histograms only in a store that has them)."""
    return tuple(f for f in stored_cell_fields(LAB_FIELDS[0].name in group) if f.dtype != "str" and f.name != "status")


class Fold:
    """Records journaled but not yet folded into the arrays of one store (its single writer's)."""

    def __init__(self, group, rows: RowCache, journal: Journal, n_energies: int):
        self.group = group
        self.rows = rows
        self.journal = journal
        self.n_energies = n_energies
        self.pending: list[RecordBatch] = []  # journaled, not yet folded
        self.pending_bytes = 0
        self.last_sync = time.monotonic()
        self.replayed_logs: list[Path] = []  # logs replayed at open, discarded by the next sync
        self._dirty: set[tuple[int, int]] = set()  # rows changed in the cache, not yet written
        self._errors: dict[tuple[int, int], dict[int, str]] = {}  # messages to fold, per row
        #: (store_id, arrays) of the store's row records (None: a store without them)
        self.binding = row_checksums.binding(group)
        self._data_fields = data_fields(group)
        #: every raw array a fold writes: the data, then ``status``
        self._written = self._data_fields + (FIELDS["status"],)
        #: result arrays the store has (the lab histograms only in a store of a scan with a collider target)
        self._results = RESULT_FIELDS + tuple(f for f in LAB_FIELDS if f.name in group)

    def add(self, batch: RecordBatch) -> None:
        """A journaled batch to fold at the next :meth:`sync`."""
        self.pending.append(batch)
        self.pending_bytes += batch.nbytes

    @property
    def unfolded(self) -> bool:
        return bool(self.pending or self._dirty)

    def _apply(self, b: RecordBatch) -> None:
        """Put the rows of ``b`` into the cached row chunks (result columns only where DONE)."""
        b = b.latest()
        rows = b.index[:, 0].astype(np.int64) * self.n_energies + b.index[:, 1]
        order = np.argsort(rows, kind="stable")
        starts = np.flatnonzero(np.diff(rows[order], prepend=-1))
        for sel in np.split(order, starts[1:]):
            i, j = (int(v) for v in b.index[sel[0], :2])
            ks = b.index[sel, 2]
            done = b.done[sel]
            if done.any():
                good, kd = sel[done], ks[done]
                for f in self._results:
                    if f.name in b.rows.dtype.names:  # lab histograms: only batches holding collider cells
                        self.rows.row(f.name, i, j)[kd] = b.rows[f.name][good]
            for f in RECORD_FIELDS:
                self.rows.row(f.name, i, j)[ks] = getattr(b, f.name)[sel]
            self.rows.row("status", i, j)[ks] = np.where(done, DONE, FAILED)
            msgs = self._errors.setdefault((i, j), {})
            for r, k in zip(sel.tolist(), ks.tolist()):
                msgs[k] = b.error(r)
            self._dirty.add((i, j))

    def sync(self) -> None:
        """Fold the pending records into the arrays: data rows first, then the status rows (the
        commit marker), then delete their journal files."""
        self.last_sync = time.monotonic()
        if self.pending:
            self._apply(RecordBatch.concat(self.pending))
            self.pending = []
        if not self._dirty:
            return
        rows = sorted(self._dirty)
        new = {(f.name, i, j): self.rows.encode(f.name, i, j) for f in self._written for i, j in rows}
        if self.binding:  # accept old and new chunks while they are written (lfvscan.store.row_checksums)
            self._write_records(rows, lambda name, i, j: (self.rows.disk_crc(name, i, j),
                                                          chunk_crc(new[name, i, j]) if (name, i, j) in new
                                                          else row_checksums.ANY))
        for f in self._data_fields:
            for i, j in rows:
                self.rows.write(f.name, i, j, new[f.name, i, j])
        self._fold_errors()
        for i, j in rows:
            self.rows.write("status", i, j, new["status", i, j])
        if self.binding:
            self._write_records(rows, lambda name, i, j: (self.rows.disk_crc(name, i, j),) * 2)
        self.journal.discard(self.replayed_logs + self.journal.open_logs())
        self.replayed_logs = []
        self._dirty.clear()
        self.pending_bytes = 0

    def _write_records(self, rows: list[tuple[int, int]], accepted) -> None:
        """Write the record of each row of ``rows``: ``accepted(name, i, j)`` -> the (a, b) CRC-32C
        values its chunk of array ``name`` may have (:mod:`lfvscan.store.row_checksums`)."""
        store_id, arrays = self.binding
        for i, j in rows:
            record = row_checksums.encode(store_id, i, j, {name: accepted(name, i, j) for name in arrays}, arrays)
            write_chunk(self.rows.root, row_checksums.NAME, (i, j, 0), record, self.rows.dirs)

    def _fold_errors(self) -> None:
        """Error messages ('' after a success): vlen strings through zarr (atomic writes, zarr >=
        3.1.3), each touched row rewritten only if it changes."""
        for (i, j), msgs in sorted(self._errors.items()):
            errs = np.array(self.group["error"][i, j], dtype=object)
            new = errs.copy()
            for k, msg in msgs.items():
                new[k] = msg
            if not np.array_equal(new, errs):
                self.group["error"][i, j] = new
            self.rows.forget_crc("error", i, j)  # zarr wrote it: read its CRC-32C from disk when needed
        self._errors.clear()
