"""The compiled integrand and sums against the numpy reference, and the driver's per-iteration
bookkeeping (docs/physics.md §7.5-§7.8, §7.12).

Reference for the integrand: :func:`lfvscan.xsec.d3sigma` (numpy, tested against 50-digit and
four-vector references in tests/test_amplitude.py, tests/test_kinematics.py) times the Jacobian of
the vegas variables, written out here from their definitions (theta_a = theta_s e^y1, theta_s =
2 sqrt(min(s2, 1)) with s2 = sin^2(theta/2) of the smaller of theta_c, sin^2(theta_c/2) = |u_0| / (4 |p||k|), and of theta_w, sin^2(theta_w/2) =
(2 |p - k| sqrt(t_cut) - |u_0|) / (4 |p||k|), floored at theta_c / 100; z = ln(1 + t_nuc/t) linear in
h(r) = r^2 (3 - 2r)).
"""

import math

import numpy as np
import pytest

from _leptons import PAIR, pair_of
from lfvscan.physics import kinematics
from lfvscan.physics.constants import M_E, M_MU, M_TAU
from lfvscan.physics.presets import PDG_2024
from lfvscan.xsec import cell_physics, d3sigma, integrand_points
from lfvscan.xsec.engine import ENGINES, using
from lfvscan.xsec.integrand import integrand_parts, part_delta_m


def _theta_s(cp, w):
    """theta_s [rad] at w (module docstring)."""
    k0 = kinematics.alp_kinematics(cp.E, w, 0.0, cp.m_a, m_beam=cp.m_beam, m_final=cp.m_final)
    au0 = np.maximum(np.abs(k0.u), 1e-12 * (cp.m_a**2 + cp.m_final**2))
    s2_c = au0 / (4.0 * k0.p * k0.k)
    s2_w = (2.0 * np.abs(k0.p_long) * math.sqrt(cp.ff.t_cut_GeV2) - au0) / (4.0 * k0.p * k0.k)
    return 2.0 * np.sqrt(np.minimum(np.minimum(s2_c, np.maximum(s2_w, 1e-4 * s2_c)), 1.0))


def _reference(y, cp):
    """(coh, inc, E_f) at vegas points y from d3sigma and the maps' definitions."""
    w = np.exp(y[:, 0])
    r = y[:, 2]
    th = _theta_s(cp, w) * np.exp(y[:, 1])
    in_th = (th <= math.pi) & (th >= cp.theta_a_min)
    th = np.where(in_th, th, 1.0)
    _, _, t_lo, t_up, _ = d3sigma(w, th, 1.0, cp)
    ok = (t_up > t_lo) & in_th
    t_nuc = 5.0 / (1.2 * cp.target.A ** (1 / 3) / 0.1973269804) ** 2  # 5 / R_A^2 (Eq. 20)
    z_lo = np.log1p(t_nuc / np.where(ok, t_lo, 1.0))
    z_up = np.log1p(t_nuc / np.where(ok, t_up, 1.0))
    t = t_nuc / np.expm1(z_lo + (z_up - z_lo) * r * r * (3 - 2 * r))
    dtdr = t * (1 + t / t_nuc) * (z_lo - z_up) * 6 * r * (1 - r)
    coh, inc, *_ = d3sigma(w, th, t, cp)
    jac = np.where(ok, w * np.sin(th) * th * dtdr, 0.0)
    return coh * jac, inc * jac, np.where(ok, (cp.m_final + w) - t / (2 * cp.M), np.nan)


@pytest.mark.parametrize("target, E, m_a, m_beam, m_final", [
    ("Pb", 1000.0, 2.0, M_MU, M_TAU), ("Pb", 1000.0, 20.0, M_MU, M_TAU), ("W", 160.0, 5.0, M_MU, M_TAU),
    ("Pb", 3000.0, 40.0, M_MU, M_TAU), ("W", 1000.0, 10.0, M_TAU, M_MU), ("Pb", 500.0, 3.0, M_MU, M_E)])
@pytest.mark.parametrize("engine", ENGINES)
def test_compiled_integrand_is_the_numpy_reference(target, E, m_a, m_beam, m_final, engine):
    """Point by point over the whole vegas box, any lepton pair, either engine (lfvscan.xsec.engine):
    same zeros, values to 1e-6 relative or 1e-10 of the largest (the cancellations of Abar amplify
    round-off differences where it is tiny), integrals to 1e-12."""
    cp = cell_physics(target, E, m_a, physics=PDG_2024, pair=pair_of(m_beam, m_final), boson="scalar")
    _assert_engine_matches_reference(cp, engine, seed=1, rtol=1e-6, sum_rel=1e-12)


