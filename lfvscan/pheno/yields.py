"""Signal yields N_hat(m_a) = N_sig(g = 1) from a scan (docs/physics.md §10.1-§10.3, §8).

For a monochromatic beam of energy E (docs/physics.md §10.1)::

    N_hat = N_mu * n_T L * factor * sum_i h_i * a_i(E, m_a)

with ``h_i`` the stored dsigma/dln x_tau of bin i [pb] (x_tau = E_tau / E, §8.1) and ``a_i`` the
accepted width of bin i in ln x_tau, weighted by the tau_2 passing fraction P_2 (§8.3, visible
curves only)::

    a_i = (Delta_i / Delta'_i) * Integral_{bin i, x_tau E > E_cut(d1), x_tau <= 1 - m_a/E} P_2(E (1 - x_tau); d2) dln x_tau

Bin-edge treatment (documented choice): the histogram is taken as piecewise constant in
ln x_tau *within the physical part of each bin*, i.e. bin i spans [x_i, min(x_{i+1}, 1 - m_a/E)]
(Delta'_i = its ln-width, Delta_i the full ln-width; the stored value is the bin average over the
full bin, so the density on the physical part is h_i Delta_i / Delta'_i).  A bin cut by the tau_1
requirement (E_tau > E_cut, the mean-decay-length criterion of §8.5) contributes the fraction of
its ln-width above the cut.  P_2 (flat tau_2 energy spectrum, §8.3) is integrated exactly in
closed-form sub-intervals: its kinks sit at E_a = m_a cosh(eta* +- eta_c) (eta* = rapidity of the
tau in the ALP frame, cosh eta_c = E_cut / m_tau), and 16-point Gauss-Legendre is applied between
them, where P_2 is smooth.  With ``acceptance = "exponential"`` (option of §8.5) the survival
probabilities exp(-d/lambda) are smooth and integrated with Gauss-Legendre panels.  The optional
NA64-mu muon-energy cut weights each tau energy with P(E_mu < E_max) (§8.4; kink at E_tau = E_max).  The recoil term t/2M in E_tau (<= 0.15 %, §8.1) is neglected.

FASERnu2 (beam = "flux") folds the same selected cross section S(E) = sum_i h_i a_i over the
muon spectrum (§10.1, :func:`fold_flux`): S is interpolated between the scan energies of the
experiment's target in (ln E, ln S) (exact for power laws; a fitted A (E - E_t)^n at the
threshold), both charges are summed, and within each flux bin the muons are taken as uniform in
ln E; each piece is integrated by Gauss-Legendre (<= 0.5 % against direct integrals).
Outside the scanned energy range S is taken as zero (a warning gives the muon fraction lost).
Cells below threshold are DONE with zero cross section and contribute zero.

Monte Carlo errors: per cell the smaller of two upper bounds (docs/physics.md §7.12), the per-bin
errors in quadrature ``sqrt(sum_i (a_i err_i)^2)`` (bins filled from the same vegas samples are
anti-correlated) and ``sum_k |c_k| e(C_k)`` from the stored errors of the upper tails C_k (exact for a
single cut); cells independent: ``err^2 = sum_cells w_c^2 err_c^2``.  Pulls over 12 seeds (Pb, 1 TeV,
5-28 GeV): rms 0.73-0.80 for the 2 cm curves (conservative), 0.92 for 2 mm, 1.15 for the uncut ones.

Incomplete scans: a mass whose required cells are not all DONE gets N_hat = NaN and an
:class:`IncompleteScanWarning` lists the missing cells; missing cells are never treated as zero.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from lfvscan.physics import taudecay
from lfvscan.physics.leptons import Lepton, LeptonPair
from lfvscan.errors import UsageError
from lfvscan.pheno.experiments import Experiment, Selection
from lfvscan.pheno.flux import MuonFlux, load_flux
from lfvscan.pheno.scanphysics import scan_lepton_pair
from lfvscan.store.scandata import DONE, FAILED, SKIPPED, STATUS_NAMES, ScanData

#: Gauss-Legendre order per smooth sub-interval of a bin
GL_ORDER = 16
_GL_X, _GL_W = np.polynomial.legendre.leggauss(GL_ORDER)


class IncompleteScanWarning(UserWarning):
    """Cells needed for a yield are not DONE; the affected masses are NaN."""


class FluxRangeWarning(UserWarning):
    """Part of the muon flux lies outside the scanned energies and is not used."""


class QualityWarning(UserWarning):
    """Yields built from cells vegas did not converge on, or with a suspicious Q."""


#: a cell with vegas Q (chi^2 probability of its final iterations' scatter) below this is flagged
#: "low_Q" (docs/physics.md §10.1): its final iterations scatter beyond their vegas errors (the
#: driver then scales the cell's error by sqrt(chi2/dof), docs/physics.md §7.12); with 1e-3 about one
#: honest cell in 1000 is flagged by chance (paper scan with the tail-weighted map: 31 of 1101 open
#: cells, which flags 56 of its 690 limit points; raise or lower it with ``--q-min``)
DEFAULT_Q_MIN = 1e-3
#: quality of a limit point whose every contributing cell is DONE, converged and has Q >= Q_min
QUALITY_OK = "ok"


# --------------------------------------------------------------------------------------------
# tau kinematics (docs/physics.md §8.1, §8.3, §8.5)
# --------------------------------------------------------------------------------------------
def e_cut_GeV(res_cm: float, tau: Lepton) -> float:
    """Energy of the lepton ``tau`` whose mean lab decay length equals ``res_cm`` (docs/physics.md §8.5) [GeV]."""
    return float(taudecay.e_cut_GeV(res_cm, tau=tau))


#: P_2(E_a; m_a, d): flat-spectrum tau_2 passing fraction, mean-decay-length criterion (§8.5)
p2_pass = taudecay.p2_pass_fraction


def p2_breakpoints(m_a, res_cm: float, pair: LeptonPair):
    """ALP energies [GeV] where P_2 has kinks: m_a cosh(eta* +- eta_c) (docs/physics.md §8.3; D:
    E_-(E_a) = m_tau cosh(eta_a - eta*), E_+ = m_tau cosh(eta_a + eta*)), m_tau = ``pair.final.mass``.
    Shape (..., 2)."""
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
    the constant ``sel.factor`` (see the module docstring for the bin-edge treatment); the taus are
    ``pair.final`` (mass, c tau)."""
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
        return renorm * _exponential_integral(u_lo, phys_hi, E, masses, sel, pair)
    if sel.res_tau2_cm is None and sel.muon_energy_max_GeV is None:
        return renorm * np.clip(acc_hi - acc_lo, 0, None)
    # smooth weights (P_2, muon-energy cut): Gauss-Legendre between their kinks
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
    integral = np.sum(half[..., None] * _GL_W * vals, axis=(-1, -2))
    return renorm * integral


