"""Upper limits on the signal of a counting experiment with a known background (docs/physics.md §10.6).

A selection curve expects ``b`` background events; the number of signal events it excludes, N_req,
is the upper limit ``s_up`` on the signal mean at confidence level ``cl`` for the expected outcome
``n_obs = floor(b)`` (:func:`expected_n_obs`).  Methods (:data:`METHODS`):

* ``"fixed"``: N_req given as a number (``--n-req``, a curve's ``n_req``), zero background only;
  the behaviour of every experiment that declares no statistics.
* ``"poisson"``: the classical (Neyman) upper limit, P(n <= n_obs | s_up + b) = 1 - cl
  (PDG Review of Particle Physics, "Statistics", Poisson upper limits).
* ``"fc"``: Feldman-Cousins (Phys. Rev. D 57 (1998) 3873): acceptance regions in n ordered by the
  likelihood ratio P(n | s + b) / P(n | max(0, n - b) + b), s_up the largest s whose region holds n_obs.
* ``"cls"``: CLs = P(n <= n_obs | s + b) / P(n <= n_obs | b) = 1 - cl (Read 2002; the LHC's
  convention), computed exactly for one counting bin (pyhf's toy-based CLs tends to it).

With b = 0 and n_obs = 0: poisson and cls give -ln(1 - cl) exactly (2.303 at 90 %, 2.996 at 95 %),
fc 2.44 (90 %) and 3.09 (95 %).  Everything is numpy/math only (no scipy at run time).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from lfvscan.errors import UsageError

#: limit methods: "fixed" (N_req given, zero background), "poisson", "fc", "cls" (module docstring)
METHODS = ("fixed", "poisson", "fc", "cls")
#: absolute precision [events] of the bisections for s_up
S_TOL = 1e-9


@dataclass(frozen=True)
class Statistics:
    """How a curve's N_req is obtained: ``method`` (one of :data:`METHODS`) and confidence level
    ``cl`` in (0, 1) (unused by "fixed").  Construction validates (UsageError naming the value)."""

    method: str
    cl: float

    def __post_init__(self):
        if self.method not in METHODS:
            raise UsageError(f"statistics must be one of {', '.join(METHODS)}, got {self.method!r}")
        if isinstance(self.cl, bool) or not isinstance(self.cl, (int, float)) or not 0.0 < self.cl < 1.0:
            raise UsageError(f"confidence level must be a number in (0, 1), got {self.cl!r}")

    def label(self) -> str:
        """``"fc 90% CL"``, or ``"fixed N_req"``."""
        return "fixed N_req" if self.method == "fixed" else f"{self.method} {100 * self.cl:g}% CL"


#: today's behaviour: N_req given (default 3), zero background
DEFAULT_STATISTICS = Statistics("fixed", 0.9)


def expected_n_obs(background: float) -> int:
    """n_obs of the expected limit: floor(b) (docs/physics.md §10.6).  The thesis code evaluates its
    Feldman-Cousins interval at n_obs = b on an integer n grid, which is the limit at floor(b); it is
    also the median of Poisson(b) unless the fractional part of b exceeds about 2/3."""
    b = _check_background(background)
    return int(math.floor(b))


def _check_background(background) -> float:
    if isinstance(background, bool) or not isinstance(background, (int, float, np.floating, np.integer)):
        raise UsageError(f"background must be a number of events, got {background!r}")
    b = float(background)
    if not (b >= 0 and math.isfinite(b)):
        raise UsageError(f"background must be finite and >= 0 events, got {background!r}")
    return b


def poisson_cdf(n: int, mu: float) -> float:
    """P(N <= n) for N ~ Poisson(mu), summed in log space (n >= 0 integer, mu >= 0)."""
    if mu == 0.0:
        return 1.0
    k = np.arange(n + 1)
    logp = k * math.log(mu) - mu - np.array([math.lgamma(i + 1.0) for i in k])
    top = logp.max()
    return float(min(1.0, math.exp(top) * np.sum(np.exp(logp - top))))


def _bisect_decreasing(f, target: float, lo: float, hi: float) -> float:
    """s in [lo, hi] with f(s) = target for f decreasing in s (hi is grown until f(hi) < target)."""
    while f(hi) >= target:
        lo, hi = hi, 2.0 * hi + 1.0
    while hi - lo > S_TOL * max(1.0, hi):
        mid = 0.5 * (lo + hi)
        if f(mid) >= target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def poisson_upper(n_obs: int, b: float, cl: float) -> float:
    """Classical upper limit: P(n <= n_obs | s + b) = 1 - cl; exactly -ln(1 - cl) - b for n_obs = 0
    (clamped at 0 when b exceeds it: the classical limit can be empty)."""
    if n_obs == 0:
        return max(0.0, -math.log1p(-cl) - b)
    total = _bisect_decreasing(lambda mu: poisson_cdf(n_obs, mu), 1.0 - cl, 0.0, n_obs + 1.0)
    return max(0.0, total - b)


def cls_upper(n_obs: int, b: float, cl: float) -> float:
    """CLs upper limit: P(n <= n_obs | s + b) / P(n <= n_obs | b) = 1 - cl; for n_obs = 0 exactly -ln(1 - cl)."""
    if n_obs == 0:
        return -math.log1p(-cl)
    cl_b = poisson_cdf(n_obs, b)
    return _bisect_decreasing(lambda s: poisson_cdf(n_obs, s + b) / cl_b, 1.0 - cl, 0.0, n_obs + 1.0)


def _log_factorials(n: np.ndarray) -> np.ndarray:
    """ln(n!) for consecutive integers ``n`` >= 0."""
    first = math.lgamma(float(n[0]) + 1.0)
    return first + np.concatenate(([0.0], np.cumsum(np.log(n[1:].astype(float)))))


def _fc_accepts(n_obs: int, s, b: float, cl: float) -> np.ndarray:
    """Whether n_obs lies in the Feldman-Cousins acceptance region of each signal mean in ``s``
    (background b): n added in decreasing order of R = P(n | s + b) / P(n | max(0, n - b) + b) until
    the region's probability reaches cl (Feldman & Cousins 1998, Sec. IV.B).  Vectorised over s."""
    mu = np.atleast_1d(np.asarray(s, dtype=float)) + b
    width = 12.0 * math.sqrt(float(mu.max()) + 1.0) + 12.0
    n = np.arange(max(0, int(mu.min() - width)), int(mu.max() + width) + 1)
    lfact = _log_factorials(n)
    nf = n.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.where(nf == 0, 0.0, nf * np.log(mu[:, None])) - mu[:, None] - lfact
    best = np.maximum(nf - b, 0.0) + b
    log_best = np.where(nf > 0, nf * np.log(np.where(best > 0, best, 1.0)), 0.0) - best - lfact
    order = np.argsort(-(logp - log_best), axis=1, kind="stable")
    cum = np.cumsum(np.exp(np.take_along_axis(logp, order, axis=1)), axis=1)
    last = np.argmax(cum >= cl, axis=1)  # the region is order[: last + 1], the first reaching cl
    position = np.argmax(order == (n_obs - n[0]), axis=1)
    return position <= last


