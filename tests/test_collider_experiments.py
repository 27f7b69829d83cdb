"""EIC and MuSIC (docs/physics.md §10.8): the limit of each at two masses from first principles, events =
L x sigma(accepted, the stored lab histogram summed by hand) x efficiency and N_req from the Feldman-Cousins
table; the refusals of a collider experiment on a fixed target and of a fixed-target one on a nucleus beam."""

import math

import numpy as np
import pytest

from lfvscan.errors import UsageError

pytestmark = pytest.mark.skipif(__import__("tests._scan_util", fromlist=["UNDER_MPI"]).UNDER_MPI,
                                reason="serial scan")

#: the lab pseudorapidity edges as docs/physics.md §7.16 lists them
DOC_ETA_EDGES = [-math.inf, -10, -8, -7, -6, -5, -4, -3.5, -3, -2, -1, 0, 1, 2, 3, 3.5, 4, 5, 6, 7, 8, 10, 12, 15,
                 math.inf]
#: Feldman-Cousins PRD 57 (1998) 3873, Table IV (90 %): n0 = 0, b = 0 -> 2.44; n0 = 3, b = 3 -> 4.42; Table V (95 %)
#: n0 = 0, b = 0 -> 3.09
FC90_N0_B0, FC90_N3_B3, FC95_N0_B0 = 2.44, 4.42, 3.09
MASSES = [3.0, 8.0]


def _scan(tmp_path_factory, name, beam, energy, fixed_pb=False):
    from lfvscan.scan.engine import run_scan
    from lfvscan.spec.config import parse_config
    from lfvscan.store import load_scan

    targets = [{"name": "Au", "nucleus_energy_per_nucleon_GeV": 110, "energies_GeV": [energy]}]
    if fixed_pb:
        targets.append({"name": "Pb", "energies_GeV": [energy]})
    cfg = parse_config({"seed": 3, "rel_err": 0.05, "n_xbins": 8, "masses_GeV": MASSES,
                        "process": {"beam": beam, "final": "tau"}, "targets": targets})
    path = tmp_path_factory.mktemp(name) / "scan.zarr"
    run_scan(cfg, str(path), quiet=True)
    return load_scan(path)


@pytest.fixture(scope="module")
def eic_scan(tmp_path_factory):
    return _scan(tmp_path_factory, "eic", "e", 18.0)


@pytest.fixture(scope="module")
def music_scan(tmp_path_factory):
    return _scan(tmp_path_factory, "music", "mu", 1000.0, fixed_pb=True)


def _by_hand(scan, eta_max):
    """sigma(|eta_boson| < eta_max) [pb] per mass: the stored boson histogram summed over the bins inside."""
    from lfvscan.xsec.labframe import LAB_ETA_EDGES

    assert np.array_equal(LAB_ETA_EDGES, DOC_ETA_EDGES)
    lo, hi = DOC_ETA_EDGES.index(-eta_max), DOC_ETA_EDGES.index(eta_max)
    h = scan.lab_boson_pb[scan.target_index("Au"), 0].reshape(len(MASSES), 24, 12)
    return h[:, lo:hi, :].sum(axis=(1, 2))


def _yields(scan, name, overrides):
    """{curve: CurveYield} of experiment ``name`` (yields only: the FC limit at b ~ 1e3-1e4 takes a minute)."""
    from lfvscan.pheno.experiments import load_experiments
    from lfvscan.pheno.yields import curve_yield

    exp = load_experiments(overrides=overrides)[name]
    return {sel.name: curve_yield(scan, exp, sel) for sel in exp.curves}


def _limits(scan, name, overrides):
    from lfvscan.pheno.store_limits import compute_limits_for_store

    res = compute_limits_for_store(scan, experiments=[name], overrides=overrides)
    return {lim.yields.curve: lim for lim in res.limits}


def test_eic_limit_from_first_principles(eic_scan):
    """EIC at 3 and 8 GeV: N_hat = (100/197 fb^-1) sigma(|eta_a| < 3.5) 2 eps_tau (1 - 0.1782) at eps_tau =
    1 % and 10 %; the published background 2.6e4 pb x L x eps_tau (1e-3 (2 - r) + 1e-2 r); with the background
    scaled to b = 3 the limit is sqrt(4.42 / N_hat) (FC table), within 0.5 %."""
    lumi_pb = 100.0 / 197 * 1e3
    sigma = _by_hand(eic_scan, 3.5)
    assert np.all(sigma > 0) and np.all(sigma < eic_scan.sigma_pb[0, 0])
    published = _yields(eic_scan, "eic", {})
    for curve, eps in (("tau-id-1pct", 0.01), ("tau-id-10pct", 0.1)):
        y = published[curve]
        np.testing.assert_allclose(y.n_hat, lumi_pb * sigma * 2 * eps * (1 - 0.1782), rtol=1e-12)
        b = 2.6e4 * lumi_pb * eps * (1e-3 * (2 - 0.1782) + 1e-2 * 0.1782)
        assert y.background == pytest.approx(b, rel=1e-12)
        assert b == pytest.approx(4.76e4 * eps, rel=1e-3)  # the N_bg of docs/physics.md §10.8
        eps_bg = eps * (1e-3 * (2 - 0.1782) + 1e-2 * 0.1782)
        three = _limits(eic_scan, "eic", {"eic.background_pb": 3.0000001 / (lumi_pb * eps_bg)})[curve]
        assert three.yields.background == pytest.approx(3.0, rel=1e-6)
        np.testing.assert_allclose(three.g_lim, np.sqrt(FC90_N3_B3 / three.yields.n_hat), rtol=5e-3)


