"""The limits of a scan store: store -> yields -> limits in one call, as ``lfvscan limits`` and
``lfvscan figures`` do it (``lfvscan run``'s whole workflow is :mod:`lfvscan.workflow.run`).

::

    from lfvscan.pheno.store_limits import compute_limits_for_store

    res = compute_limits_for_store("demo.zarr", experiments=["hemu"], n_req=2.3)
    for w in res.warnings:          # incomplete scan, flux outside the scanned range, ...
        print("warning:", w)
    res.limits[0].key, res.limits[0].g_lim    # one CurveLimit per experiment and selection curve

Warnings are returned as data (:attr:`LimitsResult.warnings`, one message each) instead of being
printed: the CLI prints them as ``lfvscan <cmd>: warning: ...``, the analysis scripts their own way.
Bad input (unknown experiment, bad override, flux file, N_req, a scan covering none of the
experiments) raises :class:`lfvscan.errors.UsageError`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

from lfvscan.errors import UsageError
from lfvscan.pheno.experiments import (VISIBLE_ANALYSES, Experiment, load_experiments, published_visible_overrides,
                                       select)
from lfvscan.pheno.flux import DEFAULT_FLUX_MODEL, MuonFlux, flux_model_path, load_flux
from lfvscan.pheno.limits import DEFAULT_N_REQ, CurveLimit, check_n_req, compute_limits, provenance
from lfvscan.pheno.coverage import covered_experiments
from lfvscan.pheno.eft_axis import DEFAULT_AXIS, axis_provenance, check_axis, with_eft_limits
from lfvscan.pheno.quality import DEFAULT_Q_MIN
from lfvscan.pheno.statistics import DEFAULT_STATISTICS, Statistics
from lfvscan.pheno.theta import scan_at_theta
from lfvscan.pheno.yields import CurveYield, compute_yields, experiment_fluxes
from lfvscan.store.scandata import ScanData


@dataclass(frozen=True)
class LimitsResult:
    """What :func:`compute_limits_for_store` computed.

    ``experiments``: the experiments used ({name: Experiment}); ``yields`` / ``limits``: one
    :class:`~lfvscan.pheno.yields.CurveYield` / :class:`~lfvscan.pheno.limits.CurveLimit` per
    experiment and curve, in the same order; ``provenance``: the block written into the limits
    files; ``warnings``: messages (skipped experiments first, then the yield warnings, in the order
    they arose); ``skipped``: {experiment: reason} of the experiments the scan does not cover.
    """

    scan: ScanData
    experiments: dict[str, Experiment]
    yields: list[CurveYield]
    limits: list[CurveLimit]
    provenance: dict
    warnings: tuple[str, ...] = ()
    skipped: dict[str, str] = field(default_factory=dict)


def flux_provenance(fluxes: dict[str, MuonFlux]) -> dict:
    """{experiment: {"path", "sha256"}} of the flux each flux-beam experiment folds over
    (``fluxes`` from :func:`lfvscan.pheno.yields.experiment_fluxes`; the hash is of the bytes parsed)."""
    return {name: {"path": f.source, "sha256": f.sha256} for name, f in fluxes.items()}


def _yields_at_thetas(scan, exps, fluxes, q_min, thetas, convention) -> list[CurveYield]:
    """The yields of ``exps`` at the scan's own theta, or recombined at each of ``thetas`` with
    ``convention`` (either given; docs/physics.md §7.12)."""
    if thetas is None and convention is None:
        return compute_yields(scan, exps, fluxes, q_min)
    conv = scan.convention if convention is None else convention
    yields = []
    for th in (scan.theta,) if thetas is None else tuple(thetas):
        sc_th = scan_at_theta(scan, th, conv)
        yields += [replace(y, theta=float(th), convention=conv) for y in compute_yields(sc_th, exps, fluxes, q_min)]
    return yields


def compute_limits_for_store(
    store_or_scan: str | Path | ScanData,
    *,
    experiments=None,
    experiments_config: str | Path | None = None,
    overrides: dict | None = None,
    flux: str | Path | None = None,
    n_req: float = DEFAULT_N_REQ,
    command: str | None = None,
    visible_analysis: str = VISIBLE_ANALYSES[0],
    q_min: float = DEFAULT_Q_MIN,
    thetas=None,
    convention: str | None = None,
    statistics: Statistics = DEFAULT_STATISTICS,
    axis: str = DEFAULT_AXIS,
) -> LimitsResult:
    """Limits g_lim(m_a) of every experiment and curve from a scan (docs/physics.md §10).

    ``store_or_scan``: a store path (read with :func:`lfvscan.store.load_scan`) or a
    :class:`~lfvscan.store.ScanData`.  ``experiments``: names to use; default every experiment of
    the config that the scan covers (the others are skipped with a warning; named experiments the
    scan does not cover raise :class:`UsageError`).  ``experiments_config``: experiments TOML
    (default the packaged one); ``overrides``: {"exp.key" or "exp.curve.key": value} as with
    ``--set``; ``flux``: muon flux CSV for the flux-beam experiments (default their
    ``flux_file``); ``n_req``: signal events required for exclusion; ``command``: recorded in the
    provenance (the CLI puts its command line there); ``visible_analysis``: ``"exact"`` (default)
    or ``"published"`` (every visible curve gets :data:`lfvscan.pheno.experiments.PUBLISHED_VISIBLE`:
    factorised mean-energy tau_2 acceptance and N_req = 2.44, docs/physics.md §10.3; explicit
    ``overrides`` win); ``q_min``: cells with vegas Q below it flag their points "low_Q" (every
    point carries a quality flag); ``statistics``: limit method and CL of curves that declare none
    (:mod:`lfvscan.pheno.statistics`, default the fixed ``n_req``, §10.6); ``axis``: ``"g"`` (default)
    or ``"C/Lambda"``, which also reads every limit as a limit on the ALP EFT scale
    (``CurveLimit.eft``, :mod:`lfvscan.pheno.eft_axis`, §2.7).  Nothing is written.
    """
    n_req = check_n_req(n_req)
    check_axis(axis)
    if not (isinstance(q_min, (int, float)) and 0 <= q_min < 1):
        raise UsageError(f"q_min must be in [0, 1), got {q_min!r}")
    overrides = dict(overrides or {})
    if visible_analysis not in VISIBLE_ANALYSES:
        raise UsageError(f"visible_analysis must be 'exact' or 'published', got {visible_analysis!r}")
    if visible_analysis == "published":
        published = published_visible_overrides(load_experiments(experiments_config, overrides))
        overrides = {**published, **overrides}
    exps = select(load_experiments(experiments_config, overrides), experiments)
    muon_flux = load_flux(flux) if flux else None  # read before the scan, so a bad file fails fast
    if isinstance(store_or_scan, ScanData):
        scan, store_path, what = store_or_scan, None, "the scan"
    else:
        from lfvscan.store import load_scan

        store_path = store_or_scan
        scan, what = load_scan(store_path), f"scan {str(store_path)!r}"
    messages: list[str] = []
    skipped: dict[str, str] = {}
    if not experiments:  # default: every experiment the scan covers
        usable, skipped = covered_experiments(scan, exps)
        messages += [f"skipping {name}: {reason}" for name, reason in skipped.items()]
        if not usable:
            why = "; ".join(f"{name}: {reason}" for name, reason in skipped.items())
            raise UsageError(f"{what} covers none of the experiments ({', '.join(exps)}): {why}")
        exps = usable
    fluxes = experiment_fluxes(exps, muon_flux)  # loaded once, for every theta
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yields = _yields_at_thetas(scan, exps, fluxes, q_min, thetas, convention)
    messages += [str(w.message) for w in caught]
    limits = compute_limits(yields, n_req, statistics)
    if axis == "C/Lambda":
        limits = with_eft_limits(limits, scan)
    extra = {"command": command, "visible_analysis": visible_analysis, "q_min": q_min, "overrides": overrides,
             "flux_files": flux_provenance(fluxes), "statistics": {"method": statistics.method, "cl": statistics.cl},
             **axis_provenance(axis)}
    if thetas is not None or convention is not None:
        extra["thetas"] = sorted({y.theta for y in yields})
        extra["convention"] = yields[0].convention if yields else convention
    prov = provenance(scan, exps, n_req, store_path=store_path, extra=extra)
    return LimitsResult(scan=scan, experiments=exps, yields=yields, limits=limits, provenance=prov,
                        warnings=tuple(messages), skipped=dict(skipped))


#: the flux model drawn beside the default in the FASERnu2 figures: harder spectrum, larger fluence
#: (the line-of-sight spectrum is harder than the default's slice average, docs/physics.md §9.2)
FLUX_VARIANT_MODEL = "stand-in-2024"


def flux_variant_limits(res: LimitsResult, model: str = FLUX_VARIANT_MODEL) -> list[tuple[CurveLimit, str]]:
    """The limits of ``res`` recomputed with the flux model ``model`` for every flux-beam experiment
    that folded over the default model (docs/physics.md §9.2), with the options ``res`` was computed
    with (overrides, N_req, theta, visible analysis, q_min): ``[(CurveLimit, model), ...]`` for the
    figures' flux-uncertainty curves.  Empty if no experiment used the default flux model."""
    prov = res.provenance
    default = str(flux_model_path(DEFAULT_FLUX_MODEL))
    out: list[tuple[CurveLimit, str]] = []
    for name, exp in res.experiments.items():
        if prov.get("flux_files", {}).get(name, {}).get("path") != default:
            continue
        alt = compute_limits_for_store(
            res.scan, experiments=[name], experiments_config=exp.source or None,
            overrides={**prov.get("overrides", {}), f"{name}.flux_file": model}, n_req=prov["n_req"],
            visible_analysis=prov.get("visible_analysis", VISIBLE_ANALYSES[0]), q_min=prov.get("q_min", DEFAULT_Q_MIN),
            thetas=prov.get("thetas"), convention=prov.get("convention"), axis=prov.get("axis", DEFAULT_AXIS))
        out += [(lim, model) for lim in alt.limits]
    return out
