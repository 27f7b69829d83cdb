"""Per-cell result of the production cross section (the unit of work of a scan).

A *cell* is one (target, muon energy E [GeV], ALP mass m_a [GeV]).  The cross-section driver
(:mod:`lfvscan.xsec`) returns a :class:`CellResult`; the scan store (:mod:`lfvscan.store`) writes
exactly the fields listed in :data:`SCALAR_FIELDS` and :data:`DIST_FIELDS`.  Cross sections are
for g = 1 (sigma = g^2 sigma_hat, physics.md §7.6) in pb.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

#: scalar per-cell outputs: name -> (numpy dtype, unit)
SCALAR_FIELDS: dict[str, tuple[str, str]] = {
    "sigma_pb": ("f8", "pb"),
    "sigma_err_pb": ("f8", "pb"),
    "sigma_coherent_pb": ("f8", "pb"),
    "sigma_coherent_err_pb": ("f8", "pb"),
    "sigma_incoherent_pb": ("f8", "pb"),
    "sigma_incoherent_err_pb": ("f8", "pb"),
    "chi2_dof": ("f8", "1"),
    "Q": ("f8", "1"),
    "neval": ("i8", "1"),
    "seconds": ("f8", "s"),
    "closed": ("bool", "1"),
    "converged": ("bool", "1"),
}
#: per-bin outputs on the x_tau grid (length n_xbins)
DIST_FIELDS: dict[str, tuple[str, str]] = {
    "dsigma_dlnx_tau_pb": ("f8", "pb"),
    "dsigma_dlnx_tau_err_pb": ("f8", "pb"),
}


def x_tau_edges(energy_GeV: float, n_bins: int, m_tau: float | None = None) -> np.ndarray:
    """Fixed log grid of x_tau = E_tau / E from m_tau / E to 1 (n_bins + 1 edges).

    The grid depends only on (E, n_bins), so all masses and targets at one energy share it.
    """
    from lfvscan.physics.constants import M_TAU

    m = M_TAU if m_tau is None else m_tau
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins!r}")
    return np.geomspace(m / energy_GeV, 1.0, n_bins + 1)


@dataclass
class CellResult:
    """Result of one cell.  ``closed`` cells have every cross section exactly zero."""

    target: str
    energy_GeV: float
    mass_GeV: float
    sigma_pb: float
    sigma_err_pb: float
    sigma_coherent_pb: float
    sigma_coherent_err_pb: float
    sigma_incoherent_pb: float
    sigma_incoherent_err_pb: float
    chi2_dof: float
    Q: float
    neval: int
    seconds: float
    closed: bool
    x_tau_edges: np.ndarray
    dsigma_dlnx_tau_pb: np.ndarray
    dsigma_dlnx_tau_err_pb: np.ndarray
    theta: float = float("nan")
    convention: str = "eq3"
    #: False when the integrator stopped on its evaluation budget before reaching the requested
    #: relative error (the quoted error is then larger than requested, but still honest)
    converged: bool = True
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready dict (arrays as lists; ``meta`` copied one level deep)."""
        d = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                v = v.tolist()
            elif isinstance(v, np.generic):
                v = v.item()
            elif isinstance(v, dict):
                v = dict(v)
            d[f.name] = v
        return d
