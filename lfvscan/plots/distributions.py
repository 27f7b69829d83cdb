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
    bin over its own ln width; errors of merged bins add in quadrature."""
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
    merged_content = np.add.reduceat(content, starts)
    merged_err = np.sqrt(np.add.reduceat(var, starts))
    w = np.diff(np.log(merged_edges))
    norm = total if total > 0 else 1.0
    return LnHistogram(merged_edges, merged_content / w / norm, merged_err / w / norm)
