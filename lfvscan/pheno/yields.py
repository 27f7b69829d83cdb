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
muon spectrum (§10.1): S is interpolated linearly in ln E between the scan energies of the
experiment's target, both charges are summed, and within each flux bin the muons are taken as
uniform in ln E, so the bin average of the piecewise-linear interpolant is integrated exactly.
Outside the scanned energy range S is taken as zero (a warning gives the muon fraction lost).
Cells below threshold are DONE with zero cross section and contribute zero.

Monte Carlo errors: per cell the smaller of two upper bounds (docs/physics.md §7.11), the per-bin
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
from lfvscan.physics.constants import M_TAU
from lfvscan.errors import UsageError
from lfvscan.pheno.experiments import Experiment, Selection
from lfvscan.pheno.flux import MuonFlux, load_flux
from lfvscan.store.scandata import DONE, SKIPPED, STATUS_NAMES, ScanData

#: Gauss-Legendre order per smooth sub-interval of a bin
GL_ORDER = 16
_GL_X, _GL_W = np.polynomial.legendre.leggauss(GL_ORDER)


class IncompleteScanWarning(UserWarning):
    """Cells needed for a yield are not DONE; the affected masses are NaN."""


class FluxRangeWarning(UserWarning):
    """Part of the muon flux lies outside the scanned energies and is not used."""


# --------------------------------------------------------------------------------------------
# tau kinematics (docs/physics.md §8.1, §8.3, §8.5)
# --------------------------------------------------------------------------------------------
def e_cut_GeV(res_cm: float) -> float:
    """Tau energy whose mean lab decay length equals ``res_cm`` (docs/physics.md §8.5) [GeV]."""
    return float(taudecay.e_cut_GeV(res_cm))


#: P_2(E_a; m_a, d): flat-spectrum tau_2 passing fraction, mean-decay-length criterion (§8.5)
p2_pass = taudecay.p2_pass_fraction


def p2_breakpoints(m_a, res_cm: float):
    """ALP energies [GeV] where P_2 has kinks: m_a cosh(eta* +- eta_c) (docs/physics.md §8.3; D:
    E_-(E_a) = m_tau cosh(eta_a - eta*), E_+ = m_tau cosh(eta_a + eta*)).  Shape (..., 2)."""
    m_a = np.asarray(m_a, dtype=float)
    _, p_star = taudecay.tau2_rest_frame(m_a)
    eta_s = np.arcsinh(p_star / M_TAU)
    eta_c = np.arccosh(e_cut_GeV(res_cm) / M_TAU)
    return np.stack([m_a * np.cosh(eta_s - eta_c), m_a * np.cosh(eta_s + eta_c)], axis=-1)


# --------------------------------------------------------------------------------------------
# acceptance weights on the x_tau histogram
# --------------------------------------------------------------------------------------------
def acceptance_weights(x_edges, energy_GeV: float, masses_GeV, sel: Selection) -> np.ndarray:
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
        acc_lo = np.maximum(acc_lo, np.log(e_cut_GeV(sel.res_tau1_cm) / E))
    acc_hi = phys_hi
    with np.errstate(divide="ignore", invalid="ignore"):
        renorm = np.where(phys > 0, full[None, :] / phys, 0.0)
    if sel.acceptance == "exponential":
        return renorm * _exponential_integral(u_lo, phys_hi, E, masses, sel)
    if sel.res_tau2_cm is None and sel.muon_energy_max_GeV is None:
        return renorm * np.clip(acc_hi - acc_lo, 0, None)
    # smooth weights (P_2, muon-energy cut): Gauss-Legendre between their kinks
    bps = []
    with np.errstate(divide="ignore", invalid="ignore"):
        if sel.res_tau2_cm is not None:
            bp_Ea = p2_breakpoints(masses, sel.res_tau2_cm)  # (nM, 2)
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
        vals = vals * p2_pass(np.maximum(E_a, m), m, sel.res_tau2_cm)
    if sel.muon_energy_max_GeV is not None:
        vals = vals * taudecay.p_muon_energy_below(E * np.exp(nodes), sel.muon_energy_max_GeV)
    integral = np.sum(half[..., None] * _GL_W * vals, axis=(-1, -2))
    return renorm * integral


