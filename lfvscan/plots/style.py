"""Shared look of the figures (docs/physics.md §11): the colour and style of every meaning, axes,
axis labels, legend labels of a yield's exposure, and small helpers every figure family uses.

Every colour of every figure comes from this module, and each means one thing in all figures:

* :data:`CURVE_COLORS`: the series of one figure (limit curves of Figs. 6 and 7, energies of
  Figs. 3 and 5); a curve's MC error band and flux-uncertainty band take the curve's colour;
* :data:`G2_BAND_COLORS`: the g-2 band of each theta, and, hatched, the region above it
  (Delta a_mu too large for that theta);
* :data:`ID_COLORS`: user-given indirect-detection limits (``--id-curve``);
* :data:`LOOKS`: each single-meaning element (relic line, Planck CMB exclusion, flagged points,
  resolution region, kinematic maximum, the region where the symmetric DM is not depleted).

No colour appears under two meanings (tests/test_figure_style.py checks the table)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

G_LABEL = r"$g_{\tau\mu}$"
MA_LABEL = r"$m_a$ [GeV]"

#: series colours (tab10 without its red, pink, grey, olive and cyan, then darker tones of tab20b)
CURVE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#393b79", "#637939", "#8c6d31",
                "#7b4173")
#: g-2 band of the q-th theta (in the order of ``--thetas``)
G2_BAND_COLORS = ("#e377c2", "#17becf", "#bcbd22", "#f5a300")
#: the k-th ``--id-curve``
ID_COLORS = ("#6b6ecf", "#d6616b", "#b5cf6b", "#e7ba52")


@dataclass(frozen=True)
class Look:
    """Colour and style of one meaning: ``color``; ``alpha`` of a filled region; ``ls`` of a line;
    ``hatch`` of a hatched region; ``marker`` of marked points (None: not a marker)."""

    color: str
    alpha: float = 1.0
    ls: str = "-"
    hatch: str | None = None
    marker: str | None = None


#: one look per single-meaning element of the figures
LOOKS = {
    "relic": Look("#000000", ls="-"),  # relic-abundance line (Figs. 1, 6 right)
    "planck_cmb": Look("#7f7f7f", alpha=0.45, ls="--"),  # Planck CMB exclusion (fill); ×10 future line (ls)
    "not_depleted": Look("#c6dbef", alpha=1.0),  # symmetric DM component not depleted (Fig. 1)
    "flagged": Look("#d62728", marker="o"),  # limit points built from flagged cells (open circles)
    "resolution": Look("#9e9ac8", alpha=0.3),  # lambda below a resolution (Fig. 5)
    "kinematic_max": Look("#54278f", ls=":"),  # kinematic maximum of the drawn variable (Fig. 5)
}

#: alpha of the ±1σ MC error band around a limit curve (in the curve's colour)
ERROR_BAND_ALPHA = 0.3
#: alpha of the flux-uncertainty band of a flux-beam curve (in the curve's colour)
FLUX_BAND_ALPHA = 0.12
#: alpha of a g-2 band (in its theta's colour)
G2_BAND_ALPHA = 0.45
#: hatch, hatch line width [pt] and alpha of the region above a g-2 band (g-2 disfavoured for that theta)
G2_DISFAVOURED_HATCH, G2_DISFAVOURED_HATCH_LW, G2_DISFAVOURED_ALPHA = "///", 0.6, 0.75


def curve_color(n: int) -> str:
    """Colour of the n-th series of a figure (cycles through :data:`CURVE_COLORS`)."""
    return CURVE_COLORS[n % len(CURVE_COLORS)]


def id_color(k: int) -> str:
    """Colour of the k-th indirect-detection curve (cycles through :data:`ID_COLORS`)."""
    return ID_COLORS[k % len(ID_COLORS)]


def g2_band_color(q: int) -> str:
    """Colour of the g-2 band of the q-th theta (cycles through :data:`G2_BAND_COLORS`)."""
    return G2_BAND_COLORS[q % len(G2_BAND_COLORS)]


# ------------------------------------------------------------------------------- legend proxies
def hatch_kwargs(hatch_lw: float) -> dict:
    """Keyword arguments giving a patch hatch lines of width ``hatch_lw`` [pt] (matplotlib >= 3.10;
    older versions draw them at their default width)."""
    from matplotlib.patches import Patch

    return {"hatch_linewidth": hatch_lw} if hasattr(Patch, "set_hatch_linewidth") else {}


@functools.cache
def _swatch_class():
    """The :class:`Swatch` legend proxy (matplotlib is imported only when a figure is drawn)."""
    from matplotlib.patches import Rectangle

    class Swatch(Rectangle):
        """Zero-size legend proxy of regions drawn in several colours (one box per colour)."""

        def __init__(self, colors, *, alpha, hatch=None, hatch_lw=1.0, label=None):
            super().__init__((0, 0), 0, 0, lw=0, label=label)
            self.swatch_colors, self.swatch_alpha = tuple(colors), alpha
            self.swatch_hatch, self.swatch_hatch_lw = hatch, hatch_lw

    return Swatch


def add_swatch(ax, colors, label, *, alpha, hatch=None, hatch_lw=1.0):
    """Legend entry ``label`` drawn as one box per colour of ``colors`` with ``alpha`` (and
    ``hatch``: hatch lines of width ``hatch_lw`` [pt] in the colour, no fill), as the regions it
    stands for are drawn.  Nothing is drawn on the axes.  Use :func:`legend` to render it."""
    if not colors:
        return None
    return ax.add_patch(_swatch_class()(colors, alpha=alpha, hatch=hatch, hatch_lw=hatch_lw, label=label))


def _swatch_handler():
    """Legend handler drawing a :class:`Swatch` as its boxes side by side."""
    from matplotlib.legend_handler import HandlerBase
    from matplotlib.patches import Rectangle

    class HandlerSwatch(HandlerBase):
        def create_artists(self, legend, orig, xd, yd, width, height, fontsize, trans):
            w = width / len(orig.swatch_colors)
            if orig.swatch_hatch:
                kw = dict(facecolor="none", hatch=orig.swatch_hatch, **hatch_kwargs(orig.swatch_hatch_lw))
                return [Rectangle((-xd + i * w, -yd), w, height, edgecolor=c, lw=0, alpha=orig.swatch_alpha,
                                  transform=trans, **kw) for i, c in enumerate(orig.swatch_colors)]
            return [Rectangle((-xd + i * w, -yd), w, height, facecolor=c, lw=0, alpha=orig.swatch_alpha,
                              transform=trans) for i, c in enumerate(orig.swatch_colors)]

    return HandlerSwatch()


#: legend handle length [font size]: long enough for a box per colour of a swatch to show its hatch
LEGEND_HANDLE_LENGTH = 3.2


def legend(ax, **kwargs):
    """``ax.legend(**kwargs)`` that renders the :func:`add_swatch` entries."""
    return ax.legend(handler_map={_swatch_class(): _swatch_handler()}, handlelength=LEGEND_HANDLE_LENGTH,
                     handleheight=1.0, **kwargs)


def visible_points(ax, x, y) -> np.ndarray:
    """Boolean mask of the points (x, y) inside the axes' current x and y limits (finite only)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    return np.isfinite(x) & np.isfinite(y) & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def new_axes(ax, figsize=(6.4, 4.8)):
    """(figure, axes): those of ``ax``, or a new figure of ``figsize`` [inch] with one axes."""
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    return fig, ax


