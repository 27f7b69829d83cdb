"""vegas cross section against an independent deterministic quadrature of the same physics (§7.6).

The quadrature integrates d sigma / dE_a dcos(theta_a) (:func:`lfvscan.xsec.dsigma_dw_dcos`, whose
t integral is Gauss-Legendre in the mapped t variable) with adaptive scipy ``quad`` over
ln(E - E_a - m_tau) (break point at the kink w = t_cut / 2M) and composite Gauss-Legendre over
ln(theta_a).  Each result is computed at two refinement levels that must agree before it is
used as the reference.
"""

from lfvscan.physics.process import DEFAULT_PROCESS
import math

import numpy as np
import pytest
from scipy import integrate

from lfvscan.physics.constants import M_MU, M_TAU
from lfvscan.physics.presets import PDG_2024
from lfvscan.xsec import cell_physics, compute_cell, dsigma_dw_dcos

PAIR = PDG_2024.lepton_pair(DEFAULT_PROCESS)

LEVELS = ({"n_panels": 30, "n_gl": 8, "n_t": 24, "epsrel": 1e-5},
          {"n_panels": 60, "n_gl": 8, "n_t": 40, "epsrel": 1e-6})


def sigma_quadrature(target, E, m_a, *, n_panels, n_gl, n_t, epsrel, part="total", theta_a_min=1e-8,
                     theta=math.pi / 4, w_range=None, process=DEFAULT_PROCESS):
    """Deterministic sigma [pb] (g = 1) of ``process``; optionally only for w = E - E_a - m_final in
    ``w_range``."""
    cp = cell_physics(target, E, m_a, theta=theta, theta_a_min=theta_a_min, physics=PDG_2024,
                      pair=PDG_2024.lepton_pair(process), boson=process.boson)
    lw0, lw1 = (math.log(w) for w in cp.w_bounds)
    lt0, lt1 = math.log(theta_a_min), math.log(math.pi)  # the whole theta_a range, in ln theta_a
    if w_range is not None:
        if w_range[0] > 0:
            lw0 = max(lw0, math.log(w_range[0]))
        lw1 = min(lw1, math.log(w_range[1]))
        if lw1 <= lw0:
            return 0.0
    xg, wg = np.polynomial.legendre.leggauss(n_gl)
    edges = np.linspace(lt0, lt1, n_panels + 1)
    h = np.diff(edges)
    lth = (edges[:-1, None] + 0.5 * h[:, None] * (xg[None, :] + 1)).ravel()
    wth = (0.5 * h[:, None] * wg[None, :]).ravel()
    th = np.exp(lth)
    jac_th = np.sin(th) * th * wth  # dcos = sin(th) th dln(th)

    def inner(lw):
        w = math.exp(lw)
        return w * np.dot(dsigma_dw_dcos(np.full_like(th, w), th, cp, n_t=n_t, part=part), jac_th)

    wk = math.log(cp.ff.t_cut_GeV2 / (2 * cp.M))
    pts = [wk] if lw0 < wk < lw1 else None
    val, _ = integrate.quad(inner, lw0, lw1, points=pts, epsrel=epsrel, limit=400)
    return val


def reference(target, E, m_a, **kw):
    """Quadrature at two refinement levels; assert they agree (the refinement is converged)."""
    coarse, fine = (sigma_quadrature(target, E, m_a, **lv, **kw) for lv in LEVELS)
    assert fine == pytest.approx(coarse, rel=2e-4), (coarse, fine)
    return fine


