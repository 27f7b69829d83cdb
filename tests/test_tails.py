"""The interpolated upper tail of the x_f distribution (lfvscan.pheno.tails, docs/physics.md §10.1)
against analytic distributions integrated independently (scipy.quad)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from lfvscan.pheno.tails import tails_at_edges, upper_tail

E, M_TAU = 1000.0, 1.77686
EDGES = np.geomspace(M_TAU / E, 1.0, 61)


def _density(p, x_max):
    """dsigma/dln x = x^-p sqrt(x_max - x): steeply falling for large p, vanishing at the reach."""
    return lambda u: math.exp(-p * u) * math.sqrt(max(x_max - math.exp(u), 0.0))


def _exact_tail(f, u_c, u_max):
    return quad(f, u_c, u_max, limit=400, epsabs=0, epsrel=1e-12)[0] if u_c < u_max else 0.0


def _hist(f, u_max):
    u = np.log(EDGES)
    contents = [_exact_tail(f, lo, min(hi, u_max)) if lo < u_max else 0.0 for lo, hi in zip(u[:-1], u[1:])]
    return np.array(contents) / np.diff(u)


@pytest.mark.parametrize("m,p", [(10.0, 3.0), (26.6968, 8.0), (26.6968, 15.0)])
def test_steep_tail_at_the_2cm_cut(m, p):
    """Inside a 60-bin grid, at x = 0.40834 (2 cm at 1 TeV): 1e-4 of the exact tail, where the
    piecewise-constant density of the histogram is off by more than 1e-3."""
    u_max = math.log(1 - m / E)
    f = _density(p, 1 - m / E)
    h = _hist(f, u_max)
    tail = upper_tail(EDGES, h[None], np.array([u_max]), last_bin_exponent=None)
    u_c = math.log(0.40834)
    exact = _exact_tail(f, u_c, u_max)
    assert tail.value(np.array([[u_c]]))[0, 0] == pytest.approx(exact, rel=1e-4)
    u = np.log(EDGES)
    k = np.searchsorted(u, u_c) - 1
    flat = _exact_tail(f, u[k + 1], u_max) + h[k] * (u[k + 1] - u_c)
    assert abs(flat / exact - 1) > 1e-3


def test_passes_through_edges_and_density_integrates_to_bins():
    m, p = 20.0, 8.0
    u_max = math.log(1 - m / E)
    h = _hist(_density(p, 1 - m / E), u_max)
    tail = upper_tail(EDGES, h[None], np.array([u_max]), last_bin_exponent=None)
    u = np.log(EDGES)
    C = tails_at_edges(EDGES, h[None])[0]
    inside = u < u_max
    np.testing.assert_allclose(tail.value(u[None, inside])[0], C[inside], rtol=1e-12)
    q = np.linspace(u[0], u_max, 20001)[None]
    C_q, f_q = tail.value_and_density(q)
    assert np.all(f_q >= 0) and np.all(np.diff(C_q[0]) <= 1e-15 * C_q[0, 0])
    k = 40  # a bin below the reach: the density's integral is the bin's content
    nodes = np.linspace(u[k], u[k + 1], 4001)
    dens = tail.value_and_density(nodes[None])[1][0]
    assert np.trapezoid(dens, nodes) == pytest.approx(h[k] * (u[k + 1] - u[k]), rel=1e-6)


def test_flat_density_is_exact_in_every_bin_and_vanishes_beyond_reach():
    """dsigma/dln x constant up to the reach (C linear in ln x): exact, the last partial bin too."""
    m = 5.0
    u_max = math.log(1 - m / E)
    h = _hist(lambda u: 1.0, u_max)
    tail = upper_tail(EDGES, h[None], np.array([u_max]), last_bin_exponent=None)
    q = np.array([[math.log(0.0409), math.log(0.40834), math.log(0.99), u_max, 0.0]])
    np.testing.assert_allclose(tail.value(q)[0], np.clip(u_max - q[0], 0, None), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tail.value_and_density(q)[1][0], [1, 1, 1, 0, 0], rtol=1e-12)
