"""Exact 2 -> 3 cross section of mu N -> tau N a per cell, integrated with vegas (physics.md §7).

Physics (g = 1, so sigma = g^2 sigma_hat, §7.6):

    d sigma / dE_a dcos(theta_a) = alpha^2 / (32 pi M^2) |k| / (|p| V)
                                   * int_{t_lo}^{t_up} dt F^2(t) / t^2 Abar(t; E_a, theta_a)

with the closed-form phi_q average ``Abar`` (:func:`lfvscan.amplitude.amplitude_phi_avg`), the
exact bounds of §7.7 and ``t_up = min(t_hi, t_cut, 2 M (E - E_a - m_tau))``
(:mod:`lfvscan.kinematics`).  ``F^2 = G_el + G_inel`` is split into its coherent and incoherent
parts (:mod:`lfvscan.formfactors`).

Integration variables (all smooth maps, §7.8):

* ``y0 = ln w`` with ``w = E - E_a - m_tau`` in ``[t_min / (2M), E - m_a - m_tau]``; the lower end is
  exact: ``t >= t_lo >= t_min`` (forward threshold kinematics, :func:`kinematics.t_min_exact`) and
  ``t <= 2 M w``, so nothing is cut.  Soft taus (heavy ALPs) keep their digits.
* ``y1 = ln theta_a`` in ``[ln theta_a_min, ln pi]``.  ``theta_a_min`` (default
  :data:`THETA_A_MIN` = 1e-8 rad) is the only approximation: below the characteristic angle
  ``theta_c ~ (m_a + m_tau)/E`` the integrand in ``ln theta_a`` falls like ``theta_a^2``, so the
  neglected part is ~ (theta_a_min/theta_c)^2 < 1e-8 for E <= 1e4 GeV (checked in the tests by
  moving it to 1e-10 rad).
* ``r`` in [0, 1]: ``t = t_lo exp(L h(r))``, ``L = ln(t_up / t_lo)``, ``h = r^2 (3 - 2r)``
  (log map clustered at both ends; ``h' = 6 r (1 - r)`` removes the square-root end-point
  behaviour of ``I1, I2``).

Errors: vegas first adapts its map on sigma_total (``n_adapt`` iterations, discarded), then runs
non-adapting iterations whose estimates are averaged without weights (the map is frozen, each
iteration is an unbiased estimate); iterations are added until the relative error on sigma_total is below
``rel_err``.  chi2/dof and Q are computed from those iterations.  The distribution
d sigma / d ln x_tau (x_tau = E_tau / E with the exact tau energy ``E_tau = W - t/(2M)``) is
accumulated from the same samples, one component per bin.

The final (frozen-map) iterations draw their points from ``Integrator.random_batch`` and form
vegas' stratified estimate themselves (:func:`_frozen_iteration`): per hypercube h with n_h points,
mean_h = sum_i w_i f_i and var_h = n_h/(n_h - 1) sum_i (w_i f_i - mean_h/n_h)^2, summed over h --
the estimator of ``Integrator.__call__`` with ``adapt=False, correlate_integrals=False``, which the
tests reproduce to ~1e-14.  Doing it with ``numpy.bincount`` instead of an array-valued integrand
avoids vegas' per-component loop and the gvar covariance bookkeeping of its array results, which
cost more than the integrand for 63 components (about 2x faster per final iteration).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import vegas

from . import kinematics as kin_mod
from .amplitude import amplitude_phi_avg
from .cell import CellResult, x_tau_edges
from .chi2 import chi2_survival
from .constants import ALPHA, GEV2_TO_PB, M_TAU
from .couplings import DEFAULT_THETA, check_convention, delta_m, g_eff_sq, yukawas
from .formfactors import DEFAULT_FF, FormFactorParams, f2_coherent, f2_incoherent
from .targets import Target, get_target
from .validate import positive

#: default lower cut-off of the ALP polar angle [rad] (see module docstring for its effect)
THETA_A_MIN = 1e-8


@dataclass(frozen=True)
class VegasSettings:
    """Tuning of the vegas driver (not physics).  Defaults chosen by ``benchmarks/xsec.py``."""

    neval_adapt: int = 4000  #: evaluations per adaptation iteration
    n_adapt: int = 6  #: adaptation iterations (discarded)
    neval_min: int = 4000  #: minimum evaluations per final iteration
    neval_max: int = 400_000  #: maximum evaluations per final iteration
    n_final_min: int = 3  #: minimum number of final iterations (for chi2)
    n_final_max: int = 60  #: maximum number of final iterations
    #: evaluation budget per cell; reached only within ~1e-5 of the kinematic edge m_a^max, where the
    #: phase space is a sliver and sigma ~ 1e-12 of typical values; the result then has
    #: ``meta["converged"] = False`` and its (honest, larger) error
    max_neval_total: int = 3_000_000
    alpha: float = 0.5  #: vegas grid damping
    maxinc_axis: int = 300  #: vegas map increments per axis


DEFAULT_VEGAS = VegasSettings()


# ----------------------------------------------------------------------------------- validation

def _check_positive_finite(name, value) -> float:
    """A positive finite scalar (ValueError naming ``name`` otherwise)."""
    return float(positive(name, value))


def _check_rel_err(rel_err):
    try:
        v = float(rel_err)
    except (TypeError, ValueError):
        raise ValueError(f"rel_err must be a number, got {rel_err!r}") from None
    if not (0.0 < v < 0.5):
        raise ValueError(f"rel_err must be in (0, 0.5), got {rel_err!r}")
    return v


# --------------------------------------------------------------------------------- kinematic reach

def max_mass_GeV(energy_GeV, target, ff: FormFactorParams = DEFAULT_FF) -> float:
    """Largest ALP mass [GeV] that can be produced with t <= t_cut at beam energy E (exact, §7.7).

    Forward threshold kinematics with finite nucleus mass, :func:`kinematics.max_mass_exact`.
    It lies slightly below the M -> inf estimate of §7.1/§13.7 (16.06 vs 16.11 GeV at 160 GeV).
    Returns 0.0 when nothing can be produced.
    """
    E = _check_positive_finite("energy_GeV", energy_GeV)
    tgt = get_target(target)
    return float(max(kin_mod.max_mass_exact(E, tgt.M, ff.t_cut_GeV2), 0.0))


def is_open(target, energy_GeV, mass_GeV, ff: FormFactorParams = DEFAULT_FF) -> bool:
    """True when some phase-space point has t_lo < t_cut with E_tau >= m_tau (exact, §7.7).

    The minimum of t_lo over the 2 -> 3 phase space is the forward threshold value
    ``t_min_exact(E, m_a + m_tau)``; the cell is open iff it is below t_cut.
    """
    E = _check_positive_finite("energy_GeV", energy_GeV)
    m = _check_positive_finite("mass_GeV", mass_GeV)
    tgt = get_target(target)
    tmin = kin_mod.t_min_exact(E, m + M_TAU, tgt.M)
    return bool(np.isfinite(tmin) and tmin < ff.t_cut_GeV2)


# ------------------------------------------------------------------------------------ integrand

@dataclass(frozen=True)
class CellPhysics:
    """Everything the integrand needs for one cell (g = 1)."""

    target: Target
    E: float  #: beam energy [GeV]
    m_a: float  #: ALP mass [GeV]
    g_eff2: float  #: g_S^2 + g_P^2 for g = 1
    dm: float  #: Delta_m [GeV^2] for g = 1 (§7.4)
    ff: FormFactorParams
    theta_a_min: float = THETA_A_MIN

    @property
    def M(self) -> float:
        return self.target.M

    @property
    def w_bounds(self) -> tuple[float, float]:
        """Exact range of w = E - E_a - m_tau [GeV] (see module docstring)."""
        tmin = float(kin_mod.t_min_exact(self.E, self.m_a + M_TAU, self.M))
        return tmin / (2.0 * self.M), self.E - self.m_a - M_TAU

    @property
    def bounds(self) -> list[list[float]]:
        """vegas integration box in (ln w, ln theta_a, r)."""
        wlo, whi = self.w_bounds
        return [[math.log(wlo), math.log(whi)], [math.log(self.theta_a_min), math.log(math.pi)], [0.0, 1.0]]


def cell_physics(target, energy_GeV, mass_GeV, *, theta=DEFAULT_THETA, convention="eq3", ff=DEFAULT_FF,
                 theta_a_min=THETA_A_MIN) -> CellPhysics:
    """Build the :class:`CellPhysics` for g = 1 and the Yukawas of (theta, convention) (§2.4)."""
    check_convention(convention)
    g_S, g_P = yukawas(1.0, theta, convention)
    g_S, g_P = float(g_S), float(g_P)
    return CellPhysics(get_target(target), float(energy_GeV), float(mass_GeV), float(g_eff_sq(g_S, g_P)),
                       float(delta_m(mass_GeV, g_S, g_P)), ff, float(theta_a_min))


def _t_range(w, theta_a, cp: CellPhysics):
    """(kinematics, t_lo, t_up) at (w, theta_a): the exact t window of §7.7 with the form-factor cut
    and E_tau >= m_tau, ``t_up = min(t_hi, t_cut, 2 M w)`` [GeV^2] (nan where unphysical)."""
    kin = kin_mod.alp_kinematics(cp.E, w, theta_a, cp.m_a)
    t_lo, t_hi = kin_mod.t_bounds(kin.W, kin.V, kin.u, cp.M)
    return kin, t_lo, kin_mod.t_upper(t_hi, w, cp.M, cp.ff.t_cut_GeV2)


def d3sigma(w, theta_a, t, cp: CellPhysics):
    """Fully differential d sigma / (dE_a dcos theta_a dt) [pb / GeV^3], coherent and incoherent.

    Arguments broadcast: ``w = E - E_a - m_tau`` [GeV], ``theta_a`` [rad], ``t`` [GeV^2].  Returns
    ``(coh, inc, t_lo, t_up, kin)``; the densities are zero outside ``t_lo <= t <= t_up``.  §7.6.
    """
    kin, t_lo, t_up = _t_range(w, theta_a, cp)
    t = np.asarray(t, dtype=float)
    inside = (t >= t_lo) & (t <= t_up)
    ts = np.where(inside, t, np.where(np.isfinite(t_lo), t_lo, 1.0))
    coh, inc = _densities(ts, kin, cp)
    return np.where(inside, coh, 0.0), np.where(inside, inc, 0.0), t_lo, t_up, kin


def _densities(t, kin, cp: CellPhysics):
    """alpha^2/(32 pi M^2) |k|/(|p|V) F^2/t^2 Abar in pb/GeV^3 for coherent and incoherent F^2."""
    s0, s1 = kin_mod.s_coefficients(t, kin, cp.M)
    abar = amplitude_phi_avg(s0, s1, kin.u, t, cp.E, kin.E_a, cp.M, cp.g_eff2, cp.dm, W=kin.W)
    pref = (ALPHA**2 / (32.0 * math.pi * cp.M**2) * GEV2_TO_PB) * kin.k / (kin.p * kin.V) * abar / (t * t)
    return pref * f2_coherent(t, cp.target, cp.ff), pref * f2_incoherent(t, cp.target, cp.ff)


def _t_map(r, t_lo, t_up):
    """t = t_lo exp(L h(r)), h = r^2 (3 - 2r); returns (t, dt/dr)."""
    L = np.log(t_up / t_lo)
    h = r * r * (3.0 - 2.0 * r)
    t = t_lo * np.exp(L * h)
    return t, t * L * 6.0 * r * (1.0 - r)


def integrand_points(y, cp: CellPhysics):
    """Integrand in the vegas variables ``y[:, 0:3] = (ln w, ln theta_a, r)`` (pb, per unit volume).

    Returns ``(coh, inc, E_tau)``: the coherent and incoherent contributions (zero outside the
    physical region) and the exact tau energy ``E_tau = W - t/(2M)`` [GeV] of each point.
    """
    y = np.asarray(y, dtype=float)
    w = np.exp(y[:, 0])
    th = np.exp(y[:, 1])
    r = y[:, 2]
    kin, t_lo, t_up = _t_range(w, th, cp)
    ok = t_up > t_lo  # False for nan
    t_lo_s = np.where(ok, t_lo, 1.0)
    t_up_s = np.where(ok, t_up, 1.0)
    t, dtdr = _t_map(r, t_lo_s, t_up_s)
    coh, inc = _densities(t, kin, cp)
    jac = np.where(ok, w * np.sin(th) * th * dtdr, 0.0)  # dW = w dln w, dcos = sin th th dln th
    e_tau = kin.W - t / (2.0 * cp.M)
    return coh * jac, inc * jac, e_tau


def dsigma_dw_dcos(w, theta_a, cp: CellPhysics, *, n_t: int = 48, part: str = "total"):
    """d sigma / dE_a dcos(theta_a) [pb/GeV] for g = 1 at arrays of (w, theta_a) (§7.6), with
    ``w = E - E_a - m_tau`` [GeV] (keeps digits for soft taus).

    Deterministic: the t integral uses ``n_t``-point Gauss-Legendre in the mapped variable ``r``
    of :func:`_t_map` (the map removes the end-point square roots, so it converges quickly).
    ``part`` is "total", "coherent" or "incoherent".  Zero outside the physical region.
    """
    if part not in ("total", "coherent", "incoherent"):
        raise ValueError(f"part must be 'total', 'coherent' or 'incoherent', got {part!r}")
    w, theta_a = np.broadcast_arrays(np.asarray(w, dtype=float), np.asarray(theta_a, dtype=float))
    shape = w.shape
    w, theta_a = w.ravel(), theta_a.ravel()
    xg, wg = np.polynomial.legendre.leggauss(n_t)
    r = 0.5 * (xg + 1.0)
    wr = 0.5 * wg
    good = (w > 0) & (cp.E - cp.m_a - M_TAU - w > 0)
    ws = np.where(good, w, 1.0)
    kin, t_lo, t_up = _t_range(ws[:, None], theta_a[:, None], cp)
    ok = (t_up > t_lo) & good[:, None]
    t, dtdr = _t_map(r[None, :], np.where(ok, t_lo, 1.0), np.where(ok, t_up, 1.0))
    coh, inc = _densities(t, kin, cp)
    f = {"total": coh + inc, "coherent": coh, "incoherent": inc}[part]
    val = np.where(ok, f * dtdr, 0.0) @ wr
    return val.reshape(shape)


# ------------------------------------------------------------------------------------ the driver

def _bin_index(e_tau, E, lnx0, dlnx, n_xbins):
    """Bin of ln(E_tau/E) on the grid ``lnx0 + k dlnx`` (clipped into [0, n_xbins - 1])."""
    return np.clip(((np.log(e_tau / E) - lnx0) / dlnx).astype(np.intp), 0, n_xbins - 1)


def _frozen_iteration(integ, cp: CellPhysics, lnx0: float, dlnx: float, n_xbins: int):
    """One vegas iteration on the frozen map: (mean, var) of ``3 + n_xbins`` components [pb].

    Components: sigma_total, sigma_coherent, sigma_incoherent, then d sigma / d ln x_tau per bin
    (bin width ``dlnx``).  Points and weights come from ``integ.random_batch(yield_hcube=True)``
    (``integ`` must have ``adapt=False`` and the wanted ``neval`` set); the estimate is vegas'
    stratified one, hypercube by hypercube: with ``v_i = w_i f_i`` and n_h points in h,
    ``mean = sum_h (S_h + D_h)``, ``var = sum_h (n_h sum_i d_i^2 - D_h^2) / (n_h - 1)``,
    ``S_h = sum_i v_i``, ``d_i = v_i - S_h/n_h``, ``D_h = sum_i d_i`` (D_h is vegas' Neely
    round-off correction, ~0).  A bin component is ``v_i/dlnx`` for points in the bin and 0 for
    the others; its sums over the others are done in closed form (``n_out`` points with d = -m).
    vegas keeps n_h >= 2 (``min_neval_hcube``).
    """
    nb = n_xbins
    mean = np.zeros(3 + nb)
    var = np.zeros(3 + nb)
    for x, wgt, hcube in integ.random_batch(yield_hcube=True):
        coh, inc, e_tau = integrand_points(x, cp)
        h = hcube - hcube[0]  # hypercubes of a batch are contiguous and sorted
        nh = int(h[-1]) + 1
        n = np.bincount(h, minlength=nh).astype(float)
        nm1 = np.maximum(n - 1.0, 1.0)

        def hsum(values, key=h, size=nh):
            return np.bincount(key, values, minlength=size)

        # sigma_total, coherent, incoherent
        for k, f in enumerate((coh + inc, coh, inc)):
            v = wgt * f
            s1 = hsum(v)
            d = v - (s1 / n)[h]
            sd, sd2 = hsum(d), hsum(d * d)
            mean[k] += np.sum(s1 + sd)
            var[k] += np.sum((n * sd2 - sd * sd) / nm1)
        # d sigma / d ln x_tau: one nonzero bin per point
        v = wgt * (coh + inc) / dlnx
        key = h * nb + _bin_index(e_tau, cp.E, lnx0, dlnx, nb)
        size = nh * nb
        s1 = hsum(v, key, size).reshape(nh, nb)
        n_in = np.bincount(key, minlength=size).reshape(nh, nb)
        m = s1 / n[:, None]
        d = v - m.ravel()[key]
        n_out = n[:, None] - n_in
        sd = hsum(d, key, size).reshape(nh, nb) - n_out * m
        sd2 = hsum(d * d, key, size).reshape(nh, nb) + n_out * m * m
        mean[3:] += np.sum(s1 + sd, axis=0)
        var[3:] += np.sum((n[:, None] * sd2 - sd * sd) / nm1[:, None], axis=0)
    return mean, var


def _closed_result(tgt, E, m, edges, theta, convention, t0) -> CellResult:
    nb = len(edges) - 1
    return CellResult(target=tgt.name, energy_GeV=E, mass_GeV=m, sigma_pb=0.0, sigma_err_pb=0.0,
                      sigma_coherent_pb=0.0, sigma_coherent_err_pb=0.0, sigma_incoherent_pb=0.0,
                      sigma_incoherent_err_pb=0.0, chi2_dof=0.0, Q=1.0, neval=0,
                      seconds=time.perf_counter() - t0, closed=True, x_tau_edges=edges,
                      dsigma_dlnx_tau_pb=np.zeros(nb), dsigma_dlnx_tau_err_pb=np.zeros(nb),
                      theta=float(theta), convention=convention)


def compute_cell(target, energy_GeV, mass_GeV, *, rel_err=0.005, theta=DEFAULT_THETA, convention="eq3",
                 seed=0, n_xbins=60, ff: FormFactorParams = DEFAULT_FF,
                 settings: VegasSettings = DEFAULT_VEGAS, theta_a_min: float = THETA_A_MIN) -> CellResult:
    """sigma(mu N -> tau N a) for g = 1 in pb, with coherent/incoherent split and d sigma/d ln x_tau.

    Pure function of its arguments: the vegas random numbers come from
    ``numpy.random.default_rng(seed)``, so the same seed gives a bit-identical result.  Closed
    cells (:func:`is_open` false) return zeros with ``closed=True`` without integrating.
    ``dsigma_dlnx_tau_pb`` is on ``x_tau_edges(E, n_xbins)``; its sum times the bin width
    ``ln(E/m_tau)/n_xbins`` is sigma_total.  ``meta["converged"]`` is False when the evaluation
    budget (``settings.max_neval_total``) ran out before ``rel_err`` was reached (only within ~1e-5
    of the kinematic edge).  See the module docstring for method and errors.
    """
    t0 = time.perf_counter()
    tgt = get_target(target)
    E = _check_positive_finite("energy_GeV", energy_GeV)
    m = _check_positive_finite("mass_GeV", mass_GeV)
    rel = _check_rel_err(rel_err)
    check_convention(convention)
    if not math.isfinite(float(theta)):
        raise ValueError(f"theta must be finite, got {theta!r}")
    n_xbins = int(n_xbins)
    edges = x_tau_edges(E, n_xbins)
    if not is_open(tgt, E, m, ff):
        return _closed_result(tgt, E, m, edges, theta, convention, t0)
    cp = cell_physics(tgt, E, m, theta=theta, convention=convention, ff=ff, theta_a_min=theta_a_min)
    s = settings
    rng = np.random.default_rng(seed)
    integ = vegas.Integrator(cp.bounds, ran_array_generator=rng.random, maxinc_axis=s.maxinc_axis,
                             alpha=s.alpha)
    lnx0 = math.log(M_TAU / E)
    dlnx = -lnx0 / n_xbins

    @vegas.lbatchintegrand
    def f_total(y):
        coh, inc, _ = integrand_points(y, cp)
        return coh + inc

    # 1) adapt the map on sigma_total; these iterations are discarded
    r_adapt = integ(f_total, nitn=s.n_adapt, neval=s.neval_adapt)
    neval_used = int(r_adapt.sum_neval)
    last = r_adapt.itn_results[-1]
    rel_last = abs(last.sdev / last.mean) if last.mean != 0 else 1.0
    # 2) frozen map; choose evaluations per iteration from the last adaptation iteration
    need = integ.last_neval * (rel_last / rel) ** 2
    neval = int(min(max(need / s.n_final_min, s.neval_min), s.neval_max))
    means, vars_ = [], []
    integ.set(neval=neval, adapt=False)
    while True:
        m_itn, v_itn = _frozen_iteration(integ, cp, lnx0, dlnx, n_xbins)
        neval_used += int(integ.last_neval)
        means.append(m_itn)
        vars_.append(v_itn)
        n = len(means)
        mean = np.mean(means, axis=0)
        var = np.sum(vars_, axis=0) / n**2
        converged = bool(np.sqrt(var[0]) <= rel * abs(mean[0]))
        if n >= s.n_final_min and (converged or n >= s.n_final_max or neval_used + neval > s.max_neval_total):
            break
    mm = np.array(means)
    if n > 1:
        chi2 = float(np.sum((mm[:, 0] - mean[0]) ** 2 / np.array(vars_)[:, 0]))
        dof = n - 1
        chi2_dof = chi2 / dof
        q = chi2_survival(dof, chi2)
    else:
        chi2_dof, q = 0.0, 1.0
    err = np.sqrt(var)
    return CellResult(target=tgt.name, energy_GeV=E, mass_GeV=m, sigma_pb=float(mean[0]),
                      sigma_err_pb=float(err[0]), sigma_coherent_pb=float(mean[1]),
                      sigma_coherent_err_pb=float(err[1]), sigma_incoherent_pb=float(mean[2]),
                      sigma_incoherent_err_pb=float(err[2]), chi2_dof=chi2_dof, Q=q, neval=neval_used,
                      seconds=time.perf_counter() - t0, closed=False, x_tau_edges=edges,
                      dsigma_dlnx_tau_pb=mean[3:].copy(), dsigma_dlnx_tau_err_pb=err[3:].copy(),
                      theta=float(theta), convention=convention, converged=converged,
                      meta={"converged": converged, "n_final_iterations": n, "neval_per_final_iteration": neval,
                            "theta_a_min": cp.theta_a_min})
