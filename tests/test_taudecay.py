"""Tau decay lengths and selection fractions against docs/physics.md §13.7 and §8."""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from lfvscan.physics import taudecay as td
from lfvscan.physics.constants import CTAU_TAU_CM, M_E, M_MU, M_TAU
from _leptons import PAIR, pair_of
from _refs import assert_printed
from lfvscan.physics.leptons import Lepton


LAMBDA = {5: ("2.6303", "2.28913e-2"), 20: ("11.2113", "9.75720e-2"), 100: ("56.2702", "0.489719"),
          500: ("281.3935", "2.44897"), 1000: ("562.7897", "4.89796")}


@pytest.mark.parametrize("E", sorted(LAMBDA))
def test_decay_length_table(E):
    bg, lam = LAMBDA[E]
    assert_printed(td.beta_gamma_tau(E, tau=PAIR.final), bg)
    assert_printed(td.decay_length_tau_cm(E, tau=PAIR.final), lam)


def test_decay_length_vectorised_and_at_rest():
    E = np.array([M_TAU, 5.0, 1000.0])
    lam = td.decay_length_tau_cm(E, tau=PAIR.final)
    assert lam.shape == (3,) and lam[0] == 0.0
    # rounding just below m_tau is clipped, genuinely unphysical energies raise naming the value
    assert td.decay_length_tau_cm(M_TAU * (1 - 1e-12), tau=PAIR.final) == 0.0
    with pytest.raises(ValueError, match="1.5"):
        td.decay_length_tau_cm(1.5, tau=PAIR.final)


def test_e_cut_inverts_decay_length():
    d = np.array([0.0, 0.2, 2.0, 10.0])
    np.testing.assert_allclose(td.decay_length_tau_cm(td.e_cut_GeV(d, tau=PAIR.final), tau=PAIR.final), d, atol=1e-14, rtol=1e-12)
    assert td.e_cut_GeV(2.0, tau=PAIR.final) == pytest.approx(math.sqrt((M_TAU * 2.0 / CTAU_TAU_CM) ** 2 + M_TAU**2), rel=1e-15)
    with pytest.raises(ValueError, match="d_cm"):
        td.e_cut_GeV(-1.0, tau=PAIR.final)


# §13.7: (E_a, m_a) -> (E_-, E_+, P_2(2 cm), P_2(2 mm))
TAU2 = {(1000, 10): ("31.6002", "999.8605", "0.61091", "0.99042"),
        (1000, 5): ("126.3593", "999.4834", "0.67705", "1.0"),
        (500, 20): ("4.1451", "499.7874", "0.18451", "0.92590")}


@pytest.mark.parametrize("key", sorted(TAU2))
def test_tau2_bounds_and_fraction(key):
    em, ep, p2cm, p2mm = TAU2[key]
    lo, hi = td.tau2_energy_bounds(*key, pair=PAIR)
    assert_printed(lo, em)
    assert_printed(hi, ep)
    assert_printed(td.p2_pass_fraction(*key, 2.0, pair=PAIR), p2cm)
    assert_printed(td.p2_pass_fraction(*key, 0.2, pair=PAIR), p2mm)


