"""Squared amplitude and its closed-form phi average (docs/physics.md §7.4, §7.6, §13.6)."""

from _mp_moments import mp_moments
from lfvscan.physics.process import DEFAULT_PROCESS
import numpy as np
import pytest

from lfvscan.physics import kinematics as K
from lfvscan.physics.amplitude import amplitude, amplitude_phi_avg, phi_moments
from lfvscan.physics.constants import M_E, M_MU, M_TAU
from lfvscan.physics.couplings import delta_m, yukawas
from _leptons import PAIR
from lfvscan.physics.presets import PDG_2024

PAIR = PDG_2024.lepton_pair(DEFAULT_PROCESS)  # beam muon, final tau (PDG masses)

M13 = 193.750773  # §13.6 amplitude-level test point


def _point():
    kin = K.alp_kinematics(1000.0, 1000.0 - 900.0 - M_TAU, 1e-3, 10.0, m_beam=M_MU, m_final=M_TAU)
    t_lo, _ = K.t_bounds(kin.E_minus_Ea, kin.V, kin.u, M13)
    t = 2 * t_lo
    s0, s1 = K.s_coefficients(t, kin, M13)
    return kin, t, s0, s1


# theta_s = 0 is a pure scalar vertex (g_S = 1), theta_s = pi/2 pure pseudoscalar (g_P = 1), §2.4
@pytest.mark.parametrize("g_S, g_P, A_ref, Abar_ref", [(1.0, 0.0, 1.04586544e6, 1.11403096e6),
                                                       (0.0, 1.0, 1.04427257e6, 1.11324381e6)])
def test_section_13_6_amplitude_point(g_S, g_P, A_ref, Abar_ref):
    kin, t, s0, s1 = _point()
    I1, I2 = phi_moments(s0, s1)
    assert I1 == pytest.approx(6.59169103e-3, rel=1e-8)
    assert I2 == pytest.approx(4.34521459e-5, rel=1e-8)
    assert s0 - abs(s1) == pytest.approx(150.34863718, rel=1e-9)
    dm = delta_m(10.0, g_S, g_P, M_TAU, M_MU)
    A = amplitude(s0 - abs(s1), kin.u, t, 1000.0, 900.0, M13, g_S**2 + g_P**2, dm)
    assert A == pytest.approx(A_ref, rel=1e-8)
    Abar = amplitude_phi_avg(s0, s1, kin.u, t, 1000.0, 900.0, M13, g_S**2 + g_P**2, dm)
    assert Abar == pytest.approx(Abar_ref, rel=1e-8)


def _numerical_phi_average(s0, s1, u, t, E, E_a, M, g2, dm, n=4096):
    """Trapezoid rule on the periodic phi integrand (exponentially convergent)."""
    phi = (np.arange(n) + 0.5) * 2 * np.pi / n
    s = s0[..., None] + s1[..., None] * np.cos(phi)
    return amplitude(s, u[..., None], t[..., None], E, E_a[..., None], M, g2, dm).mean(axis=-1)


def test_closed_form_equals_numerical_average():
    """Abar (closed form, §7.6) = numerical phi average of A (§7.4), at moderate energies where the
    direct A has no cancellation problem, for scalar, pseudoscalar and chiral couplings."""
    rng = np.random.default_rng(1)
    n = 200
    E = 160.0
    m_a = 4.0
    w = np.exp(rng.uniform(np.log(0.5), np.log(100.0), n))
    th = np.exp(rng.uniform(np.log(1e-4), np.log(0.3), n))
    kin = K.alp_kinematics(E, w, th, m_a, m_beam=M_MU, m_final=M_TAU)
    t_lo, t_hi = K.t_bounds(kin.E_minus_Ea, kin.V, kin.u, 193.75)
    t_up = K.t_upper(t_hi, w, 193.75, 1.0)
    phys = t_up > t_lo  # physical points only (E_tau >= m_tau, t <= t_cut)
    assert phys.sum() > 50
    kin = K.AlpKinematics(*(np.broadcast_to(x, w.shape)[phys] for x in kin))
    t = t_lo[phys] * (t_up[phys] / t_lo[phys]) ** rng.uniform(0.02, 0.98, phys.sum())
    s0, s1 = K.s_coefficients(t, kin, 193.75)
    for theta in (0.0, np.pi / 4, np.pi / 2, 1.0):
        g_S, g_P = yukawas(1.0, theta, pair=PAIR)
        g2, dm = g_S**2 + g_P**2, delta_m(m_a, g_S, g_P, M_TAU, M_MU)
        closed = amplitude_phi_avg(s0, s1, kin.u, t, E, kin.E_a, 193.75, g2, dm)
        num = _numerical_phi_average(s0, s1, kin.u, t, E, kin.E_a, 193.75, g2, dm)
        np.testing.assert_allclose(closed, num, rtol=1e-9)
        assert np.all(closed > 0)


