"""Spin-averaged squared amplitude of mu N -> tau N a (docs/physics.md §7.4, §7.6).

``|M|^2 (spin-averaged) = e^4 F^2(t) / t^2 * A(s, u, t)``; this module gives ``A`` [GeV^2] for
Yukawas ``g_eff^2 = g_S^2 + g_P^2`` and ``Delta_m`` (:func:`lfvscan.physics.couplings.delta_m`), both
directly (§7.4) and averaged in closed form over the azimuth ``phi_q`` of the momentum transfer
(§7.6).  Pure, vectorised numpy functions of arrays; GeV units.  The lepton masses enter only
through the invariants (``s = (p' + k)^2 - m_beam^2``, ``u = (p - k)^2 - m_final^2``, from
:mod:`lfvscan.physics.kinematics`) and ``Delta_m``, which the caller computes for its lepton pair.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def amplitude(s, u, t, E, E_a, M, g_eff2, dm, E_minus_Ea=None):
    """A(s, u, t) of docs/physics.md §7.4 [GeV^2].

    ``A = g_eff^2 [(s+u)^2/(s u) P^2 - 4 t (P.k)^2/(s u)]
    + Delta_m (s+u)^2/(s^2 u^2) [P^2 t - 4 ((u P.p + s P.p')/(s+u))^2]`` with
    ``P^2 = 4M^2 + t``, ``P.p = 2ME - (s+t)/2``, ``P.k = 2ME_a - (s+u)/2``,
    ``P.p' = 2M(E - E_a) + (u - t)/2``.  Arguments: invariants ``s, u, t`` [GeV^2], beam and ALP
    energies ``E, E_a`` and nucleus mass ``M`` [GeV], ``g_eff2`` (dimensionless), ``dm`` [GeV^2];
    optional ``E_minus_Ea = E - E_a`` [GeV] (``W`` of docs/physics.md §7.5) passed separately to keep its
    digits when the tau is soft.
    """
    b = brackets(s, u, t, E, E_a, M, E_minus_Ea)
    return g_eff2 * b.X + dm * b.Y


class Brackets(NamedTuple):
    """The two brackets of §7.4 at one phase-space point and the invariants the spin-1 amplitude
    reuses (docs/physics.md §7.4, §7.14): ``X = [(s+u)^2 P^2 - 4 t (P.k)^2] / (s u)``,
    ``Y = [P^2 t (s+u)^2 - 4 (u P.p + s P.p')^2] / (s u)^2`` [GeV^2], ``P2 = P^2``, ``Pp = P.p``,
    ``Ppp = P.p'`` [GeV^2], ``su = s u`` [GeV^4]."""

    X: np.ndarray
    Y: np.ndarray
    P2: np.ndarray
    Pp: np.ndarray
    Ppp: np.ndarray
    su: np.ndarray


def brackets(s, u, t, E, E_a, M, E_minus_Ea=None) -> Brackets:
    """:class:`Brackets` at the invariants ``s, u, t`` [GeV^2]; other inputs as :func:`amplitude`."""
    s, u, t = (np.asarray(x, dtype=float) for x in (s, u, t))
    W = E - E_a if E_minus_Ea is None else E_minus_Ea
    P2 = 4.0 * M * M + t
    Pp = 2.0 * M * E - 0.5 * (s + t)
    Pk = 2.0 * M * E_a - 0.5 * (s + u)
    Ppp = 2.0 * M * W + 0.5 * (u - t)
    su = s * u
    X = ((s + u) ** 2 * P2 - 4.0 * t * Pk**2) / su
    Y = (P2 * t * (s + u) ** 2 - 4.0 * (u * Pp + s * Ppp) ** 2) / (su * su)
    return Brackets(X, Y, P2, Pp, Ppp, su)


def phi_moments(s0, s1):
    """I1 = <1/s>_phi = (s0^2 - s1^2)^(-1/2), I2 = <1/s^2>_phi = s0 (s0^2 - s1^2)^(-3/2) (§7.6)."""
    s0 = np.asarray(s0, dtype=float)
    s1 = np.abs(np.asarray(s1, dtype=float))
    I1 = 1.0 / np.sqrt((s0 - s1) * (s0 + s1))
    return I1, s0 * I1**3


def amplitude_phi_avg(s0, s1, u, t, E, E_a, M, g_eff2, dm, E_minus_Ea=None):
    """Closed-form azimuthal average Abar = <A>_phi of docs/physics.md §7.6 [GeV^2].

    ``Abar = g_eff^2 [(4M^2 + t) T1 - 4 t T2] + Delta_m [(4M^2 + t) t T3 - 4 T4]`` with
    ``T1 = s0/u + 2 + u I1``, ``T2 = -K/u + K(K - u) I1/u + T1/4``, ``T3 = 1/u^2 + 2 I1/u + I2``,
    ``T4 = C^2/u^2 + 2 B C I1/u + B^2 I2``, ``K = 2 M E_a``, ``B = 2ME - t/2``,
    ``C = 2M(E - E_a) - t/2`` (``E_minus_Ea = E - E_a`` may be passed separately, see
    :func:`amplitude`).  The kinematic inputs must come from the cancellation-free forms
    of :mod:`lfvscan.physics.kinematics`; the residual cancellations in ``T1`` and ``T4`` (``B/s ~ -C/u``)
    then leave a relative error <= 1e-10 at E <= 3 TeV (tests compare with 50-digit arithmetic);
    at 10 TeV, theta_a ~ 1e-5 and t -> t_-, where Abar is tiny, it grows to ~5e-6.
    """
    b = phi_averaged_brackets(s0, s1, u, t, E, E_a, M, E_minus_Ea)
    return g_eff2 * b.xbar + dm * b.ybar


class PhiAveragedBrackets(NamedTuple):
    """The phi_q averages of the two brackets of §7.4 and the pieces the spin-1 average reuses
    (docs/physics.md §7.6, §7.14): ``xbar = P^2 T1 - 4 t T2`` [GeV^2], ``ybar = P^2 t T3 - 4 T4``
    [GeV^2], ``I1 = <1/s>`` [GeV^-2], ``B``, ``C`` [GeV^2], ``inv_u = 1/u`` [GeV^-2], ``P2 = 4M^2 + t`` [GeV^2]."""

    xbar: np.ndarray
    ybar: np.ndarray
    I1: np.ndarray
    B: np.ndarray
    C: np.ndarray
    inv_u: np.ndarray
    P2: np.ndarray


def phi_averaged_brackets(s0, s1, u, t, E, E_a, M, E_minus_Ea=None) -> PhiAveragedBrackets:
    """The moments ``T1..T4`` of §7.6 combined into the averaged brackets (:class:`PhiAveragedBrackets`);
    inputs as :func:`amplitude_phi_avg`."""
    u, t = np.asarray(u, dtype=float), np.asarray(t, dtype=float)
    s0 = np.asarray(s0, dtype=float)
    W = E - E_a if E_minus_Ea is None else E_minus_Ea
    I1, I2 = phi_moments(s0, s1)
    K = 2.0 * M * E_a
    B = 2.0 * M * E - 0.5 * t
    C = 2.0 * M * W - 0.5 * t
    inv_u = 1.0 / u
    T1 = s0 * inv_u + 2.0 + u * I1
    T2 = -K * inv_u + K * (K - u) * I1 * inv_u + 0.25 * T1
    T3 = inv_u * inv_u + 2.0 * I1 * inv_u + I2
    T4 = C * C * inv_u * inv_u + 2.0 * B * C * I1 * inv_u + B * B * I2
    P2 = 4.0 * M * M + t
    return PhiAveragedBrackets(P2 * T1 - 4.0 * t * T2, P2 * t * T3 - 4.0 * T4, I1, B, C, inv_u, P2)
