"""Independent cross-checks of the exact 2->3 cross section (docs/physics.md §7.4, §7.9, §7.10, §13.5-13.8).

References used here are (a) the numbers of docs/physics.md §13.5/§13.6, (b) an explicit numerical
Dirac trace of the two Feynman diagrams, (c) a 50-digit mpmath re-evaluation, and (d) the
production code :func:`lfvscan.xsec.compute_cell` compared with the independent §7.9 Monte Carlo of
tests/_crosscheck.py (which does not import the production kinematics/amplitude).  All MC
seeds are fixed, so every statistical comparison below is deterministic.  (mpmath is always
present: vegas -> gvar -> mpmath.)
"""

import math

import mpmath as mp
import numpy as np
import pytest

import _crosscheck as cc
from lfvscan.physics.constants import M_E, M_MU, M_TAU
from lfvscan.physics.reach import max_mass_exact_GeV, t_min_GeV2
from lfvscan.physics.targets import LEAD, TUNGSTEN
from lfvscan.xsec import compute_cell
from lfvscan.physics.presets import PDG_2024
from lfvscan.physics.process import Process
from _leptons import PAIR, pair_of

NSIG = 3.0  # combined-sigma tolerance for MC-vs-MC comparisons


def _pull(a, ea, b, eb):
    return (a - b) / math.hypot(ea, eb)


# ---------------------------------------------------------------------------------- §13.5 flux
@pytest.mark.parametrize(
    "tgt,tmin,ref",
    [(LEAD, 4.808262e-3, 372.8118), (LEAD, 1.984009e-3, 1361.849), (TUNGSTEN, 4.808262e-3, 352.1644)],
)
def test_effective_photon_flux_reference(tgt, tmin, ref):
    chi = float(cc.effective_photon_flux(tgt, tmin))
    assert chi == pytest.approx(ref, rel=1e-6)


def test_effective_photon_flux_converged_and_vectorised():
    tmins = np.array([1e-6, 4.808262e-3, 0.3, 1.5])
    a = cc.effective_photon_flux(LEAD, tmins)
    b = cc.effective_photon_flux(LEAD, tmins, n_panels=600, n_nodes=12)
    np.testing.assert_allclose(a[:3], b[:3], rtol=1e-9)
    assert a[3] == 0.0  # t_min above t_cut: empty range
    assert float(t_min_GeV2(1000.0, 10.0, pair=PAIR)) == pytest.approx(4.808262e-3, rel=1e-6)  # §13.6
    assert float(t_min_GeV2(160.0, 2.0, pair=PAIR)) == pytest.approx(1.984009e-3, rel=1e-6)


# ------------------------------------------------------------------------- §13.6 kinematics
@pytest.mark.parametrize(
    "E,Ea,ma,th,V,u,tp,tm",
    [
        (1000, 900, 10, 1e-3, 100.06004881, -15.17059951, 1.968668e4, 5.753384e-3),
        (1000, 990, 10, 0.0, 10.05050076, -4.16979693, 3.582599e2, 4.399244e-2),
        (160, 150, 3, 2e-3, 10.03475167, -3.85347257, 3.577196e2, 3.762745e-2),
    ],
)
def test_exact_bounds_reference(E, Ea, ma, th, V, u, tp, tm):
    k = cc.exact_bounds(E, Ea, th, ma, 193.75077)
    assert float(k["V"]) == pytest.approx(V, rel=1e-9)
    assert float(k["u"]) == pytest.approx(u, rel=1e-8)
    assert float(k["t_plus"]) == pytest.approx(tp, rel=1e-6)
    assert float(k["t_minus"]) == pytest.approx(tm, rel=1e-6)