def fmt_sci(x: float) -> str:
    """1e13 -> '10¹³', 1.98e10 -> '1.98×10¹⁰' (unicode, for legends)."""
    sup = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
    e = int(math.floor(math.log10(abs(x))))
    m = x / 10**e
    if abs(m - round(m)) < 1e-9 and round(m) == 1:
        return f"10{str(e).translate(sup)}"
    return f"{m:.3g}×10{str(e).translate(sup)}"


def exposure_label(y) -> str:
    """'10¹⁶ MOT', '3 ab⁻¹' or '0.508 fb⁻¹' (three significant digits) for a CurveYield."""
    if y.exposure_unit == "fb^-1":
        v = y.exposure
        return f"{v / 1000:.3g} ab⁻¹" if v >= 1000 else f"{v:.3g} fb⁻¹"
    return f"{fmt_sci(y.exposure)} MOT"


def curve_label(y) -> str:
    """Legend label: selection label and exposure."""
    return f"{y.label} ({exposure_label(y)})"


def mass_ticks(ax):
    """Plain-number major ticks on the mass axis, minor ones labelled at 2 and 5."""
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(fmt)
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else ""))


def finite_or_nan(a):
    """``a`` as a float array with every non-finite value NaN (not drawn)."""
    a = np.asarray(a, dtype=float).copy()
    a[~np.isfinite(a)] = np.nan
    return a


def pick_nearest(values, wanted, n):
    """All ``values`` if there are at most ``n``, else the ones nearest (in log) to each of ``wanted``, sorted, at most ``n``."""
    values = np.asarray(values, float)
    if len(values) <= n:
        return list(values)
    out = []
    for w in wanted:
        v = values[np.argmin(np.abs(np.log(values / w)))]
        if v not in out:
            out.append(v)
    return sorted(out)[:n]
