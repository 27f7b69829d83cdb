"""Compiled point-by-point integrand of mu N -> tau N a in the vegas variables (docs/physics.md §7.5-§7.8).

The same equations as the vectorised numpy path (:mod:`lfvscan.physics.kinematics`,
:mod:`lfvscan.physics.amplitude`, :mod:`lfvscan.physics.formfactors` and
:func:`lfvscan.xsec.integrand.d3sigma`), evaluated point by point in loops compiled by numba over
blocks of 64 points (:func:`integrand_kernel`): no temporary arrays beyond one small scratch block,
the points outside the physical region skip the later loops, and the two coupling structures
``X``, ``Y`` of ``Abar = g_eff^2 X + Delta_m Y`` (§7.6) are computed once for every coupling set.  The numpy functions stay the reference: the tests compare
this kernel with :func:`~lfvscan.xsec.integrand.d3sigma` point by point.

Why numba: a point costs ~150 floating-point operations; numpy spends most of its time writing and
reading ~60 temporary arrays, the compiled loops keep a block in the L1 cache (``benchmarks/xsec.py``,
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

    One logarithm and one exponential per point: ``z_up - z_lo = ln q`` with ``q = (1 + t_nuc/t_up)
    / (1 + t_nuc/t_lo)`` written as one quotient of products (relative error a few ulp, so ``ln q``
    has an absolute error of a few ulp even when ``t_up / t_lo`` is 1e10), and ``e^z = (1 +
    t_nuc/t_lo) q^h``, so ``t_nuc / t = (1 + t_nuc/t_lo) e^{h ln q} - 1`` (two divisions in all).  That difference
    loses ``log10(1 + t/t_nuc)`` digits where t >> t_nuc: at most ~2.5 of 16 for t <= t_cut = 1 GeV^2
    on a heavy nucleus (t_nuc ~ 4e-3 GeV^2), far below what vegas' errors resolve.
    """
    ln_q = math.log(t_lo * (t_up + t_nuc) / (t_up * (t_lo + t_nuc)))  # z_up - z_lo <= 0
    # t_nuc / t = (1 + t_nuc / t_lo) q^h - 1, over the common denominator t_lo
    t = t_nuc * t_lo / ((t_lo + t_nuc) * math.exp(ln_q * r * r * (3.0 - 2.0 * r)) - t_lo)
    t = min(t, t_up)  # at r -> 1 the rounding may overshoot t_up by a few ulp (dt/dr = 0 there)
    # |dt/dz| = t (1 + t / t_nuc)
    return t, -t * (1.0 + t / t_nuc) * ln_q * 6.0 * r * (1.0 - r)


@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def theta_scale(u0, p, p_minus_k, k, m_a, m_final, sqrt_t_cut):
    """Angular scale theta_s [rad] of the ALP at fixed E_a, the unit of the vegas variable
    ``ln(theta_a / theta_s)`` (docs/physics.md §7.8).

    With ``u = u_0 - 4 |p||k| sin^2(theta_a/2)`` (u_0 = u at theta_a = 0) two angles matter:
    the characteristic angle, ``sin^2(theta_c/2) = |u_0| / (4 |p||k|)``, below which u is ~ constant and
    the integrand in ln theta_a rises like theta_a^2; and the angle where the t window closes,
    ``t_lo ~ u^2 / (4 V^2) = t_cut`` with ``V ~ ||p| - |k||`` (§7.7, heavy nucleus), i.e.
    ``sin^2(theta_w/2) = (2 V sqrt(t_cut) - |u_0|) / (4 |p||k|)`` (``sqrt_t_cut`` [GeV] is sqrt(t_cut)),
    which is below theta_c near the kinematic reach.  ``theta_s = min(theta_c, theta_w)`` (theta_w floored at theta_c / 100): in
    ``ln(theta_a / theta_s)`` the integrand's profile is nearly the same at every E_a, which is what
    vegas' product map needs.  The scale returned is ``2 sqrt(min(s^2, 1))`` with ``s^2 =
    sin^2(theta_s/2)`` (= theta_s at small angles, within pi/2 of it everywhere): any positive scale
    keeps the integral exact (the map only moves points); ``|u_0|`` has a floor of ``1e-12 (m_a^2 + m_final^2)`` so that theta_s > 0.
    """
    inv_pk4 = 1.0 / (4.0 * p * k)
    au0 = max(abs(u0), 1e-12 * (m_a * m_a + m_final * m_final))
    s2_c = au0 * inv_pk4
    s2_w = (2.0 * abs(p_minus_k) * sqrt_t_cut - au0) * inv_pk4
    s2 = min(s2_c, max(s2_w, 1e-4 * s2_c))
    return 2.0 * math.sqrt(min(s2, 1.0))  # 2 sin(theta/2) ~ theta: a scale needs no arcsin