def test_tau2_bounds_physics():
    # E_- + E_+ = 2 gamma E*, and for m_a >> m_tau E_- ~ E_a m_tau^2/m_a^2, E_+ ~ E_a (§8.3)
    # (the E_- limit also needs gamma_a >> m_a / m_tau, i.e. E_a >> m_a^2 / m_tau)
    E_a, m_a = 1e5, 40.0
    lo, hi = td.tau2_energy_bounds(E_a, m_a, pair=PAIR)
    assert lo + hi == pytest.approx(E_a / m_a * (m_a**2 + M_TAU**2 - M_MU**2) / m_a, rel=1e-13)
    assert lo == pytest.approx(E_a * M_TAU**2 / m_a**2, rel=0.01)
    assert hi == pytest.approx(E_a, rel=0.01)
    # plateau: lambda_max ~ (E_a/m_tau) c tau = 4.9 cm at 1 TeV
    hi = td.tau2_energy_bounds(1000.0, 40.0, pair=PAIR)[1]
    assert td.decay_length_tau_cm(hi, tau=PAIR.final) == pytest.approx(4.9, abs=0.05)
    # impossible decays: NaN bounds, zero fraction
    lo, hi = td.tau2_energy_bounds(np.array([100.0, 5.0]), np.array([1.85, 10.0]), pair=PAIR)
    assert np.all(np.isnan(lo)) and np.all(np.isnan(hi))
    assert np.all(td.p2_pass_fraction(np.array([100.0, 5.0]), np.array([1.85, 10.0]), 2.0, pair=PAIR) == 0.0)


def test_p2_vectorised_and_monotonic():
    E_a = np.geomspace(20.0, 3000.0, 50)
    p = td.p2_pass_fraction(E_a, 10.0, 2.0, pair=PAIR)
    assert p.shape == E_a.shape
    assert np.all((p >= 0) & (p <= 1))
    assert np.all(np.diff(p) >= -1e-15)
    assert p[0] == 0.0 and p[-1] > 0.8
    assert np.all(td.p2_pass_fraction(E_a, 10.0, 0.0, pair=PAIR) == 1.0)
    # ALP at rest: single tau energy E* = 5.157 GeV, lambda = 0.0237 cm
    assert td.p2_pass_fraction(10.0, 10.0, 1e-3, pair=PAIR) == 1.0
    assert td.p2_pass_fraction(10.0, 10.0, 0.1, pair=PAIR) == 0.0


def test_exponential_survival_option():
    E = np.array([5.0, 100.0, 1000.0])
    lam = td.decay_length_tau_cm(E, tau=PAIR.final)
    np.testing.assert_allclose(td.resolved_fraction(E, 2.0, "exponential", tau=PAIR.final), np.exp(-2.0 / lam), rtol=1e-14)
    np.testing.assert_array_equal(td.resolved_fraction(E, 2.0, tau=PAIR.final), (lam > 2.0).astype(float))
    assert td.resolved_fraction(M_TAU, 0.1, "exponential", tau=PAIR.final) == 0.0
    # average over the flat tau_2 spectrum vs adaptive quadrature
    for (E_a, m_a) in ((1000.0, 10.0), (500.0, 20.0)):
        lo, hi = td.tau2_energy_bounds(E_a, m_a, pair=PAIR)
        ref = quad(lambda e: math.exp(-2.0 / td.decay_length_tau_cm(e, tau=PAIR.final)) if e > M_TAU else 0.0,
                   float(lo), float(hi), epsrel=1e-11, limit=200)[0] / (hi - lo)
        assert td.p2_pass_fraction(E_a, m_a, 2.0, "exponential", pair=PAIR) == pytest.approx(ref, rel=1e-8)
    with pytest.raises(ValueError, match="gauss"):
        td.p2_pass_fraction(1000.0, 10.0, 2.0, "gauss", pair=PAIR)


@pytest.mark.parametrize("y,ref", [(0.25, "0.402344"), (0.5, "0.729167"), (0.8, "0.957867")])
def test_tau_to_mu_cdf(y, ref):
    assert_printed(td.tau_to_mu_cdf(y), ref)


def test_tau_to_mu_cdf_normalisation_and_spectrum():
    assert td.tau_to_mu_cdf(0.0) == 0.0 and td.tau_to_mu_cdf(1.0) == pytest.approx(1.0, abs=1e-15)
    assert td.tau_to_mu_cdf(2.0) == pytest.approx(1.0, abs=1e-15) and td.tau_to_mu_cdf(-1.0) == 0.0
    integral = quad(lambda y: 5 / 3 - 3 * y**2 + 4 / 3 * y**3, 0, 0.37)[0]
    assert td.tau_to_mu_cdf(0.37) == pytest.approx(integral, rel=1e-13)
    # NA64 cut E_mu < 80 GeV for a 100 GeV tau
    assert td.p_muon_energy_below(100.0, 80.0, tau=PAIR.final) == pytest.approx(td.tau_to_mu_cdf(0.8), rel=1e-15)