def _exponential_integral(u_lo, phys_hi, E, masses, sel: Selection, pair: LeptonPair, n_split: int = 4):
    """Integral over the physical part of each bin of exp(-d1/lambda(x E)) * <exp(-d2/lambda)>_tau2
    (the "exponential" option of docs/physics.md §8.5); smooth, so ``n_split`` Gauss-Legendre panels
    per bin.  Shape (nM, nb)."""
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
    return np.sum(half[..., None] * _GL_W * vals, axis=(-1, -2))


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

    edges, E, masses = scan.x_tau_edges[j], scan.energies_GeV[j], scan.masses_GeV
    a1 = acceptance_weights(edges, E, masses, dataclasses.replace(sel, res_tau2_cm=None), pair)
    a0 = acceptance_weights(edges, E, masses, dataclasses.replace(sel, res_tau1_cm=None, res_tau2_cm=None,
                                                                  muon_energy_max_GeV=None), pair)
    a2 = mean_energy_tau2_weights(edges, E, masses, sel.res_tau2_cm, pair)
    h = scan.dsigma_dlnx_tau_pb[t, j]
    he = scan.dsigma_dlnx_tau_err_pb[t, j]

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
    masses (without ``sel.factor``).  Returns (S, err), shape (nM,).  A visible curve with
    ``tau2_acceptance = "mean-energy"`` uses :func:`_selected_mean_energy`.  The taus are those of
    the scan's physics preset (:func:`lfvscan.pheno.scanphysics.scan_lepton_pair`)."""
    pair = scan_lepton_pair(scan)
    if sel.tau2_acceptance == "mean-energy" and sel.res_tau2_cm is not None:
        return _selected_mean_energy(scan, t, j, sel, pair)
    w = acceptance_weights(scan.x_tau_edges[j], scan.energies_GeV[j], scan.masses_GeV, sel, pair)
    h = scan.dsigma_dlnx_tau_pb[t, j]
    he = scan.dsigma_dlnx_tau_err_pb[t, j]
    S = np.sum(np.where(w > 0, h * w, 0.0), axis=-1)
    err = np.sqrt(np.sum(np.where(w > 0, (he * w) ** 2, 0.0), axis=-1))
    if "sigma_above_x_err_pb" in scan:
        err = np.fmin(err, _tail_error_bound(w, scan.x_tau_edges[j], scan["sigma_above_x_err_pb"][t, j]))
    return S, err


