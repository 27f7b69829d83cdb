"""The selected cross section of one cell: acceptance on its x_tau histogram and its upper tails
(docs/physics.md §8.1, §8.3-§8.5, §10.1, §10.3).

The selected cross section of a cell (target, energy E, all masses) is, without the selection's
constant ``factor``::

    S = sum_i h_i * a_i(E, m_a)

with ``h_i`` the stored dsigma/dln x_tau of bin i [pb] (x_tau = E_tau / E, §8.1) and ``a_i`` the
accepted width of bin i in ln x_tau, weighted by the tau_2 passing fraction P_2 (§8.3, visible
curves only)::

    a_i = (Delta_i / Delta'_i) * Integral_{bin i, x_tau E > E_cut(d1), x_tau <= 1 - m_a/E} P_2(E (1 - x_tau); d2) dln x_tau

Bin-edge treatment (documented choice): the weights take the histogram piecewise constant in
ln x_tau *within the physical part of each bin*, i.e. bin i spans [x_i, min(x_{i+1}, 1 - m_a/E)]
(Delta'_i = its ln-width, Delta_i the full ln-width; the stored value is the bin average over the
full bin, so the density on the physical part is h_i Delta_i / Delta'_i).  A bin cut by the tau_1
requirement (E_tau > E_cut, the mean-decay-length criterion of §8.5) contributes the fraction of
its ln-width above the cut.  P_2 (flat tau_2 energy spectrum, §8.3) is integrated exactly in
closed-form sub-intervals: its kinks sit at E_a = m_a cosh(eta* +- eta_c) (eta* = rapidity of the
tau in the ALP frame, cosh eta_c = E_cut / m_tau), and 16-point Gauss-Legendre is applied between
them, where P_2 is smooth.  With ``acceptance = "exponential"`` (option of §8.5) the survival
probabilities exp(-d/lambda) are smooth and integrated with Gauss-Legendre panels.  The optional
NA64-mu muon-energy cut weights each tau energy with P(E_mu < E_max) (§8.4; kink at E_tau = E_max).
The recoil term t/2M in E_tau (<= 0.15 %, §8.1) is neglected.

The weights give S of a selection without cuts (whole bins) and the MC errors of every selection.
The *value* of a selection that cuts inside the x_tau range does not assume the density constant
inside a bin, which over-counts a steeply falling spectrum (docs/physics.md §10.1): the same
acceptance (the same Gauss-Legendre panels) is integrated against the density of the upper tails
interpolated between the bin edges (:mod:`lfvscan.pheno.tails`); a tau_1 cut alone is the tail at
the cut.  :func:`selected_xsec_alternatives` gives the same from every other edge and with other shapes
in the last physical bin, which :mod:`lfvscan.pheno.quality` compares to flag points the
bins do not resolve (``x_interp``).

Monte Carlo errors: the smaller of two upper bounds (docs/physics.md §7.12), the per-bin errors in
quadrature ``sqrt(sum_i (a_i err_i)^2)`` (bins filled from the same vegas samples are
anti-correlated) and ``sum_k |c_k| e(C_k)`` from the stored errors of the upper tails C_k (exact for
a single cut).  Pulls over 12 seeds (Pb, 1 TeV, 5-28 GeV): rms 0.73-0.80 for the 2 cm curves
(conservative), 0.92 for 2 mm, 1.15 for the uncut ones.
"""

from __future__ import annotations

import math

import numpy as np

from lfvscan.physics import taudecay
from lfvscan.physics.leptons import Lepton, LeptonPair
from lfvscan.pheno.scanphysics import scan_lepton_pair
from lfvscan.pheno.experiments import Selection
from lfvscan.pheno.tails import UpperTail, tails_at_edges, upper_tail
from lfvscan.store.scandata import ScanData

#: Gauss-Legendre order per smooth sub-interval of a bin
GL_ORDER = 16
_GL_X, _GL_W = np.polynomial.legendre.leggauss(GL_ORDER)


