"""Deterministic quadrature of the exact 2 -> 3 cross section for either boson family
(docs/physics.md §7.6, §7.14); a test helper, independent of the vegas path.

    sigma = int dE_a dcos(theta_a) alpha^2/(32 pi M^2) |k|/(|p| V) int_{t_lo}^{t_up} dt F^2(t)/t^2 Abar(t)

with the production kinematics of :mod:`lfvscan.physics.kinematics` (§7.5, §7.7) and the phi_q-averaged
amplitude of the boson family given as a callable ``abar(s0, s1, kin, t, cp)`` (:func:`abar_scalar`,
:func:`abar_vector`).  Outer integral: adaptive scipy ``quad`` over ln w, w = E - E_a - m_final (break
point at the kink w = t_cut/2M); middle: composite Gauss-Legendre over ln theta_a; inner: Gauss-Legendre in
the mapped t variable of §7.8 (t = t_lo exp(L r^2 (3 - 2r))).  :func:`reference` evaluates two refinement
levels and requires them to agree.  The cell (target, energy, boson mass, lepton pair, form factors,
alpha, pb conversion, theta_a cut-off) is a :class:`lfvscan.xsec.integrand.CellPhysics`; its scalar
couplings are used only by :func:`abar_scalar`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from lfvscan.physics import kinematics as K
from lfvscan.physics.amplitude import amplitude_phi_avg
from lfvscan.physics.amplitude_vector import amplitude_vector_phi_avg, vector_coefficients
from lfvscan.physics.formfactors import f2_coherent, f2_incoherent
from lfvscan.xsec.integrand import LN_BELOW_THETA_S

LEVELS = ({"n_panels": 30, "n_gl": 8, "n_t": 24, "epsrel": 1e-5},
          {"n_panels": 60, "n_gl": 8, "n_t": 40, "epsrel": 1e-6})


def abar_scalar(s0, s1, kin, t, cp):
    """<A>_phi of the spin-0 boson with the cell's (g_eff^2, Delta_m) (§7.6)."""
    return amplitude_phi_avg(s0, s1, kin.u, t, cp.E, kin.E_a, cp.M, cp.g_eff2, cp.dm, E_minus_Ea=kin.E_minus_Ea)


def abar_vector(g_V2: float, g_A2: float):
    """The callable <A_1>_phi of the spin-1 boson with couplings g_V^2, g_A^2 (§7.14)."""
    def abar(s0, s1, kin, t, cp):
        c = vector_coefficients(cp.m_a, g_V2, g_A2, cp.m_final, cp.m_beam)
        return amplitude_vector_phi_avg(s0, s1, kin.u, t, cp.E, kin.E_a, cp.M, c, E_minus_Ea=kin.E_minus_Ea)
    return abar


def dsigma_dw_dcos(w, theta_a, cp, abar, *, n_t: int, part: str = "total"):
    """d sigma / dE_a dcos(theta_a) [pb/GeV] at arrays (w, theta_a) (same shape), g = 1; zero outside the
    physical region.  ``part``: "total", "coherent" or "incoherent"."""
    w, theta_a = (np.asarray(x, dtype=float) for x in (w, theta_a))
    xg, wg = np.polynomial.legendre.leggauss(n_t)
    r, wr = 0.5 * (xg + 1.0), 0.5 * wg
    good = (w > 0) & (cp.E - cp.m_a - cp.m_final - w > 0)
    kin = K.alp_kinematics(cp.E, np.where(good, w, 1.0)[:, None], theta_a[:, None], cp.m_a,
                           m_beam=cp.m_beam, m_final=cp.m_final)
    t_lo, t_hi = K.t_bounds(kin.E_minus_Ea, kin.V, kin.u, cp.M)
    t_up = K.t_upper(t_hi, np.where(good, w, 1.0)[:, None], cp.M, cp.ff.t_cut_GeV2)
    ok = (t_up > t_lo) & good[:, None]
    lo, up = np.where(ok, t_lo, 1.0), np.where(ok, t_up, 1.0)
    L = np.log(up / lo)
    t = lo * np.exp(L * r * r * (3.0 - 2.0 * r))
    dtdr = t * L * 6.0 * r * (1.0 - r)
    s0, s1 = K.s_coefficients(t, kin, cp.M)
    pref = cp.alpha**2 / (32.0 * math.pi * cp.M**2) * cp.gev2_to_pb * kin.k / (kin.p * kin.V) / (t * t)
    dens = pref * abar(s0, s1, kin, t, cp)
    f2 = {"total": lambda: f2_coherent(t, cp.target, cp.ff) + f2_incoherent(t, cp.target, cp.ff),
          "coherent": lambda: f2_coherent(t, cp.target, cp.ff),
          "incoherent": lambda: f2_incoherent(t, cp.target, cp.ff)}[part]()
    return np.where(ok, dens * f2 * dtdr, 0.0) @ wr


def sigma_quadrature(cp, abar, *, n_panels, n_gl, n_t, epsrel, part="total", w_range=None):
    """Deterministic sigma [pb] (g = 1) of the cell ``cp`` for the averaged amplitude ``abar``;
    optionally only for w = E - E_a - m_final in ``w_range`` [GeV]."""
    (lw0, lw1), _, _ = cp.bounds
    # ln theta_a over the physical range [theta_a_min, pi], less the part below theta_s e^-10 where the
    # integrand is ~ e^-20 of its peak (its own variable, not the vegas one: theta_s of the smallest w)
    lt0 = math.log(max(cp.theta_a_min, cp.theta_s_min * math.exp(-LN_BELOW_THETA_S)))
    lt1 = math.log(math.pi)
    if w_range is not None:
        if w_range[0] > 0:
            lw0 = max(lw0, math.log(w_range[0]))
        lw1 = min(lw1, math.log(w_range[1]))
        if lw1 <= lw0:
            return 0.0
    xg, wg = np.polynomial.legendre.leggauss(n_gl)
    edges = np.linspace(lt0, lt1, n_panels + 1)
    h = np.diff(edges)
    th = np.exp((edges[:-1, None] + 0.5 * h[:, None] * (xg[None, :] + 1)).ravel())
    jac_th = np.sin(th) * th * (0.5 * h[:, None] * wg[None, :]).ravel()  # dcos = sin(th) th dln(th)

    def inner(lw):
        w = math.exp(lw)
        return w * np.dot(dsigma_dw_dcos(np.full_like(th, w), th, cp, abar, n_t=n_t, part=part), jac_th)

    wk = math.log(cp.ff.t_cut_GeV2 / (2 * cp.M))
    pts = [wk] if lw0 < wk < lw1 else None
    val, _ = integrate.quad(inner, lw0, lw1, points=pts, epsrel=epsrel, limit=400)
    return val


def reference(cp, abar, rel=2e-4, levels=LEVELS, **kw):
    """:func:`sigma_quadrature` at two refinement levels (default :data:`LEVELS`), required to agree
    to ``rel``; returns the finer one [pb]."""
    coarse, fine = (sigma_quadrature(cp, abar, **lv, **kw) for lv in levels)
    assert fine == pytest.approx(coarse, rel=rel), (coarse, fine)
    return fine