def _tail_error_bound(w, x_edges, tail_err):
    """Upper bound on the MC error of S = sum_i h_i a_i from the errors e_k of the upper tails
    C_k = sum_{i >= k} h_i Delta_i (docs/physics.md §7.12).

    With Delta_i the ln-width of bin i, h_i Delta_i = C_i - C_{i+1}, so (Abel summation)
    S = sum_k c_k C_k with c_k = a_k/Delta_k - a_{k-1}/Delta_{k-1} (a_{-1} = 0), and by the triangle
    inequality err(S) <= sum_k |c_k| e_k.  Exact for a single cut (one nonzero c_k); an upper bound for
    smooth weights.  The per-bin quadrature sum is also an upper bound (bins of one vegas sample are
    anti-correlated); :func:`selected_xsec` quotes the smaller.  NaN tail errors (stores older than the
    field) give NaN, and ``fmin`` then keeps the quadrature sum."""
    delta = np.diff(np.log(np.asarray(x_edges, dtype=float)))
    dens = np.where(w > 0, w, 0.0) / delta
    c = np.diff(dens, axis=-1, prepend=0.0)
    return np.sum(np.abs(c) * tail_err, axis=-1)


# --------------------------------------------------------------------------------------------
# any theta from one scan (docs/physics.md §7.12)
# --------------------------------------------------------------------------------------------
#: (stored total, its error, scalar part, pseudoscalar part, S error, P error, S-P covariance); the errors
#: of ``sigma_coherent_pb`` / ``sigma_incoherent_pb`` have no stored parts and become NaN
_RECOMBINED = (
    ("sigma_pb", "sigma_err_pb", "sigma_scalar_pb", "sigma_pseudoscalar_pb", "sigma_scalar_err_pb",
     "sigma_pseudoscalar_err_pb", "sigma_sp_cov_pb2"),
    ("sigma_coherent_pb", "sigma_coherent_err_pb", "sigma_coherent_scalar_pb", "sigma_coherent_pseudoscalar_pb",
     None, None, None),
    ("sigma_incoherent_pb", "sigma_incoherent_err_pb", "sigma_incoherent_scalar_pb",
     "sigma_incoherent_pseudoscalar_pb", None, None, None),
    ("dsigma_dlnx_tau_pb", "dsigma_dlnx_tau_err_pb", "dsigma_dlnx_tau_scalar_pb", "dsigma_dlnx_tau_pseudoscalar_pb",
     "dsigma_dlnx_tau_scalar_err_pb", "dsigma_dlnx_tau_pseudoscalar_err_pb", "dsigma_dlnx_tau_sp_cov_pb2"),
    (None, "sigma_above_x_err_pb", None, None, "sigma_above_x_scalar_err_pb", "sigma_above_x_pseudoscalar_err_pb",
     "sigma_above_x_sp_cov_pb2"),
)


