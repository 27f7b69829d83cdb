"""Coupling conventions of the LFV ALP model (docs/physics.md §2).

The model Lagrangian is written as ``L = -i a tau_bar (g_S + g_P gamma5) mu + h.c.`` with real
scalar/pseudoscalar Yukawas.  Two conventions relate (g_S, g_P) to the paper's (g, theta):

* ``"eq3"`` (default; paper Eq. (3), m_mu -> 0):   g_S = g sin(theta),            g_P = g cos(theta)
* ``"eq2"`` (paper Eq. (2), exact masses):         g_S = g (1 - r) sin(theta),    g_P = g (1 + r) cos(theta)

with r = m_mu / m_tau (for another lepton pair: lighter over heavier mass, ``pair.r`` of the
:class:`~lfvscan.physics.leptons.LeptonPair` that :func:`yukawas` takes).  theta = 0 is the pure pseudoscalar ("standard ALP"), theta = pi/2 the
pure scalar (maximal positive Delta a_mu), theta = pi/4 the chiral coupling.  The choice of
default is docs/physics.md §2.4 / §14 item 1-2 ([U]): the paper's limits are theta-independent, which
holds exactly only with Eq. (3).
"""

from __future__ import annotations

import math

import numpy as np

from lfvscan.physics.leptons import LeptonPair

CONVENTIONS = ("eq3", "eq2")
DEFAULT_CONVENTION = "eq3"
#: default theta for production cross sections and limits (docs/physics.md §7.6, [U], harmless)
DEFAULT_THETA = math.pi / 4


def check_convention(convention: str) -> str:
    """Return ``convention`` if known, else raise ``ValueError`` naming it."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown coupling convention {convention!r} (known: {', '.join(CONVENTIONS)})")
    return convention


def check_family_convention(boson: str, convention: str) -> None:
    """ValueError naming ``convention`` if it is not the default for the vector family: the
    ``"eq2"``/``"eq3"`` choice relates (g_S, g_P) to (g, theta) for the scalar family only; the vector
    family has the one convention of :func:`vector_axial` (docs/physics.md §7.14)."""
    if boson == "vector" and convention != DEFAULT_CONVENTION:
        raise ValueError(f"convention {convention!r}: the eq2/eq3 coupling conventions are the scalar family's; "
                         f"the vector family has one, (g_V, g_A) = g (sin theta, cos theta) (docs/physics.md §7.14)")


def yukawas(g, theta, convention: str = DEFAULT_CONVENTION, *, pair: LeptonPair):
    """Scalar and pseudoscalar Yukawas (g_S, g_P) for coupling ``g`` and angle ``theta`` [rad].

    docs/physics.md §2.4 table: ``"eq3"`` g_S = g sin(theta), g_P = g cos(theta); ``"eq2"``
    g_S = g (1 - r) sin(theta), g_P = g (1 + r) cos(theta) with r = ``pair.r``, the mass of the
    lighter over that of the heavier lepton of ``pair`` (unused in ``"eq3"``).  Vectorised over
    ``g`` and ``theta``.
    """
    check_convention(convention)
    g = np.asarray(g, dtype=float)
    theta = np.asarray(theta, dtype=float)
    if convention == "eq3":
        return g * np.sin(theta), g * np.cos(theta)
    r = pair.r
    return g * (1.0 - r) * np.sin(theta), g * (1.0 + r) * np.cos(theta)


def g_eff_sq(g_S, g_P):
    """g_eff^2 = g_S^2 + g_P^2 (docs/physics.md §2.4)."""
    return np.asarray(g_S) ** 2 + np.asarray(g_P) ** 2


def delta_m(m_a, g_S, g_P, m_final: float, m_beam: float):
    """Delta_m = g_S^2 [m_a^2 - (m_final+m_beam)^2] + g_P^2 [m_a^2 - (m_final-m_beam)^2]  [GeV^2]
    (docs/physics.md §7.4).

    ``m_a`` ALP mass, ``m_final``, ``m_beam`` the two lepton masses [GeV] (symmetric in them; the
    m_mu -> 0 forms pass ``m_beam = 0``).  Also the bracket of the two-body width (§3.1) and of
    Eq. (13) (§5.1).
    """
    m_a = np.asarray(m_a, dtype=float)
    return g_S**2 * (m_a**2 - (m_final + m_beam) ** 2) + g_P**2 * (m_a**2 - (m_final - m_beam) ** 2)


def vector_axial(g, theta):
    """Vector and axial couplings (g_V, g_A) = (g sin(theta), g cos(theta)) of a spin-1 boson X
    (docs/physics.md §7.14).

    Lagrangian ``L = g X_mu lbar_f gamma^mu (sin(theta) + cos(theta) gamma5) l_i + h.c.``: theta = pi/2
    is the pure vector, theta = 0 the pure axial vector, so that theta plays the role it has for the
    scalar family (pi/2 pure scalar, 0 pure pseudoscalar, §2.4).  The thesis (rmarcarelli/thesis,
    ch. 4) writes ``gamma^mu (cos(PV_angle) + gamma5 sin(PV_angle))``: theta = pi/2 - PV_angle, the
    same g.  One convention only (the ``"eq2"``/``"eq3"`` choice is the scalar family's).
    Vectorised over ``g`` and ``theta`` [rad].
    """
    g = np.asarray(g, dtype=float)
    theta = np.asarray(theta, dtype=float)
    return g * np.sin(theta), g * np.cos(theta)


def vector_part_weights(theta):
    """(g_V^2, g_A^2) = (sin^2(theta), cos^2(theta)) for g = 1 (docs/physics.md §7.14): the coefficients
    of the vector and axial parts, sigma(theta) = g^2 [g_V^2 sigma_V + g_A^2 sigma_A] (no V-A
    interference), the spin-1 analogue of the scalar family's (g_S^2, g_P^2)."""
    g_V, g_A = vector_axial(1.0, theta)
    return float(g_V) ** 2, float(g_A) ** 2