@pytest.mark.parametrize("target, E, m_a", [
    ("Pb", 1000.0, 5.0),
    ("Pb", 3000.0, 2.0),   # highest energy, coherent-dominated
    ("W", 1000.0, 20.0),   # heavy ALP, incoherent-dominated
    ("Pb", 3000.0, 40.0),  # heavy ALP at 3 TeV
    ("W", 160.0, 10.0),    # near threshold of the t_cut reach
])
@pytest.mark.slow
def test_vegas_agrees_with_quadrature(target, E, m_a):
    ref = reference(target, E, m_a)
    r = compute_cell(target, E, m_a, rel_err=0.002, seed=11)
    assert abs(r.sigma_pb - ref) < 3 * r.sigma_err_pb + 2e-3 * ref, (r.sigma_pb, r.sigma_err_pb, ref)
    assert r.sigma_err_pb <= 0.002 * r.sigma_pb


@pytest.mark.slow
def test_coherent_and_incoherent_parts():
    E, m_a = 1000.0, 10.0
    r = compute_cell("Pb", E, m_a, rel_err=0.002, seed=3)
    lv = LEVELS[1]
    for part, val, err in (("coherent", r.sigma_coherent_pb, r.sigma_coherent_err_pb),
                           ("incoherent", r.sigma_incoherent_pb, r.sigma_incoherent_err_pb)):
        ref = sigma_quadrature("Pb", E, m_a, part=part, **lv)
        assert abs(val - ref) < 3 * err + 2e-3 * ref, (part, val, err, ref)


def test_theta_a_cutoff_is_negligible():
    """Moving the documented lower ALP-angle cut-off from 1e-8 to 1e-10 rad changes sigma by < 1e-6."""
    lv = LEVELS[0]
    a = sigma_quadrature("Pb", 3000.0, 2.0, **lv)
    b = sigma_quadrature("Pb", 3000.0, 2.0, theta_a_min=1e-10, **lv)
    assert b == pytest.approx(a, rel=1e-6)


def test_t_integral_against_plain_adaptive_quadrature():
    """The mapped Gauss-Legendre t integral of dsigma/dE_a dcos equals scipy quad over raw ln t."""
    from lfvscan.physics import kinematics as K
    from lfvscan.xsec import d3sigma

    cp = cell_physics("Pb", 1000.0, 10.0, physics=PDG_2024, pair=PAIR, boson="scalar")
    for w, th in ((50.0, 2e-3), (3.0, 1e-2), (600.0, 3e-4)):
        kin = K.alp_kinematics(cp.E, w, th, cp.m_a, m_beam=M_MU, m_final=M_TAU)
        t_lo, t_hi = K.t_bounds(kin.E_minus_Ea, kin.V, kin.u, cp.M)
        t_up = K.t_upper(t_hi, w, cp.M, 1.0)

        def f(lt):
            coh, inc, *_ = d3sigma(w, th, math.exp(lt), cp)
            return float(coh + inc) * math.exp(lt)

        ref, _ = integrate.quad(f, math.log(t_lo), math.log(t_up), epsrel=1e-11, limit=400)
        got = float(dsigma_dw_dcos(w, th, cp, n_t=48))
        assert got == pytest.approx(ref, rel=1e-8)


def test_x_f_distribution_against_quadrature():
    """Coarse d sigma / d ln x_f bins against the quadrature restricted to each bin's W range.

    The quadrature bins in W = E - E_a (tau + recoil energy); vegas bins in the exact
    E_tau = W - t/2M.  The shift t/2M < 2.6e-3 GeV moves < 1e-4 of a bin at these energies.
    """
    from lfvscan.physics.constants import M_TAU

    E, m_a = 1000.0, 5.0
    r = compute_cell("Pb", E, m_a, rel_err=0.002, seed=8, n_xbins=4)
    dlnx = math.log(E / M_TAU) / 4
    for i, (xa, xb) in enumerate(zip(r.x_f_edges[:-1], r.x_f_edges[1:])):
        ref = sigma_quadrature("Pb", E, m_a, w_range=(xa * E - M_TAU, xb * E - M_TAU), **LEVELS[0]) / dlnx
        val, err = r.dsigma_dlnx_f_pb[i], r.dsigma_dlnx_f_err_pb[i]
        assert abs(val - ref) < 3 * err + 2e-3 * ref, (i, val, err, ref)
