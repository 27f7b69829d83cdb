"""Spin-1 amplitude and its closed-form phi average (docs/physics.md §7.14).

References: (a) an explicit numerical Dirac trace of the two tree diagrams written here (4x4
gamma matrices, gamma5 included, the massive-vector polarisation sum), on on-shell,
momentum-conserving events generated here; (c) the same trace machinery with a spin-0 vertex
reproduces the scalar amplitude of §7.4 (so the reference is itself validated); (b) a numerical
phi_q average; (e) a 50-digit naive evaluation of the kinematics and the averaged form at TeV
energies; (d) the flavour-conserving limits (conserved vector current).
"""

import math

import numpy as np
import pytest

import _crosscheck as cc
from _mp_moments import mp_moments
from lfvscan.physics import kinematics as K
from lfvscan.physics.amplitude import amplitude, amplitude_phi_avg
from lfvscan.physics.amplitude_vector import (amplitude_vector, amplitude_vector_phi_avg, part_coefficients_vector,
                                              vector_coefficients, width_bracket_vector)
from lfvscan.physics.constants import M_E, M_MU, M_TAU
from lfvscan.physics.couplings import delta_m, vector_axial, vector_part_weights

# ----------------------------------------------------------------------------- Dirac-trace reference
_MET = np.diag([1.0, -1.0, -1.0, -1.0])
_S = [np.array([[0, 1], [1, 0]], complex), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]], complex)]
_I2, _Z2 = np.eye(2, dtype=complex), np.zeros((2, 2), complex)
GAMMA = np.array([np.block([[_I2, _Z2], [_Z2, -_I2]])] + [np.block([[_Z2, s], [-s, _Z2]]) for s in _S])
GAMMA5 = 1j * GAMMA[0] @ GAMMA[1] @ GAMMA[2] @ GAMMA[3]
ONE = np.eye(4, dtype=complex)


def _dot(a, b):
    return np.einsum("...m,mn,...n->...", a, _MET, b)


def _slash(a):
    """a_mu gamma^mu for (N, 4) contravariant vectors: (N, 4, 4)."""
    return np.einsum("nm,mij->nij", (a @ _MET).astype(complex), GAMMA)


def _bar(O):
    return GAMMA[0] @ np.conj(np.swapaxes(O, -1, -2)) @ GAMMA[0]


def _boost(v, X):
    """Boost (N, 4) vectors v from the rest frame of X (N, 4) to the frame where X has momentum X."""
    mX = np.sqrt(_dot(X, X))
    b = X[:, 1:] / X[:, :1]
    g = X[:, 0] / mX
    bp = np.einsum("ni,ni->n", b, v[:, 1:])
    b2 = np.einsum("ni,ni->n", b, b)
    out = np.empty_like(v)
    out[:, 0] = g * (v[:, 0] + bp)
    out[:, 1:] = v[:, 1:] + (((g - 1) * bp / b2 + g * v[:, 0]))[:, None] * b
    return out