# --------------------------------------------------------------------------------------------
# tau kinematics (docs/physics.md §8.1, §8.3, §8.5)
# --------------------------------------------------------------------------------------------
def e_cut_GeV(res_cm: float, tau: Lepton) -> float:
    """Tau energy whose mean lab decay length equals ``res_cm`` (docs/physics.md §8.5) [GeV]."""
    return float(taudecay.e_cut_GeV(res_cm, tau=tau))


#: P_2(E_a; m_a, d): flat-spectrum tau_2 passing fraction, mean-decay-length criterion (§8.5)
p2_pass = taudecay.p2_pass_fraction


def p2_breakpoints(m_a, res_cm: float, pair: LeptonPair):
    """ALP energies [GeV] where P_2 has kinks: m_a cosh(eta* +- eta_c) (docs/physics.md §8.3; D:
    E_-(E_a) = m_tau cosh(eta_a - eta*), E_+ = m_tau cosh(eta_a + eta*)).  Shape (..., 2)."""
    m_a = np.asarray(m_a, dtype=float)
    tau = pair.final
    _, p_star = taudecay.tau2_rest_frame(m_a, pair=pair)
    eta_s = np.arcsinh(p_star / tau.mass)
    eta_c = np.arccosh(e_cut_GeV(res_cm, tau) / tau.mass)
    return np.stack([m_a * np.cosh(eta_s - eta_c), m_a * np.cosh(eta_s + eta_c)], axis=-1)


# --------------------------------------------------------------------------------------------
# acceptance weights on the x_tau histogram
# --------------------------------------------------------------------------------------------
def acceptance_weights(x_edges, energy_GeV: float, masses_GeV, sel: Selection, pair: LeptonPair) -> np.ndarray:
    """Weights ``a_i`` (shape (nM, nb)) with S = sum_i h_i a_i the selected cross section without
    the constant ``sel.factor`` (see the module docstring for the bin-edge treatment)."""
    x_edges = np.asarray(x_edges, dtype=float)
    masses = np.atleast_1d(np.asarray(masses_GeV, dtype=float))
    E = float(energy_GeV)
    u = np.log(x_edges)
    u_lo, u_hi = u[:-1], u[1:]
    full = u_hi - u_lo
    with np.errstate(divide="ignore", invalid="ignore"):
        u_max = np.log(np.clip(1.0 - masses / E, 0, None))[:, None]  # (nM, 1)
    phys_hi = np.minimum(u_hi[None, :], u_max)
    phys = np.clip(phys_hi - u_lo[None, :], 0, None)  # (nM, nb)
    acc_lo = np.broadcast_to(u_lo[None, :], phys.shape).copy()
    if sel.res_tau1_cm is not None:
        acc_lo = np.maximum(acc_lo, np.log(e_cut_GeV(sel.res_tau1_cm, pair.final) / E))
    acc_hi = phys_hi
    with np.errstate(divide="ignore", invalid="ignore"):
        renorm = np.where(phys > 0, full[None, :] / phys, 0.0)
    if sel.acceptance == "exponential":
        return renorm * np.sum(_exponential_panels(u_lo, phys_hi, E, masses, sel, pair)[1], axis=(-1, -2))
    if sel.res_tau2_cm is None and sel.muon_energy_max_GeV is None:
        return renorm * np.clip(acc_hi - acc_lo, 0, None)
    return renorm * np.sum(_kinked_panels(acc_lo, acc_hi, E, masses, sel, pair)[1], axis=(-1, -2))