@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def cell_kinematics(c):
    """The per-cell inputs of :func:`point_kinematics`, computed once before the loop over points:
    ``(E, m_a, M, m_beam, m_final, t_nuc, |p|, E - |p|, w_max, t_cut, sqrt(t_cut), theta_a_min)`` [GeV,
    t_nuc and t_cut in GeV^2, theta_a_min in rad] of the cell ``c`` (:func:`cell_constants`), with the
    beam lepton's momentum ``|p|``, ``E - |p| = m_beam^2 / (E + |p|)`` without cancellation and the
    largest ``w = E - E_a - m_final`` (at E_a = m_a) (docs/physics.md §7.5, §7.8).  Scalars outside
    the loop keep loop-invariant products out of the per-point arithmetic (the compiler cannot hoist
    loads from ``c``, which might alias the output arrays)."""
    E, m_a, M = c[P_E], c[P_MA], c[P_M]
    m_beam, m_final = c[P_MBEAM], c[P_MFINAL]
    p = math.sqrt(max((E - m_beam) * (E + m_beam), 0.0))
    e_minus_p = m_beam * m_beam / (E + p)
    return (E, m_a, M, m_beam, m_final, c[P_TNUC], p, e_minus_p, E - m_a - m_final, c[P_TCUT], math.sqrt(c[P_TCUT]),
            c[P_THMIN])


@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def point_angle(cell, w, y_theta):
    """The first part of :func:`point_kinematics` (§7.5, §7.8): ``(W, E_a, k, |p| - |k|, u_0,
    theta_a)`` at ``w`` and ``y_theta`` (u_0 [GeV^2] = u at theta_a = 0; other names as there)."""
    E, m_a, _, m_beam, m_final, _, p, e_minus_p, w_max, _, sqrt_t_cut, _ = cell
    W = m_final + w  # E - E_a
    # §7.5 / §7.8: ALP and lepton kinematics without cancellations
    ea_minus_ma = w_max - w
    E_a = m_a + ea_minus_ma
    k = math.sqrt(max(ea_minus_ma * (E_a + m_a), 0.0))
    inv = 1.0 / ((p + k) * (E_a + k))  # one division for |p| - |k| and m_a^2 / (E_a + |k|)
    p_minus_k = (W * (E + E_a) - m_beam * m_beam + m_a * m_a) * (E_a + k) * inv
    u0 = (e_minus_p - m_a * m_a * (p + k) * inv) * (W + p_minus_k) - m_final * m_final
    th = theta_scale(u0, p, p_minus_k, k, m_a, m_final, sqrt_t_cut) * math.exp(y_theta)
    return W, E_a, k, p_minus_k, u0, th


