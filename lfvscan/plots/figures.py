"""Figures of arXiv:2407.15942 from a scan (docs/physics.md §11).

Every plotting function takes data objects (``ScanData``, limits, overlays), draws on a new (or
given) matplotlib axes and returns ``(fig, ax)``; each curve carries a legend label naming the
experiment, exposure and selection, so tests can check the artists.  :func:`make_all` writes PDF
and PNG files.  The Agg backend is selected by :func:`make_all` / the CLI; importing this module
does not touch the backend.

Figures: ``fig1_dm_plane`` (Fig. 1), ``fig3_coherent_diffractive`` (Fig. 3), ``fig5_tau1``
(Fig. 5 left), ``fig5_tau2`` (Fig. 5 right), ``fig6_invisible`` (Fig. 6 left, and right with
``bands``/DM lines), ``fig7_visible`` (Fig. 7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lfvscan.errors import UsageError
from lfvscan.pheno import overlays as ov
from lfvscan.pheno.scanphysics import scan_lepton_pair
from lfvscan.physics import g2, taudecay
from lfvscan.physics.leptons import LeptonPair
from lfvscan.store.scandata import DONE, ScanData

FIG_NAMES = ("fig1_dm_plane", "fig3_coherent_diffractive", "fig5_left_tau1", "fig5_right_tau2",
             "fig6_left_invisible", "fig6_right_invisible_g2_dm", "fig7_visible")
G_LABEL = r"$g_{\tau\mu}$"
MA_LABEL = r"$m_a$ [GeV]"


def _axes(ax, figsize=(6.4, 4.8)):
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


def _mass_ticks(ax):
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(fmt)
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else ""))


def _finite(a):
    a = np.asarray(a, dtype=float).copy()
    a[~np.isfinite(a)] = np.nan
    return a


# ------------------------------------------------------------------------------- Fig. 1
def fig1_dm_plane(m_chi_GeV=None, id_curves=(), f_eff: float = ov.DEFAULT_F_EFF,
                  ma_over_mchi: float = ov.DEFAULT_MA_OVER_MCHI, g_chi: float = 1.0, ax=None, *, pair: LeptonPair):
    """Fig. 1: (m_chi, g) plane for asymmetric Dirac DM (docs/physics.md §5.3, §11): relic line,
    Planck CMB exclusion (p_ann with ``f_eff``), user ID curves, future ID (x10 stronger); DM
    annihilates into the leptons of ``pair``."""
    fig, ax = _axes(ax)
    m = np.geomspace(1.0, 30.0, 300) if m_chi_GeV is None else np.asarray(m_chi_GeV, float)
    m_a = ma_over_mchi * m
    g_rel = np.asarray(ov.relic_line(m_a, ma_over_mchi, g_chi, pair=pair))
    ax.plot(m, g_rel, "k-", lw=2, label=r"relic: $\langle\sigma v\rangle_{\tau\mu}=4.4\times10^{-26}$ cm$^3$/s")
    ax.fill_between(m, 1e-6, g_rel, color="0.85", label="symmetric component not depleted")
    cmb = ov.cmb_sigma_v_limit(m, f_eff)
    g_cmb = ov.id_excluded_upper_g(m, cmb, "majorana", m_a, g_chi, pair=pair)
    ok = np.isfinite(g_cmb)
    ax.fill_between(m, g_rel, np.where(ok, g_cmb, g_rel), where=ok, color="C3", alpha=0.35,
                    label=f"Planck CMB 2018 ($f_{{\\rm eff}}$ = {f_eff:g})")
    g_fut = ov.id_excluded_upper_g(m, cmb / ov.FUTURE_ID_IMPROVEMENT, "majorana", m_a, g_chi, pair=pair)
    ax.plot(m, _finite(g_fut), "C3--", label="10× stronger than Planck CMB (future-ID illustration)")
    for k, c in enumerate(id_curves):
        g_up = ov.id_excluded_upper_g(m, c(m), c.limit_type, m_a, g_chi, pair=pair)
        ok = np.isfinite(g_up)
        ax.fill_between(m, g_rel, np.where(ok, g_up, g_rel), where=ok, alpha=0.3, color=f"C{4 + k}", label=c.label)
        g_f = ov.id_excluded_upper_g(m, c(m) / ov.FUTURE_ID_IMPROVEMENT, c.limit_type, m_a, g_chi, pair=pair)
        ax.plot(m, _finite(g_f), "--", color=f"C{4 + k}", label=f"{c.label}, ×10 (future)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(m[0], m[-1])
    ax.set_ylim(1e-4, 1e-1)
    ax.set_xlabel(r"$m_\chi$ [GeV]")
    ax.set_ylabel(G_LABEL)
    ax.set_title(f"asymmetric Dirac DM, $m_a = {ma_over_mchi:g}\\,m_\\chi$, $g_\\chi = {g_chi:g}$", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return fig, ax


# ------------------------------------------------------------------------------- Fig. 3
def _pick(values, wanted, n):
    values = np.asarray(values, float)
    if len(values) <= n:
        return list(values)
    out = []
    for w in wanted:
        v = values[np.argmin(np.abs(np.log(values / w)))]
        if v not in out:
            out.append(v)
    return sorted(out)[:n]


def fig3_vs_mass(scan: ScanData, target: str = "Pb", energies=None, ax=None):
    """Coherent (elastic, ∝ Z²) and diffractive (inelastic, ∝ Z) sigma_hat [pb] vs m_a at a few
    beam energies (alternative layout of Fig. 3)."""
    fig, ax = _axes(ax)
    t = scan.target_index(target)
    done_E = [e for j, e in enumerate(scan.energies_GeV) if np.any(scan.status[t, j] == DONE)]
    energies = _pick(done_E, (160.0, 1000.0, 4000.0), 3) if energies is None else energies
    for n, E in enumerate(energies):
        j = scan.energy_index(E)
        ok = (scan.status[t, j] == DONE) & ~scan.closed[t, j]
        m = scan.masses_GeV[ok]
        ax.plot(m, scan.sigma_coherent_pb[t, j][ok], "-", color=f"C{n}", marker="o", ms=3,
                label=f"coherent, E = {E:.4g} GeV")
        ax.plot(m, scan.sigma_incoherent_pb[t, j][ok], "--", color=f"C{n}", marker="s", ms=3,
                label=f"diffractive, E = {E:.4g} GeV")
    ax.set_yscale("log")
    ax.set_xscale("log")
    _mass_ticks(ax)
    ax.set_xlabel(MA_LABEL)
    ax.set_ylabel(r"$\hat\sigma(\mu N\to\tau N a)$ [pb]  ($g=1$)")
    ax.set_title(f"{target}: coherent vs diffractive contributions", fontsize=10)
    ax.legend(fontsize=7)
    return fig, ax


def fig3_coherent_diffractive(scan: ScanData, target: str | None = None, masses=None, ax=None):
    """Fig. 3: coherent (elastic, ∝ Z²) and diffractive (inelastic, ∝ Z) sigma_hat [pb] vs the muon
    energy for two ALP masses (the paper: "for ALP masses [stripped] and [stripped]", [U] values;
    default the scanned masses nearest 2 and 10 GeV).  ``target`` None: the target with the most
    computed energies (W in configs/paper.toml).  :func:`fig3_vs_mass` gives the other layout."""
    fig, ax = _axes(ax)
    if target is None:
        counts = [np.sum(np.any(scan.status[i] == DONE, axis=-1)) for i in range(len(scan.targets))]
        target = scan.targets[int(np.argmax(counts))]
    t = scan.target_index(target)
    masses = _pick(scan.masses_GeV, (2.0, 10.0), 2) if masses is None else masses
    for n, m in enumerate(masses):
        k = int(np.argmin(np.abs(scan.masses_GeV - m)))
        ok = (scan.status[t, :, k] == DONE) & ~scan.closed[t, :, k]
        order = np.argsort(scan.energies_GeV[ok])
        E = scan.energies_GeV[ok][order]
        ax.plot(E, scan.sigma_coherent_pb[t, ok, k][order], "-", color=f"C{n}", marker="o", ms=3,
                label=f"coherent, $m_a$ = {scan.masses_GeV[k]:.3g} GeV")
        ax.plot(E, scan.sigma_incoherent_pb[t, ok, k][order], "--", color=f"C{n}", marker="s", ms=3,
                label=f"diffractive, $m_a$ = {scan.masses_GeV[k]:.3g} GeV")
    ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xlabel(r"$E_\mu$ [GeV]")
    ax.set_ylabel(r"$\hat\sigma(\mu N\to\tau N a)$ [pb]  ($g=1$)")
    ax.set_title(f"{target}: coherent vs diffractive contributions", fontsize=10)
    ax.legend(fontsize=7)
    return fig, ax


# ------------------------------------------------------------------------------- Fig. 5
def fig5_tau1(scan: ScanData, target: str = "W", energies=None, masses=None, res_cm: float = 0.2, ax=None):
    """Fig. 5 left: (1/sigma) dsigma/dln lambda of the conversion tau, lambda = x_tau E c tau / m_tau
    (docs/physics.md §11), for several E and m_a, with the band lambda < ``res_cm``; the tau of the
    scan's physics preset."""
    fig, ax = _axes(ax)
    tau = scan_lepton_pair(scan).final
    t = scan.target_index(target)
    done_E = [e for j, e in enumerate(scan.energies_GeV) if np.any(scan.status[t, j] == DONE)]
    energies = _pick(done_E, (160.0, 1000.0, 3000.0), 3) if energies is None else energies
    masses = _pick(scan.masses_GeV, (2.0, 10.0), 2) if masses is None else masses
    styles = ["-", "--", ":", "-."]
    for n, E in enumerate(energies):
        j = scan.energy_index(E)
        edges = scan.x_tau_edges[j]
        for q, m in enumerate(masses):
            k = int(np.argmin(np.abs(scan.masses_GeV - m)))
            if scan.status[t, j, k] != DONE or scan.closed[t, j, k] or scan.sigma_pb[t, j, k] <= 0:
                continue
            h = scan.dsigma_dlnx_tau_pb[t, j, k]
            norm = np.sum(h * np.diff(np.log(edges)))
            lam = edges * E * tau.ctau_cm / tau.mass
            ax.stairs(h / norm, lam, color=f"C{n}", ls=styles[q % 4], lw=1.5,
                      label=f"E = {E:.4g} GeV, $m_a$ = {scan.masses_GeV[k]:.3g} GeV")
    ax.axvspan(1e-5, res_cm, color="0.8", alpha=0.6, label=f"λ < {res_cm * 10:g} mm (FASERν2 resolution)")
    ax.set_xscale("log")
    ax.set_xlim(1e-3, 1e2)
    ax.set_xlabel(r"$\lambda_{\tau_1} = x_\tau E\, c\tau_\tau/m_\tau$ [cm]")
    ax.set_ylabel(r"$(1/\sigma)\, d\sigma/d\ln\lambda_{\tau_1}$")
    ax.set_title(f"conversion τ ({target})", fontsize=10)
    ax.legend(fontsize=7)
    return fig, ax


