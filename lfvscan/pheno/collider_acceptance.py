"""Accepted cross sections at a collider detector from the lab-frame histograms of a scan
(docs/physics.md §7.16): sigma(|eta| < eta_max, E > E_min) of the final lepton or the boson.

The histograms hold the cross section per (pseudorapidity, lab energy) bin [pb] on the fixed grid of
:mod:`lfvscan.xsec.labframe`.  The accepted cross section is ``sum_b w_b h_b`` with the acceptance
weight ``w_b`` of each bin (:func:`acceptance_weights`):

* pseudorapidity: ``eta_max`` must be an edge of :data:`~lfvscan.xsec.labframe.LAB_ETA_EDGES` whose
  negative is one too (3, 3.5, 4, 5, 6, 7, 8, 10, or infinity: no cut), so the cut takes whole bins;
* energy: a threshold on a bin edge takes whole bins; inside a bin [E_lo, E_hi] the bin counts with
  the fraction ``ln(E_hi / E_min) / ln(E_hi / E_lo)`` of its width (the density taken flat in ln E
  within the bin, a documented interpolation; below the first finite edge, where the bin starts at 0,
  flat in E); a threshold in the last, open-ended bin is refused (nothing to interpolate on).

Errors: the bins of one cell are estimated from the same vegas points, so the error of a sum of bins
is not their quadrature sum.  The driver accumulates the exact MC variance of every acceptance set
{|eta| < cut, E >= lower edge of an energy bin} (``<particle>_accepted_err_pb``), which is quoted for a
threshold on an edge; inside a bin the accepted cross section is ``(1 - f) sigma(set above the bin) +
f sigma(set with the bin)`` (f the kept fraction of the bin), whose error is at most ``(1 - f) err_above
+ f err_with`` (triangle inequality), which is quoted.
"""

from __future__ import annotations

import math

import numpy as np

from lfvscan.store.scandata import ScanData
from lfvscan.xsec.labframe import ACC_ETA_CUTS, LAB_ETA_EDGES, LAB_PARTICLES, LAB_X_EDGES, LabDistributions

#: the |eta| cuts the grid resolves exactly (an edge whose negative is an edge too)
ETA_CUTS = tuple(float(e) for e in ACC_ETA_CUTS)


def _eta_weights(eta_max: float) -> np.ndarray:
    """1 for the pseudorapidity bins inside |eta| < eta_max, 0 outside (ValueError naming eta_max if it
    is not one of :data:`ETA_CUTS`)."""
    eta_max = float(eta_max)
    if eta_max not in ETA_CUTS:
        raise ValueError(f"eta_max = {eta_max!r} is not a pseudorapidity cut of the lab grid "
                         f"(one of {', '.join(f'{e:g}' for e in ETA_CUTS)})")
    return ((LAB_ETA_EDGES[:-1] >= -eta_max) & (LAB_ETA_EDGES[1:] <= eta_max)).astype(float)


def _energy_weights(x_min: float) -> np.ndarray:
    """Fraction of each energy bin (in units of the beam energy) above ``x_min`` (module docstring)."""
    lo, hi = LAB_X_EDGES[:-1], LAB_X_EDGES[1:]
    if not (math.isfinite(x_min) and x_min >= 0.0):
        raise ValueError(f"energy threshold / beam energy = {x_min!r} must be finite and >= 0")
    if x_min > lo[-1] * (1.0 + 1e-12):
        raise ValueError(f"energy threshold {x_min:g} x the beam energy lies in the open-ended last energy bin "
                         f"(above {lo[-1]:.6g} x the beam energy): no interpolation there")
    w = np.where(lo >= x_min * (1.0 - 1e-12), 1.0, 0.0)
    inside = (lo < x_min * (1.0 - 1e-12)) & (x_min < hi * (1.0 - 1e-12))
    for b in np.flatnonzero(inside):
        w[b] = (hi[b] - x_min) / hi[b] if lo[b] == 0.0 else math.log(hi[b] / x_min) / math.log(hi[b] / lo[b])
    return w


