"""Per-cell arrays of a scan over (target, energy, mass[, x_f bin]) and records put into them.

What every backend's read side (:meth:`lfvscan.store.backend.ScanBackend.read_cells`) returns:
one array per :data:`lfvscan.schema.CELL_FIELDS` field, holding the schema's fill value until a
record is put in (``status`` PENDING, or SKIPPED where the config does not request the cell).
"""

from __future__ import annotations

import numpy as np

from lfvscan.schema import BOOK_FIELDS, DONE, FAILED, LAB_FIELDS, PENDING, RESULT_FIELDS, SKIPPED, stored_cell_fields
from lfvscan.spec.config import ScanConfig
from lfvscan.store.records import RecordBatch

#: bookkeeping arrays holding the CellRecord attribute of the same name
RECORD_FIELDS = tuple(f for f in BOOK_FIELDS if f.name not in ("error", "status"))


def initial_status(config: ScanConfig) -> np.ndarray:
    """Status codes of a new store: PENDING where ``config`` requests the cell, else SKIPPED (int8)."""
    requested = np.broadcast_to(config.requested()[:, :, None], config.shape)
    return np.where(requested, PENDING, SKIPPED).astype(np.int8)


def empty_cell_arrays(config: ScanConfig, shapes: dict[str, int]) -> dict[str, np.ndarray]:
    """Every per-cell array of a new store for ``config``; ``shapes``: the length of every
    dimension (:func:`lfvscan.store.layout.dim_sizes`)."""
    arrays = {}
    for f in stored_cell_fields(config.has_collider_target):
        shape = tuple(shapes[d] for d in f.dims)
        if f.name == "status":
            arrays[f.name] = initial_status(config)
        elif f.dtype == "str":
            arrays[f.name] = np.full(shape, f.fill, dtype=object)
        else:
            arrays[f.name] = np.full(shape, f.fill, dtype=f.dtype)
    return arrays


def put_records(arrays: dict[str, np.ndarray], batch: RecordBatch) -> None:
    """Put the latest row of each cell of ``batch`` into those of ``arrays`` (in place; any subset of the per-cell arrays): result fields only
    where DONE, bookkeeping and status always, the error message ('' after a success)."""
    b = batch.latest()
    if not len(b):
        return
    cells = tuple(b.index.T)
    ok = tuple(b.index[b.done].T)
    for f in RESULT_FIELDS + LAB_FIELDS:
        if f.name in arrays and f.name in b.rows.dtype.names:
            arrays[f.name][ok] = b.rows[f.name][b.done]
    for f in RECORD_FIELDS:
        if f.name in arrays:
            arrays[f.name][cells] = getattr(b, f.name)
    if "status" in arrays:
        arrays["status"][cells] = np.where(b.done, DONE, FAILED)
    if "error" in arrays:
        for r in range(len(b)):
            arrays["error"][tuple(b.index[r])] = b.error(r)
