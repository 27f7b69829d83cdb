"""Two or more result sets in one limit figure (``lfvscan figures --compare``, docs/physics.md §11)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lfvscan.pheno.limits import LimitCurve
from lfvscan.plots.limit_figures import draw_error_bands, limit_axes
from lfvscan.plots.style import curve_color, curve_label, finite_or_nan, new_axes


COMPARE_NAMES = ("compare_invisible", "compare_visible")
SET_STYLES = ("-", "--", ":", "-.")


def curves_from_limits(limits, only_drawn: bool = True) -> list[LimitCurve]:
    """:class:`LimitCurve` of each :class:`~lfvscan.pheno.limits.CurveLimit` (those drawn in the
    paper by default, as in Figs. 6 and 7)."""
    return [LimitCurve(lim.key, lim.yields.scenario, curve_label(lim.yields), lim.masses_GeV, lim.g_lim, lim.g_lim_err)
            for lim in limits if lim.yields.drawn or not only_drawn]


def fig_compare(sets: dict[str, list[LimitCurve]], scenario: str, ax=None):
    """Limit curves of several result sets in one figure: one colour per curve (matched by key),
    one line style per set (``sets``: {set label: curves}), each with its MC error band.  Curves of
    one set missing from another are drawn for the set that has them."""
    fig, ax = new_axes(ax, (10.0, 5.2))
    keys: list[str] = []
    for curves in sets.values():
        keys += [c.key for c in curves if c.scenario == scenario and c.key not in keys]
    colour = {k: curve_color(n) for n, k in enumerate(keys)}
    bands, masses = [], [np.array([1.0, 50.0])]
    for q, (set_label, curves) in enumerate(sets.items()):
        ls = SET_STYLES[q % len(SET_STYLES)]
        for c in curves:
            if c.scenario != scenario:
                continue
            ax.plot(c.masses_GeV, finite_or_nan(c.g_lim), ls, color=colour[c.key], lw=2, label=f"{set_label}: {c.label}")
            bands.append((c.masses_GeV, c.g_lim, c.g_lim_err, colour[c.key], ls))
            masses.append(np.asarray(c.masses_GeV, float))
    draw_error_bands(ax, bands)
    m = np.concatenate(masses[1:]) if len(masses) > 1 else masses[0]
    what = "invisible ALP ($a\\to\\chi\\bar\\chi$)" if scenario == "invisible" else "visible ALP ($a\\to\\tau\\mu$)"
    limit_axes(ax, m, f"{what}: " + " vs ".join(f"{lab} ({SET_STYLES[q % 4]})" for q, lab in enumerate(sets)), bands)
    return fig, ax


def make_compare(sets: dict[str, list[LimitCurve]], out_dir, formats=("pdf", "png")) -> dict:
    """Write ``compare_invisible`` and ``compare_visible`` (:func:`fig_compare`) for the scenarios
    any set has.  Returns {name: (fig, ax)}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs = {}
    for name, scenario in zip(COMPARE_NAMES, ("invisible", "visible")):
        if not any(c.scenario == scenario for curves in sets.values() for c in curves):
            continue
        figs[name] = fig_compare(sets, scenario)
        for fmt in formats:
            figs[name][0].savefig(Path(out_dir) / f"{name}.{fmt}", dpi=150)
        plt.close(figs[name][0])
    return figs
