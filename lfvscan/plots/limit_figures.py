"""Limit figures (docs/physics.md §10.4, §11): Fig. 6 (invisible ALP) and Fig. 7 (visible ALP),
each limit curve with its MC error band, with the g-2 bands and dark-matter lines."""

from __future__ import annotations

import numpy as np

from lfvscan.pheno import overlays
from lfvscan.pheno.eft_axis import DEFAULT_AXIS
from lfvscan.pheno.flux import DEFAULT_FLUX_MODEL
from lfvscan.physics.leptons import LeptonPair
from lfvscan.plots.eft_scale import Y_AXES
from lfvscan.plots.style import MA_LABEL, curve_label, finite_or_nan, mass_ticks, new_axes


def _draw_limits(ax, limits, scenario, only_drawn=True, bands=()):
    """Limit curves of ``scenario``, each with its MC error band.  Curves recombined at a theta
    (``lfvscan figures --theta``, docs/physics.md §7.12) are drawn in the colour of the g-2 band of
    the same theta when ``bands`` has one (line style per selection curve), else one colour per curve
    and a line style per theta.  Points whose cells are flagged (``CurveYield.quality``) get red
    open circles and one legend note."""
    styles = ("-", "--", ":", "-.")
    band_of = {round(b.theta, 9): q for q, b in enumerate(bands)}
    thetas = sorted({lim.yields.theta for lim in limits if lim.yields.theta is not None})
    curves: dict[str, int] = {}
    n = 0
    drawn = []
    marked = False
    for lim in limits:
        y = lim.yields
        if y.scenario != scenario or (only_drawn and not y.drawn):
            continue
        if y.theta is None:
            color, ls, label = f"C{n}", "-", curve_label(y)
        else:
            c = curves.setdefault(f"{y.experiment}/{y.curve}", len(curves))
            q = band_of.get(round(y.theta, 9))
            color, ls = (f"C{6 + q % 4}", styles[c % 4]) if q is not None else (f"C{c}", styles[thetas.index(y.theta) % 4])
            label = f"{curve_label(y)}, θ = {y.theta:.3g}"
        ax.plot(y.masses_GeV, finite_or_nan(lim.g_lim), ls, color=color, lw=2, label=label)
        drawn.append((y.masses_GeV, lim.g_lim, lim.g_lim_err, color, ls))
        flagged = np.array([q not in ("ok", "") for q in y.quality], bool) if y.quality else None
        if flagged is not None and np.any(flagged & np.isfinite(lim.g_lim)):
            # points built from unconverged / low-Q cells are marked, never drawn silently
            ax.plot(y.masses_GeV[flagged], finite_or_nan(lim.g_lim[flagged]), "o", mfc="none", mec="r", ms=6,
                    label=None if marked else "flagged: cells unconverged or low vegas Q (see limits.csv quality)")
            marked = True
        n += 1
    draw_error_bands(ax, drawn)
    return n


# ------------------------------------------------------------------------------- flux uncertainty
FLUX_BAND_ALPHA = 0.12


def draw_flux_variants(ax, limits, variants, scenario, only_drawn=True) -> int:
    """Each ``(CurveLimit, model)`` of ``variants`` (the limits with another flux model,
    :func:`lfvscan.pheno.store_limits.flux_variant_limits`) as a dashed line in the colour of the
    curve of ``limits`` with the same key, the region between the two shaded (the flux uncertainty,
    docs/physics.md §9.2); one legend entry per dashed line and one for the shading.  Returns the
    number of variants drawn."""
    main = {lim.yields.key: lim for lim in limits}
    colour_of = {line.get_label(): line.get_color() for line in ax.get_lines()}
    n = 0
    for lim, model in variants:
        y = lim.yields
        base = main.get(y.key)
        if y.scenario != scenario or (only_drawn and not y.drawn) or base is None:
            continue
        color = colour_of.get(curve_label(base.yields), "0.3")
        ax.plot(y.masses_GeV, finite_or_nan(lim.g_lim), "--", color=color, lw=1.3,
                label=f"{curve_label(y)}, flux {model}")
        g0, g1 = finite_or_nan(base.g_lim), finite_or_nan(lim.g_lim)
        ok = np.isfinite(g0) & np.isfinite(g1)
        ax.fill_between(y.masses_GeV, np.fmin(g0, g1), np.fmax(g0, g1), where=ok, color=color,
                        alpha=FLUX_BAND_ALPHA, lw=0,
                        label=f"flux uncertainty: {DEFAULT_FLUX_MODEL} (solid) to {model} (dashed)" if n == 0 else None)
        n += 1
    return n


