"""Compiled sums of one frozen-map vegas iteration (docs/physics.md §7.12): vegas' stratified estimate
of sigma (total, coherent, incoherent), of d sigma / d ln x_tau per bin and of the upper tails, for
the scalar and pseudoscalar parts with their covariances.

The estimator is the one described in :func:`lfvscan.xsec.driver._frozen_iteration`: per hypercube h
with n_h points and values ``v_i = w_i f_i``, ``mean = sum_h (S_h + D_h)`` and ``var = sum_h (n_h
sum_i d_i^2 - D_h^2) / (n_h - 1)`` with ``S_h = sum_i v_i``, ``d_i = v_i - S_h / n_h``, ``D_h = sum_i
d_i`` (covariances with ``d_i d'_i`` and ``D_h D'_h``).  A bin component is ``v_i / dlnx`` for the
points in the bin and 0 for the others (``n_h - n_hb`` points with ``d = -m``, summed in closed
form); an upper tail sums the raw moments of the bins above it, ``(n_h Q_hk - S_hk S'_hk) / (n_h -
1)``.  One pass per hypercube collects the per-bin sums of the bins its points touch, so the cost
is linear in the points.  Why compiled: the same sums with numpy need a sort and ~40 array passes
per batch, more than the integrand itself (docs/scaling.md).
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def bin_indices(e_tau, E, lnx0, dlnx, nb):
    """Bin of ``ln(e_tau / E)`` on the grid ``lnx0 + k dlnx``, clipped into [0, nb - 1] (nan -> 0:
    such points carry zero weight)."""
    out = np.empty(e_tau.shape[0], dtype=np.int64)
    for i in range(e_tau.shape[0]):
        x = (math.log(e_tau[i] / E) - lnx0) / dlnx
        out[i] = min(int(x), nb - 1) if x >= 0.0 else 0
    return out


@numba.njit(cache=True, error_model="numpy")
def _cell_sums(f, wgt, start, end, cell_mean, cell_var):
    """Add one hypercube (points ``start:end``) of the components ``f`` (3, 2, N) = (total, coh, inc) x
    (S, P) to ``cell_mean`` (3, 2) and ``cell_var`` (3, 3) = (var_S, var_P, cov_SP)."""
    n = end - start
    nm1 = max(n - 1.0, 1.0)
    for c in range(3):
        s_s = 0.0
        s_p = 0.0
        for i in range(start, end):
            s_s += wgt[i] * f[c, 0, i]
            s_p += wgt[i] * f[c, 1, i]
        m_s, m_p = s_s / n, s_p / n
        d_s_sum = d_p_sum = dss = dpp = dsp = 0.0
        for i in range(start, end):
            ds = wgt[i] * f[c, 0, i] - m_s
            dp = wgt[i] * f[c, 1, i] - m_p
            d_s_sum += ds
            d_p_sum += dp
            dss += ds * ds
            dpp += dp * dp
            dsp += ds * dp
        cell_mean[c, 0] += s_s + d_s_sum
        cell_mean[c, 1] += s_p + d_p_sum
        cell_var[c, 0] += (n * dss - d_s_sum * d_s_sum) / nm1
        cell_var[c, 1] += (n * dpp - d_p_sum * d_p_sum) / nm1
        cell_var[c, 2] += (n * dsp - d_s_sum * d_p_sum) / nm1


@numba.njit(cache=True, error_model="numpy")
def accumulate(coh, inc, wgt, hcube, bins, dlnx, cell_mean, cell_var, bin_mean, bin_var, tail_diff):
    """Add one batch of a frozen-map iteration to the sums (in place; module docstring).

    ``coh``, ``inc`` (2, N): the integrand's scalar / pseudoscalar parts; ``wgt`` (N) vegas' weights;
    ``hcube`` (N) the hypercubes (each one's points contiguous); ``bins`` (N) the x_tau bins.
    ``cell_mean`` (3, 2), ``cell_var`` (3, 3), ``bin_mean`` (2, nb), ``bin_var`` (3, nb) as in
    :func:`lfvscan.xsec.driver._frozen_iteration`; ``tail_diff`` (3, nb): per-bin increments of the
    upper-tail variances of ``v / dlnx`` (the tail of bin k is the sum over bins >= k; the caller
    takes the reversed cumulative sum and multiplies by ``dlnx^2``).
    """
    nb = bin_mean.shape[1]
    N = wgt.shape[0]
    f = np.empty((3, 2, N))
    for p in range(2):
        for i in range(N):
            f[0, p, i] = coh[p, i] + inc[p, i]
            f[1, p, i] = coh[p, i]
            f[2, p, i] = inc[p, i]
    cnt = np.zeros(nb, dtype=np.int64)
    s1 = np.zeros((2, nb))
    q = np.zeros((3, nb))
    sd = np.zeros((2, nb))
    sdd = np.zeros((3, nb))
    touched = np.empty(nb, dtype=np.int64)
    start = 0
    while start < N:
        end = start + 1
        while end < N and hcube[end] == hcube[start]:
            end += 1
        _cell_sums(f, wgt, start, end, cell_mean, cell_var)
        n = end - start
        nm1 = max(n - 1.0, 1.0)
        nt = 0
        for i in range(start, end):  # raw per-bin sums
            b = bins[i]
            if cnt[b] == 0:
                touched[nt] = b
                nt += 1
            cnt[b] += 1
            vs = wgt[i] * f[0, 0, i] / dlnx
            vp = wgt[i] * f[0, 1, i] / dlnx
            s1[0, b] += vs
            s1[1, b] += vp
            q[0, b] += vs * vs
            q[1, b] += vp * vp
            q[2, b] += vs * vp
        for i in range(start, end):  # deviations from the per-bin means (points in the bin)
            b = bins[i]
            ds = wgt[i] * f[0, 0, i] / dlnx - s1[0, b] / n
            dp = wgt[i] * f[0, 1, i] / dlnx - s1[1, b] / n
            sd[0, b] += ds
            sd[1, b] += dp
            sdd[0, b] += ds * ds
            sdd[1, b] += dp * dp
            sdd[2, b] += ds * dp
        # touched bins in decreasing order, for the upper tails
        tb = np.sort(touched[:nt])[::-1]
        above_s = above_p = 0.0
        for b in tb:
            n_out = n - cnt[b]  # points of h outside bin b: value 0, deviation -m
            m_s, m_p = s1[0, b] / n, s1[1, b] / n
            d_s = sd[0, b] - n_out * m_s
            d_p = sd[1, b] - n_out * m_p
            bin_mean[0, b] += s1[0, b] + d_s
            bin_mean[1, b] += s1[1, b] + d_p
            bin_var[0, b] += (n * (sdd[0, b] + n_out * m_s * m_s) - d_s * d_s) / nm1
            bin_var[1, b] += (n * (sdd[1, b] + n_out * m_p * m_p) - d_p * d_p) / nm1
            bin_var[2, b] += (n * (sdd[2, b] + n_out * m_s * m_p) - d_s * d_p) / nm1
            t_s, t_p = above_s + s1[0, b], above_p + s1[1, b]
            tail_diff[0, b] += (n * q[0, b] - (t_s * t_s - above_s * above_s)) / nm1
            tail_diff[1, b] += (n * q[1, b] - (t_p * t_p - above_p * above_p)) / nm1
            tail_diff[2, b] += (n * q[2, b] - (t_s * t_p - above_s * above_p)) / nm1
            above_s, above_p = t_s, t_p
            cnt[b] = 0
            s1[0, b] = s1[1, b] = sd[0, b] = sd[1, b] = 0.0
            q[0, b] = q[1, b] = q[2, b] = sdd[0, b] = sdd[1, b] = sdd[2, b] = 0.0
        start = end
