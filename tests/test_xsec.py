"""Physics sanity, determinism, error honesty and CLI of the vegas cross section (docs/physics.md §7)."""

from lfvscan.physics.process import DEFAULT_PROCESS, Process
import json
import math

import numpy as np
import pytest

from lfvscan import cli
from lfvscan.schema import RESULT_FIELDS
from lfvscan.physics.constants import M_E, M_MU, M_TAU
from lfvscan.physics.reach import max_mass_exact_GeV
from lfvscan.xsec import cell_physics, compute_cell, d3sigma, dsigma_dw_dcos, integrand_points, is_open
from _leptons import PAIR, pair_of
from lfvscan.physics.leptons import Lepton
from lfvscan.physics.presets import PDG_2024, THESIS_2024
from lfvscan.physics.presets import PDG_2024

PAIR = PDG_2024.lepton_pair(DEFAULT_PROCESS)  # beam muon, final tau (PDG masses)


# ------------------------------------------------------------------------------ closed cells

@pytest.mark.parametrize("target, E, m_a", [("Pb", 160.0, 20.0),  # m_a > m_max(160 GeV) ~ 16 GeV
                                             ("W", 60.0, 10.0),    # E below E_thr ~ 69 GeV (§7.1)
                                             ("Pb", 5.0, 10.0)])   # below the production threshold
def test_closed_cells_are_exactly_zero_and_never_integrated(target, E, m_a, monkeypatch):
    """A closed cell returns zeros without building vegas or evaluating the integrand once."""
    import lfvscan.xsec.driver as drv

    calls = {"integrand": 0, "vegas": 0}

    def spy_integrand(*args, **kwargs):
        calls["integrand"] += 1
        return integrand_points(*args, **kwargs)

    def spy_vegas(*args, **kwargs):
        calls["vegas"] += 1
        return real_integrator(*args, **kwargs)

    real_integrator = drv.vegas.Integrator
    monkeypatch.setattr(drv, "integrand_points", spy_integrand)
    monkeypatch.setattr(drv.vegas, "Integrator", spy_vegas)
    r = compute_cell(target, E, m_a, n_xbins=7)
    assert r.closed and not is_open(target, E, m_a, pair=PAIR)
    assert r.sigma_pb == r.sigma_coherent_pb == r.sigma_incoherent_pb == r.sigma_err_pb == 0.0
    assert r.neval == 0 and calls == {"integrand": 0, "vegas": 0}
    assert len(r.x_f_edges) == 8
    assert np.all(r.dsigma_dlnx_f_pb == 0) and np.all(r.dsigma_dlnx_f_err_pb == 0)


# ------------------------------------------------------------------------ result structure

def test_result_fields_and_distribution_sums_to_total():
    r = compute_cell("Pb", 1000.0, 5.0, n_xbins=40)
    d = r.to_dict()
    for k in [f.name for f in RESULT_FIELDS] + ["x_f_edges"]:
        assert k in d
    assert not r.closed and r.sigma_pb > 0
    assert r.sigma_err_pb <= 0.005 * r.sigma_pb
    assert r.sigma_pb == pytest.approx(r.sigma_coherent_pb + r.sigma_incoherent_pb, rel=1e-12)
    assert r.x_f_edges[0] == pytest.approx(M_TAU / 1000.0) and r.x_f_edges[-1] == pytest.approx(1.0)
    dlnx = np.diff(np.log(r.x_f_edges))
    # every sample lands in exactly one bin: the distribution integrates back to sigma
    assert np.sum(r.dsigma_dlnx_f_pb * dlnx) == pytest.approx(r.sigma_pb, rel=1e-12)
    nz = r.dsigma_dlnx_f_pb > 0
    assert nz.sum() > 20 and np.all(r.dsigma_dlnx_f_err_pb[nz] > 0)
    # bins are anti-correlated within a vegas stratum, so their errors in quadrature exceed the total's
    binned_err = math.sqrt(np.sum((r.dsigma_dlnx_f_err_pb * dlnx) ** 2))
    assert binned_err >= r.sigma_err_pb
    assert r.neval > 0 and r.seconds > 0 and np.isfinite(r.chi2_dof) and 0 <= r.Q <= 1