@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def point_window(cell, w, W, k, p_minus_k, u0, th):
    """The second part of :func:`point_kinematics`: the exact t window (§7.5, §7.7) of the point of
    :func:`point_angle`.  Returns ``(ok, sh2, sin_th, V, u, Vz, t_lo, t_up)`` (names as in
    :func:`point_kinematics`; ``Vz = |p| - |k| cos(theta_a)``); ``ok`` False outside the physical
    region (theta_a outside [theta_a_min, pi] or an empty window), where the values are meaningless."""
    _, _, M, _, _, _, p, _, _, t_cut, _, th_min = cell
    if not (th_min <= th <= math.pi):
        return False, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 2.0
    sh = math.sin(0.5 * th)
    sh2 = sh * sh
    V2 = p_minus_k * p_minus_k + 4.0 * p * k * sh2
    V = math.sqrt(V2)
    u = u0 - 4.0 * p * k * sh2
    Vz = p_minus_k + 2.0 * k * sh2  # |p| - |k| cos(theta_a)
    # §7.7: t window
    disc = 4.0 * M * M * V2 + u * (4.0 * M * (W + M) + u)
    D = (W + M) * u + 2.0 * M * V2 + V * math.sqrt(max(disc, 0.0))
    t_minus = M * u * u / D
    a = (W + M - V) * (W + M + V)
    t_plus = M * D / a if a > 0.0 else math.inf
    t_lo = min(t_minus, t_plus)
    t_up = min(max(t_minus, t_plus), t_cut, 2.0 * M * w)
    ok = disc >= 0.0 and D > 0.0 and t_up > t_lo
    return ok, sh2, 2.0 * sh * math.sqrt(1.0 - sh2), V, u, Vz, t_lo, t_up  # cos(th/2) >= 0


@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def point_s(cell, W, k, sin_th, V, u, Vz, t):
    """The last part of :func:`point_kinematics`, inside the physical region at t [GeV^2] (§7.5):
    ``(e_f, q_abs, cq, sq, s0, s1)``."""
    E, _, M, _, _, _, p, _, _, _, _, _ = cell
    e_f = W - t * (0.5 / M)  # 1/M and its multiples are computed once per call (loop invariants)
    # s = s0 + s1 cos(phi_q); one division, 1 / (|q| V), serves cq, s0 and s1
    q2 = t * (1.0 + t * (0.25 / (M * M)))
    q_abs = math.sqrt(q2)
    inv_qv = 1.0 / (q_abs * V)
    cq = min(max((u - (1.0 + W * (1.0 / M)) * t) * 0.5 * inv_qv, -1.0), 1.0)
    sq = math.sqrt((1.0 - cq) * (1.0 + cq))
    s0 = -(1.0 + E * (1.0 / M)) * t - 2.0 * q2 * inv_qv * cq * p * Vz
    s1 = 2.0 * q2 * inv_qv * sq * p * k * sin_th
    return e_f, q_abs, cq, sq, s0, s1


