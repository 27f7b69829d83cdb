"""Finished cells as the store records them: one :class:`CellRecord`, or a columnar :class:`RecordBatch`.

A *record* is what a scan writes for one finished cell attempt: its result (DONE) or an error
message (FAILED), with the bookkeeping of :data:`lfvscan.schema.BOOK_FIELDS` (wall time, rank,
attempts).  The unit that moves between ranks, into the journal and into the zarr arrays is a
:class:`RecordBatch`: the same records as one numpy structured array:

* a worker packs the cells it finished in the last ~0.25 s into one batch, one MPI message
  (:mod:`lfvscan.scan.mpi`), instead of one message of Python objects per cell;
* rank 0 appends a batch to the journal as one binary frame holding the rows' raw bytes
  (:func:`lfvscan.store.frames.encode_batch`) and folds it into the row chunks with one numpy
  assignment per (row chunk, field) per fold (:mod:`lfvscan.store.fold`), so its cost per cell is
  microseconds (pickling, JSON and base64 of one object per cell would cost ~150 us).

Row layout (:func:`row_dtype`, ``nb`` x_f bins, little-endian): ``index`` (3,) int32 (target,
energy, mass), ``done`` bool, ``wall_seconds`` [s] float64, ``rank`` int32, ``attempts`` int32, then
every :data:`lfvscan.schema.RESULT_FIELDS` quantity with its schema dtype, per-bin ones as (nb,)
sub-arrays, then, in batches holding collider cells (``n_lab > 0``), the lab-frame histograms of
:data:`lfvscan.schema.LAB_FIELDS` as (n_lab,) sub-arrays (NaN for cells without them); batches of
fixed-target cells have no such columns, so their rows are as long as without lab histograms.  A
FAILED record's result fields hold the schema's fill value and its message is in ``errors``.
Schema-driven: a field added to the schema is a column here without any change.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from lfvscan.schema import LAB_FIELDS, RESULT_FIELDS
from lfvscan.xsec.labframe import N_LAB_ACC, N_LAB_BINS, lab_field_values, lab_from_field_values
from lfvscan.xsec.result import CellResult

#: bookkeeping columns of a batch besides ``index`` and ``done`` (CellRecord attributes of the same name)
BOOK_COLUMNS = (("wall_seconds", "f8"), ("rank", "i4"), ("attempts", "i4"))


@dataclass
class CellRecord:
    """What the store records for one cell: a result (DONE) or an error message (FAILED)."""

    index: tuple[int, int, int]
    result: CellResult | None
    error: str
    wall_seconds: float  #: wall time of the cell on its rank [s]
    rank: int
    attempts: int


def _dtype(f) -> str:
    return "|b1" if f.dtype == "bool" else np.dtype(f.dtype).newbyteorder("<").str


@functools.lru_cache(maxsize=16)
def row_dtype(n_xbins: int, n_lab: int = 0) -> np.dtype:
    """The numpy structured dtype of one record (little-endian, packed): the book columns, then
    every result field, per-bin ones as (n_xbins,) sub-arrays, then with ``n_lab`` > 0 the lab
    histograms as (n_lab,) sub-arrays (module docstring)."""
    book = [("index", "<i4", (3,)), ("done", "|b1")] + [(name, np.dtype(dt).newbyteorder("<").str)
                                                       for name, dt in BOOK_COLUMNS]
    lab = [(f.name, _dtype(f), (_lab_size(f, n_lab),)) for f in LAB_FIELDS] if n_lab else []
    return np.dtype(book + [(f.name, _dtype(f), (n_xbins,)) if f.per_bin else (f.name, _dtype(f)) for f in RESULT_FIELDS]
                    + lab)


_FILL = tuple(f.fill for f in RESULT_FIELDS)
#: a per-bin field: its sub-array length is a batch's number of x_f bins
PER_BIN_FIELD = next(f.name for f in RESULT_FIELDS if f.per_bin)
#: a lab-histogram field: its sub-array length is a batch's number of lab bins (absent: 0)
LAB_FIELD = LAB_FIELDS[0].name
_NAMES = tuple(f.name for f in RESULT_FIELDS)
_LAB_NAMES = tuple(f.name for f in LAB_FIELDS)


def _lab_size(f, n_lab: int) -> int:
    """Sub-array length of lab field ``f``: ``n_lab`` bins, or the acceptance sets of the grid."""
    return n_lab if f.per_lab_bin else N_LAB_ACC


def n_lab_of(dtype: np.dtype) -> int:
    """Lab bins of a row dtype (0 without lab columns)."""
    return int(dtype[LAB_FIELD].shape[0]) if LAB_FIELD in (dtype.names or ()) else 0


def _row(rec: CellRecord, n_lab: int) -> tuple:
    """One record as a tuple in :func:`row_dtype` order (numpy converts it in C)."""
    head = (rec.index, rec.result is not None, rec.wall_seconds, rec.rank, rec.attempts)
    lab = ()
    if n_lab:
        got = None if rec.result is None or rec.result.lab is None else lab_field_values(rec.result.lab)
        lab = tuple(np.full(_lab_size(f, n_lab), np.nan) if got is None else got[f.name] for f in LAB_FIELDS)
    if rec.result is None:
        return head + _FILL + lab
    r = rec.result
    return head + tuple([getattr(r, name) for name in _NAMES]) + lab


class RecordBatch:
    """Finished cells as columns (module docstring): a structured array ``rows`` of
    :func:`row_dtype` and the messages of the FAILED rows.  Later rows of the same cell replace
    earlier ones.  Columns: ``index`` (n, 3), ``done``, ``wall_seconds``, ``rank``, ``attempts``,
    and ``values[name]`` for each result field (views into ``rows``)."""

    __slots__ = ("rows", "errors")

    def __init__(self, rows: np.ndarray, errors: dict[int, str] | None = None):
        self.rows = rows
        self.errors: dict[int, str] = errors or {}  #: row -> message of a FAILED row

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"<RecordBatch of {len(self)} cells, {int(self.done.sum())} done>"

    index = property(lambda self: self.rows["index"], doc="(n, 3) int32 cell indices")
    done = property(lambda self: self.rows["done"], doc="(n,) bool: result (DONE) or failure (FAILED)")
    wall_seconds = property(lambda self: self.rows["wall_seconds"], doc="(n,) wall time of the cells [s]")
    rank = property(lambda self: self.rows["rank"], doc="(n,) rank that computed the cells")
    attempts = property(lambda self: self.rows["attempts"], doc="(n,) attempt numbers")

    @property
    def values(self) -> dict[str, np.ndarray]:
        """Result field name -> its column, (n,), (n, n_xbins) or (n, n_lab) (views; lab histograms only
        in batches that have them)."""
        return {name: self.rows[name] for name in _NAMES + (_LAB_NAMES if self.n_lab else ())}

    @property
    def n_xbins(self) -> int:
        return int(self.rows.dtype[PER_BIN_FIELD].shape[0])

    @property
    def n_lab(self) -> int:
        """Lab bins of the batch's lab-histogram columns (0: none, a batch of fixed-target cells)."""
        return n_lab_of(self.rows.dtype)

    def with_lab(self, n_lab: int) -> "RecordBatch":
        """The batch with lab columns of ``n_lab`` bins (NaN where it had none); itself if it has them."""
        if self.n_lab == n_lab:
            return self
        rows = RecordBatch.empty(len(self), self.n_xbins, n_lab).rows
        for name in self.rows.dtype.names:
            rows[name] = self.rows[name]
        return RecordBatch(rows, dict(self.errors))

    @property
    def nbytes(self) -> int:
        """Memory of the rows [bytes] (messages are strings besides)."""
        return int(self.rows.nbytes)

    def error(self, row: int) -> str:
        """Message of row ``row`` ('' for a DONE row)."""
        return "" if self.done[row] else (self.errors.get(row) or "unknown error")

    # ------------------------------------------------------------------ building
    @classmethod
    def empty(cls, n: int, n_xbins: int, n_lab: int = 0) -> "RecordBatch":
        """``n`` rows holding fill values (not done, index 0) to be filled in."""
        rows = np.zeros(n, dtype=row_dtype(n_xbins, n_lab))
        rows["wall_seconds"] = np.nan
        for f in RESULT_FIELDS + (LAB_FIELDS if n_lab else ()):
            rows[f.name] = f.fill
        return cls(rows)

    @classmethod
    def from_records(cls, records: list[CellRecord], n_xbins: int) -> "RecordBatch":
        """Columns of ``records`` (results must have ``n_xbins`` bins: the engine checks each cell);
        lab columns if a result has lab histograms (a collider cell)."""
        n_lab = N_LAB_BINS if any(rec.result is not None and rec.result.lab is not None for rec in records) else 0
        rows = np.array([_row(rec, n_lab) for rec in records], dtype=row_dtype(n_xbins, n_lab))
        return cls(rows, {i: rec.error for i, rec in enumerate(records) if rec.result is None})

    @classmethod
    def concat(cls, batches: list["RecordBatch"]) -> "RecordBatch":
        """One batch of the rows of ``batches`` in order (all with the same number of bins; lab columns
        if one of them has them)."""
        if len(batches) == 1:
            return batches[0]
        n_lab = max(b.n_lab for b in batches)
        batches = [b.with_lab(n_lab) for b in batches]
        errors, offset = {}, 0
        for b in batches:
            errors.update({offset + r: m for r, m in b.errors.items()})
            offset += len(b)
        return cls(_joined([b.rows for b in batches]), errors)

    def take(self, rows) -> "RecordBatch":
        """The batch of rows ``rows`` (an index array, in that order)."""
        rows = np.asarray(rows, dtype=np.intp)
        where = {int(r): i for i, r in enumerate(rows)}
        return RecordBatch(self.rows[rows], {where[r]: m for r, m in self.errors.items() if r in where})

    def latest(self) -> "RecordBatch":
        """The last row of each cell, in their order (a later record of a cell replaces an earlier one)."""
        if len(self) < 2:
            return self
        index = self.index.astype(np.int64)
        keys = np.ravel_multi_index(tuple(index.T), tuple(index.max(axis=0) + 1))
        _, first_from_end = np.unique(keys[::-1], return_index=True)
        if len(first_from_end) == len(self):
            return self
        return self.take(np.sort(len(self) - 1 - first_from_end))

    # ------------------------------------------------------------------ reading back
    def record(self, row: int, config) -> CellRecord:
        """Row ``row`` as a :class:`CellRecord`; the result's cell coordinates, x_f grid, theta and
        convention come from ``config`` (a :class:`lfvscan.spec.config.ScanConfig`)."""
        i, j, k = (int(v) for v in self.index[row])
        result = None
        if self.done[row]:
            from lfvscan.xsec.result import x_f_edges

            energy = float(config.energies_GeV[j])
            r = self.rows[row]
            kw = {f.name: (np.array(r[f.name], dtype=float) if f.per_bin else r[f.name].item()) for f in RESULT_FIELDS}
            name = config.target_names[i]
            lab = lab_from_field_values({n: r[n] for n in _LAB_NAMES}, energy) if self.n_lab else None
            result = CellResult(target=name, energy_GeV=energy, mass_GeV=float(config.masses_GeV[k]), theta=config.theta,
                                convention=config.convention, lab=lab,
                                x_f_edges=x_f_edges(config.x_edge_energy(name, energy), self.n_xbins,
                                                        config.lepton_pair().final.mass),
                                **kw)
        return CellRecord((i, j, k), result, self.errors.get(row, "") if not self.done[row] else "",
                          float(self.wall_seconds[row]), int(self.rank[row]), int(self.attempts[row]))

    def records(self, config) -> list[CellRecord]:
        return [self.record(r, config) for r in range(len(self))]


def _joined(rows: list[np.ndarray]) -> np.ndarray:
    """The rows of ``rows`` in one array: their bytes joined when they share one dtype (a fold joins
    one single-row batch per cell of a serial run, and ``numpy.concatenate`` promotes the
    structured dtype once per input: ~0.1 ms each)."""
    dtype = rows[0].dtype
    if all(r.dtype is dtype or r.dtype == dtype for r in rows):
        return np.frombuffer(bytearray(b"".join(np.ascontiguousarray(r).tobytes() for r in rows)), dtype=dtype)
    return np.concatenate(rows)


def as_batch(records: "RecordBatch | list[CellRecord]", n_xbins: int) -> RecordBatch:
    """A :class:`RecordBatch` from a batch (as is) or a list of records."""
    return records if isinstance(records, RecordBatch) else RecordBatch.from_records(list(records), n_xbins)
