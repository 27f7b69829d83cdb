"""Scan config (lfvscan.spec.config): grids, validation messages, hashing, shipped configs."""

from __future__ import annotations

import math
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from lfvscan.spec.config import config_from_dict, load_config, parse_config, physics_diff
from lfvscan.physics.constants import M_MU, M_TAU
from lfvscan.physics.couplings import DEFAULT_THETA
from lfvscan.errors import UsageError

from _scan_util import SMALL_TOML, subprocess_env, UNDER_MPI

pytestmark = pytest.mark.skipif(UNDER_MPI, reason="serial test (under mpiexec only the MPI tests run)")

REPO = Path(__file__).resolve().parents[1]


def small(**over) -> dict:
    d = tomllib.loads(SMALL_TOML.format(store="s.zarr", seed=7, max_attempts=3))
    d.update(over)
    return d


def test_grids_union_and_skipped_mask():
    c = parse_config(small())
    assert c.masses_GeV[0] == 2.0 and c.masses_GeV[-1] == 40.0 and len(c.masses_GeV) == 5
    assert np.allclose(np.diff(np.log(c.masses_GeV)), math.log(20) / 4)
    assert c.target_names == ("Pb", "W")
    assert np.allclose(c.energies_GeV, (100.0, 160.0, 1000**0.5 * 10, 1000.0), rtol=1e-15, atol=0)
    assert len(set(c.energies_GeV)) == 4  # 1000 GeV of Pb and of W is one energy
    assert c.shape == (2, 4, 5)
    req = c.requested()
    assert req.tolist() == [[False, True, False, True], [True, False, True, True]]
    assert c.theta == DEFAULT_THETA and c.convention == "eq3" and c.n_xbins == 8


def test_explicit_lists_are_sorted_and_deduplicated():
    c = parse_config(small(masses_GeV=[10, 2, 10.0, 5]))
    assert c.masses_GeV == (2.0, 5.0, 10.0)


@pytest.mark.parametrize(
    "over, needle",
    [
        ({"bogus": 1}, "unknown key(s) 'bogus'"),
        ({"seed": "7"}, "seed must be an integer, got '7'"),
        ({"rel_err": 0.5}, "rel_err = 0.5 is outside the validity range: must be in [0.0001, 0.5)"),
        ({"rel_err": 0.0}, "rel_err = 0.0 is outside the validity range: must be in [0.0001, 0.5)"),
        ({"rel_err": True}, "rel_err must be a number, got True"),
        ({"masses_GeV": []}, "masses_GeV: empty list (empty grid)"),
        ({"masses_GeV": [2.0, -1.0]}, "masses_GeV: values must be positive finite numbers, got -1.0"),
        ({"masses_GeV": [2.0, float("nan")]}, "values must be positive finite numbers, got nan"),
        ({"masses_GeV": {"min": 2, "max": 10, "n": 0}}, "masses_GeV.n must be >= 1, got 0 (empty grid)"),
        ({"masses_GeV": {"min": 2, "max": 10}}, "masses_GeV: missing n"),
        ({"masses_GeV": "2..10"}, "masses_GeV: must be a list of numbers or a table {min, max, n}, got str"),
        ({"targets": [{"name": "Xe", "energies_GeV": [100]}]}, "unknown target 'Xe' (known: Pb, W, Au, Al, Cu, Fe, C"),
        ({"targets": [{"name": "Pb", "energies_GeV": {"min": -1, "max": 10, "n": 3}}]}, "need 0 < min <= max"),
        ({"targets": [{"name": "Pb", "energy": [1]}]}, "unknown key(s) 'energy'"),
        ({"targets": []}, "targets is empty (empty grid)"),
        ({"convention": "eq9"}, "convention must be one of eq3, eq2, got 'eq9'"),
        ({"n_xbins": 0}, "n_xbins = 0 is outside the validity range: must be an integer in [1, 1000]"),
        ({"cell_function": "nocolon"}, 'cell_function must look like "module:function"'),
        ({"rank0_computes_up_to": -1}, "rank0_computes_up_to must be >= 0 (0: rank 0 never computes), got -1"),
        ({"rank0_computes_up_to": 2.5}, "rank0_computes_up_to must be an integer (ranks), got 2.5"),
    ],
)
def test_invalid_config_messages(over, needle):
    with pytest.raises(UsageError) as info:
        parse_config(small(**over), source="x.toml")
    msg = str(info.value)
    assert needle in msg
    assert msg.startswith("invalid scan config x.toml: ")
    assert "\n" not in msg