#: step [events] of the downward scan for the largest accepted s (refined by bisection)
FC_SCAN_STEP = 0.005
#: largest (signal means x counts) block of one vectorised acceptance test: bounds the memory at large b
FC_BLOCK_SIZE = 2_000_000


def _last_accepted(n_obs: int, grid: np.ndarray, b: float, cl: float) -> int:
    """Index of the largest s of ``grid`` whose FC acceptance region holds n_obs (0 if none), testing
    blocks of the grid from the top down so that memory stays below :data:`FC_BLOCK_SIZE` values per array
    (at b ~ 1e4 the grid has ~1e5 points and each region ~3e3 counts)."""
    n_width = 2.0 * (12.0 * math.sqrt(float(grid[-1]) + b + 1.0) + 12.0) + 1.0
    step = max(1, int(FC_BLOCK_SIZE / n_width))
    for start in range(max(0, grid.size - step), -step, -step):
        lo = max(start, 0)
        ok = np.nonzero(_fc_accepts(n_obs, grid[lo:lo + step], b, cl))[0]
        if ok.size:
            return lo + int(ok[-1])
    return 0


def fc_construction_upper(n_obs: int, b: float, cl: float) -> float:
    """The largest s whose Feldman-Cousins acceptance region holds n_obs.  The accepted set can
    have gaps, so it is scanned (steps of :data:`FC_SCAN_STEP`) from an s above every FC limit
    (max(n_obs - b, 0) + twice the half-width of the central (1 + cl)/2 limit + 2) down to
    max(n_obs - b, 0) (the best fit, always accepted), then the last step is bisected."""
    lo = max(n_obs - b, 0.0)
    top = lo + 2.0 * (poisson_upper(n_obs, 0.0, 0.5 * (1.0 + cl)) - n_obs) + 2.0
    grid = np.arange(lo, top + FC_SCAN_STEP, FC_SCAN_STEP)
    i = _last_accepted(n_obs, grid, b, cl)
    if i + 1 >= grid.size:
        return float(grid[i])
    lo, hi = float(grid[i]), float(grid[i + 1])
    while hi - lo > S_TOL * max(1.0, hi):
        mid = 0.5 * (lo + hi)
        if _fc_accepts(n_obs, mid, b, cl)[0]:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