def events(n, E, M, m_i, m_f, m_X, seed, t_range=(0.01, 2.0)):
    """On-shell l_i(p) N(P_i) -> l_f(p') N(P_f) X(k) in the nucleus rest frame, beam along z:
    t log-uniform, recoil direction uniform, X -> l_f X decay isotropic in the (l_f X) rest frame;
    points below the (m_f + m_X) threshold are dropped.  Returns the five (N, 4) momenta."""
    rng = np.random.default_rng(seed)
    t = np.exp(rng.uniform(*np.log(t_range), n))
    c, ph = rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n)
    Q = np.sqrt(t + t * t / (4 * M * M))
    sn = np.sqrt(1 - c * c)
    p = np.tile([E, 0.0, 0.0, math.sqrt(E * E - m_i * m_i)], (n, 1))
    Pi = np.tile([M, 0.0, 0.0, 0.0], (n, 1))
    Pf = np.column_stack([M + t / (2 * M), Q * sn * np.cos(ph), Q * sn * np.sin(ph), Q * c])
    Xs = p + Pi - Pf
    m2 = _dot(Xs, Xs)
    keep = (Xs[:, 0] > 0) & (m2 > 1.02 * (m_f + m_X) ** 2)
    p, Pi, Pf, Xs, m2 = p[keep], Pi[keep], Pf[keep], Xs[keep], m2[keep]
    m = np.sqrt(m2)
    pst = np.sqrt((m2 - (m_f + m_X) ** 2) * (m2 - (m_f - m_X) ** 2)) / (2 * m)
    c2, ph2 = rng.uniform(-1, 1, len(m)), rng.uniform(0, 2 * np.pi, len(m))
    nv = np.column_stack([np.sqrt(1 - c2 * c2) * np.cos(ph2), np.sqrt(1 - c2 * c2) * np.sin(ph2), c2]) * pst[:, None]
    k = _boost(np.column_stack([np.sqrt(pst**2 + m_X**2), nv]), Xs)
    pp = _boost(np.column_stack([np.sqrt(pst**2 + m_f**2), -nv]), Xs)
    return p, k, pp, Pi, Pf


def _lepton_trace(p, k, pp, q, m_i, m_f, photon, vertex, pol):
    """1/2 sum_ab pol_ab Tr[(p'slash + m_f) O^a (pslash + m_i) Obar^b] with
    ``O^a = Gam^a S_i(p+q) photon + photon S_f(p-k) Gam^a``, ``S(l) = (lslash + m)/(l^2 - m^2)``;
    ``photon`` (N, 4, 4) is the matrix at the photon vertex, ``vertex`` the list of boson vertices Gam^a."""
    l1, l2 = p + q, p - k
    S1 = (_slash(l1) + m_i * ONE) / (_dot(l1, l1) - m_i**2)[:, None, None]
    S2 = (_slash(l2) + m_f * ONE) / (_dot(l2, l2) - m_f**2)[:, None, None]
    O = np.stack([G @ S1 @ photon + photon @ S2 @ G for G in vertex], axis=1)  # (N, a, 4, 4)
    left = (_slash(pp) + m_f * ONE)[:, None] @ O @ (_slash(p) + m_i * ONE)[:, None]
    tr = np.einsum("naij,nbji->nab", left, _bar(O))
    if pol is None:
        pol = np.ones((len(p), 1, 1))
    return 0.5 * np.einsum("nab,nab->n", pol, tr).real


def trace_amplitude(p, k, pp, Pi, Pf, m_i, m_f, vertex, pol=None):
    """A of l_i N -> l_f N X from the trace: the nuclear current P = P_i + P_f contracted into the photon
    vertex (photon matrix Pslash, q = P_i - P_f).  ``vertex``: list of 4x4 matrices Gam^a (one entry
    for a spin-0 boson, four (upper index a) for spin 1); ``pol`` (N, n, n): the polarisation sum with
    lower indices (None: 1 for spin 0)."""
    return _lepton_trace(p, k, pp, Pi - Pf, m_i, m_f, _slash(Pi + Pf), vertex, pol)


def trace_real_photon(p, k, pp, q, m_i, m_f, vertex, pol=None):
    """gamma(q, q^2 = 0) l_i(p) -> l_f(p') X(k): 1/2 (-g_mu nu) L^mu nu, the lepton-spin and
    photon-polarisation averaged squared amplitude (e = g = 1)."""
    return sum(-0.5 * _MET[m, m] * _lepton_trace(p, k, pp, q, m_i, m_f, np.broadcast_to(GAMMA[m], (len(p), 4, 4)),
                                                  vertex, pol) for m in range(4))