def scan_at_theta(scan: ScanData, theta: float, convention: str = "eq3") -> ScanData:
    """The scan's cross sections at another ``theta`` [rad] / ``convention`` from its scalar and
    pseudoscalar parts (docs/physics.md §7.12): sigma = g_S^2 sigma_S + g_P^2 sigma_P for g = 1,
    var = g_S^4 var_S + g_P^4 var_P + 2 g_S^2 g_P^2 cov_SP, for sigma, its coherent and incoherent
    parts, d sigma / d ln x_tau and the upper-tail errors.  Returns a new :class:`ScanData` (the other
    arrays shared); UsageError if the store has no parts (written before they existed).  The
    ``"eq2"`` couplings use the lepton masses of the scan's physics preset."""
    from lfvscan.physics.couplings import check_convention
    from lfvscan.xsec.integrand import part_weights

    try:
        check_convention(convention)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not math.isfinite(float(theta)):
        raise UsageError(f"theta must be finite, got {theta!r}")
    done = (scan.status == DONE) & ~np.asarray(scan.arrays.get("closed", False), dtype=bool)
    if "sigma_scalar_pb" not in scan or (np.any(done) and np.all(np.isnan(scan["sigma_scalar_pb"][done]))):
        raise UsageError("the scan stores no scalar/pseudoscalar parts (written by an older lfvscan): "
                         "rescan to use another theta or convention")
    a, b = part_weights(theta, convention, pair=scan_lepton_pair(scan))
    arrays = dict(scan.arrays)
    for total, err, sp, pp, se, pe, cov in _RECOMBINED:
        if total is not None:
            arrays[total] = a * scan[sp] + b * scan[pp]
        if se is None:
            arrays[err] = np.full_like(scan[err], np.nan)
        else:
            var = a * a * scan[se] ** 2 + b * b * scan[pe] ** 2 + 2.0 * a * b * scan[cov]
            arrays[err] = np.sqrt(np.maximum(var, 0.0))
    status = arrays.pop("status")
    return ScanData(scan.targets, scan.energies_GeV, scan.masses_GeV, scan.x_tau_edges, status,
                    theta=float(theta), convention=convention, attrs=scan.attrs, **arrays)


# --------------------------------------------------------------------------------------------
# flux folding
# --------------------------------------------------------------------------------------------
def flux_weights(flux: MuonFlux, grid_GeV) -> tuple[np.ndarray, float, float]:
    """Folding weights w_j [muons per fb^-1] with sum_k N_k <S>_k = sum_j w_j S(E_j).

    S is linear in ln E between grid energies and zero outside [E_1, E_n]; within flux bin k the
    N_k = N_{mu+} + N_{mu-} muons are uniform in ln E.  Returns (w, muons below E_1, muons above
    E_n) per fb^-1 (the last two are the parts outside the grid)."""
    g = np.log(np.asarray(grid_GeV, dtype=float))
    if g.size == 0:
        raise UsageError("no scan energies to fold the flux with")
    n = g.size
    weights = np.zeros(n)
    eye = np.eye(n)
    below = above = 0.0
    for lo_E, hi_E, N in zip(flux.E_low_GeV, flux.E_high_GeV, flux.total_per_fb):
        a, b = np.log(lo_E), np.log(hi_E)
        below += N * np.clip((min(b, g[0]) - a) / (b - a), 0, 1)
        above += N * np.clip((b - max(a, g[-1])) / (b - a), 0, 1)
        lo, hi = max(a, g[0]), min(b, g[-1])
        if hi <= lo or N == 0:
            continue
        pts = np.concatenate([[lo], g[(g > lo) & (g < hi)], [hi]])
        vals = np.array([np.interp(pts, g, eye[j]) for j in range(n)])  # (n, npts)
        weights += N / (b - a) * np.sum(0.5 * (vals[:, 1:] + vals[:, :-1]) * np.diff(pts), axis=1)
    return weights, float(below), float(above)


#: Gauss-Legendre order per piece (flux bin x grid segment) of the flux folding
FOLD_GL_ORDER = 12
_FOLD_X, _FOLD_W = np.polynomial.legendre.leggauss(FOLD_GL_ORDER)


