"""Exact kinematics of mu N -> tau N a against docs/physics.md §13.6 / §13.7 and independent checks."""

import math

import numpy as np
import pytest
from scipy import optimize

from lfvscan.physics import kinematics as K
from lfvscan.physics.constants import M_E, M_MU, M_TAU
from lfvscan.physics.reach import is_open, max_mass_approx_GeV, max_mass_exact_GeV, t_min_GeV2
from lfvscan.physics.targets import LEAD, TUNGSTEN
from _leptons import PAIR, pair_of

M_TABLE = 193.75077  # docs/physics.md §13.6 table header


@pytest.mark.parametrize(
    "E, E_a, m_a, theta_a, V, u, t_plus, t_minus",
    [  # docs/physics.md §13.6 "Exact bounds" table (Pb)
        (1000, 900, 10, 1e-3, 100.06004881, -15.17059951, 1.968668e4, 5.753384e-3),
        (1000, 990, 10, 0.0, 10.05050076, -4.16979693, 3.582599e2, 4.399244e-2),
        (160, 150, 3, 2e-3, 10.03475167, -3.85347257, 3.577196e2, 3.762745e-2),
    ],
)
def test_exact_bounds_table(E, E_a, m_a, theta_a, V, u, t_plus, t_minus):
    kin = K.alp_kinematics(E, E - E_a - M_TAU, theta_a, m_a, m_beam=M_MU, m_final=M_TAU)
    # the table has 8 decimals: agree to half a unit of the last one
    assert kin.V == pytest.approx(V, abs=5.01e-9)
    assert kin.u == pytest.approx(u, abs=5.01e-9)
    t_lo, t_hi = K.t_bounds(kin.E_minus_Ea, kin.V, kin.u, M_TABLE)
    assert t_lo == pytest.approx(t_minus, rel=1e-6)
    assert t_hi == pytest.approx(t_plus, rel=1e-6)


def test_amplitude_point_kinematics():
    """§13.6 amplitude-level test point: |p|, |k|, Q, cos(theta_q^0), s0, s1 at t = 2 t_-."""
    M = 193.750773
    kin = K.alp_kinematics(1000.0, 1000.0 - 900.0 - M_TAU, 1e-3, 10.0, m_beam=M_MU, m_final=M_TAU)
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
    kin = K.alp_kinematics(E, w, th, 5.0, m_beam=M_MU, m_final=M_TAU)
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
    kin = K.alp_kinematics(E, w, th, m_a, m_beam=M_MU, m_final=M_TAU)
    Em, Wm = mp.mpf(E), mp.mpf(M_TAU) + mp.mpf(w)
    Ea = Em - Wm
    p, k = mp.sqrt(Em**2 - mp.mpf(M_MU) ** 2), mp.sqrt(Ea**2 - mp.mpf(m_a) ** 2)
    V = mp.sqrt((p - k * mp.cos(th)) ** 2 + (k * mp.sin(th)) ** 2)
    u = Wm**2 - V**2 - mp.mpf(M_TAU) ** 2
    assert float(kin.V / V) == pytest.approx(1.0, abs=1e-14)
    assert float(kin.u / u) == pytest.approx(1.0, abs=1e-13)


def test_t_min_approx_reference_values():
    """§13.6 t_min values from the §7.1 formula (lfvscan.physics.reach)."""
    for E, m_a, ref in [(160, 2, 1.984009e-3), (160, 10, 1.878227e-1), (1000, 10, 4.808262e-3),
                        (1000, 40, 7.615135e-1)]:
        assert t_min_GeV2(E, m_a, pair=PAIR) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("E, m_a", [(160.0, 2.0), (1000.0, 10.0), (1000.0, 40.0), (3000.0, 20.0)])
