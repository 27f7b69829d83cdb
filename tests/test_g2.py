"""Muon g-2 from the LFV ALP against docs/physics.md §13.3, §4 and the §13.8 limits."""

from lfvscan.physics.process import DEFAULT_PROCESS
import math

import numpy as np
import pytest
from scipy.optimize import brentq

from lfvscan.physics import g2
from lfvscan.physics.constants import M_E, M_MU, M_TAU
from _leptons import PAIR, pair_of
from _refs import assert_printed


PI = math.pi
# §13.3 loop functions
F_REF = {0.5: "0.77258872", 2: "0.54517744", 10: "0.27368590", 100: "0.06441561", 31.673319: "0.14030786"}
G_REF = {0.5: "0.21184411", 2: "0.12148922", 10: "0.04366453", 100: "0.00608334", 31.673319: "0.01716015"}


@pytest.mark.parametrize("x", sorted(F_REF))
def test_loop_functions(x):
    assert_printed(g2.loop_F(x), F_REF[x])
    assert_printed(g2.loop_G(x), G_REF[x])


def test_x_of_10GeV():
    assert_printed((10.0 / M_TAU) ** 2, "31.673319")


def test_loop_function_limits():
    assert g2.loop_F(0.0) == pytest.approx(1.0, abs=1e-15)
    assert g2.loop_G(0.0) == pytest.approx(1.0 / 3.0, abs=1e-15)
    assert g2.loop_F(1.0) == pytest.approx(2.0 / 3.0, abs=1e-15)
    assert g2.loop_G(1.0) == pytest.approx(1.0 / 6.0, abs=1e-15)
    x = 1e7
    assert g2.loop_F(x) == pytest.approx((2 * math.log(x) - 3) / x, rel=1e-5)
    assert g2.loop_G(x) == pytest.approx(2.0 / (3.0 * x), rel=1e-5)
    assert np.all(np.isfinite(g2.loop_F(np.linspace(0, 3, 3001))))


@pytest.mark.parametrize("x", [1 - 0.0999, 1 - 1e-3, 1 + 1e-6, 1 + 0.05, 1 + 0.0999, 1.1001])
def test_loop_functions_near_one_vs_high_precision(x):
    import mpmath as mp
    mp.mp.dps = 50
    X = mp.mpf(x)
    F = (1 - 3 * X) / (X - 1) ** 2 + 2 * X**2 * mp.log(X) / (X - 1) ** 3
    G = (2 * X**2 + 5 * X - 1) / (3 * (X - 1) ** 3) - 2 * X**2 * mp.log(X) / (X - 1) ** 4
    assert g2.loop_F(x) == pytest.approx(float(F), rel=1e-11)
    assert g2.loop_G(x) == pytest.approx(float(G), rel=1e-10)


def test_prefactors():
    assert_printed(M_MU / (16 * PI**2 * M_TAU), "3.765572e-4")
    # Eq. (10) at theta = 0 is minus the first prefactor; the G term alone (theta = pi/4, Eq. (3))
    assert_printed(-g2.delta_amu_lowmass(1.0, 0.0, pair=PAIR), "3.765572e-4")
    assert_printed(g2.delta_amu(1e-9, PI / 4, method="closed", pair=PAIR) / g2.loop_G(0.0), "2.239142e-5")


# §13.3 exact table, g = 1: m_a -> {theta: (eq3, eq2)}
THETAS = (PI / 2, 3 * PI / 8, PI / 3, PI / 4, 0.0)
AMU = {
    2: [("+2.39362e-4", "+2.11741e-4"), ("+1.70245e-4", "+1.42498e-4"), ("+1.21372e-4", "+9.35354e-5"),
        ("+3.38179e-6", "-2.46706e-5"), ("-2.32598e-4", "-2.61083e-4")],
    5: [("+1.17227e-4", "+1.03700e-4"), ("+8.32318e-5", "+6.96251e-5"), ("+5.91937e-5", "+4.55305e-5"),
        ("+1.16050e-6", "-1.26388e-5"), ("-1.14906e-4", "-1.28978e-4")],
    10: [("+5.32213e-5", "+4.70800e-5"), ("+3.77457e-5", "+3.15631e-5"), ("+2.68028e-5", "+2.05910e-5"),
         ("+3.84266e-7", "-5.89813e-6"), ("-5.24528e-5", "-5.88763e-5")],
    20: [("+2.05481e-5", "+1.81770e-5"), ("+1.45616e-5", "+1.21732e-5"), ("+1.03286e-5", "+7.92787e-6"),
         ("+1.09095e-7", "-2.32127e-6"), ("-2.03299e-5", "-2.28195e-5")],
}


