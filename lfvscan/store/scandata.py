"""In-memory view of a scan store, the contract between the store and post-processing.

:func:`lfvscan.store.load_scan` returns a :class:`ScanData`; yields, limits and figures consume
only this object, so they can be tested on toy data built in memory.

Layout: dimensions (target, energy, mass[, x_tau bin]).  ``status`` holds one of
:data:`PENDING`, :data:`DONE`, :data:`FAILED`, :data:`SKIPPED` (cell not requested by the config,
e.g. W at an energy only Pb is scanned at).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lfvscan.schema import DONE, FAILED, PENDING, SKIPPED, STATUS_NAMES

__all__ = ["DONE", "FAILED", "PENDING", "SKIPPED", "STATUS_NAMES", "ScanData"]


@dataclass
class ScanData:
    """Arrays of a (possibly partial) scan.  Cross sections for g = 1, in pb."""

    targets: tuple[str, ...]
    energies_GeV: np.ndarray  # (nE,)
    masses_GeV: np.ndarray  # (nM,)
    x_tau_edges: np.ndarray  # (nE, nb + 1)
    status: np.ndarray  # (nT, nE, nM) int8
    sigma_pb: np.ndarray  # (nT, nE, nM)
    sigma_err_pb: np.ndarray
    sigma_coherent_pb: np.ndarray
    sigma_incoherent_pb: np.ndarray
    dsigma_dlnx_tau_pb: np.ndarray  # (nT, nE, nM, nb)
    dsigma_dlnx_tau_err_pb: np.ndarray  # (nT, nE, nM, nb)
    closed: np.ndarray  # (nT, nE, nM) bool
    theta: float = float("nan")
    convention: str = "eq3"
    attrs: dict = field(default_factory=dict)  # config, config hash, lfvscan version, units

    def target_index(self, name: str) -> int:
        for i, t in enumerate(self.targets):
            if t.lower() == name.lower():
                return i
        raise ValueError(f"target {name!r} not in scan (has: {', '.join(self.targets)})")

    def energy_index(self, energy_GeV: float, rtol: float = 1e-9) -> int:
        idx = np.nonzero(np.isclose(self.energies_GeV, energy_GeV, rtol=rtol, atol=0))[0]
        if idx.size == 0:
            raise ValueError(
                f"energy {energy_GeV} GeV not in scan (has: {', '.join(f'{e:g}' for e in self.energies_GeV)})"
            )
        return int(idx[0])