@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def point_kinematics(cell, w, y_theta, r):
    """The kinematics of one vegas point (docs/physics.md §7.5, §7.7, §7.8): :func:`point_angle`,
    :func:`point_window`, :func:`t_map` and :func:`point_s`, the parts that :func:`integrand_kernel`
    runs in separate loops, so
    that :func:`lfvscan.xsec.lab_kernel.lab_kernel`, which calls this, agrees with it on which points
    are physical and on every value.

    Inputs: ``cell`` = :func:`cell_kinematics` of the cell; ``w = E - E_a - m_final`` [GeV] and the
    vegas variables ``y_theta = ln(theta_a / theta_s)``
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
    W, E_a, k, p_minus_k, u0, th = point_angle(cell, w, y_theta)
    ok, sh2, sin_th, V, u, Vz, t_lo, t_up = point_window(cell, w, W, k, p_minus_k, u0, th)
    if not ok:
        return False, W, E_a, k, th, sh2, sin_th, V, u, 0.0, 0.0, W, 0.0, 0.0, 0.0, Vz, 0.0, 0.0
    t, dtdr = t_map(r, t_lo, t_up, cell[5])
    e_f, q_abs, cq, sq, s0, s1 = point_s(cell, W, k, sin_th, V, u, Vz, t)
    return True, W, E_a, k, th, sh2, sin_th, V, u, t, dtdr, e_f, q_abs, cq, sq, Vz, s0, s1


@numba.njit(cache=True, error_model="numpy", fastmath={"contract", "arcp"})
def min_theta_scale(u0, p, p_minus_k, k, m_a, m_final, t_cut):
    """Smallest :func:`theta_scale` over arrays ``u0``, ``p``, ``p_minus_k``, ``k`` of equal length."""
    out = math.inf
    sqrt_t_cut = math.sqrt(t_cut)
    for i in range(u0.shape[0]):
        out = min(out, theta_scale(u0[i], p[i], p_minus_k[i], k[i], m_a, m_final, sqrt_t_cut))
    return out


#: pi/2 in two parts for :func:`_sin_cos` (fdlibm's ``pio2_1``, 33 significant bits, and ``pio2_1t`` =
#: pi/2 - pio2_1): ``n * PIO2_HI`` is exact for n < 2^20
PIO2_HI = 1.57079632673412561417e+00
PIO2_LO = 6.07710050650619224932e-11


@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def _sin_cos(x):
    """(sin x, cos x) for ``|x| < 2^19``, libm's otherwise: ``x = n pi/2 + r`` with ``|r| <= pi/4``
    (Cody-Waite with fdlibm's two-part pi/2, ``n * PIO2_HI`` exact: r to ~1e-16 absolute), sin r and
    cos r by their Taylor series to r^15 and r^16 (truncation < 5e-17 at r = pi/4), then the quadrant
    ``n mod 4`` selects and signs them.  One reduction for both: in the form factor's loop this costs
    about half of libm's ``sin`` and ``cos`` calls (docs/scaling.md, "The integrand per point")."""
    if not abs(x) < 524288.0:
        return math.sin(x), math.cos(x)
    n = math.floor(x * (2.0 / math.pi) + 0.5)
    r = (x - n * PIO2_HI) - n * PIO2_LO
    r2 = r * r
    s = r + r * r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362880.0 + r2 * (
        -1.0 / 39916800.0 + r2 * (1.0 / 6227020800.0 + r2 * (-1.0 / 1307674368000.0)))))))
    c = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 + r2 * (
        -1.0 / 3628800.0 + r2 * (1.0 / 479001600.0 + r2 * (-1.0 / 87178291200.0 + r2 / 20922789888000.0)))))))
    q = int(n) & 3
    sin_x = c if q & 1 else s
    cos_x = s if q & 1 else c
    sin_x = -sin_x if q & 2 else sin_x
    cos_x = -cos_x if (q + 1) & 2 else cos_x
    return sin_x, cos_x


@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def _sphere_ff(x):
    """3 (sin x - x cos x) / x^3 as (numerator, denominator), with its Taylor series below x = 0.1
    (Eq. 20; as :func:`lfvscan.physics.formfactors._sphere_ff`)."""
    if x < 0.1:
        x2 = x * x
        return 1.0 + x2 * (-1.0 / 10.0 + x2 * (1.0 / 280.0 + x2 * (-1.0 / 15120.0 + x2 / 1330560.0))), 1.0
    sin_x, cos_x = _sin_cos(x)
    return 3.0 * (sin_x - x * cos_x), x * x * x


@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def _form_factors(t, c):
    """(G_el, G_inel) = (G_el^atom G_el^nuc, G_inel^atom G_inel^nuc) at t [GeV^2] as the fractions
    ``(n_el, d_el, n_inel, d_inel)``, so that the caller divides once for both (§7.3, Eqs. (16)-(20)):
    zero above t_cut; the atomic factors are 1 without screening (``c[P_SCREEN] == 0``), G_inel is 0
    for coherent scattering only (``c[P_INCOH] == 0``)."""
    if t > c[P_TCUT]:
        return 0.0, 1.0, 0.0, 1.0
    sn, sd = _sphere_ff(c[P_RA] * math.sqrt(t))
    g_num = c[P_ZC] * sn
    g_den = sd * (1.0 + c[P_A02] * t)
    tau = t * c[P_INV4MP2]
    num = c[P_Z] * (1.0 + c[P_MUP2] * tau) + (c[P_A] - c[P_Z]) * c[P_MUN2] * tau
    d = 1.0 + t * (1.0 / c[P_T0])
    d2 = d * d
    n_inel = num if c[P_INCOH] != 0.0 else 0.0
    d_inel = d2 * d2 * (1.0 + tau)
    if c[P_SCREEN] == 0.0:
        return g_num * g_num, g_den * g_den, n_inel, d_inel
    x = c[P_A2] * t
    xp = c[P_AP2] * t
    return (x * g_num) ** 2, ((1.0 + x) * g_den) ** 2, xp * xp * n_inel, (1.0 + xp) ** 2 * d_inel


