"""Stores of format lfvscan-scan/3 (written by lfvscan 724102b, where the final lepton's energy
fraction x_f was named after the tau) are read and resumed by this version (lfvscan.store.legacy_names).

The fixtures tests/data/scan_v3 (README there) are real stores of that version: ``full_store``, the
complete scan of ``tiny.toml``, and ``interrupted_store``, the same scan stopped with cells folded,
cells only in binary journal frames and one cell only in a JSON-line journal log.  The reference
for values is the fixture's own arrays read with zarr under their old names (the test's own
renaming, :func:`_raw`, not lfvscan's mapping); a scan of the same config by this version is the
reference for names, shapes and dtypes, and for the cells a resume computes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lfvscan import cli
from lfvscan.schema import DONE, RESULT_FIELDS
from lfvscan.store import load_scan, store_status
from lfvscan.store.layout import FORMAT
from lfvscan.store.legacy_names import LEGACY_NAMES

from _scan_util import UNDER_MPI

pytestmark = pytest.mark.skipif(UNDER_MPI, reason="serial test (under mpiexec only the MPI tests run)")

DATA = Path(__file__).resolve().parent / "data" / "scan_v3"
CONFIG = DATA / "tiny.toml"
#: result fields that are measurements of the run, not results of the seed
RUN_DEPENDENT = ("seconds",)
COMPARED = tuple(f.name for f in RESULT_FIELDS if f.name not in RUN_DEPENDENT) + ("status", "attempts")


def _copy(name: str, tmp: Path) -> Path:
    dest = tmp / name
    shutil.copytree(DATA / name, dest)
    return dest


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> tuple[Path, Path]:
    """(a copy of the /3 fixture ``full_store``, the same scan done by this version)."""
    tmp = tmp_path_factory.mktemp("v3")
    new = tmp / "new_store"
    assert cli.main(["scan", str(CONFIG), "--store", str(new), "--quiet"]) == 0
    return _copy("full_store", tmp), new


def _raw(store: Path) -> dict:
    """The arrays of a folded store as zarr has them on disk, keyed by this version's names (the
    store's "x_tau" read as "x_f")."""
    import zarr

    group = zarr.open_group(str(store), mode="r")
    return {name.replace("x_tau", "x_f"): group[name][...] for name in group.array_keys()}


def _same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype == object or b.dtype == object:
        return a.shape == b.shape and a.tolist() == b.tolist()
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_fixture_is_a_v3_store_with_the_old_names():
    """The fixture really has the old names (what the tests below read through the mapping)."""
    for store in ("full_store", "interrupted_store"):
        attrs = json.loads((DATA / store / "zarr.json").read_text())["attributes"]
        assert attrs["format"] == "lfvscan-scan/3"
        for new, old in LEGACY_NAMES.items():
            if new.startswith("dsigma") or new == "x_f_edges":
                assert (DATA / store / old).is_dir() and not (DATA / store / new).exists()


def test_load_scan_reads_v3_store_bit_identically(stores):
    """ScanData of the /3 store under the new names holds the store's own arrays bit for bit, with
    the names, shapes and dtypes of a scan by this version."""
    old, new = stores
    a, b, raw = load_scan(old), load_scan(new), _raw(old)
    assert (a.status == DONE).sum() == 9
    assert _same_bits(a.x_f_edges, raw["x_f_edges"]) and _same_bits(a.x_f_edges, b.x_f_edges)
    for name in COMPARED:
        assert _same_bits(a[name], raw[name]), name
        assert np.asarray(a[name]).shape == np.asarray(b[name]).shape, name
        assert np.asarray(a[name]).dtype == np.asarray(b[name]).dtype, name
    assert np.isfinite(a.dsigma_dlnx_f_pb[a.status == DONE]).all()
    assert json.loads((new / "zarr.json").read_text())["attributes"]["format"] == FORMAT == "lfvscan-scan/4"


def test_status_and_verify_read_v3_store(stores, capsys):
    old, new = stores
    sa, sb = store_status(old), store_status(new)
    assert sa["counts"] == sb["counts"] and sa["complete"] and not sa["damaged"]
    assert cli.main(["verify", str(old)]) == 0
    assert "intact" in capsys.readouterr().out