def tau2_lambda_distribution(scan: ScanData, t: int, j: int, k: int, lam_edges_cm, n_sub: int = 16):
    """(1/sigma) dsigma/dln lambda of the tau from a -> tau mu (docs/physics.md §8.3): each x_tau bin
    (E_a = E (1 - x_tau)) is split into ``n_sub`` log sub-bins; the tau energy is flat on
    [E_-, E_+] and lambda = beta gamma c tau (the leptons of the scan's physics preset).  Returns
    values per ln-lambda bin."""
    pair = scan_lepton_pair(scan)
    E = scan.energies_GeV[j]
    m = scan.masses_GeV[k]
    edges = scan.x_tau_edges[j]
    h = scan.dsigma_dlnx_tau_pb[t, j, k]
    u = np.log(edges)
    u_max = math.log(1 - m / E)
    lo, hi = u[:-1], np.minimum(u[1:], u_max)
    ok = hi > lo
    w_bin = h * np.diff(u)  # sigma per bin, spread over its physical part
    frac = (np.arange(n_sub) + 0.5) / n_sub
    us = lo[ok, None] + (hi - lo)[ok, None] * frac
    ws = np.repeat(w_bin[ok, None] / n_sub, n_sub, axis=1)
    E_a = E * (1 - np.exp(us))
    e_lo, e_hi = taudecay.tau2_energy_bounds(E_a.ravel(), m, pair=pair)
    lam_edges = np.asarray(lam_edges_cm, float)
    E_edges = taudecay.e_cut_GeV(lam_edges, tau=pair.final)  # tau energy whose mean decay length is the edge
    width = (e_hi - e_lo)[:, None]
    ov_ = np.clip(np.minimum(e_hi[:, None], E_edges[None, 1:]) - np.maximum(e_lo[:, None], E_edges[None, :-1]), 0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(width > 0, ov_ / width, 0.0)
    f = np.nan_to_num(f)
    content = np.sum(ws.ravel()[:, None] * f, axis=0)
    total = np.sum(ws)
    return content / total / np.diff(np.log(lam_edges))


def fig5_tau2(scan: ScanData, target: str = "Pb", energy: float = 1000.0, masses=None,
              res_cm=(2.0, 0.2), ax=None):
    """Fig. 5 right: lambda distribution of the tau from the ALP decay at ``energy``, light and
    heavy ALP, with the 2 cm and 2 mm resolution bands (docs/physics.md §8.3, §11)."""
    fig, ax = _axes(ax)
    tau = scan_lepton_pair(scan).final
    t = scan.target_index(target)
    j = scan.energy_index(energy)
    ok = (scan.status[t, j] == DONE) & ~scan.closed[t, j] & (scan.masses_GeV > tau.mass + 0.2)
    cand = scan.masses_GeV[ok]
    masses = _pick(cand, (3.0, 20.0), 2) if masses is None else masses
    lam_edges = np.geomspace(1e-3, 20.0, 81)
    for n, m in enumerate(masses):
        k = int(np.argmin(np.abs(scan.masses_GeV - m)))
        d = tau2_lambda_distribution(scan, t, j, k, lam_edges)
        kind = "light" if n == 0 else "heavy"
        ax.stairs(d, lam_edges, color=f"C{n}", lw=1.5, label=f"{kind} ALP, $m_a$ = {scan.masses_GeV[k]:.3g} GeV, E = {energy:g} GeV")
    for q, r in enumerate(sorted(res_cm, reverse=True)):
        lab = f"λ < {r:g} cm" if r >= 1 else f"λ < {r * 10:g} mm"
        ax.axvspan(1e-4, r, color="0.5", alpha=0.2 + 0.15 * q, label=f"{lab} (resolution)")
    ax.axvline(energy * tau.ctau_cm / tau.mass, color="k", lw=0.8, ls=":", label=r"$E_a c\tau_\tau/m_\tau$ at $E_a=E$")
    ax.set_xscale("log")
    ax.set_xlim(lam_edges[0], lam_edges[-1])
    ax.set_xlabel(r"$\lambda_{\tau_2}$ [cm]")
    ax.set_ylabel(r"$(1/\sigma)\, d\sigma/d\ln\lambda_{\tau_2}$")
    ax.set_title(f"τ from a → τμ ({target}, E = {energy:g} GeV)", fontsize=10)
    ax.legend(fontsize=7)
    return fig, ax


# ------------------------------------------------------------------------------- Figs. 6, 7
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
        ax.plot(y.masses_GeV, _finite(lim.g_lim), ls, color=color, lw=2, label=label)
        drawn.append((y.masses_GeV, lim.g_lim, lim.g_lim_err, color, ls))
        flagged = np.array([q not in ("ok", "") for q in y.quality], bool) if y.quality else None
        if flagged is not None and np.any(flagged & np.isfinite(lim.g_lim)):
            # points built from unconverged / low-Q cells are marked, never drawn silently
            ax.plot(y.masses_GeV[flagged], _finite(lim.g_lim[flagged]), "o", mfc="none", mec="r", ms=6,
                    label=None if marked else "flagged: cells unconverged or low vegas Q (see limits.csv quality)")
            marked = True
        n += 1
    draw_error_bands(ax, drawn)
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
    g, e = _finite(g_lim), _finite(g_lim_err)
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


def _draw_bands(ax, bands):
    """Preferred bands (dark) and, lightly, the region above each (Delta a_mu too large, §4.5)."""
    for q, b in enumerate(bands):
        c = f"C{6 + q % 4}"
        ax.fill_between(b.masses_GeV, _finite(b.g_lo), _finite(b.g_hi), color=c, alpha=0.45, label=b.label)
        ax.fill_between(b.masses_GeV, _finite(b.g_hi), 10.0, color=c, alpha=0.06, lw=0,
                        label="above a band: g−2 disfavoured for that θ" if q == 0 else None)


def _limit_axes(ax, masses, title):
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(np.nanmin(masses), np.nanmax(masses))
    ax.set_ylim(1e-4, 1.0)
    _mass_ticks(ax)
    ax.set_xlabel(MA_LABEL)
    ax.set_ylabel(G_LABEL)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


def fig6_invisible(limits, bands=(), dm_lines: bool = False, f_eff: float = ov.DEFAULT_F_EFF,
                   id_curves=(), only_drawn: bool = True, ax=None, *, pair: LeptonPair):
    """Fig. 6: projected exclusions for the invisible ALP (a -> chi chibar); with ``bands`` and
    ``dm_lines`` (relic line and CMB/ID exclusions at m_chi = m_a/3, g_chi = 1, annihilation into
    the leptons of ``pair``) it is Fig. 6 right."""
    fig, ax = _axes(ax, (10.0, 5.2))
    masses = np.concatenate([lim.masses_GeV for lim in limits]) if limits else np.array([1.0, 50.0])
    _draw_limits(ax, limits, "invisible", only_drawn, bands)
    _draw_bands(ax, bands)
    if dm_lines:
        m = np.geomspace(max(np.nanmin(masses), 1.9), np.nanmax(masses), 200)
        m_chi = m / ov.DEFAULT_MA_OVER_MCHI
        g_rel = np.asarray(ov.relic_line(m, pair=pair))
        ax.plot(m, _finite(g_rel), "k-", lw=1.5, label=r"relic target ($m_\chi=m_a/3$, $g_\chi=1$)")
        g_cmb = ov.id_excluded_upper_g(m_chi, ov.cmb_sigma_v_limit(m_chi, f_eff), "majorana", m, pair=pair)
        ok = np.isfinite(g_cmb)
        ax.fill_between(m, g_rel, np.where(ok, g_cmb, g_rel), where=ok, color="k", alpha=0.25,
                        label=f"Planck CMB excl. ($f_{{\\rm eff}}$ = {f_eff:g})")
        for c in id_curves:
            g_up = ov.id_excluded_upper_g(m_chi, c(m_chi), c.limit_type, m, pair=pair)
            ok = np.isfinite(g_up)
            ax.fill_between(m, g_rel, np.where(ok, g_up, g_rel), where=ok, alpha=0.25, label=c.label)
    title = "invisible ALP ($a\\to\\chi\\bar\\chi$)" + (": with g−2 and DM" if (bands or dm_lines) else "")
    _limit_axes(ax, masses, title)
    return fig, ax


def fig7_visible(limits, bands=(), secluded_masses=(5.0, 10.0, 20.0), ax=None):
    """Fig. 7: visible ALP (a -> tau mu, charge flip) at the 1 TeV fixed target, with g-2 bands;
    the secluded-DM g_chi (§5.4, independent of g) is printed as a note."""
    fig, ax = _axes(ax, (10.0, 5.2))
    masses = np.concatenate([lim.masses_GeV for lim in limits]) if limits else np.array([1.0, 50.0])
    _draw_limits(ax, limits, "visible", True, bands)
    _draw_bands(ax, bands)
    if secluded_masses:
        gs = ov.secluded_g_chi(np.asarray(secluded_masses, float))
        txt = "secluded DM (χχ̄→aa, $m_\\chi=2m_a$, $x_F=20$): $g_\\chi$ = " + ", ".join(
            f"{g:.2f} ($m_a$={m:g})" for m, g in zip(secluded_masses, gs))
        ax.text(0.02, 0.02, txt, transform=ax.transAxes, fontsize=6.5)
    _limit_axes(ax, masses, "visible ALP ($a\\to\\tau\\mu$), charge-flip signature")
    return fig, ax


# ------------------------------------------------------------------------------- two result sets
COMPARE_NAMES = ("compare_invisible", "compare_visible")
SET_STYLES = ("-", "--", ":", "-.")


@dataclass(frozen=True)
class LimitCurve:
    """One limit curve of a result set: ``key`` "experiment/curve", ``scenario`` (invisible |
    visible), legend ``label``, ``masses_GeV`` [GeV], ``g_lim`` and its MC error ``g_lim_err`` [1]."""

    key: str
    scenario: str
    label: str
    masses_GeV: np.ndarray
    g_lim: np.ndarray
    g_lim_err: np.ndarray


def curves_from_limits(limits, only_drawn: bool = True) -> list[LimitCurve]:
    """:class:`LimitCurve` of each :class:`~lfvscan.pheno.limits.CurveLimit` (those drawn in the
    paper by default, as in Figs. 6 and 7)."""
    return [LimitCurve(lim.key, lim.yields.scenario, curve_label(lim.yields), lim.masses_GeV, lim.g_lim, lim.g_lim_err)
            for lim in limits if lim.yields.drawn or not only_drawn]


def curves_from_csv(path) -> list[LimitCurve]:
    """:class:`LimitCurve` of every curve in a limits CSV written by ``lfvscan limits`` / ``run``
    (labelled by their key "experiment/curve", the CSV has no legend labels)."""
    from lfvscan.pheno.limits import read_limits_csv

    return [LimitCurve(k, d["scenario"][0], k, d["mass_GeV"], d["g_lim"], d["g_lim_err"])
            for k, d in read_limits_csv(path).items()]


def fig_compare(sets: dict[str, list[LimitCurve]], scenario: str, ax=None):
    """Limit curves of several result sets in one figure: one colour per curve (matched by key),
    one line style per set (``sets``: {set label: curves}), each with its MC error band.  Curves of
    one set missing from another are drawn for the set that has them."""
    fig, ax = _axes(ax, (10.0, 5.2))
    keys: list[str] = []
    for curves in sets.values():
        keys += [c.key for c in curves if c.scenario == scenario and c.key not in keys]
    colour = {k: f"C{n % 10}" for n, k in enumerate(keys)}
    bands, masses = [], [np.array([1.0, 50.0])]
    for q, (set_label, curves) in enumerate(sets.items()):
        ls = SET_STYLES[q % len(SET_STYLES)]
        for c in curves:
            if c.scenario != scenario:
                continue
            ax.plot(c.masses_GeV, _finite(c.g_lim), ls, color=colour[c.key], lw=2, label=f"{set_label}: {c.label}")
            bands.append((c.masses_GeV, c.g_lim, c.g_lim_err, colour[c.key], ls))
            masses.append(np.asarray(c.masses_GeV, float))
    draw_error_bands(ax, bands)
    m = np.concatenate(masses[1:]) if len(masses) > 1 else masses[0]
    what = "invisible ALP ($a\\to\\chi\\bar\\chi$)" if scenario == "invisible" else "visible ALP ($a\\to\\tau\\mu$)"
    _limit_axes(ax, m, f"{what}: " + " vs ".join(f"{lab} ({SET_STYLES[q % 4]})" for q, lab in enumerate(sets)))
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


# ------------------------------------------------------------------------------- all
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


def make_all(scan: ScanData, limits, out_dir, *, g2_preset: str = g2.DEFAULT_G2_PRESET, thetas=ov.DEFAULT_THETAS,
             nsigma: float = g2.DEFAULT_NSIGMA, f_eff: float = ov.DEFAULT_F_EFF, id_curves=(), formats=("pdf", "png"),
             on_figure=None):
    """Draw every figure and write ``<out_dir>/<name>.<fmt>``.  Returns {name: (fig, ax)}.

    Figures needing data the scan lacks (e.g. no W target for Fig. 5 left) are skipped and
    listed in the returned dict under ``"_skipped"`` with the reason.  ``on_figure(name, k, n)``,
    if given, is called after the k-th of n figures (progress display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    pair = scan_lepton_pair(scan)
    bands = ov.g2_bands(band_masses_GeV(scan), thetas, g2_preset, nsigma, pair=pair)
    figs: dict = {}
    skipped: dict[str, str] = {}
    jobs = {
        "fig1_dm_plane": lambda: fig1_dm_plane(id_curves=id_curves, f_eff=f_eff, pair=pair),
        "fig3_coherent_diffractive": lambda: fig3_coherent_diffractive(scan),
        "fig5_left_tau1": lambda: fig5_tau1(scan, "W" if "W" in scan.targets else scan.targets[0]),
        "fig5_right_tau2": lambda: fig5_tau2(scan, "Pb"),
        "fig6_left_invisible": lambda: fig6_invisible(limits, pair=pair),
        "fig6_right_invisible_g2_dm": lambda: fig6_invisible(limits, bands, True, f_eff, id_curves, pair=pair),
        "fig7_visible": lambda: fig7_visible(limits, bands),
    }
    for k, (name, job) in enumerate(jobs.items(), 1):
        try:
            figs[name] = job()
        except ValueError as exc:  # target / energy not in the scan
            skipped[name] = str(exc)
        else:
            for fmt in formats:
                figs[name][0].savefig(out / f"{name}.{fmt}", dpi=150)
            plt.close(figs[name][0])
        if on_figure is not None:
            on_figure(name, k, len(jobs))
    figs["_skipped"] = skipped
    return figs
