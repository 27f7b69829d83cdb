"""vegas driver of the exact 2 -> 3 cross section per cell (docs/physics.md §7): :func:`compute_cell`.

The integrand and its variables are in :mod:`lfvscan.xsec.integrand`.

Errors: vegas first adapts its map on sigma_total (``n_adapt`` iterations, discarded), then runs
non-adapting iterations whose estimates are averaged without weights (the map is frozen, each
iteration is an unbiased estimate); iterations are added until the relative error on sigma_total is below
``rel_err``.  chi2/dof and Q are computed from those iterations.  The distribution
d sigma / d ln x_tau (x_tau = E_tau / E with the exact tau energy ``E_tau = (E - E_a) - t/(2M)``) is
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

from lfvscan.physics.couplings import DEFAULT_THETA, check_convention
from lfvscan.physics.formfactors import DEFAULT_FF, FormFactorParams
from lfvscan.physics.presets import PhysicsPreset, get_preset
from lfvscan.xsec.chi2 import chi2_survival
from lfvscan.xsec.integrand import (
    THETA_A_MIN,
    CellPhysics,
    _check_positive_finite,
    _check_rel_err,
    cell_physics,
    integrand_points,
    is_open,
)
from lfvscan.util.ranges import ENERGY_GEV, MASS_GEV, N_XBINS, REL_ERR
from lfvscan.xsec.result import CellResult, x_tau_edges


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



# ------------------------------------------------------------------------------------ the driver

def _bin_index(e_tau, E, lnx0, dlnx, n_xbins):
    """Bin of ln(E_tau/E) on the grid ``lnx0 + k dlnx`` (clipped into [0, n_xbins - 1]).

    Points outside the physical region carry zero weight and may have no valid E_tau (nan); they
    land in some bin with weight 0, so the warnings of their log/cast are silenced."""
    with np.errstate(invalid="ignore", divide="ignore"):
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
                 settings: VegasSettings = DEFAULT_VEGAS, theta_a_min: float = THETA_A_MIN,
                 m_in: float | None = None, m_out: float | None = None,
                 physics: str | PhysicsPreset | None = None) -> CellResult:
    """sigma(mu N -> tau N a) for g = 1 in pb, with coherent/incoherent split and d sigma/d ln x_tau.

    ``physics``: a :class:`~lfvscan.physics.presets.PhysicsPreset` or its name, ``"pdg-2024"``
    (default) or ``"thesis-2024"`` (docs/physics.md §14 item 29): constants, nucleus mass and
    form-factor conventions; ``ff`` values differing from the defaults are kept.
    ``m_in`` / ``m_out``: incoming (beam) / outgoing lepton masses [GeV], default the preset's muon / tau
    (docs/physics.md §7 writes m_mu / m_tau); they enter the kinematics, the reach, the Yukawas' Delta_m
    (:func:`cell_physics`) and the x_tau grid.  Pure function of its arguments: the vegas random
    numbers come from ``numpy.random.default_rng(seed)``, so the same seed gives a bit-identical
    result.  Closed cells (:func:`is_open` false) return zeros with ``closed=True`` without
    integrating.  ``dsigma_dlnx_tau_pb`` is on ``x_tau_edges(E, n_xbins, m_out)`` (x_tau = E_out/E
    from m_out/E to 1); its sum times the bin width ``ln(E/m_out)/n_xbins`` is sigma_total.  ``meta["converged"]`` is False when the evaluation
    budget (``settings.max_neval_total``) ran out before ``rel_err`` was reached (only within ~1e-5
    of the kinematic edge).  See the module docstring for method and errors.
    """
    t0 = time.perf_counter()
    pre = get_preset(physics)
    tgt = pre.target(target)
    ff = pre.form_factors(ff)
    E = _check_positive_finite("energy_GeV", energy_GeV)
    m = _check_positive_finite("mass_GeV", mass_GeV)
    rel = _check_rel_err(rel_err)
    check_convention(convention)
    if not math.isfinite(float(theta)):
        raise ValueError(f"theta must be finite, got {theta!r}")
    m_in = _check_positive_finite("m_in", pre.m_mu_GeV if m_in is None else m_in)
    m_out = _check_positive_finite("m_out", pre.m_tau_GeV if m_out is None else m_out)
    # validity ranges (docs/physics.md §7.11): outside them the result would not be right
    ENERGY_GEV.check(E)
    MASS_GEV.check(m)
    REL_ERR.check(rel)
    n_xbins = int(N_XBINS.check(n_xbins))
    edges = x_tau_edges(E, n_xbins, m_out)
    if not is_open(tgt, E, m, ff, m_in=m_in, m_out=m_out):
        return _closed_result(tgt, E, m, edges, theta, convention, t0)
    cp = cell_physics(tgt, E, m, theta=theta, convention=convention, ff=ff, theta_a_min=theta_a_min,
                      m_in=m_in, m_out=m_out, physics=pre)
    s = settings
    rng = np.random.default_rng(seed)
    integ = vegas.Integrator(cp.bounds, ran_array_generator=rng.random, maxinc_axis=s.maxinc_axis,
                             alpha=s.alpha)
    lnx0 = math.log(cp.m_out / E)
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
