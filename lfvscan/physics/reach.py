"""Approximate kinematic reach of mu N -> tau N a (physics.md §7.1).

With the nucleus infinitely heavy, the minimum momentum transfer is
t_min ~ [((m_a + m_tau)^2 - m_mu^2) / (2E)]^2, and with the hard form-factor cut t <= t_cut
(default 1 GeV^2, physics.md §7.3) production requires t_min <= t_cut:

* :func:`max_mass_GeV` - m_a^max = sqrt(2 E sqrt(t_cut) + m_mu^2) - m_tau,
* :func:`threshold_energy_GeV` - E_thr = [(m_a + m_tau)^2 - m_mu^2] / (2 sqrt(t_cut)).

These are the closed-form approximations of §7.1 (§13.6/§13.7 reference values); the exact
bounds with a finite nucleus mass belong to the cross-section module.  Units: GeV, GeV^2.
"""

from __future__ import annotations

import numpy as np

from lfvscan.physics.constants import M_MU, M_TAU
from lfvscan.physics.formfactors import DEFAULT_FF
from lfvscan.util.validate import positive

#: hard cut on t [GeV^2] (physics.md §7.3): the form factors' cut, defined in lfvscan.formfactors
DEFAULT_T_CUT_GEV2 = DEFAULT_FF.t_cut_GeV2


def t_min_GeV2(energy_GeV, m_a):
    """t_min ~ [((m_a + m_tau)^2 - m_mu^2) / (2E)]^2  [GeV^2] (physics.md §7.1, M -> infinity)."""
    E = positive("energy_GeV", energy_GeV)
    m_a = positive("m_a", m_a)
    return (((m_a + M_TAU) ** 2 - M_MU**2) / (2.0 * E)) ** 2


def max_mass_GeV(energy_GeV, t_cut: float = DEFAULT_T_CUT_GEV2):
    """Largest ALP mass [GeV] with t_min <= t_cut: sqrt(2E sqrt(t_cut) + m_mu^2) - m_tau (§7.1).

    May be <= 0 for beams below threshold (then no ALP can be produced).
    """
    E = positive("energy_GeV", energy_GeV)
    t_cut = float(positive("t_cut", t_cut))
    return np.sqrt(2.0 * E * np.sqrt(t_cut) + M_MU**2) - M_TAU


def threshold_energy_GeV(m_a, t_cut: float = DEFAULT_T_CUT_GEV2):
    """Smallest beam energy [GeV] with t_min <= t_cut: [(m_a + m_tau)^2 - m_mu^2] / (2 sqrt(t_cut)) (§7.1)."""
    m_a = positive("m_a", m_a)
    t_cut = float(positive("t_cut", t_cut))
    return ((m_a + M_TAU) ** 2 - M_MU**2) / (2.0 * np.sqrt(t_cut))
