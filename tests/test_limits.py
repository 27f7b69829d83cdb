"""Limits g_lim = sqrt(N_req / N_hat) (docs/physics.md §10.4) and the ``lfvscan limits`` command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lfvscan.cli import main
from lfvscan.pheno.experiments import load_experiments
from lfvscan.pheno.limits import compute_limits, g_limit, limits_csv, limits_json, provenance, read_limits_csv
from lfvscan.schema import FAILED
from lfvscan.pheno.yields import compute_yields

from _toy_scan import M_TAU, NL_PB2, c_of, toy_scan

MASSES = [5.0, 10.0, 20.0]


def scan():
    return toy_scan([160.0, 1000.0], MASSES, p=0.3)


def lims(n_req=3.0, **over):
    e = load_experiments(overrides=over)
    return {lim.key: lim for lim in compute_limits(compute_yields(scan(), {"hemu": e["hemu"]}), n_req)}


def test_limit_hand_calculation():
    lim = lims()["hemu/inv-ultimate"]
    for k, m in enumerate(MASSES):
        x_lo, x_hi = M_TAU / 1000, 1 - m / 1000
        n_hat = 1e16 * NL_PB2 * c_of(1000, m) * (x_hi**0.3 - x_lo**0.3) / 0.3
        assert lim.g_lim[k] == pytest.approx(math.sqrt(3.0 / n_hat), rel=1e-6)
        # MC error propagates as d g / g = d N / (2 N)
        assert lim.g_lim_err[k] == pytest.approx(lim.g_lim[k] * lim.yields.n_hat_err[k] / (2 * lim.yields.n_hat[k]))


def test_scaling_with_exposure_and_n_req():
    base = lims()
    more = lims(**{"hemu.n_mu": 4e16})
    n23 = lims(n_req=2.3)
    for key in base:
        np.testing.assert_allclose(more[key].g_lim / base[key].g_lim, 0.5, rtol=1e-12)
        np.testing.assert_allclose(n23[key].g_lim / base[key].g_lim, math.sqrt(2.3 / 3), rtol=1e-12)


def test_cut_removing_everything_gives_infinite_limit():
    lim = lims(**{"hemu.inv-2cm.res_tau1_cm": 1e6})["hemu/inv-2cm"]
    assert np.all(lim.yields.n_hat == 0) and np.all(np.isinf(lim.g_lim))
    s = scan()
    e = load_experiments(overrides={"hemu.inv-2cm.res_tau1_cm": 1e6})
    ls = compute_limits(compute_yields(s, {"hemu": e["hemu"]}))
    prov = provenance(s, {"hemu": e["hemu"]}, 3.0)
    doc = json.loads(limits_json(ls, prov))
    cur = [c for c in doc["curves"] if c["curve"] == "inv-2cm"][0]
    assert cur["g_lim"] == ["inf", "inf", "inf"] and cur["n_hat"] == [0.0, 0.0, 0.0]
    text = limits_csv(ls, prov)
    assert "hemu,inv-2cm,invisible,5,0,0,inf,nan" in text


def test_g_limit_special_values():
    g = g_limit([0.0, np.nan, 3.0, 12.0])
    assert np.isinf(g[0]) and np.isnan(g[1]) and g[2] == 1.0 and g[3] == 0.5


def _fake_store(monkeypatch, s):
    import lfvscan.store

    monkeypatch.setattr(lfvscan.store, "load_scan", lambda path: s)  # what the pipeline reads through


def test_cli_writes_csv_and_json_with_provenance(tmp_path, monkeypatch, capsys):
    s = toy_scan([160.0, 1000.0], MASSES, p=0.3, targets=("Pb",))
    _fake_store(monkeypatch, s)
    rc = main(["limits", "toy.zarr", "--out", str(tmp_path), "--json", "--n-req", "2.3"])
    assert rc == 0
    err = capsys.readouterr().err
    assert "skipping fasernu2" in err  # no W in this scan
    text = (tmp_path / "limits.csv").read_text()
    assert "# lfvscan_version: " in text and "# n_req: 2.3" in text and "# experiments_sha256: " in text
    assert "# store_arrays_sha256: " in text and "mass_GeV[GeV]" in text
    back = read_limits_csv(tmp_path / "limits.csv")
    assert set(back) == {f"na64mu/{c}" for c in ("projected", "current")} | {
        f"hemu/{c}" for c in ("inv-2cm", "inv-2mm", "inv-ultimate", "vis-2cm", "vis-2mm", "vis-ultimate")} | {
        f"mubed/{c}" for c in ("1e16-2cm", "1e18-2cm", "1e20-2mm")}
    ref = lims(n_req=2.3)["hemu/vis-2mm"].g_lim
    np.testing.assert_allclose(back["hemu/vis-2mm"]["g_lim"], ref, rtol=1e-7)
    doc = json.loads((tmp_path / "limits.json").read_text())
    assert doc["provenance"]["n_req"] == 2.3 and doc["provenance"]["store_attrs"] == {"config_hash": "toy"}
    assert doc["provenance"]["flux_files"] == {}  # the scan has no W: FASERnu2 skipped


def test_cli_provenance_names_flux_file(tmp_path, monkeypatch, capsys):
    import hashlib

    s = toy_scan([160.0, 1000.0], MASSES)
    _fake_store(monkeypatch, s)
    flux = tmp_path / "flux.csv"
    flux.write_text("E_low_GeV,E_high_GeV,mu_plus_per_fb,mu_minus_per_fb\n100,1000,1,2\n")
    rc = main(["limits", "toy.zarr", "--out", str(tmp_path), "--json", "--flux", str(flux)])
    assert rc == 0
    # ln(160/100)/ln(10) = 0.204 of the muons lie below the lowest scanned energy
    assert "0.204 of the muons lie below 160 GeV and are not used" in capsys.readouterr().err
    prov = json.loads((tmp_path / "limits.json").read_text())["provenance"]
    assert prov["flux_files"]["fasernu2"] == {"path": str(flux), "sha256": hashlib.sha256(flux.read_bytes()).hexdigest()}


@pytest.mark.parametrize(
    "argv,msg",
    [
        (["--experiments", "faser"], "unknown experiment 'faser'"),
        (["--n-req", "0"], "N_req must be positive"),
        (["--set", "hemu.n_mu=-1"], "n_mu must be positive"),
        (["--experiments", "fasernu2"], "needs target 'W'"),
    ],
)
def test_cli_bad_input_one_line_exit2_nothing_written(tmp_path, monkeypatch, capsys, argv, msg):
    s = toy_scan([160.0, 1000.0], MASSES, targets=("Pb",))
    _fake_store(monkeypatch, s)
    (tmp_path / "limits.csv").write_text("old")
    rc = main(["limits", "toy.zarr", "--out", str(tmp_path)] + argv)
    err = capsys.readouterr().err
    assert rc == 2 and msg in err and err.count("\n") == 1
    assert (tmp_path / "limits.csv").read_text() == "old"


def test_cli_bad_flux_file_exit2(tmp_path, monkeypatch, capsys):
    s = toy_scan([160.0, 1000.0], MASSES)
    _fake_store(monkeypatch, s)
    bad = tmp_path / "flux.csv"
    bad.write_text("E_low_GeV,E_high_GeV,mu_plus_per_fb,mu_minus_per_fb\n10,20,1,2\n30,40,1,2\n")
    rc = main(["limits", "toy.zarr", "--out", str(tmp_path / "o"), "--flux", str(bad)])
    err = capsys.readouterr().err
    assert rc == 2 and "gap between bins" in err and not (tmp_path / "o").exists()


def test_cli_incomplete_store_warns_and_writes_nan(tmp_path, monkeypatch, capsys):
    s = toy_scan([160.0, 1000.0], MASSES, targets=("Pb",))
    s.status[0, 1, 2] = FAILED
    _fake_store(monkeypatch, s)
    rc = main(["limits", "toy.zarr", "--out", str(tmp_path), "--experiments", "hemu"])
    err = capsys.readouterr().err
    assert rc == 0 and "Pb E=1000 GeV m_a=20 GeV (failed)" in err
    back = read_limits_csv(tmp_path / "limits.csv")
    g = back["hemu/inv-ultimate"]["g_lim"]
    assert np.isnan(g[2]) and np.all(np.isfinite(g[:2]))
