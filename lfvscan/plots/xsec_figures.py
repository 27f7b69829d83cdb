"""Figures of the cross sections a scan stores (docs/physics.md §11): Fig. 3 (coherent and
diffractive parts) and Fig. 5 (decay-length distributions of the two taus)."""

from __future__ import annotations

import numpy as np

from lfvscan.pheno.scanphysics import scan_lepton_pair
from lfvscan.schema import DONE
from lfvscan.store.scandata import ScanData
from lfvscan.plots.distributions import (FIG5_LN_BIN_WIDTH, clipped_merged, lambda_tau2_max_cm, merge_factor,
                                         tau2_lambda_histogram, x_tau1_max)
from lfvscan.plots.style import (ERROR_BAND_ALPHA, LOOKS, MA_LABEL, add_swatch, curve_color, legend, mass_ticks,
                                 new_axes, pick_nearest)


def fig3_vs_mass(scan: ScanData, target: str = "Pb", energies=None, ax=None):
    """Coherent (elastic, ∝ Z²) and diffractive (inelastic, ∝ Z) sigma_hat [pb] vs m_a at a few
    beam energies: Fig. 3 with the mass on the x axis, for users who read the parts per mass (not
    drawn by :func:`lfvscan.plots.figures.make_all`, which draws the published layout)."""
    fig, ax = new_axes(ax)
    t = scan.target_index(target)
    done_E = [e for j, e in enumerate(scan.energies_GeV) if np.any(scan.status[t, j] == DONE)]
    energies = pick_nearest(done_E, (160.0, 1000.0, 4000.0), 3) if energies is None else energies
    for n, E in enumerate(energies):
        j = scan.energy_index(E)
        ok = (scan.status[t, j] == DONE) & ~scan.closed[t, j]
        m = scan.masses_GeV[ok]
        ax.plot(m, scan.sigma_coherent_pb[t, j][ok], "-", color=curve_color(n), marker="o", ms=3,
                label=f"coherent, E = {E:.4g} GeV")
        ax.plot(m, scan.sigma_incoherent_pb[t, j][ok], "--", color=curve_color(n), marker="s", ms=3,
                label=f"diffractive, E = {E:.4g} GeV")
    ax.set_yscale("log")
    ax.set_xscale("log")
    mass_ticks(ax)
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
    fig, ax = new_axes(ax)
    if target is None:
        counts = [np.sum(np.any(scan.status[i] == DONE, axis=-1)) for i in range(len(scan.targets))]
        target = scan.targets[int(np.argmax(counts))]
    t = scan.target_index(target)
    masses = pick_nearest(scan.masses_GeV, (2.0, 10.0), 2) if masses is None else masses
    for n, m in enumerate(masses):
        k = int(np.argmin(np.abs(scan.masses_GeV - m)))
        ok = (scan.status[t, :, k] == DONE) & ~scan.closed[t, :, k]
        order = np.argsort(scan.energies_GeV[ok])
        E = scan.energies_GeV[ok][order]
        ax.plot(E, scan.sigma_coherent_pb[t, ok, k][order], "-", color=curve_color(n), marker="o", ms=3,
                label=f"coherent, $m_a$ = {scan.masses_GeV[k]:.3g} GeV")
        ax.plot(E, scan.sigma_incoherent_pb[t, ok, k][order], "--", color=curve_color(n), marker="s", ms=3,
                label=f"diffractive, $m_a$ = {scan.masses_GeV[k]:.3g} GeV")
    ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xlabel(r"$E_\mu$ [GeV]")
    ax.set_ylabel(r"$\hat\sigma(\mu N\to\tau N a)$ [pb]  ($g=1$)")
    ax.set_title(f"{target}: coherent vs diffractive contributions", fontsize=10)
    ax.legend(fontsize=7)
    return fig, ax


MC_BAND_LABEL = "MC error (±1σ band in the curve's colour)"


def draw_ln_histogram(ax, h, edges, color, ls, label):
    """Histogram ``h`` (:class:`~lfvscan.plots.distributions.LnHistogram`) drawn on ``edges`` (its
    edges in the plotted variable) as steps in ``color`` / ``ls`` with its ±1σ MC band."""
    ax.stairs(h.density + h.error, edges, baseline=np.maximum(h.density - h.error, 0.0), fill=True, color=color,
              alpha=ERROR_BAND_ALPHA, lw=0)
    ax.stairs(h.density, edges, color=color, ls=ls, lw=1.5, label=label)