def test_t_min_exact_is_minimum_of_t_lo(E, m_a):
    """t_min_exact (2 -> 2 threshold) equals the minimum of the 2 -> 3 t_lo over E_a at theta_a = 0,
    and tends to the §7.1 estimate up to O(m_X^2/E^2, E/M) corrections."""
    M = LEAD.M
    tmin = float(K.t_min_exact(E, m_a + M_TAU, M, m_beam=M_MU))

    def t_lo_of(lnw):
        kin = K.alp_kinematics(E, math.exp(lnw), 0.0, m_a, m_beam=M_MU, m_final=M_TAU)
        return float(K.t_bounds(kin.E_minus_Ea, kin.V, kin.u, M)[0])

    # at threshold tau and ALP share the velocity: E_tau / E_a = m_tau / m_a
    w0 = (E * M_TAU / (m_a + M_TAU)) - M_TAU
    res = optimize.minimize_scalar(t_lo_of, bracket=(math.log(w0) - 0.3, math.log(w0), math.log(w0) + 0.3),
                                   tol=1e-12)
    assert res.fun == pytest.approx(tmin, rel=1e-8)
    assert all(t_lo_of(math.log(w0) + d) >= tmin * (1 - 1e-12) for d in (-0.5, -0.01, 0.01, 0.5))
    approx = float(t_min_GeV2(E, m_a, pair=PAIR))
    corr = (m_a + M_TAU) ** 2 / E**2 + E / M * math.sqrt(approx)
    assert abs(tmin / approx - 1) < 4 * corr


def test_max_mass_exact_and_reference():
    """max_mass inverts t_min_exact at t_cut; it is just below the §13.7 (M -> inf) numbers."""
    for E, ref in [(160, 16.112), (1000, 42.945), (1500, 52.995), (4000, 87.666)]:
        m = max_mass_exact_GeV(E, "Pb", pair=PAIR)
        assert float(K.t_min_exact(E, m + M_TAU, LEAD.M, m_beam=M_MU)) == pytest.approx(1.0, rel=1e-9)
        assert m < ref
        # finite-M and -t corrections: Delta m_X^2 = t_cut (1 + E/M)  =>  Delta m_a ~ (1 + E/M) / (2 m_X)
        assert ref - m == pytest.approx((1 + E / LEAD.M) / (2 * (ref + M_TAU)), rel=0.02)
        assert is_open("Pb", E, m * (1 - 1e-6), pair=PAIR) and not is_open("Pb", E, m * (1 + 1e-6), pair=PAIR)
    assert max_mass_exact_GeV(160, "W", pair=PAIR) < max_mass_exact_GeV(160, "Pb", pair=PAIR)  # lighter nucleus recoils more


def test_is_open_threshold():
    """Threshold energy (§7.1): m_a = 10 GeV needs E >~ 69 GeV; m_a = 20 is closed at 160 GeV."""
    assert not is_open(LEAD, 160.0, 20.0, pair=PAIR)
    assert not is_open(TUNGSTEN, 60.0, 10.0, pair=PAIR)
    assert is_open(LEAD, 160.0, 10.0, pair=PAIR)
    assert not is_open(LEAD, 5.0, 10.0, pair=PAIR)  # below the production threshold: no root at all


# ------------------------------------------------------------- other lepton pairs (m_beam, m_final)
PAIRS = [(M_E, M_TAU), (M_TAU, M_MU), (M_MU, M_E)]  # e -> tau, tau -> mu (swapped), mu -> e


@pytest.mark.parametrize("m_beam, m_final", PAIRS)
def test_exact_reach_other_pairs(m_beam, m_final):
    """max_mass_exact_GeV inverts t_min_exact at t_cut and brackets is_open for any lepton pair; the
    §7.1 estimate with the same masses lies just above it (finite-M correction, as for mu -> tau)."""
    kw = {"pair": pair_of(m_beam, m_final)}
    for E in (160.0, 1000.0, 4000.0):
        m = max_mass_exact_GeV(E, "Pb", **kw)
        assert float(K.t_min_exact(E, m + m_final, LEAD.M, m_beam=m_beam)) == pytest.approx(1.0, rel=1e-9)
        assert is_open("Pb", E, m * (1 - 1e-6), **kw) and not is_open("Pb", E, m * (1 + 1e-6), **kw)
        approx = float(max_mass_approx_GeV(E, **kw))
        assert m < approx
        assert approx - m == pytest.approx((1 + E / LEAD.M) / (2 * (approx + m_final)), rel=0.03)
    # the pair matters: a lighter outgoing lepton leaves more energy for the ALP
    assert max_mass_exact_GeV(160.0, "Pb", pair=pair_of(M_MU, M_E)) > max_mass_exact_GeV(160.0, "Pb", pair=PAIR)


