"""Limit figures (docs/physics.md §10.4, §11): Fig. 6 (invisible ALP) and Fig. 7 (visible ALP),
each limit curve with its MC error band, with the g-2 bands and dark-matter lines."""

from __future__ import annotations

import math

import numpy as np

from lfvscan.pheno import overlays
from lfvscan.pheno.eft_axis import DEFAULT_AXIS
from lfvscan.pheno.flux import DEFAULT_FLUX_MODEL
from lfvscan.physics.eft import eft_theta
from lfvscan.physics.leptons import LeptonPair
from lfvscan.plots.eft_scale import Y_AXES, y_label
from lfvscan.plots.style import (ERROR_BAND_ALPHA, FLUX_BAND_ALPHA, G2_BAND_ALPHA, G2_DISFAVOURED_ALPHA,
                                 G2_DISFAVOURED_HATCH, G2_DISFAVOURED_HATCH_LW, LOOKS, MA_LABEL,
                                 add_swatch, curve_color, curve_label, finite_or_nan, g2_band_color, hatch_kwargs,
                                 id_color, legend, mass_ticks, new_axes, visible_points)


def _draw_limits(ax, limits, scenario, y_range, only_drawn=True, bands=()):
    """Limit curves of ``scenario``; returns ``[(masses_GeV, g_lim, g_lim_err, color, linestyle)]``
    of the curves drawn (their MC error bands are drawn by :func:`draw_error_bands`).  Curves
    recombined at a theta (``lfvscan figures --theta``, docs/physics.md §7.12) are drawn in the
    colour of the g-2 band of the same theta when ``bands`` has one (line style per selection
    curve), else one colour per curve and a line style per theta.  Points whose cells are flagged
    (``CurveYield.quality``) and that lie in ``y_range`` (the figure's y range) get open circles and one legend note."""
    styles = ("-", "--", ":", "-.")
    band_of = {round(b.theta, 9): q for q, b in enumerate(bands)}
    thetas = sorted({lim.yields.theta for lim in limits if lim.yields.theta is not None})
    curves: dict[str, int] = {}
    n = 0
    drawn = []
    marks = []
    for lim in limits:
        y = lim.yields
        if y.scenario != scenario or (only_drawn and not y.drawn):
            continue
        if y.theta is None:
            color, ls, label = curve_color(n), "-", curve_label(y)
        else:
            c = curves.setdefault(f"{y.experiment}/{y.curve}", len(curves))
            q = band_of.get(round(y.theta, 9))
            color, ls = ((g2_band_color(q), styles[c % 4]) if q is not None
                         else (curve_color(c), styles[thetas.index(y.theta) % 4]))
            label = f"{curve_label(y)}, θ = {y.theta:.3g}"
        ax.plot(y.masses_GeV, finite_or_nan(lim.g_lim), ls, color=color, lw=2, label=label)
        drawn.append((y.masses_GeV, lim.g_lim, lim.g_lim_err, color, ls))
        if y.quality:  # points built from unconverged / low-Q cells are marked, never drawn silently
            g = np.asarray(lim.g_lim, float)
            flagged = np.array([q not in ("ok", "") for q in y.quality], bool)
            flagged &= np.isfinite(g) & (g >= y_range[0]) & (g <= y_range[1])  # only where drawn
            marks.append((y.masses_GeV[flagged], g[flagged]))
        n += 1
    m_flag, g_flag = (np.concatenate(a) for a in zip(*marks)) if marks else ((), ())
    if len(m_flag):  # after the curves, so that the legend note follows them
        look = LOOKS["flagged"]
        ax.plot(m_flag, g_flag, look.marker, ls="none", mfc="none", mec=look.color, ms=6,
                label="flagged: quality not ok (unconverged, low Q, unresolved by the x bins or scan energies; limits.csv quality)")
    draw_error_bands(ax, drawn)
    return drawn


