"""Feldman-Cousins upper limits for a Poisson signal mean with known background, exact and fast at any
background (Phys. Rev. D 57 (1998) 3873; docs/physics.md §10.6).

For a signal mean s (total mean mu = s + b) the acceptance region adds counts n in decreasing order of
R(n) = P(n | mu) / P(n | max(n, b)) until its probability reaches cl; n_obs is accepted iff the counts
ranked before it hold less than cl.  ln R is concave in n with its maximum at n = mu (linear with slope
ln(mu / b) for n <= b, n ln(mu / n) + n - mu above), so for mu >= max(n_obs, b) the counts ranked before
n_obs are all n in (n_obs, m(mu)], where m(mu) is the largest count with R(m) > R(n_obs).  For a count
m >= b, m > n_obs, R(m) = R(n_obs) holds at the one mean (exact, from ln R(m) - ln R(n_obs) =
(m - n_obs) ln mu - [m ln m - m - n_obs ln B + B], B = max(n_obs, b))

    ln mu_m = ln B + [m ln(m / B) - (m - B)] / (m - n_obs),

increasing in m >= b (the slope of the chord of the convex m ln m - m from (n_obs, n_obs ln B - B),
a point on or below it whose tangent touches at m = B); counts in (n_obs, b) rank before n_obs
for every s > 0.  So the means mu_m cut [max(n_obs, b), mu_top] into segments on each of which
m(mu) is fixed and the probability ranked before n_obs is F(mu) = P(n_obs < N <= m | mu), continuous with
dF/dmu = P(n_obs | mu) - P(m | mu), whose sign changes at most once, from + to - (the ratio
P(m | mu) / P(n_obs | mu) grows as mu^(m - n_obs)): F rises then falls within a segment, and jumps up
from one segment to the next.  The accepted set {F < cl} in a segment is therefore decided by F at its
two ends, and the largest accepted s is exact: the end of the topmost segment whose right end has
F < cl, or the one crossing F = cl inside the topmost segment whose left end has F < cl.

F falls inside a segment wherever P(m | mu) > P(n_obs | mu), and at small counts it can fall back
below cl after crossing it (n_obs = 0, b = 2.5, 90 %), so the accepted set can have gaps and the
topmost accepted segment is searched for: bisection on F at the segments' left ends locates it, then
every segment within :data:`FC_WINDOW_SEGMENTS` of it is checked at both ends, the window extended
upward until that many segments above the topmost accepted one are rejected.  At large counts the fall
inside a segment is tiny next to the jumps (at n_obs = 100 / 1e3 / 1e4, 90 %: largest fall 3.5e-4 /
1.2e-5 / 2.3e-7, largest jump 0.040 / 0.013 / 0.0040), so F never returns below cl that far above
its crossing.  tests/test_statistics.py checks the window against the check of every segment and the
limit against a direct construction on a grid of s.  Cost O(sqrt(b)) per limit; numpy/math only.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from lfvscan.pheno.poisson import bisect_boundary, log_pmf, poisson_upper, s_tolerance

#: step [events] of the grid of s on which the largest accepted s is read (fc_construction_upper)
FC_SCAN_STEP = 0.005
#: segments either side of the located crossing whose both ends are checked (docstring); the window
#: grows upward until this many segments above the topmost accepted one are rejected
FC_WINDOW_SEGMENTS = 32
#: background range [events] above b over which the FC limit is made non-increasing in b, and its grid step
FC_MONOTONE_WIDTH = 2.0
FC_MONOTONE_STEP = 0.05


def jump_means(n_obs: int, b: float, m: np.ndarray) -> np.ndarray:
    """mu_m [events]: the total mean above which the count m (integer > n_obs, >= b) ranks before
    n_obs in the Feldman-Cousins ordering (module docstring); m / e when n_obs = b = 0."""
    big_b = max(float(n_obs), b)
    mf = np.asarray(m, dtype=float)
    if big_b == 0.0:
        return mf / math.e
    return big_b * np.exp((mf * np.log1p((mf - big_b) / big_b) - (mf - big_b)) / (mf - n_obs))


def _segments(n_obs: int, b: float, mu_lo: float, mu_top: float):
    """(bounds, m_left): the means mu_lo = bounds[0] < ... < bounds[-1] = mu_top cutting the range
    where the counts ranked before n_obs are (n_obs, m_left[i]] on (bounds[i], bounds[i + 1])."""
    m_first = max(n_obs + 1, math.ceil(b))
    m_last = m_first + int(2.0 * (mu_top - n_obs) + 10.0 * math.sqrt(mu_top) + 10.0)
    while True:
        mus = jump_means(n_obs, b, np.arange(m_first, m_last + 1))
        if mus[-1] >= mu_top:
            break
        m_last = 2 * m_last
    inside = mus[(mus > mu_lo) & (mus < mu_top)]
    bounds = np.concatenate(([mu_lo], inside, [mu_top]))
    m_left = m_first - 1 + np.searchsorted(mus, bounds[:-1], side="right")
    return bounds, m_left


def _ranked_before(n_obs: int, m: int, mu: float) -> float:
    """F = P(n_obs < N <= m | mu): the probability of the counts ranked before n_obs."""
    if m <= n_obs or mu == 0.0:
        return 0.0
    return float(np.sum(np.exp(log_pmf(np.arange(n_obs + 1, m + 1), mu))))


def _segment_ends(n_obs: int, bounds: np.ndarray, m_left: np.ndarray, i0: int, i1: int):
    """(F at the left ends, F at the right ends) of segments i0 .. i1 - 1 (right limits of F at the
    left ends, left limits at the right ends), one probability row per bound."""
    mus = bounds[i0:i1 + 1]
    seg = m_left[i0:i1] - n_obs
    n = np.arange(n_obs + 1, n_obs + 1 + max(1, int(seg.max())))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(mus[:, None] > 0, np.exp(log_pmf(n[None, :], mus[:, None])), 0.0)
    cum = np.concatenate((np.zeros((mus.size, 1)), np.cumsum(p, axis=1)), axis=1)
    rows = np.arange(i1 - i0)
    return cum[rows, seg], cum[rows + 1, seg]


def _locate(n_obs: int, bounds: np.ndarray, m_left: np.ndarray, cl: float) -> int:
    """A segment near the topmost accepted one: bisection on F at the segments' left ends."""
    lo, hi = 0, m_left.size - 1
    if _ranked_before(n_obs, int(m_left[hi]), float(bounds[hi])) < cl:
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _ranked_before(n_obs, int(m_left[mid]), float(bounds[mid])) < cl:
            lo = mid
        else:
            hi = mid
    return lo