def real_photon_events(n, E, m_i, m_f, m_X, seed):
    """On-shell gamma(q) l_i(p) -> l_f(p') X(k), head-on (photon along -z) with photon energies giving
    sqrt(s_tot) up to 3 (m_f + m_X); isotropic final state in the centre-of-mass frame."""
    rng = np.random.default_rng(seed)
    pz = math.sqrt(E * E - m_i * m_i)
    s_min, s_max = (1.05 * (m_f + m_X)) ** 2, (3.0 * (m_f + m_X)) ** 2
    s_tot = rng.uniform(s_min, s_max, n)
    omega = (s_tot - m_i**2) / (2 * (E + pz))
    p = np.tile([E, 0.0, 0.0, pz], (n, 1))
    q = np.column_stack([omega, np.zeros(n), np.zeros(n), -omega])
    Xs = p + q
    m = np.sqrt(s_tot)
    pst = np.sqrt((s_tot - (m_f + m_X) ** 2) * (s_tot - (m_f - m_X) ** 2)) / (2 * m)
    c2, ph2 = rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n)
    nv = np.column_stack([np.sqrt(1 - c2 * c2) * np.cos(ph2), np.sqrt(1 - c2 * c2) * np.sin(ph2), c2]) * pst[:, None]
    k = _boost(np.column_stack([np.sqrt(pst**2 + m_X**2), nv]), Xs)
    pp = _boost(np.column_stack([np.sqrt(pst**2 + m_f**2), -nv]), Xs)
    return p, k, pp, q


def assert_close(got, ref, rtol=1e-9):
    """|got - ref| <= rtol (|ref| + 1e-2 max|ref|): the trace of lab-frame momenta loses digits where
    A is much smaller than its typical size (small s, u from differences of momenta)."""
    ref = np.asarray(ref)
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=1e-2 * rtol * np.max(np.abs(ref)))


def vector_vertex(g_V, g_A):
    return [GAMMA[a] @ (g_V * ONE + g_A * GAMMA5) for a in range(4)]


def polarisation_sum(k, m_X, parts=("g", "kk")):
    """-g_ab + k_a k_b / m_X^2 (lower indices), or one of its two terms."""
    kl = k @ _MET
    out = np.zeros((len(k), 4, 4))
    if "g" in parts:
        out -= _MET
    if "kk" in parts:
        out += np.einsum("na,nb->nab", kl, kl) / m_X**2
    return out


def invariants(p, k, pp, Pi, Pf, m_i, m_f):
    """(s, u, t, E, E_a, M) of docs/physics.md §7.4 from the momenta."""
    s = _dot(pp + k, pp + k) - m_i**2
    u = _dot(p - k, p - k) - m_f**2
    q = Pi - Pf
    return s, u, -_dot(q, q), p[:, 0], k[:, 0], Pi[0, 0]


# generic masses (m_i, m_f, m_X) including both orderings, equal masses and a light boson
MASSES = [(0.3, 1.7, 1.1), (1.7, 0.3, 2.5), (0.5, 0.5, 0.8), (0.2, 1.5, 0.05), (1.2, 0.1, 1.4)]


# ------------------------------------------------------------------ (c) the reference reproduces §7.4
@pytest.mark.parametrize("m_i, m_f, m_X", MASSES)
def test_trace_reference_reproduces_scalar_amplitude(m_i, m_f, m_X):
    """The trace machinery with a spin-0 vertex g_S + g_P gamma5 equals lfvscan's A (§7.4)."""
    ev = events(300, 15.0, 30.0, m_i, m_f, m_X, seed=1)
    s, u, t, E, E_a, M = invariants(*ev, m_i, m_f)
    for g_S, g_P in ((1.0, 0.0), (0.0, 1.0), (0.6, 0.8)):
        ref = trace_amplitude(*ev, m_i, m_f, [g_S * ONE + g_P * GAMMA5])
        got = amplitude(s, u, t, E, E_a, M, g_S**2 + g_P**2, delta_m(m_X, g_S, g_P, m_f, m_i))
        assert_close(got, ref)


