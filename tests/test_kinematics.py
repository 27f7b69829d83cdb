"""Exact kinematics of mu N -> tau N a against physics.md §13.6 / §13.7 and independent checks."""

import math

import numpy as np
import pytest
from scipy import optimize

from lfvscan.physics import kinematics as K
from lfvscan.physics.constants import M_MU, M_TAU
from lfvscan.physics.reach import is_open, max_mass_exact_GeV, t_min_GeV2
from lfvscan.physics.targets import LEAD, TUNGSTEN

M_TABLE = 193.75077  # physics.md §13.6 table header


@pytest.mark.parametrize(
    "E, E_a, m_a, theta_a, V, u, t_plus, t_minus",
    [  # physics.md §13.6 "Exact bounds" table (Pb)
        (1000, 900, 10, 1e-3, 100.06004881, -15.17059951, 1.968668e4, 5.753384e-3),
        (1000, 990, 10, 0.0, 10.05050076, -4.16979693, 3.582599e2, 4.399244e-2),
        (160, 150, 3, 2e-3, 10.03475167, -3.85347257, 3.577196e2, 3.762745e-2),
    ],
)
def test_exact_bounds_table(E, E_a, m_a, theta_a, V, u, t_plus, t_minus):
    kin = K.alp_kinematics_from_Ea(E, E_a, theta_a, m_a)
    # the table has 8 decimals: agree to half a unit of the last one
    assert kin.V == pytest.approx(V, abs=5.01e-9)
    assert kin.u == pytest.approx(u, abs=5.01e-9)
    t_lo, t_hi = K.t_bounds(kin.E_minus_Ea, kin.V, kin.u, M_TABLE)
    assert t_lo == pytest.approx(t_minus, rel=1e-6)
    assert t_hi == pytest.approx(t_plus, rel=1e-6)


def test_amplitude_point_kinematics():
    """§13.6 amplitude-level test point: |p|, |k|, Q, cos(theta_q^0), s0, s1 at t = 2 t_-."""
    M = 193.750773
    kin = K.alp_kinematics_from_Ea(1000.0, 900.0, 1e-3, 10.0)
    t_lo, _ = K.t_bounds(kin.E_minus_Ea, kin.V, kin.u, M)
    t = 2 * t_lo
    assert t == pytest.approx(1.15067674e-2, rel=1e-8)
    assert kin.p == pytest.approx(999.99999442, rel=1e-10)
    assert kin.k == pytest.approx(899.94444273, rel=1e-10)
    assert K.recoil_momentum(t, M) == pytest.approx(1.07269606e-1, rel=1e-8)
    assert K.cos_theta_q0(t, kin, M) == pytest.approx(-0.70751311, rel=1e-8)
    s0, s1 = K.s_coefficients(t, kin, M)
    assert s0 == pytest.approx(151.71226804, rel=1e-9)
    assert abs(s1) == pytest.approx(1.36363086, rel=1e-8)


def test_cos_theta_q_is_pm1_at_bounds():
    """t_lo and t_hi are the roots of cos^2(theta_q^0) = 1 (§7.7)."""
    E = np.array([160.0, 1000.0, 3000.0, 3000.0])
    w = np.array([10.0, 50.0, 2.0, 2500.0])
    th = np.array([2e-3, 1e-3, 5e-4, 1e-5])
    kin = K.alp_kinematics(E, w, th, 5.0)
    t_lo, t_hi = K.t_bounds(kin.E_minus_Ea, kin.V, kin.u, LEAD.M)
    for t in (t_lo, t_hi):
        c = K.cos_theta_q0(t, kin, LEAD.M)
        np.testing.assert_allclose(np.abs(c), 1.0, rtol=1e-7)
    # strictly inside: physical, s0 > |s1| > 0
    tm = np.sqrt(t_lo * np.minimum(t_hi, 1.0))
    c = K.cos_theta_q0(tm, kin, LEAD.M)
    assert np.all(np.abs(c) < 1)
    s0, s1 = K.s_coefficients(tm, kin, LEAD.M)
    assert np.all(s0 > np.abs(s1)) and np.all(np.abs(s1) > 0)


