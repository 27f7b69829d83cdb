"""The sums of one frozen-map iteration with numpy arrays: the numpy engine's half of
:mod:`lfvscan.xsec.accumulate` (the estimator is stated there; docs/physics.md §7.12).

The same estimator as :mod:`lfvscan.xsec.sums_compiled`, summed by ``numpy.bincount`` over the
hypercubes and over the (hypercube, bin) pairs the points occupy instead of point by point: the
sums agree to round-off, not bit for bit.  No numba (:mod:`lfvscan.xsec.engine`).
"""

from __future__ import annotations

import numpy as np


def bin_indices(e_f, E, lnx0, dlnx, nb):
    """Bin of ``ln(e_f / E)`` on the grid ``lnx0 + k dlnx``, clipped into [0, nb - 1] (nan -> 0:
    such points carry zero weight); :func:`lfvscan.xsec.sums_compiled.bin_indices`."""
    with np.errstate(invalid="ignore", divide="ignore"):
        x = (np.log(np.asarray(e_f, dtype=float) / E) - lnx0) / dlnx
    return np.minimum(np.where(x >= 0.0, x, 0.0), nb - 1).astype(np.int64)


def _cell_sums(v, g, n, nm1, cell_mean, cell_var):
    """Add the hypercube sums of the values ``v`` (3, 2, N) = (total, coh, inc) x (S, P) to ``cell_mean``
    (3, 2) and ``cell_var`` (3, 3) = (var_S, var_P, cov_SP); ``g`` (N) the points' hypercube, ``n``,
    ``nm1`` per hypercube its points and max(points - 1, 1)."""
    G = n.shape[0]
    for c in range(3):
        s = [np.bincount(g, v[c, p], minlength=G) for p in range(2)]
        d = [v[c, p] - (s[p] / n)[g] for p in range(2)]
        dsum = [np.bincount(g, d[p], minlength=G) for p in range(2)]
        for p in range(2):
            cell_mean[c, p] += np.sum(s[p] + dsum[p])
        for k, (a, b) in enumerate(((0, 0), (1, 1), (0, 1))):
            cell_var[c, k] += np.sum((n * np.bincount(g, d[a] * d[b], minlength=G) - dsum[a] * dsum[b]) / nm1)


def _above(s1, last):
    """Per (hypercube, bin) pair, sorted by hypercube then bin: the sum of ``s1`` over the pairs of the
    same hypercube in higher bins (``last`` marks each hypercube's highest pair), summed from the top
    down as the compiled loop does."""
    above = np.zeros_like(s1)
    inner = np.flatnonzero(~last)  # pairs whose next pair is in the same hypercube
    depth = int(np.diff(np.r_[-1, np.flatnonzero(last)]).max(initial=1))  # most pairs in one hypercube
    for _ in range(depth - 1):
        above[inner] = above[inner + 1] + s1[inner + 1]
    return above


def accumulate(coh, inc, wgt, hcube, bins, dlnx, cell_mean, cell_var, bin_mean, bin_var, tail_diff):
    """Add one batch of a frozen-map iteration to the sums, in place, with the arguments of
    :func:`lfvscan.xsec.sums_compiled.accumulate` (``hcube``: each hypercube's points contiguous)."""
    nb = bin_mean.shape[1]
    N = wgt.shape[0]
    if N == 0:
        return
    hcube = np.asarray(hcube)
    g = np.cumsum(np.r_[True, hcube[1:] != hcube[:-1]]) - 1  # hypercube of each point, 0..G-1
    n = np.bincount(g).astype(float)
    nm1 = np.maximum(n - 1.0, 1.0)
    coh, inc = np.asarray(coh, dtype=float), np.asarray(inc, dtype=float)
    v = wgt * np.stack([coh + inc, coh, inc])  # (3, 2, N)
    _cell_sums(v, g, n, nm1, cell_mean, cell_var)
    # (hypercube, bin) pairs, sorted by hypercube, then bin
    pairs, inv = np.unique(g * nb + np.asarray(bins, dtype=np.int64), return_inverse=True)
    pg, pb = pairs // nb, pairs % nb
    P = pairs.shape[0]
    vs, vp = v[0, 0] / dlnx, v[0, 1] / dlnx
    cnt = np.bincount(inv, minlength=P)
    s1 = [np.bincount(inv, vs, minlength=P), np.bincount(inv, vp, minlength=P)]
    npair, nm1p = n[pg], nm1[pg]
    dev = [vs - (s1[0] / npair)[inv], vp - (s1[1] / npair)[inv]]  # deviations of the points in the bin
    sd = [np.bincount(inv, dev[p], minlength=P) for p in range(2)]
    n_out = npair - cnt  # points of the hypercube outside the bin: value 0, deviation -m
    m = [s1[0] / npair, s1[1] / npair]
    d = [sd[p] - n_out * m[p] for p in range(2)]
    for p in range(2):
        bin_mean[p] += np.bincount(pb, s1[p] + d[p], minlength=nb)
    last = np.r_[pg[1:] != pg[:-1], True]
    above = [_above(s1[0], last), _above(s1[1], last)]
    tot = [above[p] + s1[p] for p in range(2)]
    src = {0: (0, 0), 1: (1, 1), 2: (0, 1)}
    raw = {0: vs * vs, 1: vp * vp, 2: vs * vp}
    for k, (a, b) in src.items():
        sdd = np.bincount(inv, dev[a] * dev[b], minlength=P)
        bin_var[k] += np.bincount(pb, (npair * (sdd + n_out * m[a] * m[b]) - d[a] * d[b]) / nm1p, minlength=nb)
        q = np.bincount(inv, raw[k], minlength=P)
        tail_diff[k] += np.bincount(pb, (npair * q - (tot[a] * tot[b] - above[a] * above[b])) / nm1p, minlength=nb)