def _exponential_integral(u_lo, phys_hi, E, masses, sel: Selection, n_split: int = 4):
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
        vals = vals * taudecay.resolved_fraction(x * E, sel.res_tau1_cm, "exponential")
    if sel.res_tau2_cm is not None:
        m = masses[:, None, None, None]
        E_a = np.maximum(E * (1.0 - x), m)
        vals = vals * taudecay.p2_pass_fraction(E_a, m, sel.res_tau2_cm, "exponential")
    if sel.muon_energy_max_GeV is not None:
        vals = vals * taudecay.p_muon_energy_below(x * E, sel.muon_energy_max_GeV)
    return np.sum(half[..., None] * _GL_W * vals, axis=(-1, -2))


def selected_xsec(scan: ScanData, t: int, j: int, sel: Selection):
    """Selected cross section S and its MC error [pb] at target index t, energy index j, for all
    masses (without ``sel.factor``).  Returns (S, err), shape (nM,)."""
    w = acceptance_weights(scan.x_tau_edges[j], scan.energies_GeV[j], scan.masses_GeV, sel)
    h = scan.dsigma_dlnx_tau_pb[t, j]
    he = scan.dsigma_dlnx_tau_err_pb[t, j]
    S = np.sum(np.where(w > 0, h * w, 0.0), axis=-1)
    err = np.sqrt(np.sum(np.where(w > 0, (he * w) ** 2, 0.0), axis=-1))
    if "sigma_above_x_err_pb" in scan:
        err = np.fmin(err, _tail_error_bound(w, scan.x_tau_edges[j], scan["sigma_above_x_err_pb"][t, j]))
    return S, err


def _tail_error_bound(w, x_edges, tail_err):
    """Upper bound on the MC error of S = sum_i h_i a_i from the errors e_k of the upper tails
    C_k = sum_{i >= k} h_i Delta_i (docs/physics.md §7.11).

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
# any theta from one scan (docs/physics.md §7.11)
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
    pseudoscalar parts (docs/physics.md §7.11): sigma = g_S^2 sigma_S + g_P^2 sigma_P for g = 1,
    var = g_S^4 var_S + g_P^4 var_P + 2 g_S^2 g_P^2 cov_SP, for sigma, its coherent and incoherent
    parts, d sigma / d ln x_tau and the upper-tail errors.  Returns a new :class:`ScanData` (the other
    arrays shared); UsageError if the store has no parts (written before they existed)."""
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
    a, b = part_weights(theta, convention)
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
    #: theta [rad] / convention the yield was recombined at (:func:`scan_at_theta`); None: the scan's own
    theta: float | None = None
    convention: str | None = None

    @property
    def key(self) -> str:
        base = f"{self.experiment}/{self.curve}"
        return base if self.theta is None else f"{base}@theta={self.theta:.6g}"


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


def curve_yield(scan: ScanData, exp: Experiment, sel: Selection, flux: MuonFlux | None = None) -> CurveYield:
    """N_hat(m_a) for one experiment and selection curve (docs/physics.md §10)."""
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
        n_hat = scale * np.sum(fold_weights[:, None] * S_grid, axis=0)
        n_err = scale * np.sqrt(np.sum((fold_weights[:, None] * S_err_grid) ** 2, axis=0))
        ok = np.all(scan.status[t][js[used]] == DONE, axis=0)
        missing = _missing_cells(scan, t, js[used])
        exposure, unit = float(exp.luminosity_fb), "fb^-1"
    n_hat = np.where(ok, n_hat, np.nan)
    n_err = np.where(ok, n_err, np.nan)
    _warn_missing(key, missing, scan.masses_GeV[~ok])
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
    )


def compute_yields(scan: ScanData, experiments: dict[str, Experiment], flux: MuonFlux | None = None) -> list[CurveYield]:
    """Yields of every curve of every experiment (``flux`` overrides the flux files)."""
    out = []
    for exp in experiments.values():
        fx = (flux or load_flux(exp.flux_path())) if exp.beam == "flux" else None
        for sel in exp.curves:
            out.append(curve_yield(scan, exp, sel, fx))
    return out
