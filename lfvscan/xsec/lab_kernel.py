"""Compiled loops of the lab-frame histograms of a collider cell (docs/physics.md §7.16;
:mod:`lfvscan.xsec.labframe` holds the grids, the result type and the Python side): the per-point lab
pseudorapidity and energy of the boson and of the final lepton in each azimuth segment
(:func:`lab_kernel`), and the stratified sums of one frozen-map iteration with the exact variances of
every acceptance set (:func:`accumulate_lab`).  A module of its own so that numba is imported only
when a collider cell is integrated (:mod:`lfvscan.xsec.engine`)."""

from __future__ import annotations

import math

import numba
import numpy as np

from lfvscan.xsec.kernel import P_FAMILY, cell_kinematics, point_kinematics


@numba.njit(cache=True, inline="always", error_model="numpy")
def _lab_eta_x(E, pz, pT, m, exp_minus_Y, E_beam):
    """(lab pseudorapidity, lab energy / E_beam) of a particle of nucleus-frame energy E [GeV],
    longitudinal momentum pz and transverse momentum pT [GeV], mass m, for the boost ``exp(-Y)``
    (module docstring): ``e^y = e^{y*} e^{-Y}`` with ``e^{y*} = (E + pz)/m_T`` (pz >= 0) or ``m_T/(E - pz)``,
    ``m_T sinh y``, ``m_T cosh y`` from it (no logarithm until the pseudorapidity's asinh)."""
    mT = math.sqrt(m * m + pT * pT)
    if pz >= 0.0:
        ey = (E + pz) / mT * exp_minus_Y
    else:
        ey = mT / (E - pz) * exp_minus_Y
    half_mT = 0.5 * mT
    mT_sinh = half_mT * (ey - 1.0 / ey)
    if pT > 0.0:
        eta = math.asinh(mT_sinh / pT)
    else:
        eta = math.inf if mT_sinh >= 0.0 else -math.inf
    return eta, half_mT * (ey + 1.0 / ey) / E_beam


@numba.njit(cache=True, inline="always", error_model="numpy")
def _bin2d(eta, x, eta_edges, x_edges):
    """Bin of (eta, x) in the pseudorapidity-major 2-D grid (values outside go to the end bins)."""
    ne, nx = eta_edges.shape[0] - 1, x_edges.shape[0] - 1
    ie = min(max(np.searchsorted(eta_edges, eta, side="right") - 1, 0), ne - 1)
    ix = min(max(np.searchsorted(x_edges, x, side="right") - 1, 0), nx - 1)
    return ie * nx + ix


@numba.njit(cache=True, inline="always", error_model="numpy")
def _phi_of_tau(c, s, r, r2):
    """(phi, sin(phi)) at the tau of cosine ``c`` and sine ``s`` for ``r = sqrt((s0 - s1)/(s0 + s1))``:
    tan(phi/2) = tan(tau) / r."""
    return 2.0 * math.atan2(s, r * c), 2.0 * r * s * c / (r2 * c * c + s * s)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _moments(s0, s1, smin, i1, dphi, dsin, width, g):
    """The moments of :func:`segment_moments` from the segment's phi and sin(phi) increments."""
    m0 = dphi / math.pi
    m1 = (s0 * dphi + s1 * dsin) / math.pi
    mm1 = 2.0 / math.pi * width * i1
    mm2 = 2.0 / math.pi * i1 * i1 * i1 * (smin * width + s1 * g)
    return m0, m1, mm1, mm2


