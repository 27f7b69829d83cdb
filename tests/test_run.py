"""``lfvscan run``: scan, limits, figures in one command; a rerun rebuilds only what is stale,
judged from the store's content (not file times).

The store's content changes at known points: the stand-in cell function ``_run_cells:flaky_cell``
fails one cell while a marker file exists (see tests/_run_cells.py), so a first run ends with a
failed cell (exit 1, limits NaN at that mass), a rerun with the marker still there retries it and
fails again (content unchanged: nothing rebuilt), and a rerun without the marker computes it
(content changed: limits and figures rebuilt)."""

from __future__ import annotations

import io
import json
import os
import re

import numpy as np
import pytest

from lfvscan.cli import main
from lfvscan.pheno.limits import read_limits_csv, scan_hash
from lfvscan.workflow.run import (
    FIGURES_DIR, FIGURES_MANIFEST, LIMITS_FILE, limits_table, recorded_limits_key,
)
from lfvscan.workflow.progress import RunProgress
from lfvscan.store import load_scan

from _scan_util import UNDER_MPI

pytestmark = pytest.mark.skipif(UNDER_MPI, reason="serial test (each MPI rank would run it)")

RUN_TOML = """\
seed = 5
rel_err = 0.01
n_xbins = 8
max_attempts = 5
masses_GeV = [2.0, 6.0, 20.0]
cell_function = "_run_cells:flaky_cell"

[[targets]]
name = "Pb"
energies_GeV = [160, 1000]
"""


def states(stdout: str) -> dict[str, str]:
    """Stage states from the summary line 'figures: DIR/  (scan S, limits L, figures F)'."""
    m = re.search(r"\(scan (.+), limits (.+), figures (.+)\)\s*$", stdout.strip().splitlines()[-2])
    return {"scan": m.group(1), "limits": m.group(2), "figures": m.group(3)}


@pytest.fixture
def setup(tmp_path, monkeypatch):
    cfg = tmp_path / "run.toml"
    cfg.write_text(RUN_TOML)
    marker = tmp_path / "fail.marker"
    monkeypatch.setenv("LFVSCAN_TEST_FAIL_MARKER", str(marker))
    argv = ["run", str(cfg), "--store", str(tmp_path / "s.zarr"), "--out", str(tmp_path / "out"),
            "--formats", "png", "--experiments", "na64mu", "hemu"]
    return tmp_path, argv, marker


@pytest.mark.slow
def test_rerun_rebuilds_only_what_is_stale(setup, capsys):
    d, argv, marker = setup
    out = d / "out"
    marker.touch()
    # 1. first run: one cell (Pb 1000 GeV, 2 GeV) fails -> exit 1, limits/figures built anyway
    assert main(argv) == 1
    o = capsys.readouterr().out
    assert states(o) == {"scan": "finished with failed or pending cells", "limits": "built", "figures": "built"}
    hemu = read_limits_csv(out / LIMITS_FILE)["hemu/inv-ultimate"]
    assert np.isnan(hemu["g_lim"][0]) and np.all(np.isfinite(hemu["g_lim"][1:]))
    manifest = json.loads((out / FIGURES_DIR / FIGURES_MANIFEST).read_text())
    assert "fig6_left_invisible.png" in manifest["files"]
    assert all((out / FIGURES_DIR / f).exists() for f in manifest["files"])
    key1 = recorded_limits_key(out / LIMITS_FILE)
    assert key1 == manifest["run_inputs_sha256"]
    content1 = scan_hash(load_scan(d / "s.zarr"))
    assert manifest["store_content_sha256"] == content1

    # 2. rerun, the cell fails again: attempts change, results do not -> nothing rebuilt
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    assert main(argv) == 1
    assert states(capsys.readouterr().out) == {"scan": "finished with failed or pending cells",
                                                "limits": "up to date", "figures": "up to date"}
    assert load_scan(d / "s.zarr").attempts.max() == 2
    assert scan_hash(load_scan(d / "s.zarr")) == content1
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == mtimes  # nothing rewritten

    # 3. the cell succeeds on the retry: content changed -> limits and figures rebuilt
    marker.unlink()
    assert main(argv) == 0
    o = capsys.readouterr().out
    assert states(o) == {"scan": "complete", "limits": "built", "figures": "built"}
    assert np.isfinite(read_limits_csv(out / LIMITS_FILE)["hemu/inv-ultimate"]["g_lim"][0])
    assert recorded_limits_key(out / LIMITS_FILE) != key1

    # 4. rerun: up to date; file times are not what decides (an old or touched file stays valid)
    os.utime(out / LIMITS_FILE, (0, 0))
    assert main(argv) == 0
    assert states(capsys.readouterr().out) == {"scan": "complete", "limits": "up to date", "figures": "up to date"}

    # 5. another N_req: limits and figures are stale; a deleted figure: only figures
    assert main(argv + ["--n-req", "2.3"]) == 0
    assert states(capsys.readouterr().out)["limits"] == "built"
    (out / FIGURES_DIR / "fig7_visible.png").unlink()
    assert main(argv + ["--n-req", "2.3"]) == 0
    assert states(capsys.readouterr().out) == {"scan": "complete", "limits": "up to date", "figures": "built"}
    assert (out / FIGURES_DIR / "fig7_visible.png").exists()


