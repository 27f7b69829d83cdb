"""Validated ranges and honest precision (issue 11, item 3): inputs outside their documented
validity range are refused in one line naming the value and the range (xsec CLI, scan config,
compute_cell); results are validated on arrival; cells short of their precision are counted."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lfvscan import cli
from lfvscan.errors import EXIT_UNCONVERGED, UsageError
from lfvscan.spec.config import parse_config
from lfvscan.scan.engine import run_scan
from lfvscan.store import store_status
from lfvscan.schema import DONE, FAILED
from lfvscan.util.ranges import ENERGY_GEV, MASS_GEV, N_XBINS, REL_ERR
from lfvscan.xsec import compute_cell

from _robust_cells import nan_sigma_cell, negative_error_cell, unconverged_cell
from _scan_util import UNDER_MPI, run_scan_cli, small_config, write_config, SMALL_TOML

pytestmark = pytest.mark.skipif(UNDER_MPI, reason="serial test (under mpiexec only the MPI tests run)")


@pytest.mark.parametrize("args, needle", [
    (["--energy", "1e10", "--mass", "2"], "energy_GeV = 10000000000.0 GeV is outside the validity range: must be in [2, 1e+07] GeV"),
    (["--energy", "1e30", "--mass", "2"], "energy_GeV = 1e+30 GeV is outside the validity range"),
    (["--energy", "1", "--mass", "2"], "energy_GeV = 1.0 GeV is outside"),
    (["--energy", "1000", "--mass", "1e5"], "mass_GeV = 100000.0 GeV is outside the validity range: must be in [1e-06, 10000] GeV"),
    (["--energy", "1000", "--mass", "2", "--rel-err", "1e-6"], "rel_err = 1e-06 is outside the validity range: must be in [0.0001, 0.5)"),
    (["--energy", "1000", "--mass", "2", "--n-xbins", "10000000"], "n_xbins = 10000000 is outside the validity range: must be an integer in [1, 1000]"),
])
def test_xsec_cli_refuses_values_outside_their_range(capsys, args, needle):
    assert cli.main(["xsec", "--target", "W", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1


def test_range_bounds_are_inclusive_where_documented():
    assert ENERGY_GEV.contains(2.0) and ENERGY_GEV.contains(1e7) and not ENERGY_GEV.contains(1.0000001e7)
    assert MASS_GEV.contains(1e-6) and MASS_GEV.contains(1e4) and not MASS_GEV.contains(math.nan)
    assert REL_ERR.contains(1e-4) and not REL_ERR.contains(0.5) and not REL_ERR.contains(9.99e-5)
    assert N_XBINS.contains(1000) and not N_XBINS.contains(1001) and not N_XBINS.contains(2.5)


def test_top_of_energy_range_agrees_with_independent_ww_quadrature():
    """The upper bound is where the exact result still agrees with the independent WW quadrature
    (docs/physics.md §7.11): at 1e7 GeV within the 0.5 % that WW and exact share at 1 TeV, light ALP."""
    from _crosscheck import sigma_ww_pb

    r = compute_cell("W", 1e7, 2.0, rel_err=0.01, seed=1, n_xbins=4)
    ww = sigma_ww_pb("W", 1e7, 2.0)
    assert r.converged and abs(r.sigma_pb / ww - 1) < 0.01 + 3 * r.sigma_err_pb / r.sigma_pb


@pytest.mark.parametrize("over, needle", [
    ({"targets": [{"name": "Pb", "energies_GeV": [160, 1e8]}]},
     "targets[0] (Pb).energies_GeV value = 100000000.0 GeV is outside the validity range"),
    ({"masses_GeV": {"min": 2.0, "max": 2e4, "n": 3}}, "masses_GeV value = 20000.0 GeV is outside"),
    ({"rel_err": 1e-6}, "rel_err = 1e-06 is outside the validity range"),
    ({"n_xbins": 10_000_000}, "n_xbins = 10000000 is outside the validity range"),
])
def test_config_refuses_values_outside_their_range(over, needle):
    import tomllib

    data = tomllib.loads(SMALL_TOML.format(store="s.zarr", seed=7, max_attempts=3))
    data.update(over)
    with pytest.raises(UsageError) as info:
        parse_config(data, source="x.toml")
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_xsec_unconverged_says_so_in_text_json_and_exit_status(capsys, monkeypatch):
    """rel_err at the bottom of its range with an evaluation budget of 2e5 that does not grow (the
    driver's ``VegasSettings.max_neval_total`` held at ``budget_rel_err`` = rel_err): the budget
    ends before the precision is reached."""
    import functools

    import lfvscan.xsec
    from lfvscan.xsec.driver import VegasSettings, compute_cell

    small_budget = functools.partial(compute_cell, settings=VegasSettings(max_neval_total=200_000,
                                                                                   budget_rel_err=1e-4))
    monkeypatch.setattr(lfvscan.xsec, "compute_cell", small_budget)
    args = ["xsec", "--target", "W", "--energy", "1000", "--mass", "2", "--rel-err", "1e-4", "--n-xbins", "4"]
    assert cli.main(args) == EXIT_UNCONVERGED
    out = capsys.readouterr().out
    assert "NOT CONVERGED: relative error" in out
    assert cli.main(args + ["--json"]) == EXIT_UNCONVERGED
    d = json.loads(capsys.readouterr().out)
    assert d["converged"] is False and d["requested_rel_err"] == 1e-4
    assert d["sigma_err_pb"] / d["sigma_pb"] > 1e-4 and "NOT CONVERGED" in d["warning"]
    assert "converged" not in d["meta"]  # stored once, as the result field


@pytest.mark.parametrize("rel_err", [0.0, -0.1, 0.5, 5e-5, "abc"])
def test_compute_cell_states_the_one_rel_err_range(rel_err):
    """compute_cell checks rel_err once, against util.ranges.REL_ERR, and names that range."""
    with pytest.raises(ValueError) as info:
        compute_cell("W", 1000.0, 2.0, rel_err=rel_err)
    assert str(info.value) == REL_ERR.problem(rel_err)
    assert "must be in [0.0001, 0.5)" in str(info.value)


@pytest.mark.parametrize("cell_fn, word", [(nan_sigma_cell, "sigma_pb = nan"),
                                           (negative_error_cell, "sigma_err_pb = -1.0")])
def test_nan_or_negative_result_becomes_a_failed_cell(tmp_path, cell_fn, word):
    cfg = small_config()
    out = run_scan(cfg, str(tmp_path / "s.zarr"), cell_fn=cell_fn, quiet=True)
    s = store_status(tmp_path / "s.zarr")
    # m_a = 2 GeV is open at all 5 requested (target, energy) rows
    assert out.exit_code == 1 and out.failed == 5 == s["counts"]["failed"] and s["counts"]["done"] == 20
    assert all(word in f["error"] and "must be finite and >= 0 pb" in f["error"] for f in s["failures"])
    assert {f["mass_GeV"] for f in s["failures"]} == {2.0}


@pytest.mark.slow
def test_unconverged_cells_are_counted_by_status_and_the_scan_exits_3(tmp_path):
    text = SMALL_TOML.format(store="s.zarr", seed=7, max_attempts=3).replace("_scan_cells:cheap_cell",
                                                                             "_robust_cells:unconverged_cell")
    cfg = write_config(tmp_path / "c.toml", text=text)
    store = tmp_path / "s.zarr"
    r = run_scan_cli(cfg, store, "--quiet")
    assert r.returncode == EXIT_UNCONVERGED, r.stderr
    assert "5 done cell(s) did not reach the requested rel_err" in r.stderr
    s = store_status(store)
    assert s["complete"] and s["unconverged"] == 5
    assert {u["mass_GeV"] for u in s["unconverged_cells"]} == {2.0}
    status = cli.main(["status", str(store)])
    assert status == 0