def _threshold_fit(E, s, k0):
    """(E_t, n, A) of ``S = A (E - E_t)^n`` through the first three positive grid points
    ``E[k0..k0+2]`` (docs/physics.md §10.1), ``E_t`` in ``[E[k0-1], E[k0])`` where S is known to
    vanish; found by bisection on ln(S2/S1)/ln(S3/S2), which rises monotonically to infinity as
    E_t -> E[k0].  If the data want a lower threshold, ``E_t = E[k0-1]``."""
    E1, E2, E3 = E[k0], E[k0 + 1], E[k0 + 2]
    S1, S2, S3 = s[k0], s[k0 + 1], s[k0 + 2]
    def f(Et):
        return math.log((E2 - Et) / (E1 - Et)) / math.log((E3 - Et) / (E2 - Et))

    lo, hi = E[k0 - 1], E1 - 1e-9 * (E1 - E[k0 - 1])
    if S2 <= S1 or S3 <= S2 or f(lo) >= math.log(S2 / S1) / math.log(S3 / S2):
        Et = lo
    else:
        r = math.log(S2 / S1) / math.log(S3 / S2)
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if f(mid) > r else (mid, hi)
        Et = 0.5 * (lo + hi)
    if S2 <= S1:  # not rising: no threshold shape, S = S1 above E_t
        return Et, 0.0, S1
    n = math.log(S2 / S1) / math.log((E2 - Et) / (E1 - Et))
    return Et, n, S1 / (E1 - Et) ** n


def _interp_segment(g, s, j, u):
    """S at ln E = ``u`` inside grid segment ``[g[j], g[j+1]]`` for one mass (docs/physics.md §10.1):
    cubic-like in (ln E, ln S) (mean of the quadratics through the all-positive 3-point stencils
    {j-1, j, j+1} and {j, j+1, j+2}), linear in (ln E, ln S) if neither stencil is positive, linear
    in (ln E, S) if an end point is zero."""
    s0, s1 = s[j], s[j + 1]
    t = (u - g[j]) / (g[j + 1] - g[j])
    if not (s0 > 0 and s1 > 0):
        return s0 + (s1 - s0) * t
    n = len(g)
    ests = []
    for st in ((j - 1, j, j + 1), (j, j + 1, j + 2)):
        if st[0] < 0 or st[2] >= n or not all(s[k] > 0 for k in st):
            continue
        x = g[list(st)]
        y = np.log(s[list(st)])
        ests.append(sum(y[a] * np.prod([(u - x[b]) / (x[a] - x[b]) for b in range(3) if b != a], axis=0)
                        for a in range(3)))
    if not ests:
        return np.exp(np.log(s0) + (np.log(s1) - np.log(s0)) * t)
    return np.exp(np.mean(ests, axis=0))


def fold_flux(flux: MuonFlux, grid_GeV, S_grid) -> np.ndarray:
    """sum_k N_k <S>_k [pb muons per fb^-1] for each mass: S_grid (n_grid, nM) [pb] on the scan
    energies ``grid_GeV`` (sorted), muons uniform in ln E within flux bin k (docs/physics.md §10.1).

    Interpolation of S between grid energies (``_interp_segment``): piecewise cubic-like in
    (ln E, ln S), exact for power laws.  Near the threshold (the first positive grid point k0
    follows a zero) the first three positive points fix ``S = A (E - E_t)^n`` (``_threshold_fit``),
    used on the segments up to k0 + 2.  Each (flux bin x grid segment) piece is integrated with
    12-point Gauss-Legendre in ln E (from ln E_t on the threshold segment).  Outside the grid S = 0.
    Accuracy against direct integrals of analytic S(E) on the packaged flux and the paper grid:
    tests/test_flux_folding.py (<= 0.5 %)."""
    g = np.log(np.asarray(grid_GeV, dtype=float))
    E = np.exp(g)
    S_grid = np.asarray(S_grid, dtype=float)
    n, nM = S_grid.shape
    pieces = []  # (segment j, x0, x1, muon density N/(b-a))
    for lo_E, hi_E, N in zip(flux.E_low_GeV, flux.E_high_GeV, flux.total_per_fb):
        a, b = math.log(lo_E), math.log(hi_E)
        lo, hi = max(a, g[0]), min(b, g[-1])
        if hi <= lo or N == 0 or n < 2:
            continue
        pts = np.concatenate([[lo], g[(g > lo) & (g < hi)], [hi]])
        for x0, x1 in zip(pts[:-1], pts[1:]):
            j = int(min(max(np.searchsorted(g, 0.5 * (x0 + x1)) - 1, 0), n - 2))
            pieces.append((j, x0, x1, N / (b - a)))
    out = np.zeros(nM)
    for m in range(nM):
        s = S_grid[:, m]
        pos = s > 0
        if not pos.any():
            continue
        k0 = int(np.argmax(pos))
        thr = k0 >= 1 and k0 + 2 < n and bool(np.all(pos[k0:k0 + 3]))
        fit = _threshold_fit(E, s, k0) if thr else None
        total = 0.0
        for j, x0, x1, dens in pieces:
            if fit is not None and k0 - 1 <= j <= k0 + 1:
                Et, nexp, A = fit
                x0 = max(x0, math.log(Et)) if Et > 0 else x0
                if x1 <= x0:
                    continue
                u = 0.5 * (x0 + x1) + 0.5 * (x1 - x0) * _FOLD_X
                vals = A * np.clip(np.exp(u) - Et, 0, None) ** nexp
            else:
                u = 0.5 * (x0 + x1) + 0.5 * (x1 - x0) * _FOLD_X
                vals = _interp_segment(g, s, j, u)
            total += dens * 0.5 * (x1 - x0) * float(np.dot(_FOLD_W, vals))
        out[m] = total
    return out


