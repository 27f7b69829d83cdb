"""Independent cross-checks of the exact 2->3 production cross section (docs/physics.md §7.9, §7.10);
a test helper of tests/test_crosscheck.py and tests/test_ranges.py.

Process: mu(p) + N(P_i) -> tau(p') + N(P_f) + a(k), nucleus rest frame (= lab), beam along +z.
Cross sections are for g = 1 (sigma = g^2 sigma_hat) in pb, energies in GeV, t in GeV^2.

This module is deliberately written *without* importing :mod:`lfvscan.physics.kinematics`,
:mod:`lfvscan.physics.amplitude` or :mod:`lfvscan.xsec`: it re-implements the kinematics from
docs/physics.md so that a mistake in the production code shows up as a disagreement.  It uses only
the shared constants, targets, form factors, coupling conventions and the §7.1 t_min of
:mod:`lfvscan.physics.reach`.  The incoming / outgoing lepton masses are the keywords ``m_beam`` /
``m_final`` of the public functions (docs/physics.md's m_mu / m_tau; default muon / tau).

Contents
--------
* :func:`amp_A` -- the spin-averaged reduced squared amplitude A(s,u,t) of §7.4, evaluated from
  four-vector dot products; :func:`amp_A_trace` -- the same quantity from an explicit numerical
  Dirac trace of the two Feynman diagrams (an independent check of the §7.4 formula).
* :func:`mc_sigma_2to2_decay` -- §7.9: Monte Carlo of the 2->2 (mu N -> X N) x (X -> tau a)
  factorisation with explicit four-vectors in the nucleus rest frame.
* :func:`effective_photon_flux` -- chi = int dt (t - t_min) F^2 / t^2 (§7.10, §13.5).
* :func:`sigma_ww_pb`, :func:`sigma_iww_pb` -- §7.10 Weizsaecker-Williams and improved WW;
  :func:`sigma_ww_vector_pb` -- WW for a spin-1 boson (§7.14); :func:`a22_scalar`, :func:`a22_vector`
  -- the real-photon 2->2 squared amplitudes they use.
* :func:`exact_bounds` -- §7.5/§7.7 V, u, t_-, t_+ (cancellation-free forms).

Numerical care (documented choices)
-----------------------------------
In the MC the small invariants are never obtained by subtracting large numbers:
``s = m_X^2 - m_mu^2`` is sampled directly; ``t`` is sampled directly; ``u = m_mu^2 + m_a^2 -
m_tau^2 - 2 p.k`` with ``p.k = (p^+ k^- + p^- k^+)/2`` (p has no transverse momentum) where
``p^- = m_mu^2/(E + |p|)`` and ``k^- = (m_a^2 + k_T^2)/(k^0 + k_z)``; the t bounds of the 2->2
step use the root form without cancellation.  The remaining dot products P.k, P.p, P.p' are
dominated by 2 M E-type terms and have no cancellation.  The amplitude A itself has a genuine
cancellation only as t -> t_min (A vanishes linearly there, like the WW factor (t - t_-)), where
the relative error is ~eps t_min / (t - t_min), irrelevant for log-sampled t.  The test-suite
checks the double-precision construction at 1 TeV against an mpmath (50-digit) evaluation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from lfvscan.physics.constants import ALPHA, GEV2_TO_PB, M_MU, M_TAU
from lfvscan.physics.couplings import DEFAULT_CONVENTION, DEFAULT_THETA, delta_m, g_eff_sq, yukawas
from lfvscan.physics.formfactors import DEFAULT_FF, FormFactorParams, f2_coherent, f2_incoherent, f2_total
from lfvscan.physics.leptons import Lepton, LeptonPair
from lfvscan.physics.reach import t_min_GeV2
from lfvscan.physics.targets import Target, get_target

__all__ = [
    "amp_A",
    "amp_A_trace",
    "MCResult",
    "mc_sigma_2to2_decay",
    "mc_events",
    "effective_photon_flux",
    "exact_bounds",
    "sigma_ww_pb",
    "sigma_iww_pb",
    "sigma_ww_vector_pb",
    "a22_scalar",
    "a22_vector",
    "max_mass_2to2_GeV",
]

_METRIC = np.array([1.0, -1.0, -1.0, -1.0])


def _dot(a, b):
    """Minkowski product a.b for arrays of shape (..., 4), metric (+,-,-,-)."""
    return a[..., 0] * b[..., 0] - a[..., 1] * b[..., 1] - a[..., 2] * b[..., 2] - a[..., 3] * b[..., 3]


def _pair(m_beam, m_final) -> LeptonPair:
    """The lepton pair of the masses [GeV] (names are irrelevant here)."""
    return LeptonPair(Lepton("beam", m_beam), Lepton("final", m_final))


def _gS_gP(theta, convention, m_beam=M_MU, m_final=M_TAU):
    g_S, g_P = yukawas(1.0, theta, convention, pair=_pair(m_beam, m_final))
    return float(g_S), float(g_P)


# ----------------------------------------------------------------------------------------------
# §7.4: spin-averaged squared amplitude
# ----------------------------------------------------------------------------------------------
def amp_A(s, u, t, P2, Pk, Pp, Ppp, m_a, g_S, g_P, *, m_beam: float = M_MU, m_final: float = M_TAU):
    """Reduced spin-averaged |M|^2, A(s,u,t) [GeV^2], docs/physics.md §7.4.

    ``|M|^2_avg = e^4 F^2(t)/t^2 * A``.  Inputs are the invariants s = (p'+k)^2 - m_mu^2,
    u = (p-k)^2 - m_tau^2, t = -q^2 and the dot products P^2, P.k, P.p, P.p' with P = P_i + P_f
    (all GeV^2), as computed by the caller from explicit four-vectors (not the phi-averaged form).
    ``m_beam`` / ``m_final``: incoming / outgoing lepton masses [GeV] (default muon / tau) in Delta_m.
    """
    geff2 = g_eff_sq(g_S, g_P)
    dm = delta_m(m_a, g_S, g_P, m_final, m_beam)
    su = s * u
    spu = s + u
    term1 = geff2 * (spu * spu / su * P2 - 4.0 * t / su * Pk * Pk)
    comb = u * Pp + s * Ppp
    term2 = dm * (spu * spu * P2 * t - 4.0 * comb * comb) / (su * su)
    return term1 + term2


def _gamma_matrices():
    """Dirac-representation gamma^0..3 and gamma5 = i g0 g1 g2 g3 (docs/physics.md §1)."""
    s1 = np.array([[0, 1], [1, 0]], dtype=complex)
    s2 = np.array([[0, -1j], [1j, 0]], dtype=complex)
    s3 = np.array([[1, 0], [0, -1]], dtype=complex)
    i2 = np.eye(2, dtype=complex)
    z2 = np.zeros((2, 2), dtype=complex)
    g0 = np.block([[i2, z2], [z2, -i2]])
    gs = [np.block([[z2, s], [-s, z2]]) for s in (s1, s2, s3)]
    g = np.array([g0] + gs)
    g5 = 1j * g[0] @ g[1] @ g[2] @ g[3]
    return g, g5


def amp_A_trace(p, k, pp, Pi, Pf, g_S, g_P, *, m_beam: float = M_MU, m_final: float = M_TAU):
    """A from an explicit numerical Dirac trace of the two tree diagrams (check of §7.4) [GeV^2].

    Four-vectors of shape (N, 4): muon p, ALP k, tau p', nucleus P_i, P_f.  Vertex
    Gamma = g_S + g_P gamma5 (L = -i a taubar Gamma mu + h.c.), photon coupling gamma^nu contracted
    with the spin-0 nuclear current P = P_i + P_f, photon propagator 1/t, so that
    ``A = 1/2 Tr[(p'slash + m_tau) O (pslash + m_mu) Obar]`` with
    ``O = Gamma S_mu(p+q) Pslash + Pslash S_tau(p-k) Gamma``, S(l) = (lslash + m)/(l^2 - m^2),
    Obar = gamma0 O^dagger gamma0, m_mu = ``m_beam`` and m_tau = ``m_final`` [GeV] (default muon, tau).
    Independent of the closed form :func:`amp_A`.
    """
    g, g5 = _gamma_matrices()
    one = np.eye(4, dtype=complex)

    def slash(a):
        return np.einsum("nm,mij->nij", (a * _METRIC).astype(complex), g)

    q = Pi - Pf
    P = Pi + Pf
    l1 = p + q
    l2 = p - k
    s = _dot(l1, l1) - m_beam**2
    u = _dot(l2, l2) - m_final**2
    Gam = g_S * one + g_P * g5
    Gbar = g_S * one - g_P * g5
    Ps = slash(P)
    S1 = (slash(l1) + m_beam * one) / s[:, None, None]
    S2 = (slash(l2) + m_final * one) / u[:, None, None]
    O = Gam @ S1 @ Ps + Ps @ S2 @ Gam
    Ob = Ps @ S1 @ Gbar + Gbar @ S2 @ Ps
    M = (slash(pp) + m_final * one) @ O @ (slash(p) + m_beam * one) @ Ob
    tr = np.einsum("nii->n", M)
    return 0.5 * tr.real


# ----------------------------------------------------------------------------------------------
# §7.9: 2->2 x decay Monte Carlo with explicit four-vectors
# ----------------------------------------------------------------------------------------------
@dataclass
class MCResult:
    """Result of :func:`mc_sigma_2to2_decay` (pb, for g = 1)."""

    sigma_pb: float
    err_pb: float
    sigma_coherent_pb: float
    err_coherent_pb: float
    sigma_incoherent_pb: float
    err_incoherent_pb: float
    n_points: int
    x_f_edges: np.ndarray | None = None
    dsigma_dlnx_f_pb: np.ndarray | None = None
    dsigma_dlnx_f_err_pb: np.ndarray | None = None
    meta: dict = field(default_factory=dict)


def _t_bounds_22(mX2, E, M, m_beam):
    """t range of mu(p) N(M at rest) -> X(m_X) N for fixed m_X^2 (§7.9 recoil condition |cos| <= 1).

    From cos(recoil, z) = (m_X^2 - m_mu^2 + t + E t / M) / (2 |p| |q|) = +-1 with |q|^2 = t + t^2/4M^2:
    a t^2 + b t + c = 0, a = s_tot/M^2, b = 2 D (1 + E/M) - 4 p^2, c = D^2 (D = m_X^2 - m_mu^2);
    b^2 - 4ac = 4 p^2 [4 p^2 - 4 D (1 + E/M) + D^2/M^2].  Roots in cancellation-free form.
    Returns (t_min, t_max, ok).
    """
    pabs = math.sqrt(E * E - m_beam * m_beam)
    s_tot = m_beam**2 + M * M + 2.0 * M * E
    D = mX2 - m_beam**2
    a = s_tot / (M * M)
    mb = 4.0 * pabs**2 - 2.0 * D * (1.0 + E / M)  # = -b
    disc_red = 4.0 * pabs**2 - 4.0 * D * (1.0 + E / M) + D * D / (M * M)
    ok = (disc_red > 0) & (mb > 0)
    sq = 2.0 * pabs * np.sqrt(np.where(ok, disc_red, 0.0))
    big = mb + sq
    t_min = np.where(ok, 2.0 * D * D / np.where(ok, big, 1.0), np.nan)
    t_max = np.where(ok, big / (2.0 * a), np.nan)
    return t_min, t_max, ok


def _boost_from_rest(v_rest, X, mX):
    """Boost four-vectors v_rest (N,4) given in the rest frame of X to the frame where X is X (N,4)."""
    Xv = X[:, 1:]
    X0 = X[:, 0]
    vv = v_rest[:, 1:]
    xdotv = np.einsum("ni,ni->n", Xv, vv)
    e = (X0 * v_rest[:, 0] + xdotv) / mX
    coef = (v_rest[:, 0] + xdotv / (X0 + mX)) / mX
    out = np.empty_like(v_rest)
    out[:, 0] = e
    out[:, 1:] = vv + Xv * coef[:, None]
    return out


def _mX2_cut(E, M, t_cut, m_beam):
    """Largest m_X^2 [GeV^2] reachable at t <= t_cut: the §7.9 recoil condition at t = t_cut with
    the recoil along the beam, m_X^2 = m_mu^2 + 2 |p| |q|(t_cut) - t_cut (1 + E/M)."""
    pabs = math.sqrt(E * E - m_beam * m_beam)
    return m_beam**2 + 2.0 * pabs * math.sqrt(t_cut + t_cut * t_cut / (4.0 * M * M)) - t_cut * (1.0 + E / M)


def max_mass_2to2_GeV(energy_GeV, target, ff: FormFactorParams = DEFAULT_FF, *, m_beam: float = M_MU, m_final: float = M_TAU) -> float:
    """Largest m_a [GeV] with phase space at t <= t_cut (exact in M; own derivation, §7.1/§7.9).

    The threshold m_X = m_tau + m_a must satisfy the §7.9 recoil condition at t = t_cut with
    cos = 1: (m_tau + m_a)^2 = m_mu^2 + 2 |p| |q|(t_cut) - t_cut (1 + E/M).  Slightly below the
    M -> inf estimate sqrt(2 E sqrt(t_cut) + m_mu^2) - m_tau of §7.1/§13.7.  0.0 if nothing open.
    The validation counterpart of :func:`lfvscan.physics.reach.max_mass_exact_GeV`; lepton masses
    ``m_beam`` / ``m_final`` [GeV] (default muon / tau) for m_mu / m_tau.
    """
    target = get_target(target)
    E = float(energy_GeV)
    M = target.M
    tc = ff.t_cut_GeV2
    mx2 = _mX2_cut(E, M, tc, m_beam)
    return max(math.sqrt(mx2) - m_final, 0.0) if mx2 > 0 else 0.0


def _build_events(u, target: Target, E, m_a, ff: FormFactorParams = DEFAULT_FF, *, m_beam: float = M_MU, m_final: float = M_TAU):
    """Map unit-hypercube points u (N,5) to explicit events and phase-space weights (§7.9).

    Variables: u0 -> m_X^2 (log-uniform in m_X^2 - thr between thr*1e-7 and the maximum; see
    below), u1 -> t (log-uniform between the 2->2 bounds, capped at t_cut), u2, u3 -> decay solid
    angle in the X rest frame, u4 -> azimuth of the recoil around the beam.
    Returns a dict with the four-vectors p, k, pp (tau), Pi, Pf (N,4), invariants s, u, t, and
    ``jac`` = phase-space Jacobian so that sigma = <jac * F^2/t^2 * A> * alpha^2/(128 pi^2 M^2 |p|^2)
    (GeV^-2).  Points outside the physical region get jac = 0.
    """
    M = target.M
    n = u.shape[0]
    pabs = math.sqrt(E * E - m_beam * m_beam)
    s_tot = m_beam**2 + M * M + 2.0 * M * E
    thr = (m_final + m_a) ** 2
    # largest m_X^2: kinematic limit, and t_min(m_X^2) <= t_cut, i.e. the recoil condition at
    # t = t_cut with cos = 1: m_X^2 - m_mu^2 = 2 |p| |q|(t_cut) - t_cut (1 + E/M)
    tc = ff.t_cut_GeV2
    mX2_max = min((math.sqrt(s_tot) - M) ** 2, _mX2_cut(E, M, tc, m_beam))
    # m_X^2 - thr log-uniform from thr*1e-7 (the region below is weighted by |p*| ~ sqrt and is
    # < 1e-10 of sigma) up to mX2_max - thr.
    d_lo = thr * 1e-7
    d_hi = mX2_max - thr
    if not d_hi > d_lo:  # closed cell: no phase space with t <= t_cut
        z = np.zeros((n, 4))
        zz = np.zeros(n)
        return dict(p=z, k=z, pp=z, Pi=z, Pf=z, s=np.ones(n), u=-np.ones(n), t=np.ones(n), jac=zz, mX2=zz)
    ld = math.log(d_hi / d_lo)
    d = d_lo * np.exp(u[:, 0] * ld)
    mX2 = thr + d
    jac = d * ld
    mX = np.sqrt(mX2)

    t_lo, t_hi, ok = _t_bounds_22(mX2, E, M, m_beam)
    t_hi = np.minimum(t_hi, ff.t_cut_GeV2)
    ok = ok & (t_hi > t_lo)
    t_lo = np.where(ok, t_lo, 1.0)
    t_hi = np.where(ok, t_hi, 2.0)
    lt = np.log(t_hi / t_lo)
    t = t_lo * np.exp(u[:, 1] * lt)
    jac = np.where(ok, jac * t * lt, 0.0)

    # nucleus recoil: q = P_i - P_f delivered to the lepton line
    q0 = -t / (2.0 * M)
    q_abs = np.sqrt(t + t * t / (4.0 * M * M))
    cos_rec = (mX2 - m_beam**2 + t + E * t / M) / (2.0 * pabs * q_abs)  # polar angle of P_f = -q
    bad = np.abs(cos_rec) > 1.0 + 1e-12
    jac = np.where(bad, 0.0, jac)
    cos_rec = np.clip(cos_rec, -1.0, 1.0)
    sin_rec = np.sqrt((1.0 - cos_rec) * (1.0 + cos_rec))
    phi = 2.0 * np.pi * u[:, 4]
    qv = -q_abs[:, None] * np.column_stack([sin_rec * np.cos(phi), sin_rec * np.sin(phi), cos_rec])

    p = np.zeros((n, 4))
    p[:, 0] = E
    p[:, 3] = pabs
    Pi = np.zeros((n, 4))
    Pi[:, 0] = M
    Pf = np.empty((n, 4))
    Pf[:, 0] = M - q0
    Pf[:, 1:] = -qv
    X = np.empty((n, 4))
    X[:, 0] = E + q0
    X[:, 1:] = qv
    X[:, 3] += pabs

    # decay X -> tau a, isotropic in the X rest frame
    lam = (mX2 - (m_final + m_a) ** 2) * (mX2 - (m_final - m_a) ** 2)
    pst = np.sqrt(np.maximum(lam, 0.0)) / (2.0 * mX)
    Ea_st = (mX2 + m_a**2 - m_final**2) / (2.0 * mX)
    Et_st = (mX2 + m_final**2 - m_a**2) / (2.0 * mX)
    cst = 2.0 * u[:, 2] - 1.0
    sst = np.sqrt((1.0 - cst) * (1.0 + cst))
    phst = 2.0 * np.pi * u[:, 3]
    nst = np.column_stack([sst * np.cos(phst), sst * np.sin(phst), cst])
    k_r = np.column_stack([Ea_st, pst[:, None] * nst])
    pp_r = np.column_stack([Et_st, -pst[:, None] * nst])
    k = _boost_from_rest(k_r, X, mX)
    pp = _boost_from_rest(pp_r, X, mX)
    jac = jac * 4.0 * np.pi * pst / mX

    # small invariants without cancellation
    s = mX2 - m_beam**2
    p_minus = m_beam**2 / (E + pabs)
    kT2 = k[:, 1] ** 2 + k[:, 2] ** 2
    k_minus = np.where(k[:, 3] > 0, (m_a**2 + kT2) / (k[:, 0] + np.abs(k[:, 3])), k[:, 0] - k[:, 3])
    k_plus = k[:, 0] + k[:, 3]
    pk = 0.5 * ((E + pabs) * k_minus + p_minus * k_plus)
    uu = m_beam**2 + m_a**2 - m_final**2 - 2.0 * pk
    return dict(p=p, k=k, pp=pp, Pi=Pi, Pf=Pf, s=s, u=uu, t=t, jac=jac, mX2=mX2)


def _amp_from_events(ev, m_a, g_S, g_P, m_beam=M_MU, m_final=M_TAU):
    """A of §7.4 from the explicit four-vectors of :func:`_build_events`."""
    P = ev["Pi"] + ev["Pf"]
    P2 = _dot(P, P)
    Pk = _dot(P, ev["k"])
    Pp = _dot(P, ev["p"])
    Ppp = _dot(P, ev["pp"])
    return amp_A(ev["s"], ev["u"], ev["t"], P2, Pk, Pp, Ppp, m_a, g_S, g_P, m_beam=m_beam, m_final=m_final)


def mc_events(target, energy_GeV, mass_GeV, n, *, seed=0, ff: FormFactorParams = DEFAULT_FF, m_beam: float = M_MU, m_final: float = M_TAU):
    """Generate ``n`` unweighted-in-u MC events of §7.9 (for tests / inspection); returns the dict
    of :func:`_build_events` (four-vectors, invariants, Jacobian)."""
    target = get_target(target)
    rng = np.random.default_rng(seed)
    return _build_events(rng.random((n, 5)), target, float(energy_GeV), float(mass_GeV), ff=ff, m_beam=m_beam, m_final=m_final)


def mc_sigma_2to2_decay(
    target,
    energy_GeV: float,
    mass_GeV: float,
    *,
    n_points: int = 1_000_000,
    theta: float = DEFAULT_THETA,
    convention: str = DEFAULT_CONVENTION,
    seed: int = 0,
    chunk: int = 200_000,
    ff: FormFactorParams = DEFAULT_FF,
    x_f_edges: np.ndarray | None = None,
    m_beam: float = M_MU,
    m_final: float = M_TAU,
) -> MCResult:
    """sigma(mu N -> tau N a) for g = 1 [pb] from the §7.9 2->2 x decay Monte Carlo.

    docs/physics.md §7.9::

        sigma = 1/(4M|p|) int dm_X^2/(2 pi) int dt 2pi/(16 pi^2 2M|p|) int dOmega* |p*|/(16 pi^2 m_X) |M|^2
              = alpha^2/(128 pi^2 M^2 |p|^2) int dm_X^2 dt dOmega* (|p*|/m_X) F^2(t) A / t^2,

    with |M|^2 = e^4 F^2/t^2 A (§7.4) evaluated from explicit four-vectors in the nucleus rest
    frame.  Plain (non-adaptive) Monte Carlo with importance sampling log(m_X^2 - thr) and log t;
    the error is the standard error of the mean.  Coherent/incoherent parts use f2_coherent /
    f2_incoherent on the same points.  If ``x_f_edges`` is given, also returns
    dsigma/dln x_f histogrammed in x_f = E_f/E (lab tau energy, §8.1).  ``m_beam`` / ``m_final``:
    incoming / outgoing lepton masses [GeV] (default muon / tau; m_mu / m_tau above).
    """
    target = get_target(target)
    E = float(energy_GeV)
    m_a = float(mass_GeV)
    M = target.M
    g_S, g_P = _gS_gP(theta, convention, m_beam, m_final)
    pabs = math.sqrt(E * E - m_beam**2)
    norm = ALPHA**2 / (128.0 * math.pi**2 * M * M * pabs * pabs) * GEV2_TO_PB
    rng = np.random.default_rng(seed)
    sums = np.zeros(3)
    sums2 = np.zeros(3)
    if x_f_edges is not None:
        edges = np.asarray(x_f_edges, dtype=float)
        h = np.zeros(len(edges) - 1)
        h2 = np.zeros(len(edges) - 1)
    done = 0
    while done < n_points:
        m = min(chunk, n_points - done)
        ev = _build_events(rng.random((m, 5)), target, E, m_a, ff=ff, m_beam=m_beam, m_final=m_final)
        A = _amp_from_events(ev, m_a, g_S, g_P, m_beam, m_final)
        t = ev["t"]
        base = np.where(ev["jac"] > 0, ev["jac"] * A / (t * t), 0.0) * norm
        wc = base * f2_coherent(t, target, ff)
        wi = base * f2_incoherent(t, target, ff)
        w = wc + wi
        for j, ww in enumerate((w, wc, wi)):
            sums[j] += ww.sum()
            sums2[j] += (ww * ww).sum()
        if x_f_edges is not None:
            x = ev["pp"][:, 0] / E
            h += np.histogram(x, bins=edges, weights=w)[0]
            h2 += np.histogram(x, bins=edges, weights=w * w)[0]
        done += m
    mean = sums / n_points
    var = np.maximum(sums2 / n_points - mean**2, 0.0)
    err = np.sqrt(var / n_points)
    res = MCResult(
        sigma_pb=float(mean[0]),
        err_pb=float(err[0]),
        sigma_coherent_pb=float(mean[1]),
        err_coherent_pb=float(err[1]),
        sigma_incoherent_pb=float(mean[2]),
        err_incoherent_pb=float(err[2]),
        n_points=n_points,
        meta=dict(target=target.name, energy_GeV=E, mass_GeV=m_a, theta=theta, convention=convention, seed=seed),
    )
    if x_f_edges is not None:
        dlnx = np.diff(np.log(edges))
        hm = h / n_points
        he = np.sqrt(np.maximum(h2 / n_points - hm**2, 0.0) / n_points)
        res.x_f_edges = edges
        res.dsigma_dlnx_f_pb = hm / dlnx
        res.dsigma_dlnx_f_err_pb = he / dlnx
    return res


# ----------------------------------------------------------------------------------------------
# §7.10: Weizsaecker-Williams and improved WW
# ----------------------------------------------------------------------------------------------
def _gl_panels(lo, hi, n_panels, n_nodes):
    """Composite Gauss-Legendre nodes/weights on [lo, hi] (arrays broadcast, shape (..., P*N))."""
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    lo = np.asarray(lo, dtype=float)[..., None]
    hi = np.asarray(hi, dtype=float)[..., None]
    j = np.arange(n_panels)
    a = (j[:, None] + 0.5 * (x[None, :] + 1.0)) / n_panels  # (P, N) in (0, 1)
    a = a.ravel()
    ww = np.tile(0.5 * w, n_panels) / n_panels
    nodes = lo + (hi - lo) * a
    weights = (hi - lo) * ww
    return nodes, weights


def effective_photon_flux(target, t_min, t_max=None, *, ff: FormFactorParams = DEFAULT_FF, n_panels=200, n_nodes=10):
    """chi = int_{t_min}^{t_max} dt (t - t_min) F^2(t) / t^2  (dimensionless), docs/physics.md §7.10/§13.5.

    ``t_max`` defaults to t_cut (1 GeV^2).  Vectorised over t_min, t_max; zero where t_max <= t_min.
    Composite Gauss-Legendre in ln t (integrand (1 - t_min/t) F^2(t) d ln t); the default
    200 x 10 nodes resolve the diffraction structure of Eq. (20) to better than 1e-8.
    """
    target = get_target(target)
    t_min = np.asarray(t_min, dtype=float)
    t_max = np.full_like(t_min, ff.t_cut_GeV2) if t_max is None else np.asarray(t_max, dtype=float)
    t_min, t_max = np.broadcast_arrays(t_min, t_max)
    ok = (t_max > t_min) & (t_min > 0)
    lo = np.log(np.where(ok, t_min, 1.0))
    hi = np.log(np.where(ok, t_max, 2.0))
    x, w = _gl_panels(lo, hi, n_panels, n_nodes)
    t = np.exp(x)
    f = (1.0 - t_min[..., None] / t) * f2_total(t, target, ff)
    return np.where(ok, np.sum(w * f, axis=-1), 0.0)


def exact_bounds(E, E_a, theta_a, m_a, M, *, m_beam: float = M_MU, m_final: float = M_TAU):
    """Exact 2->3 kinematics at fixed (E_a, theta_a), docs/physics.md §7.5/§7.7 (own implementation).

    Returns dict with |p|, |k|, V, u, t_minus, t_plus, (p - k cos) (all GeV / GeV^2), and ``disc``
    (the square-root argument; t_pm exist only if disc >= 0).  Cancellation-free forms of §7.8.
    ``m_beam`` / ``m_final``: incoming / outgoing lepton masses [GeV] (default muon / tau).
    """
    E_a = np.asarray(E_a, dtype=float)
    theta_a = np.asarray(theta_a, dtype=float)
    pabs = math.sqrt(E * E - m_beam * m_beam)
    kabs = np.sqrt(np.maximum(E_a * E_a - m_a * m_a, 0.0))
    sh2 = np.sin(0.5 * theta_a) ** 2
    pmk = pabs - kabs  # no cancellation issue for |p| - |k| beyond that of the inputs
    V = np.sqrt(pmk * pmk + 4.0 * pabs * kabs * sh2)
    p_minus_kcos = pmk + 2.0 * kabs * sh2
    u = (m_beam**2 / (E + pabs) - m_a**2 / (E_a + kabs)) * ((E + pabs) - (E_a + kabs)) - 4.0 * pabs * kabs * sh2 - m_final**2
    E_minus_Ea = E - E_a
    disc = 4.0 * M * M * V * V + u * (4.0 * M * (E_minus_Ea + M) + u)
    sq = np.sqrt(np.maximum(disc, 0.0))
    den = (E_minus_Ea + M) * u + 2.0 * M * V * V + V * sq
    t_minus = M * u * u / den
    t_plus = M * den / ((E_minus_Ea + M) ** 2 - V * V)
    return dict(p=pabs, k=kabs, V=V, u=u, t_minus=t_minus, t_plus=t_plus, disc=disc, p_minus_kcos=p_minus_kcos)


def _t_window(kin, E, E_a, M, t_cut, m_final):
    """(t_lo, t_up, ok) of the WW region: t_lo = min(t_-, t_+), t_up = min(t_hi, t_cut,
    2M(E - E_a - m_tau)); ``ok`` where the window is real and non-empty (GeV^2)."""
    t_lo = np.minimum(kin["t_minus"], kin["t_plus"])
    t_hi = np.maximum(kin["t_minus"], kin["t_plus"])
    t_up = np.minimum(np.minimum(t_hi, t_cut), 2.0 * M * (E - E_a - m_final))
    return t_lo, t_up, (kin["disc"] > 0) & (t_lo > 0) & (t_up > t_lo)


def a22_scalar(s, u, m_a, g_S, g_P, m_beam, m_final):
    """Real-photon gamma l_i -> l_f a squared amplitude of the spin-0 boson (docs/physics.md §7.10),
    lepton-spin and photon-polarisation averaged, e = g = 1 (dimensionless):
    ``A_2->2 = -g_eff^2 (s+u)^2/(s u) + 2 Delta_m tau_22``,
    ``tau_22 = [(s+u)(1 + m_i^2/s + m_f^2/u) - m_a^2] / (s u)``; ``m_beam`` / ``m_final`` = m_i / m_f [GeV]."""
    geff2 = g_eff_sq(g_S, g_P)
    dm = delta_m(m_a, g_S, g_P, m_final, m_beam)
    su = s * u
    return geff2 * (-(s + u) ** 2 / su) + 2.0 * dm * ((s + u) * (1.0 + m_beam**2 / s + m_final**2 / u) - m_a**2) / su


def a22_vector(s, u, m_X, g_V2, g_A2, m_beam, m_final):
    """Real-photon gamma l_i -> l_f X squared amplitude of the spin-1 boson (docs/physics.md §7.14),
    lepton-spin and photon-polarisation averaged, summed over the X polarisations, e = g = 1:
    ``A_V = 4 - (2 + d_V/m_X^2) (s+u)^2/(s u) + 2 Delta_V tau_22`` with ``d_V = (m_f - m_i)^2``,
    ``Delta_V = (1 - d_V/m_X^2)(2 m_X^2 + (m_i + m_f)^2)`` and ``tau_22`` of :func:`a22_scalar`; the axial
    ``A_A`` is ``A_V`` with ``m_i -> -m_i``; returns ``g_V2 A_V + g_A2 A_A``.  Written from the
    thesis's formula (ch. 4) with the coefficient 6 m_X^2 tau_22 of its code in the parity-odd term
    (its text has 3; the real-photon trace of tests/test_amplitude_vector.py decides)."""
    su = s * u
    T1 = (s + u) ** 2 / su
    out = 0.0
    for g2, m_i in ((g_V2, m_beam), (g_A2, -m_beam)):
        d = (m_final - m_i) ** 2
        tau22 = ((s + u) * (1.0 + m_i**2 / s + m_final**2 / u) - m_X**2) / su
        bracket = (1.0 - d / m_X**2) * (2.0 * m_X**2 + (m_i + m_final) ** 2)
        out = out + g2 * (4.0 - (2.0 + d / m_X**2) * T1 + 2.0 * bracket * tau22)
    return out


def _ww_integrand(target, E, E_a, theta_a, m_a, a22, ff, iww_chi, n_t_panels, n_t_nodes, m_beam, m_final):
    """(dsigma/dE_a dcos theta_a) [GeV^-3] of WW (iww_chi None) or IWW (iww_chi = constant chi) for the
    real-photon squared amplitude ``a22(s, u)`` (:func:`a22_scalar`, :func:`a22_vector`)."""
    M = target.M
    kin = exact_bounds(E, E_a, theta_a, m_a, M, m_beam=m_beam, m_final=m_final)
    u = kin["u"]
    V = kin["V"]
    t_lo, t_up, ok = _t_window(kin, E, E_a, M, ff.t_cut_GeV2, m_final)
    ok &= kin["k"] > 0
    t_lo = np.where(ok, t_lo, 1.0)
    t_up = np.where(ok, t_up, 2.0)
    if iww_chi is None:
        chi = effective_photon_flux(target, t_lo, t_up, ff=ff, n_panels=n_t_panels, n_nodes=n_t_nodes)
    else:
        chi = iww_chi
    # 2->2 invariants at t = t_-: cos(theta_q) -> sign(cos theta_q^0(t_-)), s_1 = 0 (§7.10)
    E_minus_Ea = E - E_a
    q_abs = np.sqrt(t_lo + t_lo * t_lo / (4.0 * M * M))
    sgn = np.sign(u - (1.0 + E_minus_Ea / M) * t_lo)
    s = -(1.0 + E / M) * t_lo - 2.0 * q_abs * sgn * kin["p"] * kin["p_minus_kcos"] / V
    A22 = a22(s, u)
    val = ALPHA**2 / (8.0 * math.pi) * kin["k"] / (kin["p"] * V) * chi / t_lo * A22
    return np.where(ok, val, 0.0)


def _theta_max(target, E, E_a, m_a, ff, th_lo, n_iter=60, *, m_beam=M_MU, m_final=M_TAU):
    """Largest theta_a with a non-empty t range (t_- < t_up), by vectorised bisection in ln theta.

    The allowed region is [0, theta_max] because t_- increases with theta_a while t_up does not
    depend on it (t_+ >> t_cut there); checked in the tests by a direct scan.
    """
    M = target.M

    def valid(th):
        return _t_window(exact_bounds(E, E_a, th, m_a, M, m_beam=m_beam, m_final=m_final), E, E_a, M, ff.t_cut_GeV2, m_final)[2]

    lo = np.full_like(E_a, math.log(th_lo))
    hi = np.full_like(E_a, math.log(math.pi))
    v_hi = valid(np.exp(hi))
    v_lo = valid(np.exp(lo))
    for _ in range(n_iter):
        mid = 0.5 * (lo + hi)
        vm = valid(np.exp(mid))
        lo = np.where(vm, mid, lo)
        hi = np.where(vm, hi, mid)
    th_max = np.where(v_hi, math.pi, np.exp(lo))
    return np.where(v_lo | v_hi, th_max, th_lo)


def _sigma_ww_generic(target, E, m_a, a22, ff, iww, n_E, n_th, n_t, domain_ff, m_beam, m_final):
    target = get_target(target)
    domain_ff = ff if domain_ff is None else domain_ff
    E = float(E)
    m_a = float(m_a)
    if E - m_final <= m_a:
        return 0.0
    iww_chi = None
    if iww:
        iww_chi = float(effective_photon_flux(target, t_min_GeV2(E, m_a, pair=_pair(m_beam, m_final)), ff=ff))
    # outer: ln E_tau in [ln m_tau, ln(E - m_a)], composite GL
    x, wx = _gl_panels(math.log(m_final), math.log(E - m_a), n_E[0], n_E[1])
    Etau = np.exp(x)
    E_a = E - Etau
    jac_E = Etau * wx
    th_lo = 1e-6 * max(m_a, m_final) / E
    th_max = _theta_max(target, E, E_a, m_a, domain_ff, th_lo, m_beam=m_beam, m_final=m_final)
    y, wy = _gl_panels(np.full_like(E_a, math.log(th_lo)), np.log(th_max), n_th[0], n_th[1])
    th = np.exp(y)  # (nE, nth)
    jac_th = wy * th * np.sin(th)  # dcos = sin dtheta = sin theta * theta dln theta
    Ea2 = np.broadcast_to(E_a[:, None], th.shape)
    val = _ww_integrand(target, E, Ea2, th, m_a, a22, domain_ff, iww_chi, n_t[0], n_t[1], m_beam, m_final)
    sig = np.sum(jac_E[:, None] * jac_th * val)
    return float(sig * GEV2_TO_PB)


def sigma_ww_pb(
    target,
    energy_GeV: float,
    mass_GeV: float,
    *,
    theta: float = DEFAULT_THETA,
    convention: str = DEFAULT_CONVENTION,
    ff: FormFactorParams = DEFAULT_FF,
    n_E=(24, 8),
    n_theta=(16, 8),
    n_t=(16, 8),
    m_beam: float = M_MU,
    m_final: float = M_TAU,
) -> float:
    """Weizsaecker-Williams sigma(mu N -> tau N a) for g = 1 [pb], docs/physics.md §7.10.

    (dsigma/dE_a dcos theta_a)_WW = alpha^2/(8 pi) |k|/(|p| V) chi_WW/t_- A_2->2, with
    chi_WW = int_{t_-}^{t_up} dt (t - t_-) F^2/t^2, t_up = min(t_+, t_cut, 2M(E - E_a - m_tau)),
    A_2->2 at s = s_0(t_-) with cos(theta_q) = sign(cos theta_q^0(t_-)).  Deterministic composite
    Gauss-Legendre over (ln E_tau, ln theta_a, ln t); ``n_* = (panels, nodes per panel)``.  The
    theta_a range is [1e-6 max(m_a, m_tau)/E, theta_max(E_a)] (theta_max: kinematic edge, by
    bisection; the omitted small-angle region is O(1e-12) of sigma since dsigma/dln theta ~ theta^2).
    ``m_beam`` / ``m_final``: incoming / outgoing lepton masses [GeV] (default muon / tau).
    """
    return _sigma_ww_generic(target, energy_GeV, mass_GeV, _scalar_a22(mass_GeV, theta, convention, m_beam, m_final),
                             ff, False, n_E, n_theta, n_t, None, m_beam, m_final)


def _scalar_a22(m_a, theta, convention, m_beam, m_final):
    """a22(s, u) of the spin-0 boson at (theta, convention) for g = 1."""
    g_S, g_P = _gS_gP(theta, convention, m_beam, m_final)

    def a22(s, u):
        return a22_scalar(s, u, float(m_a), g_S, g_P, m_beam, m_final)

    return a22


def sigma_ww_vector_pb(target, energy_GeV: float, mass_GeV: float, *, g_V2: float, g_A2: float,
                       ff: FormFactorParams = DEFAULT_FF, n_E=(24, 8), n_theta=(16, 8), n_t=(16, 8),
                       m_beam: float, m_final: float) -> float:
    """Weizsaecker-Williams sigma(l_i N -> l_f N X) [pb] of a spin-1 boson X of mass ``mass_GeV``
    with couplings g_V^2 = ``g_V2``, g_A^2 = ``g_A2`` (docs/physics.md §7.14): :func:`sigma_ww_pb` with
    the real-photon amplitude :func:`a22_vector`."""
    def a22(s, u):
        return a22_vector(s, u, float(mass_GeV), g_V2, g_A2, m_beam, m_final)

    return _sigma_ww_generic(target, energy_GeV, mass_GeV, a22, ff, False, n_E, n_theta, n_t, None, m_beam, m_final)


def sigma_iww_pb(
    target,
    energy_GeV: float,
    mass_GeV: float,
    *,
    theta: float = DEFAULT_THETA,
    convention: str = DEFAULT_CONVENTION,
    ff: FormFactorParams = DEFAULT_FF,
    n_E=(24, 8),
    n_theta=(16, 8),
    domain: str = "ww",
    m_beam: float = M_MU,
    m_final: float = M_TAU,
) -> float:
    """Improved WW sigma [pb] (docs/physics.md §7.10): as :func:`sigma_ww_pb` but with the constant flux
    chi_IWW = int_{t_min^IWW}^{t_cut} dt (t - t_min) F^2/t^2, t_min^IWW = [((m_a+m_tau)^2 -
    m_mu^2)/2E]^2.  Known to overestimate the exact result (docs/physics.md: factor 4-6 at 1 TeV); for
    cross-checks only.

    ``domain`` ([U], docs/physics.md does not say): ``"ww"`` (default) integrates over the same
    (E_a, theta_a) region as WW (t_- < t_up, t_up including t_cut); ``"kinematic"`` drops the
    t_cut condition from the region (only t_- < min(t_+, 2M(E - E_a - m_tau)) is required), which
    enlarges the large-angle tail.
    """
    if domain not in ("ww", "kinematic"):
        raise ValueError(f"domain must be 'ww' or 'kinematic', got {domain!r}")
    dff = None
    if domain == "kinematic":
        dff = replace(ff, t_cut_GeV2=1e30)
    return _sigma_ww_generic(target, energy_GeV, mass_GeV, _scalar_a22(mass_GeV, theta, convention, m_beam, m_final),
                             ff, True, n_E, n_theta, (1, 1), dff, m_beam, m_final)
