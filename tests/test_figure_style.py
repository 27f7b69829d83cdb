"""The figures say what they draw: one colour per meaning (colours as seen, i.e. composited over the
white page), legend summaries over the drawn points only, hatched g-2 regions visible in the legend,
distributions drawn up to their kinematic maximum and merged with their MC errors (Fig. 5).

References are independent: hand-typed kinematics (PDG masses), the toy scan's closed-form
histogram (tests/_toy_scan.py), synthetic limit curves with chosen errors."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from _toy_scan import CTAU, M_TAU, toy_scan  # noqa: E402
from lfvscan.pheno.limits import CurveLimit  # noqa: E402
from lfvscan.pheno.overlays import g2_bands  # noqa: E402
from lfvscan.pheno.yields import CurveYield  # noqa: E402
from lfvscan.physics.presets import PDG_2024  # noqa: E402
from lfvscan.physics.process import DEFAULT_PROCESS  # noqa: E402
from lfvscan.plots import style  # noqa: E402
from lfvscan.plots.distributions import FIG5_LN_BIN_WIDTH, clipped_merged  # noqa: E402
from lfvscan.plots.limit_figures import fig6_invisible, fig7_visible  # noqa: E402
from lfvscan.plots.xsec_figures import fig5_tau1, fig5_tau2  # noqa: E402

PAIR = PDG_2024.lepton_pair(DEFAULT_PROCESS)
M_MU = 0.1056583755
#: smallest distance (RGB, each in [0, 1]) between colours of two meanings as seen on the page
MIN_DISTANCE = 0.12


# ------------------------------------------------------------------------------- helpers
def seen(rgba) -> np.ndarray:
    """RGB of ``rgba`` composited over white."""
    r, g, b, a = to_rgba(rgba)
    return np.array([r, g, b]) * a + (1.0 - a)


def handle_colours(h) -> list[np.ndarray]:
    """Colours as seen of a legend handle (line, marker, filled or hatched region, swatch)."""
    from matplotlib.collections import PolyCollection
    from matplotlib.lines import Line2D

    if hasattr(h, "swatch_colors"):
        return [seen(to_rgba(c, h.swatch_alpha)) for c in h.swatch_colors]
    if isinstance(h, Line2D):
        if h.get_linestyle() in ("None", "none", "") and h.get_marker() not in (None, "None", ""):
            return [seen(h.get_markeredgecolor())]
        return [seen(h.get_color())]
    if isinstance(h, PolyCollection):
        fc = h.get_facecolor()[0]
        return [seen(fc if fc[3] > 0 else h.get_edgecolor()[0])]
    fc = h.get_facecolor()
    return [seen(fc if fc[3] > 0 else h.get_edgecolor())]


def distance(a: list, b: list) -> float:
    return min(float(np.linalg.norm(x - y)) for x in a for y in b)


def synthetic_limit(label, masses, g, err, scenario="invisible", quality=()):
    n = len(masses)
    y = CurveYield(experiment=label, curve="c", scenario=scenario, label=label, masses_GeV=np.asarray(masses, float),
                   n_hat=np.ones(n), n_hat_err=np.zeros(n), exposure=1e16, exposure_unit="MOT", factor=1.0,
                   column_density_per_pb=1.0, quality=tuple(quality))
    return CurveLimit(y, 3.0, np.asarray(g, float), np.asarray(err, float))


@pytest.fixture(scope="module")
def limits():
    m = np.geomspace(2.0, 40.0, 12)
    out = [synthetic_limit(f"curve {k}", m, 1e-3 * (k + 1) * (m / 2) ** 2, 1e-5 * (k + 1) * (m / 2) ** 2,
                           quality=("low_Q",) + ("ok",) * 11) for k in range(6)]
    return out + [synthetic_limit(f"visible {k}", m, 1e-3 * (k + 1) * (m / 2), 1e-5 * (k + 1) * (m / 2), "visible")
                  for k in range(6)]


@pytest.fixture(scope="module")
def bands():
    return g2_bands(np.geomspace(2.0, 40.0, 50), pair=PAIR)


# ------------------------------------------------------------------------------- one colour per meaning
def test_style_table_gives_every_meaning_its_own_colour():
    """The palettes (curves, g-2 bands, ID curves) and the single-meaning looks share no colour."""
    colours = [*style.CURVE_COLORS, *style.G2_BAND_COLORS, *style.ID_COLORS, *(v.color for v in style.LOOKS.values())]
    rgb = [to_rgba(c)[:3] for c in colours]
    assert len(set(rgb)) == len(rgb)


@pytest.mark.parametrize("which", ["fig6_right", "fig7"])
def test_limit_figures_use_one_colour_per_meaning(limits, bands, which):
    """As seen on the page, the g-2 band of each theta, the Planck exclusion, the relic line, the
    flagged points and every curve differ from each other; the MC-error and flux entries show the
    curves' own colours, the hatched g-2 entry the bands' own colours."""
    if which == "fig6_right":
        fig, ax = fig6_invisible(limits, bands, True, pair=PAIR)
    else:
        fig, ax = fig7_visible(limits, bands)
    handles, labels = ax.get_legend_handles_labels()
    entry = dict(zip(labels, handles))
    curves = [lab for lab in labels if lab.startswith(("curve", "visible"))]
    own = [lab for lab in labels if lab.startswith(("g−2 (", "Planck", "relic", "flagged"))]
    assert len(own) >= 4 + (3 if which == "fig6_right" else 0)
    singles = curves + own
    for i, a in enumerate(singles):
        for b in singles[i + 1:]:
            assert distance(handle_colours(entry[a]), handle_colours(entry[b])) > MIN_DISTANCE, (a, b)
    mc = next(lab for lab in labels if lab.startswith("MC error"))
    want = [to_rgba(entry[c].get_color())[:3] for c in curves]
    assert [to_rgba(c)[:3] for c in entry[mc].swatch_colors] == want
    hatched = next(lab for lab in labels if "disfavoured" in lab)
    band_rgb = [to_rgba(entry[lab].get_facecolor()[0])[:3] for lab in labels if lab.startswith("g−2 (")]
    assert [to_rgba(c)[:3] for c in entry[hatched].swatch_colors] == band_rgb


def test_g2_disfavoured_region_is_visible_in_the_legend(limits, bands):
    """The legend entry of the region above the g-2 bands stands out from the white page."""
    fig, ax = fig7_visible(limits, bands)
    handles, labels = ax.get_legend_handles_labels()
    h = next(h for h, lab in zip(handles, labels) if "disfavoured" in lab)
    white = [np.ones(3)]
    assert distance(handle_colours(h), white) > 0.15


# ------------------------------------------------------------------------------- legend summaries
def test_mc_error_summary_counts_only_drawn_points(bands):
    """A point above g = 1 (30 %) or below 1e-4 (50 %) is off the plot: the legend quotes the
    largest relative error of the drawn points (2 %)."""
    m = np.array([2.0, 5.0, 10.0, 20.0, 30.0])
    g = np.array([5e-5, 1e-2, 2e-2, 0.5, 50.0])
    err = g * np.array([0.5, 0.01, 0.02, 0.015, 0.3])
    fig, ax = fig7_visible([synthetic_limit("visible", m, g, err, "visible")], bands)
    mc = [lab for lab in ax.get_legend_handles_labels()[1] if lab.startswith("MC error")]
    assert mc == ["MC error of the limit (±1σ band in the curve's colour; drawn points: ≤ 2 %)"]


# ------------------------------------------------------------------------------- Fig. 5
@pytest.fixture(scope="module")
def toy():
    return toy_scan([154.0, 1000.0, 3000.0], [2.0, 10.0, 20.0], p=0.3, targets=("Pb", "W"), nb=60)


def stairs_of(ax):
    from matplotlib.patches import StepPatch

    return [p for p in ax.patches if isinstance(p, StepPatch)]


def lambda2_max(E, m):
    """Largest mean decay length [cm] of the tau from a -> tau mu: E_a = E - m_tau, tau along the ALP."""
    E_a = E - M_TAU
    e_star = (m**2 + M_TAU**2 - M_MU**2) / (2 * m)
    p_star = math.sqrt(e_star**2 - M_TAU**2)
    gamma = E_a / m
    e_plus = gamma * (e_star + math.sqrt(1 - 1 / gamma**2) * p_star)
    return math.sqrt(e_plus**2 - M_TAU**2) / M_TAU * CTAU


def test_fig5_right_ends_at_the_kinematic_maximum(toy):
    """Each tau_2 histogram ends at lambda_max of its mass (hand kinematics), the dotted line is
    there, and the clipped histogram still integrates to 1."""
    fig, ax = fig5_tau2(toy, "Pb", 1000.0, masses=(10.0, 20.0))
    steps = [s for s in stairs_of(ax) if "ALP" in s.get_label()]
    assert len(steps) == 2
    for s, m in zip(steps, (10.0, 20.0)):
        d, edges = s.get_data().values, s.get_data().edges
        assert edges[-1] == pytest.approx(lambda2_max(1000.0, m), rel=1e-9)
        assert np.sum(d * np.diff(np.log(edges))) == pytest.approx(1.0, rel=1e-6)
    kin = [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() == ":"]
    assert kin == pytest.approx([lambda2_max(1000.0, 10.0), lambda2_max(1000.0, 20.0)], rel=1e-9)


def test_fig5_left_ends_at_the_kinematic_maximum_with_merged_bins_and_error_bands(toy):
    """Each tau_1 histogram ends at x_tau = 1 - m_a/E, its bins are ~FIG5_LN_BIN_WIDTH wide in ln
    lambda (all but the last, cut at the maximum), it integrates to 1, its density equals the toy's
    closed form averaged over the drawn bin, and a ±1σ band in its colour surrounds it."""
    fig, ax = fig5_tau1(toy, "W", energies=(154.0, 3000.0), masses=(2.0, 10.0))
    steps = stairs_of(ax)
    lines = [s for s in steps if s.get_label().startswith("E = ")]
    fills = [s for s in steps if s.get_fill()]
    assert len(lines) == 4 and len(fills) == 4
    for s, (E, m) in zip(lines, [(154.0, 2.0), (154.0, 10.0), (3000.0, 2.0), (3000.0, 10.0)]):
        d, lam = s.get_data().values, s.get_data().edges
        x = lam / (E * CTAU / M_TAU)
        assert x[-1] == pytest.approx(1 - m / E, rel=1e-12)
        w = np.diff(np.log(x))
        assert np.all(np.abs(w[:-1] / FIG5_LN_BIN_WIDTH - 1) < 0.5)
        assert np.sum(d * w) == pytest.approx(1.0, rel=1e-12)
        # closed form: density of c x^0.3 on [m_tau/E, 1 - m/E], normalised
        exact = (x[1:] ** 0.3 - x[:-1] ** 0.3) / 0.3 / w
        np.testing.assert_allclose(d, exact / np.sum(exact * w), rtol=1e-9)
        band = next(f for f in fills if np.array_equal(f.get_data().edges, lam))
        assert to_rgba(band.get_facecolor())[:3] == to_rgba(s.get_edgecolor())[:3]
        assert np.all(band.get_data().values >= d) and np.all(band.get_data().baseline <= d)


def test_clipped_merged_adds_contents_and_errors():
    """Merging 3 bins: contents add over the drawn ln width; the bin holding the upper limit ends
    there and keeps all content above it; the error of the normalised density is the sum over the
    stored bins of (derivative x error)^2, written out bin by bin here."""
    edges = np.exp(np.arange(8) * 0.1)
    dens = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.5])
    err = np.array([0.1, 0.2, 0.2, 0.3, 0.1, 0.2, 0.1])
    upper = math.exp(0.55)
    h = clipped_merged(edges, dens, err, upper, 3)
    s, ds = 0.1 * dens, 0.1 * err  # cross section per stored bin and its error
    groups, widths = [[0, 1, 2], [3, 4, 5, 6]], [0.3, 0.25]
    np.testing.assert_allclose(h.edges, [1.0, math.exp(0.3), upper])
    want = [s[g].sum() / w / s.sum() for g, w in zip(groups, widths)]
    np.testing.assert_allclose(h.density, want)
    for g, w, d, got in zip(groups, widths, want, h.error):
        deriv = [((1.0 / w if i in g else 0.0) - d) / s.sum() for i in range(7)]
        assert got == pytest.approx(math.sqrt(sum((a * b) ** 2 for a, b in zip(deriv, ds))), rel=1e-12)


def test_tau2_band_matches_replicas_of_the_stored_bins(toy):
    """The tau_2 MC band (linear propagation of the per-bin errors) agrees with the scatter of
    400 Gaussian replicas of the stored x_tau histogram, each normalised on its own."""
    from lfvscan.physics.taudecay import tau2_lambda_distribution
    from lfvscan.plots.distributions import tau2_lambda_histogram

    t, j, k = toy.target_index("Pb"), toy.energy_index(1000.0), 1
    edges, h, e = toy.x_f_edges[j], toy.dsigma_dlnx_f_pb[t, j, k], toy.dsigma_dlnx_f_err_pb[t, j, k]
    lam = np.geomspace(0.05, lambda2_max(1000.0, toy.masses_GeV[k]), 25)
    band = tau2_lambda_histogram(1000.0, toy.masses_GeV[k], edges, h, e, lam, pair=PAIR)
    rng = np.random.default_rng(5)
    reps = [tau2_lambda_distribution(1000.0, toy.masses_GeV[k], edges, h + e * rng.standard_normal(h.size), lam,
                                     pair=PAIR) for _ in range(400)]
    np.testing.assert_allclose(band.density, tau2_lambda_distribution(1000.0, toy.masses_GeV[k], edges, h, lam,
                                                                      pair=PAIR))
    sd = np.std(reps, axis=0)
    big = band.density > 0.1 * band.density.max()
    np.testing.assert_allclose(band.error[big], sd[big], rtol=0.15)


def test_error_band_is_the_image_of_the_n_hat_interval():
    """The MC band of a limit is the interval n_hat ± n_hat_err mapped onto g ∝ n_hat^(-1/2): to first
    order g ∓ g_lim_err; for an error larger than the limit itself (n_hat_err >= n_hat, as at the
    kinematic edge) the lower edge stays positive and no upper edge is drawn, so the band cannot
    cover the whole log axis."""
    from lfvscan.plots.limit_figures import error_band_edges

    n_hat, n_err = np.array([100.0, 100.0, 2.0]), np.array([0.1, 60.0, 50.0])
    g = 0.01 * np.sqrt(100.0 / n_hat)
    err = g * n_err / (2 * n_hat)
    lo, hi = error_band_edges(g, err)
    np.testing.assert_allclose([lo[0], hi[0]], [g[0] - err[0], g[0] + err[0]], rtol=1e-6)
    np.testing.assert_allclose(lo[:2], 0.01 * np.sqrt(100.0 / (n_hat[:2] + n_err[:2])), rtol=1e-12)
    np.testing.assert_allclose(hi[1], 0.01 * np.sqrt(100.0 / (n_hat[1] - n_err[1])), rtol=1e-12)
    assert lo[2] > 0 and np.isnan(hi[2])


def test_exposure_label_has_three_significant_digits():
    """A collider's luminosity per nucleon (100 fb^-1 / 197 for Au) is labelled 0.508 fb⁻¹, not
    0.507614; 3000 fb^-1 reads 3 ab⁻¹; a muon count is a power of ten."""
    from types import SimpleNamespace

    from lfvscan.plots.style import exposure_label

    assert exposure_label(SimpleNamespace(exposure=100.0 / 197.0, exposure_unit="fb^-1")) == "0.508 fb⁻¹"
    assert exposure_label(SimpleNamespace(exposure=3000.0, exposure_unit="fb^-1")) == "3 ab⁻¹"


# ------------------------------------------------------------------------------- the thesis's experiments
def test_limit_figures_name_the_coupling_of_the_process():
    """e -> tau (EIC): the y axis names g_{tau e} / C_{tau e}/Lambda, not the tau mu coupling, and the note of
    the paper's tau mu dark-matter model (secluded g_chi) is not printed; tau mu keeps both."""
    import matplotlib.pyplot as plt

    from lfvscan.physics.process import Process

    pair_e = PDG_2024.lepton_pair(Process("e", "tau", "scalar"))
    lim = [synthetic_limit("EIC", [2.0, 5.0, 10.0], [1e-3, 2e-3, 6e-3], [1e-5] * 3, "visible")]
    for axis, name in (("g", "g_{\\tau e}"), ("C/Lambda", "C_{\\tau e}/\\Lambda")):
        fig, ax = fig7_visible(lim, axis=axis, pair=pair_e)
        plt.close(fig)
        assert name in ax.get_ylabel() and "\\mu" not in ax.get_ylabel()
        assert not any("secluded" in t.get_text() for t in ax.texts)
    fig, ax = fig6_invisible([synthetic_limit("NA64-e", [2.0, 5.0], [1e-2, 2e-2], [1e-4] * 2)], pair=pair_e,
                             axis="C/Lambda")
    plt.close(fig)
    assert "C_{\\tau e}/\\Lambda" in ax.get_ylabel()
    fig, ax = fig7_visible(lim, axis="C/Lambda", pair=PAIR)
    plt.close(fig)
    assert "C_{\\tau\\mu}/\\Lambda" in ax.get_ylabel() and any("secluded" in t.get_text() for t in ax.texts)