def _topmost_accepted(n_obs: int, bounds: np.ndarray, m_left: np.ndarray, cl: float):
    """Index of the topmost segment holding an accepted mean (F < cl at one of its ends), or None."""
    k, w = m_left.size, FC_WINDOW_SEGMENTS
    guess = _locate(n_obs, bounds, m_left, cl)
    lo, hi = max(0, guess - w), min(k, guess + w + 1)  # segments [lo, hi) checked

    def topmost(i0, i1):
        left, right = _segment_ends(n_obs, bounds, m_left, i0, i1)
        ok = np.nonzero(np.minimum(left, right) < cl)[0]
        return i0 + int(ok[-1]) if ok.size else None

    best = topmost(lo, hi)
    while best is not None and hi < k and hi - 1 - best < w:  # too few rejected segments above: look higher
        above = topmost(hi, min(k, hi + w))
        best, hi = (best if above is None else above), min(k, hi + w)
    while best is None and lo > 0:  # none accepted in the window: look lower
        best, lo = topmost(max(0, lo - w), lo), max(0, lo - w)
    return best


def _accepted_pieces(n_obs: int, m: int, lo: float, hi: float, cl: float) -> list[tuple[float, float]]:
    """The accepted means (F < cl) of the segment (lo, hi) with counts (n_obs, m] ranked before n_obs, as
    at most two intervals: F rises up to mu* (where P(m | mu*) = P(n_obs | mu*): ln mu* =
    ln(m! / n_obs!) / (m - n_obs)) and falls after it, so each side is cut once by bisection."""
    if m <= n_obs:
        return [(lo, hi)]
    peak = min(hi, max(lo, math.exp((math.lgamma(m + 1.0) - math.lgamma(n_obs + 1.0)) / (m - n_obs))))
    if _ranked_before(n_obs, m, peak) < cl:
        return [(lo, hi)]
    pieces = []
    if _ranked_before(n_obs, m, lo) < cl:
        pieces.append((lo, _crossing(n_obs, m, lo, peak, cl, rising=True)))
    if _ranked_before(n_obs, m, hi) < cl:
        pieces.append((_crossing(n_obs, m, peak, hi, cl, rising=False), hi))
    return pieces