@numba.njit(cache=True, error_model="numpy")
def segment_moments(s0, s1, tau_lo, width, g):
    """The phi averages (1/pi) int over the segment of 1, s, 1/s, 1/s^2 with ``s = s0 + s1 cos(phi)``
    (s0 > s1 >= 0), for the segment [tau_lo, tau_lo + width] of tau (module docstring; ``g`` = int
    2 sin^2(tau) dtau over it, :data:`SEGMENTS`): ``dphi/s = 2 I1 dtau`` and ``dphi/s^2 = 2 I1^3 ((s0 -
    s1) + 2 s1 sin^2 tau) dtau`` with ``I1 = (s0^2 - s1^2)^(-1/2)``; over [0, pi/2] they are (1, s0,
    I1, I2) of §7.6."""
    smin = s0 - s1
    r2 = smin / (s0 + s1)
    r = math.sqrt(r2)
    i1 = 1.0 / math.sqrt(smin * (s0 + s1))
    phi_a, sin_a = _phi_of_tau(math.cos(tau_lo), math.sin(tau_lo), r, r2)
    phi_b, sin_b = _phi_of_tau(math.cos(tau_lo + width), math.sin(tau_lo + width), r, r2)
    return _moments(s0, s1, smin, i1, phi_b - phi_a, sin_b - sin_a, width, g)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _abar_moments(m0, m1, mm1, mm2, u, t, K, B, C, P2, vector, mX2, g0, g1, g2):
    """Abar of §7.6 (spin 0, row (g_eff^2, Delta_m, 0)) or §7.14 (spin 1, row (g2, d, delta)) with the
    phi averages <1>, <s>, <1/s>, <1/s^2> replaced by the moments m0, m1, mm1, mm2 (module
    docstring): with (1, s0, I1, I2) it is the kernel's closed form."""
    inv_u = 1.0 / u
    T1 = m1 * inv_u + 2.0 * m0 + u * mm1
    T2 = -K * m0 * inv_u + K * (K - u) * mm1 * inv_u + 0.25 * T1
    T3 = m0 * inv_u * inv_u + 2.0 * mm1 * inv_u + mm2
    T4 = C * C * m0 * inv_u * inv_u + 2.0 * B * C * mm1 * inv_u + B * B * mm2
    X = P2 * T1 - 4.0 * t * T2
    Y = P2 * t * T3 - 4.0 * T4
    if vector:
        xw = (2.0 * X - 4.0 * P2 * m0 + 4.0 * t * (2.0 * C + u) * (m0 - 2.0 * B * mm1) * inv_u
              - 4.0 * t * P2 * (-m0 + (2.0 * mX2 - t - u) * mm1) * inv_u)
        xd = X / mX2 + 8.0 * t * P2 * mm1 * inv_u
        return g0 * xw + g1 * xd + g2 * Y
    return g0 * X + g1 * Y


