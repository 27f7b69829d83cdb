"""Limits with background (lfvscan.pheno.statistics, docs/physics.md §10.6) against published tables,
pyhf, a direct Feldman-Cousins construction on a grid of s (tests/_fc_grid.py) and Poisson sums in
arbitrary precision (mpmath), and the new experiments' limits from first principles (§10.7)."""

from __future__ import annotations

import argparse
import math
import warnings

import numpy as np
import pytest

from _fc_grid import grid_construction_upper
from _toy_scan import toy_scan
from lfvscan.cli.limits import add_experiment_options, parse_statistics
from lfvscan.errors import UsageError
from lfvscan.pheno import feldman_cousins
from lfvscan.pheno.feldman_cousins import fc_construction_upper
from lfvscan.pheno.statistics import (
    DEFAULT_STATISTICS, Statistics, cls_upper, expected_n_obs, fc_upper, poisson_cdf, poisson_upper,
    signal_upper_limit, sqrt_b_upper,
)
from lfvscan.pheno.store_limits import compute_limits_for_store

# Feldman & Cousins, Phys. Rev. D 57 (1998) 3873, Table IV (90 % CL) and Table V (95 % CL), as reproduced
# in the PDG Review of Particle Physics, "Statistics" (Table 40.4): upper end of the interval for the
# Poisson signal mean with n0 = 0 observed events and known mean background b.
FC_N0_ZERO = {
    0.90: {0.0: 2.44, 0.5: 1.94, 1.0: 1.61, 1.5: 1.33, 2.0: 1.26, 2.5: 1.18, 3.0: 1.08, 3.5: 1.06, 4.0: 1.01, 5.0: 0.98},
    0.95: {0.0: 3.09, 0.5: 2.63, 1.0: 2.33, 1.5: 2.05, 2.0: 1.78, 2.5: 1.78, 3.0: 1.63, 3.5: 1.63, 4.0: 1.57, 5.0: 1.54},
}
# PDG "Statistics" review, Table 40.3: classical Poisson upper limits on the mean for n observed, b = 0
POISSON_UPPER = {0.90: (2.30, 3.89, 5.32, 6.68, 7.99), 0.95: (3.00, 4.74, 6.30, 7.75, 9.15)}


@pytest.mark.parametrize("cl", [0.90, 0.95])
@pytest.mark.parametrize("b", [0.0, 0.5, 3.0])
def test_feldman_cousins_table_at_the_issue_backgrounds(cl, b):
    assert round(fc_upper(0, b, cl), 2) == FC_N0_ZERO[cl][b]


@pytest.mark.slow
@pytest.mark.parametrize("cl", [0.90, 0.95])
def test_feldman_cousins_table_whole_row(cl):
    for b, ref in FC_N0_ZERO[cl].items():
        assert round(fc_upper(0, b, cl), 2) == ref, b


@pytest.mark.parametrize("cl", [0.90, 0.95])
@pytest.mark.parametrize("b", [20.0, 50.0, 100.0])
def test_feldman_cousins_construction_against_a_grid_of_s(cl, b):
    """The segment construction against the direct one on a grid of s (0.005 steps, bisected to 1e-9)
    at n_obs = floor(b), for b and for backgrounds b' in (b, b + 2] of the monotone envelope, where
    n_obs < b' (counts between n_obs and b' rank before n_obs)."""
    n = expected_n_obs(b)
    for bp in (b, b + 0.35, b + 1.95):
        assert fc_construction_upper(n, bp, cl) == pytest.approx(grid_construction_upper(n, bp, cl), abs=1e-6)


@pytest.mark.parametrize("n_obs, b, cl", [(0, 2.5, 0.90), (0, 4.75, 0.90), (1, 2.7, 0.95), (2, 4.9, 0.90),
                                          (5, 7.3, 0.95), (10, 3.0, 0.90)])
def test_feldman_cousins_construction_with_gaps_against_a_grid_of_s(n_obs, b, cl):
    """Small counts, where the accepted set of s has gaps (n_obs = 0, b = 2.5 at 90 %: the probability ranked
    before n_obs crosses 0.9 and falls back below it inside one segment), and n_obs > b."""
    assert fc_construction_upper(n_obs, b, cl) == pytest.approx(grid_construction_upper(n_obs, b, cl), abs=1e-6)


