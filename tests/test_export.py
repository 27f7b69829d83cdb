"""``lfvscan export STORE --to FILE.h5``: read back with plain h5py, every array equals the
store's bit for bit (iterating lfvscan.schema), with units/description/dims attributes; the limits
equal the CSV's; the provenance is there; the README's h5py snippet runs on the file."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import h5py
import numpy as np
import pytest
import vegas

from lfvscan import __version__
from lfvscan.cli import main
from lfvscan.pheno.limits import read_limits_csv
from lfvscan.schema import CELL_FIELDS, COORDINATES, FAILED
from lfvscan.store import ScanStore

from _scan_util import UNDER_MPI

pytestmark = pytest.mark.skipif(UNDER_MPI, reason="serial test (each MPI rank would run it)")

TOML = """\
seed = 3
rel_err = 0.01
n_xbins = 8
max_attempts = 1
masses_GeV = [2.0, 6.0, 20.0]
cell_function = "_run_cells:flaky_cell"

[[targets]]
name = "Pb"
energies_GeV = [160, 1000]

[[targets]]
name = "W"
energies_GeV = [1000]
"""
README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A store with done, failed (error text), skipped and closed cells; its limits; the export."""
    d = tmp_path_factory.mktemp("export")
    (d / "c.toml").write_text(TOML)
    (d / "fail.marker").touch()
    mp = pytest.MonkeyPatch()
    mp.setenv("LFVSCAN_TEST_FAIL_MARKER", str(d / "fail.marker"))
    try:
        assert main(["scan", str(d / "c.toml"), "--store", str(d / "s.zarr"), "--quiet"]) == 1
    finally:
        mp.undo()
    assert main(["limits", str(d / "s.zarr"), "--out", str(d), "--experiments", "na64mu", "hemu"]) == 0
    assert main(["export", str(d / "s.zarr"), "--to", str(d / "demo.h5"), "--limits", str(d / "limits.csv")]) == 0
    return d


def test_every_array_bit_for_bit(exported):
    st = ScanStore.open(exported / "s.zarr")
    assert (st.read("status") == FAILED).sum() == 1  # the error text array is not all empty
    with h5py.File(exported / "demo.h5", "r") as f:
        for field in COORDINATES + CELL_FIELDS:
            ref = st.read(field.name)
            got = f[field.name][()]
            assert got.shape == ref.shape, field.name
            if field.dtype == "str":
                assert [s.decode() for s in got.ravel()] == [str(s) for s in ref.ravel()], field.name
            else:
                assert got.dtype == ref.dtype and got.tobytes() == ref.tobytes(), field.name
            a = f[field.name].attrs
            assert (a["units"], a["description"], list(a["dims"])) == (field.unit, field.description, list(field.dims))
        assert any("test failure" in s.decode() for s in f["error"][()].ravel())
        assert np.isnan(f["sigma_pb"][()]).any()  # cells never computed keep their NaN fill


def test_limits_and_provenance(exported):
    csv = read_limits_csv(exported / "limits.csv")
    with h5py.File(exported / "demo.h5", "r") as f:
        got = {f"{e}/{c}": f["limits"][e][c] for e in f["limits"] for c in f["limits"][e]}
        assert set(got) == set(csv)
        for key, cols in csv.items():
            for col, ref in cols.items():
                if col == "scenario":  # one per curve: an attribute
                    assert set(ref) == {got[key].attrs["scenario"]}, key
                    continue
                val = got[key][col].asstr()[()] if col == "quality" else got[key][col][()]
                np.testing.assert_array_equal(val, np.array(ref), err_msg=f"{key} {col}")
        assert got["hemu/inv-ultimate"].attrs["scenario"] == "invisible"
        assert got["hemu/inv-ultimate"]["g_lim"].attrs["units"] == "1"
        assert got["hemu/inv-ultimate"]["mass_GeV"].attrs["units"] == "GeV"
        assert "store_arrays_sha256" in f["limits"].attrs
        a = f.attrs
        assert a["config_toml"] == (exported / "c.toml").read_text()
        assert a["config_hash"] == ScanStore.open(exported / "s.zarr").attrs["config_hash"]
        assert (a["lfvscan_version"], a["vegas_version"], a["numpy_version"]) == (__version__, vegas.__version__,
                                                                                  np.__version__)
        created = dt.datetime.fromisoformat(a["created_utc"])
        assert abs((dt.datetime.now(dt.timezone.utc) - created).total_seconds()) < 3600


def test_readme_snippet_runs(exported, monkeypatch, capsys):
    text = README.read_text()
    snippet = re.search(r"```python\n(import h5py\n.*?)```", text, re.S).group(1)
    assert len(snippet.strip().splitlines()) <= 6
    monkeypatch.chdir(exported)
    exec(compile(snippet, "README.md", "exec"), {})
    assert "GeV" in capsys.readouterr().out


def test_bad_input(tmp_path, exported, capsys):
    assert main(["export", str(tmp_path / "nope.zarr"), "--to", str(tmp_path / "x.h5")]) == 2
    assert "store" in capsys.readouterr().err and not (tmp_path / "x.h5").exists()
    assert main(["export", str(exported / "s.zarr"), "--to", str(tmp_path / "x.txt")]) == 2
    assert "--to" in capsys.readouterr().err
    assert main(["export", str(exported / "s.zarr"), "--to", str(tmp_path / "x.h5"), "--limits",
                 str(exported / "c.toml")]) == 2
    assert "not a limits CSV" in capsys.readouterr().err and not (tmp_path / "x.h5").exists()
