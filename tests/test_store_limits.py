"""The scan -> yields -> limits pipeline as a library call (lfvscan.pheno.store_limits), on the toy scan
of _toy_scan.py: the same numbers as the CLI's limits.csv, warnings returned (not printed)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from lfvscan.cli import main
from lfvscan.errors import UsageError
from lfvscan.pheno.limits import limits_csv, limits_json, read_limits_csv
from lfvscan.pheno.flux import load_flux
from lfvscan.pheno.store_limits import LimitsResult, compute_limits_for_store, flux_provenance
from lfvscan.pheno.yields import experiment_fluxes
from lfvscan.schema import FAILED

from _toy_scan import toy_scan

MASSES = [5.0, 10.0, 20.0]


def _rows(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if not ln.startswith("#")]


def _fake_store(monkeypatch, s):
    import lfvscan.store

    seen = []
    monkeypatch.setattr(lfvscan.store, "load_scan", lambda path: seen.append(path) or s)
    return seen


def test_same_limits_as_the_cli_csv(tmp_path, monkeypatch, capsys):
    s = toy_scan([160.0, 1000.0], MASSES, p=0.3, targets=("Pb",))
    _fake_store(monkeypatch, s)
    assert main(["limits", "toy.zarr", "--out", str(tmp_path), "--json", "--n-req", "2.3",
                 "--set", "na64mu.n_mu=1e12"]) == 0
    capsys.readouterr()
    res = compute_limits_for_store(s, n_req=2.3, overrides={"na64mu.n_mu": "1e12"})
    assert isinstance(res, LimitsResult)
    assert capsys.readouterr().err == ""  # warnings are data, nothing printed
    cli_csv = (tmp_path / "limits.csv").read_text()
    assert _rows(limits_csv(res.limits, res.provenance)) == _rows(cli_csv)
    back = read_limits_csv(tmp_path / "limits.csv")
    assert set(back) == {lim.key for lim in res.limits}
    for lim in res.limits:
        np.testing.assert_allclose(back[lim.key]["g_lim"], lim.g_lim, rtol=1e-7)
    # the JSON curves too, and the provenance apart from what names the call
    cli_doc = json.loads((tmp_path / "limits.json").read_text())
    doc = json.loads(limits_json(res.limits, res.provenance))
    assert doc["curves"] == cli_doc["curves"]
    varying = {"created_utc", "command", "store"}
    assert list(doc["provenance"]) == list(cli_doc["provenance"])
    assert {k: v for k, v in doc["provenance"].items() if k not in varying} == {
        k: v for k, v in cli_doc["provenance"].items() if k not in varying}
    assert cli_doc["provenance"]["store"] == "toy.zarr" and doc["provenance"]["store"] is None
    assert doc["provenance"]["command"] is None
    # yields and limits line up; the experiments used are the covered ones
    assert [y.key for y in res.yields] == [lim.key for lim in res.limits]
    assert list(res.experiments) == ["na64mu", "hemu", "mubed"]


def test_store_path_is_read_through_the_store_package(monkeypatch):
    s = toy_scan([160.0, 1000.0], MASSES, targets=("Pb",))
    seen = _fake_store(monkeypatch, s)
    res = compute_limits_for_store("some/toy.zarr", experiments=["hemu"], command="lfvscan limits x")
    assert seen == ["some/toy.zarr"] and res.scan is s
    assert res.provenance["store"] == "some/toy.zarr" and res.provenance["command"] == "lfvscan limits x"
    assert res.warnings == () and res.skipped == {}


def test_skipped_experiments_are_warnings_in_order():
    s = toy_scan([160.0, 1000.0], MASSES, targets=("Pb",))
    s.status[0, 1, 2] = FAILED
    res = compute_limits_for_store(s)
    assert set(res.skipped) == {"fasernu2", "na64e", "eic", "music"} and "observes e -> tau" in res.skipped["na64e"]
    assert "target 'W' not in scan" in res.skipped["fasernu2"] and "target 'Au' not in scan" in res.skipped["music"]
    assert res.warnings[0] == f"skipping fasernu2: {res.skipped['fasernu2']}"
    incomplete = [w for w in res.warnings[1:] if "needed cell(s) not done" in w]
    assert incomplete and all("Pb E=1000 GeV m_a=20 GeV (failed)" in w for w in incomplete)
    g = {lim.key: lim.g_lim for lim in res.limits}["hemu/inv-ultimate"]
    assert np.isnan(g[2]) and np.all(np.isfinite(g[:2]))
    assert res.provenance["flux_files"] == {}


def test_flux_file_in_provenance_and_flux_range_warning(tmp_path):
    s = toy_scan([160.0, 1000.0], MASSES)
    flux = tmp_path / "flux.csv"
    flux.write_text("E_low_GeV,E_high_GeV,mu_plus_per_fb,mu_minus_per_fb\n100,1000,1,2\n")
    res = compute_limits_for_store(s, experiments=["fasernu2"], flux=flux)
    assert any("0.204 of the muons lie below 160 GeV and are not used" in w for w in res.warnings)
    sha = hashlib.sha256(flux.read_bytes()).hexdigest()
    assert res.provenance["flux_files"] == {"fasernu2": {"path": str(flux), "sha256": sha}}
    assert flux_provenance(experiment_fluxes(res.experiments, load_flux(flux))) == res.provenance["flux_files"]
    default = flux_provenance(experiment_fluxes(res.experiments))["fasernu2"]
    assert default["path"].endswith("fpf_muon_flux_fluka_v2_slices.csv") and len(default["sha256"]) == 64


@pytest.mark.parametrize("kw,msg", [
    ({"experiments": ["faser"]}, "unknown experiment 'faser'"),
    ({"n_req": 0}, "N_req must be positive"),
    ({"overrides": {"hemu.n_mu": "-1"}}, "n_mu must be positive"),
    ({"experiments": ["fasernu2"]}, "needs target 'W'"),
])
def test_bad_input_raises_usage_error(kw, msg):
    s = toy_scan([160.0, 1000.0], MASSES, targets=("Pb",))
    with pytest.raises(UsageError, match=msg):
        compute_limits_for_store(s, **kw)


def test_scan_covering_no_experiment_names_the_reasons():
    s = toy_scan([300.0], MASSES, targets=("Cu",))
    with pytest.raises(UsageError) as info:
        compute_limits_for_store(s)
    text = str(info.value)
    assert text.startswith("the scan covers none of the experiments (na64mu, fasernu2, hemu, mubed, na64e, eic, music)")
    assert "hemu: target 'Pb' not in scan" in text


def test_each_flux_file_is_read_once_for_every_theta(monkeypatch):
    """Limits at several thetas fold the same flux: its file is read once, not once per theta."""
    from lfvscan.pheno import store_limits, yields

    reads = []
    real_load = yields.load_flux
    monkeypatch.setattr(yields, "load_flux", lambda path=None: reads.append(path) or real_load(path))
    monkeypatch.setattr(store_limits, "scan_at_theta", lambda scan, theta, convention: scan)  # toy scan: no parts
    compute_limits_for_store(toy_scan([160.0, 1000.0], MASSES), experiments=["fasernu2"], thetas=[0.3, 0.7, 1.1])
    assert len(reads) == 1


#: FASERnu2 N_hat on the toy scan below (W at the paper grid, p = 0.3) with the 2024 stand-in flux,
#: computed with lfvscan before the FLUKA-v2 default flux model existed (flux_file then named that CSV);
#: the 2 mm curve with its cut inside a bin evaluated on the interpolated tails (docs/physics.md §10.1)
STAND_IN_N_HAT = {
    "reconstructed": [80.92527750951345, 12.895932419192661, 3.2038353527335452, 0.7914423312434855, 0.3478983009238403],
    "ultimate": [719.7172478130693, 114.24859341660358, 28.109552936855543, 6.82103215632117, 2.9610251129231764],
}
STAND_IN_N_HAT_ERR = {
    "reconstructed": [0.6186051744642119, 0.09885880877193037, 0.024615279679530495, 0.006119647327498253,
                      0.0027042244985054993],
    "ultimate": [3.8115631012047793, 0.6086265766953128, 0.1516513189064948, 0.037821431536682874,
                 0.016649394969031495],
}
#: sha256 of the stand-in CSV's bytes (unchanged since it was the default)
STAND_IN_SHA256 = "9f365ce44021b9279151fac0f9590217ab1624f5b2cb0d9ca3208acd30a427b5"


def test_naming_the_stand_in_flux_reproduces_its_limits_exactly():
    """--set fasernu2.flux_file=stand-in-2024 gives the FASERnu2 yields (and so limits) bit for bit as
    they were with the stand-in as default; the FLUKA-v2 default gives fewer events."""
    grid = 10.0 * 500.0 ** (np.arange(26) / 25)
    s = toy_scan(grid, [2.0, 5.0, 10.0, 20.0, 30.0], p=0.3, targets=("W",))
    old = compute_limits_for_store(s, experiments=["fasernu2"], overrides={"fasernu2.flux_file": "stand-in-2024"})
    assert old.provenance["flux_files"]["fasernu2"]["sha256"] == STAND_IN_SHA256
    for lim in old.limits:
        assert lim.yields.n_hat.tolist() == STAND_IN_N_HAT[lim.yields.curve]
        assert lim.yields.n_hat_err.tolist() == STAND_IN_N_HAT_ERR[lim.yields.curve]
    new = compute_limits_for_store(s, experiments=["fasernu2"])
    for a, b in zip(old.limits, new.limits):
        assert np.all(b.yields.n_hat < a.yields.n_hat) and np.all(b.g_lim > a.g_lim)