def test_music_limit_from_first_principles(music_scan):
    """MuSIC at 3 and 8 GeV (1 TeV mu on Au at 110 GeV/nucleon, |eta_a| < 6): without background the limit
    is sqrt(2.44 / N_hat) at 90 % and sqrt(3.09 / N_hat) at 95 % (FC tables), N_hat = L sigma_acc 2 eps (1 - r);
    the text's signal efficiency eps/2 and luminosity 400/A are named settings."""
    sigma = _by_hand(music_scan, 6.0)
    lumi_pb = 100.0 / 197 * 1e3
    for cl, n_req in ((0.9, FC90_N0_B0), (0.95, FC95_N0_B0)):
        lim = _limits(music_scan, "music", {"music.background_pb": 0, "music.cl": cl})["tau-id-10pct"]
        np.testing.assert_allclose(lim.yields.n_hat, lumi_pb * sigma * 2 * 0.1 * (1 - 0.1739), rtol=1e-12)
        np.testing.assert_allclose(lim.g_lim, np.sqrt(n_req / (lumi_pb * sigma * 2 * 0.1 * (1 - 0.1739))), rtol=5e-3)
    text = _yields(music_scan, "music", {"music.signal_efficiency": "text", "music.luminosity_fb_per_nucleon": 400})
    np.testing.assert_allclose(text["tau-id-1pct"].n_hat, 4 * lumi_pb * sigma * 0.01 / 2, rtol=1e-12)
    b_pub = _yields(music_scan, "music", {})["tau-id-1pct"].background
    assert b_pub == pytest.approx(1.1e5 * lumi_pb * 0.01 * (1e-3 * (2 - 0.1739) + 1e-3 * 0.1739), rel=1e-12)


def test_collider_and_fixed_target_experiments_refuse_the_other_kind(music_scan):
    """A collider experiment on a fixed target (no lab histograms) and a fixed-target experiment on a nucleus
    beam are refused in one line each; MuBeD on the same store's lead at rest is not."""
    from lfvscan.pheno.coverage import coverage_problem
    from lfvscan.pheno.experiments import load_experiments

    exps = load_experiments(overrides={"music.target": "Pb", "mubed.target": "Au"})
    line = coverage_problem(music_scan, exps["music"])
    assert "collider" in line and "'Pb' is a fixed target without lab-frame distributions" in line
    assert "\n" not in line
    assert "nucleus beam" in coverage_problem(music_scan, exps["mubed"])
    assert coverage_problem(music_scan, load_experiments()["mubed"]) == ""
    other = load_experiments(overrides={"music.nucleus_energy_per_nucleon_GeV": 100})["music"]
    assert "at 100 GeV per nucleon, the scan's is at 110" in coverage_problem(music_scan, other)
    with pytest.raises(UsageError, match="experiment 'music' is a collider"):
        _limits(music_scan, "music", {"music.target": "Pb"})


def test_collider_keys_are_checked():
    """Collider keys on a fixed target, a fixed target's length on a collider, and a collider curve without
    its tau identification are refused, each naming the key."""
    from lfvscan.pheno.experiments import load_experiments

    with pytest.raises(UsageError, match="eta_max must be one of"):
        load_experiments(overrides={"eic.eta_max": 2.5})
    with pytest.raises(UsageError, match="length_cm do not apply to beam = 'collider'"):
        load_experiments(overrides={"eic.length_cm": 2.0})
    with pytest.raises(UsageError, match="eta_max only apply to beam = 'collider'"):
        load_experiments(overrides={"mubed.eta_max": 3.5})
    with pytest.raises(UsageError, match="efficiency of a collider curve follows from tau_id_efficiency"):
        load_experiments(overrides={"eic.tau-id-1pct.efficiency": 0.5})
    with pytest.raises(UsageError, match="signal_efficiency must be one of"):
        load_experiments(overrides={"eic.signal_efficiency": "guess"})
