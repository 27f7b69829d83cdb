"""Compiled point-by-point integrand of mu N -> tau N a in the vegas variables (docs/physics.md §7.5-§7.8).

The same equations as the vectorised numpy path (:mod:`lfvscan.physics.kinematics`,
:mod:`lfvscan.physics.amplitude`, :mod:`lfvscan.physics.formfactors` and
:func:`lfvscan.xsec.integrand.d3sigma`), evaluated one point at a time in a single loop compiled by
numba: no temporary arrays, each point leaves the loop as soon as it is outside the physical region,
and the two coupling structures ``X``, ``Y`` of ``Abar = g_eff^2 X + Delta_m Y`` (§7.6) are
computed once for every coupling set.  The numpy functions stay the reference: the tests compare
this kernel with :func:`~lfvscan.xsec.integrand.d3sigma` point by point.

Why numba: a point costs ~150 floating-point operations; numpy spends most of its time writing and
reading ~60 temporary arrays, the compiled loop keeps everything in registers (``benchmarks/xsec.py``,
docs/scaling.md).  ``cache=True`` writes the machine code next to this file (``__pycache__``), so
only the first process after an install compiles; the others, and every MPI rank, load it.

Cell constants travel in one float64 array (:func:`lfvscan.xsec.cell_constants.cell_constants`,
indices ``P_*``) so that the
kernel's signature does not depend on the target or the lepton pair: the lepton masses
``m_beam`` / ``m_final`` are inputs like the others.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from lfvscan.xsec.cell_constants import (  # noqa: F401 - FAMILY_CODES, N_COUPLING: the kernel's conventions
    FAMILY_CODES,
    N_COUPLING,
    P_A,
    P_A02,
    P_A2,
    P_AP2,
    P_E,
    P_FAMILY,
    P_INCOH,
    P_INV4MP2,
    P_M,
    P_MA,
    P_MBEAM,
    P_MFINAL,
    P_MUN2,
    P_MUP2,
    P_PREF,
    P_RA,
    P_SCREEN,
    P_T0,
    P_TCUT,
    P_THMIN,
    P_TNUC,
    P_Z,
    P_ZC,
)

@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def t_map(r, t_lo, t_up, t_nuc):
    """t(r) and dt/dr of the t map (docs/physics.md §7.8): ``z = ln(1 + t_nuc / t)`` is
    ``z_lo + (z_up - z_lo) h(r)`` with ``h = r^2 (3 - 2 r)``, i.e. ``t = t_nuc / expm1(z)``.

    Its density in t is ``1 / (t (1 + t/t_nuc))``: flat in ln t below ``t_nuc`` (the photon pole
    times the rise of Abar), ``1/t^2`` above (where the coherent form factor falls); ``h`` clusters
    points at both ends, removing the square-root end-point behaviour of ``I1, I2``.
    ``log1p`` / ``expm1`` keep the digits on both sides of ``t_nuc``.
    """
    z_lo = math.log1p(t_nuc / t_lo)
    z_up = math.log1p(t_nuc / t_up)
    t = t_nuc / math.expm1(z_lo + (z_up - z_lo) * r * r * (3.0 - 2.0 * r))
    # |dt/dz| = t (1 + t / t_nuc)
    return t, t * (1.0 + t / t_nuc) * (z_lo - z_up) * 6.0 * r * (1.0 - r)


@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def theta_scale(u0, p, p_minus_k, k, m_a, m_final, t_cut):
    """Angular scale theta_s [rad] of the ALP at fixed E_a, the unit of the vegas variable
    ``ln(theta_a / theta_s)`` (docs/physics.md §7.8).

    With ``u = u_0 - 4 |p||k| sin^2(theta_a/2)`` (u_0 = u at theta_a = 0) two angles matter:
    the characteristic angle, ``sin^2(theta_c/2) = |u_0| / (4 |p||k|)``, below which u is ~ constant and
    the integrand in ln theta_a rises like theta_a^2; and the angle where the t window closes,
    ``t_lo ~ u^2 / (4 V^2) = t_cut`` with ``V ~ ||p| - |k||`` (§7.7, heavy nucleus), i.e.
    ``sin^2(theta_w/2) = (2 V sqrt(t_cut) - |u_0|) / (4 |p||k|)``, which is below theta_c near the
    kinematic reach.  ``theta_s = min(theta_c, theta_w)`` (theta_w floored at theta_c / 100): in
    ``ln(theta_a / theta_s)`` the integrand's profile is nearly the same at every E_a, which is what
    vegas' product map needs.  The scale returned is ``2 sqrt(min(s^2, 1))`` with ``s^2 =
    sin^2(theta_s/2)`` (= theta_s at small angles, within pi/2 of it everywhere): any positive scale
    keeps the integral exact (the map only moves points); ``|u_0|`` has a floor of ``1e-12 (m_a^2 + m_final^2)`` so that theta_s > 0.
    """
    pk4 = 4.0 * p * k
    au0 = max(abs(u0), 1e-12 * (m_a * m_a + m_final * m_final))
    s2_c = au0 / pk4
    s2_w = (2.0 * abs(p_minus_k) * math.sqrt(t_cut) - au0) / pk4
    s2 = min(s2_c, max(s2_w, 1e-4 * s2_c))
    return 2.0 * math.sqrt(min(s2, 1.0))  # 2 sin(theta/2) ~ theta: a scale needs no arcsin


@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def cell_kinematics(c):
    """The per-cell inputs of :func:`point_kinematics`, computed once before the loop over points:
    ``(E, m_a, M, m_beam, m_final, t_nuc, |p|, E - |p|, w_max)`` [GeV, t_nuc in GeV^2] of the cell ``c``
    (:func:`cell_constants`), with the beam lepton's momentum ``|p|``, ``E - |p| = m_beam^2 / (E +
    |p|)`` without cancellation and the largest ``w = E - E_a - m_final`` (at E_a = m_a)
    (docs/physics.md §7.5, §7.8).  Scalars outside the loop keep loop-invariant products out of the
    per-point arithmetic (the compiled code rounds the same in both kernels)."""
    E, m_a, M = c[P_E], c[P_MA], c[P_M]
    m_beam, m_final = c[P_MBEAM], c[P_MFINAL]
    p = math.sqrt(max((E - m_beam) * (E + m_beam), 0.0))
    e_minus_p = m_beam * m_beam / (E + p)
    return E, m_a, M, m_beam, m_final, c[P_TNUC], p, e_minus_p, E - m_a - m_final


@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def point_kinematics(cell, c, w, y_theta, r):
    """The kinematics of one vegas point (docs/physics.md §7.5, §7.7, §7.8), shared by
    :func:`integrand_kernel` and :func:`lfvscan.xsec.lab_kernel.lab_kernel` so that both agree on which
    points are physical.

    Inputs: ``cell`` = :func:`cell_kinematics` of the cell ``c`` (of which t_cut and theta_a_min are
    read); ``w = E - E_a - m_final`` [GeV] and the vegas variables ``y_theta = ln(theta_a / theta_s)``
    (:func:`theta_scale`) and ``r`` in [0, 1] (:func:`t_map`).  Returns the tuple ``(ok, W, E_a, k,
    theta_a, sh2, sin_th, V, u, t, dt/dr, e_f, q_abs, cq, sq, Vz, s0, s1)``: ``W = E - E_a`` = m_final +
    w, the ALP energy E_a and momentum k = |k| (§7.5/§7.8 without cancellations), theta_a [rad], ``sh2 =
    sin^2(theta_a/2)``, ``sin_th = sin(theta_a)``, ``V = |p - k|``, ``u`` [GeV^2] (§7.5), t [GeV^2]
    inside the exact window of §7.7 and its Jacobian dt/dr (:func:`t_map`), the final lepton's energy
    ``e_f = W - t / (2M)``, ``q_abs = |q|``, the cosine ``cq`` and sine ``sq`` of the angle between q
    and V, ``Vz = |p| - |k| cos(theta_a)`` and ``s = s0 + s1 cos(phi_q)`` [GeV^2] (§7.5).  ``ok`` is
    False outside the physical region (theta_a outside [theta_a_min, pi] or an empty t window); then
    ``e_f = W`` (a finite dummy) and the values after ``W`` are meaningless.
    """
    E, m_a, M, m_beam, m_final, t_nuc, p, e_minus_p, w_max = cell
    W = m_final + w  # E - E_a
    # §7.5 / §7.8: ALP and lepton kinematics without cancellations
    ea_minus_ma = w_max - w
    E_a = m_a + ea_minus_ma
    k = math.sqrt(max(ea_minus_ma * (E_a + m_a), 0.0))
    p_minus_k = (W * (E + E_a) - m_beam * m_beam + m_a * m_a) / (p + k)
    u0 = (e_minus_p - m_a * m_a / (E_a + k)) * (W + p_minus_k) - m_final * m_final
    th = theta_scale(u0, p, p_minus_k, k, m_a, m_final, c[P_TCUT]) * math.exp(y_theta)
    if not (c[P_THMIN] <= th <= math.pi):
        return False, W, E_a, k, th, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, W, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    sh = math.sin(0.5 * th)
    sh2 = sh * sh
    sin_th = 2.0 * sh * math.sqrt(1.0 - sh2)  # cos(th/2) >= 0 for th <= pi
    V2 = p_minus_k * p_minus_k + 4.0 * p * k * sh2
    V = math.sqrt(V2)
    u = u0 - 4.0 * p * k * sh2
    # §7.7: t window
    disc = 4.0 * M * M * V2 + u * (4.0 * M * (W + M) + u)
    if not disc >= 0.0:
        return False, W, E_a, k, th, sh2, sin_th, V, u, 0.0, 0.0, W, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    D = (W + M) * u + 2.0 * M * V2 + V * math.sqrt(disc)
    if not D > 0.0:
        return False, W, E_a, k, th, sh2, sin_th, V, u, 0.0, 0.0, W, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    t_minus = M * u * u / D
    a = (W + M - V) * (W + M + V)
    t_plus = M * D / a if a > 0.0 else math.inf
    t_lo = min(t_minus, t_plus)
    t_up = min(max(t_minus, t_plus), c[P_TCUT], 2.0 * M * w)
    if not t_up > t_lo:
        return False, W, E_a, k, th, sh2, sin_th, V, u, 0.0, 0.0, W, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    t, dtdr = t_map(r, t_lo, t_up, t_nuc)
    e_f = W - t / (2.0 * M)
    # §7.5: s = s0 + s1 cos(phi_q)
    q_abs = math.sqrt(t * (1.0 + t / (4.0 * M * M)))
    cq = min(max((u - (1.0 + W / M) * t) / (2.0 * q_abs * V), -1.0), 1.0)
    sq = math.sqrt((1.0 - cq) * (1.0 + cq))
    Vz = p_minus_k + 2.0 * k * sh2  # |p| - |k| cos(theta_a)
    s0 = -(1.0 + E / M) * t - 2.0 * q_abs * cq * p * Vz / V
    s1 = 2.0 * q_abs * sq * p * k * sin_th / V
    return True, W, E_a, k, th, sh2, sin_th, V, u, t, dtdr, e_f, q_abs, cq, sq, Vz, s0, s1


@numba.njit(cache=True, error_model="numpy", fastmath={"contract", "arcp"})
def min_theta_scale(u0, p, p_minus_k, k, m_a, m_final, t_cut):
    """Smallest :func:`theta_scale` over arrays ``u0``, ``p``, ``p_minus_k``, ``k`` of equal length."""
    out = math.inf
    for i in range(u0.shape[0]):
        out = min(out, theta_scale(u0[i], p[i], p_minus_k[i], k[i], m_a, m_final, t_cut))
    return out


@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def _sphere_ff(x):
    """3 (sin x - x cos x) / x^3 with its Taylor series below x = 0.1 (Eq. 20; as
    :func:`lfvscan.physics.formfactors._sphere_ff`)."""
    if x < 0.1:
        x2 = x * x
        return 1.0 + x2 * (-1.0 / 10.0 + x2 * (1.0 / 280.0 + x2 * (-1.0 / 15120.0 + x2 / 1330560.0)))
    return 3.0 * (math.sin(x) - x * math.cos(x)) / (x * x * x)


@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def _form_factors(t, c):
    """(G_el, G_inel) = (G_el^atom G_el^nuc, G_inel^atom G_inel^nuc) at t [GeV^2], zero above t_cut
    (Eqs. (16)-(20), §7.3); the atomic factors are 1 without screening (``c[P_SCREEN] == 0``), G_inel
    is 0 for coherent scattering only (``c[P_INCOH] == 0``)."""
    if t > c[P_TCUT]:
        return 0.0, 0.0
    x = c[P_A2] * t
    xp = c[P_AP2] * t
    g_nuc = c[P_ZC] * _sphere_ff(c[P_RA] * math.sqrt(t)) / (1.0 + c[P_A02] * t)
    tau = t * c[P_INV4MP2]
    num = c[P_Z] * (1.0 + c[P_MUP2] * tau) + (c[P_A] - c[P_Z]) * c[P_MUN2] * tau
    d = 1.0 + t / c[P_T0]
    d2 = d * d
    g_inel = num / (d2 * d2 * (1.0 + tau))
    if c[P_INCOH] == 0.0:
        g_inel = 0.0
    if c[P_SCREEN] == 0.0:
        return g_nuc * g_nuc, g_inel
    return (x / (1.0 + x)) ** 2 * g_nuc * g_nuc, (xp / (1.0 + xp)) ** 2 * g_inel


@numba.njit(cache=True, error_model="numpy", fastmath={"contract", "arcp"})
def integrand_kernel(y, c, cpl, coh, inc, e_tau):
    """Fill ``coh``, ``inc`` (k, N) and ``e_tau`` (N) at the vegas points ``y`` (N, 3) = (ln w, ln(theta_a /
    theta_s), r) (:func:`theta_scale`, :func:`t_map`; points with theta_a outside [theta_a_min, pi] are 0).

    ``c``: :func:`cell_constants`; ``cpl`` (k, :data:`N_COUPLING`): the coupling sets, one row each.
    The family code ``c[P_FAMILY]`` selects the amplitude: spin 0, ``Abar = g_eff^2 X + Delta_m Y``
    with the row ``(g_eff^2, Delta_m, 0)`` (§7.4, §7.6); spin 1, ``Abar_1 = g2 <2X + W_0> + d [X / m_X^2
    + 8 t P^2 I1 / u] + delta Y`` with the row ``(g2, d, delta)`` and ``m_X`` = ``c[P_MA]`` (§7.14,
    :func:`lfvscan.physics.amplitude_vector.amplitude_vector_phi_avg`).  The switch is one branch per
    point on a cell constant (no measurable cost, docs/scaling.md), so one compiled function serves
    both families.  Per point:
    the cancellation-free kinematics of §7.5/§7.8 (:func:`lfvscan.physics.kinematics.alp_kinematics`),
    the exact t window of §7.7 (:func:`~lfvscan.physics.kinematics.t_bounds`,
    :func:`~lfvscan.physics.kinematics.t_upper`), t from :func:`t_map`, ``s0``, ``s1`` (§7.5), the
    azimuthal average Abar (§7.6), the prefactor ``alpha^2/(32 pi M^2) |k|/(|p| V) / t^2``, the form
    factors (§7.3) and the Jacobian ``w sin(theta_a) theta_a dt/dr``.  Outside the physical region
    the densities are 0 and ``e_tau = E - E_a`` (a finite dummy).  Long because the chain
    of one point stays in registers in one compiled loop; the sections are marked in the body.
    """
    cell = cell_kinematics(c)
    E, m_a, M, _, _, _, p, _, _ = cell
    nk = cpl.shape[0]
    vector = c[P_FAMILY] != 0.0
    mX2 = m_a * m_a
    for i in range(y.shape[0]):
        for j in range(nk):
            coh[j, i] = 0.0
            inc[j, i] = 0.0
        w = math.exp(y[i, 0])
        # §7.5, §7.7, §7.8: the point's kinematics up to s = s0 + s1 cos(phi_q)
        ok, W, E_a, k, th, _, sin_th, V, u, t, dtdr, e_f, _, _, _, _, s0, s1 = point_kinematics(
            cell, c, w, y[i, 1], y[i, 2])
        e_tau[i] = e_f
        if not ok:
            continue
        # §7.6: closed-form phi_q average, Abar = g_eff^2 X + Delta_m Y
        I1 = 1.0 / math.sqrt((s0 - s1) * (s0 + s1))
        I2 = s0 * I1 * I1 * I1
        K = 2.0 * M * E_a
        B = 2.0 * M * E - 0.5 * t
        C = 2.0 * M * W - 0.5 * t
        inv_u = 1.0 / u
        T1 = s0 * inv_u + 2.0 + u * I1
        T2 = -K * inv_u + K * (K - u) * I1 * inv_u + 0.25 * T1
        T3 = inv_u * inv_u + 2.0 * I1 * inv_u + I2
        T4 = C * C * inv_u * inv_u + 2.0 * B * C * I1 * inv_u + B * B * I2
        P2 = 4.0 * M * M + t
        X = P2 * T1 - 4.0 * t * T2
        Y = P2 * t * T3 - 4.0 * T4
        f_coh, f_inc = _form_factors(t, c)
        # prefactor (§7.6) times the Jacobian: dE_a = w dln w, dcos = sin th th dln(th / theta_s)
        base = c[P_PREF] * k / (p * V) / (t * t) * w * sin_th * th * dtdr
        if vector:
            # §7.14: <2X + W_0> and X / m_X^2 + <8 t P^2 / (s u)>
            xw = (2.0 * X - 4.0 * P2 + 4.0 * t * (2.0 * C + u) * (1.0 - 2.0 * B * I1) * inv_u
                  - 4.0 * t * P2 * (-1.0 + (2.0 * mX2 - t - u) * I1) * inv_u)
            xd = X / mX2 + 8.0 * t * P2 * I1 * inv_u
            for j in range(nk):
                abar = cpl[j, 0] * xw + cpl[j, 1] * xd + cpl[j, 2] * Y
                coh[j, i] = base * abar * f_coh
                inc[j, i] = base * abar * f_inc
        else:
            for j in range(nk):
                abar = cpl[j, 0] * X + cpl[j, 1] * Y
                coh[j, i] = base * abar * f_coh
                inc[j, i] = base * abar * f_inc


def evaluate(y, c, cpl):
    """(coh, inc, e_tau) of :func:`integrand_kernel` for the coupling rows ``cpl`` (k, :data:`N_COUPLING`)."""
    y = np.ascontiguousarray(y, dtype=np.float64)
    cpl = np.ascontiguousarray(cpl, dtype=np.float64)
    n = y.shape[0]
    coh = np.empty((cpl.shape[0], n))
    inc = np.empty((cpl.shape[0], n))
    e_tau = np.empty(n)
    integrand_kernel(y, c, cpl, coh, inc, e_tau)
    return coh, inc, e_tau


def evaluate_cell(y, cp, rows):
    """(coh, inc, e_tau) of :func:`integrand_kernel` at the vegas points ``y`` of the cell ``cp`` (a
    :class:`~lfvscan.xsec.integrand.CellPhysics`, its :attr:`~lfvscan.xsec.integrand.CellPhysics.constants`)
    for the coupling rows ``rows`` (k, :data:`N_COUPLING`)."""
    return evaluate(y, cp.constants, rows)