def _kinked_panels(acc_lo, acc_hi, E, masses, sel: Selection, pair: LeptonPair):
    """Gauss-Legendre nodes in ln x_tau and node weights x acceptance, shapes (nM, nb, panels, n),
    over the accepted part [acc_lo, acc_hi] of each bin, panels split at the kinks of P_2 and of the
    muon-energy weight (module docstring)."""
    bps = []
    with np.errstate(divide="ignore", invalid="ignore"):
        if sel.res_tau2_cm is not None:
            bp_Ea = p2_breakpoints(masses, sel.res_tau2_cm, pair)  # (nM, 2)
            bps.append(np.log(np.clip(1.0 - bp_Ea / E, 0, None)))  # -inf if beyond reach
        if sel.muon_energy_max_GeV is not None:  # P(E_mu < E_max) = 1 for E_tau <= E_max
            bps.append(np.full((masses.size, 1), math.log(sel.muon_energy_max_GeV / E)))
    bp_u = np.concatenate(bps, axis=-1)
    lo = acc_lo[..., None]
    hi = np.maximum(acc_hi, acc_lo)[..., None]
    pts = np.concatenate([lo, np.clip(bp_u[:, None, :], lo, hi), hi], axis=-1)
    pts = np.sort(pts, axis=-1)
    a, b = pts[..., :-1], pts[..., 1:]
    half = 0.5 * (b - a)
    nodes = (0.5 * (a + b))[..., None] + half[..., None] * _GL_X  # (nM, nb, panels, n)
    vals = np.ones_like(nodes)
    if sel.res_tau2_cm is not None:
        E_a = E * (1.0 - np.exp(nodes))
        m = masses[:, None, None, None]
        vals = vals * p2_pass(np.maximum(E_a, m), m, sel.res_tau2_cm, pair=pair)
    if sel.muon_energy_max_GeV is not None:
        vals = vals * taudecay.p_muon_energy_below(E * np.exp(nodes), sel.muon_energy_max_GeV, tau=pair.final)
    return nodes, half[..., None] * _GL_W * vals


def _exponential_panels(u_lo, phys_hi, E, masses, sel: Selection, pair: LeptonPair, n_split: int = 4):
    """Gauss-Legendre nodes and node weights x acceptance (shapes (nM, nb, n_split, n)) over the
    physical part of each bin for exp(-d1/lambda(x E)) * <exp(-d2/lambda)>_tau2 (the "exponential"
    option of docs/physics.md §8.5); smooth, so ``n_split`` equal panels per bin."""
    lo = np.broadcast_to(u_lo[None, :], phys_hi.shape)
    hi = np.maximum(phys_hi, lo)
    cuts = lo[..., None] + (hi - lo)[..., None] * np.linspace(0, 1, n_split + 1)
    a, b = cuts[..., :-1], cuts[..., 1:]
    half = 0.5 * (b - a)
    nodes = (0.5 * (a + b))[..., None] + half[..., None] * _GL_X  # (nM, nb, n_split, n)
    x = np.exp(nodes)
    vals = np.ones_like(nodes)
    if sel.res_tau1_cm is not None:
        vals = vals * taudecay.resolved_fraction(x * E, sel.res_tau1_cm, "exponential", tau=pair.final)
    if sel.res_tau2_cm is not None:
        m = masses[:, None, None, None]
        E_a = np.maximum(E * (1.0 - x), m)
        vals = vals * taudecay.p2_pass_fraction(E_a, m, sel.res_tau2_cm, "exponential", pair=pair)
    if sel.muon_energy_max_GeV is not None:
        vals = vals * taudecay.p_muon_energy_below(x * E, sel.muon_energy_max_GeV, tau=pair.final)
    return nodes, half[..., None] * _GL_W * vals


