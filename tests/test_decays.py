"""ALP widths, BRs and decay lengths against docs/physics.md §13.2 and the statements of §3."""

import math

import numpy as np
import pytest

from lfvscan.physics import decays
from lfvscan.physics.constants import M_E, M_MU, M_TAU
from _refs import assert_printed
from _leptons import PAIR, pair_of


# docs/physics.md §13.2: per charge channel, g = 1; columns Eq.(3), Eq.(2) theta = 0, pi/4, pi/2
WIDTHS = {
    2: ("3.532538e-3", "5.000239e-3", "3.244655e-3", "1.489072e-3"),
    5: ("1.518677e-1", "1.731949e-1", "1.525367e-1", "1.318785e-1"),
    10: ("3.731595e-1", "4.203818e-1", "3.745619e-1", "3.287419e-1"),
    20: ("7.832621e-1", "8.799646e-1", "7.860752e-1", "6.921857e-1"),
}


@pytest.mark.parametrize("m_a", sorted(WIDTHS))
def test_width_per_charge_table(m_a):
    ref = WIDTHS[m_a]
    # Eq. (3) width is theta independent
    for th in (0.0, 0.3, math.pi / 4, math.pi / 2):
        assert_printed(decays.width_tau_mu(m_a, 1.0, th, "eq3", both_charges=False, pair=PAIR), ref[0])
    for th, r in zip((0.0, math.pi / 4, math.pi / 2), ref[1:]):
        assert_printed(decays.width_tau_mu(m_a, 1.0, th, "eq2", both_charges=False, pair=PAIR), r)


def test_eq5_closed_form_and_charge_sum():
    m = np.array([2.0, 3.0, 7.0, 50.0])
    g = 0.03
    eq5 = g**2 * m / (8 * math.pi) * (1 - M_TAU**2 / m**2) ** 2  # Eq. (5), one charge
    np.testing.assert_allclose(decays.width_tau_mu(m, g, 0.4, both_charges=False, pair=PAIR), eq5, rtol=1e-13)
    np.testing.assert_allclose(decays.width_tau_mu(m, g, 0.4, pair=PAIR), 2 * eq5, rtol=1e-13)


@pytest.mark.parametrize("m_a,ref", [(2, "2.7930e-10"), (5, "6.4967e-12"), (10, "2.6440e-12"), (20, "1.2596e-12")])
def test_ctau_both_charges(m_a, ref):
    assert_printed(decays.ctau_m(m_a, 1e-2, pair=PAIR), ref)
    # scales as g^-2
    assert decays.ctau_m(m_a, 1e-3, pair=PAIR) == pytest.approx(100 * float(ref), rel=1e-4)


def test_displaced_benchmarks_section_3_3():
    # m_a = 2 GeV: g = 1e-4 -> c tau = 2.8 um, lab 1.4 mm at E_a = 1 TeV; g = 1e-5 -> 0.28 mm, 14 cm
    assert decays.ctau_m(2.0, 1e-4, pair=PAIR) == pytest.approx(2.8e-6, abs=0.05e-6)
    assert decays.lab_decay_length_m(1000.0, 2.0, 1e-4, pair=PAIR) == pytest.approx(1.4e-3, abs=0.05e-3)
    assert decays.ctau_m(2.0, 1e-5, pair=PAIR) == pytest.approx(0.28e-3, abs=0.005e-3)
    assert decays.lab_decay_length_m(1000.0, 2.0, 1e-5, pair=PAIR) == pytest.approx(0.14, abs=0.005)


def test_lab_decay_length_is_boost_times_ctau():
    E, m = np.array([10.0, 100.0, 1000.0]), 10.0
    bg = np.sqrt(E**2 - m**2) / m
    np.testing.assert_allclose(decays.lab_decay_length_m(E, m, 0.01, pair=PAIR), bg * decays.ctau_m(m, 0.01, pair=PAIR), rtol=1e-14)
    assert decays.lab_decay_length_m(10.0, 10.0, 0.01, pair=PAIR) == 0.0


def test_width_chi_chi():
    assert_printed(decays.width_chi_chi(10.0, 10.0 / 3.0, 1.0), "0.2965677")
    assert decays.width_chi_chi(10.0, 1.0, 0.5) == pytest.approx(0.25 * decays.width_chi_chi(10.0, 1.0, 1.0), rel=1e-14)


def test_closed_channels_are_exact_zero():
    # below the physical threshold in both conventions, including m_tau < m_a < m_tau + m_mu
    m = np.array([0.5, M_TAU, 1.8, M_TAU + M_MU])
    for conv in ("eq3", "eq2"):
        w = decays.width_tau_mu(m, 0.1, 0.7, conv, pair=PAIR)
        assert np.all(w == 0.0)
    assert decays.width_chi_chi(10.0, 5.0) == 0.0
    assert decays.width_chi_chi(10.0, 6.0) == 0.0
    assert np.isinf(decays.ctau_m(1.5, 0.1, pair=PAIR))
    assert np.isinf(decays.ctau_m(1.5, 0.1, m_chi=1.0, pair=PAIR))
    assert np.isfinite(decays.ctau_m(1.5, 0.1, m_chi=0.5, pair=PAIR))
    assert decays.br_invisible(10.0, m_chi=6.0, pair=PAIR) == 0.0
    assert decays.br_invisible(1.5, m_chi=0.5, exact=True, pair=PAIR) == 1.0
    assert decays.br_tau_mu_per_charge(1.5, pair=PAIR) == 0.0
    assert decays.br_tau_mu_per_charge(1.5, m_chi=1.0, pair=PAIR) == 0.0


