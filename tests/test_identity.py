"""A store knows its grid by coordinates (issue 11, item 1): a config listing its targets (or
energies, masses) in another order is the same grid, resumes the same store, and every cell lands
at its coordinates.  Reference: the uninterrupted scan of the canonical config, and the toy cell
function called directly at each cell's coordinates."""

from __future__ import annotations

import tomllib
from dataclasses import replace

import numpy as np
import pytest

from lfvscan.errors import UsageError
from lfvscan.spec.config import load_config, parse_config
from lfvscan.scan.engine import run_scan
from lfvscan.scan.plan import cell_seed
from lfvscan.scan.signals import StopFlag
from lfvscan.store import ScanStore, load_scan, open_for_scan
from lfvscan.schema import DONE

from _call_log import CallLog, sigterm_drains
from _scan_cells import cheap_cell
from _scan_util import SMALL_TOML, UNDER_MPI, assert_same_results, write_config

pytestmark = pytest.mark.skipif(UNDER_MPI, reason="serial test (under mpiexec only the MPI tests run)")

#: the small grid with W listed before Pb, energies and masses as descending explicit lists
REORDERED_TOML = """\
store = "{store}"
seed = {seed}
rel_err = 0.01
n_xbins = 8
max_attempts = {max_attempts}
masses_GeV = [40.0, 18.91483218006351, 8.944271909999156, 4.229485053762256, 2.0]
cell_function = "_scan_cells:cheap_cell"

[[targets]]
name = "W"
energies_GeV = [1000, 316.2277660168379, 100]

[[targets]]
name = "Pb"
energies_GeV = [1000, 160]
"""


def _configs(tmp_path):
    canonical = load_config(write_config(tmp_path / "a.toml"))
    reordered = load_config(write_config(tmp_path / "b.toml", text=REORDERED_TOML.format(store="s.zarr", seed=7,
                                                                                           max_attempts=3)))
    return canonical, reordered


def test_reordered_config_is_the_same_grid_and_hash(tmp_path):
    a, b = _configs(tmp_path)
    assert a.target_names == b.target_names == ("Pb", "W")  # canonical order: by element symbol
    assert a.masses_GeV == b.masses_GeV and a.energies_GeV == b.energies_GeV
    assert a.config_hash() == b.config_hash()
    assert np.array_equal(a.requested(), b.requested())
    # the hash still tells grids apart: one more mass is another store
    other = parse_config({**tomllib.loads(SMALL_TOML.format(store="s", seed=7, max_attempts=3)),
                          "masses_GeV": [2.0, 3.0]})
    assert other.config_hash() != a.config_hash()


@pytest.fixture
def reference(tmp_path_factory):
    d = tmp_path_factory.mktemp("ref")
    cfg = load_config(write_config(d / "c.toml"))
    out = run_scan(cfg, str(d / "ref.zarr"), cell_fn=cheap_cell, quiet=True)
    assert out.exit_code == 0 and out.done == 25
    return d / "ref.zarr"


def _interrupted(cfg, store, after: int):
    """Scan ``cfg`` into ``store`` and stop (SIGTERM drain) after ``after`` cells."""
    stop = StopFlag()
    with sigterm_drains(stop):
        out = run_scan(cfg, str(store), cell_fn=CallLog(stop_at=after), quiet=True, stop=stop)
    assert out.exit_code == 143 and out.done == after


@pytest.mark.slow
@pytest.mark.parametrize("first,second", [("canonical", "reordered"), ("reordered", "canonical")])
def test_resume_with_reordered_config_is_bit_identical(tmp_path, reference, first, second):
    """Start with one order, resume with the other: every array equals the uninterrupted scan's."""
    cfgs = dict(zip(("canonical", "reordered"), _configs(tmp_path)))
    store = tmp_path / "s.zarr"
    _interrupted(cfgs[first], store, after=8)
    out = run_scan(cfgs[second], str(store), cell_fn=cheap_cell, quiet=True)
    assert out.exit_code == 0 and out.done == 25 and out.computed_this_run == 17
    assert_same_results(reference, store)


def test_store_with_noncanonical_target_axis_is_mapped_by_its_coordinates(tmp_path):
    """A store whose target axis is (W, Pb) (as written before canonical ordering): a resume with
    the canonical config writes each cell at its own coordinates, with the seed of its flat index
    in that store's grid; each value equals the toy cell called directly at those coordinates."""
    canonical, _ = _configs(tmp_path)
    legacy = replace(canonical, targets=tuple(reversed(canonical.targets)))  # axis W, Pb
    assert legacy.target_names == ("W", "Pb")
    path = tmp_path / "legacy.zarr"
    store, created = open_for_scan(path, legacy)
    assert created
    stop = StopFlag()
    with sigterm_drains(stop):
        out = run_scan(legacy, store, cell_fn=CallLog(stop_at=6), quiet=True, stop=stop)
    assert out.exit_code == 143
    store.close()
    assert ScanStore.open(path).config.target_names == ("W", "Pb")  # read from the store's axis
    out = run_scan(canonical, str(path), cell_fn=cheap_cell, quiet=True)
    assert out.exit_code == 0 and out.done == 25
    scan = load_scan(path)
    assert scan.targets == ("W", "Pb")
    nT, nE, nM = scan.status.shape
    checked = 0
    for i, j, k in np.argwhere(scan.status == DONE):
        expect = cheap_cell(scan.targets[i], float(scan.energies_GeV[j]), float(scan.masses_GeV[k]), rel_err=0.01,
                            seed=cell_seed(7, (i * nE + j) * nM + k), n_xbins=8)
        assert scan.sigma_pb[i, j, k] == expect.sigma_pb, (i, j, k)
        checked += 1
    assert checked == 25


def test_store_whose_axes_disagree_with_its_config_is_refused(tmp_path):
    """A damaged store (coordinate array changed under its config): one clear line, no resume."""
    import zarr

    cfg, _ = _configs(tmp_path)
    path = tmp_path / "s.zarr"
    store, _ = open_for_scan(path, cfg)
    store.close()
    g = zarr.open_group(str(path), mode="r+")
    g["mass_GeV"][0] = 2.5
    with pytest.raises(UsageError) as info:
        open_for_scan(path, cfg)
    assert "disagree with its config attributes" in str(info.value)