# --------------------------------------------------------------------------------------------
# yields per experiment and curve
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CurveYield:
    """N_hat(m_a) for one selection curve.

    ``n_hat`` / ``n_hat_err``: expected events for g = 1 and MC error, shape (nM,), NaN where the
    scan is incomplete; ``exposure``: muons on target (mono) or integrated luminosity [fb^-1]
    (flux); ``missing``: tuple of (target, energy_GeV, mass_GeV, status name) cells not DONE.
    """

    experiment: str
    curve: str
    scenario: str
    label: str
    masses_GeV: np.ndarray
    n_hat: np.ndarray
    n_hat_err: np.ndarray
    exposure: float
    exposure_unit: str
    factor: float
    column_density_per_pb: float
    drawn: bool = True
    missing: tuple = ()
    notes: tuple[str, ...] = field(default=())
    n_req: float | None = None  #: the curve's own N_req (None: the global one, docs/physics.md §10.4)
    #: per mass: quality flag (:func:`point_quality`), smallest Q and largest chi2/dof of its cells
    quality: tuple[str, ...] = ()
    min_Q: np.ndarray | None = None
    max_chi2_dof: np.ndarray | None = None
    #: theta [rad] / convention the yield was recombined at (:func:`scan_at_theta`); None: the scan's own
    theta: float | None = None
    convention: str | None = None

    @property
    def curve_name(self) -> str:
        """The selection curve, with ``@theta=<rad>`` when recombined at a chosen theta."""
        return self.curve if self.theta is None else f"{self.curve}@theta={self.theta:.6g}"

    @property
    def key(self) -> str:
        return f"{self.experiment}/{self.curve_name}"


def coverage_problem(scan: ScanData, exp: Experiment) -> str:
    """Why ``scan`` cannot give yields for ``exp`` ("" if it can): target or beam energy missing."""
    try:
        scan.target_index(exp.target.name)
        if exp.beam == "mono":
            scan.energy_index(exp.beam_energy_GeV)
    except ValueError as exc:
        return str(exc)
    return ""


def covered_experiments(scan: ScanData, experiments: dict[str, Experiment]):
    """(experiments the scan covers, {name: reason} of those it does not)."""
    usable, skipped = {}, {}
    for name, exp in experiments.items():
        reason = coverage_problem(scan, exp)
        if reason:
            skipped[name] = reason
        else:
            usable[name] = exp
    return usable, skipped


def _target_index(scan: ScanData, exp: Experiment) -> int:
    try:
        return scan.target_index(exp.target.name)
    except ValueError:
        raise UsageError(
            f"experiment {exp.name!r} needs target {exp.target.name!r}, scan has {', '.join(scan.targets)}"
        ) from None