@numba.njit(cache=True, inline="always", error_model="numpy", fastmath={"contract", "arcp"})
def _amplitude_and_weight(cell, c, W, E_a, k, th, sin_th, V, u, t, dtdr, s0, s1, w):
    """At one physical point: ``(a0, a1, a2, wc, wi)`` with ``Abar = cpl[0] a0 + cpl[1] a1 + cpl[2] a2`` for a
    coupling row ``cpl`` (:func:`integrand_kernel`: spin 0 ``(X, Y, 0)``, §7.6; spin 1 ``(<2X + W_0>, X /
    m_X^2 + <8 t P^2 I1 / u>, Y)``, §7.14) and the coherent and incoherent weights ``wc``, ``wi``: the
    prefactor ``alpha^2/(32 pi M^2) |k|/(|p| V) / t^2`` times the form factor (§7.3) times the Jacobian
    ``w sin(theta_a) theta_a dt/dr``."""
    E, m_a, M, _, _, _, p, _, _, _, _, _ = cell
    # §7.6: closed-form phi_q average, Abar = g_eff^2 X + Delta_m Y
    root = math.sqrt((s0 - s1) * (s0 + s1))
    inv = 1.0 / (u * root)  # one division for 1/u and I1
    I1 = u * inv
    inv_u = root * inv
    I2 = s0 * I1 * I1 * I1
    K = 2.0 * M * E_a
    B = 2.0 * M * E - 0.5 * t
    C = 2.0 * M * W - 0.5 * t
    T1 = s0 * inv_u + 2.0 + u * I1
    T2 = -K * inv_u + K * (K - u) * I1 * inv_u + 0.25 * T1
    T3 = inv_u * inv_u + 2.0 * I1 * inv_u + I2
    T4 = C * C * inv_u * inv_u + 2.0 * B * C * I1 * inv_u + B * B * I2
    P2 = 4.0 * M * M + t
    X = P2 * T1 - 4.0 * t * T2
    Y = P2 * t * T3 - 4.0 * T4
    n_el, d_el, n_inel, d_inel = _form_factors(t, c)
    # prefactor (§7.6) times the Jacobian (dE_a = w dln w, dcos = sin th th dln(th / theta_s)) times
    # the form factors, over one common denominator
    base = c[P_PREF] * k * w * sin_th * th * dtdr / (p * V * t * t * d_el * d_inel)
    wc, wi = base * n_el * d_inel, base * n_inel * d_el
    if c[P_FAMILY] == 0.0:
        return X, Y, 0.0, wc, wi
    # §7.14: <2X + W_0> and X / m_X^2 + <8 t P^2 / (s u)>
    mX2 = m_a * m_a
    xw = (2.0 * X - 4.0 * P2 + 4.0 * t * (2.0 * C + u) * (1.0 - 2.0 * B * I1) * inv_u
          - 4.0 * t * P2 * (-1.0 + (2.0 * mX2 - t - u) * I1) * inv_u)
    xd = X / mX2 + 8.0 * t * P2 * I1 * inv_u
    return xw, xd, Y, wc, wi


#: points per block of :func:`integrand_kernel`'s five loops (the scratch array stays in L1)
BLOCK = 64
# rows of the kernel's scratch array (``_WV``: w = E - E_a - m_final; the others as in :func:`point_kinematics`)
(_OK, _W, _EA, _K, _PMK, _U0, _TH, _SIN, _V, _U, _VZ, _TLO, _TUP, _WV, _T, _DTDR, _S0, _S1, _NROW) = range(19)


