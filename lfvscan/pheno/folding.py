"""Folding a selected cross section over a muon flux (FASERnu2, beam = "flux"; docs/physics.md §10.1).

:func:`fold_flux` gives ``sum_k N_k <S>_k`` [pb muons per fb^-1] from the selected cross section
S(E) (:func:`lfvscan.pheno.acceptance.selected_xsec`) on the scan energies of the experiment's
target: S is interpolated between the scan energies in (ln E, ln S) (exact for power laws; a fitted
A (E - E_t)^n at the threshold), both charges are summed, and within each flux bin the muons are
taken as uniform in ln E (a first bin starting at 0 GeV, where ln E is unbounded: uniform in E);
each piece is integrated by Gauss-Legendre (<= 0.5 % against direct integrals).  Outside the scanned energy range S is taken as zero (:func:`muons_outside_grid` gives
the muons lost).

:func:`fold_on_half_grids` and :func:`threshold_unresolved` tell where the scan energies do not
resolve S(E) well enough for the fold (the ``flux_interp`` quality flag, :mod:`lfvscan.pheno.quality`).

Its Monte Carlo error is that of the same fold: the fold is linearised in the S of each scan
energy (its derivative through the same interpolation, threshold fit and quadrature), and the
energies, computed independently, add in quadrature: ``err^2 = sum_j (dF/dS_j)^2 err_j^2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lfvscan.errors import UsageError
from lfvscan.pheno.flux import MuonFlux

#: Gauss-Legendre order per piece (flux bin x grid segment) of the flux folding
FOLD_GL_ORDER = 12
_FOLD_X, _FOLD_W = np.polynomial.legendre.leggauss(FOLD_GL_ORDER)
#: relative step of the central differences of the threshold fit's parameters in S
_FIT_STEP = 1e-6


@dataclass(frozen=True)
class Folded:
    """A fold per mass: ``value`` [pb muons per fb^-1], its MC error ``error`` (NaN without
    per-energy errors) and ``used``, the grid energies (bool, shape (n_grid,)) the fold reads."""

    value: np.ndarray
    error: np.ndarray
    used: np.ndarray


def _fraction_below(lo_E: float, hi_E: float, E: float) -> float:
    """Fraction of a flux bin's muons below ``E`` [GeV]: uniform in ln E within [lo_E, hi_E], or
    uniform in E for a bin starting at 0 GeV (docs/physics.md §10.1)."""
    if lo_E == 0:
        return float(np.clip(E / hi_E, 0, 1))
    a, b = np.log(lo_E), np.log(hi_E)
    return float(np.clip((np.log(E) - a) / (b - a), 0, 1))


def muons_outside_grid(flux: MuonFlux, grid_GeV) -> tuple[float, float]:
    """(muons below E_1, muons above E_n) per fb^-1 of ``flux`` (both charges, distributed within
    each flux bin as in the fold) for the sorted scan energies ``grid_GeV``: the muons the fold does not use."""
    grid = np.asarray(grid_GeV, dtype=float)
    if grid.size == 0:
        raise UsageError("no scan energies to fold the flux with")
    below = above = 0.0
    for lo_E, hi_E, N in zip(flux.E_low_GeV, flux.E_high_GeV, flux.total_per_fb):
        below += N * _fraction_below(lo_E, hi_E, grid[0])
        above += N * (1.0 - _fraction_below(lo_E, hi_E, grid[-1]))
    return float(below), float(above)


def _pieces(flux: MuonFlux, g) -> list[tuple[int, float, float, float, bool]]:
    """(grid segment j, ln E from, ln E to, muon density, linear) of each overlap of a flux bin
    [a, b] (in ln E) with a segment [g_j, g_{j+1}] of the ln-energy grid ``g``.  The muons per unit
    ln E are the density N/(b-a) (``linear`` False), or, in a bin starting at 0 GeV (uniform in E),
    the density N/E_high times E (``linear`` True)."""
    n = g.size
    pieces = []
    for lo_E, hi_E, N in zip(flux.E_low_GeV, flux.E_high_GeV, flux.total_per_fb):
        linear = lo_E == 0
        a, b = (g[0] if linear else math.log(lo_E)), math.log(hi_E)
        lo, hi = max(a, g[0]), min(b, g[-1])
        if hi <= lo or N == 0 or n < 2:
            continue
        pts = np.concatenate([[lo], g[(g > lo) & (g < hi)], [hi]])
        for x0, x1 in zip(pts[:-1], pts[1:]):
            j = int(min(max(np.searchsorted(g, 0.5 * (x0 + x1)) - 1, 0), n - 2))
            pieces.append((j, x0, x1, N / hi_E if linear else N / (b - a), linear))
    return pieces


def _threshold_fit(E, s, k0):
    """(E_t, n, A) of ``S = A (E - E_t)^n`` through the first three positive grid points
    ``E[k0..k0+2]`` (docs/physics.md §10.1), ``E_t`` in ``[E[k0-1], E[k0])`` where S is known to
    vanish; found by bisection on ln(S2/S1)/ln(S3/S2), which rises monotonically to infinity as
    E_t -> E[k0].  If the data want a lower threshold, ``E_t = E[k0-1]``."""
    E1, E2, E3 = E[k0], E[k0 + 1], E[k0 + 2]
    S1, S2, S3 = s[k0], s[k0 + 1], s[k0 + 2]
    def f(Et):
        return math.log((E2 - Et) / (E1 - Et)) / math.log((E3 - Et) / (E2 - Et))

    lo, hi = E[k0 - 1], E1 - 1e-9 * (E1 - E[k0 - 1])
    if S2 <= S1 or S3 <= S2 or f(lo) >= math.log(S2 / S1) / math.log(S3 / S2):
        Et = lo
    else:
        r = math.log(S2 / S1) / math.log(S3 / S2)
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if f(mid) > r else (mid, hi)
        Et = 0.5 * (lo + hi)
    if S2 <= S1:  # not rising: no threshold shape, S = S1 above E_t
        return Et, 0.0, S1
    n = math.log(S2 / S1) / math.log((E2 - Et) / (E1 - Et))
    return Et, n, S1 / (E1 - Et) ** n


def _threshold_fit_derivatives(E, s, k0) -> np.ndarray:
    """d(E_t, n, A)/dS_k for k = k0, k0+1, k0+2, shape (3 params, 3 points): central differences
    with a relative step :data:`_FIT_STEP` (the fit is smooth in S away from its branch points)."""
    out = np.zeros((3, 3))
    for q in range(3):
        k = k0 + q
        h = _FIT_STEP * s[k]
        up, down = s.copy(), s.copy()
        up[k] += h
        down[k] -= h
        out[:, q] = (np.array(_threshold_fit(E, up, k0)) - np.array(_threshold_fit(E, down, k0))) / (2.0 * h)
    return out


def _interp_segment(g, s, j, u):
    """S at ln E = ``u`` inside grid segment ``[g[j], g[j+1]]`` for one mass (docs/physics.md §10.1):
    cubic-like in (ln E, ln S) (mean of the quadratics through the all-positive 3-point stencils
    {j-1, j, j+1} and {j, j+1, j+2}), linear in (ln E, ln S) if neither stencil is positive, linear
    in (ln E, S) if an end point is zero.  Returns (S(u), [(k, dS(u)/dS_k), ...]): the value and its
    derivatives in the grid values it reads."""
    s0, s1 = s[j], s[j + 1]
    t = (u - g[j]) / (g[j + 1] - g[j])
    if not (s0 > 0 and s1 > 0):
        return s0 + (s1 - s0) * t, [(j, 1.0 - t), (j + 1, t)]
    n = len(g)
    ests = []
    basis_sum: dict[int, np.ndarray] = {}  # grid point -> sum over stencils of its Lagrange basis at u
    for st in ((j - 1, j, j + 1), (j, j + 1, j + 2)):
        if st[0] < 0 or st[2] >= n or not all(s[k] > 0 for k in st):
            continue
        x = g[list(st)]
        y = np.log(s[list(st)])
        basis = [np.prod([(u - x[b]) / (x[a] - x[b]) for b in range(3) if b != a], axis=0) for a in range(3)]
        ests.append(sum(y[a] * basis[a] for a in range(3)))
        for a, k in enumerate(st):
            basis_sum[k] = basis_sum.get(k, 0.0) + basis[a]
    if not ests:
        val = np.exp(np.log(s0) + (np.log(s1) - np.log(s0)) * t)
        return val, [(j, val * (1.0 - t) / s0), (j + 1, val * t / s1)]
    val = np.exp(np.mean(ests, axis=0))
    return val, [(k, val * c / (len(ests) * s[k])) for k, c in basis_sum.items()]


def _fold_one_mass(pieces, g, E, s, with_grad: bool):
    """(fold, its gradient in ``s``) for one mass: ``s`` (n_grid,) the selected cross section [pb]
    on the grid; :func:`fold_flux` describes the fold.  The gradient is zero unless ``with_grad``."""
    n = g.size
    grad = np.zeros(n)
    pos = s > 0
    if not pos.any():
        return 0.0, grad
    k0 = int(np.argmax(pos))
    thr = k0 >= 1 and k0 + 2 < n and bool(np.all(pos[k0:k0 + 3]))
    fit = _threshold_fit(E, s, k0) if thr else None
    dfit = _threshold_fit_derivatives(E, s, k0) if thr and with_grad else None
    total = 0.0
    for j, x0, x1, dens, linear in pieces:
        if fit is not None and k0 - 1 <= j <= k0 + 1:
            Et, nexp, A = fit
            x0 = max(x0, math.log(Et)) if Et > 0 else x0
            if x1 <= x0:
                continue
            u = 0.5 * (x0 + x1) + 0.5 * (x1 - x0) * _FOLD_X
            vals = A * np.clip(np.exp(u) - Et, 0, None) ** nexp
            if linear:  # muons per unit ln E proportional to E (bin from 0 GeV); d_param below scale with vals
                vals = vals * np.exp(u)
            if not with_grad:
                total += dens * 0.5 * (x1 - x0) * float(np.dot(_FOLD_W, vals))
                continue
            # the integrand vanishes at E_t (n > 0) or E_t is fixed (n = 0): no end-point term
            with np.errstate(divide="ignore", invalid="ignore"):
                dE = np.clip(np.exp(u) - Et, 0, None)
                d_param = (np.where(dE > 0, -nexp * vals / dE, 0.0),  # d/dE_t
                           np.where(dE > 0, vals * np.log(dE), 0.0),  # d/dn
                           vals / A if A != 0 else np.zeros_like(vals))  # d/dA
            derivs = [(k0 + q, sum(d_param[p] * dfit[p, q] for p in range(3))) for q in range(3)]
        else:
            u = 0.5 * (x0 + x1) + 0.5 * (x1 - x0) * _FOLD_X
            vals, derivs = _interp_segment(g, s, j, u)
            if linear:  # muons per unit ln E proportional to E (bin from 0 GeV)
                vals = vals * np.exp(u)
                derivs = [(k, d * np.exp(u)) for k, d in derivs]
            if not with_grad:
                total += dens * 0.5 * (x1 - x0) * float(np.dot(_FOLD_W, vals))
                continue
        weight = dens * 0.5 * (x1 - x0)
        total += weight * float(np.dot(_FOLD_W, vals))
        for k, d in derivs:
            grad[k] += weight * float(np.dot(_FOLD_W, d))
    return total, grad


def fold_flux(flux: MuonFlux, grid_GeV, S_grid, S_err_grid=None) -> Folded:
    """sum_k N_k <S>_k [pb muons per fb^-1] for each mass, and its MC error: ``S_grid`` (n_grid, nM)
    [pb] on the scan energies ``grid_GeV`` (sorted), with errors ``S_err_grid`` (same shape;
    None: no error), muons uniform in ln E within flux bin k (docs/physics.md §10.1).

    Interpolation of S between grid energies (``_interp_segment``): piecewise cubic-like in
    (ln E, ln S), exact for power laws.  Near the threshold (the first positive grid point k0
    follows a zero) the first three positive points fix ``S = A (E - E_t)^n`` (``_threshold_fit``),
    used on the segments up to k0 + 2.  Each (flux bin x grid segment) piece is integrated with
    12-point Gauss-Legendre in ln E (from ln E_t on the threshold segment).  Outside the grid S = 0.
    Accuracy against direct integrals of analytic S(E) on the packaged flux and the paper grid:
    tests/test_flux_folding.py (<= 0.5 %).  Error: the fold linearised in each S_j (the module
    docstring), checked against a Monte Carlo propagation through the same fold."""
    g = np.log(np.asarray(grid_GeV, dtype=float))
    if g.size == 0:
        raise UsageError("no scan energies to fold the flux with")
    E = np.exp(g)
    S_grid = np.asarray(S_grid, dtype=float)
    n, nM = S_grid.shape
    pieces = _pieces(flux, g)
    used = np.zeros(n, dtype=bool)
    for j, *_ in pieces:
        used[j] = used[j + 1] = True
    value = np.zeros(nM)
    grads = np.zeros((n, nM))
    for m in range(nM):
        value[m], grads[:, m] = _fold_one_mass(pieces, g, E, S_grid[:, m], S_err_grid is not None)
    if S_err_grid is None:
        error = np.full(nM, np.nan)
    else:
        error = np.sqrt(np.sum((grads * np.asarray(S_err_grid, dtype=float)) ** 2, axis=0))
    return Folded(value, error, used)


def half_grids(n_grid: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the two grids of every other scan energy of a grid of ``n_grid`` (the even and the
    odd ones), each with the first and the last energy kept: half the resolution over the same range."""
    ends = [0, n_grid - 1]
    return (np.unique(np.concatenate([ends, np.arange(0, n_grid, 2)])),
            np.unique(np.concatenate([ends, np.arange(1, n_grid, 2)])))


