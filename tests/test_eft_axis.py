"""The ALP EFT axis C/Lambda (docs/physics.md §2.7): g_eff = C sqrt(m_i^2 + m_f^2 + 2 m_i m_f cos 2Theta) / Lambda.

References are independent of lfvscan: the lepton masses are typed in (PDG 2024), and M(Theta) is
built from the Yukawas of the derivative Lagrangian, g_S = C (m_tau - m_mu) sin Theta / Lambda,
g_P = C (m_tau + m_mu) cos Theta / Lambda, by hand.
"""

from __future__ import annotations

import json
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lfvscan.errors import UsageError  # noqa: E402
from lfvscan.pheno.limits import limits_csv, limits_json, read_limits_csv  # noqa: E402
from lfvscan.pheno.store_limits import compute_limits_for_store  # noqa: E402
from lfvscan.physics.eft import c_over_lambda_per_g, eft_mass_GeV  # noqa: E402
from lfvscan.physics.presets import PDG_2024  # noqa: E402
from lfvscan.physics.process import Process  # noqa: E402
from lfvscan.store.scandata import ScanData  # noqa: E402

from _toy_scan import toy_scan  # noqa: E402

M_TAU, M_MU, M_E = 1.77686, 0.1056583755, 0.51099895e-3  # GeV, PDG 2024
PAIR = PDG_2024.lepton_pair(Process("mu", "tau", "scalar"))
PAIR_E = PDG_2024.lepton_pair(Process("e", "tau", "scalar"))
MASSES = np.array([2.5, 10.0])


def _by_hand(theta, m_i=M_MU, m_f=M_TAU):
    """sqrt(g_S^2 + g_P^2) Lambda / C from the Yukawas of the derivative coupling."""
    return math.hypot((m_f - m_i) * math.sin(theta), (m_f + m_i) * math.cos(theta))


@pytest.mark.parametrize("theta", [0.0, math.pi / 8, math.pi / 4, 3 * math.pi / 8, math.pi / 2, 2.0])
def test_eft_mass_is_the_function_of_theta(theta):
    assert float(eft_mass_GeV(theta, PAIR, "exact")) == pytest.approx(_by_hand(theta), rel=1e-12)
    assert float(eft_mass_GeV(theta, PAIR_E, "exact")) == pytest.approx(_by_hand(theta, M_E), rel=1e-12)
    assert float(eft_mass_GeV(theta, PAIR, "eq3")) == pytest.approx(M_TAU, rel=1e-12)


def test_eft_mass_at_the_named_angles():
    assert float(eft_mass_GeV(0.0, PAIR, "exact")) == pytest.approx(M_TAU + M_MU, rel=1e-12)
    assert float(eft_mass_GeV(math.pi / 2, PAIR, "exact")) == pytest.approx(M_TAU - M_MU, rel=1e-12)
    assert float(eft_mass_GeV(math.pi / 4, PAIR, "exact")) == pytest.approx(math.hypot(M_TAU, M_MU), rel=1e-12)
    with pytest.raises(ValueError, match="'eq9'"):
        eft_mass_GeV(0.0, PAIR, "eq9")


def test_the_six_percent():
    """g = C m_tau / Lambda vs C (m_tau + m_mu) / Lambda at Theta = 0: 5.95 % (e -> tau: 0.03 %)."""
    r = c_over_lambda_per_g(0.0, "eq3", PAIR, "eq3") / c_over_lambda_per_g(0.0, "eq3", PAIR, "exact")
    assert r == pytest.approx(1 + M_MU / M_TAU, rel=1e-12)
    assert round(100 * (r - 1), 2) == 5.95
    r_e = c_over_lambda_per_g(0.0, "eq3", PAIR_E, "eq3") / c_over_lambda_per_g(0.0, "eq3", PAIR_E, "exact")
    assert round(100 * (r_e - 1), 2) == 0.03


def _at(scan, theta, convention):
    """The toy scan declared at another theta / convention (the toy cross section has no theta dependence)."""
    arrays = {k: scan[k] for k in ("sigma_pb", "sigma_err_pb", "sigma_coherent_pb", "sigma_incoherent_pb",
                                   "dsigma_dlnx_f_pb", "dsigma_dlnx_f_err_pb", "closed")}
    return ScanData(scan.targets, scan.energies_GeV, scan.masses_GeV, scan.x_f_edges, scan.status,
                    theta=theta, convention=convention, attrs=scan.attrs, **arrays)


