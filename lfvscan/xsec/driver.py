"""vegas driver of the exact 2 -> 3 cross section per cell (docs/physics.md §7): :func:`compute_cell`.

The integrand and its variables are in :mod:`lfvscan.xsec.integrand`.

Method (docs/physics.md §7.8, §7.12): the driver adapts vegas' map on sigma_total (``n_adapt``
iterations), then on the tail-weighted integrand (``n_adapt_tail`` iterations), with per-bin weights
u_i = sigma / max(C_i, c sigma) (C_i = sigma(x_f >= lower edge of bin i), c = ``tail_min_fraction``)
from the bins of all the adaptation iterations before, so that the upper x_f tails the
decay-length selections keep get samples.  It trains the map itself, as ``Integrator.__call__``
would, so that each adaptation iteration also estimates the cell (:func:`_frozen_iteration` with
``train``): the tail weights need no pilot iteration, and the last adaptation iteration sizes the
final ones.  The adaptation iterations are discarded.  The final iterations run on the frozen map,
each an unbiased estimate, averaged with fixed weights (their shares of the points), until
sigma_total is below ``rel_err`` and every upper tail C_i >= c sigma below ``tail_rel_factor *
rel_err``, judged on the quoted errors.  chi2/dof and Q are those of sigma_total
over the final iterations; every quoted error (per cell, part, bin and tail) is the vegas one times
the PDG factor S = sqrt(max(1, chi2/dof)).  The evaluation limits grow as (budget_rel_err /
rel_err)^2 for requests below ``budget_rel_err`` (:mod:`lfvscan.xsec.settings`).  Every quantity is accumulated as its scalar (g_S, g_P) = (1, 0) and
pseudoscalar (0, 1) part with their covariance (no S-P interference, §7.12); the totals at the
cell's theta / convention are the exact recombination.  The distribution d sigma / d ln x_f
(x_f = E_f / E with the exact final-lepton energy ``E_f = (E - E_a) - t/(2M)``) and the upper-tail
errors come from the same samples.

Every iteration draws its points from ``Integrator.random_batch`` and forms
vegas' stratified estimate themselves (:func:`_frozen_iteration`): per hypercube h with n_h points,
mean_h = sum_i w_i f_i and var_h = n_h/(n_h - 1) sum_i (w_i f_i - mean_h/n_h)^2, summed over h --
the estimator of ``Integrator.__call__`` with ``adapt=False, correlate_integrals=False``, which the
tests reproduce to ~1e-12.  The sums are compiled (:mod:`lfvscan.xsec.accumulate`): per hypercube
only the bins its points occupy are visited, so the cost is linear in the points."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
import vegas

from lfvscan.physics.collider import boost, describe_energy, is_collider, nucleus_frame_energy
from lfvscan.physics.couplings import DEFAULT_CONVENTION, DEFAULT_THETA, check_convention, check_family_convention
from lfvscan.physics.formfactors import DEFAULT_FF, FormFactorParams
from lfvscan.physics.presets import PhysicsPreset, get_preset
from lfvscan.physics.process import DEFAULT_PROCESS, Process, cell_problem
from lfvscan.xsec.accumulate import accumulate, bin_indices
from lfvscan.xsec.chi2 import chi2_survival
from lfvscan.xsec.integrand import (
    CellPhysics,
    cell_physics,
    check_boson_family,
    integrand_parts,
    integrand_points,
    is_open,
    part_rows,
    part_weights,
)
from lfvscan.xsec.labframe import LabFrame, empty_lab_sums, fill_lab, lab_distributions
from lfvscan.util.validate import positive
from lfvscan.util.ranges import DEFAULT_N_XBINS, DEFAULT_REL_ERR, N_XBINS, REL_ERR
from lfvscan.schema import RESULT_FIELDS
from lfvscan.xsec.result import CellResult, x_f_edges
from lfvscan.xsec.settings import DEFAULT_VEGAS, VegasSettings


# ------------------------------------------------------------------------------------ the driver

def _bin_index(e_f, E, lnx0, dlnx, n_xbins):
    """Bin of ln(E_f/E) on the grid ``lnx0 + k dlnx`` (clipped into [0, n_xbins - 1]).

    Points outside the physical region carry zero weight and may have no valid E_f (nan); they
    land in bin 0 with weight 0."""
    return bin_indices(np.ascontiguousarray(e_f, dtype=float), E, lnx0, dlnx, n_xbins)


def _frozen_iteration(integ, cp: CellPhysics, lnx0: float, dlnx: float, n_xbins: int,
                      lab: LabFrame | None, train: tuple | None = None) -> dict:
    """One vegas iteration on the current map: stratified means, variances and S-P covariances [pb, pb^2].

    Returns a dict of arrays, each for the scalar (g_S, g_P) = (1, 0) and pseudoscalar (0, 1) parts
    (docs/physics.md §7.12; the total at any theta is ``g_S^2 S + g_P^2 P``, its variance
    ``g_S^4 var_S + g_P^4 var_P + 2 g_S^2 g_P^2 cov`` -- the same bilinear estimator applied to the
    combined integrand, so it equals vegas' estimate of the combination):

    * ``"cell_mean"`` (3, 2): sigma_total, sigma_coherent, sigma_incoherent x (S, P);
      ``"cell_var"`` (3, 3): the same x (var_S, var_P, cov_SP);
    * ``"bin_mean"`` (2, nb), ``"bin_var"`` (3, nb): d sigma / d ln x_f per bin (width ``dlnx``);
    * ``"tail_var"`` (3, nb): variance of sigma(x_f >= lower edge of bin i) (its mean is
      ``dlnx`` times the reversed cumulative sum of ``bin_mean``).

    Points and weights come from ``integ.random_batch(yield_hcube=True)`` (``integ`` must have
    ``adapt=False`` and the wanted ``neval`` set); the estimate is vegas' stratified one, hypercube
    by hypercube: with ``v_i = w_i f_i`` and n_h points in h, ``mean = sum_h (S_h + D_h)``,
    ``var = sum_h (n_h sum_i d_i^2 - D_h^2) / (n_h - 1)`` (covariances: ``d_i d'_i``, ``D_h D'_h``),
    ``S_h = sum_i v_i``, ``d_i = v_i - S_h/n_h``, ``D_h = sum_i d_i`` (D_h is vegas' Neely round-off
    correction, ~0).  A bin component is ``v_i/dlnx`` for points in the bin and 0 for the others; its
    sums over the others are done in closed form (``n_out`` points with d = -m).  The upper-tail
    components sum the per-bin raw moments ``sum v``, ``sum v v'`` over the bins above (variance
    ``(n_h Q_h - S_h S'_h) / (n_h - 1)``).  vegas keeps n_h >= 2 (``min_neval_hcube``).  The sums
    are :func:`lfvscan.xsec.accumulate.accumulate`.  With ``lab`` (a collider cell) the dict also holds
    the lab histograms' sums of :func:`_lab_sums` from the same points.

    ``train`` = ((a, b), u, alpha): an adaptation iteration.  The estimates are formed as above (the
    map is fixed while the iteration draws its points, so they are unbiased), and vegas' map is then
    trained on the tail-weighted integrand ``(a S + b P) u[bin]`` exactly as ``Integrator.__call__``
    trains it (training data ``(w_i f_i n_h)^2`` per point, then ``map.adapt(alpha)``; public
    :class:`vegas.AdaptiveMap` API), so the next iteration draws from the adapted map.  The
    stratification (vegas' ``beta``) is not adapted: a change of ``neval`` resets it anyway.
    """
    nb = n_xbins
    cell_mean = np.zeros((3, 2))
    cell_var = np.zeros((3, 3))
    bin_mean = np.zeros((2, nb))
    bin_var = np.zeros((3, nb))
    tail_diff = np.zeros((3, nb))
    lab_sums = _lab_sums(lab)
    for x, y, wgt, hcube in integ.random_batch(yield_hcube=True, yield_y=True):
        coh, inc, e_f = integrand_parts(x, cp)
        bins = _bin_index(e_f, cp.E, lnx0, dlnx, nb)
        accumulate(coh, inc, wgt, hcube, bins, dlnx, cell_mean, cell_var, bin_mean, bin_var, tail_diff)
        _fill_lab_sums(lab, lab_sums, x, wgt, hcube, coh + inc, cp)
        if train is not None:
            (a, b), u, _ = train
            f = coh + inc
            _add_training_data(integ, y, wgt, hcube, a * f[0] + b * f[1], u[bins])
    if train is not None:
        integ.map.adapt(alpha=train[2])
    tail_var = np.cumsum(tail_diff[:, ::-1], axis=1)[:, ::-1] * dlnx * dlnx
    return {"cell_mean": cell_mean, "cell_var": cell_var, "bin_mean": bin_mean, "bin_var": bin_var,
            "tail_var": tail_var, **lab_sums}


def _add_training_data(integ, y, wgt, hcube, f, u_bins) -> None:
    """Training data of one batch for vegas' map, as ``Integrator.__call__`` computes it: ``(w_i g_i
    n_h)^2`` with the tail-weighted integrand ``g = f u[bin]`` (``f`` (N) sigma_total's integrand,
    ``u_bins`` (N) the weights of the points' bins; ``n_h`` the points of each one's hypercube;
    docs/physics.md §7.12)."""
    first = hcube[0]
    n_h = np.bincount(hcube - first)[hcube - first]
    g = wgt * f * u_bins * n_h
    integ.map.add_training_data(np.ascontiguousarray(y), g * g)


def _combine(mean_parts, var_parts, a: float, b: float):
    """Mean and variance of ``a S + b P`` from the parts' means (..., 2) / (S, P) and variances
    (3, ...) = (var_S, var_P, cov_SP) (docs/physics.md §7.12)."""
    mean = a * mean_parts[..., 0] + b * mean_parts[..., 1]
    var = a * a * var_parts[0] + b * b * var_parts[1] + 2.0 * a * b * var_parts[2]
    return mean, np.maximum(var, 0.0)


def _closed_result(tgt, E, m, edges, theta, convention, t0) -> CellResult:
    """A kinematically closed cell: every cross section, part, error and bin exactly 0 (every float
    result field of the schema), chi2/dof 0, Q 1, no evaluation."""
    nb = len(edges) - 1
    zeros = {f.name: (np.zeros(nb) if f.per_bin else 0.0) for f in RESULT_FIELDS if f.dtype == "f8"}
    zeros.update(chi2_dof=0.0, Q=1.0, seconds=time.perf_counter() - t0)
    return CellResult(target=tgt.name, energy_GeV=E, mass_GeV=m, neval=0, closed=True, x_f_edges=edges,
                      theta=float(theta), convention=convention, **zeros)


def compute_cell(target, energy_GeV, mass_GeV, *, rel_err=DEFAULT_REL_ERR, theta=DEFAULT_THETA,
                 convention=DEFAULT_CONVENTION, seed=0, n_xbins=DEFAULT_N_XBINS, ff: FormFactorParams = DEFAULT_FF,
                 settings: VegasSettings = DEFAULT_VEGAS, theta_a_min: float | None = None,
                 physics: str | PhysicsPreset | None = None, process: Process | None = None) -> CellResult:
    """sigma(l_beam N -> l_final N X) for g = 1 in pb, with coherent/incoherent split and d sigma/d ln x
    (x = E_final/E, the final lepton's energy fraction; stored under the names ``x_f``).

    ``physics``: a :class:`~lfvscan.physics.presets.PhysicsPreset` or its name, ``"pdg-2024"``
    (default, chosen here) or ``"thesis-2024"`` (docs/physics.md §14 item 29): constants, nucleus
    mass, form-factor conventions and lepton masses; ``ff`` values differing from the defaults are
    kept.  ``process``: the :class:`~lfvscan.physics.process.Process` (default, chosen here:
    :data:`~lfvscan.physics.process.DEFAULT_PROCESS`, mu -> tau, spin-0 boson); its lepton pair
    with the preset's masses (``physics.lepton_pair(process)``) enters the kinematics, the reach,
    the Yukawas' Delta_m (:func:`cell_physics`) and the x grid, its boson family selects the
    amplitude (a family whose amplitude is not implemented is refused with a ValueError naming it).
    The cell must lie in the process's validity ranges (:func:`lfvscan.physics.process.cell_problem`:
    energy range of the pair, boson masses above m_beam - m_final for mu -> e).  Pure function of its
    arguments: the vegas random numbers come from ``numpy.random.default_rng(seed)``, so the same
    seed gives a bit-identical result.  Closed cells (:func:`is_open` false) return zeros with
    ``closed=True`` without integrating.  ``dsigma_dlnx_f_pb`` is on ``x_f_edges(E, n_xbins,
    m_final)`` (x_f = E_final/E from m_final/E to 1); its sum times the bin width
    ``ln(E/m_final)/n_xbins`` is sigma_total.  ``converged`` is False when the evaluation
    budget (``settings.max_neval_total``, grown for a ``rel_err`` below ``settings.budget_rel_err``:
    :meth:`~lfvscan.xsec.settings.VegasSettings.for_rel_err`) ran out before the quoted (scaled)
    errors met ``rel_err`` and the tails' targets; a ``rel_err`` whose budget would exceed
    ``settings.neval_ceiling`` is refused with a ValueError naming it and that budget.  See the module docstring for method and errors.

    ``theta_a_min`` [rad]: lower cut-off of the boson angle; None (default) for
    :func:`~lfvscan.xsec.integrand.default_theta_a_min` of the final lepton (1e-8 rad for a tau).

    A ``target`` with ``nucleus_energy_per_nucleon_GeV`` is a nucleus beam (docs/physics.md §7.15,
    :mod:`lfvscan.physics.collider`): ``energy_GeV`` is the lepton beam's lab energy, the cell is
    computed in the nucleus rest frame at ``E = gamma (E_l + beta p_l)`` (the preset's nucleus mass M
    in gamma and in the integrand) with ``ff.atomic_screening = False`` (a stripped ion), and is then
    bit for bit the fixed-target cell at that E with those form factors; the validity ranges apply
    to E (errors name both energies); ``x_f_edges`` and the x histogram are in the nucleus frame
    (``x_f_edges(E, n_xbins, m_final)`` with the nucleus-frame E).
    """
    t0 = time.perf_counter()
    pre = get_preset(physics)
    process = DEFAULT_PROCESS if process is None else process
    pair = pre.lepton_pair(process)
    tgt = pre.target(target)
    ff = pre.form_factors(ff)
    E_lab = float(positive("energy_GeV", energy_GeV))
    m = float(positive("mass_GeV", mass_GeV))
    check_convention(convention)
    check_family_convention(process.boson, convention)
    if not math.isfinite(float(theta)):
        raise ValueError(f"theta must be finite, got {theta!r}")
    # a nucleus beam (docs/physics.md §7.15): the cell is the fixed-target cell at the nucleus-frame
    # lepton energy, with the form factors of a fully stripped ion
    E = nucleus_frame_energy(E_lab, pair.beam.mass, tgt)
    if is_collider(tgt):
        ff = replace(ff, atomic_screening=False)
    # validity ranges of the process (docs/physics.md §7.11), on the nucleus-frame energy
    problem = cell_problem(pair, E, m)
    if problem:
        raise ValueError(f"{problem} ({describe_energy(E_lab, pair.beam.mass, tgt)})" if is_collider(tgt) else problem)
    check_boson_family(process.boson)
    rel = REL_ERR.check(rel_err)
    settings = settings.for_rel_err(rel)  # the budget grows with the request, or it is refused here
    n_xbins = int(N_XBINS.check(n_xbins))
    edges = x_f_edges(E, n_xbins, pair.final.mass)
    if not is_open(tgt, E, m, ff, pair=pair):
        return _with_lab(_closed_result(tgt, E_lab, m, edges, theta, convention, t0), None, None,
                         _lab_frame(tgt, E_lab))
    cp = cell_physics(tgt, E, m, physics=pre, pair=pair, boson=process.boson, theta=theta, convention=convention, ff=ff,
                      theta_a_min=theta_a_min)
    ab = part_weights(theta, convention, pair=pair, boson=process.boson)
    lab = _lab_frame(tgt, E_lab)
    run = _integrate(cp, n_xbins, ab, rel, settings, seed, lab)
    return _with_lab(_cell_result(tgt.name, E_lab, edges, theta, convention, cp, run, ab, t0), run, ab, lab)


@dataclass(frozen=True)
class _Run:
    """What the vegas run of one open cell gives :func:`_cell_result`: the final iterations, their
    average, whether the targets were met, evaluations used in all and per final iteration."""

    iters: list
    avg: dict
    converged: bool
    neval_used: int
    neval_per_final: int


def _integrate(cp: CellPhysics, n_xbins: int, ab: tuple[float, float], rel: float, s: VegasSettings,
               seed: int, lab: LabFrame | None) -> _Run:
    """The vegas run of an open cell (module docstring; docs/physics.md §7.8, §7.12) at the couplings
    ``ab`` = (g_S^2, g_P^2): adapt on sigma_total, adapt on the tail-weighted integrand, size the
    frozen-map iterations from the last adaptation iteration and run them; ``lab``: fill the lab
    histograms of a collider cell in the frozen-map iterations (:func:`_frozen_iteration`)."""
    a, b = ab
    rng = np.random.default_rng(seed)
    # beta = 0: the stratification is not adapted (the adaptation below trains the map only, and a
    # change of neval resets vegas' stratification anyway)
    integ = vegas.Integrator(cp.bounds, ran_array_generator=rng.random, maxinc_axis=s.maxinc_axis,
                             alpha=s.alpha, beta=0.0, adapt=False)
    lnx0 = math.log(cp.m_final / cp.E)
    dlnx = -lnx0 / n_xbins
    tail_rel = s.tail_rel_factor * rel
    integ.set(neval=s.neval_adapt)
    # 1) adapt the map on sigma_total (u = 1), 2) then on the tail-weighted integrand, u_i = sigma /
    # max(C_i, c sigma) from the bins of all the adaptation iterations so far (docs/physics.md
    # §7.12).  These iterations are discarded: their maps differ from the final one.
    # Only the last one needs the errors (it sizes the final iterations); the others sum their bins.
    pooled, neval_used, n_adapt = np.zeros(n_xbins), 0, s.n_adapt + s.n_adapt_tail
    last = ([], [])
    for k in range(n_adapt):
        u = np.ones(n_xbins) if k < s.n_adapt else _tail_weights(pooled, s.tail_min_fraction)
        if k < n_adapt - 1:
            pooled += _adaptation_iteration(integ, cp, lnx0, dlnx, n_xbins, u, s.alpha)
        else:
            last = ([_frozen_iteration(integ, cp, lnx0, dlnx, n_xbins, None, ((a, b), u, s.alpha))],
                    [int(integ.last_neval)])
        neval_used += int(integ.last_neval)
    first = ([], [])
    if s.neval_pilot > 0:
        # 3a) a first frozen-map iteration of neval_pilot points sizes the others and counts among them
        integ.set(neval=s.neval_pilot)
        first = ([_frozen_iteration(integ, cp, lnx0, dlnx, n_xbins, lab)], [int(integ.last_neval)])
        neval_used += first[1][0]
    # 3b) the points the targets need in all, from that first iteration or else from the last
    # adaptation iteration (its map is nearly the final one), times first_sizing_fraction: an
    # estimate from a few thousand points overshoots as often as not, and the iterations after
    # n_final_min are sized on the errors of all the final points
    src, src_n = first if first[0] else last
    worst = _worst_ratio(_theta_view(_average(src, src_n), a, b, dlnx), rel, tail_rel, s.tail_min_fraction)
    need = s.first_sizing_fraction * sum(src_n) * min(worst, 1e3) ** 2
    done = sum(first[1])
    neval = int(min(max((need - done) / (s.n_final_min - len(first[0])), s.neval_min), s.neval_max))
    iters, avg, converged, neval_used = _final_iterations(integ, cp, lnx0, dlnx, n_xbins, first, neval,
                                                          neval_used, s, (a, b), rel, tail_rel, lab)
    return _Run(iters, avg, converged, neval_used, neval)


def _cell_result(target_name: str, energy_GeV: float, edges, theta, convention, cp: CellPhysics, run: _Run,
                 ab: tuple[float, float], t0: float) -> CellResult:
    """The :class:`CellResult` of an open cell from its vegas run: totals at the couplings ``ab`` and
    the scalar / pseudoscalar parts, every error scaled by the PDG factor (docs/physics.md §7.12).
    ``energy_GeV``: the cell's beam energy (the lab lepton energy at a collider; ``cp.E`` is the
    nucleus-frame one)."""
    a, b = ab
    avg = run.avg
    n_xbins = len(edges) - 1
    cell_mean, cell_var = _combine(avg["cell_mean"], avg["cell_var"].T, a, b)  # (3,): total, coh, inc
    # PDG scale factor: where the final iterations of sigma_total scatter more than their vegas
    # variances say (chi2/dof > 1; the tail-weighted map gives sigma_total's weights heavy tails),
    # every quoted error -- per cell, per part, per bin and per upper tail, and every covariance by
    # S^2 -- is the vegas one times S = sqrt(chi2/dof), so that one honest scale covers the observed
    # scatter of all of them (docs/physics.md §7.12); the driver's targets are met on these errors.
    s_factor = _scale_factor(run.iters, avg, a, b)
    chi2_dof, q = _iteration_chi2(run.iters, cell_mean[0], a, b)
    s2 = s_factor**2
    bin_mean, bin_var = _combine(avg["bin_mean"].T, avg["bin_var"] * s2, a, b)
    tail_var = _combine(np.zeros((n_xbins, 2)), avg["tail_var"] * s2, a, b)[1]
    err = np.sqrt(cell_var) * s_factor
    cm, cv = avg["cell_mean"], avg["cell_var"] * s2
    bm, bv, tv = avg["bin_mean"], avg["bin_var"] * s2, avg["tail_var"] * s2

    def sd(v):
        return np.sqrt(np.maximum(v, 0.0))

    totals = dict(sigma_pb=float(cell_mean[0]), sigma_err_pb=float(err[0]), sigma_coherent_pb=float(cell_mean[1]),
                  sigma_coherent_err_pb=float(err[1]), sigma_incoherent_pb=float(cell_mean[2]),
                  sigma_incoherent_err_pb=float(err[2]), dsigma_dlnx_f_pb=bin_mean,
                  dsigma_dlnx_f_err_pb=np.sqrt(bin_var), sigma_above_x_err_pb=np.sqrt(tail_var))
    parts = dict(sigma_scalar_pb=float(cm[0, 0]), sigma_scalar_err_pb=float(sd(cv[0, 0])),
                 sigma_pseudoscalar_pb=float(cm[0, 1]), sigma_pseudoscalar_err_pb=float(sd(cv[0, 1])),
                 sigma_sp_cov_pb2=float(cv[0, 2]),
                 sigma_coherent_scalar_pb=float(cm[1, 0]), sigma_coherent_pseudoscalar_pb=float(cm[1, 1]),
                 sigma_incoherent_scalar_pb=float(cm[2, 0]), sigma_incoherent_pseudoscalar_pb=float(cm[2, 1]),
                 dsigma_dlnx_f_scalar_pb=bm[0].copy(), dsigma_dlnx_f_scalar_err_pb=sd(bv[0]),
                 dsigma_dlnx_f_pseudoscalar_pb=bm[1].copy(), dsigma_dlnx_f_pseudoscalar_err_pb=sd(bv[1]),
                 dsigma_dlnx_f_sp_cov_pb2=bv[2].copy(),
                 sigma_above_x_scalar_err_pb=sd(tv[0]), sigma_above_x_pseudoscalar_err_pb=sd(tv[1]),
                 sigma_above_x_sp_cov_pb2=tv[2].copy())
    meta = {"n_final_iterations": len(run.iters),
            "neval_per_final_iteration": run.neval_per_final, "theta_a_min": cp.theta_a_min,
            "error_scale_factor": s_factor, "sigma_err_vegas_pb": float(err[0] / s_factor)}
    return CellResult(target=target_name, energy_GeV=energy_GeV, mass_GeV=cp.m_a, chi2_dof=chi2_dof, Q=q,
                      neval=run.neval_used, seconds=time.perf_counter() - t0, closed=False, x_f_edges=edges,
                      theta=float(theta), convention=convention, converged=run.converged, meta=meta,
                      **totals, **parts)


def _final_iterations(integ, cp, lnx0, dlnx, n_xbins, first, neval, neval_used, s: VegasSettings, ab, rel,
                      tail_rel, lab: LabFrame | None):
    """Frozen-map iterations until sigma and every kept tail reach their targets with the errors that
    are quoted, i.e. scaled by the PDG factor of the iterations so far (docs/physics.md §7.12), at
    least ``s.n_final_min``, at most ``s.n_final_max`` or the evaluation budget.  ``first`` =
    (iterations, their evaluations): those already done on the same map (none, or the ``neval_pilot``
    one); the others have ``neval`` points up to ``s.n_final_min``, then each further one
    ``s.final_resize_margin`` times
    the points still missing at the current (scaled) errors.  Returns (iterations, their average,
    converged, evaluations used so far)."""
    a, b = ab
    iters, weights = list(first[0]), list(first[1])
    avg, converged = None, False
    while True:
        n = len(iters)
        if n:
            avg = _average(iters, weights)
            scale = _scale_factor(iters, avg, a, b)
            worst = _worst_ratio(_theta_view(avg, a, b, dlnx), rel, tail_rel, s.tail_min_fraction) * scale
            converged = bool(worst <= 1.0)
        if n >= s.n_final_min:
            if converged or n >= s.n_final_max:
                return iters, avg, converged, neval_used
            missing = sum(weights) * (min(worst, 1e3) ** 2 - 1.0)  # points still needed at the current scatter
            neval = int(min(max(s.final_resize_margin * missing, s.neval_min), s.neval_max))
        neval = min(neval, s.max_neval_total - neval_used)  # what is left of the budget
        if neval < s.neval_min and n:
            return iters, avg, converged, neval_used
        neval = max(neval, s.neval_min)
        integ.set(neval=neval)
        iters.append(_frozen_iteration(integ, cp, lnx0, dlnx, n_xbins, lab))
        weights.append(int(integ.last_neval))
        neval_used += weights[-1]


def _scale_factor(iters: list[dict], avg: dict, a: float, b: float) -> float:
    """PDG scale factor S = sqrt(max(1, chi2/dof)) of sigma_total over the final iterations
    (docs/physics.md §7.12): every quoted error is the vegas one times S."""
    mean = _combine(avg["cell_mean"][0], avg["cell_var"][0], a, b)[0]
    return math.sqrt(max(1.0, _iteration_chi2(iters, mean, a, b)[0]))


def _iteration_chi2(iters: list[dict], mean: float, a: float, b: float) -> tuple[float, float]:
    """(chi2/dof, Q) of sigma_total over the final iterations around their average ``mean`` [pb]
    (each iteration with its own vegas variance); (0, 1) for a single iteration."""
    per_itn = np.array([_combine(it["cell_mean"][0], it["cell_var"][0], a, b) for it in iters])
    n = len(iters)
    if n < 2:
        return 0.0, 1.0
    chi2 = float(np.sum((per_itn[:, 0] - mean) ** 2 / per_itn[:, 1]))
    return chi2 / (n - 1), chi2_survival(n - 1, chi2)


def _average(iters: list[dict], nevals: list[int]) -> dict:
    """Average of frozen-map iterations weighted by their evaluations ``nevals`` (fixed weights, each
    iteration unbiased): means sum_i n_i m_i / N, variances sum_i n_i^2 v_i / N^2, N = sum_i n_i."""
    wts = np.asarray(nevals, dtype=float) / float(np.sum(nevals))
    out = {}
    for k in iters[0]:
        p = 1 if k.endswith("mean") else 2
        out[k] = np.sum([w**p * it[k] for w, it in zip(wts, iters)], axis=0)
    return out


def _theta_view(it: dict, a: float, b: float, dlnx: float) -> dict:
    """sigma_total and the upper tails at the couplings (a, b) = (g_S^2, g_P^2): {"sigma": (mean, var),
    "tail": (means, vars)} (tail means = dlnx x reversed cumulative sum of the bins)."""
    sig = _combine(it["cell_mean"][0], it["cell_var"][0], a, b)
    bins = a * it["bin_mean"][0] + b * it["bin_mean"][1]
    tails = dlnx * np.cumsum(bins[::-1])[::-1]
    tail_var = _combine(np.zeros((bins.size, 2)), it["tail_var"], a, b)[1]
    return {"sigma": sig, "tail": (tails, tail_var)}


def _adaptation_iteration(integ, cp: CellPhysics, lnx0: float, dlnx: float, n_xbins: int, u: np.ndarray,
                          alpha: float) -> np.ndarray:
    """One adaptation iteration whose errors are not needed: vegas' map trained on the tail-weighted
    integrand ``f u[bin]`` (as :func:`_frozen_iteration` with ``train``) and adapted; returns the
    iteration's per-bin sums of ``w f`` [pb] (the bins' estimates of sigma, for the tail weights)."""
    sums = np.zeros(n_xbins)
    for x, y, wgt, hcube in integ.random_batch(yield_hcube=True, yield_y=True):
        coh, inc, e_f = integrand_points(x, cp)
        f = coh + inc
        bins = _bin_index(e_f, cp.E, lnx0, dlnx, n_xbins)
        sums += np.bincount(bins, weights=wgt * f, minlength=n_xbins)
        _add_training_data(integ, y, wgt, hcube, f, u[bins])
    integ.map.adapt(alpha=alpha)
    return sums


def _tail_weights(bins: np.ndarray, floor: float) -> np.ndarray:
    """Per-bin weights u_i = sigma / max(C_i, floor sigma) of the tail-adaptation integrand from the
    per-bin sums ``bins`` of sigma (any common normalisation), C_i = sigma(x_f >= lower edge of bin
    i): docs/physics.md §7.12.  All 1 while sigma has no estimate."""
    tails = np.cumsum(bins[::-1])[::-1]
    sigma = tails[0]
    if not sigma > 0:
        return np.ones_like(tails)
    return sigma / np.maximum(tails, floor * sigma)


def _worst_ratio(view: dict, rel: float, tail_rel: float, tail_min: float) -> float:
    """max over the targets of (relative error / target): sigma_total at ``rel``, every upper tail
    C >= tail_min sigma at ``tail_rel`` (<= 1: converged).  Infinite if sigma has no estimate."""
    sig, sig_var = view["sigma"]
    if not sig > 0:
        return math.inf
    worst = math.sqrt(sig_var) / (rel * sig)
    tails, tail_var = view["tail"]
    sel = tails >= tail_min * sig
    if np.any(sel):
        worst = max(worst, float(np.max(np.sqrt(tail_var[sel]) / (tail_rel * tails[sel]))))
    return worst


# ------------------------------------------------------------- lab-frame histograms of a collider cell
# (docs/physics.md §7.16; lfvscan.xsec.labframe).  Kept apart from the error scaling and the adaptation
# above: the frozen-map iterations call _lab_sums / _fill_lab_sums, compute_cell calls _lab_frame and
# _with_lab.

def _lab_frame(tgt, energy_GeV: float) -> LabFrame | None:
    """The :class:`~lfvscan.xsec.labframe.LabFrame` of a collider cell (nucleus-beam rapidity
    ``acosh(gamma)``, lepton lab energy [GeV]); None for a fixed target (no lab histograms)."""
    if not is_collider(tgt):
        return None
    gamma, beta = boost(tgt)
    return LabFrame(rapidity=math.log(gamma * (1.0 + beta)), beam_energy_GeV=float(energy_GeV))


def _lab_sums(lab: LabFrame | None) -> dict:
    """Zeroed lab-histogram sums of one frozen-map iteration (none without ``lab``)."""
    return {} if lab is None else empty_lab_sums()


def _fill_lab_sums(lab: LabFrame | None, sums: dict, x, wgt, hcube, f, cp: CellPhysics) -> None:
    """Add a batch (points ``x``, weights, hypercubes, the parts ``f`` (2, N) of the integrand) to the lab sums."""
    if lab is not None:
        fill_lab(x, wgt, hcube, f, cp, part_rows(cp), lab, sums)


def _with_lab(result: CellResult, run: _Run | None, ab, lab: LabFrame | None) -> CellResult:
    """``result`` with its :class:`~lfvscan.xsec.labframe.LabDistributions` (collider cells; ``run``
    None: a closed cell, all zero) at the couplings ``ab``, with the PDG scale factor of the cell's
    other errors (docs/physics.md §7.12); unchanged for a fixed target."""
    if lab is None:
        return result
    scale = 1.0 if run is None else float(result.meta["error_scale_factor"])
    return replace(result, lab=lab_distributions(None if run is None else run.avg, ab, lab, scale))
