"""Dark-matter rates and relic helpers against docs/physics.md §13.4 and §5."""

import math

import numpy as np
import pytest

from lfvscan.physics import darkmatter as dm
from lfvscan.physics.constants import M_E, M_MU, M_TAU
from _refs import assert_printed
from _leptons import PAIR, pair_of


# §13.4: m_a -> (<sigma v> GeV^-2, cm^3/s, g_min), g = g_chi = 1, m_chi = m_a/3, m_mu -> 0
SIGV = {5: ("2.34885e-3", "2.74189e-20", "1.2668e-3"),
        10: ("9.88892e-4", "1.15436e-20", "1.9523e-3"),
        20: ("2.76394e-4", "3.22643e-21", "3.6929e-3")}


@pytest.mark.parametrize("m_a", sorted(SIGV))
def test_sigma_v_tau_mu_and_relic(m_a):
    gev, cm3, gmin = SIGV[m_a]
    sv = dm.sigma_v_tau_mu(m_a / 3.0, m_a, pair=PAIR)
    assert_printed(sv, gev)
    assert_printed(dm.to_cm3_per_s(sv), cm3)
    assert_printed(dm.g_relic(m_a / 3.0, m_a, pair=PAIR), gmin)
    # benchmark default m_a = 3 m_chi
    assert dm.sigma_v_tau_mu(m_a / 3.0, pair=PAIR) == pytest.approx(sv, rel=1e-14)
    # theta independent in the Eq. (3) (m_mu -> 0) convention; scales as g^2 g_chi^2
    assert dm.sigma_v_tau_mu(m_a / 3.0, m_a, 0.01, 0.5, theta=0.2, pair=PAIR) == pytest.approx(0.25e-4 * sv, rel=1e-13)


def test_g_relic_reaches_target():
    m_chi = np.geomspace(1.0, 100.0, 7)
    gmin = dm.g_relic(m_chi, 3 * m_chi, pair=PAIR)
    sv = dm.to_cm3_per_s(dm.sigma_v_tau_mu(m_chi, 3 * m_chi, gmin, pair=PAIR))
    np.testing.assert_allclose(sv, dm.RELIC_SIGMA_V_CM3_S, rtol=1e-12)
    assert dm.RELIC_SIGMA_V_CM3_S == 4.4e-26
    assert dm.g_relic(10 / 3, 10, sigma_v0_cm3_s=8.8e-26, pair=PAIR) == pytest.approx(math.sqrt(2) * 1.9523e-3, rel=1e-4)


def test_general_form_massless_muon_and_eq2():
    m_chi, m_a = 4.0, 9.0
    s = 4 * m_chi**2
    closed = (s - M_TAU**2) ** 2 / (16 * math.pi * m_chi**2 * (s - m_a**2) ** 2)  # Eq. (13) m_mu -> 0
    for gs, gp in ((1.0, 0.0), (0.0, 1.0), (0.6, 0.8)):
        assert dm.sigma_v_tau_mu_yukawa(m_chi, m_a, gs, gp, pair=PAIR, light_massless=True) == pytest.approx(closed, rel=1e-13)
    # with m_mu kept (Eq. (2)) the rate depends weakly on theta and is within ~15 % of the massless one
    r0 = dm.sigma_v_tau_mu(m_chi, m_a, theta=0.0, convention="eq2", pair=PAIR)
    r2 = dm.sigma_v_tau_mu(m_chi, m_a, theta=math.pi / 2, convention="eq2", pair=PAIR)
    assert r0 != r2
    assert abs(r0 / closed - 1) < 0.15 and abs(r2 / closed - 1) < 0.15


def test_width_regulates_pole():
    m_chi = 5.0
    assert np.isinf(dm.sigma_v_tau_mu(m_chi, 2 * m_chi, pair=PAIR))
    width = 0.3
    on = dm.sigma_v_tau_mu(m_chi, 2 * m_chi, width_a=width, pair=PAIR)
    s = 4 * m_chi**2
    assert on == pytest.approx((s - M_TAU**2) ** 2 / (16 * math.pi * m_chi**2 * s * width**2), rel=1e-13)
    off = dm.sigma_v_tau_mu(m_chi, 30.0, pair=PAIR)
    assert dm.sigma_v_tau_mu(m_chi, 30.0, width_a=width, pair=PAIR) < off


def test_closed_channel():
    m_chi = np.array([0.5, (M_TAU + M_MU) / 2, 0.94])
    assert np.all(dm.sigma_v_tau_mu(m_chi, 3 * m_chi, pair=PAIR) == 0.0)
    assert np.all(np.isinf(dm.g_relic(m_chi, 3 * m_chi, pair=PAIR)))
    assert dm.sigma_v_tau_mu(0.95, 3.0, pair=PAIR) > 0


def test_r_infinity_and_id_rescaling():
    sv0 = dm.RELIC_SIGMA_V_CM3_S
    assert dm.r_infinity(0.0) == 1.0
    assert dm.r_infinity(sv0) == pytest.approx(math.exp(-2), rel=1e-14)
    assert dm.r_infinity(10 * sv0) < 1e-8
    # symmetric limit r = 1: Dirac-quoted limit applies unchanged, Majorana-quoted with 1/2
    assert dm.id_rescaling_factor(1.0, "dirac") == 1.0
    assert dm.id_rescaling_factor(1.0, "majorana") == 0.5
    r = np.array([0.0, 0.1, 0.5])
    np.testing.assert_allclose(dm.id_rescaling_factor(r), 2 * r / (1 + r) ** 2)
    with pytest.raises(ValueError, match="wimp"):
        dm.id_rescaling_factor(0.5, "wimp")