@numba.njit(cache=True, error_model="numpy", fastmath={"contract", "arcp"})
def integrand_kernel(y, c, cpl, coh, inc, e_f):
    """Fill ``coh``, ``inc`` (k, N) and ``e_f`` (N) at the vegas points ``y`` (N, 3) = (ln w, ln(theta_a /
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
    the densities are 0 and ``e_f = E - E_a`` (a finite dummy).
    The points go in blocks of :data:`BLOCK` through five loops, :func:`point_angle`,
    :func:`point_window`, :func:`t_map`, :func:`point_s` and :func:`_amplitude_and_weight`, with the
    values passed between them in a small scratch array: a point's whole chain (~400 instructions,
    most of them dependent divisions, square roots and libm calls) is longer than what the CPU can
    reorder, so in a single loop the points would run one after the other at the chain's latency;
    short loops let the CPU overlap consecutive points (docs/scaling.md, "The integrand per point").
    """
    cell = cell_kinematics(c)
    t_nuc = cell[5]
    nk = cpl.shape[0]
    n = y.shape[0]
    s = np.empty((_NROW, BLOCK))
    for start in range(0, n, BLOCK):
        nb = min(BLOCK, n - start)
        for b in range(nb):  # §7.5, §7.8: the ALP's energy and angle
            w = math.exp(y[start + b, 0])
            s[_WV, b] = w
            s[_W, b], s[_EA, b], s[_K, b], s[_PMK, b], s[_U0, b], s[_TH, b] = point_angle(cell, w, y[start + b, 1])
        for b in range(nb):  # §7.7: the t window
            (ok, _, s[_SIN, b], s[_V, b], s[_U, b], s[_VZ, b], s[_TLO, b], s[_TUP, b]) = point_window(
                cell, s[_WV, b], s[_W, b], s[_K, b], s[_PMK, b], s[_U0, b], s[_TH, b])
            s[_OK, b] = 1.0 if ok else 0.0
        for b in range(nb):  # §7.8: t
            if s[_OK, b] != 0.0:
                s[_T, b], s[_DTDR, b] = t_map(y[start + b, 2], s[_TLO, b], s[_TUP, b], t_nuc)
        for b in range(nb):  # §7.5: s = s0 + s1 cos(phi_q)
            if s[_OK, b] == 0.0:
                e_f[start + b] = s[_W, b]
                continue
            e_f[start + b], _, _, _, s[_S0, b], s[_S1, b] = point_s(
                cell, s[_W, b], s[_K, b], s[_SIN, b], s[_V, b], s[_U, b], s[_VZ, b], s[_T, b])
        for b in range(nb):  # §7.6 / §7.14, §7.3: the amplitude and the weights
            i = start + b
            if s[_OK, b] == 0.0:
                for j in range(nk):
                    coh[j, i] = 0.0
                    inc[j, i] = 0.0
                continue
            a0, a1, a2, wc, wi = _amplitude_and_weight(cell, c, s[_W, b], s[_EA, b], s[_K, b], s[_TH, b],
                                                       s[_SIN, b], s[_V, b], s[_U, b], s[_T, b], s[_DTDR, b],
                                                       s[_S0, b], s[_S1, b], s[_WV, b])
            for j in range(nk):
                abar = cpl[j, 0] * a0 + cpl[j, 1] * a1 + cpl[j, 2] * a2
                coh[j, i] = wc * abar
                inc[j, i] = wi * abar


def evaluate(y, c, cpl):
    """(coh, inc, e_f) of :func:`integrand_kernel` for the coupling rows ``cpl`` (k, :data:`N_COUPLING`)."""
    y = np.ascontiguousarray(y, dtype=np.float64)
    cpl = np.ascontiguousarray(cpl, dtype=np.float64)
    n = y.shape[0]
    coh = np.empty((cpl.shape[0], n))
    inc = np.empty((cpl.shape[0], n))
    e_f = np.empty(n)
    integrand_kernel(y, c, cpl, coh, inc, e_f)
    return coh, inc, e_f


def evaluate_cell(y, cp, rows):
    """(coh, inc, e_f) of :func:`integrand_kernel` at the vegas points ``y`` of the cell ``cp`` (a
    :class:`~lfvscan.xsec.integrand.CellPhysics`, its :attr:`~lfvscan.xsec.integrand.CellPhysics.constants`)
    for the coupling rows ``rows`` (k, :data:`N_COUPLING`)."""
    return evaluate(y, cp.constants, rows)