def test_limit_figures_without_a_curve_of_their_scenario_are_skipped(tmp_path):
    """Only visible curves (EIC, MuSIC, MuBeD): Fig. 6 (invisible ALP) is skipped with the reason, not
    written with overlays alone; Fig. 7 is written."""
    from lfvscan.plots.figures import make_all

    scan = toy_scan([154.0, 1000.0], [2.0, 10.0, 20.0], targets=("Pb", "W"))
    lim = [synthetic_limit("MuBeD", [2.0, 10.0, 20.0], [1e-3, 2e-3, 6e-3], [1e-5] * 3, "visible")]
    figs = make_all(scan, lim, tmp_path, formats=("png",))
    assert set(figs["_skipped"]) >= {"fig6_left_invisible", "fig6_right_invisible_g2_dm"}
    assert "invisible-ALP limit curve" in figs["_skipped"]["fig6_left_invisible"]
    assert not (tmp_path / "fig6_left_invisible.png").exists() and (tmp_path / "fig7_visible.png").exists()


def test_limit_figures_name_the_angle_of_their_curves(tmp_path):
    """The limit curves drawn at the scan's theta have no theta in their legend: the title names it (on the
    C/Lambda axis it also sets M(Theta)); curves recombined at their own theta name it in their label instead."""
    import dataclasses
    import math

    import matplotlib.pyplot as plt

    from lfvscan.plots.figures import make_all

    lim = [synthetic_limit("MuBeD", [2.0, 10.0, 20.0], [1e-3, 2e-3, 6e-3], [1e-5] * 3, "visible")]
    fig, ax = fig7_visible(lim, pair=PAIR, theta=math.pi / 4)
    plt.close(fig)
    assert ax.get_title().endswith("limits at θ = π/4")
    at0 = [dataclasses.replace(lim[0], yields=dataclasses.replace(lim[0].yields, theta=0.0))]
    fig, ax = fig7_visible(at0, pair=PAIR, theta=math.pi / 4)
    plt.close(fig)
    assert "π/4" not in ax.get_title()
    scan = toy_scan([154.0, 1000.0], [2.0, 10.0, 20.0], targets=("Pb", "W"))
    scan.theta = 3 * math.pi / 8
    figs = make_all(scan, lim, tmp_path, formats=("png",))
    assert figs["fig7_visible"][1].get_title().endswith("limits at θ = 3π/8")


def test_limit_figures_on_the_eft_axis_name_the_eft_angle_of_an_eq3_theta():
    """On the C/Lambda axis an Eq. (3) scan at theta = pi/4 is read at the EFT angle Theta = 48.4 deg
    (tan Theta = tan(theta) (m_tau + m_mu)/(m_tau - m_mu)): the title says so; at eq2 Theta = theta."""
    import dataclasses
    import math

    import matplotlib.pyplot as plt

    from lfvscan.pheno.eft_axis import EftLimit

    lim = synthetic_limit("MuBeD", [2.0, 10.0, 20.0], [1e-3, 2e-3, 6e-3], [1e-5] * 3, "visible")
    for convention, expected in (("eq3", " (EFT Θ = 48.4°)"), ("eq2", "")):
        eft = EftLimit(theta=math.pi / 4, convention=convention, mass_GeV=1.78, mass_eq3_GeV=1.77686,
                       lim=lim.g_lim, err=lim.g_lim_err, lim_eq3=lim.g_lim)
        fig, ax = fig7_visible([dataclasses.replace(lim, eft=eft)], pair=PAIR, theta=math.pi / 4, axis="C/Lambda")
        plt.close(fig)
        assert ax.get_title().endswith("limits at θ = π/4" + expected), convention