# ------------------------------------------------------------------------------- (a) closed form
@pytest.mark.parametrize("m_i, m_f, m_X", MASSES)
def test_vector_amplitude_against_dirac_trace(m_i, m_f, m_X):
    """A_1 (§7.14) = explicit trace for pure vector, pure axial and mixed couplings (no V-A
    interference: the mixed trace is sin^2 A_V + cos^2 A_A)."""
    ev = events(600, 15.0, 30.0, m_i, m_f, m_X, seed=2)
    s, u, t, E, E_a, M = invariants(*ev, m_i, m_f)
    assert len(s) > 60
    pol = polarisation_sum(ev[1], m_X)
    for theta in (math.pi / 2, 0.0, 0.7):
        g_V, g_A = vector_axial(1.0, theta)
        ref = trace_amplitude(*ev, m_i, m_f, vector_vertex(g_V, g_A), pol)
        got = amplitude_vector(s, u, t, E, E_a, M, vector_coefficients(m_X, g_V**2, g_A**2, m_f, m_i))
        assert_close(got, ref)


@pytest.mark.parametrize("m_i, m_f, m_X", MASSES)
def test_axial_is_vector_with_beam_mass_flipped(m_i, m_f, m_X):
    """A_A(m_i, m_f) = A_V(-m_i, m_f) on the trace (gamma5 explicit on one side, sign flip on the other)."""
    ev = events(100, 15.0, 30.0, m_i, m_f, m_X, seed=3)
    pol = polarisation_sum(ev[1], m_X)
    axial = trace_amplitude(*ev, m_i, m_f, vector_vertex(0.0, 1.0), pol)
    flipped = trace_amplitude(*ev, -m_i, m_f, vector_vertex(1.0, 0.0), pol)
    assert_close(axial, flipped)


@pytest.mark.parametrize("m_i, m_f, m_X", MASSES)
def test_longitudinal_term_is_the_goldstone_scalar(m_i, m_f, m_X):
    """The k_a k_b / m_X^2 term of the polarisation sum is exactly (m_f -/+ m_i)^2 / m_X^2 times the
    pure scalar / pseudoscalar amplitude of the same kinematics (k_a Gam^a reduces to
    (m_i -/+ m_f)(1 or gamma5) between on-shell spinors): the origin of the 1/m_X^2 growth (§7.14)."""
    ev = events(200, 15.0, 30.0, m_i, m_f, m_X, seed=4)
    s, u, t, E, E_a, M = invariants(*ev, m_i, m_f)
    kk = polarisation_sum(ev[1], m_X, parts=("kk",))
    for (g_V, g_A), (g_S, g_P), d in (((1, 0), (1, 0), (m_f - m_i) ** 2), ((0, 1), (0, 1), (m_f + m_i) ** 2)):
        long_part = trace_amplitude(*ev, m_i, m_f, vector_vertex(g_V, g_A), kk)
        scalar = amplitude(s, u, t, E, E_a, M, 1.0, delta_m(m_X, g_S, g_P, m_f, m_i))
        np.testing.assert_allclose(long_part, d / m_X**2 * scalar, rtol=1e-9, atol=1e-11 * np.max(np.abs(scalar)))