def _assert_engine_matches_reference(cp, engine, seed, rtol, sum_rel):
    """The integrand of ``engine`` at 20000 random points of the cell's vegas box against
    :func:`_reference`: the same zeros, values to ``rtol`` or 1e-10 of the largest, the final lepton's
    energy to 1e-12, the sums to ``sum_rel``."""
    with using(engine):
        lo, hi = np.array(cp.bounds).T
        y = lo + (hi - lo) * np.random.default_rng(seed).random((20000, 3))
        coh, inc, e_f = integrand_points(y, cp)
    rc, ri, re = _reference(y, cp)
    assert np.array_equal(coh != 0, rc != 0) and np.count_nonzero(rc) > 1000
    nz = rc != 0
    np.testing.assert_allclose(coh[nz], rc[nz], rtol=rtol, atol=1e-10 * np.abs(rc).max())
    np.testing.assert_allclose(inc[nz], ri[nz], rtol=rtol, atol=1e-10 * np.abs(ri).max())
    np.testing.assert_allclose(e_f[nz], re[nz], rtol=1e-12)
    assert coh.sum() == pytest.approx(rc.sum(), rel=sum_rel) and inc.sum() == pytest.approx(ri.sum(), rel=sum_rel)


@pytest.mark.parametrize("target, E, m_X, m_beam, m_final, theta", [
    ("Pb", 1000.0, 2.0, M_MU, M_TAU, math.pi / 2), ("Pb", 1000.0, 20.0, M_MU, M_TAU, 0.0),
    ("W", 160.0, 5.0, M_MU, M_TAU, 0.7), ("Pb", 100.0, 2.0, M_E, M_TAU, 0.7), ("W", 1000.0, 10.0, M_TAU, M_MU, 0.3),
    ("Pb", 300.0, 0.05, M_MU, M_TAU, 1.2)])
@pytest.mark.parametrize("engine", ENGINES)
def test_compiled_vector_integrand_is_the_numpy_reference(target, E, m_X, m_beam, m_final, theta, engine):
    """The spin-1 branch of the kernel (§7.14) against d3sigma with
    :func:`lfvscan.physics.amplitude_vector.amplitude_vector_phi_avg`: as the spin-0 test, integrals to
    1e-10 (a light boson's X / m_X^2 term cancels against <2X + W_0>: round-off grows as m_f^2 / m_X^2)."""
    cp = cell_physics(target, E, m_X, theta=theta, physics=PDG_2024, pair=pair_of(m_beam, m_final), boson="vector")
    _assert_engine_matches_reference(cp, engine, seed=3, rtol=1e-5, sum_rel=1e-10)


def test_vector_parts_are_the_integrand_at_the_pure_couplings():
    """integrand_parts rows of a vector cell = the integrand at theta = pi/2 (vector) and 0 (axial)."""
    y = None
    parts = None
    for row, theta in enumerate((math.pi / 2, 0.0)):
        cp = cell_physics("Pb", 1000.0, 10.0, theta=theta, physics=PDG_2024, pair=PAIR, boson="vector")
        if y is None:
            lo, hi = np.array(cp.bounds).T
            y = lo + (hi - lo) * np.random.default_rng(2).random((5000, 3))
            parts = integrand_parts(y, cp)
        c1, i1, _ = integrand_points(y, cp)
        np.testing.assert_allclose(parts[0][row], c1, rtol=1e-12, atol=0)
        np.testing.assert_allclose(parts[1][row], i1, rtol=1e-12, atol=0)


def test_parts_are_the_integrand_at_the_pure_couplings():
    """integrand_parts rows = the integrand with (g_eff^2, Delta_m) = (1, d_S) and (1, d_P) (§7.12)."""
    cp = cell_physics("Pb", 1000.0, 10.0, physics=PDG_2024, pair=PAIR, boson="scalar")
    lo, hi = np.array(cp.bounds).T
    y = lo + (hi - lo) * np.random.default_rng(2).random((5000, 3))
    coh, inc, _ = integrand_parts(y, cp)
    for row, dm in enumerate(part_delta_m(cp)):
        cp1 = cell_physics("Pb", 1000.0, 10.0, physics=PDG_2024, pair=PAIR, boson="scalar")
        object.__setattr__(cp1, "g_eff2", 1.0)
        object.__setattr__(cp1, "dm", dm)
        c1, i1, _ = integrand_points(y, cp1)
        np.testing.assert_allclose(coh[row], c1, rtol=1e-13, atol=0)
        np.testing.assert_allclose(inc[row], i1, rtol=1e-13, atol=0)


