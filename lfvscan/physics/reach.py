"""Kinematic reach of mu N -> tau N a: approximate (docs/physics.md §7.1) and exact (§7.7).

Production requires some phase-space point with t <= t_cut (the hard form-factor cut, default
1 GeV^2, docs/physics.md §7.3).  Every function takes the
:class:`~lfvscan.physics.leptons.LeptonPair` ``pair``: the beam lepton of mass m_beam = ``pair.beam.mass``
and the final one of mass m_final = ``pair.final.mass`` (docs/physics.md writes m_mu and m_tau).

Approximation of §7.1 (nucleus infinitely heavy), the §13.6/§13.7 reference values:
t_min ~ [((m_a + m_final)^2 - m_beam^2) / (2E)]^2 and

* :func:`t_min_GeV2` - that t_min,
* :func:`max_mass_approx_GeV` - m_a^max = sqrt(2 E sqrt(t_cut) + m_beam^2) - m_final,
* :func:`threshold_energy_GeV` - E_thr = [(m_a + m_final)^2 - m_beam^2] / (2 sqrt(t_cut)).

Exact, with the finite nucleus mass of the target (§7.7; forward threshold kinematics of
:func:`lfvscan.physics.kinematics.t_min_exact`), used to decide which cells are integrated:

* :func:`max_mass_exact_GeV` - largest m_a with t_min_exact(E, m_a + m_final) <= t_cut,
* :func:`is_open` - whether a cell (target, E, m_a) has phase space with t < t_cut.

Units: GeV, GeV^2.
"""

from __future__ import annotations

import numpy as np

from lfvscan.physics import kinematics
from lfvscan.physics.formfactors import DEFAULT_FF, FormFactorParams
from lfvscan.physics.leptons import LeptonPair
from lfvscan.physics.targets import get_target
from lfvscan.util.validate import positive

#: hard cut on t [GeV^2] (docs/physics.md §7.3): the form factors' cut, defined in lfvscan.physics.formfactors
DEFAULT_T_CUT_GEV2 = DEFAULT_FF.t_cut_GeV2


# ------------------------------------------------------------------------- M -> infinity (§7.1)

def t_min_GeV2(energy_GeV, m_a, *, pair: LeptonPair):
    """t_min ~ [((m_a + m_final)^2 - m_beam^2) / (2E)]^2  [GeV^2] (docs/physics.md §7.1, M -> infinity).

    ``energy_GeV`` beam energy E, ``m_a`` ALP mass, all GeV; lepton masses from ``pair``.
    """
    E = positive("energy_GeV", energy_GeV)
    m_a = positive("m_a", m_a)
    m_beam, m_final = pair.beam.mass, pair.final.mass
    return (((m_a + m_final) ** 2 - m_beam**2) / (2.0 * E)) ** 2


def max_mass_approx_GeV(energy_GeV, t_cut: float = DEFAULT_T_CUT_GEV2, *, pair: LeptonPair):
    """Largest ALP mass [GeV] with t_min <= t_cut: sqrt(2E sqrt(t_cut) + m_beam^2) - m_final (§7.1).

    The M -> infinity approximation (§13.7 numbers); :func:`max_mass_exact_GeV` is the exact
    reach.  ``t_cut`` [GeV^2]; lepton masses from ``pair``.  May be <= 0 for beams below
    threshold (then no ALP can be produced).
    """
    E = positive("energy_GeV", energy_GeV)
    t_cut = float(positive("t_cut", t_cut))
    return np.sqrt(2.0 * E * np.sqrt(t_cut) + pair.beam.mass**2) - pair.final.mass


def threshold_energy_GeV(m_a, t_cut: float = DEFAULT_T_CUT_GEV2, *, pair: LeptonPair):
    """Smallest beam energy [GeV] with t_min <= t_cut: [(m_a + m_final)^2 - m_beam^2] / (2 sqrt(t_cut)) (§7.1).

    ``m_a`` [GeV], ``t_cut`` [GeV^2]; lepton masses from ``pair``.
    """
    m_a = positive("m_a", m_a)
    t_cut = float(positive("t_cut", t_cut))
    return ((m_a + pair.final.mass) ** 2 - pair.beam.mass**2) / (2.0 * np.sqrt(t_cut))


# ------------------------------------------------------------------- exact, finite M (§7.7)

def max_mass_exact_GeV(energy_GeV, target, ff: FormFactorParams = DEFAULT_FF, *, pair: LeptonPair) -> float:
    """Largest ALP mass [GeV] that can be produced with t <= t_cut at beam energy E (exact, §7.7).

    Forward threshold kinematics with the finite nucleus mass M of ``target``,
    :func:`lfvscan.physics.kinematics.max_mass_exact`: (m_a + m_final)^2 = m_beam^2 - t_cut (1 + E/M)
    + 2 |p| |q|(t_cut).  It lies slightly below the M -> inf estimate :func:`max_mass_approx_GeV`
    (16.06 vs 16.11 GeV at 160 GeV on Pb).  Returns 0.0 when nothing can be produced.
    """
    E = float(positive("energy_GeV", energy_GeV))
    tgt = get_target(target)
    return float(max(kinematics.max_mass_exact(E, tgt.M, ff.t_cut_GeV2, m_beam=pair.beam.mass,
                                                    m_final=pair.final.mass), 0.0))


def is_open(target, energy_GeV, mass_GeV, ff: FormFactorParams = DEFAULT_FF, *, pair: LeptonPair) -> bool:
    """True when some phase-space point has t_lo < t_cut with E_out >= m_final (exact, §7.7).

    The minimum of t_lo over the 2 -> 3 phase space is the forward threshold value
    ``t_min_exact(E, m_a + m_final)`` (§7.7); the cell is open iff it is below t_cut.  Beam energy
    ``energy_GeV`` and ALP mass ``mass_GeV`` in GeV; lepton masses from ``pair``.
    """
    E = float(positive("energy_GeV", energy_GeV))
    m = float(positive("mass_GeV", mass_GeV))
    tgt = get_target(target)
    tmin = kinematics.t_min_exact(E, m + pair.final.mass, tgt.M, m_beam=pair.beam.mass)
    return bool(np.isfinite(tmin) and tmin < ff.t_cut_GeV2)