def _missing_cells(scan: ScanData, t: int, js):
    out = []
    for j in js:
        for k, m in enumerate(scan.masses_GeV):
            st = int(scan.status[t, j, k])
            if st != DONE:
                out.append((scan.targets[t], float(scan.energies_GeV[j]), float(m), STATUS_NAMES.get(st, str(st))))
    return out


def point_quality(scan: ScanData, t: int, js, q_min: float = DEFAULT_Q_MIN):
    """Per mass: (quality flag, smallest Q, largest chi2/dof) over the cells (target t, energies js)
    a yield point is built from (docs/physics.md §10.1).  Flags, joined with "+": "failed" / "missing"
    (a cell FAILED / not computed: N_hat is NaN), "unconverged" (vegas ran out of budget before
    rel_err, ``converged`` False), "low_Q" (``Q < q_min``); else :data:`QUALITY_OK`.  Closed cells
    (sigma = 0 exactly) count as fine.  Arrays the scan lacks are not checked."""
    js = np.atleast_1d(np.asarray(js, dtype=int))
    st = scan.status[t][js]
    nM = scan.masses_GeV.size
    open_ = (st == DONE) & ~(scan.closed[t][js] if "closed" in scan else np.zeros_like(st, bool))
    flags = [[] for _ in range(nM)]
    checks = [("failed", np.any(st == FAILED, axis=0)), ("missing", np.any((st != DONE) & (st != FAILED), axis=0))]
    if "converged" in scan:
        checks.append(("unconverged", np.any(open_ & ~scan.converged[t][js].astype(bool), axis=0)))
    q = np.where(open_, scan.Q[t][js], np.inf) if "Q" in scan else np.full(st.shape, np.inf)
    checks.append(("low_Q", np.any(q < q_min, axis=0)))
    for name, bad in checks:
        for k in np.nonzero(bad)[0]:
            flags[k].append(name)
    min_q = np.min(q, axis=0) if js.size else np.full(nM, np.inf)
    min_q = np.where(np.isfinite(min_q), min_q, np.nan)
    if "chi2_dof" in scan and js.size:
        max_chi2 = np.max(np.where(open_, scan.chi2_dof[t][js], -np.inf), axis=0)
        max_chi2 = np.where(np.isfinite(max_chi2), max_chi2, np.nan)
    else:
        max_chi2 = np.full(nM, np.nan)
    return tuple("+".join(f) if f else QUALITY_OK for f in flags), min_q, max_chi2


def _warn_quality(key: str, masses, quality):
    bad = [(m, q) for m, q in zip(masses, quality) if q != QUALITY_OK and ("unconverged" in q or "low_Q" in q)]
    if bad:
        shown = ", ".join(f"{m:g} GeV ({q})" for m, q in bad[:20])
        more = f" and {len(bad) - 20} more" if len(bad) > 20 else ""
        warnings.warn(QualityWarning(f"{key}: {len(bad)} point(s) built from unconverged or low-Q cells: "
                                     f"m_a = {shown}{more}; flagged in the quality column"), stacklevel=3)


def _warn_missing(key: str, missing, masses_nan):
    if not missing:
        return
    shown = "; ".join(f"{t} E={e:g} GeV m_a={m:g} GeV ({s})" for t, e, m, s in missing[:20])
    more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
    warnings.warn(
        IncompleteScanWarning(
            f"{key}: {len(missing)} needed cell(s) not done: {shown}{more}; "
            f"N_hat set to NaN at m_a = {', '.join(f'{m:g}' for m in masses_nan)} GeV"
        ),
        stacklevel=3,
    )


