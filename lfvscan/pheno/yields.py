"""Signal yields N_hat(m_a) = N_sig(g = 1) from a scan (docs/physics.md §10.1-§10.3, §8).

For a monochromatic beam of energy E (docs/physics.md §10.1)::

    N_hat = N_mu * n_T L * factor * S(E, m_a)

with S the selected cross section of the cell (:func:`lfvscan.pheno.acceptance.selected_xsec`:
acceptance weights on the stored x_tau histogram).  For FASERnu2 (beam = "flux")::

    N_hat = L_int * n_T L * factor * sum_k N_k <S>_k

the same S folded over the muon spectrum (:func:`lfvscan.pheno.folding.fold_flux`); outside the
scanned energy range S is taken as zero (a :class:`~lfvscan.pheno.coverage.FluxRangeWarning` gives
the muon fraction lost).  Cells below threshold are DONE with zero cross section and contribute zero.

Monte Carlo errors: per cell that of :func:`~lfvscan.pheno.acceptance.selected_xsec`; for the flux
the error of the same fold (linearised), cells independent.

Incomplete scans: a mass whose required cells are not all DONE gets N_hat = NaN and an
:class:`~lfvscan.pheno.coverage.IncompleteScanWarning` lists the missing cells
(:mod:`lfvscan.pheno.coverage`); each point carries the quality of its cells (:mod:`lfvscan.pheno.quality`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from lfvscan.errors import UsageError
from lfvscan.pheno.acceptance import selected_xsec, selected_xsec_alternatives
from lfvscan.pheno.coverage import FluxRangeWarning, missing_cells, target_index, warn_missing
from lfvscan.pheno.experiments import Experiment, Selection
from lfvscan.pheno.flux import MuonFlux, load_flux
from lfvscan.pheno.folding import fold_flux, fold_on_half_grids, muons_outside_grid, threshold_unresolved
from lfvscan.pheno.quality import (DEFAULT_Q_MIN, FLUX_INTERP_TOLERANCE, X_INTERP_TOLERANCE, add_flag, point_quality,
                                   spread_flags, warn_quality)
from lfvscan.schema import DONE, SKIPPED
from lfvscan.store.scandata import ScanData


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
    #: expected background events, and the curve's own limit statistics / CL (None: the global), §10.6
    background: float = 0.0
    statistics: str | None = None
    cl: float | None = None
    #: per mass: quality flag (:func:`~lfvscan.pheno.quality.point_quality`), smallest Q and largest chi2/dof of its cells
    quality: tuple[str, ...] = ()
    min_Q: np.ndarray | None = None
    max_chi2_dof: np.ndarray | None = None
    #: theta [rad] / convention the yield was recombined at (:func:`~lfvscan.pheno.theta.scan_at_theta`); None: the scan's own
    theta: float | None = None
    convention: str | None = None

    @property
    def curve_name(self) -> str:
        """The selection curve, with ``@theta=<rad>`` when recombined at a chosen theta."""
        return self.curve if self.theta is None else f"{self.curve}@theta={self.theta:.6g}"

    @property
    def key(self) -> str:
        return f"{self.experiment}/{self.curve_name}"


@dataclass(frozen=True)
class _Points:
    """What :func:`curve_yield` needs from either beam: N_hat and its error per mass (before the
    NaN of incomplete points), which masses are complete, the missing cells, the points' quality,
    the exposure and its unit, and notes."""

    n_hat: np.ndarray
    n_err: np.ndarray
    ok: np.ndarray
    missing: list
    quality: tuple
    exposure: float
    unit: str
    luminosity_per_pb: float  #: lepton-nucleus luminosity [pb^-1]: leptons on target x n_T L
    notes: tuple[str, ...] = ()


def _mono_points(scan: ScanData, exp: Experiment, sel: Selection, t: int, q_min: float) -> _Points:
    """N_hat of a monochromatic beam: N_mu n_T L factor S(E) (docs/physics.md §10.1)."""
    try:
        j = scan.energy_index(exp.beam_energy_GeV)
    except ValueError:
        raise UsageError(
            f"experiment {exp.name!r} needs E = {exp.beam_energy_GeV:g} GeV, scan has "
            f"{', '.join(f'{e:g}' for e in scan.energies_GeV)} GeV"
        ) from None
    S, Serr = selected_xsec(scan, t, j, sel)
    n_mu = exp.n_mu_for(sel)
    scale = n_mu * exp.column_density_per_pb * sel.factor
    flags, min_q, max_chi2 = point_quality(scan, t, [j], q_min)
    x_bad = np.zeros(S.shape, bool)
    for alt in selected_xsec_alternatives(scan, t, j, sel):
        x_bad |= spread_flags(S, alt, X_INTERP_TOLERANCE, Serr)
    flags = add_flag(flags, "x_interp", x_bad)
    return _Points(scale * S, scale * Serr, scan.status[t, j] == DONE, missing_cells(scan, t, [j]),
                   (flags, min_q, max_chi2), n_mu, "muons on target", n_mu * exp.column_density_per_pb)


def _collider_points(scan: ScanData, exp: Experiment, sel: Selection, t: int, q_min: float) -> _Points:
    """N_hat at a lepton-ion collider: L sigma_acc eps_sig (docs/physics.md §10.8), sigma_acc from the
    lab-frame histograms of the cells (:func:`~lfvscan.pheno.collider_acceptance.accepted_cross_sections`);
    zero where the boson cannot decay to the two leptons (m_a <= m_final + m_beam)."""
    from lfvscan.pheno.collider_acceptance import accepted_cross_sections
    from lfvscan.pheno.scanphysics import scan_lepton_pair

    col = exp.collider
    j = scan.energy_index(exp.beam_energy_GeV)
    S, Serr = accepted_cross_sections(scan, exp.target.name, exp.beam_energy_GeV, col.accepted_particle,
                                      col.eta_max, col.energy_min_GeV)
    pair = scan_lepton_pair(scan)
    open_ = np.asarray(scan.masses_GeV) > pair.final.mass + pair.beam.mass
    S, Serr = np.where(open_, S, 0.0), np.where(open_, Serr, 0.0)
    lumi_pb = col.luminosity_fb * 1e3
    scale = lumi_pb * sel.factor
    flags, min_q, max_chi2 = point_quality(scan, t, [j], q_min)
    return _Points(scale * S, scale * Serr, scan.status[t, j] == DONE, missing_cells(scan, t, [j]),
                   (flags, min_q, max_chi2), col.luminosity_fb, "fb^-1", lumi_pb)


def _flux_points(scan: ScanData, exp: Experiment, sel: Selection, t: int, q_min: float, flux: MuonFlux,
                 key: str) -> _Points:
    """N_hat of a muon flux: L_int n_T L factor x the fold of S over the flux (docs/physics.md
    §10.1), with the error of the same fold; warns (:class:`FluxRangeWarning`) of muons outside the
    scanned energies where S does not vanish there."""
    js = np.nonzero(~np.all(scan.status[t] == SKIPPED, axis=-1))[0]
    if js.size == 0:
        raise UsageError(f"experiment {exp.name!r}: scan has no {exp.target.name} cells")
    grid = scan.energies_GeV[js]
    order = np.argsort(grid)
    js, grid = js[order], grid[order]
    S_grid = np.zeros((js.size, scan.masses_GeV.size))
    S_err_grid = np.zeros_like(S_grid)
    for n, j in enumerate(js):
        S_grid[n], S_err_grid[n] = selected_xsec(scan, t, j, sel)
    below, above = muons_outside_grid(flux, grid)  # muons per fb^-1
    total = float(np.sum(flux.total_per_fb))
    notes = []
    # below the lowest grid energy S = 0 is exact only if that cell is closed
    if below > 0 and np.any(S_grid[0] > 0):
        notes.append(f"{below / total:.3g} of the muons lie below {grid[0]:g} GeV and are not used")
    if above > 0 and np.any(S_grid[-1] > 0):
        notes.append(f"{above / total:.3g} of the muons lie above {grid[-1]:g} GeV and are not used")
    for note in notes:
        warnings.warn(FluxRangeWarning(f"{key}: {note}"), stacklevel=3)
    scale = exp.luminosity_fb * exp.column_density_per_pb * sel.factor
    folded = fold_flux(flux, grid, S_grid, S_err_grid)
    used = js[folded.used]
    return _Points(scale * folded.value, scale * folded.error, np.all(scan.status[t][used] == DONE, axis=0),
                   missing_cells(scan, t, used), _flux_quality(scan, t, js, sel, flux, S_grid, folded, q_min),
                   float(exp.luminosity_fb), "fb^-1", exp.luminosity_fb * total * exp.column_density_per_pb,
                   tuple(notes))


def _flux_quality(scan: ScanData, t: int, js, sel: Selection, flux: MuonFlux, S_grid, folded, q_min: float):
    """point_quality of the cells a flux fold reads, plus the grid flags (docs/physics.md §10.1):
    ``flux_interp`` where a fold on every other scan energy (even or odd ones, first and last kept,
    :func:`~lfvscan.pheno.folding.fold_on_half_grids`) differs from the fold on every energy by more
    than :data:`FLUX_INTERP_TOLERANCE` (and than its noise, :func:`spread_flags`), or where S is
    positive at fewer than three scan energies (:func:`~lfvscan.pheno.folding.threshold_unresolved`);
    ``x_interp`` where the fold of an alternative of the selected cross sections
    (:func:`~lfvscan.pheno.acceptance.selected_xsec_alternatives`) differs by more than
    :data:`X_INTERP_TOLERANCE` (and its noise)."""
    js = np.asarray(js)
    grid = scan.energies_GeV[js]
    flags, min_q, max_chi2 = point_quality(scan, t, js[folded.used], q_min)
    flux_bad = threshold_unresolved(S_grid)
    for coarse in fold_on_half_grids(flux, grid, S_grid):
        flux_bad |= spread_flags(folded.value, coarse, FLUX_INTERP_TOLERANCE, folded.error)
    flags = add_flag(flags, "flux_interp", flux_bad)
    alts = [selected_xsec_alternatives(scan, t, j, sel) for j in js]  # per energy: () or one per alternative
    x_bad = np.zeros(folded.value.shape, bool)
    for k in range(len(alts[0])):
        alt_fold = fold_flux(flux, grid, np.array([a[k] for a in alts])).value
        x_bad |= spread_flags(folded.value, alt_fold, X_INTERP_TOLERANCE, folded.error)
    flags = add_flag(flags, "x_interp", x_bad)
    return flags, min_q, max_chi2


def background_events(sel: Selection, luminosity_per_pb: float) -> float:
    """Expected background of a curve (docs/physics.md §10.6): its ``background_events`` plus
    ``background_pb`` x ``luminosity_per_pb`` (lepton-nucleus luminosity [pb^-1]) x ``background_efficiency``."""
    return sel.background_events + sel.background_pb * luminosity_per_pb * sel.background_efficiency


def experiment_fluxes(experiments: dict[str, Experiment], flux: MuonFlux | None = None) -> dict[str, MuonFlux]:
    """{name: the muon flux the experiment folds over} for the flux-beam experiments: ``flux`` for
    all of them if given, else each one's own flux file.  The one place yields load fluxes: callers
    load once and pass the dict on (also to :func:`lfvscan.pheno.store_limits.flux_provenance`)."""
    return {name: flux if flux is not None else load_flux(exp.flux_path())
            for name, exp in experiments.items() if exp.beam == "flux"}


def curve_yield(scan: ScanData, exp: Experiment, sel: Selection, flux: MuonFlux | None = None,
                q_min: float = DEFAULT_Q_MIN) -> CurveYield:
    """N_hat(m_a) for one experiment and selection curve (docs/physics.md §10); each point carries
    the quality of its cells (:func:`~lfvscan.pheno.quality.point_quality`, cells with Q < ``q_min``
    are "low_Q").  ``flux``: the muon flux of a flux experiment (default: its flux file)."""
    t = target_index(scan, exp)
    key = f"{exp.name}/{sel.name}"
    if exp.beam == "mono":
        p = _mono_points(scan, exp, sel, t, q_min)
    elif exp.beam == "collider":
        p = _collider_points(scan, exp, sel, t, q_min)
    else:
        fx = flux if flux is not None else experiment_fluxes({exp.name: exp})[exp.name]
        p = _flux_points(scan, exp, sel, t, q_min, fx, key)
    n_hat = np.where(p.ok, p.n_hat, np.nan)
    n_err = np.where(p.ok, p.n_err, np.nan)
    warn_missing(key, p.missing, scan.masses_GeV[~p.ok])
    warn_quality(key, scan.masses_GeV, p.quality[0])
    return CurveYield(
        experiment=exp.name,
        curve=sel.name,
        scenario=sel.scenario,
        label=sel.label,
        masses_GeV=np.asarray(scan.masses_GeV, dtype=float),
        n_hat=n_hat,
        n_hat_err=n_err,
        exposure=float(p.exposure),
        exposure_unit=p.unit,
        factor=sel.factor,
        column_density_per_pb=exp.column_density_per_pb,
        drawn=sel.drawn,
        missing=tuple(p.missing),
        notes=p.notes,
        n_req=sel.n_req,
        background=background_events(sel, p.luminosity_per_pb),
        statistics=sel.statistics,
        cl=sel.cl,
        quality=p.quality[0],
        min_Q=p.quality[1],
        max_chi2_dof=p.quality[2],
    )


def compute_yields(scan: ScanData, experiments: dict[str, Experiment],
                   fluxes: dict[str, MuonFlux] | None = None, q_min: float = DEFAULT_Q_MIN) -> list[CurveYield]:
    """Yields of every curve of every experiment.  ``fluxes``: {name: MuonFlux} of the flux-beam
    experiments (:func:`experiment_fluxes`; default: each one's flux file, loaded here once)."""
    fluxes = experiment_fluxes(experiments) if fluxes is None else fluxes
    return [curve_yield(scan, exp, sel, fluxes.get(name), q_min)
            for name, exp in experiments.items() for sel in exp.curves]
