"""Checks that lfvscan.schema drives the store (used by test_store.py).

Everything here iterates whatever ``lfvscan.schema`` is loaded, so test_store.py also runs it in
a subprocess on a schema.py with added lines: the new quantities must then appear in CellResult,
the created store, the journal and ScanData without any other change.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np

from lfvscan.physics.constants import M_TAU
from lfvscan.schema import BOOK_FIELDS, CELL_FIELDS, COORDINATES, FIELDS, RESULT_FIELDS, DONE, FAILED, Field
from lfvscan.spec.config import parse_config
from lfvscan.store import load_scan, open_for_scan
from lfvscan.store.frames import decode_frames, encode_batch
from lfvscan.store.legacy_journal import decode_record
from lfvscan.store.records import CellRecord, RecordBatch
from lfvscan.xsec.result import CellResult, x_f_edges

from _legacy_journal import encode_record
from _scan_util import SMALL_TOML

DONE_CELL, FAILED_CELL = (1, 3, 4), (0, 1, 2)


def small_config():
    return parse_config(tomllib.loads(SMALL_TOML.format(store="s.zarr", seed=7, max_attempts=3)))


def _value(f: Field, nb: int, rng: np.random.Generator):
    """An awkward value of field ``f``, different from its fill value."""
    if f.per_bin:
        v = rng.standard_normal(nb) / 3
        v[:3] = [-0.0, 5e-324, np.inf]
        return v
    if f.dtype == "bool":
        return True
    if f.dtype.startswith("i"):
        return int(rng.integers(1, np.iinfo(f.dtype).max))
    return float(rng.standard_normal() / 3)


def sample_record(cfg, ijk, seed: int = 1) -> CellRecord:
    """A finished cell with a distinct value in every schema result field."""
    rng = np.random.default_rng(seed)
    i, j, k = ijk
    energy = cfg.energies_GeV[j]
    kw = {"target": cfg.target_names[i], "energy_GeV": energy, "mass_GeV": cfg.masses_GeV[k],
          "x_f_edges": x_f_edges(energy, cfg.n_xbins, M_TAU), "theta": cfg.theta, "convention": cfg.convention}
    kw.update({f.name: _value(f, cfg.n_xbins, rng) for f in RESULT_FIELDS})
    return CellRecord(ijk, CellResult(**kw), "", 0.375, 1, 2)


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def check_cell_result_fields() -> None:
    """CellResult = the cell, its x_f grid, theta, convention, meta and the schema result fields."""
    from dataclasses import fields

    names = [f.name for f in fields(CellResult)]
    extra = ["target", "energy_GeV", "mass_GeV", "x_f_edges", "theta", "convention", "lab", "meta"]
    assert sorted(n for n in names if n not in extra) == sorted(f.name for f in RESULT_FIELDS), names
    assert len(names) == len(RESULT_FIELDS) + len(extra)


def check_journal_round_trip(rec: CellRecord, cfg) -> None:
    """Every result field and record attribute reads back bit-exactly, with its Python type, from
    a journal frame and from a JSON line (the format of lfvscan 0.1.0, read too)."""
    (batch,), bad = decode_frames(encode_batch(RecordBatch.from_records([rec], cfg.n_xbins)))
    assert bad == 0
    _check_same_record(rec, batch.record(0, cfg))
    _check_same_record(rec, decode_record(encode_record(rec)))


def _check_same_record(rec: CellRecord, back: CellRecord) -> None:
    assert back is not None and back.index == tuple(rec.index)
    for name in ("error", "wall_seconds", "rank", "attempts"):
        assert getattr(back, name) == getattr(rec, name), name
    if rec.result is None:
        assert back.result is None
        return
    for f in RESULT_FIELDS:
        a, b = getattr(rec.result, f.name), getattr(back.result, f.name)
        assert type(a) is type(b) and _same(a, b), f.name
    assert _same(rec.result.x_f_edges, back.result.x_f_edges)


def check_store_arrays(path: Path, cfg) -> None:
    """The store holds exactly the schema's arrays, each with its units, description, dims, dtype,
    fill value, shape and chunking (row chunks, uncompressed numeric per-cell arrays)."""
    import zarr

    g = zarr.open_group(str(path), mode="r")
    # a fixed-target scan: no lab-frame histograms nor their grids (docs/physics.md §7.16)
    stored = COORDINATES + CELL_FIELDS
    assert sorted(g.array_keys()) == sorted([f.name for f in stored] + ["row_checksums"])  # + where each row chunk belongs
    nT, nE, nM = cfg.shape
    nb = cfg.n_xbins
    sizes = {"target": nT, "energy_GeV": nE, "mass_GeV": nM, "x_f_bin": nb, "x_f_edge": nb + 1}
    for f in stored:
        a = g[f.name]
        assert a.attrs["units"] == f.unit and a.attrs["description"] == f.description, f.name
        assert tuple(a.metadata.dimension_names) == f.dims, f.name
        shape = tuple(sizes[d] for d in f.dims)
        assert a.shape == shape, f.name
        if f.dtype == "str":
            assert a.dtype.kind in "OTU" and a.fill_value == f.fill, f.name
        else:
            assert a.dtype == np.dtype(f.dtype), f.name
            assert (math.isnan(a.fill_value) and math.isnan(f.fill)) if f.dtype[0] == "f" else a.fill_value == f.fill
        if f in COORDINATES:
            assert a.chunks == shape, f.name
        else:
            assert a.chunks == (1, 1) + shape[2:], f.name
            # every chunk ends with its CRC-32C (zarr crc32c codec); only text is also compressed
            assert [type(c).__name__ for c in a.compressors] == (
                ["ZstdCodec", "Crc32cCodec"] if f.dtype == "str" else ["Crc32cCodec"]), f.name


def check_load_scan(path: Path, done: CellRecord, failed: CellRecord) -> None:
    """ScanData carries every schema array, with the values written and the schema's dims/units."""
    d = load_scan(path)
    assert sorted(d.arrays) == sorted(f.name for f in CELL_FIELDS)
    for f in CELL_FIELDS:
        assert getattr(d, f.name) is d[f.name] and d.dims(f.name) == f.dims and d.unit(f.name) == f.unit
        assert d.attrs["units"][f.name] == f.unit
        assert d[f.name].shape == tuple(d.sizes[dim] for dim in f.dims)
    for f in RESULT_FIELDS:
        want = np.asarray(getattr(done.result, f.name), dtype=f.dtype)
        assert _same(d[f.name][done.index], want), f.name
    for f in BOOK_FIELDS:
        want = {"status": DONE, "error": ""}.get(f.name, getattr(done, f.name, None))
        assert d[f.name][done.index] == want, f.name
    assert d.status[failed.index] == FAILED and d.error[failed.index] == failed.error
    assert d.attempts[failed.index] == failed.attempts and np.isnan(d.sigma_pb[failed.index])


def check_all(tmp_path: Path) -> None:
    """All the checks above on a store created and written in ``tmp_path``."""
    cfg = small_config()
    done = sample_record(cfg, DONE_CELL)
    failed = CellRecord(FAILED_CELL, None, "RuntimeError: x", 0.5, 0, 3)
    check_cell_result_fields()
    check_journal_round_trip(done, cfg)
    check_journal_round_trip(failed, cfg)
    store, _ = open_for_scan(tmp_path / "s.zarr", cfg)
    store.write_cells([done, failed])
    store.close()
    check_store_arrays(tmp_path / "s.zarr", cfg)
    check_load_scan(tmp_path / "s.zarr", done, failed)