def test_every_problem_is_reported_once():
    with pytest.raises(UsageError) as info:
        parse_config(small(bogus=1, rel_err=2.0, masses_GeV=[]))
    parts = str(info.value).split(": ", 1)[1].split("; ")
    assert len(parts) == 3


def test_hash_covers_physics_not_run_settings():
    base = parse_config(small())
    assert parse_config(small(store="other.zarr", max_attempts=9)).config_hash() == base.config_hash()
    run = parse_config(small(rank0_computes_up_to=0))
    assert run.config_hash() == base.config_hash() and run.rank0_computes_up_to == 0
    assert config_from_dict(run.to_dict()).rank0_computes_up_to == 0  # kept in the store's config attributes
    changed = parse_config(small(seed=8, rel_err=0.02))
    assert changed.config_hash() != base.config_hash()
    assert physics_diff(base.physics_dict(), changed.physics_dict()) == ["rel_err", "seed"]
    w = parse_config(small(targets=[{"name": "W", "energies_GeV": [100]}]))
    assert physics_diff(base.physics_dict(), w.physics_dict()) == ["targets.Pb (removed)", "targets.W (energies_GeV)"]


def test_cli_invalid_config_exit_2_one_line_nothing_written(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(SMALL_TOML.format(store="s.zarr", seed=7, max_attempts=3).replace("rel_err = 0.01", "rel_err = 0.7"))
    store = tmp_path / "s.zarr"
    r = subprocess.run([sys.executable, "-m", "lfvscan", "scan", str(cfg), "--store", str(store)],
                       env=subprocess_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "rel_err = 0.7 is outside the validity range: must be in [0.0001, 0.5)" in lines[0]
    assert not store.exists()


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(UsageError, match="cannot read scan config"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = = 3\n")
    with pytest.raises(UsageError, match="is not valid TOML"):
        load_config(bad)


def reach(E):  # docs/physics.md §7.1, t_cut = 1 GeV^2
    return math.sqrt(2 * E + M_MU**2) - M_TAU


def test_demo_config_size_and_closed_cells():
    c = load_config(REPO / "configs" / "demo.toml")
    cells = [(t.name, e, m) for t in c.targets for e in t.energies_GeV for m in c.masses_GeV]
    assert 40 <= len(cells) <= 60
    closed = [x for x in cells if x[2] >= reach(x[1])]
    assert 3 <= len(closed) < len(cells) // 2
    assert c.cell_function == ""  # the demo runs the real physics


def test_paper_config_covers_the_figures():
    c = load_config(REPO / "configs" / "paper.toml")
    pb = dict((t.name, t.energies_GeV) for t in c.targets)
    assert pb["Pb"] == (160.0, 1000.0)
    w = np.array(pb["W"])
    assert w[0] <= 30 and w[-1] == 5000.0 and 20 <= len(w) <= 30
    assert np.allclose(np.diff(np.log(w)), np.log(w[1] / w[0]))
    m = np.array(c.masses_GeV)
    from lfvscan.physics.constants import M_MU, M_TAU

    assert M_TAU + M_MU < m[0] <= 2.0  # from the visible threshold ...
    assert reach(5000) <= m[-1] <= 1.1 * reach(5000)  # ... to the reach at 5 TeV (one closed point)
    assert np.all(np.diff(np.log(m)) < np.log(1.07))  # fine enough for smooth limit curves
    assert {5.0, 10.0, 20.0, 40.0} <= set(m.tolist())  # the masses quoted in the closing note
    assert c.rel_err == 0.005 and c.cell_function == ""
