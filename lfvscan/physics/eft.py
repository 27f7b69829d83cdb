"""The ALP EFT scale: the coupling g of a limit read as C/Lambda (docs/physics.md §2.7).

The derivative Lagrangian of Eq. (1) with one flavour-violating entry, V = C sin(Theta),
A = C cos(Theta), gives the Yukawas (docs/physics.md §2.2)

    g_S = C (m_heavy - m_light) sin(Theta) / Lambda,   g_P = C (m_heavy + m_light) cos(Theta) / Lambda,

so that the effective coupling g_eff = sqrt(g_S^2 + g_P^2) is

    g_eff = (C / Lambda) M(Theta),   M(Theta) = sqrt(m_i^2 + m_f^2 + 2 m_i m_f cos(2 Theta))  [GeV].

Two readings of a limit on g (:data:`EFT_CONVENTIONS`):

* ``"exact"`` (the thesis's convention, rmarcarelli/thesis ``phys/scalar_ALP_EFT.py`` ALP_to_scalar,
  chapter 5): M(Theta) with the exact lepton masses of the physics preset;
* ``"eq3"`` (paper Eq. (3), m_light -> 0): M = m_heavy, i.e. g = C m_tau / Lambda.

At Theta = 0 (pure pseudoscalar) M = m_tau + m_mu, so the same g limit gives a C/Lambda limit that is
(m_tau + m_mu) / m_tau - 1 = 5.95 % weaker in the ``"eq3"`` reading (0.03 % for e -> tau).
"""

from __future__ import annotations

import math

import numpy as np

from lfvscan.physics.couplings import yukawas
from lfvscan.physics.leptons import LeptonPair

#: readings of g as C/Lambda: exact lepton masses (the thesis) or the Eq. (3) limit m_light -> 0
EFT_CONVENTIONS = ("exact", "eq3")


def eft_mass_GeV(theta, pair: LeptonPair, eft_convention: str):
    """M(Theta) [GeV] of g_eff = (C/Lambda) M(Theta) (docs/physics.md §2.7): ``"exact"``
    sqrt(m_i^2 + m_f^2 + 2 m_i m_f cos 2Theta) with the masses of ``pair``; ``"eq3"`` m_heavy
    (independent of Theta).  ``theta`` [rad], vectorised; ValueError naming an unknown convention."""
    if eft_convention not in EFT_CONVENTIONS:
        raise ValueError(f"unknown EFT convention {eft_convention!r} (known: {', '.join(EFT_CONVENTIONS)})")
    theta = np.asarray(theta, dtype=float)
    m_h, m_l = pair.heavy.mass, pair.light.mass
    if eft_convention == "eq3":
        return np.full_like(theta, m_h)
    return np.sqrt(m_h**2 + m_l**2 + 2.0 * m_h * m_l * np.cos(2.0 * theta))


def g_eff_per_g(theta: float, convention: str, pair: LeptonPair) -> float:
    """g_eff / g = sqrt(g_S^2 + g_P^2) at g = 1 for the coupling ``convention`` ("eq3": 1; "eq2":
    M(Theta) / m_heavy), docs/physics.md §2.4."""
    g_S, g_P = yukawas(1.0, theta, convention, pair=pair)
    return math.hypot(float(g_S), float(g_P))


def eft_theta(theta: float, convention: str, pair: LeptonPair) -> float:
    """The EFT angle Theta = atan(V/A) [rad] whose Yukawas have the ratio g_S / g_P of the coupling
    ``convention`` at ``theta`` (docs/physics.md §2.7): tan Theta = [g_S / (m_h - m_l)] / [g_P / (m_h + m_l)].
    In "eq2" Theta = theta; in "eq3" tan Theta = tan(theta) (m_h + m_l) / (m_h - m_l) (theta = pi/4 is
    Theta = 48.4 deg for tau mu).  pi/2 when m_h = m_l and g_S != 0 (no V/A ratio gives it: its C/Lambda
    is infinite)."""
    g_S, g_P = (float(v) for v in yukawas(1.0, theta, convention, pair=pair))
    m_h, m_l = pair.heavy.mass, pair.light.mass
    s = 0.0 if g_S == 0.0 else (math.copysign(math.inf, g_S) if m_h == m_l else g_S / (m_h - m_l))
    return math.atan2(s, g_P / (m_h + m_l))


def c_over_lambda_per_g(theta: float, convention: str, pair: LeptonPair, eft_convention: str) -> float:
    """(C/Lambda) / g [GeV^-1]: the factor turning a limit on the coupling g of ``convention`` at
    ``theta`` [rad] into a limit on C/Lambda in ``eft_convention`` (docs/physics.md §2.7):
    g_eff_per_g / M(Theta) at the EFT angle Theta of :func:`eft_theta`, i.e.
    sqrt([g_S / (m_h - m_l)]^2 + [g_P / (m_h + m_l)]^2) per unit g in ``"exact"``; g_eff_per_g / m_heavy in ``"eq3"``."""
    m = float(eft_mass_GeV(eft_theta(theta, convention, pair), pair, eft_convention))
    return math.inf if m == 0.0 else g_eff_per_g(theta, convention, pair) / m