# ------------------------------------------------------------------------------- flux uncertainty
def draw_flux_variants(ax, limits, variants, scenario, only_drawn=True) -> int:
    """Each ``(CurveLimit, model)`` of ``variants`` (the limits with another flux model,
    :func:`lfvscan.pheno.store_limits.flux_variant_limits`) as a dashed line in the colour of the
    curve of ``limits`` with the same key, the region between the two shaded (the flux uncertainty,
    docs/physics.md §9.2); one legend entry per dashed line and one for the shadings (a box in
    each shaded curve's colour).  Returns the number of variants drawn."""
    main = {lim.yields.key: lim for lim in limits}
    colour_of = {line.get_label(): line.get_color() for line in ax.get_lines()}
    n = 0
    shaded: list[tuple[str, str]] = []
    for lim, model in variants:
        y = lim.yields
        base = main.get(y.key)
        if y.scenario != scenario or (only_drawn and not y.drawn) or base is None:
            continue
        color = colour_of.get(curve_label(base.yields))
        if color is None:  # its solid curve is not drawn: nothing to shade against
            continue
        ax.plot(y.masses_GeV, finite_or_nan(lim.g_lim), "--", color=color, lw=1.3,
                label=f"{curve_label(y)}, flux {model}")
        g0, g1 = finite_or_nan(base.g_lim), finite_or_nan(lim.g_lim)
        ok = np.isfinite(g0) & np.isfinite(g1)
        ax.fill_between(y.masses_GeV, np.fmin(g0, g1), np.fmax(g0, g1), where=ok, color=color,
                        alpha=FLUX_BAND_ALPHA, lw=0)
        shaded.append((color, model))
        n += 1
    for model in dict.fromkeys(m for _, m in shaded):
        add_swatch(ax, [c for c, m in shaded if m == model], alpha=FLUX_BAND_ALPHA,
                   label=f"flux uncertainty: {DEFAULT_FLUX_MODEL} (solid) to {model} (dashed), in the curve's colour")
    return n


# ------------------------------------------------------------------------------- MC error bands
def max_rel_error(g_lim, g_lim_err, where=None) -> float:
    """Largest g_lim_err / g_lim [1] over the finite, positive points (those of the boolean mask
    ``where`` among them, if given; 0 if none)."""
    g, e = np.asarray(g_lim, float), np.asarray(g_lim_err, float)
    ok = np.isfinite(g) & np.isfinite(e) & (g > 0)
    if where is not None:
        ok &= np.asarray(where, bool)
    return float(np.max(e[ok] / g[ok])) if np.any(ok) else 0.0


def error_band_edges(g_lim, g_lim_err):
    """Lower and upper edge of the 1σ MC band of a limit: the image on g of the interval n_hat ± n_hat_err
    (g ∝ n_hat^(-1/2), g_lim_err = g_lim r / 2 with r = n_hat_err / n_hat, docs/physics.md §10.4):
    g / sqrt(1 + r) and g / sqrt(1 - r).  To first order in r these are g ∓ g_lim_err; the lower edge
    stays positive on a log axis, and the upper edge is NaN (unbounded, not drawn) where r >= 1."""
    g, e = finite_or_nan(g_lim), finite_or_nan(g_lim_err)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = 2.0 * e / g
        lo = g / np.sqrt(1.0 + r)
        hi = np.where(r < 1.0, g / np.sqrt(np.where(r < 1.0, 1.0 - r, 1.0)), np.nan)
    return lo, hi


def draw_error_band(ax, masses_GeV, g_lim, g_lim_err, color, label=None):
    """Shade the 1σ MC integration error of the limit (:func:`error_band_edges`) between the points
    where both edges are finite.  Returns the PolyCollection (None if no such point)."""
    lo, hi = error_band_edges(g_lim, g_lim_err)
    ok = np.isfinite(lo) & np.isfinite(hi)
    if not np.any(ok):
        return None
    return ax.fill_between(np.asarray(masses_GeV, float), np.where(ok, lo, np.nan), np.where(ok, hi, np.nan),
                           where=ok, color=color, alpha=ERROR_BAND_ALPHA, lw=0, label=label)


def draw_error_bands(ax, curves):
    """One band per ``(masses_GeV, g_lim, g_lim_err, color, linestyle)``, in the curve's colour
    (bands thinner than a line are still drawn); the legend entry is :func:`error_band_entry`."""
    for m, g, e, color, _ in curves:
        draw_error_band(ax, m, g, e, color)


def error_band_entry(ax, curves):
    """Legend entry of the MC error bands of ``curves`` (a box in each curve's colour), quoting the
    largest relative error over the points inside the axes' limits (call after they are set)."""
    shown = [(g, e, visible_points(ax, m, g)) for m, g, e, _, _ in curves]
    if not any(np.any(vis & np.isfinite(np.asarray(e, float))) for _, e, vis in shown):
        return None
    rel = max(max_rel_error(g, e, vis) for g, e, vis in shown)
    colors = list(dict.fromkeys(c for _, _, _, c, _ in curves))
    label = f"MC error of the limit (±1σ band in the curve's colour; drawn points: ≤ {100 * rel:.2g} %)"
    return add_swatch(ax, colors, alpha=ERROR_BAND_ALPHA, label=label)


