"""50-digit *naive* phase-space point and phi_q moments (docs/physics.md §7.5-§7.7), the reference
the amplitude tests compare the cancellation-free double-precision forms with.

:func:`mp_moments` evaluates the kinematics of §7.5 with no rewriting, t = ``t_factor`` x t_lo of
§7.7, and the moments ``I1, I2, T1..T4`` of §7.6 for a boson of mass ``m_boson``; the spin-0 and
spin-1 tests combine them into their averaged amplitudes.
"""

from types import SimpleNamespace

import mpmath as mp


def mp_moments(E, w, theta_a, m_boson, M, t_factor, m_beam, m_final) -> SimpleNamespace:
    """mpf values (50 digits) at the point (E, w = E - E_a - m_final, theta_a): ``t``, ``u``,
    ``I1``, ``I2``, ``B``, ``C``, ``P2 = 4M^2 + t``, ``T1..T4``, and the inputs as mpf (``M``,
    ``m_boson``, ``m_beam``, ``m_final``)."""
    mp.mp.dps = 50
    E, w, th, mX, M = (mp.mpf(x) for x in (E, w, theta_a, m_boson, M))
    mi, mf = mp.mpf(m_beam), mp.mpf(m_final)
    W = mf + w
    Ea = E - W
    p, k = mp.sqrt(E**2 - mi**2), mp.sqrt(Ea**2 - mX**2)
    V = mp.sqrt((p - k * mp.cos(th)) ** 2 + (k * mp.sin(th)) ** 2)
    u = W**2 - V**2 - mf**2
    a, b, c = (M + W) ** 2 - V**2, M * (2 * u * (M + W) + 4 * M * V**2), M**2 * u**2
    roots = [(b - mp.sqrt(b * b - 4 * a * c)) / (2 * a), (b + mp.sqrt(b * b - 4 * a * c)) / (2 * a)]
    t = min(x for x in roots if x > 0) * mp.mpf(t_factor)
    Q = mp.sqrt(t + t**2 / (4 * M**2))
    cq = (u - (1 + W / M) * t) / (2 * Q * V)
    s0 = -(1 + E / M) * t - 2 * Q * cq * p * (p - k * mp.cos(th)) / V
    s1 = -2 * Q * mp.sqrt(1 - cq**2) * p * k * mp.sin(th) / V
    I1 = 1 / mp.sqrt(s0**2 - s1**2)
    I2 = s0 * I1**3
    Kk, B, C = 2 * M * Ea, 2 * M * E - t / 2, 2 * M * W - t / 2
    T1 = s0 / u + 2 + u * I1
    T2 = -Kk / u + Kk * (Kk - u) * I1 / u + T1 / 4
    T3 = 1 / u**2 + 2 * I1 / u + I2
    T4 = C**2 / u**2 + 2 * B * C * I1 / u + B**2 * I2
    return SimpleNamespace(t=t, u=u, I1=I1, I2=I2, B=B, C=C, P2=4 * M**2 + t, T1=T1, T2=T2, T3=T3, T4=T4,
                           M=M, m_boson=mX, m_beam=mi, m_final=mf)