# ------------------------------------------------------------------------------ (d) m_i = m_f limits
@pytest.mark.parametrize("m, m_X", [(0.1056583755, 0.01), (1.77686, 0.5), (0.5, 3.0)])
def test_flavour_conserving_vector_current_is_conserved(m, m_X):
    """m_i = m_f: the vector current is conserved, the k_a k_b / m_X^2 term of the polarisation sum
    gives nothing, d_V = 0 and A_V has no 1/m_X^2 term (the dark photon); the axial part keeps
    d_A / m_X^2 = 4 m^2 / m_X^2."""
    ev = events(200, 15.0, 30.0, m, m, m_X, seed=5)
    s, u, t, E, E_a, M = invariants(*ev, m, m)
    full = trace_amplitude(*ev, m, m, vector_vertex(1.0, 0.0), polarisation_sum(ev[1], m_X))
    kk = trace_amplitude(*ev, m, m, vector_vertex(1.0, 0.0), polarisation_sum(ev[1], m_X, parts=("kk",)))
    # relative to the size |k|^2 / m_X^2 of the single terms of the contraction (round-off only)
    assert np.max(np.abs(kk / full)) < 1e-12 * (ev[1][:, 0] ** 2).max() / m_X**2
    c = part_coefficients_vector(m_X, m, m)
    assert c.d[0, 0] == 0.0 and c.d[1, 0] == pytest.approx(4 * m * m)
    # at fixed invariants A_V has a finite m_X -> 0 limit, A_A grows like 4 m^2 / m_X^2
    a_v, a_a = (np.array([amplitude_vector(s, u, t, E, E_a, M, vector_coefficients(mx, gV2, 1.0 - gV2, m, m))
                          for mx in (1e-3, 1e-6)]) for gV2 in (1.0, 0.0))
    np.testing.assert_allclose(a_v[1], a_v[0], rtol=1e-4)
    # m_X^2 A_A -> 4 m^2 A_P(m_X = 0): the longitudinal (Goldstone) pseudoscalar
    a_p0 = amplitude(s, u, t, E, E_a, M, 1.0, delta_m(0.0, 0.0, 1.0, m, m))
    np.testing.assert_allclose(1e-12 * a_a[1], 4 * m * m * a_p0, rtol=1e-4)
    DV, DA = width_bracket_vector(m_X, m, m)
    assert DV == pytest.approx(2 * m_X**2 * (1 + 2 * m * m / m_X**2))
    assert DA == pytest.approx(2 * m_X**2 * (1 - 4 * m * m / m_X**2))


def test_part_weights_and_couplings():
    """theta = pi/2 pure vector, 0 pure axial; weights sum to 1; thesis PV_angle = pi/2 - theta."""
    assert vector_part_weights(math.pi / 2) == pytest.approx((1.0, 0.0))
    assert vector_part_weights(0.0) == pytest.approx((0.0, 1.0))
    for th in (0.3, 1.1):
        wV, wA = vector_part_weights(th)
        assert wV + wA == pytest.approx(1.0)
        pv = math.pi / 2 - th  # thesis vertex gamma^mu (cos PV + gamma5 sin PV)
        assert (wV, wA) == pytest.approx((math.cos(pv) ** 2, math.sin(pv) ** 2))
    g_V, g_A = vector_axial(0.3, 0.4)
    assert (g_V, g_A) == pytest.approx((0.3 * math.sin(0.4), 0.3 * math.cos(0.4)))


# ------------------------------------------------------------------------------- (b) phi average
def _physical_points(E, m_X, m_beam, m_final, n, seed, M=193.75):
    """Random physical (kin, t, s0, s1) from the production kinematics (§7.5, §7.7)."""
    rng = np.random.default_rng(seed)
    w = np.exp(rng.uniform(np.log(0.05), np.log(0.9 * (E - m_X - m_final)), n))
    th = np.exp(rng.uniform(np.log(1e-4), np.log(0.3), n))
    kin = K.alp_kinematics(E, w, th, m_X, m_beam=m_beam, m_final=m_final)
    t_lo, t_hi = K.t_bounds(kin.E_minus_Ea, kin.V, kin.u, M)
    t_up = K.t_upper(t_hi, w, M, 1.0)
    phys = t_up > t_lo
    kin = K.AlpKinematics(*(np.broadcast_to(x, w.shape)[phys] for x in kin))
    t = t_lo[phys] * (t_up[phys] / t_lo[phys]) ** rng.uniform(0.02, 0.98, phys.sum())
    s0, s1 = K.s_coefficients(t, kin, M)
    return kin, t, s0, s1, M