# ------------------------------------------- another tau mass / lifetime, another lighter lepton

def test_tau_properties_as_parameters():
    """beta gamma, lambda and E_cut (§8.1, §8.5) with a different mass and c tau, by hand."""
    m, ct = 1.5, 2 * CTAU_TAU_CM
    tau = Lepton("heavy", m, ctau_cm=ct)
    E = np.array([1.5, 3.0, 50.0, 700.0])
    lam = np.sqrt(E**2 - m**2) / m * ct
    np.testing.assert_allclose(td.decay_length_tau_cm(E, tau=tau), lam, rtol=1e-14)
    d = np.array([0.0, 0.01, 1.0])
    ecut = td.e_cut_GeV(d, tau=tau)
    np.testing.assert_allclose(ecut, np.sqrt((m * d / ct) ** 2 + m**2), rtol=1e-14)
    np.testing.assert_allclose(td.decay_length_tau_cm(ecut, tau=tau), d, rtol=1e-12, atol=1e-15)
    assert td.resolved_fraction(ecut[1] * 1.001, d[1], tau=tau) == 1.0
    assert td.resolved_fraction(ecut[1] * 0.999, d[1], tau=tau) == 0.0
    with pytest.raises(ValueError, match="m_tau = 1.5"):
        td.beta_gamma_tau(1.4, tau=tau)
    assert td.p_muon_energy_below(1.6, 0.5, tau=tau) == td.tau_to_mu_cdf(0.5 / 1.6)


def test_tau_e_decay_kinematics_by_hand():
    """a -> tau e (beam electron, final tau): rest-frame E*, p* by hand, on shell, and the flat lab spectrum."""
    m_a, E_a, d = 5.0, 60.0, 0.1
    e_star = (m_a**2 + M_TAU**2 - M_E**2) / (2 * m_a)
    p_star = math.sqrt((m_a**2 - (M_TAU + M_E) ** 2) * (m_a**2 - (M_TAU - M_E) ** 2)) / (2 * m_a)
    es, ps = td.tau2_rest_frame(m_a, pair=pair_of(M_E, M_TAU))
    assert es == pytest.approx(e_star, rel=1e-14) and ps == pytest.approx(p_star, rel=1e-14)
    assert es**2 - ps**2 == pytest.approx(M_TAU**2, rel=1e-12)
    gam = E_a / m_a
    beta = math.sqrt(1 - 1 / gam**2)
    lo, hi = td.tau2_energy_bounds(E_a, m_a, pair=pair_of(M_E, M_TAU))
    assert lo == pytest.approx(gam * (e_star - beta * p_star), rel=1e-12)
    assert hi == pytest.approx(gam * (e_star + beta * p_star), rel=1e-12)
    ecut = td.e_cut_GeV(d, tau=PAIR.final)
    frac = (hi - max(ecut, lo)) / (hi - lo)
    assert 0.1 < frac < 0.9
    assert td.p2_pass_fraction(E_a, m_a, d, pair=pair_of(M_E, M_TAU)) == pytest.approx(frac, rel=1e-12)
    # between the tau-e and tau-mu thresholds only a -> tau e happens
    m_mid = M_TAU + 0.05
    assert np.isnan(td.tau2_energy_bounds(10.0, m_mid, pair=PAIR)[0]) and td.p2_pass_fraction(10.0, m_mid, d, pair=PAIR) == 0.0
    assert np.isfinite(td.tau2_energy_bounds(10.0, m_mid, pair=pair_of(M_E, M_TAU))[0])
