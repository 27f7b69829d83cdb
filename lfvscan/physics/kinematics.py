"""Exact kinematics of mu N -> tau N a in the nucleus rest frame (docs/physics.md §7.1, §7.5, §7.7, §7.8).

All functions are pure, vectorised numpy (broadcasting over their array arguments), GeV units.

Conventions (docs/physics.md §7.4-§7.5): beam lepton l_in(p) along z with energy ``E``; ALP a(k) with
energy ``E_a``, polar angle ``theta_a``; ``E_minus_Ea = E - E_a`` is the energy of the outgoing
lepton plus the kinetic energy of the recoiling nucleus (called ``W`` in docs/physics.md §7.5; renamed
here because ``W`` is also tungsten); ``q = P_i - P_f`` is the four-momentum delivered to the
lepton line, ``t = -q^2 > 0``, and ``|q|`` (:func:`recoil_momentum`, ``Q`` in docs/physics.md) the
recoil momentum.

Lepton masses: the beam (incoming) lepton has mass ``m_beam`` (``m_mu`` in docs/physics.md) and
the final (outgoing) one ``m_final`` (``m_tau`` in docs/physics.md), the floats of a
:class:`~lfvscan.physics.leptons.LeptonPair`.  They are required keyword arguments of every
function that needs them (no default flavour).

Cancellation-free forms (§7.8): the energies near the mass shell enter only through
``E - |p| = m^2 / (E + |p|)``; ``|p| - |k|`` through ``(p^2 - k^2)/(p + k)``;
``|p| - |k| cos(theta_a) = (|p| - |k|) + 2 |k| sin^2(theta_a / 2)``; the variable
``w = E - E_a - m_final`` (the outgoing lepton's kinetic-energy budget) and ``E_a - m_a`` are carried
separately so that soft taus and soft ALPs keep their digits.  At TeV energies the naive forms
lose many digits.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def momentum(E, m):
    """|p| = sqrt((E - m)(E + m)) [GeV] for energy ``E`` and mass ``m``."""
    E = np.asarray(E, dtype=float)
    return np.sqrt(np.maximum((E - m) * (E + m), 0.0))


class AlpKinematics(NamedTuple):
    """Lepton-side kinematics at fixed (E, E_a, theta_a) (docs/physics.md §7.5).  All GeV / GeV^2."""

    E: np.ndarray  #: beam energy
    E_a: np.ndarray  #: ALP energy
    E_minus_Ea: np.ndarray  #: E - E_a = E_out + recoil kinetic energy (``W`` of docs/physics.md §7.5)
    w: np.ndarray  #: E - E_a - m_final (>= 0 for a physical outgoing lepton)
    p: np.ndarray  #: |p| beam momentum
    k: np.ndarray  #: |k| ALP momentum
    V: np.ndarray  #: |p - k| (vector difference)
    u: np.ndarray  #: u = (p - k)^2 - m_final^2 < 0
    p_long: np.ndarray  #: |p| - |k| cos(theta_a)
    k_sin: np.ndarray  #: |k| sin(theta_a)


def alp_kinematics(E, w, theta_a, m_a, *, m_beam: float, m_final: float) -> AlpKinematics:
    """Kinematics of §7.5 from the outgoing lepton's energy budget ``w = E - E_a - m_final`` [GeV].

    ``E`` beam energy [GeV], ``theta_a`` ALP polar angle [rad], ``m_a`` ALP mass [GeV]; ``m_beam`` /
    ``m_final`` the beam / final lepton masses [GeV].
    ``V = sqrt((|p| - |k|)^2 + 4 |p||k| sin^2(theta_a/2))`` and the cancellation-free
    ``u = [(E - |p|) - (E_a - |k|)] [(E + |p|) - (E_a + |k|)] - 4 |p||k| sin^2(theta_a/2) - m_final^2``
    of §7.8.  ``E_a - m_a = (E - m_a - m_final) - w`` is formed without subtracting large numbers.
    """
    E = np.asarray(E, dtype=float)
    w = np.asarray(w, dtype=float)
    theta_a = np.asarray(theta_a, dtype=float)
    E_minus_Ea = m_final + w
    ea_minus_ma = (E - m_a - m_final) - w  # E_a - m_a
    E_a = m_a + ea_minus_ma
    p = momentum(E, m_beam)
    k = np.sqrt(np.maximum(ea_minus_ma * (E_a + m_a), 0.0))
    sh2 = np.sin(0.5 * theta_a) ** 2
    # |p| - |k| = (p^2 - k^2) / (p + k) with p^2 - k^2 = (E - E_a) (E + E_a) - m_beam^2 + m_a^2
    p_minus_k = (E_minus_Ea * (E + E_a) - m_beam**2 + m_a**2) / (p + k)
    V = np.sqrt(p_minus_k**2 + 4.0 * p * k * sh2)
    e_minus_p = m_beam**2 / (E + p)
    ea_minus_k = m_a**2 / (E_a + k)
    u = (e_minus_p - ea_minus_k) * (E_minus_Ea + p_minus_k) - 4.0 * p * k * sh2 - m_final**2
    p_long = p_minus_k + 2.0 * k * sh2
    return AlpKinematics(E, E_a, E_minus_Ea, w, p, k, V, u, p_long, k * np.sin(theta_a))


def t_bounds(E_minus_Ea, V, u, M):
    """Roots t_lo <= t_hi of cos^2(theta_q^0) = 1 (docs/physics.md §7.7) [GeV^2].

    With ``W = E_minus_Ea = E - E_a`` [GeV], ``V = |p - k|`` [GeV], ``u`` [GeV^2] (from
    :func:`alp_kinematics`) and the nucleus mass ``M`` [GeV]:
    ``t_- = M u^2 / D`` with ``D = (W+M) u + 2 M V^2 + V sqrt(4 M^2 V^2 + u (4 M (W+M) + u))`` (no
    cancellation) and ``t_+ = M D / ((W+M)^2 - V^2)``.  When ``(W+M)^2 <= V^2`` the quadratic opens
    downwards and every ``t >= t_-`` is allowed: ``t_hi = inf``.  Points without a physical ``t``
    (negative discriminant or ``D <= 0``) get ``t_lo = t_hi = nan``.
    """
    W, V, u = (np.asarray(x, dtype=float) for x in (E_minus_Ea, V, u))
    disc = 4.0 * M * M * V * V + u * (4.0 * M * (W + M) + u)
    D = (W + M) * u + 2.0 * M * V * V + V * np.sqrt(np.maximum(disc, 0.0))
    ok = (disc >= 0.0) & (D > 0.0)
    Ds = np.where(ok, D, 1.0)
    a = (W + M - V) * (W + M + V)
    t_minus = M * u * u / Ds
    t_plus = np.where(a > 0.0, M * Ds / np.where(a > 0.0, a, 1.0), np.inf)
    t_lo = np.where(ok, np.minimum(t_minus, t_plus), np.nan)
    t_hi = np.where(ok, np.maximum(t_minus, t_plus), np.nan)
    return t_lo, t_hi


def t_upper(t_hi, w, M, t_cut):
    """t_up = min(t_hi, t_cut, 2 M w) [GeV^2] with w = E - E_a - m_final, i.e. E_out >= m_final
    (docs/physics.md §7.7: t_up = min(t_hi, t_cut, 2 M (E - E_a - m_tau)))."""
    return np.minimum(np.minimum(t_hi, t_cut), 2.0 * M * np.asarray(w, dtype=float))


def recoil_momentum(t, M):
    """|q| = sqrt(t + t^2 / (4 M^2)) [GeV] for an elastic recoil off a nucleus of mass ``M`` [GeV]
    (``Q`` in docs/physics.md §7.5; not vegas' Q)."""
    t = np.asarray(t, dtype=float)
    return np.sqrt(t * (1.0 + t / (4.0 * M * M)))


def cos_theta_q0(t, kin: AlpKinematics, M, q_abs=None):
    """cos(theta_q^0) = (u - (1 + (E - E_a)/M) t) / (2 |q| V) fixed by energy conservation (docs/physics.md §7.5).

    ``q_abs`` = |q| = :func:`recoil_momentum` (t, M) [GeV] if already known.
    """
    q_abs = recoil_momentum(t, M) if q_abs is None else q_abs
    return (kin.u - (1.0 + kin.E_minus_Ea / M) * t) / (2.0 * q_abs * kin.V)


def s_coefficients(t, kin: AlpKinematics, M):
    """(s0, s1) with s = s0 + s1 cos(phi_q) (docs/physics.md §7.5) [GeV^2].

    ``s0 = -(1 + E/M) t - 2 |q| cos(theta_q^0) |p| (|p| - |k| cos theta_a) / V``,
    ``s1 = -2 |q| sin(theta_q^0) |p| |k| sin(theta_a) / V`` (its sign is irrelevant).
    ``cos(theta_q^0)`` is clipped to [-1, 1] (round-off at the end points of the t range).
    """
    t = np.asarray(t, dtype=float)
    q_abs = recoil_momentum(t, M)
    cq = np.clip(cos_theta_q0(t, kin, M, q_abs), -1.0, 1.0)
    sq = np.sqrt((1.0 - cq) * (1.0 + cq))
    s0 = -(1.0 + kin.E / M) * t - 2.0 * q_abs * cq * kin.p * kin.p_long / kin.V
    s1 = -2.0 * q_abs * sq * kin.p * kin.k_sin / kin.V
    return s0, s1


def t_min_exact(E, m_X, M, *, m_beam: float):
    """Exact minimum t [GeV^2] to produce a system of mass ``m_X`` [GeV] in l_in N -> X N (forward X).

    This is the §7.7 root ``t_-`` of the 2 -> 2 problem (no ALP: k = 0, ``u = m_beam^2 - m_X^2``,
    ``V = |p|``, ``E - E_a = E``) for a beam lepton of mass ``m_beam`` and energy ``E``
    on a nucleus of mass ``M`` [GeV].  The minimum of t_lo over the full 2 -> 3 phase space with
    ``m_X >= m_a + m_final`` is reached at threshold, ``m_X = m_a + m_final``.  ``nan`` below the
    production threshold ``s_tot < (M + m_X)^2``.
    """
    E = np.asarray(E, dtype=float)
    m_X = np.asarray(m_X, dtype=float)
    p = momentum(E, m_beam)
    u = (m_beam - m_X) * (m_beam + m_X)
    t_lo, _ = t_bounds(E, p, u, M)
    return t_lo


def max_mass_exact(E, M, t_cut, *, m_beam: float, m_final: float):
    """Largest m_a [GeV] with t_min_exact(E, m_a + m_final) <= t_cut [GeV^2] (nucleus mass ``M`` [GeV]).

    Inverts the forward 2 -> 2 kinematics at t = t_cut (docs/physics.md §7.9 construction with the
    recoil along the beam): ``m_X^2 = m_beam^2 - t (1 + E/M) + 2 |p| |q|(t)``; ``m_a = m_X - m_final``.
    Returns a non-positive number when no ALP can be produced.  (The §7.1/§13.7 numbers are the
    M -> inf, t << 2E sqrt(t) limit ``sqrt(2 E sqrt(t_cut) + m_beam^2) - m_final``.)
    """
    E = np.asarray(E, dtype=float)
    p = momentum(E, m_beam)
    mX2 = m_beam**2 - t_cut * (1.0 + E / M) + 2.0 * p * recoil_momentum(t_cut, M)
    return np.sqrt(np.maximum(mX2, 0.0)) - m_final
