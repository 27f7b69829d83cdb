"""Poisson probabilities accurate at any mean, and the classical Poisson upper limit (docs/physics.md §10.6).

``ln P(n | mu)`` is evaluated in Loader's saddle-point form (C. Loader, "Fast and accurate computation
of binomial probabilities", 2000; the algorithm of R's ``dpois``):
ln P = -bd0(n, mu) - ln(2 pi n)/2 - stirlerr(n), with the deviance bd0 = n ln(n/mu) + mu - n and
Stirling's remainder stirlerr(n) = ln n! - (n + 1/2) ln n + n - ln(2 pi)/2.  The deviance is formed
as n log1p((n - mu)/mu) - (n - mu), a difference of terms of order |n - mu| instead of order mu, so
ln P keeps an absolute precision of ~5e-13 at mu ~ 1e6 (2e-12 at 3e7; measured against mpmath within
3 sigma of the mean), where n ln mu - mu - ln n! loses ~1e-9 to cancellation.  numpy/math only.
"""

from __future__ import annotations

import math

import numpy as np

#: absolute precision [events] of the bisections for an upper limit (relative above 1 event)
S_TOL = 1e-9
#: counts further than TAIL_SIGMAS sqrt(mu) + TAIL_SIGMAS from the mean carry < 1e-80 of the probability
TAIL_SIGMAS = 20.0
#: below this count stirlerr is taken from math.lgamma (exact to ~1e-15 there), above from its series
_STIRLERR_SERIES_FROM = 16
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_STIRLERR_SMALL = np.array([0.0] + [math.lgamma(k + 1.0) - (k + 0.5) * math.log(k) + k - _HALF_LOG_2PI
                                    for k in range(1, _STIRLERR_SERIES_FROM)])


def _stirlerr(n: np.ndarray) -> np.ndarray:
    """ln n! - (n + 1/2) ln n + n - ln(2 pi)/2 for integers n >= 1 (series 1/12n - 1/360n^3 + ...
    from n = 16, truncation error < 1e-16)."""
    small = n < _STIRLERR_SERIES_FROM
    x = np.maximum(n, _STIRLERR_SERIES_FROM).astype(float)
    x2 = x * x
    series = (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0 - 1.0 / (1188.0 * x2)) / x2) / x2) / x2) / x
    return np.where(small, _STIRLERR_SMALL[np.minimum(n, _STIRLERR_SERIES_FROM - 1)], series)


def log_pmf(n, mu) -> np.ndarray:
    """ln P(n | mu) for integers ``n`` >= 0 and means ``mu`` > 0 (broadcast against each other)."""
    n = np.asarray(n)
    mu = np.asarray(mu, dtype=float)
    nf = np.maximum(n, 1).astype(float)
    bd0 = nf * np.log1p((nf - mu) / mu) - (nf - mu)  # n ln(n/mu) - (n - mu) >= 0
    body = -bd0 - 0.5 * np.log(2.0 * math.pi * nf) - _stirlerr(np.maximum(n, 1))
    return np.where(n == 0, -mu, body)


def tail_width(mu: float) -> int:
    """Counts [events] either side of ``mu`` beyond which the Poisson(mu) probability is negligible."""
    return int(TAIL_SIGMAS * math.sqrt(mu) + TAIL_SIGMAS) + 1


def poisson_cdf(n: int, mu: float) -> float:
    """P(N <= n) for N ~ Poisson(mu) (n >= 0 integer, mu >= 0): the sum of the probabilities of the
    counts within :func:`tail_width` of both n and mu (the rest is < 1e-80 of the sum), each from
    :func:`log_pmf`, so the cost is O(sqrt(mu)) and the precision ~1e-14 at any mu."""
    if mu == 0.0:
        return 1.0
    width = tail_width(mu)
    centre = min(n, int(mu))
    k = np.arange(max(0, centre - width), min(n, int(mu) + width) + 1)
    return float(min(1.0, np.sum(np.exp(log_pmf(k, mu)))))


def bisect_boundary(holds, lo: float, hi: float, tol) -> tuple[float, float]:
    """Bisect [lo, hi] on a predicate true below a boundary and false above it (``holds(lo)`` true,
    ``holds(hi)`` false) until ``hi - lo <= tol(hi)``; returns the final (lo, hi)."""
    while hi - lo > tol(hi):
        mid = 0.5 * (lo + hi)
        if holds(mid):
            lo = mid
        else:
            hi = mid
    return lo, hi


def s_tolerance(hi: float) -> float:
    """The precision [events] of the bisections for s: :data:`S_TOL`, relative above one event."""
    return S_TOL * max(1.0, hi)


def bisect_decreasing(f, target: float, lo: float, hi: float) -> float:
    """s in [lo, hi] with f(s) = target for f decreasing in s (hi is grown until f(hi) < target), to
    :data:`S_TOL` events (relative above one event)."""
    while f(hi) >= target:
        lo, hi = hi, 2.0 * hi + 1.0
    lo, hi = bisect_boundary(lambda s: f(s) >= target, lo, hi, s_tolerance)
    return 0.5 * (lo + hi)


def poisson_upper(n_obs: int, b: float, cl: float) -> float:
    """Classical upper limit: P(n <= n_obs | s + b) = 1 - cl; exactly -ln(1 - cl) - b for n_obs = 0
    (clamped at 0 when b exceeds it: the classical limit can be empty).  The bisection runs on s, so
    its precision is relative to s, not to s + b."""
    if n_obs == 0:
        return max(0.0, -math.log1p(-cl) - b)
    if poisson_cdf(n_obs, b) <= 1.0 - cl:
        return 0.0
    return bisect_decreasing(lambda s: poisson_cdf(n_obs, s + b), 1.0 - cl, 0.0, n_obs + 1.0)
