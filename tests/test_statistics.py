"""Limits with background (lfvscan.pheno.statistics, docs/physics.md §10.6) against published tables
and pyhf, and the new experiments' limits from first principles (§10.7)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from _toy_scan import toy_scan
from lfvscan.errors import UsageError
from lfvscan.pheno.statistics import (
    DEFAULT_STATISTICS, Statistics, cls_upper, expected_n_obs, fc_upper, poisson_upper, signal_upper_limit,
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
