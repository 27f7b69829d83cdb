"""The stored x_tau distributions as Fig. 5 draws them (docs/physics.md §8.3, §11): clipped at the
kinematic maximum of the drawn variable, merged to a drawn bin width in ln x, with their MC errors.

The store holds dsigma/dln x_tau in bins of equal width in ln x_tau (60 by default, from
m_tau / E to 1).  Their bin-to-bin scatter is the Monte-Carlo error of each bin (residuals from the
neighbours' trend are ~1 sigma of the stored per-bin errors); lambda_tau1 = x_tau E c tau / m_tau is
proportional to x_tau, so no aliasing between grids is involved.  Merging k adjacent bins divides the
relative MC error by ~sqrt(k) and keeps the drawn density exact (each drawn bin is the stored
cross section in it divided by its own width); the error is drawn as a band, never smoothed away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lfvscan.physics import taudecay
from lfvscan.physics.leptons import LeptonPair

#: drawn bin width in ln x_tau = ln lambda [1] of Fig. 5 left: ~1/6 of the distributions' width
#: (FWHM ~1.5 in ln lambda), so merging changes the drawn peak by < 1 % while the per-bin MC error
#: of the 60 stored bins falls by ~sqrt(2-3)
FIG5_LN_BIN_WIDTH = 0.25


def x_tau1_max(energy_GeV: float, mass_GeV: float) -> float:
    """Kinematic maximum of x_tau = E_tau / E of the conversion tau [1]: E_tau = E - E_a - T_N
    <= E - m_a (docs/physics.md §7.5: E_a >= m_a, nucleus recoil T_N >= 0), so x_tau <= 1 - m_a / E."""
    return 1.0 - float(mass_GeV) / float(energy_GeV)


def lambda_tau2_max_cm(energy_GeV: float, mass_GeV: float, *, pair: LeptonPair) -> float:
    """Kinematic maximum [cm] of the mean decay length of the tau from a -> tau mu: the ALP energy
    is at most E - m_tau (the conversion tau takes at least its mass), the tau from its decay at most
    E_+ of that ALP (docs/physics.md §8.3), lambda = beta gamma c tau (§8.1)."""
    _, e_plus = taudecay.tau2_energy_bounds(float(energy_GeV) - pair.final.mass, float(mass_GeV), pair=pair)
    return float(taudecay.decay_length_tau_cm(e_plus, tau=pair.final))


def merge_factor(edges, width_ln: float) -> int:
    """Number of adjacent bins of ``edges`` (equal in ln) to merge for a drawn width nearest
    ``width_ln`` in ln [1] (at least 1)."""
    w = float(np.mean(np.diff(np.log(np.asarray(edges, float)))))
    return max(1, int(round(width_ln / w)))


@dataclass(frozen=True)
class LnHistogram:
    """A distribution per unit ln of its variable: ``edges`` (n + 1), ``density`` and its MC
    ``error`` (n) normalised to the total cross section of the stored histogram."""

    edges: np.ndarray
    density: np.ndarray
    error: np.ndarray


def clipped_merged(edges, density, error, upper: float, k: int) -> LnHistogram:
    """(1/sigma) dsigma/dln x of the stored bins ``edges`` / ``density`` / ``error`` (per unit ln x)
    ending at the kinematic maximum ``upper`` (the bin holding it ends there; any content above it,
    which the kinematics forbids, is kept in that bin), merged by ``k`` adjacent bins from the lower
    end (the last group holds the remainder).  Each drawn density is the cross section in the drawn
    bin over its own ln width divided by the total sigma; its error counts every stored bin's error
    ds_i (independent) through D_g = c_g / (W_g sigma): var D_g = [v_g (1/W_g - D_g)^2 + (V - v_g)
    D_g^2] / sigma^2, v_g the squared errors summed over the group, V over all bins."""
    edges = np.asarray(edges, float)
    width = np.diff(np.log(edges))
    content = np.asarray(density, float) * width
    var = (np.asarray(error, float) * width) ** 2
    total = float(np.sum(content))
    n = int(np.searchsorted(edges, upper, side="left"))  # bins whose lower edge is below upper
    n = min(max(n, 1), len(width))
    content = np.r_[content[:n - 1], np.sum(content[n - 1:])]
    var = np.r_[var[:n - 1], np.sum(var[n - 1:])]
    cut = np.r_[edges[:n], min(float(upper), edges[n])]
    starts = np.arange(0, n, k)
    merged_edges = np.r_[cut[starts], cut[-1]]
    w = np.diff(np.log(merged_edges))
    norm = total if total > 0 else 1.0
    d = np.add.reduceat(content, starts) / w / norm
    v_g = np.add.reduceat(var, starts)
    err = np.sqrt(v_g * (1.0 / w - d) ** 2 + (np.sum(var) - v_g) * d**2) / norm
    return LnHistogram(merged_edges, d, err)


def tau2_lambda_histogram(energy_GeV: float, mass_GeV: float, x_f_edges, dsigma_dlnx_f, error, lam_edges_cm,
                          *, pair: LeptonPair) -> LnHistogram:
    """(1/sigma) dsigma/dln lambda of the tau from a -> tau mu on ``lam_edges_cm`` [cm]
    (:func:`lfvscan.physics.taudecay.tau2_lambda_distribution`, docs/physics.md §8.3) with its MC
    error.  The distribution is d_j = sum_i s_i f_ij / sum_i s_i, s_i the cross section of stored
    x_tau bin i and f_ij its own normalised map onto the lambda bins, so its error is
    sqrt(sum_i ((f_ij - d_j) ds_i / sum s)^2) (the total's fluctuation included; bins independent)."""
    x_edges = np.asarray(x_f_edges, float)
    h = np.asarray(dsigma_dlnx_f, float)
    density = taudecay.tau2_lambda_distribution(energy_GeV, mass_GeV, x_edges, h, lam_edges_cm, pair=pair)
    width = np.diff(np.log(x_edges))
    sigma_err = np.asarray(error, float) * width / max(float(np.sum(h * width)), np.finfo(float).tiny)
    var = np.zeros(len(lam_edges_cm) - 1)
    for i in np.flatnonzero(sigma_err > 0):
        unit = np.zeros_like(h)
        unit[i] = 1.0  # bin i alone, normalised to itself: its map onto the lambda bins
        with np.errstate(invalid="ignore", divide="ignore"):
            share = taudecay.tau2_lambda_distribution(energy_GeV, mass_GeV, x_edges, unit, lam_edges_cm, pair=pair)
        if np.all(np.isfinite(share)):  # NaN: the bin lies beyond the ALP's kinematic range
            var += ((share - density) * sigma_err[i]) ** 2
    return LnHistogram(np.asarray(lam_edges_cm, float), density, np.sqrt(var))
