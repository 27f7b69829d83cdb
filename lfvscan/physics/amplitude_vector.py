"""Spin-averaged squared amplitude of l_i N -> l_f N X for a spin-1 boson X (docs/physics.md §7.14).

Lagrangian ``L = g X_mu lbar_f gamma^mu (g_V + g_A gamma5) l_i + h.c.`` with ``(g_V, g_A) =
(sin theta, cos theta)`` for ``g = 1`` (:func:`lfvscan.physics.couplings.vector_axial`).  As for the
spin-0 boson (:mod:`lfvscan.physics.amplitude`, §7.4), ``|M|^2 (spin-averaged, summed over the
three polarisations of X) = e^4 F^2(t) / t^2 * A_1(s, u, t)`` and this module gives ``A_1`` [GeV^2],
directly (§7.14) and averaged in closed form over the azimuth ``phi_q`` of the momentum transfer
(the spin-1 analogue of §7.6).  The invariants are those of §7.4 (``s = (p' + k)^2 - m_beam^2``,
``u = (p - k)^2 - m_final^2``, ``t = -q^2``) with the boson mass ``m_X`` in place of ``m_a``, so the
kinematics of :mod:`lfvscan.physics.kinematics` serve both spins unchanged.

There is no V-A interference: ``A_1 = g_V^2 A_V + g_A^2 A_A``, and the axial part is the vector part
with ``m_beam -> -m_beam``.  The couplings and masses enter through three numbers
(:func:`vector_coefficients`), the analogue of the scalar's ``(g_eff^2, Delta_m)``.  Pure,
vectorised numpy functions of arrays; GeV units.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lfvscan.physics.amplitude import brackets, phi_averaged_brackets


class VectorCoefficients(NamedTuple):
    """Coupling-and-mass coefficients of the spin-1 amplitude (docs/physics.md §7.14).

    ``A_1 = g2 (2 X + W_0) + d (X / m_X^2 + 8 t P^2 / (s u)) + delta Y`` with
    ``g2 = g_V^2 + g_A^2``, ``d = g_V^2 (m_f - m_i)^2 + g_A^2 (m_f + m_i)^2`` [GeV^2] and
    ``delta = g_V^2 Delta_V + g_A^2 Delta_A`` [GeV^2], ``Delta_{V/A} = (1 - (m_f -/+ m_i)^2 / m_X^2)
    (2 m_X^2 + (m_i +/- m_f)^2)`` (the two-body width bracket of X -> l_f l_i).  Arrays broadcast
    (one row per coupling set, as the scalar's ``(g_eff2, dm)``).
    """

    m_X: np.ndarray  #: boson mass [GeV]
    g2: np.ndarray  #: g_V^2 + g_A^2
    d: np.ndarray  #: g_V^2 (m_f - m_i)^2 + g_A^2 (m_f + m_i)^2 [GeV^2]
    delta: np.ndarray  #: g_V^2 Delta_V + g_A^2 Delta_A [GeV^2]


def width_bracket_vector(m_X, m_final: float, m_beam: float):
    """(Delta_V, Delta_A) [GeV^2]: ``(1 - (m_f -/+ m_i)^2 / m_X^2)(2 m_X^2 + (m_i +/- m_f)^2)``
    (docs/physics.md §7.14), the brackets of the widths Gamma(X -> l_f lbar_i) of a pure vector / axial
    coupling; the axial one is the vector one with ``m_beam -> -m_beam``."""
    m_X = np.asarray(m_X, dtype=float)
    mX2 = m_X * m_X

    def bracket(m_i):
        return (1.0 - (m_final - m_i) ** 2 / mX2) * (2.0 * mX2 + (m_i + m_final) ** 2)

    return bracket(m_beam), bracket(-m_beam)


def vector_coefficients(m_X, g_V2, g_A2, m_final: float, m_beam: float) -> VectorCoefficients:
    """The :class:`VectorCoefficients` of boson mass ``m_X`` [GeV], couplings ``g_V^2``, ``g_A^2``
    (:func:`lfvscan.physics.couplings.vector_part_weights` for g = 1) and the final / beam lepton
    masses [GeV] (docs/physics.md §7.14).  ``(g_V2, g_A2) = (1, 0)`` is the pure vector part,
    ``(0, 1)`` the pure axial part."""
    m_X = np.asarray(m_X, dtype=float)
    g_V2 = np.asarray(g_V2, dtype=float)
    g_A2 = np.asarray(g_A2, dtype=float)
    dV, dA = (m_final - m_beam) ** 2, (m_final + m_beam) ** 2
    DV, DA = width_bracket_vector(m_X, m_final, m_beam)
    return VectorCoefficients(m_X, g_V2 + g_A2, g_V2 * dV + g_A2 * dA, g_V2 * DV + g_A2 * DA)


def amplitude_vector(s, u, t, E, E_a, M, c: VectorCoefficients, E_minus_Ea=None):
    """A_1(s, u, t) of docs/physics.md §7.14 [GeV^2] for the coefficients ``c`` (:func:`vector_coefficients`).

    ``A_1 = g2 [2 X + W_0] + d [X / m_X^2 + 8 t P^2 / (s u)] + delta Y`` with the scalar's
    ``X = (s+u)^2 P^2 / (s u) - 4 t (P.k)^2 / (s u)`` and
    ``Y = [P^2 t (s+u)^2 - 4 (u P.p + s P.p')^2] / (s u)^2`` (§7.4), and
    ``2 X + W_0 = [2 (s^2 + u^2) P^2 - 8 t ((P.p)^2 + (P.p')^2) - 4 t P^2 (2 m_X^2 - s - u - t)] / (s u)``;
    ``P^2 = 4M^2 + t``, ``P.p = 2ME - (s+t)/2``, ``P.k = 2ME_a - (s+u)/2``, ``P.p' = 2M(E - E_a) + (u-t)/2``.
    Arguments as :func:`lfvscan.physics.amplitude.amplitude` (``E_minus_Ea = E - E_a`` [GeV] optional).
    """
    s, u, t = (np.asarray(x, dtype=float) for x in (s, u, t))
    X, Y, P2, Pp, Ppp, su = brackets(s, u, t, E, E_a, M, E_minus_Ea)
    mX2 = c.m_X * c.m_X
    two_x_w0 = (2.0 * (s * s + u * u) * P2 - 8.0 * t * (Pp * Pp + Ppp * Ppp) - 4.0 * t * P2 * (2.0 * mX2 - s - u - t)) / su
    return c.g2 * two_x_w0 + c.d * (X / mX2 + 8.0 * t * P2 / su) + c.delta * Y


def amplitude_vector_phi_avg(s0, s1, u, t, E, E_a, M, c: VectorCoefficients, E_minus_Ea=None):
    """Closed-form azimuthal average <A_1>_phi of docs/physics.md §7.14 [GeV^2] (``s = s0 + s1 cos phi``).

    With the moments of §7.6 (``I1``, ``I2``, ``T1..T4``, ``K = 2 M E_a``, ``B = 2ME - t/2``,
    ``C = 2M(E - E_a) - t/2``), ``Xbar = P^2 T1 - 4 t T2``, ``Ybar = P^2 t T3 - 4 T4`` and
    ``<2X + W_0> = 2 Xbar - 4 P^2 + 4 t (2C + u)(1 - 2 B I1) / u - 4 t P^2 [-1 + (2 m_X^2 - t - u) I1] / u``
    (the thesis's ``T56``, ``T7`` moments), ``<8 t P^2 / (s u)> = 8 t P^2 I1 / u``:
    ``Abar_1 = g2 <2X + W_0> + d [Xbar / m_X^2 + 8 t P^2 I1 / u] + delta Ybar``.
    Same inputs as :func:`lfvscan.physics.amplitude.amplitude_phi_avg` with the coefficients ``c``
    in place of ``(g_eff2, dm)``; the kinematic inputs must come from the cancellation-free forms of
    :mod:`lfvscan.physics.kinematics` (tests compare with 50-digit arithmetic).
    """
    b = phi_averaged_brackets(s0, s1, u, t, E, E_a, M, E_minus_Ea)
    u, t = np.asarray(u, dtype=float), np.asarray(t, dtype=float)
    xbar, ybar, I1, B, C, inv_u, P2 = b
    mX2 = c.m_X * c.m_X
    two_x_w0 = (2.0 * xbar - 4.0 * P2 + 4.0 * t * (2.0 * C + u) * (1.0 - 2.0 * B * I1) * inv_u
                - 4.0 * t * P2 * (-1.0 + (2.0 * mX2 - t - u) * I1) * inv_u)
    return c.g2 * two_x_w0 + c.d * (xbar / mX2 + 8.0 * t * P2 * I1 * inv_u) + c.delta * ybar


def part_coefficients_vector(m_X, m_final: float, m_beam: float) -> VectorCoefficients:
    """:class:`VectorCoefficients` of the pure vector (row 0, ``(g_V, g_A) = (1, 0)``) and pure axial
    (row 1, ``(0, 1)``) parts, arrays of shape (2, 1) that broadcast against (N,) kinematics to give
    (2, N) amplitudes, as the scalar/pseudoscalar parts of docs/physics.md §7.12 (§7.14)."""
    return vector_coefficients(m_X, np.array([[1.0], [0.0]]), np.array([[0.0], [1.0]]), m_final, m_beam)