#: background range [events] above b over which the FC limit is made non-increasing in b, and its grid step
FC_MONOTONE_WIDTH = 2.0
FC_MONOTONE_STEP = 0.05


def fc_upper(n_obs: int, b: float, cl: float) -> float:
    """Feldman-Cousins upper limit as tabulated by Feldman & Cousins (1998, Tables IV-XI; PDG
    "Statistics" review): the construction's limit (:func:`fc_construction_upper`) jumps with b
    because n is discrete, and the tables quote a limit that does not decrease when b decreases, the
    largest over b' >= b.  Here: the largest over b' in [b, b + 2] (grid 0.05, the jump located by
    bisection), which reproduces the tables to their printed precision (tests/test_statistics.py)."""
    grid = b + np.arange(0.0, FC_MONOTONE_WIDTH + 0.5 * FC_MONOTONE_STEP, FC_MONOTONE_STEP)
    vals = np.array([fc_construction_upper(n_obs, x, cl) for x in grid])
    k = int(np.argmax(vals))
    if k == 0:
        return float(vals[0])
    lo, hi = float(grid[k - 1]), float(grid[k])  # the limit jumps up between lo and hi: find where
    while hi - lo > 1e-7:
        mid = 0.5 * (lo + hi)
        if fc_construction_upper(n_obs, mid, cl) >= vals[k]:
            hi = mid
        else:
            lo = mid
    return max(float(vals[k]), fc_construction_upper(n_obs, hi, cl))


_UPPER = {"poisson": poisson_upper, "fc": fc_upper, "cls": cls_upper}


def signal_upper_limit(statistics: Statistics, background: float) -> float:
    """N_req [events]: the upper limit on the signal mean for the expected outcome n_obs = floor(b)
    (:func:`expected_n_obs`) with ``statistics``.  Not defined for "fixed" (UsageError)."""
    if statistics.method == "fixed":
        raise UsageError("statistics 'fixed' takes N_req as a number; choose poisson, fc or cls for a background")
    b = _check_background(background)
    return _upper_cached(statistics.method, expected_n_obs(b), b, float(statistics.cl))


@functools.lru_cache(maxsize=256)
def _upper_cached(method: str, n_obs: int, b: float, cl: float) -> float:
    return _UPPER[method](n_obs, b, cl)