def test_limits_of_v3_store_equal_those_of_its_own_arrays(stores, tmp_path):
    """The limits of the /3 store equal those of a ScanData built from its raw arrays; `lfvscan limits` reads it."""
    from lfvscan.pheno.store_limits import compute_limits_for_store
    from lfvscan.store.scandata import ScanData

    old, _ = stores
    a, raw = load_scan(old), _raw(old)
    arrays = {name: raw[name] for name in COMPARED if name != "status"}
    ref = ScanData(a.targets, a.energies_GeV, a.masses_GeV, raw["x_f_edges"], raw["status"], theta=a.theta,
                   convention=a.convention, attrs=a.attrs, **arrays)
    expected = compute_limits_for_store(ref, experiments=["na64mu"]).limits
    got = compute_limits_for_store(old, experiments=["na64mu"]).limits
    assert [c.key for c in got] == [c.key for c in expected] and got
    for g, e in zip(got, expected):
        assert _same_bits(g.g_lim, e.g_lim) and _same_bits(g.g_lim_err, e.g_lim_err)
    out = tmp_path / "limits"
    assert cli.main(["limits", str(old), "--out", str(out), "--experiments", "na64mu", "--json"]) == 0
    curves = json.loads((out / "limits.json").read_text())["curves"]
    assert any(np.isfinite(v) for c in curves for v in c["g_lim"])  # the tiny scan has finite limits


def test_export_of_v3_store_holds_its_arrays_under_the_new_names(stores, tmp_path):
    h5py = pytest.importorskip("h5py")
    old, new = stores
    raw = _raw(old)
    data = []
    for store in (old, new):
        to = tmp_path / f"{store.name}.h5"
        assert cli.main(["export", str(store), "--to", str(to)]) == 0
        with h5py.File(to, "r") as h5:
            data.append({k: h5[k][...] for k in h5.keys() if isinstance(h5[k], h5py.Dataset)})
    assert data[0].keys() == data[1].keys() and "dsigma_dlnx_f_pb" in data[0] and "x_f_edges" in data[0]
    shared = [k for k in data[0] if k in raw and k not in RUN_DEPENDENT + ("wall_seconds", "rank")]
    assert {"dsigma_dlnx_f_pb", "dsigma_dlnx_f_err_pb", "x_f_edges", "sigma_pb"} <= set(shared)
    for k in shared:
        x, y = data[0][k], raw[k]
        if x.dtype.kind in "OSUT" or y.dtype.kind in "OSUT":  # strings: HDF5 gives bytes, zarr str
            x = np.vectorize(lambda v: v.decode() if isinstance(v, bytes) else str(v), otypes=[object])(x)
            y = np.asarray(y, dtype=object)
            assert x.shape == y.shape and x.tolist() == y.tolist(), k
        else:
            assert _same_bits(x, y), k


def test_interrupted_v3_store_reads_its_journal(tmp_path, stores):
    """The cells only in the /3 store's journal (frames and a JSON-line log naming the old fields) are
    read with their histograms: equal to those of the complete /3 store."""
    full, _ = stores
    a, b = load_scan(_copy("interrupted_store", tmp_path)), load_scan(full)
    done = a.status == DONE
    assert done.sum() == 6 and store_status(tmp_path / "interrupted_store")["counts"]["done"] == 6
    for name in COMPARED[:-2]:
        assert _same_bits(a[name][done], b[name][done]), name
    assert np.isfinite(a.dsigma_dlnx_f_pb[done]).all()


def test_interrupted_v3_store_resumes(tmp_path, stores):
    """A resume of the interrupted /3 store completes it: the cells it held stay bit-identical to the
    complete /3 store, the cells it computes equal those of this version's scan (a cell's result
    depends only on its inputs and seed); the store keeps its format and names on disk, so it stays
    readable by both versions."""
    full, new = stores
    store = _copy("interrupted_store", tmp_path)
    held = load_scan(store).status == DONE
    assert cli.main(["scan", str(CONFIG), "--store", str(store), "--quiet"]) == 0
    a, b, c = load_scan(store), load_scan(full), load_scan(new)
    assert (a.status == DONE).sum() == 9 and 0 < held.sum() < 9
    for name in COMPARED[:-1]:  # attempts: 1 everywhere in both
        assert _same_bits(a[name][held], b[name][held]), name
        assert _same_bits(a[name][~held], c[name][~held]), name
    assert _same_bits(a.x_f_edges, c.x_f_edges)
    assert json.loads((store / "zarr.json").read_text())["attributes"]["format"] == "lfvscan-scan/3"
    assert (store / LEGACY_NAMES["dsigma_dlnx_f_pb"]).is_dir() and not (store / "dsigma_dlnx_f_pb").exists()
    assert not list((store / "journal").glob("*.jnl")) and not list((store / "journal").glob("*.log"))
    assert cli.main(["verify", str(store)]) == 0