def test_same_seed_bit_identical_different_seed_consistent():
    a = compute_cell("W", 1000.0, 10.0, seed=5).to_dict()
    b = compute_cell("W", 1000.0, 10.0, seed=5).to_dict()
    a.pop("seconds"), b.pop("seconds")
    assert a == b
    c = compute_cell("W", 1000.0, 10.0, seed=6)
    assert c.sigma_pb != a["sigma_pb"]
    assert abs(c.sigma_pb - a["sigma_pb"]) < 4 * math.hypot(c.sigma_err_pb, a["sigma_err_pb"])


@pytest.mark.slow
def test_errors_are_honest_across_seeds():
    """The scatter of independent runs matches the quoted errors (and chi2/dof is sane)."""
    rs = [compute_cell("Pb", 1000.0, 10.0, seed=s) for s in range(12)]
    vals = np.array([r.sigma_pb for r in rs])
    errs = np.array([r.sigma_err_pb for r in rs])
    ratio = vals.std(ddof=1) / errs.mean()
    assert 0.5 < ratio < 1.6, ratio  # 12 samples: the sample std is known to ~20 %
    assert np.mean([r.chi2_dof for r in rs]) < 2.5
    # per-bin errors of the x_f distribution: scatter / quoted error ~ 1 in the populated bins
    d = np.array([r.dsigma_dlnx_f_pb for r in rs])
    de = np.array([r.dsigma_dlnx_f_err_pb for r in rs])
    big = d.mean(axis=0) > 0.01 * d.mean(axis=0).max()
    assert big.sum() > 10
    bin_ratio = d[:, big].std(axis=0, ddof=1) / de[:, big].mean(axis=0)
    assert 0.7 < np.median(bin_ratio) < 1.4, bin_ratio


@pytest.mark.parametrize("target, E, m_a", [("Pb", 1000.0, 5.0), ("W", 3000.0, 30.0), ("Pb", 160.0, 2.0)])
@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_frozen_iteration_is_vegas_own_stratified_estimate(target, E, m_a, engine):
    """_frozen_iteration == vegas' Integrator.__call__ (adapt=False) on an array-valued integrand,
    with the sums of either engine (lfvscan.xsec.engine).

    Two integrators adapted identically (same seed) draw the same points; one integrates the
    (3 + nbins)-component integrand through vegas, the other goes through _frozen_iteration.
    """
    from lfvscan.xsec.engine import using

    with using(engine):
        _check_frozen_iteration(target, E, m_a)


@pytest.mark.parametrize("target, E, m_a", [("Pb", 1000.0, 5.0), ("W", 300.0, 20.0)])
def test_adaptation_iteration_trains_the_map_as_vegas_does(target, E, m_a):
    """An adaptation iteration of the driver (_frozen_iteration with ``train``) moves vegas' map exactly
    as vegas' own adaptive Integrator.__call__ does on the same points (same seed, beta = 0), both on
    sigma_total (u = 1) and on a tail-weighted integrand, and its estimate of sigma is vegas' one."""
    import vegas

    from lfvscan.xsec.driver import _bin_index, _combine, _frozen_iteration, integrand_parts

    nb = 30
    cp = cell_physics(target, E, m_a, physics=PDG_2024, pair=PAIR, boson="scalar")
    lnx0 = math.log(M_TAU / E)
    dlnx = -lnx0 / nb
    a, b = 0.3, 0.7
    u = np.linspace(1.0, 50.0, nb)  # any per-bin weights

    def fresh():
        return vegas.Integrator(cp.bounds, ran_array_generator=np.random.default_rng(5).random, alpha=0.5,
                                beta=0.0, maxinc_axis=300)

    for weights in (np.ones(nb), u):
        @vegas.lbatchintegrand
        def f_train(y):
            coh, inc, e_f = integrand_parts(y, cp)
            tot = coh + inc
            return np.stack([(a * tot[0] + b * tot[1]) * weights[_bin_index(e_f, E, lnx0, dlnx, nb)],
                             a * tot[0] + b * tot[1]], axis=1)

        ref, mine = fresh(), fresh()
        r = ref(f_train, nitn=1, neval=3000, adapt=True, correlate_integrals=False)
        mine.set(neval=3000)
        it = _frozen_iteration(mine, cp, lnx0, dlnx, nb, None, ((a, b), weights, 0.5))
        ninc = np.asarray(ref.map.ninc)
        assert (np.asarray(mine.map.ninc) == ninc).all()
        for d, n in enumerate(ninc):  # a row's grid holds ninc[d] + 1 edges (the rest is padding)
            np.testing.assert_allclose(np.asarray(mine.map.grid)[d, :n + 1], np.asarray(ref.map.grid)[d, :n + 1],
                                       rtol=1e-10, atol=0)
        assert not np.allclose(np.asarray(mine.map.grid)[0, :ninc[0] + 1], np.linspace(*cp.bounds[0], ninc[0] + 1))
        mean, var = _combine(it["cell_mean"][0], it["cell_var"][0], a, b)
        assert mean == pytest.approx(r[1].mean, rel=1e-12)
        assert var == pytest.approx(r[1].var, rel=1e-9)