def mean_energy_tau2_weights(x_edges, energy_GeV: float, masses_GeV, res_tau2_cm: float,
                             pair: LeptonPair) -> np.ndarray:
    """Weights ``a2_i`` (shape (nM, nb)) of the published analysis' tau_2 acceptance (the
    ``tau2_acceptance = "mean-energy"`` option, docs/physics.md §10.3): tau_2 counts as resolved iff
    its mean lab energy at the event's ALP energy, ``<E_tau2> = E_a E*/m_a`` (E* of
    :func:`lfvscan.physics.taudecay.tau2_rest_frame`), exceeds ``E_cut(res_tau2_cm)``, i.e. iff
    ``x_tau <= 1 - E_cut m_a / (E* E)``; same bin treatment as :func:`acceptance_weights`."""
    x_edges = np.asarray(x_edges, dtype=float)
    masses = np.atleast_1d(np.asarray(masses_GeV, dtype=float))
    E = float(energy_GeV)
    u = np.log(x_edges)
    u_lo, u_hi = u[:-1], u[1:]
    e_star, p_star = taudecay.tau2_rest_frame(masses, pair=pair)
    with np.errstate(divide="ignore", invalid="ignore"):
        u_max = np.log(np.clip(1.0 - masses / E, 0, None))[:, None]
        u_2 = np.where(p_star > 0, np.log(np.clip(1.0 - e_cut_GeV(res_tau2_cm, pair.final) * masses / (e_star * E), 0, None)),
                       -np.inf)[:, None]
    phys_hi = np.minimum(u_hi[None, :], u_max)
    phys = np.clip(phys_hi - u_lo[None, :], 0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        renorm = np.where(phys > 0, (u_hi - u_lo)[None, :] / phys, 0.0)
    return renorm * np.clip(np.minimum(phys_hi, u_2) - u_lo[None, :], 0, None)


def _selected_mean_energy(scan: ScanData, t: int, j: int, sel: Selection, pair: LeptonPair):
    """S = S_1 S_2 / sigma (the published analysis' factorised visible acceptance, §10.3): S_1 with
    the tau_1 cut only, S_2 = sum_i h_i a2_i (:func:`mean_energy_tau2_weights`), sigma uncut.
    Error: linear propagation of the per-bin errors, dS/dh_i = p_2 a1_i + p_1 a2_i - p_1 p_2 a0_i."""
    import dataclasses

    edges, E, masses = scan.x_f_edges[j], scan.energies_GeV[j], scan.masses_GeV
    a1 = acceptance_weights(edges, E, masses, dataclasses.replace(sel, res_tau2_cm=None), pair)
    a0 = acceptance_weights(edges, E, masses, dataclasses.replace(sel, res_tau1_cm=None, res_tau2_cm=None,
                                                                  muon_energy_max_GeV=None), pair)
    a2 = mean_energy_tau2_weights(edges, E, masses, sel.res_tau2_cm, pair)
    h = scan.dsigma_dlnx_f_pb[t, j]
    he = scan.dsigma_dlnx_f_err_pb[t, j]

    def fold(a):
        return np.sum(np.where(a > 0, h * a, 0.0), axis=-1)

    S1, S2, S0 = fold(a1), fold(a2), fold(a0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = np.where(S0 > 0, S1 / S0, 0.0)
        p2 = np.where(S0 > 0, S2 / S0, 0.0)
    S = p1 * S2
    deriv = p2[:, None] * a1 + p1[:, None] * a2 - (p1 * p2)[:, None] * a0
    err = np.sqrt(np.sum(np.where(a0 > 0, (he * deriv) ** 2, 0.0), axis=-1))
    return S, err


def selected_xsec(scan: ScanData, t: int, j: int, sel: Selection):
    """Selected cross section S and its MC error [pb] at target index t, energy index j, for all
    masses (without ``sel.factor``).  Returns (S, err), shape (nM,).

    A selection without cuts is the sum of the physical bins, sum_i h_i a_i.  A selection with a cut
    or a weight inside the x_tau range integrates the acceptance against the density of the
    interpolated upper tail (:func:`_tail_selected`, :mod:`lfvscan.pheno.tails`), which does not
    assume the histogram constant inside the bin the cut falls in.  Its error is that of the same
    cut on the tails interpolated linearly between edges (:func:`acceptance_weights`, the stored tail
    and bin errors, :func:`_tail_error_bound`).  A visible curve with ``tau2_acceptance =
    "mean-energy"`` factorises as in :func:`_selected_mean_energy`.  The taus are those of the scan's
    physics preset (:func:`lfvscan.pheno.scanphysics.scan_lepton_pair`).  A visible curve selects
    nothing at ALP masses below the threshold of a -> tau mu, m_a <= m_tau + m_mu (§3.2)."""
    pair = scan_lepton_pair(scan)
    if sel.tau2_acceptance == "mean-energy" and sel.res_tau2_cm is not None:
        S, err = _selected_mean_energy(scan, t, j, sel, pair)
    else:
        w = acceptance_weights(scan.x_f_edges[j], scan.energies_GeV[j], scan.masses_GeV, sel, pair)
        h = scan.dsigma_dlnx_f_pb[t, j]
        he = scan.dsigma_dlnx_f_err_pb[t, j]
        S = np.sum(np.where(w > 0, h * w, 0.0), axis=-1)
        err = np.sqrt(np.sum(np.where(w > 0, (he * w) ** 2, 0.0), axis=-1))
        if "sigma_above_x_err_pb" in scan:
            err = np.fmin(err, _tail_error_bound(w, scan.x_f_edges[j], scan["sigma_above_x_err_pb"][t, j]))
    if cuts_inside_bins(sel):
        S = _tail_value(scan, t, j, sel, pair, edge_step=1, last_bin_exponent=None)
    if sel.scenario == "visible":
        decays = np.asarray(scan.masses_GeV, dtype=float) > pair.threshold_GeV
        S, err = np.where(decays, S, 0.0), np.where(decays, err, 0.0)
    return S, err


def cuts_inside_bins(sel: Selection) -> bool:
    """Whether the selection cuts or weights the x_tau distribution (a tau_1 or tau_2 decay-length
    requirement, the exponential survival, a muon-energy cut); without any, S is a sum of whole bins."""
    return sel.res_tau1_cm is not None or sel.res_tau2_cm is not None or sel.muon_energy_max_GeV is not None


def selected_xsec_alternatives(scan: ScanData, t: int, j: int, sel: Selection) -> tuple[np.ndarray, ...]:
    """Other reasonable values (each (nM,) [pb]) of the S of :func:`selected_xsec` from the same
    stored histogram: from the upper tails at every other bin edge only (a histogram of half the
    resolution), and with a constant density in the last physical bin (whose shape the histogram
    does not give); for a tau_1 cut alone also with that bin's content at the reach (the whole bin
    passes a cut inside it: S may lie anywhere between these); none for a selection without cuts.
    Their differences to S measure how well the stored bins resolve the distribution where the
    selection cuts (:func:`lfvscan.pheno.quality.spread_flags`, flag ``x_interp``)."""
    if not cuts_inside_bins(sel):
        return ()
    pair = scan_lepton_pair(scan)
    alts = [_tail_value(scan, t, j, sel, pair, edge_step=2, last_bin_exponent=None),
            _tail_value(scan, t, j, sel, pair, edge_step=1, last_bin_exponent=1.0)]
    if sel.acceptance != "exponential" and sel.res_tau2_cm is None and sel.muon_energy_max_GeV is None:
        alts.append(_tail_value(scan, t, j, sel, pair, edge_step=1, last_bin_exponent=0.0))
    return tuple(alts)


def _tail_value(scan: ScanData, t: int, j: int, sel: Selection, pair: LeptonPair, edge_step: int,
                last_bin_exponent: float | None) -> np.ndarray:
    """S (nM,) [pb] from the upper tails interpolated through every ``edge_step``-th bin edge (and
    the last edge, x_tau = 1; ``last_bin_exponent`` as in :func:`lfvscan.pheno.tails.upper_tail`):
    :func:`_tail_selected`, or its mean-energy factorisation (§10.3)."""
    edges = np.asarray(scan.x_f_edges[j], dtype=float)
    E, masses = float(scan.energies_GeV[j]), np.asarray(scan.masses_GeV, dtype=float)
    C = tails_at_edges(edges, scan.dsigma_dlnx_f_pb[t, j])
    keep = np.unique(np.append(np.arange(0, edges.size, edge_step), edges.size - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        u_max = np.log(np.clip(1.0 - masses / E, 0, None))
    tail = upper_tail(edges[keep], -np.diff(C[:, keep], axis=-1) / np.diff(np.log(edges[keep])), u_max,
                      last_bin_exponent)
    if sel.tau2_acceptance == "mean-energy" and sel.res_tau2_cm is not None:
        import dataclasses

        S1 = _tail_selected(tail, edges, E, masses, dataclasses.replace(sel, res_tau2_cm=None), pair)
        S0 = np.exp(tail.L[:, 0])
        e_star, p_star = taudecay.tau2_rest_frame(masses, pair=pair)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_2 = np.clip(1.0 - e_cut_GeV(sel.res_tau2_cm, pair.final) * masses / (e_star * E), 0, None)
            u_2 = np.where(p_star > 0, np.log(x_2), -np.inf)
            S2 = S0 - tail.value(u_2[:, None])[:, 0]
            return np.where(S0 > 0, S1 * S2 / S0, 0.0)
    return _tail_selected(tail, edges, E, masses, sel, pair)


def _tail_selected(tail: UpperTail, x_edges, E: float, masses, sel: Selection, pair: LeptonPair) -> np.ndarray:
    """S = Integral f(u) acc(u) du (nM,) [pb]: the acceptance of the selection (tau_1 cut, P_2, the
    exponential survival, the muon-energy weight; the panels of :func:`acceptance_weights`) against
    the density f = -dC/du of the interpolated upper tail ``tail``.  A tau_1 cut alone is the tail at
    the cut, S = C(ln(E_cut/E))."""
    u = np.log(np.asarray(x_edges, dtype=float))
    nM = masses.size
    with np.errstate(divide="ignore", invalid="ignore"):
        u_max = np.log(np.clip(1.0 - masses / E, 0, None))[:, None]
    phys_hi = np.minimum(u[None, 1:], u_max)
    acc_lo = np.broadcast_to(u[None, :-1], phys_hi.shape).copy()
    if sel.res_tau1_cm is not None:
        acc_lo = np.maximum(acc_lo, np.log(e_cut_GeV(sel.res_tau1_cm, pair.final) / E))
    if sel.acceptance == "exponential":
        nodes, qw = _exponential_panels(u[:-1], phys_hi, E, masses, sel, pair)
    elif sel.res_tau2_cm is not None or sel.muon_energy_max_GeV is not None:
        nodes, qw = _kinked_panels(acc_lo, phys_hi, E, masses, sel, pair)
    else:
        return tail.value(acc_lo[:, :1])[:, 0]
    f = tail.value_and_density(nodes.reshape(nM, -1))[1].reshape(nodes.shape)
    return np.sum(qw * f, axis=(1, 2, 3))


def _tail_error_bound(w, x_edges, tail_err):
    """Upper bound on the MC error of S = sum_i h_i a_i from the errors e_k of the upper tails
    C_k = sum_{i >= k} h_i Delta_i (docs/physics.md §7.12).

    With Delta_i the ln-width of bin i, h_i Delta_i = C_i - C_{i+1}, so (Abel summation)
    S = sum_k c_k C_k with c_k = a_k/Delta_k - a_{k-1}/Delta_{k-1} (a_{-1} = 0), and by the triangle
    inequality err(S) <= sum_k |c_k| e_k.  Exact for a single cut (one nonzero c_k); an upper bound for
    smooth weights.  The per-bin quadrature sum is also an upper bound (bins of one vegas sample are
    anti-correlated); :func:`selected_xsec` quotes the smaller.  NaN tail errors (a store without the
    field) give NaN, and ``fmin`` then keeps the quadrature sum."""
    delta = np.diff(np.log(np.asarray(x_edges, dtype=float)))
    dens = np.where(w > 0, w, 0.0) / delta
    c = np.diff(dens, axis=-1, prepend=0.0)
    return np.sum(np.abs(c) * tail_err, axis=-1)