#: upper edge of the "g-2 disfavoured" shading, above every y range of :data:`Y_AXES` (clipped by the axes)
BAND_TOP = 1.0e6


def _draw_bands(ax, bands):
    """Preferred g-2 bands and, hatched in the band's colour, the region above each (Delta a_mu too
    large for that theta, §4.5), with one legend entry for all the hatched regions.  A band's edges
    are drawn in its colour, so overlapping bands stay apart."""
    from matplotlib.colors import to_rgba

    for q, b in enumerate(bands):
        c = g2_band_color(q)
        ax.fill_between(b.masses_GeV, finite_or_nan(b.g_lo), finite_or_nan(b.g_hi), facecolor=to_rgba(c, G2_BAND_ALPHA),
                        edgecolor=c, lw=0.8, label=b.label)
        ax.fill_between(b.masses_GeV, finite_or_nan(b.g_hi), BAND_TOP, facecolor="none", edgecolor=c,
                        hatch=G2_DISFAVOURED_HATCH, alpha=G2_DISFAVOURED_ALPHA, lw=0,
                        **hatch_kwargs(G2_DISFAVOURED_HATCH_LW))
    add_swatch(ax, [g2_band_color(q) for q in range(len(bands))], alpha=G2_DISFAVOURED_ALPHA,
               hatch=G2_DISFAVOURED_HATCH, hatch_lw=G2_DISFAVOURED_HATCH_LW,
               label="above a g−2 band (hatched in its colour): disfavoured for that θ")