@pytest.mark.parametrize("m_a", sorted(AMU))
def test_exact_integral_table(m_a):
    for th, (r3, r2) in zip(THETAS, AMU[m_a]):
        assert_printed(g2.delta_amu(m_a, th, 1.0, "eq3", pair=PAIR), r3)
        assert_printed(g2.delta_amu(m_a, th, 1.0, "eq2", pair=PAIR), r2)


def test_exact_vectorised_matches_scalar():
    m = np.array([2.0, 5.0, 10.0, 20.0])
    th = np.array([PI / 2, PI / 3])[:, None]
    grid = g2.delta_amu(m, th, pair=PAIR)
    assert grid.shape == (2, 4)
    assert grid[1, 2] == g2.delta_amu(10.0, PI / 3, pair=PAIR)
    assert g2.delta_amu(10.0, PI / 2, 0.01, pair=PAIR) == pytest.approx(1e-4 * g2.delta_amu(10.0, PI / 2, pair=PAIR), rel=1e-14)


def test_exact_vs_adaptive_quadrature_heavy_and_light():
    # independent adaptive integration of the §4.1 integrand (also outside the tabulated range)
    from scipy.integrate import quad

    for m_a in (0.05, 300.0):
        eps, lam = M_TAU / M_MU, M_MU / m_a

        def f(x, s):
            return x * x * (1 - x + s * eps) / ((1 - x) * (1 - lam**2 * x) + eps**2 * lam**2 * x)

        pts = [1 - 1e-3, 1 - 1e-5] if m_a > 1 else [1e-3]
        ref_s = quad(f, 0, 1, args=(1,), epsabs=0, epsrel=1e-12, limit=500, points=pts)[0]
        ref_p = quad(f, 0, 1, args=(-1,), epsabs=0, epsrel=1e-12, limit=500, points=pts)[0]
        pref = M_MU**2 / (8 * PI**2 * m_a**2)
        assert g2.delta_amu_yukawa(m_a, 1.0, 0.0, pair=PAIR) == pytest.approx(pref * ref_s, rel=1e-9)
        assert g2.delta_amu_yukawa(m_a, 0.0, 1.0, pair=PAIR) == pytest.approx(pref * ref_p, rel=1e-9)


def test_textbook_massless_limits():
    # §4.1 / §13.8: eps = 1 (internal muon), m_a -> 0: +3 g^2/16pi^2 (scalar), -g^2/16pi^2 (pseudoscalar)
    k = 16 * PI**2
    assert g2.delta_amu_yukawa(1e-8, 1.0, 0.0, pair=pair_of(M_MU, M_MU)) * k == pytest.approx(3.0, rel=1e-6)
    assert g2.delta_amu_yukawa(1e-8, 0.0, 1.0, pair=pair_of(M_MU, M_MU)) * k == pytest.approx(-1.0, rel=1e-6)


@pytest.mark.parametrize("m_a,rel", [(2.0, "4.8e-4"), (5.0, "1.7e-4"), (10.0, "6e-5")])
def test_closed_vs_exact(m_a, rel):
    ex = g2.delta_amu(m_a, PI / 2, pair=PAIR)
    cl = g2.delta_amu(m_a, PI / 2, method="closed", pair=PAIR)
    assert_printed(abs(cl - ex) / ex, rel)


def test_half_GeV_point():
    assert_printed(g2.delta_amu(0.5, PI / 2, pair=PAIR), "3.609577e-4")
    assert_printed(g2.delta_amu(0.5, PI / 2, method="closed", pair=PAIR), "3.605900e-4")


def test_closed_form_tends_to_eq10():
    # §13.8: Eq. (8)-(9) -> Eq. (10) (+ the O(m_mu/m_tau) G(0) = 1/3 term) as m_a -> 0
    r = M_MU / M_TAU
    for th in (0.0, PI / 3, PI / 2):
        cl = g2.delta_amu(1e-5, th, method="closed", pair=PAIR)
        low = g2.delta_amu_lowmass(1.0, th, pair=PAIR)
        assert cl == pytest.approx(low + r * r / 3 / (16 * PI**2), rel=1e-8)
    assert g2.delta_amu_lowmass(1.0, PI / 2, pair=PAIR) == pytest.approx(3.765572e-4, rel=2e-7)
    # low-mass formula (10): g = 2.5715e-3 gives 249e-11 for cos 2 theta = -1 (§13.3)
    assert_printed(g2.delta_amu_lowmass(2.5715e-3, PI / 2, pair=PAIR) * 1e11, "249.00", slack=0)


def test_theta_pi4_conventions_section_4_4():
    assert g2.delta_amu(10.0, PI / 4, convention="eq3", pair=PAIR) == pytest.approx(3.84e-7, abs=0.005e-7)
    assert g2.delta_amu(10.0, PI / 4, convention="eq2", pair=PAIR) == pytest.approx(-5.9e-6, abs=0.05e-6)