def _crossing(n_obs: int, m: int, lo: float, hi: float, cl: float, rising: bool) -> float:
    """The mean in [lo, hi] where F (monotone there) crosses cl, to 1e-13 relative."""
    lo, hi = bisect_boundary(lambda mu: (_ranked_before(n_obs, m, mu) < cl) == rising, lo, hi,
                             lambda h: 1e-13 * h)
    return 0.5 * (lo + hi)


def _top_grid_point(n_obs: int, b: float, bounds, m_left, first: int, s_lo: float, last: int, cl: float) -> int:
    """Index j <= last of the largest grid point s_lo + j FC_SCAN_STEP that is accepted, searching the
    segments from ``first`` (the topmost accepted one) down; 0 (the best fit, always accepted) if none."""
    for i in range(first, -1, -1):
        for mu_a, mu_c in reversed(_accepted_pieces(n_obs, int(m_left[i]), float(bounds[i]), float(bounds[i + 1]), cl)):
            j = min(last, math.ceil((mu_c - b - s_lo) / FC_SCAN_STEP))
            while j > 0 and s_lo + j * FC_SCAN_STEP + b >= mu_a:  # the one or two grid points next to the end
                if _accepts(n_obs, b, s_lo + j * FC_SCAN_STEP, bounds, m_left, cl):
                    return j
                j -= 1
    return 0


def _accepts(n_obs: int, b: float, s: float, bounds: np.ndarray, m_left: np.ndarray, cl: float) -> bool:
    """Whether the FC acceptance region of the signal mean s holds n_obs: F < cl with the counts ranked
    before n_obs of the segment holding s + b (a mean on a bound belongs to the segment below it)."""
    mu = s + b
    if mu <= bounds[0]:
        return True  # the best fit
    i = min(int(np.searchsorted(bounds, mu, side="left")) - 1, m_left.size - 1)
    return _ranked_before(n_obs, int(m_left[i]), mu) < cl


@functools.lru_cache(maxsize=64)
def _central_half_width(n_obs: int, cl: float) -> float:
    """Upper end of the central (1 + cl)/2 interval for n_obs without background, minus n_obs [events]
    (the same for every b' of the monotone envelope, so computed once)."""
    return poisson_upper(n_obs, 0.0, 0.5 * (1.0 + cl)) - n_obs


def fc_construction_upper(n_obs: int, b: float, cl: float) -> float:
    """The Feldman-Cousins upper limit of the construction: the largest s of a grid in steps of
    :data:`FC_SCAN_STEP` from the best fit max(n_obs - b, 0) (always accepted) up to twice the
    half-width of the central (1 + cl)/2 limit + 2 events above it (beyond every FC limit) whose
    acceptance region holds n_obs, refined by bisection of the acceptance test up to the next grid point.
    The accepted set is exact (module docstring), so this equals the direct construction on that grid;
    the grid belongs to the definition: it is how Feldman & Cousins's tables read the accepted set,
    which has accepted islands narrower than a step (n_obs = 0, b = 2.324, 90 %: up to 1.2652, where the
    grid's limit, 1.2626, gives the table's 1.26 at b = 2)."""
    s_lo = max(n_obs - b, 0.0)
    top = s_lo + 2.0 * _central_half_width(n_obs, cl) + 2.0
    bounds, m_left = _segments(n_obs, b, s_lo + b, top + b)
    last = math.ceil((top + FC_SCAN_STEP - s_lo) / FC_SCAN_STEP) - 1  # the grid's size - 1, as np.arange
    first = _topmost_accepted(n_obs, bounds, m_left, cl)
    j = 0 if first is None else _top_grid_point(n_obs, b, bounds, m_left, first, s_lo, last, cl)
    if j >= last:
        return s_lo + last * FC_SCAN_STEP
    lo, hi = bisect_boundary(lambda s: _accepts(n_obs, b, s, bounds, m_left, cl), s_lo + j * FC_SCAN_STEP,
                             s_lo + (j + 1) * FC_SCAN_STEP, s_tolerance)
    return 0.5 * (lo + hi)


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
    # the limit jumps up between grid[k - 1] and grid[k]: find where
    _, hi = bisect_boundary(lambda x: fc_construction_upper(n_obs, x, cl) < vals[k], float(grid[k - 1]),
                            float(grid[k]), lambda h: 1e-7)
    return max(float(vals[k]), fc_construction_upper(n_obs, hi, cl))