@pytest.mark.parametrize("theta, convention", [(0.0, "eq3"), (math.pi / 2, "eq3"), (0.0, "eq2"), (1.1, "eq2")])
def test_limits_on_c_over_lambda_closed_form(theta, convention):
    """At two masses: C/Lambda = g_eff_lim / M(Theta), g_eff = g (eq3) or g M(Theta)/m_tau (eq2)."""
    scan = _at(toy_scan([160.0, 1000.0], MASSES, targets=("Pb",)), theta, convention)
    res = compute_limits_for_store(scan, experiments=["hemu"], axis="C/Lambda")
    for lim in res.limits:
        g = lim.g_lim
        g_eff = g if convention == "eq3" else g * _by_hand(theta) / M_TAU
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(lim.eft.lim, g_eff / _by_hand(theta), rtol=1e-12)
        np.testing.assert_allclose(lim.eft.lim_eq3, g_eff / M_TAU, rtol=1e-12)
        np.testing.assert_allclose(lim.eft.err, lim.g_lim_err * lim.eft.lim / g, rtol=1e-12)
        if convention == "eq2":  # exact masses on both sides: C/Lambda = g / m_tau
            np.testing.assert_allclose(lim.eft.lim, g / M_TAU, rtol=1e-12)
        assert lim.eft.theta == theta and lim.eft.convention == convention


def test_default_axis_adds_nothing():
    scan = toy_scan([160.0, 1000.0], MASSES, targets=("Pb",))
    res = compute_limits_for_store(scan, experiments=["hemu"])
    assert all(lim.eft is None for lim in res.limits)
    assert "C_over_Lambda" not in limits_csv(res.limits, res.provenance)
    assert "axis" not in res.provenance
    with pytest.raises(UsageError, match="'C/L'"):
        compute_limits_for_store(scan, experiments=["hemu"], axis="C/L")


def test_files_name_the_convention(tmp_path):
    scan = _at(toy_scan([160.0, 1000.0], MASSES, targets=("Pb",)), 0.0, "eq3")
    res = compute_limits_for_store(scan, experiments=["hemu"], axis="C/Lambda")
    text = limits_csv(res.limits, res.provenance)
    assert "C_over_Lambda_lim[GeV^-1]" in text and "axis_conventions" in text
    path = tmp_path / "limits.csv"
    path.write_text(text)
    back = read_limits_csv(path)["hemu/inv-2cm"]
    assert back["g_lim"] == pytest.approx(res.limits[0].g_lim, rel=1e-7)
    doc = json.loads(limits_json(res.limits, res.provenance))
    c = doc["curves"][0]["C_over_Lambda"]
    assert c["unit"] == "GeV^-1" and "exact" in c["convention"] and c["g_convention"] == "eq3"
    assert c["mass_GeV"] == pytest.approx(M_TAU + M_MU, rel=1e-9)
    assert c["lim"][1] == pytest.approx(res.limits[0].g_lim[1] / (M_TAU + M_MU), rel=1e-12)


def test_vector_family_refused():
    scan = toy_scan([160.0, 1000.0], MASSES, targets=("Pb",))
    scan = ScanData(scan.targets, scan.energies_GeV, scan.masses_GeV, scan.x_f_edges, scan.status,
                    theta=scan.theta, convention=scan.convention,
                    attrs={"config": {"process": {"beam": "mu", "final": "tau", "boson": "vector"}}},
                    **{k: scan[k] for k in ("sigma_pb", "sigma_err_pb", "dsigma_dlnx_f_pb",
                                            "dsigma_dlnx_f_err_pb", "closed")})
    with pytest.raises(UsageError, match="'vector'"):
        compute_limits_for_store(scan, experiments=["hemu"], axis="C/Lambda")


def test_figures_on_the_eft_axis_in_tev():
    import matplotlib.pyplot as plt

    from lfvscan.plots.eft_scale import limits_on_eft_axis
    from lfvscan.plots.limit_figures import fig6_invisible

    scan = _at(toy_scan([160.0, 1000.0], MASSES, targets=("Pb",)), 0.0, "eq3")
    res = compute_limits_for_store(scan, experiments=["hemu"], axis="C/Lambda")
    fig, ax = fig6_invisible(limits_on_eft_axis(res.limits), pair=PAIR, axis="C/Lambda")
    plt.close(fig)
    assert "TeV$^{-1}$" in ax.get_ylabel()
    line = next(ln for ln in ax.get_lines() if ln.get_label().startswith("1 TeV"))
    lim = next(lim for lim in res.limits if lim.yields.scenario == "invisible" and lim.yields.drawn)
    np.testing.assert_allclose(line.get_ydata(), 1e3 * lim.g_lim / (M_TAU + M_MU), rtol=1e-12)


def test_figures_compare_with_the_eft_axis_refused(tmp_path, capsys):
    from lfvscan.cli import main

    out = tmp_path / "figs"
    rc = main(["figures", str(tmp_path / "none.zarr"), "--out", str(out), "--axis", "C/Lambda",
               "--compare", str(tmp_path / "other.csv")])
    err = capsys.readouterr().err
    assert rc == 2 and "--compare draws limits on g" in err and err.count("\n") == 1
    assert not out.exists()