@pytest.mark.parametrize("m_a,ref", [(2.0, "0.26664"), (10.0, "0.26776"), (30.0, "0.26819")])
def test_eq2_sign_change(m_a, ref):
    root = brentq(lambda t: float(g2.delta_amu(m_a, t * PI, convention="eq2", pair=PAIR)), 0.2, 0.3, xtol=1e-12)
    assert_printed(root, ref)


BAND_PI2 = {2: ("3.2253e-3", "2.5282e-3", "3.7965e-3"), 5: ("4.6088e-3", "3.6127e-3", "5.4250e-3"),
            10: ("6.8400e-3", "5.3617e-3", "8.0513e-3"), 20: ("1.1008e-2", "8.6290e-3", "1.2958e-2"),
            40: ("1.8723e-2", "1.4677e-2", "2.2039e-2")}


def test_preferred_band_theta_pi2():
    m = np.array(sorted(BAND_PI2), dtype=float)
    lo, c, hi = g2.preferred_band(m, PI / 2, pair=PAIR)
    assert lo.shape == m.shape
    for i, ma in enumerate(sorted(BAND_PI2)):
        rc, rlo, rhi = BAND_PI2[ma]
        assert_printed(c[i], rc)
        assert_printed(lo[i], rlo)
        assert_printed(hi[i], rhi)


@pytest.mark.parametrize("theta,conv,ref", [
    (3 * PI / 8, "eq3", ("8.1221e-3", "6.3667e-3", "9.5604e-3")),
    (PI / 3, "eq3", ("9.6385e-3", "7.5554e-3", "1.1345e-2")),
    (PI / 4, "eq3", ("8.0498e-2", "6.3100e-2", "9.4753e-2")),
])
def test_preferred_band_other_theta(theta, conv, ref):
    lo, c, hi = g2.preferred_band(10.0, theta, convention=conv, pair=PAIR)
    assert_printed(c, ref[0])
    assert_printed(lo, ref[1])
    assert_printed(hi, ref[2])


def test_preferred_band_eq2_and_definition():
    assert_printed(g2.preferred_band(10.0, PI / 2, convention="eq2", pair=PAIR)[1], "7.2725e-3")
    # band edges reproduce the measured value +- n sigma (1 sigma alternative [201, 297]e-11)
    hat = g2.delta_amu(7.0, 1.3, pair=PAIR)
    lo, c, hi = g2.preferred_band(7.0, 1.3, nsigma=1, pair=PAIR)
    assert lo**2 * hat == pytest.approx(201e-11, rel=1e-12)
    assert c**2 * hat == pytest.approx(249e-11, rel=1e-12)
    assert hi**2 * hat == pytest.approx(297e-11, rel=1e-12)


def test_preferred_band_degenerate_cases():
    # no positive contribution -> no band (NaN)
    lo, c, hi = g2.preferred_band([5.0, 10.0], 0.0, pair=PAIR)
    assert np.all(np.isnan(lo)) and np.all(np.isnan(c)) and np.all(np.isnan(hi))
    assert np.isnan(g2.preferred_band(10.0, PI / 4, convention="eq2", pair=PAIR)[1])
    # wp2025: 38(63)e-11 -> lower edge negative -> upper limit only
    lo, c, hi = g2.preferred_band(10.0, PI / 2, "wp2025", pair=PAIR)
    assert lo == 0.0
    hat = g2.delta_amu(10.0, PI / 2, pair=PAIR)
    assert c**2 * hat == pytest.approx(38e-11, rel=1e-12)
    assert hi**2 * hat == pytest.approx((38 + 126) * 1e-11, rel=1e-12)
    # user measurement with a negative central value
    m = g2.G2Measurement("user", -50e-11, 40e-11, "test")
    lo, c, hi = g2.preferred_band(10.0, PI / 2, m, pair=PAIR)
    assert lo == 0.0 and c == 0.0 and hi**2 * hat == pytest.approx(30e-11, rel=1e-12)
    # mixed theta array: NaN only where the contribution is negative
    lo, c, hi = g2.preferred_band(10.0, np.array([0.0, PI / 2]), pair=PAIR)
    assert np.isnan(c[0]) and c[1] > 0


def test_presets_and_validation():
    p = g2.G2_PRESETS["paper-2023"]
    assert (p.delta_amu, p.sigma) == (249e-11, 48e-11)
    w = g2.G2_PRESETS["wp2025"]
    assert (w.delta_amu, w.sigma) == (38e-11, 63e-11)
    assert g2.get_g2_measurement(p) is p
    with pytest.raises(ValueError, match="nope"):
        g2.get_g2_measurement("nope")
    with pytest.raises(ValueError, match="sigma"):
        g2.G2Measurement("x", 1e-9, -1e-10)
    with pytest.raises(ValueError, match="nsigma"):
        g2.preferred_band(10.0, PI / 2, nsigma=0, pair=PAIR)
    with pytest.raises(ValueError, match="m_a"):
        g2.delta_amu(-1.0, PI / 2, pair=PAIR)
    with pytest.raises(ValueError, match="method"):
        g2.delta_amu(1.0, PI / 2, method="fast", pair=PAIR)


