"""Quality flags flow from cells to yields, limits files and figures (docs/physics.md §10.1)."""

from __future__ import annotations

from lfvscan.physics.process import DEFAULT_PROCESS
import json
import warnings

import numpy as np
import pytest

from lfvscan.pheno.flux import MuonFlux
from lfvscan.pheno.limits import compute_limits, limits_csv, limits_json, read_limits_csv
from lfvscan.pheno.store_limits import compute_limits_for_store
from lfvscan.pheno.quality import DEFAULT_Q_MIN, QualityWarning, point_quality
from lfvscan.schema import FAILED

from _toy_scan import toy_scan
from lfvscan.physics.presets import PDG_2024

PAIR = PDG_2024.lepton_pair(DEFAULT_PROCESS)  # beam muon, final tau (PDG masses)

MASSES = [5.0, 10.0, 20.0]


def flagged_scan():
    """Pb at 160 GeV / 1 TeV and W on a grid; one unconverged cell, one low-Q cell, one failed cell."""
    scan = toy_scan([160.0, 400.0, 1000.0, 2000.0], MASSES, targets=("Pb", "W"))
    shape = scan.status.shape
    conv = np.ones(shape, bool)
    Q = np.full(shape, 0.5)
    chi2 = np.full(shape, 1.0)
    conv[0, 2, 1] = False  # Pb 1 TeV, 10 GeV: hemu point at 10 GeV
    Q[1, 1, 0] = 1e-5  # W 400 GeV, 5 GeV: FASERnu2 point at 5 GeV
    chi2[1, 1, 0] = 9.0
    scan.converged, scan.Q, scan.chi2_dof = conv, Q, chi2
    return scan


def test_point_quality_flags_each_cause():
    scan = flagged_scan()
    q, min_q, max_chi2 = point_quality(scan, 0, [2])
    assert q == ("ok", "unconverged", "ok")
    q, min_q, max_chi2 = point_quality(scan, 1, [0, 1, 2, 3])
    assert q == ("low_Q", "ok", "ok") and min_q[0] == 1e-5 and max_chi2[0] == 9.0 and min_q[1] == 0.5
    assert point_quality(scan, 1, [1], q_min=1e-6)[0][0] == "ok"  # the threshold is a parameter
    scan.status[1, 3, 2] = FAILED
    q = point_quality(scan, 1, [0, 1, 2, 3])[0]
    assert q[2] == "failed" and q[0] == "low_Q"
    assert DEFAULT_Q_MIN == 1e-3


def test_flags_reach_csv_json_and_warn():
    scan = flagged_scan()
    flux = MuonFlux(np.array([160.0, 500.0]), np.array([500.0, 2000.0]), np.array([1e5, 1e4]), np.array([1e5, 1e4]))
    from lfvscan.pheno.experiments import load_experiments
    from lfvscan.pheno.yields import compute_yields, experiment_fluxes

    exps = {k: v for k, v in load_experiments().items() if k in ("hemu", "fasernu2")}
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        ys = compute_yields(scan, exps, experiment_fluxes(exps, flux))
    msgs = [str(w.message) for w in rec if issubclass(w.category, QualityWarning)]
    assert any("hemu/inv-2cm" in m and "10 GeV (unconverged)" in m for m in msgs)
    assert any("fasernu2/reconstructed" in m and "5 GeV (low_Q" in m for m in msgs)
    lims = compute_limits(ys)
    by = {lim.key: lim for lim in lims}
    assert by["hemu/vis-2cm"].yields.quality == ("ok", "unconverged", "ok")
    assert by["fasernu2/ultimate"].yields.quality == ("low_Q", "ok", "ok")
    text = limits_csv(lims, {"n_req": 3})
    header = [ln for ln in text.splitlines() if not ln.startswith("#")][0]
    assert header.endswith(",g_lim_err,quality")
    doc = json.loads(limits_json(lims, {"n_req": 3}))
    c = [c for c in doc["curves"] if c["experiment"] == "fasernu2" and c["curve"] == "ultimate"][0]
    assert c["quality"] == ["low_Q", "ok", "ok"] and c["min_Q"][0] == 1e-5 and c["max_chi2_dof"][0] == 9.0
    for key in ("experiment", "curve", "mass_GeV", "g_lim", "g_lim_err", "n_hat", "n_hat_err"):
        assert key in c


def test_csv_reads_back_with_quality(tmp_path):
    scan = flagged_scan()
    res = compute_limits_for_store(scan, experiments=["hemu"])
    assert any("unconverged" in w for w in res.warnings)
    p = tmp_path / "limits.csv"
    p.write_text(limits_csv(res.limits, res.provenance))
    back = read_limits_csv(p)
    assert back["hemu/inv-2cm"]["quality"] == ("ok", "unconverged", "ok")
    np.testing.assert_array_equal(back["hemu/inv-2cm"]["mass_GeV"], MASSES)
    assert res.provenance["q_min"] == DEFAULT_Q_MIN


def test_figure_marks_flagged_points():
    import matplotlib

    matplotlib.use("Agg")
    from lfvscan.plots.limit_figures import fig6_invisible

    scan = flagged_scan()
    res = compute_limits_for_store(scan, experiments=["hemu"])
    fig, ax = fig6_invisible(res.limits, pair=PAIR)
    labels = ax.get_legend_handles_labels()[1]
    assert sum("flagged" in lab for lab in labels) == 1
    from lfvscan.plots.style import LOOKS

    flag = LOOKS["flagged"]
    marks = [ln for ln in ax.get_lines() if ln.get_marker() == flag.marker and ln.get_markeredgecolor() == flag.color]
    assert marks and all(np.allclose(ln.get_xdata(), [10.0]) for ln in marks)
    clean = compute_limits_for_store(toy_scan([160.0, 1000.0], MASSES, targets=("Pb",)), experiments=["hemu"])
    fig, ax = fig6_invisible(clean.limits, pair=PAIR)
    assert not any("flagged" in lab for lab in ax.get_legend_handles_labels()[1])


def test_cli_limits_options(tmp_path, capsys, monkeypatch):
    """--visible-analysis and --q-min reach the files; a bad --q-min is a one-line usage error."""
    from lfvscan import cli
    from lfvscan.pheno import store_limits

    scan = flagged_scan()
    monkeypatch.setattr("lfvscan.store.load_scan", lambda path: scan)
    out = tmp_path / "res"
    assert cli.main(["limits", "STORE", "--experiments", "hemu", "--visible-analysis", "published",
                     "--q-min", "1e-9", "--json", "--out", str(out)]) == 0
    doc = json.loads((out / "limits.json").read_text())
    assert doc["provenance"]["visible_analysis"] == "published" and doc["provenance"]["q_min"] == 1e-9
    vis = [c for c in doc["curves"] if c["curve"] == "vis-2cm"][0]
    assert vis["n_req"] == 2.44 and vis["quality"] == ["ok", "unconverged", "ok"]
    assert "(N_req = 2.44)" in capsys.readouterr().out
    assert cli.main(["limits", "STORE", "--experiments", "hemu", "--q-min", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "q_min" in err and "2" in err
    assert store_limits.DEFAULT_Q_MIN == 1e-3