def _check_frozen_iteration(target, E, m_a):
    """The comparison of test_frozen_iteration_is_vegas_own_stratified_estimate."""
    import vegas

    from lfvscan.xsec.driver import DEFAULT_VEGAS, _bin_index, _frozen_iteration, integrand_parts, integrand_points

    nb, s = 30, DEFAULT_VEGAS
    cp = cell_physics(target, E, m_a, physics=PDG_2024, pair=PAIR, boson="scalar")
    lnx0 = math.log(M_TAU / E)
    dlnx = -lnx0 / nb

    def adapted():
        integ = vegas.Integrator(cp.bounds, ran_array_generator=np.random.default_rng(3).random,
                                 maxinc_axis=s.maxinc_axis, alpha=s.alpha)
        integ(vegas.lbatchintegrand(lambda y: sum(integrand_points(y, cp)[:2])), nitn=4, neval=3000)
        return integ

    @vegas.lbatchintegrand
    def f_array(y):
        """Components: (total, coh, inc) x (S, P), the bins x (S, P), the upper tails x (S, P), and the
        S + P sums (whose variance gives the S-P covariances)."""
        coh, inc, e_f = integrand_parts(y, cp)
        tot = coh + inc
        npt = tot.shape[1]
        k = _bin_index(e_f, E, lnx0, dlnx, nb)
        cols = [tot[0], tot[1], coh[0], coh[1], inc[0], inc[1], tot[0] + tot[1], coh[0] + coh[1], inc[0] + inc[1]]
        out = np.zeros((npt, 9 + 6 * nb))
        out[:, :9] = np.array(cols).T
        for part, off in ((0, 9), (1, 9 + nb), (None, 9 + 2 * nb)):
            f = tot[0] + tot[1] if part is None else tot[part]
            out[np.arange(npt), off + k] = f / dlnx
            above = np.arange(nb)[None, :] <= k[:, None]  # sigma(x_f >= lower edge of bin i)
            out[:, off + 3 * nb: off + 4 * nb] = np.where(above, f[:, None], 0.0)
        return out

    a, b = adapted(), adapted()
    ref = a(f_array, nitn=1, neval=20000, adapt=False, correlate_integrals=False).itn_results[0]
    b.set(neval=20000, adapt=False)
    it = _frozen_iteration(b, cp, lnx0, dlnx, nb, None)
    assert b.last_neval == a.last_neval > 15000
    rm = np.array([x.mean for x in ref])
    rv = np.array([x.var for x in ref])

    def cov(i, j, ij):  # var(S + P) = var S + var P + 2 cov
        return 0.5 * (rv[ij] - rv[i] - rv[j])

    assert np.count_nonzero(rm[9:9 + nb]) > nb // 2
    np.testing.assert_allclose(it["cell_mean"].ravel(), rm[:6], rtol=1e-12, atol=0)
    for kind in range(3):
        i, j = 2 * kind, 2 * kind + 1
        np.testing.assert_allclose(it["cell_var"][kind, :2], rv[[i, j]], rtol=1e-12, atol=0)
        np.testing.assert_allclose(it["cell_var"][kind, 2], cov(i, j, 6 + kind), rtol=1e-8, atol=0)
    S, P, SP = (slice(9 + o * nb, 9 + (o + 1) * nb) for o in range(3))
    np.testing.assert_allclose(it["bin_mean"], np.array([rm[S], rm[P]]), rtol=1e-12, atol=0)
    np.testing.assert_allclose(it["bin_var"][:2], np.array([rv[S], rv[P]]), rtol=1e-12, atol=0)
    np.testing.assert_allclose(it["bin_var"][2], cov(S, P, SP), rtol=1e-8, atol=1e-12 * np.max(rv[SP]))
    TS, TP, TSP = (slice(9 + 3 * nb + o * nb, 9 + 4 * nb + o * nb) for o in range(3))
    # the tails use raw moments (n Q - S^2)/(n - 1) instead of the d-form: round-off ~1e-10
    tail_ref = np.array([rv[TS], rv[TP], cov(TS, TP, TSP)])
    np.testing.assert_allclose(it["tail_var"], tail_ref, rtol=1e-7, atol=1e-12 * np.max(rv[TSP]))