@numba.njit(cache=True, error_model="numpy", fastmath={"contract", "arcp"})
def lab_kernel(y, c, cpl, seg, exp_minus_Y, E_beam, eta_edges, x_edges, lep_bin, lep_frac, bos_bin):
    """Fill, at the vegas points ``y`` (N, 3) of :func:`lfvscan.xsec.kernel.integrand_kernel` (same
    cell constants ``c`` and coupling rows ``cpl``): ``bos_bin`` (N) the boson's 2-D lab bin,
    ``lep_bin`` (N, n_seg) the lepton's 2-D lab bin in each azimuth segment and ``lep_frac`` (k, N,
    n_seg) the share of the point's weight in each segment for each coupling row (module docstring;
    ``seg``: :data:`SEGMENTS`; ``exp_minus_Y``: ``exp(-Y)`` of the boost; ``E_beam``: the lepton's lab
    energy [GeV]).  Points outside the physical region get bin 0 and equal shares (their
    weight is 0).  The kinematics up to s0, s1 are the kernel's
    (:func:`lfvscan.xsec.kernel.point_kinematics`), so both agree on which points are physical.
    Long because the chain of one point stays in registers in one compiled loop.
    """
    cell = cell_kinematics(c)
    E, m_a, M, _, m_final, _, p, _, _, _, _, _ = cell
    nk, nseg = cpl.shape[0], seg.shape[1]
    vector = c[P_FAMILY] != 0.0
    mX2 = m_a * m_a
    for i in range(y.shape[0]):
        bos_bin[i] = 0
        for j in range(nseg):
            lep_bin[i, j] = 0
            for r in range(nk):
                lep_frac[r, i, j] = 1.0 / nseg
        w = math.exp(y[i, 0])
        ok, W, E_a, k, _, sh2, sin_th, V, u, t, _, e_f, q_abs, cq, sq, Vz, s0, s1 = point_kinematics(
            cell, w, y[i, 1], y[i, 2])
        if not ok:
            continue
        # the boson: one bin per point
        kz = k * (1.0 - 2.0 * sh2)
        eta_b, x_b = _lab_eta_x(E_a, kz, k * sin_th, m_a, exp_minus_Y, E_beam)
        bos_bin[i] = _bin2d(eta_b, x_b, eta_edges, x_edges)
        # the lepton: azimuth segments (module docstring)
        K = 2.0 * M * E_a
        B = 2.0 * M * E - 0.5 * t
        C = 2.0 * M * W - 0.5 * t
        P2 = 4.0 * M * M + t
        smin = s0 - s1
        r2 = smin / (s0 + s1)
        r = math.sqrt(r2)
        i1 = 1.0 / math.sqrt(smin * (s0 + s1))
        phi_lo = 0.0
        sin_lo = 0.0
        for j in range(nseg):
            phi_hi, sin_hi = _phi_of_tau(seg[6, j], seg[7, j], r, r2)
            m0, m1, mm1, mm2 = _moments(s0, s1, smin, i1, phi_hi - phi_lo, sin_hi - sin_lo, seg[1, j], seg[2, j])
            phi_lo, sin_lo = phi_hi, sin_hi
            for rw in range(nk):
                abar = _abar_moments(m0, m1, mm1, mm2, u, t, K, B, C, P2, vector, mX2, cpl[rw, 0], cpl[rw, 1],
                                     cpl[rw, 2])
                lep_frac[rw, i, j] = max(abar, 0.0)
            # the lepton at the segment's middle: p' = V + q, q at angle theta_q0 to V, azimuth phi
            cm, sm = seg[4, j], seg[5, j]
            dd = r2 * cm * cm + sm * sm
            c_phi = -(r2 * cm * cm - sm * sm) / dd  # cos(phi) in the frame where q_z grows with it
            s_phi = 2.0 * r * sm * cm / dd
            pz = Vz + q_abs * (cq * Vz + sq * c_phi * k * sin_th) / V
            px = -k * sin_th + q_abs * (-cq * k * sin_th + sq * c_phi * Vz) / V
            py = q_abs * sq * s_phi
            eta_l, x_l = _lab_eta_x(e_f, pz, math.sqrt(px * px + py * py), m_final, exp_minus_Y, E_beam)
            lep_bin[i, j] = _bin2d(eta_l, x_l, eta_edges, x_edges)
        for rw in range(nk):
            tot = 0.0
            for j in range(nseg):
                tot += lep_frac[rw, i, j]
            for j in range(nseg):
                lep_frac[rw, i, j] = lep_frac[rw, i, j] / tot if tot > 0.0 else 1.0 / nseg


@numba.njit(cache=True, inline="always", error_model="numpy")
def _add_pairs(corner, bins, ntouched, a0, a1, c_eta, c_x, scale):
    """corner[:, I, J] += scale * (a0 a0', a1 a1', a0 a1') for every ordered pair of the ``ntouched``
    bins listed in ``bins`` (values a0, a1 per bin), with I = the larger cut index and J = the smaller
    energy index of the two (:func:`accumulate_lab`)."""
    for q1 in range(ntouched):
        b1 = bins[q1]
        for q2 in range(ntouched):
            b2 = bins[q2]
            ci = max(c_eta[b1], c_eta[b2])
            cj = min(c_x[b1], c_x[b2])
            corner[0, ci, cj] += scale * a0[b1] * a0[b2]
            corner[1, ci, cj] += scale * a1[b1] * a1[b2]
            corner[2, ci, cj] += scale * a0[b1] * a1[b2]


