"""The upper tail C(u) = sigma(ln x_f >= u) of a cell between its stored bin edges (docs/physics.md §10.1).

At the bin edges u_k = ln x_k the tails ``C_k = sum_{i >= k} h_i Delta_i`` (h_i the stored
dsigma/dln x_f [pb], Delta_i the ln-width of bin i) are the Monte Carlo estimates the scan measures
(their errors are the stored ``sigma_above_x_err_pb``).  Between the edges the tail is interpolated
with a shape-preserving monotone cubic (Fritsch-Butland PCHIP) of ``L = ln C`` in the variable
``v = -ln(u_end - u)``:

* ``u_end`` is the end of the distribution: the kinematic reach ``ln(1 - m_a/E)`` (§7.1), or the
  first edge below it where the tail is already zero;
* the tails fall steeply with ln x_f (exponentially in u far from the reach, a power of the
  distance ``u_end - u`` near it); ln C is smooth and nearly linear in v in both regimes, so a cubic
  interpolation there is far more accurate than the piecewise-constant density of the histogram;
* in the last physical bin ``[u_K, u_end)`` the tail is the power law ``C = C_K ((u_end - u) /
  (u_end - u_K))^p`` whose exponent continues the slope at u_K (p = 1, a constant density, when the
  data give no slope: a single physical bin or an empty neighbour).  The histogram says nothing of
  the shape inside that bin; :func:`upper_tail` can also fix p there (1: a constant density; 0: the
  bin's content at the reach), the alternatives the quality check compares with
  (:mod:`lfvscan.pheno.quality`, flag ``x_interp``).

The interpolant passes through every C_k and is monotone, so the density ``f(u) = -dC/du`` is
non-negative and integrates over each bin to exactly ``h_i Delta_i``: only how the events are spread
inside a bin changes, the bins' contents stay those of the histogram.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class UpperTail:
    """Interpolated upper tails of one cell for every mass (shapes: ``u`` (nb+1,), the others
    (nM, nb+1) except ``u_end`` and ``p_end`` (nM,)).  ``valid`` marks the edges below ``u_end``
    (nodes of the interpolation); ``v``, ``L``, ``d`` are the nodes' v, ln C and dL/dv (NaN / 0
    elsewhere); ``p_end`` the exponent of the power law in the last physical bin."""

    u: np.ndarray
    u_end: np.ndarray
    valid: np.ndarray
    v: np.ndarray
    L: np.ndarray
    d: np.ndarray
    p_end: np.ndarray

    def _locate(self, q):
        """Segment index k (edge below q, shape of q), the node arrays gathered at k and k+1, and
        masks: ``inner`` (both ends are nodes: cubic), ``last`` (only k is a node: power law)."""
        q = np.asarray(q, dtype=float)
        nM = self.u_end.size
        extra = (1,) * (q.ndim - 1)
        k = np.clip(np.searchsorted(self.u, q, side="right") - 1, 0, self.u.size - 2)
        flat_k = k.reshape(nM, -1)

        def at(arr, kk):
            return np.take_along_axis(arr, kk, axis=1).reshape(q.shape)

        nodes = {name: (at(getattr(self, name), flat_k), at(getattr(self, name), flat_k + 1))
                 for name in ("v", "L", "d", "valid")}
        u_end = self.u_end.reshape((nM,) + extra)
        below = q < u_end
        inner = below & nodes["valid"][0] & nodes["valid"][1]
        last = below & nodes["valid"][0] & ~nodes["valid"][1]
        return nodes, inner, last, u_end

    def value_and_density(self, q):
        """(C(q), f(q) = -dC/du at q) [pb], q an array of ln x_f of shape (nM, ...) (one row per
        mass).  Below the first edge C = C_0 (= sigma) and f = 0; at and above u_end both vanish."""
        q = np.asarray(q, dtype=float)
        nodes, inner, last, u_end = self._locate(q)
        (v0, v1), (L0, L1), (d0, d1) = nodes["v"], nodes["L"], nodes["d"]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            dist = np.where(inner | last, u_end - q, 1.0)
            v = -np.log(dist)
            H = np.where(inner, v1 - v0, 1.0)
            t = np.where(inner, (v - v0) / H, 0.0)
            cubic_L = ((2 * t**3 - 3 * t**2 + 1) * L0 + (t**3 - 2 * t**2 + t) * H * d0
                       + (3 * t**2 - 2 * t**3) * L1 + (t**3 - t**2) * H * d1)
            cubic_dL = ((6 * t**2 - 6 * t) * (L0 - L1) / H + (3 * t**2 - 4 * t + 1) * d0 + (3 * t**2 - 2 * t) * d1)
            p_end = self.p_end.reshape(u_end.shape)
            power_L = L0 - p_end * (v - v0)
            Lq = np.where(inner, cubic_L, np.where(last, power_L, -np.inf))
            dL = np.where(inner, cubic_dL, np.where(last, -p_end, 0.0))
            C = np.exp(Lq)
            f = np.where(inner | last, -C * dL / dist, 0.0)
        first = q < self.u[0]
        C = np.where(first, np.exp(self.L[:, :1]).reshape((-1,) + (1,) * (q.ndim - 1)), C)
        return np.where(np.isfinite(C), C, 0.0), np.where(first, 0.0, np.maximum(f, 0.0))

    def value(self, q):
        """C(q) [pb] (see :meth:`value_and_density`)."""
        return self.value_and_density(q)[0]


def tails_at_edges(x_edges, h) -> np.ndarray:
    """C_k = sum_{i >= k} h_i Delta_i [pb] at every edge (shape (..., nb+1); the last, x = 1, is 0)
    from the stored dsigma/dln x_f ``h`` (..., nb) [pb] on ``x_edges``."""
    delta = np.diff(np.log(np.asarray(x_edges, dtype=float)))
    content = np.asarray(h, dtype=float) * delta
    rev = np.cumsum(content[..., ::-1], axis=-1)[..., ::-1]
    return np.concatenate([rev, np.zeros(rev.shape[:-1] + (1,))], axis=-1)


def _pchip_slopes(v, L, valid) -> np.ndarray:
    """Node slopes dL/dv of the monotone cubic (Fritsch-Butland weighted harmonic mean at interior
    nodes, the three-point end formula with its limiter at the first node); the last node takes its
    secant, which the power law beyond it continues; shape of ``v``."""
    nM, n = v.shape
    d = np.zeros_like(v)
    count = valid.sum(axis=1)
    for m in range(nM):
        K = int(count[m])
        if K < 2:
            d[m, :K] = -1.0  # one node: p = 1 (constant density) in the power law of the last bin
            continue
        vv, LL = v[m, :K], L[m, :K]
        h = np.diff(vv)
        s = np.diff(LL) / h
        dm = np.zeros(K)
        if K > 2:
            w1 = 2 * h[1:] + h[:-1]
            w2 = h[1:] + 2 * h[:-1]
            same = (s[:-1] * s[1:]) > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                dm[1:-1] = np.where(same, (w1 + w2) / (w1 / s[:-1] + w2 / s[1:]), 0.0)
            d_first = ((2 * h[0] + h[1]) * s[0] - h[0] * s[1]) / (h[0] + h[1])
            if np.sign(d_first) != np.sign(s[0]):
                d_first = 0.0
            elif np.sign(s[0]) != np.sign(s[1]) and abs(d_first) > 3 * abs(s[0]):
                d_first = 3 * s[0]
            dm[0] = d_first
        else:
            dm[0] = s[0]
        dm[-1] = s[-1] if s[-1] < 0 else -1.0
        d[m, :K] = dm
    return d


def upper_tail(x_edges, h, u_max, last_bin_exponent: float | None) -> UpperTail:
    """The interpolated upper tail (:class:`UpperTail`) of the stored dsigma/dln x_f ``h``
    (nM, nb) [pb] on ``x_edges`` (nb+1,), ``u_max`` (nM,) the kinematic reach ln(1 - m_a/E)
    (-inf where the mass is beyond it).  ``last_bin_exponent``: None for the power law in the last
    physical bin that continues the slope, else its fixed exponent p (module docstring)."""
    u = np.log(np.asarray(x_edges, dtype=float))
    C = tails_at_edges(x_edges, np.atleast_2d(h))
    u_max = np.asarray(u_max, dtype=float)
    empty = C <= 0
    first_zero = np.where(empty.any(axis=1), np.argmax(empty, axis=1), u.size - 1)
    u_end = np.minimum(u_max, u[first_zero])
    valid = (u[None, :] < u_end[:, None]) & ~empty
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(valid, -np.log(np.where(valid, u_end[:, None] - u[None, :], 1.0)), np.nan)
        L = np.where(valid, np.log(np.where(valid, C, 1.0)), np.nan)
    d = _pchip_slopes(v, L, valid)
    last = np.clip(valid.sum(axis=1) - 1, 0, None)
    p_end = -d[np.arange(u_end.size), last] if last_bin_exponent is None else np.full(u_end.shape, last_bin_exponent)
    return UpperTail(u=u, u_end=u_end, valid=valid, v=v, L=L, d=d, p_end=p_end)