# ---------------------------------------------------------------------------- §7.4 amplitude
def _test_point_vectors(n_phi):
    """Explicit four-vectors at the §13.6 amplitude test point for n_phi azimuths phi_q of q."""
    M, E, Ea, ma, th, t = 193.750773, 1000.0, 900.0, 10.0, 1e-3, 1.15067674e-2
    pabs = math.sqrt(E * E - M_MU**2)
    kabs = math.sqrt(Ea * Ea - ma * ma)
    p = np.array([E, 0, 0, pabs])
    k = np.array([Ea, kabs * math.sin(th), 0, kabs * math.cos(th)])
    Vv = p[1:] - k[1:]
    V = np.linalg.norm(Vv)
    v = Vv / V
    e = np.array([0, 0, 1.0]) - v[2] * v
    e /= np.linalg.norm(e)
    f = np.cross(v, e)
    q0 = -t / (2 * M)
    Q = math.sqrt(t + t * t / (4 * M * M))
    u = (E - Ea) ** 2 - V**2 - M_TAU**2
    c0 = (u - (1 + (E - Ea) / M) * t) / (2 * Q * V)
    s0 = math.sqrt(1 - c0 * c0)
    phis = np.linspace(0, 2 * np.pi, n_phi, endpoint=False)
    qv = Q * (c0 * v[None, :] + s0 * (np.cos(phis)[:, None] * e + np.sin(phis)[:, None] * f))
    q = np.column_stack([np.full(n_phi, q0), qv])
    P4 = np.tile(p, (n_phi, 1))
    K4 = np.tile(k, (n_phi, 1))
    Pi = np.tile([M, 0, 0, 0.0], (n_phi, 1))
    Pf = Pi - q
    pp = P4 + q - K4
    return dict(p=P4, k=K4, pp=pp, Pi=Pi, Pf=Pf, t=t, ma=ma)


@pytest.mark.parametrize("gS,gP,A_ref,Abar_ref", [(1.0, 0.0, 1.04586544e6, 1.11403096e6), (0.0, 1.0, 1.04427257e6, 1.11324381e6)])
def test_amplitude_at_reference_point(gS, gP, A_ref, Abar_ref):
    """A from explicit four-vectors at the §13.6 point (phi_q = 0 branch = minimum s) and its
    phi average (uniform 2000-point rule, exact for this smooth periodic integrand)."""
    ev = _test_point_vectors(2000)
    assert np.max(np.abs(cc._dot(ev["pp"], ev["pp"]) - M_TAU**2)) < 1e-8
    s = cc._dot(ev["p"] + ev["Pi"] - ev["Pf"], ev["p"] + ev["Pi"] - ev["Pf"]) - M_MU**2
    u = cc._dot(ev["p"] - ev["k"], ev["p"] - ev["k"]) - M_TAU**2
    P = ev["Pi"] + ev["Pf"]
    A = cc.amp_A(s, u, ev["t"], cc._dot(P, P), cc._dot(P, ev["k"]), cc._dot(P, ev["p"]), cc._dot(P, ev["pp"]), ev["ma"], gS, gP)
    assert float(s.min()) == pytest.approx(150.34863718, rel=1e-8)
    assert float(A[np.argmin(s)]) == pytest.approx(A_ref, rel=1e-7)
    assert float(A.mean()) == pytest.approx(Abar_ref, rel=1e-7)


@pytest.mark.parametrize("theta,conv", [(0.0, "eq3"), (math.pi / 4, "eq3"), (math.pi / 2, "eq3"), (0.3, "eq2")])
def test_amplitude_formula_matches_dirac_trace(theta, conv):
    """§7.4 closed form vs an explicit gamma-matrix trace, on MC phase-space points (160 GeV,
    where the lab-frame four-vector trace keeps ~1e-10 precision)."""
    ev = cc.mc_events(LEAD, 160.0, 4.0, 400, seed=3)
    keep = ev["jac"] > 0
    g_S, g_P = cc._gS_gP(theta, conv)
    A = cc._amp_from_events(ev, 4.0, g_S, g_P)[keep]
    At = cc.amp_A_trace(ev["p"][keep], ev["k"][keep], ev["pp"][keep], ev["Pi"][keep], ev["Pf"][keep], g_S, g_P)
    assert keep.sum() > 300
    np.testing.assert_allclose(A, At, rtol=1e-6)