# ------------------------------------------------------------------------------- MC error bands
ERROR_BAND_ALPHA = 0.3


def max_rel_error(g_lim, g_lim_err) -> float:
    """Largest g_lim_err / g_lim [1] over the finite, positive points (0 if none)."""
    g, e = np.asarray(g_lim, float), np.asarray(g_lim_err, float)
    ok = np.isfinite(g) & np.isfinite(e) & (g > 0)
    return float(np.max(e[ok] / g[ok])) if np.any(ok) else 0.0


def draw_error_band(ax, masses_GeV, g_lim, g_lim_err, color, label=None):
    """Shade g_lim ± g_lim_err (the 1σ MC integration error of the limit, g_lim_err = g_lim
    n_hat_err / (2 n_hat), docs/physics.md §10.4) between the points where both are finite.
    Returns the PolyCollection (None if no finite point)."""
    g, e = finite_or_nan(g_lim), finite_or_nan(g_lim_err)
    ok = np.isfinite(g) & np.isfinite(e)
    if not np.any(ok):
        return None
    return ax.fill_between(np.asarray(masses_GeV, float), np.where(ok, g - e, np.nan), np.where(ok, g + e, np.nan),
                           where=ok, color=color, alpha=ERROR_BAND_ALPHA, lw=0, label=label)


def draw_error_bands(ax, curves):
    """One band per ``(masses_GeV, g_lim, g_lim_err, color, linestyle)``, in the curve's colour; one
    grey legend entry quotes the largest relative error (bands thinner than a line are still drawn)."""
    from matplotlib.patches import Rectangle

    rel = max((max_rel_error(g, e) for _, g, e, _, _ in curves), default=0.0)
    drawn = [draw_error_band(ax, m, g, e, color) for m, g, e, color, _ in curves]
    if any(b is not None for b in drawn):  # legend proxy (zero size): the bands take each curve's colour
        ax.add_patch(Rectangle((0, 0), 0, 0, color="0.4", alpha=ERROR_BAND_ALPHA, lw=0,
                               label=f"MC error of the limit (±1σ band in the curve's colour, up to {100 * rel:.2g} %)"))


#: upper edge of the "g-2 disfavoured" shading, above every y range of :data:`Y_AXES` (clipped by the axes)
BAND_TOP = 1.0e6


def _draw_bands(ax, bands):
    """Preferred bands (dark) and, lightly, the region above each (Delta a_mu too large, §4.5)."""
    for q, b in enumerate(bands):
        c = f"C{6 + q % 4}"
        ax.fill_between(b.masses_GeV, finite_or_nan(b.g_lo), finite_or_nan(b.g_hi), color=c, alpha=0.45, label=b.label)
        ax.fill_between(b.masses_GeV, finite_or_nan(b.g_hi), BAND_TOP, color=c, alpha=0.06, lw=0,
                        label="above a band: g−2 disfavoured for that θ" if q == 0 else None)


def limit_axes(ax, masses, title, axis: str = DEFAULT_AXIS):
    """Log axes of a limit figure over ``masses`` [GeV], the y label and range of ``axis`` (:data:`Y_AXES`:
    g in [1e-4, 1], or C/Lambda in TeV^-1), the labels, ``title`` and the legend outside."""
    ylabel, ylim = Y_AXES[axis]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(np.nanmin(masses), np.nanmax(masses))
    ax.set_ylim(*ylim)
    mass_ticks(ax)
    ax.set_xlabel(MA_LABEL)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