def acceptance_weights(eta_max: float, energy_min_GeV: float, beam_energy_GeV: float) -> np.ndarray:
    """The acceptance weight of each lab bin (``N_LAB_BINS``, pseudorapidity-major) for |eta| < eta_max
    and E > energy_min_GeV [GeV] at the lepton beam's lab energy ``beam_energy_GeV`` (module docstring)."""
    return np.outer(_eta_weights(eta_max), _energy_weights(float(energy_min_GeV) / float(beam_energy_GeV))).ravel()


def _accepted_error(acc_err: np.ndarray, eta_max: float, x_min: float) -> np.ndarray:
    """The error of the accepted cross section from the acceptance sets' errors ``acc_err`` (...,
    N_LAB_ACC): exact for a threshold on an edge, the convex bound inside a bin (module docstring)."""
    nx = len(LAB_X_EDGES) - 1
    err = acc_err.reshape(acc_err.shape[:-1] + (len(ACC_ETA_CUTS), nx))[..., ETA_CUTS.index(float(eta_max)), :]
    w = _energy_weights(x_min)
    full = np.flatnonzero(w == 1.0)
    j_full = int(full[0]) if full.size else nx
    part = np.flatnonzero((w > 0.0) & (w < 1.0))
    if part.size == 0:
        return err[..., j_full] if j_full < nx else np.zeros(err.shape[:-1])
    f = w[part[0]]
    above = err[..., j_full] if j_full < nx else 0.0
    return (1.0 - f) * above + f * err[..., part[0]]


def _check_particle(particle: str) -> None:
    if particle not in LAB_PARTICLES:
        raise ValueError(f"particle {particle!r}: the lab histograms are of {' and '.join(LAB_PARTICLES)}")


def accepted_sigma(lab: LabDistributions, particle: str, eta_max: float, energy_min_GeV: float = 0.0
                   ) -> tuple[float, float]:
    """(sigma, error) [pb] of one cell with the ``particle``'s (``"lepton"`` or ``"boson"``) |eta| <
    eta_max and lab energy > energy_min_GeV (module docstring), for g = 1 at the cell's couplings."""
    _check_particle(particle)
    w = acceptance_weights(eta_max, energy_min_GeV, lab.beam_energy_GeV)
    err = _accepted_error(getattr(lab, f"{particle}_accepted_err_pb"), eta_max,
                          float(energy_min_GeV) / lab.beam_energy_GeV)
    return float(getattr(lab, f"{particle}_pb") @ w), float(err)


def accepted_cross_sections(scan: ScanData, target: str, energy_GeV: float, particle: str, eta_max: float,
                            energy_min_GeV: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(sigma, error) [pb] over the scan's masses, for g = 1 at the scan's couplings, of the cells of
    ``target`` (a nucleus beam) at the lepton lab energy ``energy_GeV``, with the acceptance of
    :func:`accepted_sigma`.  NaN for cells not computed; ValueError naming the target if the scan has no
    lab histograms for it (a fixed target, or a store without collider targets)."""
    _check_particle(particle)
    i, j = scan.target_index(target), scan.energy_index(energy_GeV)
    name = f"lab_{particle}_pb"
    if name not in scan or np.all(np.isnan(scan[name][i, j])):
        raise ValueError(f"the scan has no lab-frame histograms for target {target!r} at {energy_GeV:g} GeV "
                         f"(only collider targets have them, docs/physics.md §7.16)")
    E_beam = float(scan.energies_GeV[j])
    w = acceptance_weights(eta_max, energy_min_GeV, E_beam)
    err = _accepted_error(scan[f"lab_{particle}_accepted_err_pb"][i, j], eta_max, float(energy_min_GeV) / E_beam)
    return scan[name][i, j] @ w, err
