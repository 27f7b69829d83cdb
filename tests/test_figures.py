"""``lfvscan figures`` on a small real scan (exact 2->3 cross sections via the scan engine):
every file is written and every plot has the curves it names (matplotlib artists/labels)."""

from __future__ import annotations

from lfvscan.physics.process import DEFAULT_PROCESS
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lfvscan.cli import main  # noqa: E402
from lfvscan.pheno.experiments import load_experiments, select  # noqa: E402

#: the experiments of arXiv:2407.15942 (the figures of the paper)
PAPER_EXPERIMENTS = ("na64mu", "fasernu2", "hemu")
from lfvscan.physics.taudecay import tau2_lambda_distribution  # noqa: E402
from lfvscan.plots.dm_plane import fig1_dm_plane  # noqa: E402
from lfvscan.plots.limit_figures import fig6_invisible, fig7_visible  # noqa: E402
from lfvscan.plots.xsec_figures import fig3_coherent_diffractive, fig3_vs_mass, fig5_tau1, fig5_tau2  # noqa: E402
from lfvscan.pheno.limits import compute_limits, read_limits_csv  # noqa: E402
from lfvscan.pheno.overlays import g2_bands  # noqa: E402
from lfvscan.store import load_scan  # noqa: E402
from lfvscan.pheno.yields import compute_yields  # noqa: E402
from lfvscan.physics.presets import PDG_2024

PAIR = PDG_2024.lepton_pair(DEFAULT_PROCESS)  # beam muon, final tau (PDG masses)