@pytest.mark.parametrize("m_beam,m_final,theta,conv", [(M_E, M_TAU, 0.3, "eq2"), (M_TAU, M_MU, math.pi / 4, "eq3"),
                                                   (M_MU, M_E, 1.1, "eq2")])
def test_amplitude_formula_matches_dirac_trace_other_pairs(m_beam, m_final, theta, conv):
    """§7.4 closed form vs the explicit Dirac trace with other lepton masses (e -> tau, tau -> mu,
    mu -> e): the masses enter the propagators/spinor sums of the trace and Delta_m of amp_A."""
    ev = cc.mc_events(LEAD, 160.0, 4.0, 400, seed=3, m_beam=m_beam, m_final=m_final)
    keep = ev["jac"] > 0
    assert keep.sum() > 300
    # on-shell leptons (absolute tolerance: lab-frame vectors of 160 GeV carry ~1e-12 GeV^2 round-off)
    np.testing.assert_allclose(cc._dot(ev["p"], ev["p"])[keep], m_beam**2, rtol=0, atol=1e-9)
    np.testing.assert_allclose(cc._dot(ev["pp"], ev["pp"])[keep], m_final**2, rtol=0, atol=1e-9)
    g_S, g_P = cc._gS_gP(theta, conv, m_beam, m_final)
    A = cc._amp_from_events(ev, 4.0, g_S, g_P, m_beam, m_final)[keep]
    At = cc.amp_A_trace(ev["p"][keep], ev["k"][keep], ev["pp"][keep], ev["Pi"][keep], ev["Pf"][keep], g_S, g_P,
                        m_beam=m_beam, m_final=m_final)
    np.testing.assert_allclose(A, At, rtol=1e-6)


def test_mc_events_are_physical():
    ev = cc.mc_events(TUNGSTEN, 1000.0, 10.0, 20000, seed=5)
    keep = ev["jac"] > 0
    assert keep.mean() > 0.999  # the m_X^2 and t ranges are exactly the physical ones
    p, k, pp, Pi, Pf = (ev[x][keep] for x in ("p", "k", "pp", "Pi", "Pf"))
    bal = p + Pi - pp - Pf - k
    assert np.max(np.abs(bal)) < 1e-9  # four-momentum conservation (GeV)
    np.testing.assert_allclose(cc._dot(k, k), 100.0, rtol=1e-9)
    np.testing.assert_allclose(cc._dot(Pf, Pf), TUNGSTEN.M**2, rtol=1e-12)
    np.testing.assert_allclose(-cc._dot(Pi - Pf, Pi - Pf), ev["t"][keep], rtol=1e-6)
    np.testing.assert_allclose(cc._dot(pp + k, pp + k) - M_MU**2, ev["s"][keep], rtol=1e-9)
    assert np.all(ev["t"][keep] <= 1.0) and np.all(ev["u"][keep] < 0)