# ---------------------------------------------------- other lepton pairs (external beam, final in the loop)

def test_electron_g2_with_tau_loop_against_quadrature_and_closed_forms():
    """Delta a_e from the exact §4.1 integral (external electron, tau in the loop) against an
    independent adaptive quadrature, the Eq. (8) closed form and the Eq. (10) low-mass limit."""
    from scipy.integrate import quad

    kw = {"pair": pair_of(M_E, M_TAU)}
    for m_a in (0.05, 5.0):
        eps, lam = M_TAU / M_E, M_E / m_a

        def f(x, s):
            return x * x * (1 - x + s * eps) / ((1 - x) * (1 - lam**2 * x) + eps**2 * lam**2 * x)

        pref = M_E**2 / (8 * PI**2 * m_a**2)
        ref_s = quad(f, 0, 1, args=(1,), epsabs=0, epsrel=1e-12, limit=500, points=[1 - 1e-3, 1 - 1e-5])[0]
        assert g2.delta_amu_yukawa(m_a, 1.0, 0.0, **kw) == pytest.approx(pref * ref_s, rel=1e-9)
    ex = g2.delta_amu(5.0, PI / 2, **kw)
    assert g2.delta_amu(5.0, PI / 2, method="closed", **kw) == pytest.approx(ex, rel=2e-4)
    low = g2.delta_amu_lowmass(1.0, PI / 2, **kw)
    assert low == pytest.approx(M_E / M_TAU / (16 * PI**2), rel=1e-14)  # (g_S^2 - g_P^2) m_e / (16 pi^2 m_tau)
    assert g2.delta_amu(1e-3, PI / 2, method="lowmass", **kw) == low
    assert g2.delta_amu(1e-3, PI / 2, **kw) == pytest.approx(low, rel=1e-3)


def test_eq2_ratio_is_lighter_over_heavier_lepton():
    """In the Eq. (2) convention r = m_light / m_heavy of the pair, whichever lepton is external."""
    for m_lepton, m_loop in ((M_E, M_MU), (M_MU, M_E)):
        g_S, g_P = 0.7 * (1 - M_E / M_MU) * math.sin(1.1), 0.7 * (1 + M_E / M_MU) * math.cos(1.1)
        got = g2.delta_amu(3.0, 1.1, 0.7, "eq2", pair=pair_of(m_lepton, m_loop))
        assert got == g2.delta_amu_yukawa(3.0, g_S, g_P, pair=pair_of(m_lepton, m_loop))


def test_band_uses_the_lepton_pair():
    lo, c, hi = g2.preferred_band(np.array([1.0, 5.0]), PI / 2, pair=pair_of(M_E, M_TAU))
    hat = g2.delta_amu(np.array([1.0, 5.0]), PI / 2, pair=pair_of(M_E, M_TAU))
    np.testing.assert_allclose(c**2 * hat, g2.G2_PRESETS["paper-2023"].delta_amu, rtol=1e-13)


def test_negative_measurement_band_where_the_shift_is_negative():
    """Delta a_e(Cs) = -10.1(2.7)e-13 (the thesis's anomalies['e Cs']) is explained where the ALP's shift is
    negative (Theta < pi/4, thesis ch. 5): the band edges reproduce -10.1e-13 -+ 2 x 2.7e-13; no band where the
    shift is positive (no zero-width band).  The positive Rb value keeps its band at pi/2 only."""
    kw = {"pair": pair_of(M_E, M_TAU)}
    m = np.array([2.0, 5.0, 10.0])
    hat0 = g2.delta_amu(m, 0.0, **kw)
    assert np.all(hat0 < 0)
    lo, c, hi = g2.preferred_band(m, 0.0, "electron-cs-2023", **kw)
    np.testing.assert_allclose(lo**2 * hat0, -4.7e-13, rtol=1e-12)
    np.testing.assert_allclose(c**2 * hat0, -10.1e-13, rtol=1e-12)
    np.testing.assert_allclose(hi**2 * hat0, -15.5e-13, rtol=1e-12)
    assert np.all(np.isnan(g2.preferred_band(m, PI / 2, "electron-cs-2023", **kw)))
    assert np.all(np.isnan(g2.preferred_band(m, 0.0, "electron-rb-2023", **kw)))
    assert np.all(np.isfinite(g2.preferred_band(m, PI / 2, "electron-rb-2023", **kw)))