@pytest.mark.parametrize("m_beam, m_final, m_X", [(M_MU, M_TAU, 4.0), (M_E, M_TAU, 2.0), (M_MU, M_TAU, 0.3),
                                                  (M_MU, M_E, 0.2), (M_TAU, M_MU, 6.0), (M_MU, M_MU, 0.5)])
def test_closed_form_phi_average_equals_numerical_average(m_beam, m_final, m_X):
    """<A_1>_phi closed form = trapezoid average of A_1(s0 + s1 cos phi) (exponentially convergent)."""
    E = 160.0
    kin, t, s0, s1, M = _physical_points(E, m_X, m_beam, m_final, 200, seed=6)
    assert len(t) > 50
    phi = (np.arange(4096) + 0.5) * 2 * np.pi / 4096
    s = s0[:, None] + s1[:, None] * np.cos(phi)
    c = part_coefficients_vector(m_X, m_final, m_beam)
    closed = amplitude_vector_phi_avg(s0, s1, kin.u, t, E, kin.E_a, M, c, E_minus_Ea=kin.E_minus_Ea)
    c3 = c._replace(g2=c.g2[..., None], d=c.d[..., None], delta=c.delta[..., None])
    num = amplitude_vector(s, kin.u[:, None], t[:, None], E, kin.E_a[:, None], M, c3,
                           E_minus_Ea=kin.E_minus_Ea[:, None]).mean(axis=-1)
    np.testing.assert_allclose(closed, num, rtol=1e-9)
    assert np.all(closed > 0)


# ------------------------------------------------------------------------ (e) 50-digit reference
def _mp_vector_reference(E, w, theta_a, m_X, M, t_factor, m_beam, m_final):
    """50-digit naive evaluation of §7.5, §7.7 (t = t_factor * t_lo; tests/_mp_moments.py) and the
    averaged form of §7.14 for the pure vector and pure axial parts: returns (t, (Abar_V, Abar_A))."""
    z = mp_moments(E, w, theta_a, m_X, M, t_factor, m_beam, m_final)
    mX, mf, t, u, B, C, I1, P2 = z.m_boson, z.m_final, z.t, z.u, z.B, z.C, z.I1, z.P2
    T1, T2, T3, T4 = z.T1, z.T2, z.T3, z.T4
    out = []
    for m_i in (z.m_beam, -z.m_beam):  # vector, then axial by the mass flip
        d = (mf - m_i) ** 2
        T56 = T2 - (2 * C + u) * (1 - 2 * B * I1) / (2 * u)
        T7 = (-1 + (2 * (mX**2 - d) - t - u) * I1) / (2 * u)
        Delta = (1 - d / mX**2) * (2 * mX**2 + (m_i + mf) ** 2)
        out.append(((2 + d / mX**2) * T1 - 4) * P2 - 4 * d / mX**2 * t * T2 - 8 * t * (T56 + P2 * T7)
                   + Delta * (P2 * t * T3 - 4 * T4))
    return float(t), tuple(float(x) for x in out)


@pytest.mark.parametrize("m_beam, m_final", [(M_MU, M_TAU), (M_E, M_TAU)])
@pytest.mark.parametrize("E, m_X, w, theta_a, t_factor", [
    (1000.0, 10.0, 98.22314, 1e-3, 2.0),
    (3000.0, 2.0, 2000.0, 1e-4, 1.5),   # hard final lepton, TeV
    (3000.0, 2.0, 0.5, 3e-4, 3.0),      # soft final lepton
    (3000.0, 40.0, 5.0, 1e-3, 1.01),    # heavy boson, near t_lo
    (3000.0, 2.0, 2500.0, 1e-6, 10.0),  # tiny angle
    (1000.0, 0.05, 300.0, 1e-4, 2.0),   # light boson: the d / m_X^2 terms dominate
])
def test_float64_phi_average_against_50_digits(m_beam, m_final, E, m_X, w, theta_a, t_factor):
    """Cancellation-free kinematics + the closed-form spin-1 average in float64 agree with 50-digit
    naive arithmetic to 1e-9 (docs/physics.md §7.14 quotes the worst case)."""
    M = 193.75077280000001
    t, refs = _mp_vector_reference(E, w, theta_a, m_X, M, t_factor, m_beam, m_final)
    kin = K.alp_kinematics(E, w, theta_a, m_X, m_beam=m_beam, m_final=m_final)
    s0, s1 = K.s_coefficients(t, kin, M)
    got = amplitude_vector_phi_avg(s0, s1, kin.u, t, E, kin.E_a, M, part_coefficients_vector(m_X, m_final, m_beam),
                                   E_minus_Ea=kin.E_minus_Ea)
    np.testing.assert_allclose(got[:, 0], refs, rtol=1e-9)


