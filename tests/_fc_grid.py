"""Direct Feldman-Cousins construction on a grid of s (the test reference for
lfvscan.pheno.feldman_cousins): for each s every count n within 12 sqrt(mu) + 12 of mu is ranked by
R = P(n | s + b) / P(n | max(0, n - b) + b) and added until the region's probability reaches cl
(Feldman & Cousins 1998, Sec. IV.B); the largest accepted s of a grid in steps of 0.005 from the best
fit to above every limit, refined by bisection.  Seconds per limit at b ~ 100, minutes at b ~ 1e4.
"""

from __future__ import annotations

import math

import numpy as np

from lfvscan.pheno.poisson import S_TOL, poisson_upper

GRID_STEP = 0.005
BLOCK_SIZE = 2_000_000


def _log_factorials(n: np.ndarray) -> np.ndarray:
    first = math.lgamma(float(n[0]) + 1.0)
    return first + np.concatenate(([0.0], np.cumsum(np.log(n[1:].astype(float)))))


def accepts(n_obs: int, s, b: float, cl: float) -> np.ndarray:
    """Whether n_obs lies in the FC acceptance region of each signal mean in ``s``."""
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
    last = np.argmax(cum >= cl, axis=1)
    position = np.argmax(order == (n_obs - n[0]), axis=1)
    return position <= last


def _last_accepted(n_obs: int, grid: np.ndarray, b: float, cl: float) -> int:
    n_width = 2.0 * (12.0 * math.sqrt(float(grid[-1]) + b + 1.0) + 12.0) + 1.0
    step = max(1, int(BLOCK_SIZE / n_width))
    for start in range(max(0, grid.size - step), -step, -step):
        lo = max(start, 0)
        ok = np.nonzero(accepts(n_obs, grid[lo:lo + step], b, cl))[0]
        if ok.size:
            return lo + int(ok[-1])
    return 0


def grid_construction_upper(n_obs: int, b: float, cl: float) -> float:
    """The largest s of the grid whose FC region holds n_obs, refined by bisection to the next step."""
    lo = max(n_obs - b, 0.0)
    top = lo + 2.0 * (poisson_upper(n_obs, 0.0, 0.5 * (1.0 + cl)) - n_obs) + 2.0
    grid = np.arange(lo, top + GRID_STEP, GRID_STEP)
    i = _last_accepted(n_obs, grid, b, cl)
    if i + 1 >= grid.size:
        return float(grid[i])
    lo, hi = float(grid[i]), float(grid[i + 1])
    while hi - lo > S_TOL * max(1.0, hi):
        mid = 0.5 * (lo + hi)
        if accepts(n_obs, mid, b, cl)[0]:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
