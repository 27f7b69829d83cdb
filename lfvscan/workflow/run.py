"""From a scan config to limits and figures in one call: ``lfvscan run CONFIG``.

Three stages, each rebuilt only when stale:

1. **scan**: :func:`lfvscan.scan.engine.main_scan` on every rank (serial, or MPI master/worker
   under ``mpiexec``); it resumes a store that exists (done cells are skipped), so rerunning costs
   one look at the store when it is complete.  Only rank 0 goes on.
2. **limits** -> ``OUT/limits.csv`` (:func:`lfvscan.pheno.store_limits.compute_limits_for_store`,
   docs/physics.md §10).  Stale unless the CSV's provenance holds the current *limits key*.
3. **figures** -> ``OUT/figures/*.{pdf,png}`` (:func:`lfvscan.plots.figures.make_all`) with
   ``OUT/figures/figures.json`` (provenance, list of files).  Stale unless that manifest holds the
   current *figures key* and every file it lists exists.

Staleness is decided from content, never from file times:

* :func:`lfvscan.pheno.limits.scan_hash`: sha256 over the store's coordinates, ``status``, every result
  array of :data:`lfvscan.schema.RESULT_FIELDS` (cross sections, errors, distributions, quality
  flags) and theta/convention; bookkeeping (wall time, rank, attempts) is left out, so a rerun
  that recomputes nothing, or retries a cell that fails again, changes nothing;
* limits key: sha256 of (store content, the experiments after ``--set`` overrides, the flux
  files' sha256, N_req, the lfvscan version);
* figures key: sha256 of (limits key, formats).

Written into the outputs (``run_inputs_sha256`` and ``store_content_sha256`` in the limits CSV
header, the manifest for the figures) and compared on the next run.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lfvscan import __version__
from lfvscan.errors import EXIT_FAILED_CELLS, EXIT_OK, EXIT_UNCONVERGED
from lfvscan.pheno.limits import (
    DEFAULT_N_REQ, SUMMARY_MASSES_GEV, check_n_req, read_limits_csv, read_limits_header, scan_hash, summary_columns,
)
from lfvscan.pheno.statistics import DEFAULT_STATISTICS, Statistics
from lfvscan.workflow.progress import RunProgress

LIMITS_FILE = "limits.csv"
FIGURES_DIR = "figures"
FIGURES_MANIFEST = "figures.json"
MANIFEST_FORMAT = "lfvscan-run-figures/1"
LIMITS_KEY_FIELD = "run_inputs_sha256"
CONTENT_FIELD = "store_content_sha256"
#: masses [GeV] whose nearest scanned mass is shown in the on-screen limits table


@dataclass(frozen=True)
class RunOptions:
    """Settings of ``lfvscan run`` besides the config, store and output directory.

    ``experiments``, ``experiments_config``, ``overrides``, ``flux``, ``n_req``, ``statistics``: as for
    ``lfvscan limits``; ``formats``: figure file formats; ``max_attempts``, ``progress_interval_s``
    [s], ``quiet``: as for ``lfvscan scan`` (``quiet`` also silences the run's own progress)."""

    experiments: tuple[str, ...] | None = None
    experiments_config: str | None = None
    overrides: dict = field(default_factory=dict)
    flux: str | None = None
    n_req: float = DEFAULT_N_REQ
    statistics: Statistics = DEFAULT_STATISTICS
    formats: tuple[str, ...] = ("pdf", "png")
    max_attempts: int | None = None
    progress_interval_s: float = 10.0
    quiet: bool = False


@dataclass
class StageResult:
    """One stage: ``state`` "built" | "up to date" | "skipped"; ``reason`` why it ran (or not)."""

    name: str
    state: str
    reason: str = ""
    seconds: float = 0.0
    files: tuple[str, ...] = ()


@dataclass
class RunResult:
    """What :func:`run_pipeline` did.  ``exit_code``: the scan's (0 complete, 1 failed/pending
    cells, 128+signal interrupted: later stages not run); ``rank``: this MPI rank (only rank 0
    runs limits and figures)."""

    exit_code: int
    stages: list[StageResult]
    limits_path: Path | None = None
    figures_dir: Path | None = None
    warnings: tuple[str, ...] = ()
    rank: int = 0

    def stage(self, name: str) -> StageResult | None:
        return next((s for s in self.stages if s.name == name), None)


# ------------------------------------------------------------------------------------ keys
def _sha256_json(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def limits_key(content_sha256: str, options: RunOptions) -> str:
    """Key of the limits: store content, experiments (after overrides), flux files, N_req, version."""
    from lfvscan.pheno import experiments
    from lfvscan.pheno.flux import load_flux
    from lfvscan.pheno.store_limits import flux_provenance
    from lfvscan.pheno.yields import experiment_fluxes

    exps = experiments.select(experiments.load_experiments(options.experiments_config, options.overrides), options.experiments)
    fluxes = experiment_fluxes(exps, load_flux(options.flux) if options.flux else None)
    return _sha256_json({
        "store": content_sha256, "experiments": experiments.config_hash(exps), "selected": options.experiments,
        "flux": {k: v["sha256"] for k, v in flux_provenance(fluxes).items()},
        "n_req": check_n_req(options.n_req), "lfvscan": __version__,
        **({} if options.statistics == DEFAULT_STATISTICS else
           {"statistics": [options.statistics.method, options.statistics.cl]}),
    })


def figures_key(limits_sha256: str, options: RunOptions) -> str:
    """Key of the figures: the limits key and the formats."""
    return _sha256_json({"limits": limits_sha256, "formats": list(options.formats), "lfvscan": __version__})


def recorded_limits_key(path: Path) -> str | None:
    """``run_inputs_sha256`` from a limits CSV's provenance header (None if absent/unreadable)."""
    try:
        value = read_limits_header(path).get(LIMITS_KEY_FIELD)
        return None if value is None else json.loads(value)
    except (OSError, ValueError):
        return None


def figures_stale_reason(fig_dir: Path, key: str) -> str | None:
    """Why the figures in ``fig_dir`` must be redrawn, or None if they are up to date."""
    try:
        manifest = json.loads((fig_dir / FIGURES_MANIFEST).read_text())
    except (OSError, ValueError):
        return "no figures yet"
    if manifest.get("inputs_sha256") != key:
        return "inputs changed (store content, experiments or formats)"
    missing = [f for f in manifest.get("files", []) if not (fig_dir / f).exists()]
    return f"{len(missing)} figure file(s) missing, e.g. {missing[0]}" if missing else None


# ------------------------------------------------------------------------------------ stages
def check_options(options: RunOptions) -> None:
    """Raise :class:`~lfvscan.errors.UsageError` for bad limit settings (unknown experiment, bad
    ``--set``, unreadable flux file, N_req) before the scan, not after hours of it."""
    from lfvscan.pheno import experiments
    from lfvscan.pheno.flux import load_flux

    check_n_req(options.n_req)
    experiments.select(experiments.load_experiments(options.experiments_config, options.overrides), options.experiments)
    if options.flux:
        load_flux(options.flux)


def run_pipeline(config, config_text: str, store: str | Path, out: str | Path, options: RunOptions = RunOptions(),
                 *, progress: RunProgress | None = None, command: str | None = None) -> RunResult:
    """Scan (all ranks), then limits and figures (rank 0), each rebuilt only when stale.

    ``config``: a :class:`~lfvscan.spec.config.ScanConfig` and ``config_text`` its TOML;
    ``store``: the store path; ``out``: the output directory (``limits.csv``, ``figures/``).
    Raises :class:`lfvscan.errors.UsageError` for bad input (config/store mismatch, unknown
    experiment, ...), before anything is written when it can be checked early.
    """
    from lfvscan.scan.engine import main_scan
    from lfvscan.scan.mpi import get_world

    progress = progress or RunProgress(enabled=not options.quiet)
    out = Path(out)
    if out.exists() and not out.is_dir():
        from lfvscan.errors import UsageError

        raise UsageError(f"--out {str(out)!r} exists and is not a directory")
    check_options(options)
    comm = get_world()
    rank = 0 if comm is None else comm.Get_rank()
    stages: list[StageResult] = []
    if rank == 0:
        progress.start("scan", f"store {store}")
    code = main_scan(config, str(store), config_text, quiet=options.quiet,
                     progress_interval_s=options.progress_interval_s, max_attempts=options.max_attempts)
    if rank != 0:
        return RunResult(code, stages, rank=rank)
    state = {EXIT_OK: "complete", EXIT_FAILED_CELLS: "finished with failed or pending cells",
             EXIT_UNCONVERGED: "complete, some cells short of their requested precision"}.get(
        code, f"stopped (exit status {code})")
    secs = progress.done("scan", state)
    stages.append(StageResult("scan", state, "", secs))
    if code not in (EXIT_OK, EXIT_FAILED_CELLS, EXIT_UNCONVERGED):  # interrupted or refused: nothing to post-process
        return RunResult(code, stages)

    from lfvscan.store import load_scan

    scan = load_scan(store)
    content = scan_hash(scan)
    lkey = limits_key(content, options)
    fkey = figures_key(lkey, options)
    limits_path, fig_dir = out / LIMITS_FILE, out / FIGURES_DIR
    recorded = recorded_limits_key(limits_path)
    limits_reason = None if recorded == lkey else (
        "no limits yet" if recorded is None else "inputs changed (store content, experiments, flux or N_req)")
    figures_reason = figures_stale_reason(fig_dir, fkey)
    warnings: tuple[str, ...] = ()
    res = None
    if limits_reason or figures_reason:
        res, warnings = _compute_limits(scan, store, options, command)
    stages.append(_limits_stage(res, limits_path, lkey, content, limits_reason, progress))
    stages.append(_figures_stage(res, fig_dir, fkey, lkey, content, figures_reason, options, progress))
    return RunResult(code, stages, limits_path, fig_dir, warnings)


def _compute_limits(scan, store, options: RunOptions, command):
    from lfvscan.pheno.store_limits import compute_limits_for_store

    res = compute_limits_for_store(
        scan, experiments=options.experiments, experiments_config=options.experiments_config,
        overrides=options.overrides, flux=options.flux, n_req=options.n_req, command=command,
        statistics=options.statistics,
    )
    res.provenance["store"] = str(store)  # the pipeline was given the loaded ScanData, not the path
    return res, res.warnings


def _limits_stage(res, path: Path, key: str, content: str, reason, progress: RunProgress) -> StageResult:
    if reason is None:
        progress.done("limits", "up to date", "store content and settings unchanged", str(path))
        return StageResult("limits", "up to date", "", 0.0, (str(path),))
    from lfvscan.pheno.limits import limits_csv
    from lfvscan.util.fileio import write_atomic

    progress.start("limits", reason)
    for w in res.warnings:
        progress.message(f"lfvscan run: warning: {w}")
    prov = {**res.provenance, CONTENT_FIELD: content, LIMITS_KEY_FIELD: key}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, limits_csv(res.limits, prov))
    secs = progress.done("limits", "built", f"{len(res.limits)} curves", str(path))
    return StageResult("limits", "built", reason, secs, (str(path),))


def _figures_stage(res, fig_dir: Path, key: str, lkey: str, content: str, reason, options: RunOptions,
                   progress: RunProgress) -> StageResult:
    if reason is None:
        progress.done("figures", "up to date", "limits and formats unchanged", str(fig_dir))
        return StageResult("figures", "up to date", "", 0.0, (str(fig_dir),))
    from lfvscan.pheno.store_limits import flux_variant_limits
    from lfvscan.plots.figures import make_all
    from lfvscan.util.fileio import write_atomic

    progress.start("figures", reason)
    fig_dir.mkdir(parents=True, exist_ok=True)
    (fig_dir / FIGURES_MANIFEST).unlink(missing_ok=True)  # a crash while drawing leaves the figures stale
    figs = make_all(res.scan, res.limits, fig_dir, formats=options.formats, flux_variants=flux_variant_limits(res),
                    on_figure=lambda name, k, n: progress.item("figures", k, n, name))
    names = [n for n in figs if n != "_skipped"]
    files = [f"{n}.{fmt}" for n in names for fmt in options.formats]
    for name, why in figs["_skipped"].items():
        progress.message(f"lfvscan run: warning: skipped figure {name}: {why}")
    manifest = {
        "format": MANIFEST_FORMAT, "inputs_sha256": key, LIMITS_KEY_FIELD: lkey, CONTENT_FIELD: content,
        "lfvscan_version": __version__,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "files": files, "skipped": figs["_skipped"],
    }
    write_atomic(fig_dir / FIGURES_MANIFEST, json.dumps(manifest, indent=1))
    secs = progress.done("figures", "built", f"{len(names)} figures", str(fig_dir))
    return StageResult("figures", "built", reason, secs, tuple(str(fig_dir / f) for f in files))


# ------------------------------------------------------------------------------------ table
def limits_table(path: str | Path, masses_GeV=SUMMARY_MASSES_GEV) -> str:
    """The limits of a limits CSV as a text table: one row per curve, g_lim ± g_lim_err at the
    scanned masses nearest ``masses_GeV`` [GeV]; "inf" = no sensitivity, "nan" = cells missing."""
    curves = read_limits_csv(path)
    if not curves:
        return "(no limit curves)"
    masses = next(iter(curves.values()))["mass_GeV"]
    cols = summary_columns(masses, masses_GeV)
    width = max(len(k) for k in curves)
    head = f"{'g_lim(m_a) ± MC error':<{width}s}" + "".join(f"  {f'{masses[c]:.4g} GeV':>19s}" for c in cols)
    rows = [head]
    for key, d in curves.items():
        cells = []
        for c in cols:
            g, e = d["g_lim"][c], d["g_lim_err"][c]
            cells.append(f"  {g:9.3e} ± {e:7.1e}" if np.isfinite(g) and np.isfinite(e) else f"  {g:>19}")
        rows.append(f"{key:<{width}s}" + "".join(cells))
    return "\n".join(rows)
