"""Lab-frame distributions of a collider cell (docs/physics.md §7.16): the final lepton's and the
boson's lab pseudorapidity and energy, as 2-D histograms filled from the vegas points of the cell.

A collider cell is integrated in the nucleus rest frame (§7.15); the lab frame moves along +z
relative to it (the nucleus beam moves along -z in the lab), so a particle of rapidity ``y*`` in the
nucleus frame has the lab rapidity ``y = y* - Y`` with ``Y = acosh(gamma)`` of the nucleus beam, the
same transverse momentum ``p_T`` and transverse mass ``m_T``, the lab energy ``m_T cosh y`` and the lab
pseudorapidity ``asinh(m_T sinh(y) / p_T)`` (cancellation-free at any boost).

The boson's direction is a vegas variable (theta_a, with E_a), so each point goes into one bin of
the boson histogram.  The final lepton's direction also depends on the azimuth phi_q of the
photon around ``V = p - k``, which the integrand averages in closed form (§7.6): each point's weight
is therefore split over ``N_PHI_SEGMENTS`` azimuth segments, in proportion to the exact integral of
the unaveraged amplitude over each segment, and each segment's share goes into the bin of the lepton
at the segment's middle.  The amplitude is ``a_0 + a_1 s + a_-1 / s + a_-2 / s^2`` in ``s = s0 + s1
cos(phi)`` for both boson families, so the closed-form average of §7.6/§7.14 is linear in the four
moments ``<1>, <s>, <1/s>, <1/s^2>``; over a segment these moments have closed forms in the variable
``tau`` with ``tan(phi/2) = tan(tau) sqrt((s0 + s1)/(s0 - s1))`` (``dphi / s`` is flat in tau, so the
segments, equal in tau, follow the 1/s peak of the amplitude).  The shares of a point add up to its
weight (to rounding), so each histogram integrates to the cell's sigma_total; only the placement of a
share within its segment is approximate (the lepton's azimuth spread inside a segment).

Grids (fixed, the same for every cell): :data:`LAB_ETA_EDGES` in pseudorapidity (positive along the
lepton beam; first and last bins are under/overflow) and :data:`LAB_X_EDGES` in the lab energy as a
fraction of the lepton beam's lab energy (first bin from 0, last to infinity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from lfvscan.xsec.kernel import P_FAMILY, cell_kinematics, point_kinematics

#: pseudorapidity bin edges of the lab histograms (24 bins; +-3.5 and +-6 are edges: the EIC and
#: MuSIC acceptances of issue 20 are sums of whole bins)
LAB_ETA_EDGES = np.array([-np.inf, -10.0, -8.0, -7.0, -6.0, -5.0, -4.0, -3.5, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0,
                          3.5, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 12.0, 15.0, np.inf])
#: lab-energy bin edges as fractions of the lepton beam's lab energy (12 bins: quarter decades from
#: 0.01 to 10^0.5, below 0.01 and above 10^0.5)
LAB_X_EDGES = np.concatenate([[0.0], 10.0 ** np.linspace(-2.0, 0.5, 11), [np.inf]])
#: azimuth segments per point for the lepton's direction (module docstring)
N_PHI_SEGMENTS = 8
#: bins of one 2-D histogram (pseudorapidity-major: bin = i_eta * n_x + i_x)
N_LAB_BINS = (len(LAB_ETA_EDGES) - 1) * (len(LAB_X_EDGES) - 1)
#: the |eta| cuts the grid resolves (an edge whose negative is an edge too; infinity: no cut)
ACC_ETA_CUTS = np.array([e for e in LAB_ETA_EDGES if e > 0 and -e in LAB_ETA_EDGES])
#: acceptance sets {|eta| < cut, E >= lower edge of an energy bin} whose MC variances are accumulated
#: exactly (cut-major: set = i_cut * n_x + i_x)
N_LAB_ACC = len(ACC_ETA_CUTS) * (len(LAB_X_EDGES) - 1)


def _bin_set_indices() -> tuple[np.ndarray, np.ndarray]:
    """Per 2-D bin: the smallest cut index whose |eta| < cut contains the bin, and its energy index."""
    lo, hi = LAB_ETA_EDGES[:-1], LAB_ETA_EDGES[1:]
    need = np.maximum(np.abs(lo), np.abs(hi))
    c_eta = np.array([int(np.searchsorted(ACC_ETA_CUTS, v)) for v in need], dtype=np.int64)
    nx = len(LAB_X_EDGES) - 1
    return np.repeat(c_eta, nx), np.tile(np.arange(nx, dtype=np.int64), len(c_eta))


BIN_CUT_INDEX, BIN_X_INDEX = _bin_set_indices()


def _segment_constants(n: int) -> np.ndarray:
    """(8, n) per tau segment of [0, pi/2]: lower edge, width, ``int 2 sin^2(tau) dtau`` over it
    (= width - cos(a + b) sin(b - a), no cancellation at small tau), middle, and the cosine and sine of
    the middle and of the upper edge (the kernel's trigonometry of tau, computed once)."""
    edges = np.linspace(0.0, 0.5 * math.pi, n + 1)
    a, b = edges[:-1], edges[1:]
    width = b - a
    g = width - np.cos(a + b) * np.sin(width)
    mid = 0.5 * (a + b)
    return np.array([a, width, g, mid, np.cos(mid), np.sin(mid), np.cos(b), np.sin(b)])


SEGMENTS = _segment_constants(N_PHI_SEGMENTS)


@dataclass(frozen=True)
class LabFrame:
    """What the lab histograms of one collider cell need: the rapidity ``Y = acosh(gamma)`` of the
    nucleus beam [1] and the lepton beam's lab energy [GeV] (the unit of the energy axis)."""

    rapidity: float
    beam_energy_GeV: float


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
    Long because the chain of one point stays in registers in one compiled loop, as in the kernel.
    """
    cell = cell_kinematics(c)
    E, m_a, M, _, m_final, _, p, _, _ = cell
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
            cell, c, w, y[i, 1], y[i, 2])
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


def acceptance_variances(corner: np.ndarray) -> np.ndarray:
    """(3, :data:`N_LAB_ACC`) variances (S, P) and covariance of the acceptance sets, cut-major, from the
    corners of :func:`accumulate_lab`: the sum over I <= cut index and J >= energy index."""
    c = np.cumsum(corner, axis=1)
    c = np.cumsum(c[:, :, ::-1], axis=2)[:, :, ::-1]
    return c.reshape(3, -1)


def lab_deposits(y, cp, rows, lab: LabFrame):
    """(boson bins (N, 1), boson shares (k, N, 1), lepton bins (N, n_seg), lepton shares (k, N, n_seg))
    at the vegas points ``y`` of the cell ``cp`` (:class:`~lfvscan.xsec.integrand.CellPhysics`) for the
    coupling rows ``rows`` (k, 3) (:func:`lab_kernel`)."""
    y = np.ascontiguousarray(y, dtype=np.float64)
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    n, k = y.shape[0], rows.shape[0]
    lep_bin = np.empty((n, N_PHI_SEGMENTS), dtype=np.int64)
    lep_frac = np.empty((k, n, N_PHI_SEGMENTS))
    bos_bin = np.empty(n, dtype=np.int64)
    lab_kernel(y, cp.constants, rows, SEGMENTS, math.exp(-lab.rapidity), lab.beam_energy_GeV, LAB_ETA_EDGES, LAB_X_EDGES,
               lep_bin, lep_frac, bos_bin)
    return bos_bin[:, None], np.ones((k, n, 1)), lep_bin, lep_frac


def fill_lab(x, wgt, hcube, f, cp, rows, lab: LabFrame, sums: dict) -> None:
    """Add one batch of a frozen-map iteration (points ``x``, weights, hypercubes, the integrand's two
    parts ``f`` (2, N)) to the lab histograms in ``sums`` (:func:`empty_lab_sums`)."""
    bb, bf, lb, lf = lab_deposits(x, cp, rows, lab)
    f = np.ascontiguousarray(f, dtype=np.float64)
    for p, bins, frac in (("lepton", lb, lf), ("boson", bb, bf)):
        accumulate_lab(f, wgt, hcube, bins, frac, sums[f"lab_{p}_mean"], sums[f"lab_{p}_var"], BIN_CUT_INDEX,
                       BIN_X_INDEX, sums[f"lab_{p}_acc_var"])


def empty_lab_sums() -> dict:
    """Zeroed sums of :func:`fill_lab` (``*_acc_var``: the corners of :func:`accumulate_lab`)."""
    corner = (3, len(ACC_ETA_CUTS), len(LAB_X_EDGES) - 1)
    out = {}
    for p in ("lepton", "boson"):
        out.update({f"lab_{p}_mean": np.zeros((2, N_LAB_BINS)), f"lab_{p}_var": np.zeros((3, N_LAB_BINS)),
                    f"lab_{p}_acc_var": np.zeros(corner)})
    return out


#: the two lab histograms of a cell: the final lepton's and the boson's
LAB_PARTICLES = ("lepton", "boson")


@dataclass(frozen=True)
class LabDistributions:
    """The lab-frame histograms of one collider cell (module docstring), for g = 1.

    For each particle of :data:`LAB_PARTICLES`: ``<particle>_pb`` (:data:`N_LAB_BINS`,) the cross
    section in each (pseudorapidity, energy) bin [pb] at the cell's couplings (not a density: a sum of
    bins is a cross section, and all bins add up to sigma_total), ``<particle>_err_pb`` its MC error,
    ``<particle>_parts_pb`` (2, N_LAB_BINS) the two parts (scalar and pseudoscalar, or vector and
    axial; docs/physics.md §7.12, §7.14) and ``<particle>_parts_var_pb2`` (3, N_LAB_BINS) their
    variances and covariance.  Bins are pseudorapidity-major over :data:`LAB_ETA_EDGES` x
    :data:`LAB_X_EDGES` (:meth:`grid`); ``beam_energy_GeV``: the lepton beam's lab energy, the unit of
    the energy axis.  ``<particle>_accepted_err_pb`` (:data:`N_LAB_ACC`,) is the MC error of the cross
    section of each acceptance set {|eta| < cut, E >= lower edge of an energy bin} (:data:`ACC_ETA_CUTS`
    x energy bins, cut-major; the cross section itself is the sum of its bins), and
    ``<particle>_accepted_parts_var_pb2`` (3, N_LAB_ACC) the parts' variances and covariance: bins of
    one cell share points, so these are not sums of the bins' variances (:func:`accumulate_lab`).
    """

    beam_energy_GeV: float
    lepton_pb: np.ndarray
    lepton_err_pb: np.ndarray
    lepton_parts_pb: np.ndarray
    lepton_parts_var_pb2: np.ndarray
    boson_pb: np.ndarray
    boson_err_pb: np.ndarray
    boson_parts_pb: np.ndarray
    boson_parts_var_pb2: np.ndarray
    lepton_accepted_err_pb: np.ndarray
    lepton_accepted_parts_var_pb2: np.ndarray
    boson_accepted_err_pb: np.ndarray
    boson_accepted_parts_var_pb2: np.ndarray

    eta_edges = LAB_ETA_EDGES
    x_edges = LAB_X_EDGES

    def grid(self, name: str) -> np.ndarray:
        """Array ``name`` (e.g. ``"lepton_pb"``) as (..., n_eta, n_x)."""
        v = getattr(self, name)
        return v.reshape(v.shape[:-1] + (len(LAB_ETA_EDGES) - 1, len(LAB_X_EDGES) - 1))

    def energy_edges_GeV(self) -> np.ndarray:
        """The energy-axis edges in GeV (``LAB_X_EDGES`` times the lepton beam's lab energy)."""
        return LAB_X_EDGES * self.beam_energy_GeV

    def to_dict(self) -> dict:
        """JSON-ready dict (arrays as lists, the grid's edges included; an infinite edge, the open end of
        an end bin, is None: standard JSON has no infinity)."""
        d = {"beam_energy_GeV": self.beam_energy_GeV,
             "eta_edges": [e if math.isfinite(e) else None for e in LAB_ETA_EDGES.tolist()],
             "x_edges": [e if math.isfinite(e) else None for e in LAB_X_EDGES.tolist()]}
        for p in LAB_PARTICLES:
            for suffix in ("pb", "err_pb", "parts_pb", "parts_var_pb2", "accepted_err_pb", "accepted_parts_var_pb2"):
                d[f"{p}_{suffix}"] = getattr(self, f"{p}_{suffix}").tolist()
        return d


def lab_distributions(avg: dict | None, ab: tuple[float, float] | None, lab: LabFrame,
                      error_scale: float) -> LabDistributions:
    """The :class:`LabDistributions` of a cell from the averaged frozen-map sums ``avg`` (keys of
    :func:`empty_lab_sums`) at the couplings ``ab`` = (weight of the first part, of the second):
    totals ``a S + b P`` with variance ``a^2 var_S + b^2 var_P + 2 a b cov`` (§7.12), every variance
    and covariance times ``error_scale``^2, the PDG factor the cell's other errors carry (§7.12).
    ``avg`` None: a closed cell (all zero)."""
    if avg is None:
        avg, ab = empty_lab_sums(), (1.0, 1.0)
    a, b = ab
    s2 = error_scale * error_scale
    out = {}
    for p in LAB_PARTICLES:
        mean, var = avg[f"lab_{p}_mean"], s2 * avg[f"lab_{p}_var"]
        tot_var = a * a * var[0] + b * b * var[1] + 2.0 * a * b * var[2]
        out[f"{p}_pb"] = a * mean[0] + b * mean[1]
        out[f"{p}_err_pb"] = np.sqrt(np.maximum(tot_var, 0.0))
        out[f"{p}_parts_pb"] = mean.copy()
        out[f"{p}_parts_var_pb2"] = var.copy()
        acc = s2 * acceptance_variances(avg[f"lab_{p}_acc_var"])
        out[f"{p}_accepted_err_pb"] = np.sqrt(np.maximum(a * a * acc[0] + b * b * acc[1] + 2.0 * a * b * acc[2], 0.0))
        out[f"{p}_accepted_parts_var_pb2"] = acc
    return LabDistributions(beam_energy_GeV=lab.beam_energy_GeV, **out)


def _lab_suffixes():
    """(schema array suffix, LabDistributions attribute, index into it or None, square root?) of the
    eleven arrays of one lab histogram (:data:`lfvscan.schema.LAB_FIELDS`)."""
    return (("pb", "pb", None, False), ("err_pb", "err_pb", None, False), ("scalar_pb", "parts_pb", 0, False),
            ("pseudoscalar_pb", "parts_pb", 1, False), ("scalar_err_pb", "parts_var_pb2", 0, True),
            ("pseudoscalar_err_pb", "parts_var_pb2", 1, True), ("sp_cov_pb2", "parts_var_pb2", 2, False),
            ("accepted_err_pb", "accepted_err_pb", None, False),
            ("accepted_scalar_err_pb", "accepted_parts_var_pb2", 0, True),
            ("accepted_pseudoscalar_err_pb", "accepted_parts_var_pb2", 1, True),
            ("accepted_sp_cov_pb2", "accepted_parts_var_pb2", 2, False))


def lab_field_values(lab: LabDistributions) -> dict[str, np.ndarray]:
    """The store arrays (:data:`lfvscan.schema.LAB_FIELDS`, one row each) of a cell's lab histograms."""
    out = {}
    for p in LAB_PARTICLES:
        for suffix, attr, index, root in _lab_suffixes():
            v = getattr(lab, f"{p}_{attr}")
            v = v if index is None else v[index]
            out[f"lab_{p}_{suffix}"] = np.sqrt(np.maximum(v, 0.0)) if root else v
    return out


def lab_from_field_values(values: dict, beam_energy_GeV: float) -> LabDistributions | None:
    """The :class:`LabDistributions` of one cell from its rows of the store arrays (inverse of
    :func:`lab_field_values`); None if they hold the fill value (a fixed-target cell)."""
    if np.all(np.isnan(values["lab_lepton_pb"])):
        return None
    kw = {}
    for p in LAB_PARTICLES:
        g = {s: np.asarray(values[f"lab_{p}_{s}"], dtype=float) for s, *_ in _lab_suffixes()}
        kw.update({f"{p}_pb": g["pb"], f"{p}_err_pb": g["err_pb"],
                   f"{p}_parts_pb": np.array([g["scalar_pb"], g["pseudoscalar_pb"]]),
                   f"{p}_parts_var_pb2": np.array([g["scalar_err_pb"] ** 2, g["pseudoscalar_err_pb"] ** 2,
                                                   g["sp_cov_pb2"]]),
                   f"{p}_accepted_err_pb": g["accepted_err_pb"],
                   f"{p}_accepted_parts_var_pb2": np.array([g["accepted_scalar_err_pb"] ** 2,
                                                            g["accepted_pseudoscalar_err_pb"] ** 2,
                                                            g["accepted_sp_cov_pb2"]])})
    return LabDistributions(beam_energy_GeV=float(beam_energy_GeV), **kw)
