"""Yields on a toy scan built in memory vs hand calculations (docs/physics.md §8, §10).

Toy cross section (tests/_toy_scan.py): dsigma/dln x_tau = c(E) x_tau^p on the physical range,
stored as exact bin averages.
The hand calculations below integrate the toy analytically (or with scipy.quad and an
independently written P_2), never through lfvscan.pheno.yields.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.integrate import quad

from lfvscan.xsec.result import x_f_edges
from lfvscan.pheno.experiments import Selection, load_experiments
from lfvscan.pheno.flux import MuonFlux
from lfvscan.schema import PENDING
from lfvscan.pheno.acceptance import acceptance_weights, p2_pass
from lfvscan.pheno.coverage import FluxRangeWarning, IncompleteScanWarning
from lfvscan.pheno.folding import fold_flux, muons_outside_grid
from lfvscan.pheno.yields import compute_yields, curve_yield

from _toy_scan import CTAU, M_TAU, NL_PB2, NL_W, REL_ERR, c_of, nl_pb, toy_scan
from _leptons import PAIR


def e_cut(d):
    return math.sqrt((M_TAU * d / CTAU) ** 2 + M_TAU**2)


def p2_hand(E_a, m_a, d, m_mu=0.1056583755):
    """Independent P_2: flat tau energy between E_-, E_+ (docs/physics.md §8.3, §8.5)."""
    Es = (m_a**2 + M_TAU**2 - m_mu**2) / (2 * m_a)
    ps = math.sqrt(Es**2 - M_TAU**2)
    g = E_a / m_a
    gb = math.sqrt(max(g * g - 1, 0))
    Ep, Em = g * Es + gb * ps, g * Es - gb * ps
    if Ep - Em <= 0:
        return 1.0 if Es > e_cut(d) else 0.0
    return min(max((Ep - max(e_cut(d), Em)) / (Ep - Em), 0.0), 1.0)


def exps(**over):
    return load_experiments(overrides=over)


# ----------------------------------------------------------------------------- P_2 reference
@pytest.mark.parametrize(
    "E_a,m_a,d,ref",
    [(1000, 10, 2.0, 0.61091), (1000, 10, 0.2, 0.99042), (1000, 5, 2.0, 0.67705), (1000, 5, 0.2, 1.0),
     (500, 20, 2.0, 0.18451), (500, 20, 0.2, 0.92590)],
)
def test_p2_matches_physics_md_13_7(E_a, m_a, d, ref):
    assert p2_pass(E_a, m_a, d, pair=PAIR) == pytest.approx(ref, abs=6e-6)


# ----------------------------------------------------------------------------- mono beams
@pytest.mark.parametrize("p", [0.0, 0.7, -0.3])
def test_ultimate_mono_yield_matches_analytic(p):
    scan = toy_scan([160.0, 1000.0], [5.0, 10.0, 20.0], p=p)
    e = exps()["hemu"]
    y = curve_yield(scan, e, e.curve("inv-ultimate"))
    for k, m in enumerate([5.0, 10.0, 20.0]):
        x_lo, x_hi = M_TAU / 1000, 1 - m / 1000
        integ = math.log(x_hi / x_lo) if p == 0 else (x_hi**p - x_lo**p) / p
        hand = 1e16 * NL_PB2 * 1.0 * c_of(1000, m) * integ
        assert y.n_hat[k] == pytest.approx(hand, rel=1e-6)


def test_tau1_cut_at_bin_edge_with_power_law():
    """Cut on a bin edge: the piecewise-constant treatment is exact for any p."""
    E, p, d = 1000.0, 0.7, 2.0
    xc = e_cut(d) / E

    def edges(E_):
        a = np.geomspace(M_TAU / E_, xc, 13)
        return np.concatenate([a, np.geomspace(xc, 1, 21)[1:]])

    scan = toy_scan([E], [5.0, 10.0, 20.0], p=p, targets=("Pb",), edges_fn=edges)
    e = exps()["hemu"]
    y = curve_yield(scan, e, e.curve("inv-2cm"))
    for k, m in enumerate([5.0, 10.0, 20.0]):
        hand = 1e16 * NL_PB2 * 0.152 * c_of(E, m) * ((1 - m / E) ** p - xc**p) / p
        assert y.n_hat[k] == pytest.approx(hand, rel=1e-6)


@pytest.mark.parametrize("curve,d", [("inv-2cm", 2.0), ("inv-2mm", 0.2)])
def test_tau1_cut_inside_bin_flat(curve, d):
    """p = 0: the histogram is exactly piecewise constant, the cut falls inside a bin."""
    scan = toy_scan([1000.0], [5.0, 10.0, 20.0], p=0.0, targets=("Pb",), nb=37)
    e = exps()["hemu"]
    y = curve_yield(scan, e, e.curve(curve))
    for k, m in enumerate([5.0, 10.0, 20.0]):
        hand = 1e16 * NL_PB2 * 0.152 * c_of(1000, m) * math.log((1 - m / 1000) / (e_cut(d) / 1000))
        assert y.n_hat[k] == pytest.approx(hand, rel=1e-6)


@pytest.mark.parametrize("curve,d", [("vis-2cm", 2.0), ("vis-2mm", 0.2)])
def test_visible_tau1_and_tau2_cuts(curve, d):
    E = 1000.0
    scan = toy_scan([E], [5.0, 10.0, 20.0], p=0.0, targets=("Pb",), nb=29)
    e = exps()["hemu"]
    y = curve_yield(scan, e, e.curve(curve))
    for k, m in enumerate([5.0, 10.0, 20.0]):
        integ, _ = quad(lambda u: p2_hand(E * (1 - math.exp(u)), m, d), math.log(e_cut(d) / E),
                        math.log(1 - m / E), limit=400, epsabs=0, epsrel=1e-11)
        hand = 1e16 * NL_PB2 * 0.5 * 0.152**2 * c_of(E, m) * integ
        assert y.n_hat[k] == pytest.approx(hand, rel=1e-6)


def test_mc_errors_in_quadrature():
    scan = toy_scan([1000.0], [10.0], p=0.4, targets=("Pb",))
    e = exps()["hemu"]
    y = curve_yield(scan, e, e.curve("inv-ultimate"))
    edges = scan.x_f_edges[0]
    contrib = scan.dsigma_dlnx_f_pb[0, 0, 0] * np.log(edges[1:] / edges[:-1])
    hand = 1e16 * NL_PB2 * REL_ERR * math.sqrt(np.sum(contrib**2))
    assert y.n_hat_err[0] == pytest.approx(hand, rel=1e-9)
    assert y.n_hat_err[0] < REL_ERR * y.n_hat[0]  # bins independent -> smaller than fully correlated


def test_na64_exposure_and_closed_cell():
    """NA64: 40 X0 of Pb, BR(tau->mu nu nu); m_a above the 160 GeV reach -> zero events."""
    scan = toy_scan([160.0, 1000.0], [5.0, 10.0, 200.0])
    e = exps()["na64mu"]
    y = curve_yield(scan, e, e.curve("projected"))
    L = 40 * 6.37 / 11.35
    hand = 1e13 * nl_pb(11.35, 207.2, L) * 0.174 * c_of(160, 5.0) * math.log((1 - 5 / 160) / (M_TAU / 160))
    assert y.n_hat[0] == pytest.approx(hand, rel=1e-6)
    assert y.n_hat[2] == 0.0
    cur = curve_yield(scan, e, e.curve("current"))
    assert cur.n_hat[0] == pytest.approx(hand * 1.98e10 / 1e13, rel=1e-12)


# ----------------------------------------------------------------------------- flux folding
def test_flux_folding_with_tau1_cut():
    """FASERnu2: flux bins aligned with, straddling and beyond the grid; the fold equals the direct
    integral of the toy's analytic selected cross section (muons uniform in ln E per bin) within
    0.5 % (docs/physics.md §10.1); above the grid nothing is used and a warning says so."""
    grid = np.geomspace(50.0, 3200.0, 13)  # ratio 1.41, like the paper grid (1.28)
    masses = [5.0, 10.0]
    scan = toy_scan(grid, masses, p=0.0, targets=("Pb", "W"))
    d = 0.2

    def S(E, m):  # selected cross section per unit flux before factor, for p = 0
        lo = max(e_cut(d) / E, M_TAU / E)
        return c_of(E, m) * max(math.log((1 - m / E) / lo), 0.0) if m + M_TAU < E else 0.0

    lo_edges = np.array([50.0, 200.0, 400.0, 1600.0, 3200.0])
    hi_edges = np.array([200.0, 400.0, 1600.0, 3200.0, 6400.0])
    Np = np.array([1.0e5, 3.0e5, 2.0e5, 0.5e5, 0.3e5])
    Nm = np.array([2.0e5, 1.0e5, 4.0e5, 1.5e5, 0.2e5])
    flux = MuonFlux(lo_edges, hi_edges, Np, Nm, source="toy")
    e = exps()["fasernu2"]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        y = curve_yield(scan, e, e.curve("reconstructed"), flux=flux)
    assert any(issubclass(w.category, FluxRangeWarning) and "above 3200" in str(w.message) for w in rec)
    for k, m in enumerate(masses):
        tot = 0.0
        for a, b, N in zip(lo_edges, hi_edges, Np + Nm):
            hi = min(b, 3200.0)
            if hi > a:
                v, _ = quad(lambda u: S(math.exp(u), m), math.log(a), math.log(hi), epsrel=1e-11, limit=200)
                tot += N * v / math.log(b / a)
        hand = 3000.0 * NL_W * 0.174 * tot
        assert y.n_hat[k] == pytest.approx(hand, rel=5e-3)


def test_fold_conserves_muons_inside_grid():
    flux = MuonFlux(np.array([10.0, 100.0]), np.array([100.0, 1000.0]), np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    grid = [10.0, 30.0, 1000.0]
    folded = fold_flux(flux, grid, np.ones((3, 1)))
    assert folded.value[0] == pytest.approx(10.0, rel=1e-12)  # S = 1 everywhere -> all muons
    assert folded.used.all()
    assert muons_outside_grid(flux, grid) == (0.0, 0.0)
    below, above = muons_outside_grid(flux, [100.0, 300.0])
    assert below == pytest.approx(4.0) and above == pytest.approx(6.0 * math.log(10 / 3) / math.log(10))
    assert fold_flux(flux, [100.0, 300.0], np.ones((2, 1))).value[0] == pytest.approx(6.0 * math.log(3) / math.log(10))


def test_flux_skipped_energies_not_required():
    """W cells SKIPPED at an energy (not requested) are not part of the folding grid."""
    grid = [50.0, 200.0, 1000.0]
    scan = toy_scan(grid, [5.0], targets=("Pb", "W"), skipped=[(1, 2)])
    flux = MuonFlux(np.array([50.0]), np.array([200.0]), np.array([1.0]), np.array([1.0]))
    e = exps()["fasernu2"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", IncompleteScanWarning)
        y = curve_yield(scan, e, e.curve("ultimate"), flux=flux)
    s = [c_of(E, 5.0) * math.log((1 - 5 / E) / (M_TAU / E)) for E in grid[:2]]
    # two grid points: S log-log linear on the one segment, its ln E average is the log mean
    assert y.n_hat[0] == pytest.approx(3000 * NL_W * 2 * (s[1] - s[0]) / math.log(s[1] / s[0]), rel=1e-12)


# ----------------------------------------------------------------------------- incomplete scans
def test_incomplete_scan_warns_and_marks_nan():
    scan = toy_scan([160.0, 1000.0], [5.0, 10.0, 20.0])
    scan.status[0, 1, 1] = PENDING  # Pb, 1 TeV, 10 GeV
    e = {"hemu": exps()["hemu"]}
    with pytest.warns(IncompleteScanWarning, match=r"Pb E=1000 GeV m_a=10 GeV \(pending\)"):
        ys = compute_yields(scan, e)
    for y in ys:
        assert np.isnan(y.n_hat[1]) and np.isfinite(y.n_hat[0]) and np.isfinite(y.n_hat[2])
        assert y.missing == (("Pb", 1000.0, 10.0, "pending"),)


def test_weights_zero_beyond_reach_and_bounded():
    edges = x_f_edges(1000.0, 30, M_TAU)
    sel = Selection("x", "x", scenario="visible", res_tau1_cm=0.2, res_tau2_cm=0.2)
    w = acceptance_weights(edges, 1000.0, [10.0, 999.0, 2000.0], sel, PAIR)
    full = np.log(edges[1:] / edges[:-1])
    assert np.all(w >= 0)
    assert np.all(w[0] <= full * (1 + 1e-12))
    assert np.all(w[1] == 0) and np.all(w[2] == 0)  # x_max = 1 - m_a/E below m_tau/E, or m_a > E
    assert np.any(w[0] > 0)


# ----------------------------------------------------------------------------- exponential option
def lam_hand(E_tau):
    return math.sqrt(max(E_tau**2 - M_TAU**2, 0.0)) / M_TAU * CTAU


def surv(E_tau, d):
    lam = lam_hand(E_tau)
    return math.exp(-d / lam) if lam > 0 else 0.0


def test_exponential_acceptance_invisible():
    """docs/physics.md §8.5 option: survival probability exp(-d / lambda_tau) instead of a sharp cut."""
    E, d = 1000.0, 0.2
    scan = toy_scan([E], [5.0, 20.0], p=0.0, targets=("Pb",), nb=31)
    e = exps(**{"hemu.inv-2mm.acceptance": "exponential"})["hemu"]
    y = curve_yield(scan, e, e.curve("inv-2mm"))
    for k, m in enumerate([5.0, 20.0]):
        integ, _ = quad(lambda u: surv(E * math.exp(u), d), math.log(M_TAU / E), math.log(1 - m / E),
                        limit=400, epsabs=0, epsrel=1e-11)
        assert y.n_hat[k] == pytest.approx(1e16 * NL_PB2 * 0.152 * c_of(E, m) * integ, rel=1e-6)
    sharp = curve_yield(scan, exps()["hemu"], exps()["hemu"].curve("inv-2mm"))
    assert np.all(y.n_hat != sharp.n_hat)


def test_exponential_acceptance_visible():
    E, d = 1000.0, 2.0
    m = 10.0
    scan = toy_scan([E], [m], p=0.0, targets=("Pb",), nb=23)
    e = exps(**{"hemu.vis-2cm.acceptance": "exponential"})["hemu"]
    y = curve_yield(scan, e, e.curve("vis-2cm"))
    Es = (m**2 + M_TAU**2 - 0.1056583755**2) / (2 * m)
    ps = math.sqrt(Es**2 - M_TAU**2)

    def p2_exp(E_a):
        g = E_a / m
        gb = math.sqrt(max(g * g - 1, 0))
        lo, hi = max(g * Es - gb * ps, M_TAU), g * Es + gb * ps
        return quad(lambda t: surv(t, d), lo, hi, epsabs=0, epsrel=1e-12)[0] / (hi - lo)

    integ, _ = quad(lambda u: surv(E * math.exp(u), d) * p2_exp(E * (1 - math.exp(u))),
                    math.log(M_TAU / E), math.log(1 - m / E), limit=400, epsabs=0, epsrel=1e-10)
    assert y.n_hat[0] == pytest.approx(1e16 * NL_PB2 * 0.5 * 0.152**2 * c_of(E, m) * integ, rel=1e-6)


def test_na64_optional_muon_energy_cut():
    """P(E_mu' < 80 GeV) with dN/dy = 5/3 - 3y^2 + 4/3 y^3 (docs/physics.md §8.4), written out by hand."""
    E, m = 160.0, 5.0
    scan = toy_scan([E, 1000.0], [m], p=0.0, nb=27)
    e = exps(**{"na64mu.projected.muon_energy_max_GeV": 80.0})["na64mu"]
    y = curve_yield(scan, e, e.curve("projected"))

    def p_below(E_tau):
        yc = min(80.0 / E_tau, 1.0)
        return 5 / 3 * yc - yc**3 + yc**4 / 3

    integ, _ = quad(lambda u: p_below(E * math.exp(u)), math.log(M_TAU / E), math.log(1 - m / E),
                    points=[math.log(0.5)], limit=200, epsabs=0, epsrel=1e-12)
    L = 40 * 6.37 / 11.35
    assert y.n_hat[0] == pytest.approx(1e13 * nl_pb(11.35, 207.2, L) * 0.174 * c_of(E, m) * integ, rel=1e-6)
    full = math.log((1 - m / E) / (M_TAU / E))
    assert 0.9 * full < integ < full  # only taus above 80 GeV can fail
