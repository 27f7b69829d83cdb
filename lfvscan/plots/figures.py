"""Every figure of arXiv:2407.15942 from a scan and its limits (docs/physics.md §11).

Every plotting function takes data objects (``ScanData``, limits, overlays), draws on a new (or
given) matplotlib axes and returns ``(fig, ax)``; each curve carries a legend label naming the
experiment, exposure and selection, so tests can check the artists.  :func:`make_all` writes PDF
and PNG files.  The Agg backend is selected by :func:`make_all` / the CLI; importing this module
does not touch the backend.

Figures, one module per family: Fig. 1 (:func:`lfvscan.plots.dm_plane.fig1_dm_plane`), Fig. 3 and
Fig. 5 (:mod:`lfvscan.plots.xsec_figures`: ``fig3_coherent_diffractive``, ``fig3_vs_mass``,
``fig5_tau1``, ``fig5_tau2``), Figs. 6 and 7 (:mod:`lfvscan.plots.limit_figures`:
``fig6_invisible``, ``fig7_visible``), result sets compared (:mod:`lfvscan.plots.compare`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lfvscan.errors import UsageError
from lfvscan.pheno import overlays
from lfvscan.pheno.eft_axis import DEFAULT_AXIS
from lfvscan.pheno.scanphysics import scan_lepton_pair
from lfvscan.physics.couplings import DEFAULT_CONVENTION
from lfvscan.physics import g2
from lfvscan.physics.summary import g2_lepton_pair
from lfvscan.plots.dm_plane import fig1_dm_plane
from lfvscan.plots.eft_scale import bands_on_eft_axis, g_scale_on_eft_axis, limits_on_eft_axis
from lfvscan.plots.limit_figures import fig6_invisible, fig7_visible
from lfvscan.plots.xsec_figures import fig3_coherent_diffractive, fig5_tau1, fig5_tau2
from lfvscan.store.scandata import ScanData


def band_masses_GeV(scan: ScanData, n: int = 200) -> np.ndarray:
    """Mass grid [GeV] on which the g-2 bands are drawn over a scan's masses (from >= 0.5 GeV)."""
    return np.geomspace(max(float(np.min(scan.masses_GeV)), 0.5), float(np.max(scan.masses_GeV)), n)


def check_formats(formats) -> tuple[str, ...]:
    """``formats`` as a tuple if matplotlib can write each of them; :class:`UsageError` naming the
    first it cannot (checked before anything is computed or drawn)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    known = FigureCanvasAgg(Figure()).get_supported_filetypes()
    bad = [f for f in formats if f not in known]
    if bad:
        raise UsageError(f"unknown format {bad[0]!r} (known: {', '.join(sorted(known))})")
    return tuple(formats)


#: the limit figures and the scenario of the curves each draws
LIMIT_FIGURES = {"fig6_left_invisible": "invisible", "fig6_right_invisible_g2_dm": "invisible",
                 "fig7_visible": "visible"}


def missing_curves(limits, name: str) -> str | None:
    """Why the limit figure ``name`` (:data:`LIMIT_FIGURES`) is skipped: no drawn limit curve of its scenario
    among ``limits`` (it would show only the overlays); None if it has one, or is not a limit figure."""
    scenario = LIMIT_FIGURES.get(name)
    if scenario is None or any(lim.yields.scenario == scenario and lim.yields.drawn for lim in limits):
        return None
    return f"no {scenario}-ALP limit curve among the experiments"


def make_all(scan: ScanData, limits, out_dir, *, g2_preset: str | None = None, thetas=overlays.DEFAULT_THETAS,
             nsigma: float = g2.DEFAULT_NSIGMA, f_eff: float = overlays.DEFAULT_F_EFF, id_curves=(), formats=("pdf", "png"),
             on_figure=None, flux_variants=(), axis: str = DEFAULT_AXIS):
    """Draw every figure and write ``<out_dir>/<name>.<fmt>``.  Returns {name: (fig, ax)}.
    ``flux_variants``: ``[(CurveLimit, model)]`` of the flux-beam experiments with another flux
    model (:func:`lfvscan.pheno.store_limits.flux_variant_limits`), drawn dashed in Fig. 6.

    Figures needing data the scan lacks (e.g. no W target for Fig. 5 left) or limit curves the
    experiments lack (Fig. 6 without an invisible-ALP curve, Fig. 7 without a visible one:
    :func:`missing_curves`) are skipped and listed in the returned dict under ``"_skipped"`` with the
    reason.  ``on_figure(name, k, n)``,
    if given, is called after the k-th of n figures (progress display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    pair = scan_lepton_pair(scan)
    if g2_preset is None:  # the measured g-2 of the lepton the loop corrects: Delta a_e for e -> tau
        g2_preset = g2.DEFAULT_G2_PRESETS[g2_lepton_pair(pair).beam.name]
    bands = overlays.g2_bands(band_masses_GeV(scan), thetas, g2_preset, nsigma, pair=pair)
    g_scale = 1.0
    if axis == "C/Lambda":
        limits = limits_on_eft_axis(limits)
        flux_variants = [(limits_on_eft_axis([lim])[0], model) for lim, model in flux_variants]
        bands = bands_on_eft_axis(bands, DEFAULT_CONVENTION, pair=pair)
        g_scale = g_scale_on_eft_axis(scan.theta, DEFAULT_CONVENTION, pair=pair)
    figs: dict = {}
    skipped: dict[str, str] = {}
    jobs = {
        "fig1_dm_plane": lambda: fig1_dm_plane(id_curves=id_curves, f_eff=f_eff, pair=pair),
        "fig3_coherent_diffractive": lambda: fig3_coherent_diffractive(scan),
        "fig5_left_tau1": lambda: fig5_tau1(scan, "W" if "W" in scan.targets else scan.targets[0]),
        "fig5_right_tau2": lambda: fig5_tau2(scan, "Pb"),
        "fig6_left_invisible": lambda: fig6_invisible(limits, pair=pair, flux_variants=flux_variants, axis=axis,
                                                      theta=scan.theta),
        "fig6_right_invisible_g2_dm": lambda: fig6_invisible(limits, bands, True, f_eff, id_curves, pair=pair,
                                                             flux_variants=flux_variants, axis=axis, g_scale=g_scale,
                                                             theta=scan.theta),
        "fig7_visible": lambda: fig7_visible(limits, bands, axis=axis, pair=pair, theta=scan.theta),
    }
    for k, (name, job) in enumerate(jobs.items(), 1):
        try:
            why = missing_curves(limits, name)
            if why is not None:
                raise ValueError(why)
            figs[name] = job()
        except ValueError as exc:  # target / energy not in the scan, or no limit curve to draw
            skipped[name] = str(exc)
        else:
            for fmt in formats:
                figs[name][0].savefig(out / f"{name}.{fmt}", dpi=150)
            plt.close(figs[name][0])
        if on_figure is not None:
            on_figure(name, k, len(jobs))
    figs["_skipped"] = skipped
    return figs