@pytest.mark.slow
def test_table_and_paths_on_stdout(setup, capsys):
    d, argv, _ = setup
    assert main(argv) == 0
    o, err = capsys.readouterr()
    curves = read_limits_csv(d / "out" / LIMITS_FILE)
    assert f"limits:  {d / 'out' / LIMITS_FILE}" in o and f"figures: {d / 'out' / FIGURES_DIR}/" in o
    rows = {ln.split()[0]: ln for ln in o.splitlines() if ln.split() and ln.split()[0] in curves}
    assert set(rows) == set(curves)
    g, e = curves["hemu/inv-ultimate"]["g_lim"][1], curves["hemu/inv-ultimate"]["g_lim_err"][1]
    assert f"{g:9.3e} ± {e:7.1e}" in rows["hemu/inv-ultimate"]
    # stderr is not a terminal here: machine-readable progress, one key=value line per event
    events = [ln for ln in err.splitlines() if " lfvscan-run " in ln]
    assert [re.search(r"stage=(\w+) step=(\d/3) event=(\w+)", ln).groups()[::2] for ln in events
            if "event=progress" not in ln] == [("scan", "start"), ("scan", "done"), ("limits", "start"),
                                               ("limits", "done"), ("figures", "start"), ("figures", "done")]
    prog = [ln for ln in events if "event=progress" in ln]
    assert len(prog) == 7 and "done=7 total=7 item=fig7_visible eta_s=0" in prog[-1]


def test_limits_table_marks_inf_and_nan(tmp_path):
    (tmp_path / "l.csv").write_text(
        "experiment,curve,scenario,mass_GeV,n_hat,n_hat_err,g_lim,g_lim_err\n"
        "x,a,invisible,2,12,1.2,0.5,0.025\nx,a,invisible,10,nan,nan,nan,nan\nx,a,invisible,40,0,0,inf,nan\n")
    lines = limits_table(tmp_path / "l.csv").splitlines()
    assert lines[0].split()[-6:] == ["2", "GeV", "10", "GeV", "40", "GeV"]
    assert lines[1].split() == ["x/a", "5.000e-01", "±", "2.5e-02", "nan", "inf"]  # nan: cells missing, inf: no events


def test_progress_on_a_terminal_is_readable():
    s = io.StringIO()
    t = iter(range(100))
    p = RunProgress(s, tty=True, clock=lambda: float(next(t)))
    p.start("figures", "no figures yet")
    p.item("figures", 1, 4, "fig1")
    p.done("figures", "built", "4 figures", "out/figures")
    text = s.getvalue()
    assert "lfvscan run [3/3] figures: no figures yet -> running\n" in text
    assert "\r\x1b[2Klfvscan run [3/3] figures: 1/4 (fig1) | ETA 3s" in text  # 1 s per figure so far
    assert text.endswith("lfvscan run [3/3] figures: built in 2.0 s (4 figures) -> out/figures\n")


@pytest.mark.parametrize("argv,msg", [
    (["--formats", "xyz"], "--formats: unknown format 'xyz'"),
    (["--experiments", "nope"], "unknown experiment 'nope'"),
    (["--n-req", "-1"], "N_req must be positive"),
    (["--set", "hemu.n_mu"], "--set 'hemu.n_mu': expected KEY=VALUE"),
    (["--flux", "missing.csv"], "missing.csv"),
])
def test_bad_input_exit2_before_the_scan(setup, capsys, argv, msg):
    d, base, _ = setup
    assert main(base + argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and msg in err[0]
    assert not (d / "s.zarr").exists() and not (d / "out").exists()