# §13.4 Eq. (14): (m_chi, m_a) -> (b GeV^-2, b cm^3/s)
BCOEF = {(20, 10): ("1.72219e-6", "2.01036e-23"), (10, 5): ("6.88874e-6", "8.04143e-23"),
         (30, 10): ("8.62362e-7", "1.00666e-23")}


@pytest.mark.parametrize("masses", sorted(BCOEF))
def test_secluded_b(masses):
    b = dm.b_chichi_to_aa(*masses)
    assert_printed(b, BCOEF[masses][0])
    assert_printed(dm.to_cm3_per_s(b), BCOEF[masses][1])


def test_secluded_small_ma_and_closed():
    m_chi = 7.0
    assert dm.b_chichi_to_aa(m_chi, 1e-6) == pytest.approx(1 / (384 * math.pi * m_chi**2), rel=1e-10)
    assert dm.b_chichi_to_aa(m_chi, 7.0) == 0.0 and dm.b_chichi_to_aa(m_chi, 9.0) == 0.0
    assert dm.b_chichi_to_aa(m_chi, 3.0, 0.5) == pytest.approx(dm.b_chichi_to_aa(m_chi, 3.0) / 16, rel=1e-14)
    assert np.isinf(dm.g_chi_relic_secluded(5.0, 6.0))


@pytest.mark.parametrize("masses,x_F,ref", [((20, 10), 20, "0.3476"), ((20, 10), 25, "0.3675"),
                                            ((10, 5), 20, "0.2458"), ((10, 5), 25, "0.2599")])
def test_secluded_relic_recipe(masses, x_F, ref):
    g_chi = dm.g_chi_relic_secluded(*masses, x_F=x_F)
    assert_printed(g_chi, ref)
    assert dm.to_cm3_per_s(3 * dm.b_chichi_to_aa(*masses, g_chi) / x_F) == pytest.approx(4.4e-26, rel=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match="m_chi"):
        dm.sigma_v_tau_mu(-1.0, 3.0, pair=PAIR)
    with pytest.raises(ValueError, match="m_a"):
        dm.sigma_v_tau_mu(1.0, float("nan"), pair=PAIR)
    with pytest.raises(ValueError, match="sigma_v0"):
        dm.g_relic(3.0, 9.0, sigma_v0_cm3_s=0.0, pair=PAIR)
    with pytest.raises(ValueError, match="x_F"):
        dm.g_chi_relic_secluded(20.0, 10.0, x_F=-1)


# ------------------------------------------------------- other lepton pairs

def test_sigma_v_other_pairs_by_hand():
    """Eq. (13) for the (mu, e) pair written out by hand (general §5.1 form, Eq. (2) Yukawas with
    r = m_e/m_mu) and its m_light -> 0 form (Eq. (3)); g_relic uses the same pair."""
    m_chi, m_a, g, th = 4.0, 9.0, 0.5, 0.4
    kw = {"pair": pair_of(M_E, M_MU)}
    s = 4 * m_chi**2
    massless = g**2 * (s - M_MU**2) ** 2 / (16 * math.pi * m_chi**2 * (s - m_a**2) ** 2)
    assert dm.sigma_v_tau_mu(m_chi, m_a, g, theta=th, **kw) == pytest.approx(massless, rel=1e-13)
    r = M_E / M_MU
    g_S, g_P = g * (1 - r) * math.sin(th), g * (1 + r) * math.cos(th)
    plus, minus = s - (M_MU + M_E) ** 2, s - (M_MU - M_E) ** 2
    general = math.sqrt(plus * minus) * (g_S**2 * plus + g_P**2 * minus) / (16 * math.pi * m_chi**2 * (s - m_a**2) ** 2)
    assert dm.sigma_v_tau_mu(m_chi, m_a, g, theta=th, convention="eq2", **kw) == pytest.approx(general, rel=1e-13)
    sv1 = dm.to_cm3_per_s(dm.sigma_v_tau_mu(m_chi, m_a, 1.0, theta=th, **kw))
    assert dm.g_relic(m_chi, m_a, theta=th, **kw) ** 2 * sv1 == pytest.approx(dm.RELIC_SIGMA_V_CM3_S, rel=1e-13)


def test_threshold_uses_the_physical_light_mass():
    """2 m_chi between m_tau + m_e and m_tau + m_mu: open for tau e, closed for tau mu, also in the
    massless-formula convention eq3."""
    m_chi = (M_TAU + 0.05) / 2
    assert dm.sigma_v_tau_mu(m_chi, pair=PAIR) == 0.0 and np.isinf(dm.g_relic(m_chi, pair=PAIR))
    tau_e = pair_of(M_E, M_TAU)
    assert dm.sigma_v_tau_mu(m_chi, pair=tau_e) > 0.0 and np.isfinite(dm.g_relic(m_chi, pair=tau_e))
    assert dm.sigma_v_tau_mu_yukawa(m_chi, 3 * m_chi, 1.0, 0.0, pair=PAIR, light_massless=True) == 0.0
    assert dm.sigma_v_tau_mu_yukawa(m_chi, 3 * m_chi, 1.0, 0.0, pair=tau_e, light_massless=True) > 0.0