def test_theta_box_reaches_pi_at_every_alp_energy():
    """The upper end of ln(theta_a / theta_s) covers theta_a = pi on a fine w grid (no phase space lost)."""
    for target, E, m_a in [("Pb", 1000.0, 2.0), ("W", 10.0, 2.0), ("W", 5000.0, 90.0), ("Pb", 160.0, 15.0)]:
        cp = cell_physics(target, E, m_a, physics=PDG_2024, pair=PAIR, boson="scalar")
        wlo, whi = cp.w_bounds
        th_s = _theta_s(cp, np.geomspace(wlo, whi * (1 - 1e-12), 100_001))
        assert np.all(th_s * math.exp(cp.bounds[1][1]) >= math.pi)


def _iteration(mean_tot, var_row0):
    """A frozen-iteration dict whose only meaningful entries are sigma_total's (S, P) means and its
    (var_S, var_P, cov_SP); the coherent / incoherent rows hold other numbers."""
    return {"cell_mean": np.array([mean_tot, [7.0, 8.0], [9.0, 10.0]]),
            "cell_var": np.array([var_row0, [100.0, 200.0, 300.0], [400.0, 500.0, 600.0]]),
            "bin_mean": np.zeros((2, 3)), "bin_var": np.zeros((3, 3)), "tail_var": np.zeros((3, 3))}


def test_sigma_variance_of_an_iteration_is_its_total_row():
    """sigma_total's variance at (a, b) = (g_S^2, g_P^2) is a^2 var_S + b^2 var_P + 2ab cov of the total
    row of cell_var, for the convergence test and for chi2 (not the column of var_S over
    total / coherent / incoherent)."""
    from lfvscan.xsec.driver import _iteration_chi2, _theta_view

    a, b = 0.3, 0.7
    it = _iteration([1.0, 2.0], [4.0, 9.0, 5.0])
    mean, var = _theta_view(it, a, b, 0.1)["sigma"]
    assert mean == pytest.approx(a * 1.0 + b * 2.0)
    assert var == pytest.approx(a * a * 4.0 + b * b * 9.0 + 2 * a * b * 5.0)
    its = [it, _iteration([2.0, 3.0], [4.0, 9.0, 5.0])]
    m1, m2 = a * 1 + b * 2, a * 2 + b * 3
    v = a * a * 4.0 + b * b * 9.0 + 2 * a * b * 5.0
    avg = 0.5 * (m1 + m2)
    chi2_dof, _ = _iteration_chi2(its, avg, a, b)
    assert chi2_dof == pytest.approx(((m1 - avg) ** 2 + (m2 - avg) ** 2) / v)


def test_iterations_are_averaged_with_their_shares_of_the_points():
    """Unequal iterations: mean sum n_i m_i / N, variance sum n_i^2 v_i / N^2 (each unbiased)."""
    from lfvscan.xsec.driver import _average

    its = [_iteration([1.0, 2.0], [4.0, 9.0, 5.0]), _iteration([3.0, 5.0], [1.0, 2.0, 1.5])]
    avg = _average(its, [1000, 3000])
    np.testing.assert_allclose(avg["cell_mean"][0], [0.25 * 1 + 0.75 * 3, 0.25 * 2 + 0.75 * 5])
    np.testing.assert_allclose(avg["cell_var"][0], [0.0625 * 4 + 0.5625 * 1, 0.0625 * 9 + 0.5625 * 2,
                                                    0.0625 * 5 + 0.5625 * 1.5])


def test_sin_cos_of_the_form_factor_is_libm():
    """The compiled form factor's one-reduction (sin x, cos x) against math.sin / math.cos, over the
    quadrants and the range of x = R_A sqrt(t) (0 .. ~40 for t <= 1 GeV^2) and beyond: a few ulp."""
    from lfvscan.xsec.kernel import _sin_cos

    xs = np.concatenate([np.linspace(-7.0, 7.0, 2001), np.geomspace(1e-8, 1e5, 2001), [0.0, math.pi / 4, math.pi]])
    for x in xs:
        s, c = _sin_cos(float(x))
        tol = 4e-16 * max(1.0, abs(x) / 1e3)
        assert abs(s - math.sin(x)) <= tol and abs(c - math.cos(x)) <= tol, x
    assert _sin_cos(1e7) == (math.sin(1e7), math.cos(1e7))  # beyond the reduction's range: libm itself
