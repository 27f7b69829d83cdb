"""Flux folding (docs/physics.md §10.1) against direct integrals of analytic S(E) over the packaged
FPF flux models (the FLUKA-v2 default, whose first bin starts at 0 GeV, and the 2024 stand-in) on
the paper config's W grid (26 energies 10 GeV - 5 TeV): <= 0.5 %; and the error of the fold
against a Monte Carlo propagation through the same fold."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from lfvscan.pheno.flux import load_flux
from lfvscan.pheno.folding import fold_flux

GRID = 10.0 * 500.0 ** (np.arange(26) / 25)  # configs/paper.toml, W energies


def direct(flux, S):
    """sum_k N_k <S>_k with muons uniform in ln E inside each bin (uniform in E in a bin from 0 GeV),
    within the grid range (scipy quad)."""
    tot = 0.0
    lg0, lg1 = math.log(GRID[0]), math.log(GRID[-1])
    for a, b, N in zip(flux.E_low_GeV, flux.E_high_GeV, flux.total_per_fb):
        if a == 0:  # dN/dE = N / b on [0, b]
            if b > GRID[0]:
                v, _ = quad(S, GRID[0], min(b, GRID[-1]), epsrel=1e-12, epsabs=0, limit=200)
                tot += N * v / b
            continue
        la, lb = math.log(a), math.log(b)
        lo, hi = max(la, lg0), min(lb, lg1)
        if hi > lo:
            v, _ = quad(lambda u: S(math.exp(u)), lo, hi, epsrel=1e-12, epsabs=0, limit=200)
            tot += N * v / (lb - la)
    return tot


def linear_fold(flux, S_grid):
    """Reference fold with S linear in ln E between the grid energies (trapezoids per flux bin)."""
    g = np.log(GRID)
    tot = 0.0
    for a, b, N in zip(flux.E_low_GeV, flux.E_high_GeV, flux.total_per_fb):
        la, lb = math.log(a), math.log(b)
        lo, hi = max(la, g[0]), min(lb, g[-1])
        if hi > lo:
            pts = np.concatenate([[lo], g[(g > lo) & (g < hi)], [hi]])
            vals = np.interp(pts, g, S_grid)
            tot += N / (lb - la) * float(np.sum(0.5 * (vals[1:] + vals[:-1]) * np.diff(pts)))
    return tot


def threshold(E0, n, q=0.3):
    return lambda E: (1 - E0 / E) ** n * E**q if E > E0 else 0.0


CASES = [("power 1.5", lambda E: E**1.5), ("power -0.5", lambda E: E**-0.5), ("power 2.4", lambda E: E**2.4)]
CASES += [(f"threshold E0={E0} n={n}", threshold(E0, n)) for E0 in (15.0, 100.0, 480.0) for n in (0.5, 1, 2, 3)]


@pytest.mark.parametrize("model", ["fluka-v2-slices", "stand-in-2024"])
@pytest.mark.parametrize("name,S", CASES, ids=[c[0] for c in CASES])
def test_fold_matches_direct_integral(name, S, model):
    flux = load_flux(model)
    Sg = np.array([S(E) for E in GRID])
    ref = direct(flux, S)
    got = fold_flux(flux, GRID, Sg[:, None]).value[0]
    tol = 1e-9 if name.startswith("power") else 5e-3  # power laws are exact in (ln E, ln S)
    assert got == pytest.approx(ref, rel=tol)


def test_linear_fold_is_biased_for_a_power_law():
    """S linear in ln E between the grid energies is > 1 % high for S ~ E^1.5, the log-space fold exact."""
    flux = load_flux("stand-in-2024")
    Sg = GRID**1.5
    assert linear_fold(flux, Sg) / direct(flux, lambda E: E**1.5) - 1 > 0.01


ERROR_CASES = [("power 1.5", lambda E: E**1.5), ("threshold E0=100 n=2", threshold(100.0, 2)),
               ("threshold E0=15 n=0.5", threshold(15.0, 0.5)),
               ("zero inside", lambda E: 0.0 if 200.0 < E < 400.0 else E**0.5)]


@pytest.mark.slow
@pytest.mark.parametrize("name,S", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_fold_error_matches_monte_carlo_propagation(name, S):
    """The propagated error of the fold equals the spread of the same fold over replicas of the grid
    values drawn with their errors (2 % relative, independent per energy): within 8 % (the MC
    estimate of a standard deviation from 1500 replicas is good to ~1.8 %)."""
    flux = load_flux(None)
    Sg = np.array([S(E) for E in GRID])
    err = 0.02 * Sg
    rng = np.random.default_rng(7)
    n_rep = 1500
    replicas = Sg[:, None] + err[:, None] * rng.standard_normal((GRID.size, n_rep))
    replicas = np.where(Sg[:, None] > 0, np.maximum(replicas, 0.0), 0.0)  # zero cells are exact zeros
    spread = float(np.std(fold_flux(flux, GRID, replicas).value, ddof=1))
    propagated = float(fold_flux(flux, GRID, Sg[:, None], err[:, None]).error[0])
    assert propagated == pytest.approx(spread, rel=0.08)


def test_fold_error_of_one_energy_is_its_sensitivity():
    """Only one energy with an error: the fold's error is |dF/dS_j| err_j, checked by a central
    difference of the fold."""
    flux = load_flux("stand-in-2024")
    Sg = GRID**1.5
    j = 12
    err = np.zeros_like(Sg)
    err[j] = 1e-3 * Sg[j]
    up, down = Sg.copy(), Sg.copy()
    up[j] += err[j]
    down[j] -= err[j]
    slope = (fold_flux(flux, GRID, up[:, None]).value[0] - fold_flux(flux, GRID, down[:, None]).value[0]) / 2
    assert fold_flux(flux, GRID, Sg[:, None], err[:, None]).error[0] == pytest.approx(abs(slope), rel=1e-5)


#: thresholds from well inside the paper grid to its last step (5 TeV): the fold extrapolates there
FLAG_CASES = [(E0, n) for E0 in np.geomspace(60.0, 4950.0, 23) for n in (0.5, 1.0, 2.0)]


def test_fold_near_threshold_is_flagged_unless_within_tolerance():
    """A fold the paper grid cannot resolve (threshold within its top steps) is flagged
    (flux_interp: a fold on every other energy off by > FLUX_INTERP_TOLERANCE, or fewer than three
    positive grid energies); every unflagged fold is within 0.5 % of the direct integral."""
    from lfvscan.pheno.folding import fold_on_half_grids, threshold_unresolved
    from lfvscan.pheno.quality import FLUX_INTERP_TOLERANCE, spread_flags

    flux = load_flux(None)
    Sg = np.array([[threshold(E0, n)(E) for E0, n in FLAG_CASES] for E in GRID])
    got = fold_flux(flux, GRID, Sg).value
    flagged = threshold_unresolved(Sg)
    for coarse in fold_on_half_grids(flux, GRID, Sg):
        flagged |= spread_flags(got, coarse, FLUX_INTERP_TOLERANCE)
    refs = np.array([direct(flux, threshold(E0, n)) for E0, n in FLAG_CASES])
    dev = np.abs(got / refs - 1)
    assert np.all(dev[~flagged] <= 5e-3), [(c, d) for c, d, f in zip(FLAG_CASES, dev, flagged) if not f and d > 5e-3]
    assert np.all(flagged[dev > 5e-3])
    assert np.all(flagged[-9:]) and (~flagged).sum() >= 12  # the top thresholds flagged, not all others
