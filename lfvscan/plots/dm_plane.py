"""Fig. 1 of arXiv:2407.15942: the (m_chi, g) plane of asymmetric Dirac dark matter (docs/physics.md §5.3, §11)."""

from __future__ import annotations

import numpy as np

from lfvscan.pheno import overlays
from lfvscan.physics.leptons import LeptonPair
from lfvscan.plots.style import G_LABEL, LOOKS, finite_or_nan, id_color, new_axes


def fig1_dm_plane(m_chi_GeV=None, id_curves=(), f_eff: float = overlays.DEFAULT_F_EFF,
                  ma_over_mchi: float = overlays.DEFAULT_MA_OVER_MCHI, g_chi: float = 1.0, ax=None, *,
                  pair: LeptonPair):
    """Fig. 1: (m_chi, g) plane for asymmetric Dirac DM (docs/physics.md §5.3, §11): relic line,
    Planck CMB exclusion (p_ann with ``f_eff``), user ID curves, future ID (x10 stronger); DM
    annihilates into the leptons of ``pair``."""
    fig, ax = new_axes(ax)
    m = np.geomspace(1.0, 30.0, 300) if m_chi_GeV is None else np.asarray(m_chi_GeV, float)
    m_a = ma_over_mchi * m
    g_rel = np.asarray(overlays.relic_line(m_a, ma_over_mchi, g_chi, pair=pair))
    relic, planck, below = LOOKS["relic"], LOOKS["planck_cmb"], LOOKS["not_depleted"]
    ax.plot(m, g_rel, relic.ls, color=relic.color, lw=2,
            label=r"relic: $\langle\sigma v\rangle_{\tau\mu}=4.4\times10^{-26}$ cm$^3$/s")
    ax.fill_between(m, 1e-6, g_rel, color=below.color, alpha=below.alpha, lw=0,
                    label="symmetric component not depleted")
    cmb = overlays.cmb_sigma_v_limit(m, f_eff)
    g_cmb = overlays.id_excluded_upper_g(m, cmb, "majorana", m_a, g_chi, pair=pair)
    ok = np.isfinite(g_cmb)
    ax.fill_between(m, g_rel, np.where(ok, g_cmb, g_rel), where=ok, color=planck.color, alpha=planck.alpha, lw=0,
                    label=f"Planck CMB 2018 ($f_{{\\rm eff}}$ = {f_eff:g})")
    g_fut = overlays.id_excluded_upper_g(m, cmb / overlays.FUTURE_ID_IMPROVEMENT, "majorana", m_a, g_chi, pair=pair)
    ax.plot(m, finite_or_nan(g_fut), planck.ls, color=planck.color,
            label="10× stronger than Planck CMB (future-ID illustration)")
    for k, c in enumerate(id_curves):
        g_up = overlays.id_excluded_upper_g(m, c(m), c.limit_type, m_a, g_chi, pair=pair)
        ok = np.isfinite(g_up)
        ax.fill_between(m, g_rel, np.where(ok, g_up, g_rel), where=ok, alpha=planck.alpha, lw=0, color=id_color(k),
                        label=c.label)
        g_f = overlays.id_excluded_upper_g(m, c(m) / overlays.FUTURE_ID_IMPROVEMENT, c.limit_type, m_a, g_chi, pair=pair)
        ax.plot(m, finite_or_nan(g_f), planck.ls, color=id_color(k), label=f"{c.label}, ×10 (future)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(m[0], m[-1])
    ax.set_ylim(1e-4, 1e-1)
    ax.set_xlabel(r"$m_\chi$ [GeV]")
    ax.set_ylabel(G_LABEL)
    ax.set_title(f"asymmetric Dirac DM, $m_a = {ma_over_mchi:g}\\,m_\\chi$, $g_\\chi = {g_chi:g}$", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return fig, ax