def _mp_event(uvec, M, E, ma):
    """50-digit re-evaluation of one §7.9 event (same construction as the package, no shortcuts:
    u from the naive (p-k)^2).  Returns A for g_S = g_P = 1/sqrt 2 (theta = pi/4, eq3)."""
    mp.mp.dps = 50
    u0, u1, u2, u3, u4 = (mp.mpf(float(x)) for x in uvec)
    M, E, ma = mp.mpf(M), mp.mpf(E), mp.mpf(ma)
    mmu, mtau = mp.mpf(M_MU), mp.mpf(M_TAU)
    pabs = mp.sqrt(E * E - mmu**2)
    s_tot = mmu**2 + M * M + 2 * M * E
    thr = (mtau + ma) ** 2
    d_lo = thr * mp.mpf("1e-7")
    Qc = mp.sqrt(1 + 1 / (4 * M * M))
    d_hi = min((mp.sqrt(s_tot) - M) ** 2, mmu**2 + 2 * pabs * Qc - (1 + E / M)) - thr
    mX2 = thr + d_lo * mp.e ** (u0 * mp.log(d_hi / d_lo))
    D = mX2 - mmu**2
    mb = 4 * pabs**2 - 2 * D * (1 + E / M)
    disc = 4 * pabs**2 - 4 * D * (1 + E / M) + D * D / (M * M)
    big = mb + 2 * pabs * mp.sqrt(disc)
    t_lo = 2 * D * D / big
    t_hi = min(big / (2 * s_tot / M**2), mp.mpf(1))
    t = t_lo * mp.e ** (u1 * mp.log(t_hi / t_lo))
    q0 = -t / (2 * M)
    Q = mp.sqrt(t + t * t / (4 * M * M))
    c = (mX2 - mmu**2 + t + E * t / M) / (2 * pabs * Q)
    sn = mp.sqrt(1 - c * c)
    phi = 2 * mp.pi * u4
    qv = [-Q * sn * mp.cos(phi), -Q * sn * mp.sin(phi), -Q * c]
    X = [E + q0, qv[0], qv[1], pabs + qv[2]]
    mX = mp.sqrt(mX2)
    lam = (mX2 - (mtau + ma) ** 2) * (mX2 - (mtau - ma) ** 2)
    pst = mp.sqrt(lam) / (2 * mX)
    Ea = (mX2 + ma**2 - mtau**2) / (2 * mX)
    cst = 2 * u2 - 1
    sst = mp.sqrt(1 - cst * cst)
    ph = 2 * mp.pi * u3
    kr = [Ea, pst * sst * mp.cos(ph), pst * sst * mp.sin(ph), pst * cst]
    xv = sum(X[i] * kr[i] for i in (1, 2, 3))
    coef = (kr[0] + xv / (X[0] + mX)) / mX
    k = [(X[0] * kr[0] + xv) / mX] + [kr[i] + X[i] * coef for i in (1, 2, 3)]
    p = [E, 0, 0, pabs]
    pp = [p[i] + (q0 if i == 0 else qv[i - 1]) - k[i] for i in range(4)]
    P = [2 * M - q0, -qv[0], -qv[1], -qv[2]]

    def dot(a, b):
        return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3]

    pk = [p[i] - k[i] for i in range(4)]
    s = mX2 - mmu**2
    u = dot(pk, pk) - mtau**2
    g2 = mp.mpf(1) / 2
    geff2 = 2 * g2
    dm = g2 * (ma**2 - (mtau + mmu) ** 2) + g2 * (ma**2 - (mtau - mmu) ** 2)
    P2, Pk, Pp, Ppp = dot(P, P), dot(P, k), dot(P, p), dot(P, pp)
    A = geff2 * ((s + u) ** 2 / (s * u) * P2 - 4 * t / (s * u) * Pk**2)
    A += dm * ((s + u) ** 2 * P2 * t - 4 * (u * Pp + s * Ppp) ** 2) / (s * u) ** 2
    return float(A), float(u), float(t)


@pytest.mark.parametrize("tgt,E,ma", [(LEAD, 1000.0, 10.0), (TUNGSTEN, 4000.0, 2.0)])
def test_double_precision_construction_vs_mpmath(tgt, E, ma):
    """The double-precision event construction (light-cone u) reproduces a 50-digit evaluation."""
    rng = np.random.default_rng(11)
    uvec = rng.random((40, 5))
    ev = cc._build_events(uvec, tgt, E, ma)
    gs = math.sqrt(0.5)
    A = cc._amp_from_events(ev, ma, gs, gs)
    n_ok = 0
    for i in range(len(uvec)):
        if ev["jac"][i] <= 0:
            continue
        A_mp, u_mp, t_mp = _mp_event(uvec[i], tgt.M, E, ma)
        assert ev["t"][i] == pytest.approx(t_mp, rel=1e-12)
        assert ev["u"][i] == pytest.approx(u_mp, rel=1e-10)
        assert A[i] == pytest.approx(A_mp, rel=1e-7)
        n_ok += 1
    assert n_ok >= 30