@numba.njit(cache=True, error_model="numpy")
def accumulate_lab(f, wgt, hcube, bins, frac, mean, var, c_eta, c_x, corner):
    """Add one batch to a 2-D lab histogram with vegas' stratified estimate (in place).

    ``f`` (2, N): the integrand's two parts at the points; ``wgt`` (N) vegas' weights; ``hcube`` (N)
    the hypercubes (each one's points contiguous); ``bins`` (N, n) and ``frac`` (2, N, n): the n
    deposits of each point (bin and share of its weight, per part).  Per hypercube h with n_h points
    and per bin b, ``v_ib`` = the point's deposits in b: ``mean_b += sum_i v_ib``, ``var_b += (n_h
    sum_i v_ib v'_ib - S_hb S'_hb) / (n_h - 1)`` (the estimator of
    :func:`lfvscan.xsec.driver._frozen_iteration`), for (S, S), (P, P), (S, P) in ``var`` (3, nb).

    The same estimator for the acceptance sets {|eta| < cut_I, E >= lower edge of energy bin J}
    (:data:`ACC_ETA_CUTS` x energy bins), whose sums are not those of their bins' variances: bin b
    lies in set (I, J) iff ``c_eta[b] <= I`` and ``c_x[b] >= J``, so a product of two bins' values
    belongs to the sets with I >= max(c_eta) and J <= min(c_x); ``corner`` (3, n_cut, n_x) collects
    each product at that corner (``n_h/(n_h-1)`` times the points' products, ``-1/(n_h-1)`` times the
    hypercube sums' products) and :func:`acceptance_variances` sums the corners into the sets.
    """
    nb = mean.shape[1]
    N = wgt.shape[0]
    nd = bins.shape[1]
    S = np.zeros((2, nb))
    Q = np.zeros((3, nb))
    pa = np.zeros((2, nb))
    in_point = np.zeros(nb, dtype=np.bool_)
    in_cube = np.zeros(nb, dtype=np.bool_)
    touched_p = np.empty(nd, dtype=np.int64)
    touched_c = np.empty(nb, dtype=np.int64)
    start = 0
    while start < N:
        end = start + 1
        while end < N and hcube[end] == hcube[start]:
            end += 1
        n = end - start
        nm1 = max(n - 1.0, 1.0)
        ntc = 0
        for i in range(start, end):
            ntp = 0
            for j in range(nd):
                b = bins[i, j]
                if not in_point[b]:
                    in_point[b] = True
                    touched_p[ntp] = b
                    ntp += 1
                pa[0, b] += wgt[i] * f[0, i] * frac[0, i, j]
                pa[1, b] += wgt[i] * f[1, i] * frac[1, i, j]
            _add_pairs(corner, touched_p, ntp, pa[0], pa[1], c_eta, c_x, n / nm1)
            for q in range(ntp):
                b = touched_p[q]
                if not in_cube[b]:
                    in_cube[b] = True
                    touched_c[ntc] = b
                    ntc += 1
                S[0, b] += pa[0, b]
                S[1, b] += pa[1, b]
                Q[0, b] += pa[0, b] * pa[0, b]
                Q[1, b] += pa[1, b] * pa[1, b]
                Q[2, b] += pa[0, b] * pa[1, b]
                pa[0, b] = 0.0
                pa[1, b] = 0.0
                in_point[b] = False
        _add_pairs(corner, touched_c, ntc, S[0], S[1], c_eta, c_x, -1.0 / nm1)
        for q in range(ntc):
            b = touched_c[q]
            mean[0, b] += S[0, b]
            mean[1, b] += S[1, b]
            var[0, b] += (n * Q[0, b] - S[0, b] * S[0, b]) / nm1
            var[1, b] += (n * Q[1, b] - S[1, b] * S[1, b]) / nm1
            var[2, b] += (n * Q[2, b] - S[0, b] * S[1, b]) / nm1
            S[0, b] = S[1, b] = 0.0
            Q[0, b] = Q[1, b] = Q[2, b] = 0.0
            in_cube[b] = False
        start = end
