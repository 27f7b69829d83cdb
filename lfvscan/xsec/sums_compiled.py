"""Compiled sums of one frozen-map iteration (numba): the compiled engine's half of
:mod:`lfvscan.xsec.accumulate`, which states the estimator (docs/physics.md §7.12).

One pass per hypercube collects the per-bin sums of the bins its points touch, so the cost is
linear in the points.  Why compiled: the same sums with numpy need a sort and ~40 array passes
per batch, more than the integrand itself (docs/scaling.md); :mod:`lfvscan.xsec.sums_numpy` does
them so for jobs too small to pay for loading numba (:mod:`lfvscan.xsec.engine`).
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def bin_indices(e_f, E, lnx0, dlnx, nb):
    """Bin of ``ln(e_f / E)`` on the grid ``lnx0 + k dlnx``, clipped into [0, nb - 1] (nan -> 0:
    such points carry zero weight)."""
    out = np.empty(e_f.shape[0], dtype=np.int64)
    for i in range(e_f.shape[0]):
        x = (math.log(e_f[i] / E) - lnx0) / dlnx
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
    """Add one batch of a frozen-map iteration to the sums, in place, with the arguments of
    :func:`lfvscan.xsec.accumulate.accumulate`."""
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
        # touched bins in decreasing order, for the upper tails: an insertion sort in place (a
        # hypercube holds a few points, and an array allocated per hypercube would cost more)
        for a in range(1, nt):
            key = touched[a]
            j = a - 1
            while j >= 0 and touched[j] < key:
                touched[j + 1] = touched[j]
                j -= 1
            touched[j + 1] = key
        above_s = above_p = 0.0
        for ib in range(nt):
            b = touched[ib]
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