@pytest.mark.parametrize("tgt,E,approx", [(LEAD, 160.0, 16.112), (LEAD, 1000.0, 42.945), (TUNGSTEN, 4000.0, None)])
def test_reach_matches_production_and_mc_closes(tgt, E, approx):
    """Kinematic reach (t <= t_cut) from the §7.9 recoil condition vs reach.max_mass_exact_GeV; it lies
    slightly below the M -> inf estimate of §13.7; the MC is exactly zero beyond it."""
    m = cc.max_mass_2to2_GeV(E, tgt)
    assert m == pytest.approx(max_mass_exact_GeV(E, tgt, pair=PAIR), rel=1e-9)
    if approx is not None:
        assert approx * 0.99 < m < approx
    assert cc.mc_sigma_2to2_decay(tgt, E, m * 1.0001, n_points=2000).sigma_pb == 0.0
    assert cc.mc_sigma_2to2_decay(tgt, E, m * 0.999, n_points=2000).sigma_pb > 0.0


# ------------------------------------------------------------------------ WW internals (§7.10)
@pytest.mark.slow
def test_ww_theta_domain_is_an_interval_and_ww_converged():
    """theta_max bisection assumes the allowed theta_a set is [0, theta_max]: check by a scan."""
    E, ma = 1000.0, 10.0
    Ea = np.array([12.0, 100.0, 500.0, 900.0, 990.0, 997.0])
    th = np.geomspace(1e-8, math.pi, 4000)
    kin = cc.exact_bounds(E, Ea[:, None], th[None, :], ma, LEAD.M)
    t_lo = np.minimum(kin["t_minus"], kin["t_plus"])
    t_up = np.minimum(np.minimum(np.maximum(kin["t_minus"], kin["t_plus"]), 1.0), 2 * LEAD.M * (E - Ea[:, None] - M_TAU))
    valid = (kin["disc"] > 0) & (t_lo > 0) & (t_up > t_lo)
    tmax = cc._theta_max(LEAD, E, Ea, ma, cc.DEFAULT_FF, 1e-8)
    assert valid.any(axis=1).sum() >= 5
    for i in range(len(Ea)):
        if not valid[i].any():  # e.g. a too slow tau (E_tau = 3 GeV): no allowed theta at all
            assert tmax[i] == pytest.approx(1e-8)
            continue
        last = np.nonzero(valid[i])[0].max()
        assert valid[i, : last + 1].all()  # an interval starting at small theta
        assert th[last] <= tmax[i] * (1 + 1e-9) and (last == len(th) - 1 or th[last + 1] >= tmax[i] * (1 - 1e-9))
    a = cc.sigma_ww_pb(LEAD, E, ma)
    b = cc.sigma_ww_pb(LEAD, E, ma, n_E=(32, 8), n_theta=(20, 8), n_t=(20, 8))
    assert a == pytest.approx(b, rel=1e-5)


# --------------------------------------------------------- MC and WW vs production compute_cell
@pytest.fixture(scope="module")
def mc_and_cell():
    """(MC, compute_cell) at two cells: Pb 160 GeV m_a = 4 and W 1 TeV m_a = 10 (full F^2)."""
    out = {}
    for tgt, E, ma in [(LEAD, 160.0, 4.0), (TUNGSTEN, 1000.0, 10.0)]:
        cell = compute_cell(tgt, E, ma, rel_err=0.003, seed=1, n_xbins=12)
        mc = cc.mc_sigma_2to2_decay(tgt, E, ma, n_points=1_000_000, seed=2, x_f_edges=cell.x_f_edges)
        out[(tgt.name, E, ma)] = (mc, cell)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("key", [("Pb", 160.0, 4.0), ("W", 1000.0, 10.0)])