# ---------------------------------------------------------------------------- physics sanity

def test_sigma_rises_with_energy():
    s = [compute_cell("Pb", E, 5.0) for E in (160.0, 1000.0, 3000.0)]
    for lo, hi in zip(s, s[1:]):
        assert hi.sigma_pb - lo.sigma_pb > 3 * math.hypot(hi.sigma_err_pb, lo.sigma_err_pb)


def test_coherent_dominates_light_incoherent_heavy():
    """§7.1: coherent (Z^2) wins for light ALPs (small t_min), incoherent (Z) for heavy ones."""
    light = compute_cell("Pb", 1000.0, 2.0)
    heavy = compute_cell("Pb", 1000.0, 20.0)
    assert light.sigma_coherent_pb > 2 * light.sigma_incoherent_pb
    assert heavy.sigma_incoherent_pb > 20 * heavy.sigma_coherent_pb


@pytest.mark.slow
@pytest.mark.parametrize("m_a, expected", [(2.0, 0.022), (3.0, 0.014), (10.0, 0.002)])
def test_theta_dependence_is_small(m_a, expected):
    """sigma(theta_s=pi/2)/sigma(theta_s=0) in [0.97, 1] (§13.8) and 1 - ratio matches the §7.6
    numbers (2.2 %, 1.4 %, 0.2 % at 1 TeV).  theta_s = pi/2 - theta in the Eq. (3) convention."""
    ps = compute_cell("Pb", 1000.0, m_a, theta=0.0, rel_err=0.002, seed=1)          # theta_s = pi/2
    sc = compute_cell("Pb", 1000.0, m_a, theta=math.pi / 2, rel_err=0.002, seed=2)  # theta_s = 0
    ratio = ps.sigma_pb / sc.sigma_pb
    err = ratio * math.hypot(ps.sigma_err_pb / ps.sigma_pb, sc.sigma_err_pb / sc.sigma_pb)
    assert 0.97 - 3 * err <= ratio <= 1.0 + 3 * err
    assert abs((1 - ratio) - expected) < 3 * err + 0.002


def test_exact_quadratic_scaling_and_convention_linearity():
    """d sigma is linear in (g_S^2, g_P^2): sigma(g, theta, conv) = g^2 [(g_S/g)^2 s_S + (g_P/g)^2 s_P]
    exactly, pointwise in phase space, for both conventions (§2.4, §7.6)."""
    rng = np.random.default_rng(0)
    w = np.exp(rng.uniform(np.log(0.05), np.log(900.0), 300))
    th = np.exp(rng.uniform(np.log(1e-5), np.log(0.05), 300))
    scalar = dsigma_dw_dcos(w, th, cell_physics("Pb", 1000.0, 7.0, theta=math.pi / 2, physics=PDG_2024, pair=PAIR, boson="scalar"), n_t=16)
    pseudo = dsigma_dw_dcos(w, th, cell_physics("Pb", 1000.0, 7.0, theta=0.0, physics=PDG_2024, pair=PAIR, boson="scalar"), n_t=16)
    assert np.count_nonzero(scalar) > 100
    r = M_MU / M_TAU
    for theta in (0.3, math.pi / 4, 1.3):
        for conv, cs, cp_ in (("eq3", 1.0, 1.0), ("eq2", (1 - r) ** 2, (1 + r) ** 2)):
            got = dsigma_dw_dcos(w, th, cell_physics("Pb", 1000.0, 7.0, theta=theta, convention=conv, physics=PDG_2024, pair=PAIR, boson="scalar"), n_t=16)
            exp = cs * math.sin(theta) ** 2 * scalar + cp_ * math.cos(theta) ** 2 * pseudo
            np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-300)
    # g^2: scaling both Yukawas by g scales (g_eff^2, Delta_m) and the density by g^2 exactly
    from dataclasses import replace

    cp = cell_physics("W", 3000.0, 30.0, physics=PDG_2024, pair=PAIR, boson="scalar")
    g = 3.1e-3
    cpg = replace(cp, g_eff2=cp.g_eff2 * g * g, dm=cp.dm * g * g)
    t = np.full_like(w, 0.3)
    a = d3sigma(w, th, t, cp)
    b = d3sigma(w, th, t, cpg)
    np.testing.assert_allclose(b[0], g * g * a[0], rtol=1e-14)
    np.testing.assert_allclose(b[1], g * g * a[1], rtol=1e-14)


