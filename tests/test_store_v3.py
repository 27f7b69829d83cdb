"""Stores of format lfvscan-scan/3 (written by lfvscan 724102b, where the final lepton's energy
fraction x_f was named after the tau) are read and resumed by this version (lfvscan.store.legacy_names).

The fixtures tests/data/scan_v3 (README there) are real stores of that version: ``full_store``, the
complete scan of ``tiny.toml``, and ``interrupted_store``, the same scan stopped with cells folded,
cells only in binary journal frames and one cell only in a JSON-line journal log.  The reference
is the same scan done by this version (same seed: the values must be bit-identical).
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
    """ScanData of the /3 store under the new names equals that of the new scan, bit for bit."""
    old, new = stores
    a, b = load_scan(old), load_scan(new)
    assert (a.status == DONE).sum() == 9
    assert _same_bits(a.x_f_edges, b.x_f_edges)
    for name in COMPARED:
        assert _same_bits(a[name], b[name]), name
    assert np.isfinite(a.dsigma_dlnx_f_pb[a.status == DONE]).all()
    assert json.loads((new / "zarr.json").read_text())["attributes"]["format"] == FORMAT == "lfvscan-scan/4"


def test_status_and_verify_read_v3_store(stores, capsys):
    old, new = stores
    sa, sb = store_status(old), store_status(new)
    assert sa["counts"] == sb["counts"] and sa["complete"] and not sa["damaged"]
    assert cli.main(["verify", str(old)]) == 0
    assert "intact" in capsys.readouterr().out


def test_limits_of_v3_store_equal_those_of_the_new_scan(stores, tmp_path):
    old, new = stores
    curves = []
    for store in (old, new):
        out = tmp_path / store.name
        assert cli.main(["limits", str(store), "--out", str(out), "--experiments", "na64mu", "--json"]) == 0
        curves.append(json.loads((out / "limits.json").read_text())["curves"])
    assert curves[0] == curves[1]
    assert any(np.isfinite(v) for c in curves[0] for v in c["g_lim"])  # the tiny scan has finite limits


def test_export_of_v3_store_equals_that_of_the_new_scan(stores, tmp_path):
    h5py = pytest.importorskip("h5py")
    old, new = stores
    data = []
    for store in (old, new):
        to = tmp_path / f"{store.name}.h5"
        assert cli.main(["export", str(store), "--to", str(to)]) == 0
        with h5py.File(to, "r") as h5:
            data.append({k: h5[k][...] for k in h5.keys() if isinstance(h5[k], h5py.Dataset)})
    assert data[0].keys() == data[1].keys() and "dsigma_dlnx_f_pb" in data[0] and "x_f_edges" in data[0]
    for k in data[0]:
        if k not in RUN_DEPENDENT + ("wall_seconds", "rank"):
            assert _same_bits(data[0][k], data[1][k]), k


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
    """A resume of the interrupted /3 store completes it bit-identically to the complete scan; the
    store keeps its format and names on disk, so it stays readable by both versions."""
    full, new = stores
    store = _copy("interrupted_store", tmp_path)
    assert cli.main(["scan", str(CONFIG), "--store", str(store), "--quiet"]) == 0
    a, b = load_scan(store), load_scan(full)
    assert (a.status == DONE).sum() == 9
    for name in COMPARED[:-1]:  # attempts: 1 everywhere in both
        assert _same_bits(a[name], b[name]), name
    assert _same_bits(a.x_f_edges, load_scan(new).x_f_edges)
    assert json.loads((store / "zarr.json").read_text())["attributes"]["format"] == "lfvscan-scan/3"
    assert (store / LEGACY_NAMES["dsigma_dlnx_f_pb"]).is_dir() and not (store / "dsigma_dlnx_f_pb").exists()
    assert not list((store / "journal").glob("*.jnl")) and not list((store / "journal").glob("*.log"))
    assert cli.main(["verify", str(store)]) == 0


def test_journal_of_v3_store_keeps_its_names(tmp_path):
    """Frames this version appends to a /3 store name the fields as /3 does (an older version folds
    them completely), and read back under the current names bit for bit."""
    from lfvscan.store.frames import decode_frames
    from lfvscan.store.zarr_store import ScanStore

    store = ScanStore.open(_copy("interrupted_store", tmp_path), writable=True)
    latest, logs, _ = store.journal.read_all()
    store.journal.append(latest)
    (new_log,) = store.journal.open_logs()
    store.journal.close()
    data = new_log.read_bytes()
    header = json.loads(data[16:16 + int.from_bytes(data[4:8], "little")])
    names = {f[0] for f in header["fields"]}
    assert LEGACY_NAMES["dsigma_dlnx_f_pb"] in names and not names & set(LEGACY_NAMES)
    (back,), bad = decode_frames(data)
    assert bad == 0 and back.rows.dtype == latest.rows.dtype and back.rows.tobytes() == latest.rows.tobytes()