def fold_on_half_grids(flux: MuonFlux, grid_GeV, S_grid) -> tuple[np.ndarray, np.ndarray]:
    """The folds (:func:`fold_flux`, values only, shape (nM,) each) of S on the two grids of every
    other scan energy (:func:`half_grids`).  Their differences to the fold on every energy measure the
    error of the interpolation between the scan energies; taking both makes the measure independent
    of where a threshold falls relative to one of them (docs/physics.md §10.1)."""
    grid = np.asarray(grid_GeV, dtype=float)
    S_grid = np.asarray(S_grid, dtype=float)
    if grid.size < 3:
        nan = np.full(S_grid.shape[1], np.nan)
        return nan, nan
    return tuple(fold_flux(flux, grid[idx], S_grid[idx]).value for idx in half_grids(grid.size))


def threshold_unresolved(S_grid) -> np.ndarray:
    """Per mass (bool, shape (nM,)): S is positive at one or two scan energies only, so the fold has
    no threshold fit (:func:`fold_flux` needs three positive points) and S below them is a linear
    guess from the last zero: a yield the grid cannot give (docs/physics.md §10.1)."""
    n_pos = np.sum(np.asarray(S_grid, dtype=float) > 0, axis=0)
    return (n_pos > 0) & (n_pos < 3)