# ------------------------------------------------------------------------------- Figs. 6, 7
def fig6_invisible(limits, bands=(), dm_lines: bool = False, f_eff: float = overlays.DEFAULT_F_EFF,
                   id_curves=(), only_drawn: bool = True, ax=None, *, pair: LeptonPair, flux_variants=(),
                   axis: str = DEFAULT_AXIS, g_scale: float = 1.0):
    """Fig. 6: projected exclusions for the invisible ALP (a -> chi chibar); with ``bands`` and
    ``dm_lines`` (relic line and CMB/ID exclusions at m_chi = m_a/3, g_chi = 1, annihilation into
    the leptons of ``pair``) it is Fig. 6 right.  ``flux_variants``: limits with another flux model
    (:func:`draw_flux_variants`), dashed beside their curves.  ``axis``: the y axis (:data:`Y_AXES`; the
    limits and bands given already on it); ``g_scale``: y units per unit g of the dark-matter lines."""
    fig, ax = new_axes(ax, (10.0, 5.2))
    masses = np.concatenate([lim.masses_GeV for lim in limits]) if limits else np.array([1.0, 50.0])
    _draw_limits(ax, limits, "invisible", only_drawn, bands)
    draw_flux_variants(ax, limits, flux_variants, "invisible", only_drawn)
    _draw_bands(ax, bands)
    if dm_lines:
        m = np.geomspace(max(np.nanmin(masses), 1.9), np.nanmax(masses), 200)
        m_chi = m / overlays.DEFAULT_MA_OVER_MCHI
        g_rel = g_scale * np.asarray(overlays.relic_line(m, pair=pair))
        ax.plot(m, finite_or_nan(g_rel), "k-", lw=1.5, label=r"relic target ($m_\chi=m_a/3$, $g_\chi=1$)")
        g_cmb = g_scale * overlays.id_excluded_upper_g(m_chi, overlays.cmb_sigma_v_limit(m_chi, f_eff), "majorana", m,
                                                       pair=pair)
        ok = np.isfinite(g_cmb)
        ax.fill_between(m, g_rel, np.where(ok, g_cmb, g_rel), where=ok, color="k", alpha=0.25,
                        label=f"Planck CMB excl. ($f_{{\\rm eff}}$ = {f_eff:g})")
        for c in id_curves:
            g_up = g_scale * overlays.id_excluded_upper_g(m_chi, c(m_chi), c.limit_type, m, pair=pair)
            ok = np.isfinite(g_up)
            ax.fill_between(m, g_rel, np.where(ok, g_up, g_rel), where=ok, alpha=0.25, label=c.label)
    title = "invisible ALP ($a\\to\\chi\\bar\\chi$)" + (": with g−2 and DM" if (bands or dm_lines) else "")
    limit_axes(ax, masses, title, axis)
    return fig, ax


def fig7_visible(limits, bands=(), secluded_masses=(5.0, 10.0, 20.0), ax=None, axis: str = DEFAULT_AXIS):
    """Fig. 7: visible ALP (a -> tau mu, charge flip) at the 1 TeV fixed target, with g-2 bands;
    the secluded-DM g_chi (§5.4, independent of g) is printed as a note."""
    fig, ax = new_axes(ax, (10.0, 5.2))
    masses = np.concatenate([lim.masses_GeV for lim in limits]) if limits else np.array([1.0, 50.0])
    _draw_limits(ax, limits, "visible", True, bands)
    _draw_bands(ax, bands)
    if secluded_masses:
        gs = overlays.secluded_g_chi(np.asarray(secluded_masses, float))
        txt = "secluded DM (χχ̄→aa, $m_\\chi=2m_a$, $x_F=20$): $g_\\chi$ = " + ", ".join(
            f"{g:.2f} ($m_a$={m:g})" for m, g in zip(secluded_masses, gs))
        ax.text(0.02, 0.02, txt, transform=ax.transAxes, fontsize=6.5)
    limit_axes(ax, masses, "visible ALP ($a\\to\\tau\\mu$), charge-flip signature", axis)
    return fig, ax