@pytest.mark.parametrize("m_beam, m_final", [(M_MU, M_TAU), (M_E, M_TAU), (M_MU, M_E)])
@pytest.mark.parametrize("E, m_X, w, theta_a, t_factor", [
    (1.0e4, 2.0, 5000.0, 1e-5, 1.01),    # 10 TeV, near t_lo
    (2.34e5, 5.0, 1.0e5, 1e-6, 2.0),     # nucleus-frame energy of a 1 TeV muon on 110 GeV/nucleon Au
])
def test_float64_phi_average_against_50_digits_beyond_3TeV(m_beam, m_final, E, m_X, w, theta_a, t_factor):
    """Above 3 TeV the residual cancellations grow: <= 1e-7 relative at these points (§7.14)."""
    M = 193.75077280000001
    t, refs = _mp_vector_reference(E, w, theta_a, m_X, M, t_factor, m_beam, m_final)
    kin = K.alp_kinematics(E, w, theta_a, m_X, m_beam=m_beam, m_final=m_final)
    s0, s1 = K.s_coefficients(t, kin, M)
    got = amplitude_vector_phi_avg(s0, s1, kin.u, t, E, kin.E_a, M, part_coefficients_vector(m_X, m_final, m_beam),
                                   E_minus_Ea=kin.E_minus_Ea)
    np.testing.assert_allclose(got[:, 0], refs, rtol=2e-7)


def test_amplitude_linear_in_part_weights():
    """A_1(theta) = sin^2 A_V + cos^2 A_A for the coefficient rows (no V-A interference, §7.14)."""
    kin, t, s0, s1, M = _physical_points(500.0, 3.0, M_MU, M_TAU, 50, seed=9)
    args = (s0, s1, kin.u, t, 500.0, kin.E_a, M)
    parts = amplitude_vector_phi_avg(*args, part_coefficients_vector(3.0, M_TAU, M_MU))
    for th in (0.2, 1.3):
        wV, wA = vector_part_weights(th)
        mixed = amplitude_vector_phi_avg(*args, vector_coefficients(3.0, wV, wA, M_TAU, M_MU))
        np.testing.assert_allclose(mixed, wV * parts[0] + wA * parts[1], rtol=1e-13)