@pytest.mark.parametrize("m_beam, m_final", PAIRS)
@pytest.mark.parametrize("E, w, m_a, theta_a", [(1000.0, 50.0, 5.0, 1e-3), (160.0, 3.0, 2.0, 5e-3)])
def test_energy_momentum_conservation_other_pairs(m_beam, m_final, E, w, m_a, theta_a):
    """Independent 50-digit check of §7.5 with explicit four-vectors for another lepton pair:
    p = (E, 0, 0, |p|) with p^2 = m_beam^2, k^2 = m_a^2, and with q = (-t/2M, |q| n) at the angle
    theta_q^0 of cos_theta_q0 from p - k, the outgoing lepton p' = p - k + q is on its mass shell
    m_final^2, the recoil P_f = P_i - q on M^2, and s = (p' + k)^2 - m_beam^2 = s0 + s1 cos(phi)."""
    import mpmath as mp

    mp.mp.dps = 50
    M = LEAD.M
    kin = K.alp_kinematics(E, w, theta_a, m_a, m_beam=m_beam, m_final=m_final)
    t_lo, t_hi = K.t_bounds(kin.E_minus_Ea, kin.V, kin.u, M)
    t = float(np.sqrt(t_lo * min(float(t_hi), 1.0)))
    Em, Ea, ma, th, Mm, tm = (mp.mpf(float(x)) for x in (E, kin.E_a, m_a, theta_a, M, t))
    p = mp.matrix([Em, 0, 0, mp.sqrt(Em**2 - mp.mpf(m_beam) ** 2)])
    kabs = mp.sqrt(Ea**2 - ma**2)
    k = mp.matrix([Ea, kabs * mp.sin(th), 0, kabs * mp.cos(th)])

    def dot(a, b):
        return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3]

    d = p - k
    V = mp.sqrt(d[1] ** 2 + d[2] ** 2 + d[3] ** 2)
    u = dot(d, d) - mp.mpf(m_final) ** 2
    assert float(kin.V / V) == pytest.approx(1.0, abs=1e-13)
    assert float(kin.u / u) == pytest.approx(1.0, abs=1e-11)
    # q at polar angle theta_q^0 from the direction of p - k, azimuth phi around it
    q_abs = mp.sqrt(tm + tm**2 / (4 * Mm**2))
    assert float(K.recoil_momentum(t, M) / q_abs) == pytest.approx(1.0, abs=1e-15)
    cq = (u - (1 + d[0] / Mm) * tm) / (2 * q_abs * V)
    assert float(K.cos_theta_q0(t, kin, M)) == pytest.approx(float(cq), abs=1e-11)
    assert abs(cq) < 1
    sq = mp.sqrt(1 - cq**2)
    e3 = mp.matrix([d[1], d[2], d[3]]) / V
    e1 = mp.matrix([-e3[2], 0, e3[0]])  # d has no y component: e1, e2 = y complete the frame
    e1 /= mp.sqrt(e1[0] ** 2 + e1[2] ** 2)
    e2 = mp.matrix([0, 1, 0])
    s0, s1 = K.s_coefficients(t, kin, M)
    s_vals = []
    for phi in (mp.mpf(0), mp.pi):
        n = cq * e3 + sq * (mp.cos(phi) * e1 + mp.sin(phi) * e2)
        q = mp.matrix([-tm / (2 * Mm), q_abs * n[0], q_abs * n[1], q_abs * n[2]])
        pp = d + q
        Pf = mp.matrix([Mm, 0, 0, 0]) - q
        assert float(abs(dot(pp, pp) - mp.mpf(m_final) ** 2)) < 1e-30
        assert float(abs(dot(Pf, Pf) / Mm**2 - 1)) < 1e-40
        assert float(-dot(q, q) / tm) == pytest.approx(1.0, abs=1e-40)
        s_vals.append(float(dot(pp + k, pp + k) - mp.mpf(m_beam) ** 2))
    np.testing.assert_allclose(sorted(s_vals), sorted([s0 - abs(s1), s0 + abs(s1)]), rtol=1e-9)
