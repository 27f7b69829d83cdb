"""Lepton-ion colliders: a nucleus beam meeting the lepton beam head on (docs/physics.md §7.15).

A :class:`~lfvscan.physics.targets.Target` with ``nucleus_energy_per_nucleon_GeV`` set is a nucleus
*beam*: the nucleus moves along -z with energy ``E_N = A E_per_nucleon`` (A the mass number), the lepton
beam along +z with its lab energy ``E_l``.  The cross section is computed in the nucleus rest frame,
where the lepton has the energy

    E = gamma (E_l + beta p_l),    gamma = E_N / M,   beta = sqrt(1 - 1/gamma^2),   p_l = sqrt(E_l^2 - m_l^2),

with M the nucleus mass of the cross section itself (``Target.M`` after the physics preset,
``PhysicsPreset.target``), so that the boost and the integrand use one M.  A beam ion is fully
stripped: its form factors carry no atomic screening (``FormFactorParams.atomic_screening = False``).
Lab pseudorapidities are positive in the lepton beam's direction (+z); the ePIC convention (the
hadron beam along +z) is its mirror image, ``eta -> -eta``.
"""

from __future__ import annotations

import math

from lfvscan.physics.targets import Target


def is_collider(target: Target) -> bool:
    """True for a nucleus beam (``nucleus_energy_per_nucleon_GeV`` set), False for a fixed target."""
    return target.nucleus_energy_per_nucleon_GeV is not None


def boost(target: Target) -> tuple[float, float]:
    """(gamma, beta) of the nucleus beam in the lab [dimensionless]: ``gamma = A E_per_nucleon / M``;
    (1, 0) for a fixed target.  ValueError naming the energy if the beam energy is below M (gamma < 1)."""
    if not is_collider(target):
        return 1.0, 0.0
    e_nucleus = target.A * float(target.nucleus_energy_per_nucleon_GeV)
    gamma = e_nucleus / target.M
    if not gamma >= 1.0:
        raise ValueError(f"target {target.name!r}: nucleus_energy_per_nucleon_GeV = "
                         f"{target.nucleus_energy_per_nucleon_GeV!r} gives a nucleus energy {e_nucleus:.6g} GeV below "
                         f"its mass M = {target.M:.6g} GeV")
    # 1 - beta = 1 / (gamma^2 (1 + beta)) keeps the digits of beta near 1
    beta = math.sqrt((gamma - 1.0) * (gamma + 1.0)) / gamma
    return gamma, beta


def nucleus_frame_energy(energy_GeV: float, m_lepton: float, target: Target) -> float:
    """Lepton energy [GeV] in the nucleus rest frame, ``gamma (E_l + beta p_l)`` (module docstring);
    ``energy_GeV`` itself for a fixed target (bit for bit)."""
    if not is_collider(target):
        return float(energy_GeV)
    gamma, beta = boost(target)
    E = float(energy_GeV)
    p = math.sqrt(max((E - m_lepton) * (E + m_lepton), 0.0))
    return gamma * (E + beta * p)


def describe_energy(energy_GeV: float, m_lepton: float, target: Target) -> str:
    """``"E = 18 GeV"`` for a fixed target; for a collider both energies, ``"lab E = 18 GeV (nucleus-frame
    E = 4251.2 GeV)"`` (what validity errors print)."""
    if not is_collider(target):
        return f"E = {energy_GeV:g} GeV"
    return (f"lab lepton energy {energy_GeV:g} GeV (nucleus-frame E = "
            f"{nucleus_frame_energy(energy_GeV, m_lepton, target):.6g} GeV at "
            f"{target.nucleus_energy_per_nucleon_GeV:g} GeV/nucleon)")