def test_cancellation_free_u_against_naive_high_precision():
    """u and V at 3 TeV agree with a 50-digit naive evaluation (§7.8)."""
    import mpmath as mp
    mp.mp.dps = 50
    E, w, m_a, th = 3000.0, 2500.0, 2.0, 1e-6
    kin = K.alp_kinematics(E, w, th, m_a)
    Em, Wm = mp.mpf(E), mp.mpf(M_TAU) + mp.mpf(w)
    Ea = Em - Wm
    p, k = mp.sqrt(Em**2 - mp.mpf(M_MU) ** 2), mp.sqrt(Ea**2 - mp.mpf(m_a) ** 2)
    V = mp.sqrt((p - k * mp.cos(th)) ** 2 + (k * mp.sin(th)) ** 2)
    u = Wm**2 - V**2 - mp.mpf(M_TAU) ** 2
    assert float(kin.V / V) == pytest.approx(1.0, abs=1e-14)
    assert float(kin.u / u) == pytest.approx(1.0, abs=1e-13)


def test_t_min_approx_reference_values():
    """§13.6 t_min values from the §7.1 formula (lfvscan.reach)."""
    for E, m_a, ref in [(160, 2, 1.984009e-3), (160, 10, 1.878227e-1), (1000, 10, 4.808262e-3),
                        (1000, 40, 7.615135e-1)]:
        assert t_min_GeV2(E, m_a) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("E, m_a", [(160.0, 2.0), (1000.0, 10.0), (1000.0, 40.0), (3000.0, 20.0)])
def test_t_min_exact_is_minimum_of_t_lo(E, m_a):
    """t_min_exact (2 -> 2 threshold) equals the minimum of the 2 -> 3 t_lo over E_a at theta_a = 0,
    and tends to the §7.1 estimate up to O(m_X^2/E^2, E/M) corrections."""
    M = LEAD.M
    tmin = float(K.t_min_exact(E, m_a + M_TAU, M))

    def t_lo_of(lnw):
        kin = K.alp_kinematics(E, math.exp(lnw), 0.0, m_a)
        return float(K.t_bounds(kin.E_minus_Ea, kin.V, kin.u, M)[0])

    # at threshold tau and ALP share the velocity: E_tau / E_a = m_tau / m_a
    w0 = (E * M_TAU / (m_a + M_TAU)) - M_TAU
    res = optimize.minimize_scalar(t_lo_of, bracket=(math.log(w0) - 0.3, math.log(w0), math.log(w0) + 0.3),
                                   tol=1e-12)
    assert res.fun == pytest.approx(tmin, rel=1e-8)
    assert all(t_lo_of(math.log(w0) + d) >= tmin * (1 - 1e-12) for d in (-0.5, -0.01, 0.01, 0.5))
    approx = float(t_min_GeV2(E, m_a))
    corr = (m_a + M_TAU) ** 2 / E**2 + E / M * math.sqrt(approx)
    assert abs(tmin / approx - 1) < 4 * corr


def test_max_mass_exact_and_reference():
    """max_mass inverts t_min_exact at t_cut; it is just below the §13.7 (M -> inf) numbers."""
    for E, ref in [(160, 16.112), (1000, 42.945), (1500, 52.995), (4000, 87.666)]:
        m = max_mass_exact_GeV(E, "Pb")
        assert float(K.t_min_exact(E, m + M_TAU, LEAD.M)) == pytest.approx(1.0, rel=1e-9)
        assert m < ref
        # finite-M and -t corrections: Delta m_X^2 = t_cut (1 + E/M)  =>  Delta m_a ~ (1 + E/M) / (2 m_X)
        assert ref - m == pytest.approx((1 + E / LEAD.M) / (2 * (ref + M_TAU)), rel=0.02)
        assert is_open("Pb", E, m * (1 - 1e-6)) and not is_open("Pb", E, m * (1 + 1e-6))
    assert max_mass_exact_GeV(160, "W") < max_mass_exact_GeV(160, "Pb")  # lighter nucleus recoils more


def test_is_open_threshold():
    """Threshold energy (§7.1): m_a = 10 GeV needs E >~ 69 GeV; m_a = 20 is closed at 160 GeV."""
    assert not is_open(LEAD, 160.0, 20.0)
    assert not is_open(TUNGSTEN, 60.0, 10.0)
    assert is_open(LEAD, 160.0, 10.0)
    assert not is_open(LEAD, 5.0, 10.0)  # below the production threshold: no root at all
