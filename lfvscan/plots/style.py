"""Shared look of the figures (docs/physics.md §11): axes, axis labels, legend labels of a yield's
exposure, and small helpers every figure family uses."""

from __future__ import annotations

import math

import numpy as np

G_LABEL = r"$g_{\tau\mu}$"
MA_LABEL = r"$m_a$ [GeV]"


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
    """'10¹⁶ MOT' or '3 ab⁻¹' for a CurveYield."""
    if y.exposure_unit == "fb^-1":
        v = y.exposure
        return f"{v / 1000:g} ab⁻¹" if v >= 1000 else f"{v:g} fb⁻¹"
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
