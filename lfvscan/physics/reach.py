"""Kinematic reach of mu N -> tau N a: approximate (docs/physics.md §7.1) and exact (§7.7).

Production requires some phase-space point with t <= t_cut (the hard form-factor cut, default
1 GeV^2, docs/physics.md §7.3).  The incoming lepton has mass ``m_in`` (default the muon) and the
outgoing one ``m_out`` (default the tau); docs/physics.md writes m_mu and m_tau.

Approximation of §7.1 (nucleus infinitely heavy), the §13.6/§13.7 reference values:
t_min ~ [((m_a + m_out)^2 - m_in^2) / (2E)]^2 and

* :func:`t_min_GeV2` - that t_min,
* :func:`max_mass_approx_GeV` - m_a^max = sqrt(2 E sqrt(t_cut) + m_in^2) - m_out,
* :func:`threshold_energy_GeV` - E_thr = [(m_a + m_out)^2 - m_in^2] / (2 sqrt(t_cut)).

Exact, with the finite nucleus mass of the target (§7.7; forward threshold kinematics of
:func:`lfvscan.physics.kinematics.t_min_exact`), used to decide which cells are integrated:

* :func:`max_mass_exact_GeV` - largest m_a with t_min_exact(E, m_a + m_out) <= t_cut,
* :func:`is_open` - whether a cell (target, E, m_a) has phase space with t < t_cut.

Units: GeV, GeV^2.
"""

from __future__ import annotations

import numpy as np

from lfvscan.physics import kinematics
from lfvscan.physics.constants import M_MU, M_TAU
from lfvscan.physics.formfactors import DEFAULT_FF, FormFactorParams
from lfvscan.physics.targets import get_target
from lfvscan.util.validate import positive

#: hard cut on t [GeV^2] (docs/physics.md §7.3): the form factors' cut, defined in lfvscan.physics.formfactors
DEFAULT_T_CUT_GEV2 = DEFAULT_FF.t_cut_GeV2


# ------------------------------------------------------------------------- M -> infinity (§7.1)

def t_min_GeV2(energy_GeV, m_a, *, m_in: float = M_MU, m_out: float = M_TAU):
    """t_min ~ [((m_a + m_out)^2 - m_in^2) / (2E)]^2  [GeV^2] (docs/physics.md §7.1, M -> infinity).

    ``energy_GeV`` beam energy E, ``m_a`` ALP mass, ``m_in`` / ``m_out`` incoming / outgoing lepton
    masses (default muon / tau), all GeV.
    """
    E = positive("energy_GeV", energy_GeV)
    m_a = positive("m_a", m_a)
    return (((m_a + m_out) ** 2 - m_in**2) / (2.0 * E)) ** 2


def max_mass_approx_GeV(energy_GeV, t_cut: float = DEFAULT_T_CUT_GEV2, *, m_in: float = M_MU,
                        m_out: float = M_TAU):
    """Largest ALP mass [GeV] with t_min <= t_cut: sqrt(2E sqrt(t_cut) + m_in^2) - m_out (§7.1).

    The M -> infinity approximation (§13.7 numbers); :func:`max_mass_exact_GeV` is the exact
    reach.  ``t_cut`` [GeV^2]; lepton masses [GeV] as in :func:`t_min_GeV2`.  May be <= 0 for
    beams below threshold (then no ALP can be produced).
    """
    E = positive("energy_GeV", energy_GeV)
    t_cut = float(positive("t_cut", t_cut))
    return np.sqrt(2.0 * E * np.sqrt(t_cut) + m_in**2) - m_out



def threshold_energy_GeV(m_a, t_cut: float = DEFAULT_T_CUT_GEV2, *, m_in: float = M_MU, m_out: float = M_TAU):
    """Smallest beam energy [GeV] with t_min <= t_cut: [(m_a + m_out)^2 - m_in^2] / (2 sqrt(t_cut)) (§7.1).

    ``m_a`` [GeV], ``t_cut`` [GeV^2]; lepton masses [GeV] as in :func:`t_min_GeV2`.
    """
    m_a = positive("m_a", m_a)
    t_cut = float(positive("t_cut", t_cut))
    return ((m_a + m_out) ** 2 - m_in**2) / (2.0 * np.sqrt(t_cut))


# ------------------------------------------------------------------- exact, finite M (§7.7)

def max_mass_exact_GeV(energy_GeV, target, ff: FormFactorParams = DEFAULT_FF, *, m_in: float = M_MU,
                       m_out: float = M_TAU) -> float:
    """Largest ALP mass [GeV] that can be produced with t <= t_cut at beam energy E (exact, §7.7).

    Forward threshold kinematics with the finite nucleus mass M of ``target``,
    :func:`lfvscan.physics.kinematics.max_mass_exact`: (m_a + m_out)^2 = m_in^2 - t_cut (1 + E/M)
    + 2 |p| |q|(t_cut).  It lies slightly below the M -> inf estimate :func:`max_mass_approx_GeV`
    (16.06 vs 16.11 GeV at 160 GeV on Pb).  Returns 0.0 when nothing can be produced.
    """
    E = float(positive("energy_GeV", energy_GeV))
    tgt = get_target(target)
    return float(max(kinematics.max_mass_exact(E, tgt.M, ff.t_cut_GeV2, m_in=m_in, m_out=m_out), 0.0))


def is_open(target, energy_GeV, mass_GeV, ff: FormFactorParams = DEFAULT_FF, *, m_in: float = M_MU,
            m_out: float = M_TAU) -> bool:
    """True when some phase-space point has t_lo < t_cut with E_out >= m_out (exact, §7.7).

    The minimum of t_lo over the 2 -> 3 phase space is the forward threshold value
    ``t_min_exact(E, m_a + m_out)`` (§7.7); the cell is open iff it is below t_cut.  Beam energy
    ``energy_GeV``, ALP mass ``mass_GeV`` and lepton masses ``m_in`` / ``m_out`` in GeV.
    """
    E = float(positive("energy_GeV", energy_GeV))
    m = float(positive("mass_GeV", mass_GeV))
    tgt = get_target(target)
    tmin = kinematics.t_min_exact(E, m + m_out, tgt.M, m_in=m_in)
    return bool(np.isfinite(tmin) and tmin < ff.t_cut_GeV2)