TINY = """\
seed = 11
rel_err = 0.05
n_xbins = 24
masses_GeV = [3.0, 8.0, 20.0]

[[targets]]
name = "Pb"
energies_GeV = [160, 1000]

[[targets]]
name = "W"
energies_GeV = [300, 1000, 3000]
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("scan")
    cfg = d / "tiny.toml"
    cfg.write_text(TINY)
    assert main(["scan", str(cfg), "--store", str(d / "tiny.zarr"), "--quiet"]) == 0
    return d / "tiny.zarr"


@pytest.fixture(scope="module")
def scan(store):
    return load_scan(store)


@pytest.fixture(scope="module")
def limits(scan):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compute_limits(compute_yields(scan, select(load_experiments(), PAPER_EXPERIMENTS)))


def labels(ax):
    return ax.get_legend_handles_labels()[1]


def curve_lines(ax):
    """The limit curves of an axes (the markers of flagged points, lines without a line style, excluded:
    the tiny scan's 3 W energies and 24 x_f bins flag some points flux_interp / x_interp)."""
    return [ln for ln in ax.get_lines() if ln.get_linestyle() not in ("None", "none", "")]


@pytest.mark.slow
def test_cli_writes_every_figure(store, tmp_path, capsys):
    out = tmp_path / "figs"
    assert main(["figures", str(store), "--out", str(out)]) == 0
    for name in ("fig1_dm_plane", "fig3_coherent_diffractive", "fig5_left_tau1", "fig5_right_tau2",
                 "fig6_left_invisible", "fig6_right_invisible_g2_dm", "fig7_visible"):
        for fmt in ("pdf", "png"):
            f = out / f"{name}.{fmt}"
            assert f.exists() and f.stat().st_size > 5000, f
    assert main(["limits", str(store), "--out", str(out)]) == 0
    back = read_limits_csv(out / "limits.csv")
    g = back["hemu/inv-ultimate"]["g_lim"]
    assert np.all(np.isfinite(g)) and np.all(np.diff(g) > 0)  # weaker limits for heavier ALPs
    # ordering that must hold for any scan: cuts only remove events
    assert np.all(back["hemu/inv-2cm"]["g_lim"] >= back["hemu/inv-2mm"]["g_lim"])
    assert np.all(back["hemu/vis-2mm"]["g_lim"] >= back["hemu/vis-ultimate"]["g_lim"])
    assert np.all(back["na64mu/current"]["g_lim"] >= back["na64mu/projected"]["g_lim"])


def test_fig6_and_fig7_curves(limits):
    fig, ax = fig6_invisible(limits, pair=PAIR)
    lab = labels(ax)
    assert "NA64-μ, τ→μνν (10¹³ MOT)" in lab
    assert "FASERν2, τ→μνν, λτ > 2 mm (3 ab⁻¹)" in lab and "FASERν2, ultimate (3 ab⁻¹)" in lab
    assert "1 TeV μ, 3-prong, λτ > 2 cm (10¹⁶ MOT)" in lab and "1 TeV μ, ultimate (10¹⁶ MOT)" in lab
    assert not any("current" in s for s in lab)  # not drawn in the paper
    assert len(curve_lines(ax)) == 6
    assert ax.get_xlabel() == "$m_a$ [GeV]" and "g_{\\tau\\mu}" in ax.get_ylabel()
    bands = g2_bands(np.geomspace(2, 40, 50), pair=PAIR)
    fig, ax = fig6_invisible(limits, bands, dm_lines=True, pair=PAIR)
    lab = labels(ax)
    for th in ("π/2", "3π/8", "π/3", "π/4"):
        assert f"g−2 (paper-2023, 2σ), θ = {th}" in lab
    assert "above a g−2 band (hatched in its colour): disfavoured for that θ" in lab
    assert any(s.startswith("relic target") for s in lab) and any(s.startswith("Planck CMB") for s in lab)
    fig, ax = fig7_visible(limits, bands)
    lab = labels(ax)
    assert [s for s in lab if s.startswith("1 TeV")] == [
        "1 TeV μ, μ⁺τ⁻τ⁻, 2×3-prong, λτ > 2 cm (10¹⁶ MOT)",
        "1 TeV μ, μ⁺τ⁻τ⁻, 2×3-prong, λτ > 2 mm (10¹⁶ MOT)",
        "1 TeV μ, charge flip, ultimate (10¹⁶ MOT)",
    ]
    # the plotted y data are the limits
    vis = [lim for lim in limits if lim.key == "hemu/vis-ultimate"][0]
    line = [ln for ln in ax.get_lines() if ln.get_label().startswith("1 TeV μ, charge flip")][0]
    np.testing.assert_allclose(line.get_ydata(), vis.g_lim)


def test_fig3_fig5_fig1(scan):
    fig, ax = fig3_coherent_diffractive(scan)  # default: W (most energies), masses nearest 2 and 10 GeV
    assert labels(ax) == ["coherent, $m_a$ = 3 GeV", "diffractive, $m_a$ = 3 GeV",
                          "coherent, $m_a$ = 8 GeV", "diffractive, $m_a$ = 8 GeV"]
    assert ax.get_xlabel() == r"$E_\mu$ [GeV]" and "W" in ax.get_title()
    t = scan.target_index("W")
    line = ax.get_lines()[3]  # diffractive, 8 GeV, at 300, 1000, 3000 GeV
    np.testing.assert_allclose(line.get_xdata(), [300.0, 1000.0, 3000.0])
    np.testing.assert_allclose(line.get_ydata(), scan.sigma_incoherent_pb[t, [1, 2, 3], 1])
    fig, ax = fig3_vs_mass(scan, "Pb")
    assert labels(ax) == ["coherent, E = 160 GeV", "diffractive, E = 160 GeV",
                          "coherent, E = 1000 GeV", "diffractive, E = 1000 GeV"]
    t, j = scan.target_index("Pb"), scan.energy_index(1000)
    line = ax.get_lines()[2]
    np.testing.assert_allclose(line.get_ydata(), scan.sigma_coherent_pb[t, j][~scan.closed[t, j]])
    fig, ax = fig5_tau1(scan, "W")
    lab = labels(ax)
    assert "E = 300 GeV, $m_a$ = 3 GeV" in lab and "E = 3000 GeV, $m_a$ = 8 GeV" in lab
    assert "λ < 2 mm (FASERν2 resolution)" in lab
    fig, ax = fig5_tau2(scan, "Pb", 1000.0)
    lab = labels(ax)
    assert "light ALP, $m_a$ = 3 GeV, E = 1000 GeV" in lab and "heavy ALP, $m_a$ = 20 GeV, E = 1000 GeV" in lab
    assert "λ < 2 cm (resolution)" in lab and "λ < 2 mm (resolution)" in lab
    fig, ax = fig1_dm_plane(pair=PAIR)
    lab = labels(ax)
    assert any(s.startswith("relic") for s in lab) and any(s.startswith("Planck CMB 2018") for s in lab)
    assert ax.get_xlabel() == r"$m_\chi$ [GeV]"


def test_tau2_distribution_normalised_and_bounded(scan):
    """All tau_2 have lambda < E c tau / m_tau (4.9 cm at 1 TeV), and the distribution integrates
    to 1 over ln lambda when the range covers every tau energy."""
    t, j = scan.target_index("Pb"), scan.energy_index(1000)
    k = int(np.argmin(np.abs(scan.masses_GeV - 8.0)))
    edges = np.geomspace(1e-5, 1e3, 400)
    d = tau2_lambda_distribution(scan.energies_GeV[j], scan.masses_GeV[k], scan.x_f_edges[j],
                                 scan.dsigma_dlnx_f_pb[t, j, k], edges, pair=PAIR)
    assert np.sum(d * np.diff(np.log(edges))) == pytest.approx(1.0, rel=1e-9)
    lam_max = 1000 * 87.03e-4 / 1.77686
    assert np.all(d[edges[:-1] > lam_max * 1.01] == 0)


@pytest.mark.parametrize(
    "argv,msg",
    [
        (["--experiments", "nope"], "unknown experiment 'nope'"),
        (["--g2-preset", "bogus"], "unknown g-2 preset 'bogus'"),
        (["--thetas", "half"], "--thetas: cannot read 'half'"),
        (["--id-curve", "missing.csv"], "ID limit file 'missing.csv' not found"),
        (["--formats", "png", "xyz"], "--formats: unknown format 'xyz'"),
    ],
)
def test_figures_bad_input_exit2_nothing_written(store, tmp_path, capsys, argv, msg):
    out = tmp_path / "figs"
    rc = main(["figures", str(store), "--out", str(out)] + argv)
    err = capsys.readouterr().err
    assert rc == 2 and msg in err and err.count("\n") == 1
    assert not out.exists()


def test_incomplete_real_store_warns_and_limits_nan(tmp_path, capsys):
    """A store with no computed cell: every needed cell is listed as missing, limits are NaN."""
    from lfvscan.spec.config import load_config
    from lfvscan.store import ScanStore

    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    ScanStore.create(tmp_path / "empty.zarr", load_config(cfg))
    rc = main(["limits", str(tmp_path / "empty.zarr"), "--out", str(tmp_path), "--experiments", "hemu"])
    err = capsys.readouterr().err
    assert rc == 0
    assert "hemu/inv-ultimate: 3 needed cell(s) not done: Pb E=1000 GeV m_a=3 GeV (pending)" in err
    back = read_limits_csv(tmp_path / "limits.csv")
    assert all(np.all(np.isnan(v["g_lim"])) for v in back.values())


# ------------------------------------------------------------------ MC error bands, two result sets
def band_extent(coll):
    """(x, y_low, y_high) of a fill_between PolyCollection, read from its outline."""
    v = np.concatenate([p.vertices for p in coll.get_paths()])
    xs = np.unique(v[:, 0])
    lo = np.array([v[v[:, 0] == x, 1].min() for x in xs])
    hi = np.array([v[v[:, 0] == x, 1].max() for x in xs])
    return xs, lo, hi


def test_each_limit_curve_has_its_mc_error_band(limits):
    from matplotlib.collections import PolyCollection

    fig, ax = fig6_invisible(limits, pair=PAIR)
    lines = curve_lines(ax)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == len(lines) == 6
    by_label = {lim.yields.label: lim for lim in limits}
    for line, band in zip(lines, bands):
        lim = next(v for k, v in by_label.items() if line.get_label().startswith(k))
        assert tuple(band.get_facecolor()[0][:3]) == matplotlib.colors.to_rgb(line.get_color())
        ok = np.isfinite(lim.g_lim) & np.isfinite(lim.g_lim_err)
        x, lo, hi = band_extent(band)
        np.testing.assert_allclose(x, lim.masses_GeV[ok])
        # the image of n_hat ± n_hat_err on g ∝ n_hat^(-1/2), r = n_hat_err / n_hat = 2 g_err / g
        g, r = lim.g_lim[ok], 2.0 * lim.g_lim_err[ok] / lim.g_lim[ok]
        np.testing.assert_allclose(lo, g / np.sqrt(1.0 + r), rtol=1e-12)
        np.testing.assert_allclose(hi, g / np.sqrt(1.0 - r), rtol=1e-12)
        np.testing.assert_allclose(hi - lo, 2.0 * lim.g_lim_err[ok], rtol=r.max())  # ± g_err to first order
    # the legend quotes the largest relative error of the points drawn (1e-4 <= g <= 1)
    rel = max(np.max((lim.g_lim_err / lim.g_lim)[(lim.g_lim >= 1e-4) & (lim.g_lim <= 1.0)], initial=0.0)
              for lim in limits if lim.yields.drawn and lim.yields.scenario == "invisible")
    assert f"MC error of the limit (±1σ band in the curve's colour; drawn points: ≤ {100 * rel:.2g} %)" in labels(ax)


@pytest.mark.slow
def test_two_result_sets_in_one_figure(store, limits, tmp_path, capsys):
    from lfvscan.pheno.limits import curves_from_csv
    from lfvscan.plots.compare import curves_from_limits, fig_compare

    out = tmp_path / "cmp"
    assert main(["limits", str(store), "--out", str(out), "--n-req", "2.3"]) == 0
    other = curves_from_csv(out / "limits.csv")
    fig, ax = fig_compare({"N=3": curves_from_limits(limits), "N=2.3": other}, "visible")
    lines = ax.get_lines()
    a = [ln for ln in lines if ln.get_label().startswith("N=3: ")]
    b = [ln for ln in lines if ln.get_label().startswith("N=2.3: ")]
    assert len(a) == 3 and {ln.get_linestyle() for ln in a} == {"-"} and {ln.get_linestyle() for ln in b} == {"--"}
    # set B holds every visible curve of the CSV (not only those drawn in the paper), colours matched by key
    assert len(b) == sum(c.scenario == "visible" for c in other)
    vis_a = {c.key: c for c in curves_from_limits(limits)}
    for ln in b:
        key = ln.get_label().split(": ", 1)[1]
        np.testing.assert_allclose(ln.get_ydata(), next(c.g_lim for c in other if c.key == key), rtol=1e-7)
        if key in vis_a:  # same curve: same colour, limits scale as sqrt(N_req)
            la = next(x for x in a if x.get_label() == f"N=3: {vis_a[key].label}")
            assert la.get_color() == ln.get_color()
            np.testing.assert_allclose(ln.get_ydata() / la.get_ydata(), np.sqrt(2.3 / 3), rtol=1e-6)
    assert len(ax.collections) == len(lines)  # one MC band per curve
    # the CLI: --compare with a limits CSV or with another store writes the two comparison figures
    figs = tmp_path / "figs"
    assert main(["figures", str(store), "--out", str(figs), "--formats", "png", "--compare",
                 str(out / "limits.csv"), "--labels", "A", "B"]) == 0
    assert "compare_invisible" in capsys.readouterr().out
    for name in ("compare_invisible", "compare_visible"):
        assert (figs / f"{name}.png").stat().st_size > 5000


@pytest.mark.parametrize("argv,msg", [
    (["--labels", "A", "B"], "--labels needs --compare OTHER"),
    (["--compare", "nowhere.zarr"], "--compare: 'nowhere.zarr' not found"),
])
def test_compare_bad_input(store, tmp_path, capsys, argv, msg):
    assert main(["figures", str(store), "--out", str(tmp_path / "f")] + argv) == 2
    err = capsys.readouterr().err
    assert msg in err and err.count("\n") == 1 and not (tmp_path / "f").exists()


def test_fig6_draws_the_flux_variant_dashed_with_a_band():
    """FASERnu2 limits with the stand-in flux (flux_variant_limits) are drawn dashed in the colour of
    the default-flux curve, with the region between them shaded and named in the legend."""
    from _toy_scan import toy_scan
    from lfvscan.pheno.store_limits import compute_limits_for_store, flux_variant_limits
    grid = 10.0 * 500.0 ** (np.arange(26) / 25)
    res = compute_limits_for_store(toy_scan(grid, [2.0, 5.0, 10.0], p=0.3, targets=("W",)), experiments=["fasernu2"])
    variants = flux_variant_limits(res)
    assert [v[1] for v in variants] == ["stand-in-2024"] * 2
    assert all(np.all(v.g_lim < lim.g_lim) for (v, _), lim in zip(variants, res.limits))  # harder, larger fluence
    fig, ax = fig6_invisible(res.limits, pair=PAIR, flux_variants=variants)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    for lim in res.limits:
        solid = next(ln for label, ln in lines.items() if label.startswith(lim.yields.label) and "flux" not in label)
        dashed = next(ln for label, ln in lines.items() if label.startswith(lim.yields.label) and "stand-in-2024" in label)
        assert dashed.get_linestyle() == "--" and dashed.get_color() == solid.get_color()
    labels = ax.get_legend_handles_labels()[1]
    assert "flux uncertainty: fluka-v2-slices (solid) to stand-in-2024 (dashed), in the curve's colour" in labels
    # with another flux given explicitly there is no variant
    assert flux_variant_limits(compute_limits_for_store(res.scan, experiments=["fasernu2"],
                                                        flux=lfvscan_stand_in())) == []


def lfvscan_stand_in():
    from lfvscan.pheno.flux import flux_model_path

    return flux_model_path("stand-in-2024")