def test_branching_ratios():
    m = np.geomspace(2.0, 60.0, 30)
    # baselines
    assert np.all(decays.br_tau_mu_per_charge(m, 0.01, pair=PAIR) == 0.5)
    assert np.all(decays.br_invisible(m, 0.01, pair=PAIR) == 1.0)
    # exact: BR_inv > 0.97 for g < 0.1, g_chi = 1, m_chi = m_a/3 (§3.5)
    assert np.all(decays.br_invisible(m, 0.0999, exact=True, pair=PAIR) > 0.97)
    # exact BRs sum to one
    for g in (0.01, 0.3, 1.0):
        tot = 2 * decays.br_tau_mu_per_charge(m, g, m / 3, pair=PAIR) + decays.br_invisible(m, g, m / 3, exact=True, pair=PAIR)
        np.testing.assert_allclose(tot, 1.0, rtol=1e-13)
    # matters near g ~ 0.3 - 1
    assert decays.br_invisible(10.0, 1.0, exact=True, pair=PAIR) < 0.5


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_mass_raises_naming_value(bad):
    with pytest.raises(ValueError, match="m_a"):
        decays.width_tau_mu(bad, pair=PAIR)
    with pytest.raises(ValueError, match="m_a"):
        decays.width_chi_chi(bad, 1.0)


def test_bad_energy_and_convention():
    with pytest.raises(ValueError, match="E_a"):
        decays.lab_decay_length_m(5.0, 10.0, pair=PAIR)
    with pytest.raises(ValueError, match="eq7"):
        decays.width_tau_mu(10.0, convention="eq7", pair=PAIR)


# ------------------------------------------------------- other lepton pairs

@pytest.mark.parametrize("m_heavy, m_light", [(M_TAU, M_E), (M_MU, M_E)])
def test_width_other_pairs_by_hand(m_heavy, m_light):
    """Eq. (5) (light lepton massless) and the exact §3.1 width with Eq. (2) Yukawas, written out
    by hand for the (tau, e) and (mu, e) pairs."""
    m = np.array([2.0, 5.0, 30.0])
    g, th = 0.03, 0.4
    kw = {"pair": pair_of(m_light, m_heavy)}
    eq5 = g**2 * m / (8 * math.pi) * (1 - m_heavy**2 / m**2) ** 2
    np.testing.assert_allclose(decays.width_tau_mu(m, g, th, both_charges=False, **kw), eq5, rtol=1e-13)
    r = m_light / m_heavy
    g_S, g_P = g * (1 - r) * math.sin(th), g * (1 + r) * math.cos(th)
    plus, minus = m**2 - (m_heavy + m_light) ** 2, m**2 - (m_heavy - m_light) ** 2
    exact = np.sqrt(plus * minus) / (8 * math.pi * m**3) * (g_S**2 * plus + g_P**2 * minus)
    np.testing.assert_allclose(decays.width_tau_mu(m, g, th, "eq2", both_charges=False, **kw), exact, rtol=1e-12)
    np.testing.assert_allclose(decays.ctau_m(m, g, th, "eq2", **kw), decays.HBARC_GEV_M / (2 * exact), rtol=1e-12)


def test_threshold_follows_the_light_lepton():
    """Between the tau-e (1.7774 GeV) and tau-mu (1.8825 GeV) thresholds only a -> tau e is open."""
    m_a = M_TAU + 0.05
    for conv in ("eq3", "eq2"):
        assert decays.width_tau_mu(m_a, convention=conv, pair=PAIR) == 0.0
        assert decays.width_tau_mu(m_a, convention=conv, pair=pair_of(M_E, M_TAU)) > 0.0
    assert np.isinf(decays.ctau_m(m_a, pair=PAIR)) and np.isfinite(decays.ctau_m(m_a, pair=pair_of(M_E, M_TAU)))
    assert decays.br_tau_mu_per_charge(m_a, pair=PAIR) == 0.0 and decays.br_tau_mu_per_charge(m_a, pair=pair_of(M_E, M_TAU)) == 0.5
    assert decays.lab_decay_length_m(3 * m_a, m_a, pair=pair_of(M_E, M_TAU)) > 0
    assert decays.br_invisible(m_a, 1.0, m_a / 3, exact=True, pair=PAIR) == 1.0
    assert decays.br_invisible(m_a, 1.0, m_a / 3, exact=True, pair=pair_of(M_E, M_TAU)) < 1.0