# ------------------------------------------------------------- (f) real-photon 2 -> 2 and WW limit
@pytest.mark.parametrize("m_i, m_f, m_X", MASSES)
def test_real_photon_amplitudes_against_trace(m_i, m_f, m_X):
    """The 2 -> 2 squared amplitudes of the WW references (tests/_crosscheck.py) equal the real-photon
    trace, photon-polarisation averaged: scalar/pseudoscalar (§7.10) and vector/axial (§7.14).  The
    thesis text's axial coefficient (3 m_X^2 tau_22 instead of 6, i.e. + 12 m_i m_f tau_22) does not."""
    p, k, pp, q = real_photon_events(200, 7.0, m_i, m_f, m_X, seed=7)
    s = _dot(pp + k, pp + k) - m_i**2
    u = _dot(p - k, p - k) - m_f**2
    for g_S, g_P in ((1.0, 0.0), (0.0, 1.0)):
        ref = trace_real_photon(p, k, pp, q, m_i, m_f, [g_S * ONE + g_P * GAMMA5])
        assert_close(cc.a22_scalar(s, u, m_X, g_S, g_P, m_i, m_f), ref)
    pol = polarisation_sum(k, m_X)
    for g_V, g_A in ((1.0, 0.0), (0.0, 1.0), (0.6, 0.8)):
        ref = trace_real_photon(p, k, pp, q, m_i, m_f, vector_vertex(g_V, g_A), pol)
        assert_close(cc.a22_vector(s, u, m_X, g_V**2, g_A**2, m_i, m_f), ref)
    tau22 = ((s + u) * (1 + m_i**2 / s + m_f**2 / u) - m_X**2) / (s * u)
    axial_text = cc.a22_vector(s, u, m_X, 0.0, 1.0, m_i, m_f) + 12 * m_i * m_f * tau22
    assert np.max(np.abs(axial_text / trace_real_photon(p, k, pp, q, m_i, m_f, vector_vertex(0.0, 1.0), pol) - 1)) > 1e-5


def _ww_ratio(E, m_X, m_beam, m_final, eps, M=193.75):
    """Abar(t) t_- / (4 M^2 (t - t_-) A_2->2(s0(t_-), u)) at t = (1 + eps) t_-, w = 0.3 E, theta_a = 3 GeV / E,
    for the scalar, pseudoscalar, vector and axial parts: the quasi-real-photon (WW) limit of the 2 -> 3
    amplitude (§7.10) is 1."""
    kin = K.alp_kinematics(E, 0.3 * E, 3.0 / E, m_X, m_beam=m_beam, m_final=m_final)
    t_lo, _ = K.t_bounds(kin.E_minus_Ea, kin.V, kin.u, M)
    s_at_lo, _ = K.s_coefficients(t_lo, kin, M)
    t = (1 + eps) * t_lo
    s0, s1 = K.s_coefficients(t, kin, M)
    args = (s0, s1, kin.u, t, E, kin.E_a, M)
    out = []
    for g_S, g_P in ((1.0, 0.0), (0.0, 1.0)):
        ab = amplitude_phi_avg(*args, 1.0, delta_m(m_X, g_S, g_P, m_final, m_beam), E_minus_Ea=kin.E_minus_Ea)
        out.append(float(ab) / (4 * M * M * eps * cc.a22_scalar(s_at_lo, kin.u, m_X, g_S, g_P, m_beam, m_final)))
    abv = amplitude_vector_phi_avg(*args, part_coefficients_vector(m_X, m_final, m_beam), E_minus_Ea=kin.E_minus_Ea)[:, 0]
    for row, (g_V2, g_A2) in enumerate(((1.0, 0.0), (0.0, 1.0))):
        out.append(abv[row] / (4 * M * M * eps * cc.a22_vector(s_at_lo, kin.u, m_X, g_V2, g_A2, m_beam, m_final)))
    return np.array(out, dtype=float)


@pytest.mark.parametrize("m_beam, m_final, m_X", [(M_MU, M_TAU, 5.0), (M_E, M_TAU, 2.0), (M_MU, M_TAU, 0.2)])
def test_quasi_real_photon_limit(m_beam, m_final, m_X):
    """Near t_-, the phi-averaged 2 -> 3 amplitude approaches the WW form 4 M^2 (t - t_-)/t_- A_2->2
    (the substitution behind §7.10), with corrections ~ 1/E^2 at fixed x and E theta_a: the same
    behaviour for spin 1 as for spin 0 (whose A_2->2 is the project's established WW reference)."""
    r1, r2 = _ww_ratio(1e3, m_X, m_beam, m_final, 0.1), _ww_ratio(1e4, m_X, m_beam, m_final, 0.1)
    assert np.all(np.abs(r2 - 1) < 1e-4), r2
    assert np.all(np.abs(r2 - 1) < 0.05 * np.abs(r1 - 1)), (r1, r2)