# ------------------------------------------------------------- the lepton pair

def test_the_preset_pair_is_the_default_bit_for_bit():
    a = compute_cell("W", 1000.0, 10.0, seed=5, rel_err=0.01, n_xbins=9).to_dict()
    b = compute_cell("W", 1000.0, 10.0, seed=5, rel_err=0.01, n_xbins=9, physics=PDG_2024,
                     process=DEFAULT_PROCESS).to_dict()
    a.pop("seconds"), b.pop("seconds")
    assert a == b


@pytest.mark.parametrize("beam, final, m_beam, m_final", [("e", "tau", M_E, M_TAU), ("mu", "e", M_MU, M_E),
                                                          ("e", "mu", M_E, M_MU)])
def test_cell_physics_and_compute_cell_use_the_lepton_masses(beam, final, m_beam, m_final):
    """CellPhysics carries (m_beam, m_final) of the process; Delta_m is the §7.4 bracket of that pair (hand
    formula at theta = pi/4 in Eq. (3): g_S^2 = g_P^2 = 1/2, Delta_m = m_a^2 - m_beam^2 - m_final^2); the
    w range ends at E - m_a - m_final; the x grid starts at m_final / E; the reach is the pair's."""
    process = Process(beam, final, "scalar")
    pair = PDG_2024.lepton_pair(process)
    assert (pair.beam.mass, pair.final.mass) == (m_beam, m_final)
    cp = cell_physics("Pb", 1000.0, 5.0, physics=PDG_2024, pair=pair, boson="scalar")
    assert (cp.m_beam, cp.m_final) == (m_beam, m_final)
    assert cp.dm == pytest.approx(25.0 - m_beam**2 - m_final**2, rel=1e-14)
    assert cp.g_eff2 == pytest.approx(1.0, rel=1e-15)
    assert cp.w_bounds[1] == 1000.0 - 5.0 - m_final
    r = compute_cell("Pb", 1000.0, 5.0, rel_err=0.02, n_xbins=6, process=process)
    assert not r.closed and r.sigma_pb > 0 and np.isfinite(r.sigma_err_pb)
    assert r.x_f_edges[0] == pytest.approx(m_final / 1000.0, rel=1e-15)
    dlnx = np.diff(np.log(r.x_f_edges))
    assert np.sum(r.dsigma_dlnx_f_pb * dlnx) == pytest.approx(r.sigma_pb, rel=1e-12)
    m_max = max_mass_exact_GeV(160.0, "Pb", pair=pair)
    closed = compute_cell("Pb", 160.0, m_max * 1.001, n_xbins=3, process=process)
    assert closed.closed and closed.neval == 0 and closed.sigma_pb == 0.0
    assert is_open("Pb", 160.0, m_max * 0.999, pair=pair)


def test_compute_cell_takes_the_presets_masses():
    """Without ``pair`` the preset's masses are used: under thesis-2024 the x grid starts at
    1.77 / E and the cell physics is built for m_mu = 0.106, m_tau = 1.77."""
    r = compute_cell("Pb", 1000.0, 5.0, rel_err=0.05, n_xbins=4, physics="thesis-2024")
    assert r.x_f_edges[0] == 1.77 / 1000.0
    cp = cell_physics("Pb", 1000.0, 5.0, physics=THESIS_2024, pair=THESIS_2024.lepton_pair(DEFAULT_PROCESS), boson="scalar")
    assert (cp.m_beam, cp.m_final) == (0.106, 1.77)


def test_eq2_ratio_is_lighter_over_heavier():
    """Eq. (2) Yukawas (§2.4): r = m_light / m_heavy of the pair, whichever lepton comes in."""
    for m_beam, m_final in ((M_E, M_TAU), (M_TAU, M_E)):
        cp = cell_physics("Pb", 1000.0, 5.0, physics=PDG_2024, pair=pair_of(m_beam, m_final), boson="scalar", theta=0.0,
                          convention="eq2")
        assert cp.g_eff2 == pytest.approx((1 + M_E / M_TAU) ** 2, rel=1e-14)  # g_P = 1 + r at theta = 0


@pytest.mark.parametrize("mass", [0.0, float("nan"), -1.0, float("inf")])
def test_a_lepton_rejects_bad_masses(mass):
    with pytest.raises(ValueError, match=f"mass of lepton 'x'.*{mass}"):
        Lepton("x", mass)