def fig5_tau1(scan: ScanData, target: str = "W", energies=None, masses=None, res_cm: float = 0.2, ax=None):
    """Fig. 5 left: (1/sigma) dsigma/dln lambda of the conversion tau, lambda = x_tau E c tau / m_tau
    (docs/physics.md §11), for several E and m_a, with the band lambda < ``res_cm``; the tau of the
    scan's physics preset.  Each histogram ends at its kinematic maximum x_tau = 1 - m_a/E, its
    stored bins merged to :data:`~lfvscan.plots.distributions.FIG5_LN_BIN_WIDTH` in ln lambda
    (:func:`~lfvscan.plots.distributions.clipped_merged`), with its ±1σ MC error band."""
    fig, ax = new_axes(ax, (8.6, 4.8))
    tau = scan_lepton_pair(scan).final
    t = scan.target_index(target)
    done_E = [e for j, e in enumerate(scan.energies_GeV) if np.any(scan.status[t, j] == DONE)]
    energies = pick_nearest(done_E, (160.0, 1000.0, 3000.0), 3) if energies is None else energies
    masses = pick_nearest(scan.masses_GeV, (2.0, 10.0), 2) if masses is None else masses
    styles = ["-", "--", ":", "-."]
    colors = []
    for n, E in enumerate(energies):
        j = scan.energy_index(E)
        edges = scan.x_f_edges[j]
        k_merge = merge_factor(edges, FIG5_LN_BIN_WIDTH)
        for q, m in enumerate(masses):
            k = int(np.argmin(np.abs(scan.masses_GeV - m)))
            if scan.status[t, j, k] != DONE or scan.closed[t, j, k] or scan.sigma_pb[t, j, k] <= 0:
                continue
            h = clipped_merged(edges, scan.dsigma_dlnx_f_pb[t, j, k], scan.dsigma_dlnx_f_err_pb[t, j, k],
                               x_tau1_max(E, scan.masses_GeV[k]), k_merge)
            draw_ln_histogram(ax, h, h.edges * E * tau.ctau_cm / tau.mass, curve_color(n), styles[q % 4],
                              f"E = {E:.4g} GeV, $m_a$ = {scan.masses_GeV[k]:.3g} GeV")
            colors.append(curve_color(n))
    add_swatch(ax, list(dict.fromkeys(colors)), alpha=ERROR_BAND_ALPHA, label=MC_BAND_LABEL)
    res = LOOKS["resolution"]
    ax.axvspan(1e-5, res_cm, color=res.color, alpha=res.alpha, lw=0,
               label=f"λ < {res_cm * 10:g} mm (FASERν2 resolution)")
    ax.set_xscale("log")
    ax.set_xlim(1e-3, 1e2)
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel(r"$\lambda_{\tau_1} = x_\tau E\, c\tau_\tau/m_\tau$ [cm]")
    ax.set_ylabel(r"$(1/\sigma)\, d\sigma/d\ln\lambda_{\tau_1}$")
    ax.set_title(f"conversion τ ({target})", fontsize=10)
    legend(ax, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)  # clear of the peaks
    return fig, ax


def fig5_tau2(scan: ScanData, target: str = "Pb", energy: float = 1000.0, masses=None,
              res_cm=(2.0, 0.2), ax=None):
    """Fig. 5 right: lambda distribution of the tau from the ALP decay at ``energy``, light and
    heavy ALP, with the 2 cm and 2 mm resolution bands (docs/physics.md §8.3, §11); each histogram
    ends at its kinematic maximum (:func:`~lfvscan.plots.distributions.lambda_tau2_max_cm`), drawn
    as a dotted line."""
    fig, ax = new_axes(ax)
    pair = scan_lepton_pair(scan)
    t = scan.target_index(target)
    j = scan.energy_index(energy)
    ok = (scan.status[t, j] == DONE) & ~scan.closed[t, j] & (scan.masses_GeV > pair.final.mass + 0.2)
    cand = scan.masses_GeV[ok]
    masses = pick_nearest(cand, (3.0, 20.0), 2) if masses is None else masses
    lam_edges = np.geomspace(1e-3, 20.0, 81)
    kin = LOOKS["kinematic_max"]
    lam_maxima = []
    for n, m in enumerate(masses):
        k = int(np.argmin(np.abs(scan.masses_GeV - m)))
        lam_max = lambda_tau2_max_cm(energy, scan.masses_GeV[k], pair=pair)
        edges = np.r_[lam_edges[lam_edges < lam_max], min(lam_max, lam_edges[-1])]
        h = tau2_lambda_histogram(energy, scan.masses_GeV[k], scan.x_f_edges[j], scan.dsigma_dlnx_f_pb[t, j, k],
                                  scan.dsigma_dlnx_f_err_pb[t, j, k], edges, pair=pair)
        kind = "light" if n == 0 else "heavy"
        draw_ln_histogram(ax, h, edges, curve_color(n), "-",
                          f"{kind} ALP, $m_a$ = {scan.masses_GeV[k]:.3g} GeV, E = {energy:g} GeV")
        lam_maxima.append(lam_max)
    for n, lam_max in enumerate(lam_maxima):  # after the histograms: the legend lists the curves first
        ax.axvline(lam_max, color=kin.color, lw=0.8, ls=kin.ls,
                   label=r"kinematic maximum ($E_a = E - m_\tau$, $E_{\tau_2} = E_+$)" if n == 0 else None)
    add_swatch(ax, [curve_color(n) for n in range(len(masses))], alpha=ERROR_BAND_ALPHA, label=MC_BAND_LABEL)
    res = LOOKS["resolution"]
    lo = 1e-4
    for q, r in enumerate(sorted(res_cm)):  # regions do not overlap: the smaller is the darker
        lab = f"λ < {r:g} cm" if r >= 1 else f"λ < {r * 10:g} mm"
        ax.axvspan(lo, r, color=res.color, alpha=1.0 - (1.0 - res.alpha) ** (len(res_cm) - q), lw=0,
                   label=f"{lab} (resolution)")
        lo = r
    ax.set_xscale("log")
    ax.set_xlim(lam_edges[0], lam_edges[-1])
    ax.set_xlabel(r"$\lambda_{\tau_2}$ [cm]")
    ax.set_ylabel(r"$(1/\sigma)\, d\sigma/d\ln\lambda_{\tau_2}$")
    ax.set_title(f"τ from a → τμ ({target}, E = {energy:g} GeV)", fontsize=10)
    legend(ax, fontsize=7)
    return fig, ax