def limit_axes(ax, masses, title, curves=(), axis: str = DEFAULT_AXIS, pair: LeptonPair | None = None):
    """Log axes of a limit figure over ``masses`` [GeV] and the y range of ``axis`` (:data:`Y_AXES`: g in
    [1e-4, 1], or C/Lambda in TeV^-1), its labels (the coupling of ``pair``'s leptons, :func:`y_label`; None:
    tau mu), ``title``, the MC-error entry of ``curves`` (:func:`error_band_entry`, over the points drawn
    inside these limits) and the legend outside."""
    ylabel, ylim = y_label(axis, pair), Y_AXES[axis][1]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(np.nanmin(masses), np.nanmax(masses))
    ax.set_ylim(*ylim)
    mass_ticks(ax)
    ax.set_xlabel(MA_LABEL)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    error_band_entry(ax, curves)
    legend(ax, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


# ------------------------------------------------------------------------------- Figs. 6, 7
def theta_note(limits, scenario: str, theta: float | None, axis: str, pair: LeptonPair | None) -> str:
    """Title suffix naming the angle ``theta`` [rad] of the limit curves of ``scenario`` drawn at the scan's
    theta (those recombined at their own theta name it in their legend label); "" if ``theta`` is None or
    NaN or no such curve.  On the C/Lambda ``axis`` the EFT angle Theta of those curves is named too where
    it differs from theta (an Eq. (3) angle, :func:`lfvscan.physics.eft.eft_theta`; it sets M(Theta),
    docs/physics.md §2.7)."""
    if theta is None or not np.isfinite(theta):
        return ""
    at_scan = [lim for lim in limits if lim.yields.scenario == scenario and lim.yields.theta is None]
    if not at_scan:
        return ""
    note = f", limits at θ = {overlays.theta_label(float(theta))}"
    eft = next((lim.eft for lim in at_scan if lim.eft is not None), None)
    if axis != DEFAULT_AXIS and pair is not None and eft is not None:
        big = math.degrees(eft_theta(float(theta), eft.convention, pair))
        if abs(big - math.degrees(float(theta))) > 0.05:
            note += f" (EFT Θ = {big:.1f}°)"
    return note


def fig6_invisible(limits, bands=(), dm_lines: bool = False, f_eff: float = overlays.DEFAULT_F_EFF,
                   id_curves=(), only_drawn: bool = True, ax=None, *, pair: LeptonPair, flux_variants=(),
                   axis: str = DEFAULT_AXIS, g_scale: float = 1.0, theta: float | None = None):
    """Fig. 6: projected exclusions for the invisible ALP (a -> chi chibar); with ``bands`` and
    ``dm_lines`` (relic line and CMB/ID exclusions at m_chi = m_a/3, g_chi = 1, annihilation into
    the leptons of ``pair``) it is Fig. 6 right.  ``flux_variants``: limits with another flux model
    (:func:`draw_flux_variants`), dashed beside their curves.  ``axis``: the y axis (:data:`Y_AXES`; the
    limits and bands given already on it); ``g_scale``: y units per unit g of the dark-matter lines; ``theta``:
    the scan's theta [rad], named in the title (:func:`theta_note`)."""
    fig, ax = new_axes(ax, (10.0, 5.2))
    masses = np.concatenate([lim.masses_GeV for lim in limits]) if limits else np.array([1.0, 50.0])
    curves = _draw_limits(ax, limits, "invisible", Y_AXES[axis][1], only_drawn, bands)
    draw_flux_variants(ax, limits, flux_variants, "invisible", only_drawn)
    _draw_bands(ax, bands)
    if dm_lines:
        m = np.geomspace(max(np.nanmin(masses), 1.9), np.nanmax(masses), 200)
        m_chi = m / overlays.DEFAULT_MA_OVER_MCHI
        relic, planck = LOOKS["relic"], LOOKS["planck_cmb"]
        g_rel = g_scale * np.asarray(overlays.relic_line(m, pair=pair))
        ax.plot(m, finite_or_nan(g_rel), relic.ls, color=relic.color, lw=1.5, label=r"relic target ($m_\chi=m_a/3$, $g_\chi=1$)")
        g_cmb = g_scale * overlays.id_excluded_upper_g(m_chi, overlays.cmb_sigma_v_limit(m_chi, f_eff), "majorana", m,
                                                       pair=pair)
        ok = np.isfinite(g_cmb)
        ax.fill_between(m, g_rel, np.where(ok, g_cmb, g_rel), where=ok, color=planck.color, alpha=planck.alpha, lw=0,
                        label=f"Planck CMB excl. ($f_{{\\rm eff}}$ = {f_eff:g})")
        for k, c in enumerate(id_curves):
            g_up = g_scale * overlays.id_excluded_upper_g(m_chi, c(m_chi), c.limit_type, m, pair=pair)
            ok = np.isfinite(g_up)
            ax.fill_between(m, g_rel, np.where(ok, g_up, g_rel), where=ok, color=id_color(k), alpha=planck.alpha,
                            lw=0, label=c.label)
    title = ("invisible ALP ($a\\to\\chi\\bar\\chi$)" + theta_note(limits, "invisible", theta, axis, pair)
             + (": with g−2 and DM" if (bands or dm_lines) else ""))
    limit_axes(ax, masses, title, curves, axis, pair)
    return fig, ax


def fig7_visible(limits, bands=(), secluded_masses=(5.0, 10.0, 20.0), ax=None, axis: str = DEFAULT_AXIS,
                 pair: LeptonPair | None = None, theta: float | None = None):
    """Fig. 7: visible ALP (a -> tau l) limits with g-2 bands: the paper's 1 TeV fixed target (charge flip
    mu+ tau- tau-), MuBeD, and the colliders EIC (a -> tau e) and MuSIC; for tau mu the secluded-DM g_chi
    (§5.4, the paper's dark-matter model, independent of g) is printed as a note.  ``pair``: the process's
    leptons (title and coupling name; None = tau mu); ``theta``: the scan's theta [rad], named in the title
    (:func:`theta_note`)."""
    fig, ax = new_axes(ax, (10.0, 5.2))
    masses = np.concatenate([lim.masses_GeV for lim in limits]) if limits else np.array([1.0, 50.0])
    curves = _draw_limits(ax, limits, "visible", Y_AXES[axis][1], True, bands)
    _draw_bands(ax, bands)
    light = "\\mu" if pair is None or pair.light.name == "mu" else pair.light.name
    if secluded_masses and light == "\\mu":
        gs = overlays.secluded_g_chi(np.asarray(secluded_masses, float))
        txt = "secluded DM (χχ̄→aa, $m_\\chi=2m_a$, $x_F=20$): $g_\\chi$ = " + ", ".join(
            f"{g:.2f} ($m_a$={m:g})" for m, g in zip(secluded_masses, gs))
        ax.text(1.01, 0.0, txt, transform=ax.transAxes, fontsize=6.5, va="bottom")  # beside the axes, under the legend
    title = f"visible ALP ($a\\to\\tau {light}$)" + theta_note(limits, "visible", theta, axis, pair)
    limit_axes(ax, masses, title, curves, axis, pair)
    return fig, ax