def test_mc_2to2_decay_vs_compute_cell(mc_and_cell, key):
    mc, cell = mc_and_cell[key]
    assert mc.err_pb / mc.sigma_pb < 0.01  # the MC is a few-per-mille check at 1e6 points
    assert abs(_pull(mc.sigma_pb, mc.err_pb, cell.sigma_pb, cell.sigma_err_pb)) < NSIG
    assert abs(_pull(mc.sigma_coherent_pb, mc.err_coherent_pb, cell.sigma_coherent_pb, cell.sigma_coherent_err_pb)) < NSIG
    assert abs(_pull(mc.sigma_incoherent_pb, mc.err_incoherent_pb, cell.sigma_incoherent_pb, cell.sigma_incoherent_err_pb)) < NSIG
    assert mc.sigma_coherent_pb + mc.sigma_incoherent_pb == pytest.approx(mc.sigma_pb, rel=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize(
    "tgt,E,ma,theta,conv",
    [
        (LEAD, 160.0, 16.0, math.pi / 4, "eq3"),
        (TUNGSTEN, 4000.0, 60.0, math.pi / 4, "eq3"),
        (LEAD, 1000.0, 2.0, math.pi / 4, "eq3"),
        (TUNGSTEN, 1000.0, 3.0, 0.0, "eq2"),
    ],
)
def test_mc_2to2_decay_vs_compute_cell_more_cells(tgt, E, ma, theta, conv):
    """Near the kinematic edge (160 GeV, m_a = 16.0 < 16.061), at 4 TeV, a light ALP at 1 TeV, and
    the Eq. (2) coupling convention at theta = 0 (g_eff^2 = g^2 (1 + r)^2, +12 %)."""
    cell = compute_cell(tgt, E, ma, rel_err=0.003, seed=3, n_xbins=4, theta=theta, convention=conv)
    mc = cc.mc_sigma_2to2_decay(tgt, E, ma, n_points=1_000_000, seed=4, theta=theta, convention=conv)
    assert mc.err_pb / mc.sigma_pb < 0.01
    assert abs(_pull(mc.sigma_pb, mc.err_pb, cell.sigma_pb, cell.sigma_err_pb)) < NSIG


@pytest.mark.slow
@pytest.mark.parametrize(
    "tgt,E,ma,beam,final,theta,conv,n_mc",
    [
        (LEAD, 1000.0, 5.0, "e", "tau", math.pi / 4, "eq3", 1_000_000),   # e -> tau
        (TUNGSTEN, 160.0, 3.0, "e", "mu", 0.3, "eq2", 1_000_000),        # e -> mu
        (LEAD, 160.0, 4.0, "mu", "e", math.pi / 4, "eq3", 2_000_000),     # mu -> e
    ],
)
def test_mc_2to2_decay_vs_compute_cell_other_lepton_pairs(tgt, E, ma, beam, final, theta, conv, n_mc):
    """The production integrand of other processes against the independent §7.9 Monte Carlo with the
    same masses (compute_cell takes the process, the MC the masses m_beam / m_final).  For mu -> e the MC's
    m_X^2 sampling suits the light electron badly (2 % at 2e6 points), so that check is looser."""
    kw = {"theta": theta, "convention": conv}
    process = Process(beam, final, "scalar")
    pair = PDG_2024.lepton_pair(process)
    m_beam, m_final = pair.beam.mass, pair.final.mass
    cell = compute_cell(tgt, E, ma, rel_err=0.003, seed=3, n_xbins=4, process=process, **kw)
    mc = cc.mc_sigma_2to2_decay(tgt, E, ma, n_points=n_mc, seed=4, m_beam=m_beam, m_final=m_final, **kw)
    assert mc.err_pb / mc.sigma_pb < 0.03
    assert abs(_pull(mc.sigma_pb, mc.err_pb, cell.sigma_pb, cell.sigma_err_pb)) < NSIG


@pytest.mark.parametrize("key", [("Pb", 160.0, 4.0), ("W", 1000.0, 10.0)])
def test_mc_x_f_distribution_vs_compute_cell(mc_and_cell, key):
    """dsigma/dln x_f on a 12-bin grid: chi^2 of MC vs compute_cell below the 99.9 % quantile
    of chi^2(12) (= 32.9)."""
    mc, cell = mc_and_cell[key]
    d = mc.dsigma_dlnx_f_pb - cell.dsigma_dlnx_f_pb
    s = np.hypot(mc.dsigma_dlnx_f_err_pb, cell.dsigma_dlnx_f_err_pb)
    m = s > 0
    assert m.sum() >= 10
    assert np.sum((d[m] / s[m]) ** 2) < 32.9


def test_mc_theta_dependence_vs_compute_cell():
    """sigma(theta=0)/sigma(theta=pi/2) at 1 TeV, m_a = 2 GeV: docs/physics.md §7.6 quotes a 2.2 % change;
    §13.8 requires the ratio in [0.97, 1].  The MC ratio uses the same events (correlated), its
    error from the per-event weights."""
    ev = cc.mc_events(LEAD, 1000.0, 2.0, 300_000, seed=9)
    base = np.where(ev["jac"] > 0, ev["jac"] / ev["t"] ** 2, 0.0) * cc.f2_total(ev["t"], LEAD)
    w0 = base * cc._amp_from_events(ev, 2.0, *cc._gS_gP(0.0, "eq3"))
    w1 = base * cc._amp_from_events(ev, 2.0, *cc._gS_gP(math.pi / 2, "eq3"))
    r_mc = w0.mean() / w1.mean()
    # delta method for the ratio of two correlated means
    d = (w0 - r_mc * w1) / w1.mean()
    r_err = d.std() / math.sqrt(len(d))
    c0 = compute_cell(LEAD, 1000.0, 2.0, theta=0.0, rel_err=0.002, seed=4, n_xbins=4)
    c1 = compute_cell(LEAD, 1000.0, 2.0, theta=math.pi / 2, rel_err=0.002, seed=5, n_xbins=4)
    r_c = c0.sigma_pb / c1.sigma_pb
    r_c_err = r_c * math.hypot(c0.sigma_err_pb / c0.sigma_pb, c1.sigma_err_pb / c1.sigma_pb)
    assert 0.97 <= r_mc <= 1.0
    assert r_mc == pytest.approx(1 - 0.022, abs=0.002)
    assert abs(_pull(r_mc, r_err, r_c, r_c_err)) < NSIG


@pytest.mark.slow
@pytest.mark.parametrize("ma,ww_over_exact", [(5.0, 1.0004), (20.0, 0.993)])
def test_ww_vs_compute_cell_1TeV(ma, ww_over_exact):
    """WW within 2 % of the exact result at 1 TeV on Pb (docs/physics.md §7.10: +0.04 % at 5 GeV,
    -0.7 % at 20 GeV); also consistent with those quoted values within 3 sigma of compute_cell."""
    cell = compute_cell(LEAD, 1000.0, ma, rel_err=0.001, seed=0, n_xbins=4)
    ww = cc.sigma_ww_pb(LEAD, 1000.0, ma)
    assert ww == pytest.approx(cell.sigma_pb, rel=0.02)
    assert abs(ww / cell.sigma_pb - ww_over_exact) < NSIG * cell.sigma_err_pb / cell.sigma_pb + 5e-4


def test_iww_overestimates_exact():
    """IWW > exact at 1 TeV (docs/physics.md: factor 4-6); the factor is printed for the report."""
    cell = compute_cell(LEAD, 1000.0, 5.0, rel_err=0.003, seed=0, n_xbins=4)
    iww = cc.sigma_iww_pb(LEAD, 1000.0, 5.0)
    iww_k = cc.sigma_iww_pb(LEAD, 1000.0, 5.0, domain="kinematic")
    print(f"IWW/exact (Pb, 1 TeV, m_a=5): {iww / cell.sigma_pb:.2f} (WW domain), {iww_k / cell.sigma_pb:.2f} (kinematic domain)")
    assert iww > 1.5 * cell.sigma_pb
    assert iww_k >= iww
    with pytest.raises(ValueError):
        cc.sigma_iww_pb(LEAD, 1000.0, 5.0, domain="nope")