def _mp_reference(E, w, theta_a, m_a, M, t_factor, gS, gP, m_beam=M_MU, m_final=M_TAU):
    """50-digit *naive* evaluation of §7.5, §7.7 and §7.6 (no cancellation-free rewriting,
    tests/_mp_moments.py) for the incoming / outgoing lepton masses m_beam / m_final."""
    import mpmath as mp

    z = mp_moments(E, w, theta_a, m_a, M, t_factor, m_beam, m_final)
    ma, mmu, mtau = z.m_boson, z.m_beam, z.m_final
    g2 = mp.mpf(gS) ** 2 + mp.mpf(gP) ** 2
    dm = mp.mpf(gS) ** 2 * (ma**2 - (mtau + mmu) ** 2) + mp.mpf(gP) ** 2 * (ma**2 - (mtau - mmu) ** 2)
    abar = g2 * (z.P2 * z.T1 - 4 * z.t * z.T2) + dm * (z.P2 * z.t * z.T3 - 4 * z.T4)
    return float(z.t), float(abar)


@pytest.mark.parametrize("E, m_a, w, theta_a, t_factor", [
    (1000.0, 10.0, 98.22314, 1e-3, 2.0),
    (3000.0, 2.0, 2000.0, 1e-4, 1.5),   # hard tau, TeV
    (3000.0, 2.0, 0.5, 3e-4, 3.0),      # soft tau
    (3000.0, 40.0, 5.0, 1e-3, 1.01),    # heavy ALP, near t_lo
    (3000.0, 2.0, 2500.0, 1e-6, 10.0),  # tiny angle
])
def test_float64_chain_against_50_digits(E, m_a, w, theta_a, t_factor):
    """Cancellation-free kinematics + closed-form Abar in float64 agree with 50-digit naive
    arithmetic to 1e-9 at E <= 3 TeV (§7.8)."""
    M = 193.75077280000001
    for g_S, g_P in ((1.0, 0.0), (0.0, 1.0)):
        t, ref = _mp_reference(E, w, theta_a, m_a, M, t_factor, g_S, g_P)
        kin = K.alp_kinematics(E, w, theta_a, m_a, m_beam=M_MU, m_final=M_TAU)
        s0, s1 = K.s_coefficients(t, kin, M)
        ab = amplitude_phi_avg(s0, s1, kin.u, t, E, kin.E_a, M, g_S**2 + g_P**2, delta_m(m_a, g_S, g_P, M_TAU, M_MU),
                               E_minus_Ea=kin.E_minus_Ea)
        assert ab == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("m_beam, m_final", [(M_E, M_TAU), (M_TAU, M_MU), (M_MU, M_E)])
@pytest.mark.parametrize("E, m_a, w, theta_a, t_factor", [(1000.0, 10.0, 98.22314, 1e-3, 2.0),
                                                          (160.0, 3.0, 0.5, 3e-3, 3.0)])
def test_float64_chain_other_lepton_pairs(m_beam, m_final, E, m_a, w, theta_a, t_factor):
    """Same 50-digit check with other lepton masses threaded through alp_kinematics (m_beam, m_final)
    and Delta_m (§7.4 bracket of the pair)."""
    M = 193.75077280000001
    for g_S, g_P in ((1.0, 0.0), (0.0, 1.0)):
        t, ref = _mp_reference(E, w, theta_a, m_a, M, t_factor, g_S, g_P, m_beam, m_final)
        kin = K.alp_kinematics(E, w, theta_a, m_a, m_beam=m_beam, m_final=m_final)
        s0, s1 = K.s_coefficients(t, kin, M)
        ab = amplitude_phi_avg(s0, s1, kin.u, t, E, kin.E_a, M, g_S**2 + g_P**2, delta_m(m_a, g_S, g_P, m_final, m_beam),
                               E_minus_Ea=kin.E_minus_Ea)
        assert ab == pytest.approx(ref, rel=1e-9)


def test_amplitude_exactly_quadratic_in_couplings():
    """A and Abar are linear in (g_eff^2, Delta_m), i.e. exactly quadratic in g (§7.6)."""
    kin, t, s0, s1 = _point()
    args = (s0, s1, kin.u, t, 1000.0, 900.0, M13)
    for theta in (0.3, 1.2):
        for conv in ("eq3", "eq2"):
            g_S, g_P = yukawas(1.0, theta, conv, pair=PAIR)
            a1 = amplitude_phi_avg(*args, g_S**2 + g_P**2, delta_m(10.0, g_S, g_P, M_TAU, M_MU))
            g = 0.037
            gS2, gP2 = yukawas(g, theta, conv, pair=PAIR)
            ag = amplitude_phi_avg(*args, gS2**2 + gP2**2, delta_m(10.0, gS2, gP2, M_TAU, M_MU))
            assert ag == pytest.approx(g * g * a1, rel=1e-14)