@pytest.mark.parametrize("b", [1000.37, 3000.0, 10000.6, 30000.2])
def test_feldman_cousins_window_equals_the_check_of_every_segment(b, monkeypatch):
    """The topmost accepted segment from the window around the located crossing is the one a check of
    every segment up to the top of the search finds (also for b' = b + 1.3 of the envelope)."""
    n = expected_n_obs(b)
    for cl in (0.90, 0.95):
        for bp in (b, b + 1.3):
            windowed = fc_construction_upper(n, bp, cl)
            with monkeypatch.context() as m:
                m.setattr(feldman_cousins, "FC_WINDOW_SEGMENTS", 10 ** 9)
                assert fc_construction_upper(n, bp, cl) == windowed


@pytest.mark.slow
def test_feldman_cousins_at_large_background_against_a_grid_of_s():
    """b = 1e4 (the EIC/MuSIC scale): one grid construction takes seconds."""
    assert fc_construction_upper(10000, 10000.0, 0.9) == pytest.approx(
        grid_construction_upper(10000, 10000.0, 0.9), abs=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("b", [20.0, 100.0])
def test_feldman_cousins_envelope_against_a_grid_of_s(b, monkeypatch):
    """fc_upper (the monotone envelope over b' in [b, b + 2]) with the grid construction inside."""
    fast = fc_upper(expected_n_obs(b), b, 0.9)
    monkeypatch.setattr(feldman_cousins, "fc_construction_upper", grid_construction_upper)
    assert fast == pytest.approx(fc_upper(expected_n_obs(b), b, 0.9), abs=1e-6)


@pytest.mark.parametrize("n, mu", [(0, 0.3), (5, 3.2), (1000, 1000.0), (10 ** 6, 1e6), (10 ** 6 - 1500, 1e6),
                                   (10 ** 6, 1e6 + 1300.5), (20, 1e6)])
def test_poisson_cdf_against_arbitrary_precision(n, mu):
    """P(N <= n | mu) to 1e-13 relative (the sum of n ln mu - mu - ln n! loses ~1e-9 at mu = 1e6), and
    no underflow to a wrong value far below the mean."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(40):
        ref = mpmath.gammainc(n + 1, mu, mpmath.inf, regularized=True)
        assert poisson_cdf(n, mu) == pytest.approx(float(ref), rel=1e-13, abs=1e-300)


@pytest.mark.parametrize("cl", [0.90, 0.95])
def test_poisson_and_cls_limits_at_a_million_background_events(cl):
    """Classical and CLs limits at b = 1e6 (n_obs = b) against scipy's Poisson CDF solved by brentq."""
    special = pytest.importorskip("scipy.special")
    optimize = pytest.importorskip("scipy.optimize")
    b, n = 1e6, 10 ** 6
    classical = optimize.brentq(lambda s: special.pdtr(n, s + b) - (1 - cl), 0.0, 1e4, xtol=1e-9)
    cls = optimize.brentq(lambda s: special.pdtr(n, s + b) / special.pdtr(n, b) - (1 - cl), 0.0, 1e4, xtol=1e-9)
    assert poisson_upper(n, b, cl) == pytest.approx(classical, rel=1e-8)
    assert cls_upper(n, b, cl) == pytest.approx(cls, rel=1e-8)


def test_sqrt_b_is_the_thesis_text_criterion():
    """Thesis ch. 5: N_sig = 2 sqrt(N_bg) ~ 430 sqrt(eps_tau) for the EIC (N_bg = 47000 eps_tau) and
    ~ 850 sqrt(eps_tau) for MuSIC (N_bg = 180000 eps_tau); b itself, not floor(b); cl unused."""
    for n_bg, quoted in ((47000.0, 430.0), (180000.0, 850.0)):
        for eps in (0.01, 0.1):
            assert round(sqrt_b_upper(n_bg * eps) / math.sqrt(eps), -1) == quoted
    assert signal_upper_limit(Statistics("sqrt-b", 0.9), 470.5) == 2.0 * math.sqrt(470.5)
    assert signal_upper_limit(Statistics("sqrt-b", 0.5), 470.5) == 2.0 * math.sqrt(470.5)
    assert not Statistics("sqrt-b", 0.9).uses_cl and Statistics("fc", 0.9).uses_cl
    with pytest.raises(UsageError, match="'sqrt-b' .* needs a background, got b = 0 events"):
        signal_upper_limit(Statistics("sqrt-b", 0.9), 0.0)


def test_sqrt_b_selected_per_experiment_and_on_the_command_line():
    s = toy_scan([160.0, 1000.0], [2.5, 5.0, 10.0], p=0.3, targets=("Pb",))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fixed = compute_limits_for_store(s, experiments=["hemu"], n_req=3.0)
        res = compute_limits_for_store(s, experiments=["hemu"],
                                       overrides={"hemu.background_events": 100, "hemu.statistics": "sqrt-b"})
        with pytest.raises(UsageError, match="hemu/.*'sqrt-b' .* needs a background"):
            compute_limits_for_store(s, experiments=["hemu"], overrides={"hemu.statistics": "sqrt-b"})
    assert res.limits[0].n_req == 20.0 and res.limits[0].statistics.method == "sqrt-b"
    np.testing.assert_allclose(res.limits[0].g_lim / fixed.limits[0].g_lim, math.sqrt(20.0 / 3.0), rtol=1e-12)
    parser = argparse.ArgumentParser()
    add_experiment_options(parser)
    assert parse_statistics(parser.parse_args(["--statistics", "sqrt-b"])).method == "sqrt-b"
    with pytest.raises(UsageError, match="--cl needs --statistics poisson, fc, cls, got --statistics sqrt-b"):
        parse_statistics(parser.parse_args(["--statistics", "sqrt-b", "--cl", "0.95"]))


@pytest.mark.parametrize("cl", [0.90, 0.95])
def test_classical_poisson_table(cl):
    assert tuple(round(poisson_upper(n, 0.0, cl), 2) for n in range(5)) == POISSON_UPPER[cl]


@pytest.mark.parametrize("cl", [0.90, 0.95])
def test_zero_background_reduces_exactly(cl):
    # poisson and CLs: -ln(1 - CL) exactly (2.302585... at 90 %, 2.995732... at 95 %)
    for method in ("poisson", "cls"):
        assert signal_upper_limit(Statistics(method, cl), 0.0) == -math.log1p(-cl)
    # a background below one event: CLs does not depend on it for n_obs = 0, classical shifts by b
    assert signal_upper_limit(Statistics("cls", cl), 0.5) == -math.log1p(-cl)
    assert signal_upper_limit(Statistics("poisson", cl), 0.5) == pytest.approx(-math.log1p(-cl) - 0.5, abs=1e-15)


def test_fixed_statistics_keeps_the_given_n_req_and_refuses_background():
    s = toy_scan([160.0, 1000.0], [2.5, 5.0, 10.0], p=0.3, targets=("Pb",))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = compute_limits_for_store(s, experiments=["hemu"], n_req=3.0)
        same = compute_limits_for_store(s, experiments=["hemu"], n_req=3.0, statistics=DEFAULT_STATISTICS,
                                        overrides={"hemu.background_events": 0})
        for a, b in zip(old.limits, same.limits):
            assert np.array_equal(a.g_lim, b.g_lim) and a.n_req == b.n_req == 3.0
        with pytest.raises(UsageError, match="background 1.5 events needs statistics"):
            compute_limits_for_store(s, experiments=["hemu"], overrides={"hemu.background_events": 1.5})
        fc = compute_limits_for_store(s, experiments=["hemu"], overrides={"hemu.background_events": 3},
                                      statistics=Statistics("fc", 0.9))
    ratio = fc.limits[0].g_lim / old.limits[0].g_lim
    np.testing.assert_allclose(ratio, math.sqrt(fc_upper(3, 3.0, 0.9) / 3.0), rtol=1e-12)
    assert round(fc.limits[0].n_req, 2) == 4.42  # FC Table IV: n0 = 3, b = 3 -> [0.00, 4.42]


def test_expected_outcome_is_floor_of_background():
    assert [expected_n_obs(b) for b in (0.0, 0.5, 2.99, 3.0, 15.2)] == [0, 0, 2, 3, 15]
    with pytest.raises(UsageError, match="background must be finite"):
        expected_n_obs(-1.0)
    with pytest.raises(UsageError, match="statistics must be one of"):
        Statistics("bayes", 0.9)
    with pytest.raises(UsageError, match="confidence level"):
        Statistics("fc", 90)


@pytest.mark.slow
@pytest.mark.parametrize("cl", [0.90, 0.95])
def test_cls_against_pyhf(cl):
    """pyhf (HistFactory, the LHC's counting-experiment tool) gives CLs from the asymptotic
    q~_mu distribution; the exact counting CLs lies above it at low counts and the two approach
    each other as the background grows (b = 0 has no pyhf model: log of a zero rate)."""
    pyhf = pytest.importorskip("pyhf")
    rel = []
    for b in (0.5, 3.0, 15.0):
        model = pyhf.Model({"channels": [{"name": "c", "samples": [
            {"name": "sig", "data": [1.0], "modifiers": [{"name": "mu", "type": "normfactor", "data": None}]},
            {"name": "bkg", "data": [b], "modifiers": []}]}]}, poi_name="mu")
        n = expected_n_obs(b)

        def excess(mu):
            return float(pyhf.infer.hypotest(mu, [n], model, test_stat="qtilde", par_bounds=[(0, 50)])) - (1 - cl)

        lo, hi = 0.01, 30.0
        while hi - lo > 1e-4:
            lo, hi = ((0.5 * (lo + hi), hi) if excess(0.5 * (lo + hi)) > 0 else (lo, 0.5 * (lo + hi)))
        rel.append(lo / cls_upper(n, b, cl) - 1.0)
    assert all(r < 0 for r in rel) and abs(rel[0]) > abs(rel[1]) > abs(rel[2])
    assert abs(rel[2]) < 0.07  # b = 15: asymptotics within 7 % of the exact limit


def _e_tau(scan):
    """The toy scan declared as e -> tau (the store config's process table)."""
    scan.attrs["config"] = {"process": {"beam": "e", "final": "tau"}}
    return scan


def test_experiment_refuses_a_scan_of_another_process():
    s = toy_scan([100.0, 1000.0], [2.5, 5.0], p=0.3, targets=("Pb",))
    with pytest.raises(UsageError, match="experiment 'na64e' observes e -> tau, the scan computed mu -> tau"):
        compute_limits_for_store(s, experiments=["na64e"])
    with pytest.raises(UsageError, match="experiment 'mubed' observes mu -> tau, the scan computed e -> tau"):
        compute_limits_for_store(_e_tau(toy_scan([1000.0], [2.5], targets=("Pb",))), experiments=["mubed"])


# first principles: N = leptons on target x n_T L x efficiency x sigma, N_req from the statistics
PB_COLUMN_PER_G = 6.02214076e23 / 207.2 * 1e-36  # Pb nuclei per g [1/g] x (1 pb in cm^2): PDG molar mass


def test_na64e_limit_from_first_principles():
    masses = [2.5, 5.0]
    s = _e_tau(toy_scan([100.0], masses, p=0.3, targets=("Pb",)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = compute_limits_for_store(s, experiments=["na64e"])
    n_t_l = 40 * 6.37 * PB_COLUMN_PER_G  # 40 X0 of lead, X0 = 6.37 g/cm^2 (PDG) [1/pb]
    n_hat = 9.37e11 * n_t_l * 1.0 * s.sigma_pb[0, 0]  # EOT (NA64, PRL 131 (2023) 161801), BR_inv = 1
    np.testing.assert_allclose(res.limits[0].g_lim, np.sqrt(3.0 / n_hat), rtol=5e-3)


def test_mubed_limit_from_first_principles():
    masses = [5.0, 10.0]
    s = toy_scan([1000.0], masses, p=0.3, targets=("Pb",))
    tiny = {f"mubed.1e18-2cm.{k}": 1e-9 for k in ("res_tau1_cm", "res_tau2_cm")}  # every tau resolved
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = compute_limits_for_store(s, experiments=["mubed"], overrides=tiny)
    lim = {x.key: x for x in res.limits}["mubed/1e18-2cm"]
    n_t_l = 2.0 * 11.35 * PB_COLUMN_PER_G  # 2 cm of lead, 11.35 g/cm^3 (PDG)
    n_hat = 1e18 * n_t_l * 0.5 * 0.152 ** 2 * s.sigma_pb[0, 0]  # charge flip 1/2, two 3-prong taus (PDG 15.2 %)
    np.testing.assert_allclose(lim.g_lim, np.sqrt(2.44 / n_hat), rtol=5e-3)  # FC 90 %, n0 = 0, b = 0
    assert lim.statistics == Statistics("fc", 0.9)