def curve_yield(scan: ScanData, exp: Experiment, sel: Selection, flux: MuonFlux | None = None,
                q_min: float = DEFAULT_Q_MIN) -> CurveYield:
    """N_hat(m_a) for one experiment and selection curve (docs/physics.md §10); each point carries
    the quality of its cells (:func:`point_quality`, cells with Q < ``q_min`` are "low_Q")."""
    t = _target_index(scan, exp)
    nL = exp.column_density_per_pb
    key = f"{exp.name}/{sel.name}"
    notes: list[str] = []
    if exp.beam == "mono":
        try:
            j = scan.energy_index(exp.beam_energy_GeV)
        except ValueError:
            raise UsageError(
                f"experiment {exp.name!r} needs E = {exp.beam_energy_GeV:g} GeV, scan has "
                f"{', '.join(f'{e:g}' for e in scan.energies_GeV)} GeV"
            ) from None
        S, Serr = selected_xsec(scan, t, j, sel)
        n_mu = exp.n_mu_for(sel)
        scale = n_mu * nL * sel.factor
        n_hat, n_err = scale * S, scale * Serr
        ok = scan.status[t, j] == DONE
        missing = _missing_cells(scan, t, [j])
        quality = point_quality(scan, t, [j], q_min)
        exposure, unit = n_mu, "muons on target"
    else:
        flux = flux if flux is not None else load_flux(exp.flux_path())
        js = np.nonzero(~np.all(scan.status[t] == SKIPPED, axis=-1))[0]
        if js.size == 0:
            raise UsageError(f"experiment {exp.name!r}: scan has no {exp.target.name} cells")
        grid = scan.energies_GeV[js]
        order = np.argsort(grid)
        js, grid = js[order], grid[order]
        fold_weights, below, above = flux_weights(flux, grid)  # muons per fb^-1 per grid energy
        total = float(np.sum(flux.total_per_fb))
        S_grid = np.zeros((js.size, scan.masses_GeV.size))
        S_err_grid = np.zeros_like(S_grid)
        for n, j in enumerate(js):
            S_grid[n], S_err_grid[n] = selected_xsec(scan, t, j, sel)
        used = fold_weights > 0
        # below the lowest grid energy S = 0 is exact only if that cell is closed
        if below > 0 and np.any(S_grid[0] > 0):
            notes.append(f"{below / total:.3g} of the muons lie below {grid[0]:g} GeV and are not used")
        if above > 0 and np.any(S_grid[-1] > 0):
            notes.append(f"{above / total:.3g} of the muons lie above {grid[-1]:g} GeV and are not used")
        for note in notes:
            warnings.warn(FluxRangeWarning(f"{key}: {note}"), stacklevel=2)
        scale = exp.luminosity_fb * nL * sel.factor
        n_hat = scale * fold_flux(flux, grid, S_grid)
        # MC error: sensitivities of the piecewise-linear fold (flux_weights), bins and cells independent
        n_err = scale * np.sqrt(np.sum((fold_weights[:, None] * S_err_grid) ** 2, axis=0))
        ok = np.all(scan.status[t][js[used]] == DONE, axis=0)
        missing = _missing_cells(scan, t, js[used])
        quality = point_quality(scan, t, js[used], q_min)
        exposure, unit = float(exp.luminosity_fb), "fb^-1"
    n_hat = np.where(ok, n_hat, np.nan)
    n_err = np.where(ok, n_err, np.nan)
    _warn_missing(key, missing, scan.masses_GeV[~ok])
    _warn_quality(key, scan.masses_GeV, quality[0])
    return CurveYield(
        experiment=exp.name,
        curve=sel.name,
        scenario=sel.scenario,
        label=sel.label,
        masses_GeV=np.asarray(scan.masses_GeV, dtype=float),
        n_hat=n_hat,
        n_hat_err=n_err,
        exposure=float(exposure),
        exposure_unit=unit,
        factor=sel.factor,
        column_density_per_pb=nL,
        drawn=sel.drawn,
        missing=tuple(missing),
        notes=tuple(notes),
        n_req=sel.n_req,
        quality=quality[0],
        min_Q=quality[1],
        max_chi2_dof=quality[2],
    )


def compute_yields(scan: ScanData, experiments: dict[str, Experiment], flux: MuonFlux | None = None,
                   q_min: float = DEFAULT_Q_MIN) -> list[CurveYield]:
    """Yields of every curve of every experiment (``flux`` overrides the flux files)."""
    out = []
    for exp in experiments.values():
        fx = (flux or load_flux(exp.flux_path())) if exp.beam == "flux" else None
        for sel in exp.curves:
            out.append(curve_yield(scan, exp, sel, fx, q_min))
    return out