# --------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("kw, word", [
    ({"energy_GeV": -1.0}, "-1.0"), ({"energy_GeV": float("nan")}, "nan"), ({"mass_GeV": 0.0}, "0.0"),
    ({"mass_GeV": float("inf")}, "inf"), ({"rel_err": 0.5}, "0.5"), ({"rel_err": 0.0}, "0.0"),
    ({"target": "Xe"}, "Xe"), ({"convention": "eq9"}, "eq9"), ({"theta": float("nan")}, "nan"),
])
def test_compute_cell_rejects_bad_input(kw, word):
    args = {"target": "Pb", "energy_GeV": 1000.0, "mass_GeV": 5.0, **kw}
    with pytest.raises(ValueError, match=word):
        compute_cell(args.pop("target"), args.pop("energy_GeV"), args.pop("mass_GeV"), **args)


# ------------------------------------------------------------------------------------- CLI

def test_cli_json(capsys):
    assert cli.main(["xsec", "--target", "W", "--energy", "1000", "--mass", "10", "--json", "--seed", "4"]) == 0
    d = json.loads(capsys.readouterr().out)
    for k in ("sigma_pb", "sigma_err_pb", "sigma_coherent_pb", "sigma_incoherent_pb", "chi2_dof", "neval",
              "seconds", "closed", "x_f_edges", "dsigma_dlnx_f_pb"):
        assert k in d
    assert d["closed"] is False and d["sigma_pb"] > 0 and len(d["x_f_edges"]) == 61
    from lfvscan.xsec.engine import engine_for_cells, using

    with using(engine_for_cells(1)):  # the CLI's engine for its one cell (lfvscan.xsec.engine)
        ref = compute_cell("W", 1000.0, 10.0, seed=4)
    assert d["sigma_pb"] == ref.sigma_pb  # same seed, same engine: same number
    assert cli.main(["xsec", "--target", "Pb", "--energy", "160", "--mass", "20", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["closed"] is True and d["sigma_pb"] == 0.0


def test_cli_text(capsys):
    assert cli.main(["xsec", "--target", "Pb", "--energy", "1000", "--mass", "5", "--rel-err", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "sigma_total" in out and "pb" in out


@pytest.mark.parametrize("argv, word", [
    (["--target", "Xe", "--energy", "100", "--mass", "1"], "'Xe'"),
    (["--target", "Pb", "--energy", "-5", "--mass", "1"], "-5"),
    (["--target", "Pb", "--energy", "inf", "--mass", "1"], "inf"),
    (["--target", "Pb", "--energy", "100", "--mass", "0"], "0"),
    (["--target", "Pb", "--energy", "100", "--mass", "nan"], "nan"),
    (["--target", "Pb", "--energy", "100", "--mass", "1", "--rel-err", "0.7"], "0.7"),
    (["--target", "Pb", "--energy", "100", "--mass", "1", "--rel-err", "-0.1"], "-0.1"),
])
def test_cli_bad_input_exit_2(capsys, argv, word):
    assert cli.main(["xsec", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and word in err


def test_cell_errors_carry_the_pdg_scale_factor_of_the_final_iterations():
    """sigma_err = vegas error x sqrt(max(1, chi2/dof)) (docs/physics.md §7.12); the parts' errors too.
    Pb 1 TeV, m_a = 3.9685 GeV, seed 1: a cell whose final iterations scatter (chi2/dof > 1)."""
    from lfvscan.physics.couplings import yukawas

    r = compute_cell("Pb", 1000.0, 3.9685, rel_err=0.01, seed=1, n_xbins=20)
    s = r.meta["error_scale_factor"]
    assert s == pytest.approx(math.sqrt(max(1.0, r.chi2_dof)), rel=1e-12)
    assert r.sigma_err_pb == pytest.approx(s * r.meta["sigma_err_vegas_pb"], rel=1e-12)
    # the scaled parts still recombine to the scaled total (theta = pi/4, eq3: g_S^2 = g_P^2)
    g_S, g_P = yukawas(1.0, r.theta, r.convention, pair=PAIR)
    var = (g_S**4 * r.sigma_scalar_err_pb**2 + g_P**4 * r.sigma_pseudoscalar_err_pb**2
           + 2 * g_S**2 * g_P**2 * r.sigma_sp_cov_pb2)
    assert math.sqrt(var) == pytest.approx(r.sigma_err_pb, rel=1e-9)
