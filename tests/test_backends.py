"""Conformance suite of the store backends (:class:`lfvscan.store.backend.ScanBackend`): every
backend (in memory, zarr on disk) passes the same cases, through the protocol only.

A *run* ends cleanly (``end``: the backend is closed; on disk reopened as the next run does) or
dies (``die``: the process ends without closing: its attempt log and journal stay behind and its
lock is released).  The same records written to either backend read back through
:func:`lfvscan.store.load_scan` bit for bit alike.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from lfvscan.scan.attribution import is_death, settle
from lfvscan.scan.engine import run_scan
from lfvscan.schema import CELL_FIELDS, DONE, FAILED, PENDING, SKIPPED
from lfvscan.store import load_scan, open_for_scan, store_status
from lfvscan.store.backend import ScanBackend
from lfvscan.store.layout import coordinate_values
from lfvscan.store.memory import MemoryStore
from lfvscan.store.records import CellRecord

from _call_log import CallLog
from _scan_cells import cheap_cell
from _scan_util import UNDER_MPI, small_config

pytestmark = pytest.mark.skipif(UNDER_MPI, reason="serial tests (each MPI rank would run them at once)")


class Memory:
    """The in-memory backend: a run's end or death leaves the same object for the next run."""

    name = "memory"

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path

    def new(self, config) -> ScanBackend:
        return MemoryStore(config)

    def end(self, backend) -> ScanBackend:
        backend.close()
        return backend

    def die(self, backend) -> ScanBackend:
        return backend


class Zarr:
    """The zarr store on disk, opened for a scan as ``lfvscan scan`` does."""

    name = "zarr"

    def __init__(self, tmp_path):
        self.path = tmp_path / "s.zarr"

    def new(self, config) -> ScanBackend:
        self.config = config
        store, created = open_for_scan(self.path, config)
        assert created
        return store

    def end(self, backend) -> ScanBackend:
        backend.close()
        return open_for_scan(self.path, self.config)[0]

    def die(self, backend) -> ScanBackend:
        for fd in (backend.attempt_log._fd, backend.journal._fd, backend._lock_fd):
            if fd is not None:
                os.close(fd)
        return open_for_scan(self.path, self.config)[0]


@pytest.fixture(params=[Memory, Zarr], ids=["memory", "zarr"])
def kind(request, tmp_path):
    return request.param(tmp_path)


def _result(cfg, index):
    i, j, k = index
    return cheap_cell(cfg.target_names[i], cfg.energies_GeV[j], cfg.masses_GeV[k], seed=i * 100 + j * 10 + k,
                      n_xbins=cfg.n_xbins, theta=cfg.theta, convention=cfg.convention)


def _requested(cfg) -> list[tuple[int, int, int]]:
    status = np.broadcast_to(cfg.requested()[:, :, None], cfg.shape)
    return [tuple(int(v) for v in c) for c in np.argwhere(status)]


def test_a_new_store_is_a_backend_with_every_cell_pending_or_skipped(kind):
    cfg = small_config()
    b = kind.new(cfg)
    assert isinstance(b, ScanBackend) and b.config.shape == cfg.shape
    status, attempts = b.cell_state()
    assert status.shape == attempts.shape == cfg.shape and status.dtype == np.int8 and attempts.dtype == np.int32
    requested = np.broadcast_to(cfg.requested()[:, :, None], cfg.shape)
    assert (status == np.where(requested, PENDING, SKIPPED)).all() and (status == SKIPPED).any() and not attempts.any()
    with pytest.raises(ValueError, match=r"cell \(0, 0, 0\) is not requested"):
        b.write_cells([CellRecord((0, 0, 0), None, "x", 0.0, 0, 1)])  # Pb is not scanned at 100 GeV
    cells = b.read_cells()
    assert list(cells) == [f.name for f in CELL_FIELDS]
    assert np.isnan(cells["sigma_pb"]).all() and (cells["error"] == "").all()
    for name, values in coordinate_values(cfg).items():
        assert np.array_equal(b.read_coordinates()[name], values), name
    assert b.read_attrs()["config_hash"] == cfg.config_hash() and b.read_attrs()["units"]["sigma_pb"] == "pb"
    assert b.verify() == {} and b.read_run_info() == {} and b.read_suspects() == []
    assert b.ended_attempt_logs() == {}
    b.close()


def test_written_records_read_back_and_survive_the_end_of_the_run(kind):
    """A DONE and a FAILED record, then a later record of the FAILED cell replacing it."""
    cfg = small_config()
    b = kind.new(cfg)
    done, failed = _requested(cfg)[1], _requested(cfg)[-2]
    b.write_cells([CellRecord(done, _result(cfg, done), "", 0.5, 0, 1),
                   CellRecord(failed, None, "RuntimeError: x", 0.25, 1, 1)])
    b.write_run_info({"state": "running", "n_ranks": 2})
    for backend in (b, b := kind.end(b)):
        status, attempts = backend.cell_state()
        assert status[done] == DONE and status[failed] == FAILED and attempts[failed] == 1
        cells = backend.read_cells(("sigma_pb", "error", "wall_seconds"))
        assert set(cells) == {"sigma_pb", "error", "wall_seconds"}
        assert cells["sigma_pb"][done] == _result(cfg, done).sigma_pb and np.isnan(cells["sigma_pb"][failed])
        assert cells["error"][failed] == "RuntimeError: x" and cells["wall_seconds"][failed] == 0.25
        assert backend.read_run_info() == {"state": "running", "n_ranks": 2}
    b.write_cells([CellRecord(failed, _result(cfg, failed), "", 0.5, 1, 2)])
    status, attempts = b.cell_state()
    assert status[failed] == DONE and attempts[failed] == 2 and b.read_cells(("error",))["error"][failed] == ""
    b.close()


def test_a_resumed_scan_computes_only_the_cells_not_done(kind):
    cfg = small_config()
    cells = _requested(cfg)
    b = kind.new(cfg)
    b.write_cells([CellRecord(c, _result(cfg, c), "", 0.5, 0, 1) for c in cells[:7]])
    b = kind.end(b)
    counting = CallLog()
    out = run_scan(cfg, b, cell_fn=counting, quiet=True)
    computed = [c[:3] for c in counting.calls]
    assert out.exit_code == 0 and out.computed_this_run == len(cells) - 7 == len(computed)
    done = {(cfg.target_names[i], cfg.energies_GeV[j], cfg.masses_GeV[k]) for i, j, k in cells[:7]}
    assert not done & set(computed)
    assert run_scan(cfg, b, cell_fn=counting, quiet=True).computed_this_run == 0
    assert len(counting.calls) == len(computed)
    assert store_status(b)["complete"]
    b.close()


def test_failed_cells_count_attempts_until_max_attempts(kind):
    cfg = small_config(max_attempts=2)
    bad = _requested(cfg)[3]
    bad_coords = (cfg.target_names[bad[0]], cfg.energies_GeV[bad[1]], cfg.masses_GeV[bad[2]])

    def failing(target, energy_GeV, mass_GeV, **kw):
        if (target, energy_GeV, mass_GeV) == bad_coords:
            raise RuntimeError("no luck")
        return cheap_cell(target, energy_GeV, mass_GeV, **kw)

    b = kind.new(cfg)
    for attempt in (1, 2, 2):  # the third run does not retry it: max_attempts reached
        assert run_scan(cfg, b, cell_fn=failing, quiet=True).exit_code == 1
        b = kind.end(b)
        status, attempts = b.cell_state()
        assert status[bad] == FAILED and attempts[bad] == attempt
    assert "RuntimeError: no luck" in b.read_cells(("error",))["error"][bad]
    b.close()


def test_a_death_is_charged_to_the_running_cell_and_its_retry_is_a_suspect(kind):
    """Rank 1 reported each result and died in its first unfinished cell: charged ("process
    died"), the cell queued behind it not; the retry is a suspect until an attempt finishes."""
    cfg = small_config(max_attempts=3)
    first, behind, other = _requested(cfg)[:3]
    b = kind.new(cfg)
    b.start_cells([(first, 1), (behind, 1)], 1, 3, reports_each=True, exclusive=False)
    b.start_cells([(other, 1)], 2, 3, reports_each=True, exclusive=False)
    b.write_cells([CellRecord(other, _result(cfg, other), "", 0.5, 2, 1)])
    b = kind.die(b)
    settled = settle(b)
    assert [(r.index, r.attempts, r.rank) for r in settled.died] == [(first, 1, 1)]
    assert is_death(settled.died[0].error) and settled.suspects == [(first, 2, False)]
    status, attempts = b.cell_state()
    assert status[first] == FAILED and attempts[first] == 1 and status[behind] == PENDING and attempts[behind] == 0
    assert b.ended_attempt_logs() == {} and b.read_suspects() == [(first, 2, False)]
    assert settle(b).died == []  # settled once
    out = run_scan(cfg, b, cell_fn=cheap_cell, quiet=True)
    assert out.exit_code == 0 and b.read_suspects() == []  # computed: a suspect no more
    assert b.cell_state()[1][first] == 2
    b.close()


def test_an_exclusive_death_fails_the_last_attempt_for_good(kind):
    cfg = small_config(max_attempts=2)
    cell = _requested(cfg)[0]
    b = kind.new(cfg)
    b.write_cells([CellRecord(cell, None, "RuntimeError: x", 0.5, 0, 1)])
    b.start_cells([(cell, 2)], 0, 2, reports_each=True, exclusive=True)
    b = kind.die(b)
    settled = settle(b)
    assert [(r.index, r.attempts) for r in settled.died] == [(cell, 2)] and settled.suspects == []
    assert b.cell_state()[1][cell] == 2


def test_a_coalescing_rank_that_died_charges_nobody_and_leaves_suspects(kind):
    """Its unfinished cells become suspects (same attempt), computed alone by the next run and
    then forgotten; a returned attempt is neither charged nor suspected."""
    cfg = small_config()
    a, b_, c, d = _requested(cfg)[:4]
    b = kind.new(cfg)
    b.start_cells([(a, 1), (b_, 1), (c, 1), (d, 1)], 1, 3, reports_each=False, exclusive=False)
    b.write_cells([CellRecord(a, _result(cfg, a), "", 0.5, 1, 1)])
    b.return_cells([(d, 1)])
    b = kind.die(b)
    settled = settle(b)
    assert settled.died == [] and settled.suspects == [(b_, 1, False), (c, 1, False)]
    assert b.cell_state()[1][b_] == b.cell_state()[1][c] == 0
    b = kind.end(b)
    assert b.read_suspects() == [(b_, 1, False), (c, 1, False)]  # kept until computed
    assert run_scan(cfg, b, cell_fn=cheap_cell, quiet=True).exit_code == 0
    assert b.read_suspects() == []
    b.close()


def _same_scandata(x, y) -> None:
    assert x.targets == y.targets and x.theta == y.theta and x.convention == y.convention
    for name in ("energies_GeV", "masses_GeV", "x_f_edges", "status"):
        assert np.asarray(getattr(x, name)).tobytes() == np.asarray(getattr(y, name)).tobytes(), name
    names = [f.name for f in CELL_FIELDS if f.name != "status"]
    for name in names:
        u, v = x[name], y[name]
        assert u.dtype == v.dtype and u.shape == v.shape, name
        if u.dtype.kind in "biuf":
            assert u.tobytes() == v.tobytes(), name
        else:
            assert u.tolist() == v.tolist(), name
    ignore = ("created_unix",)
    assert {k: v for k, v in x.attrs.items() if k not in ignore} == {k: v for k, v in y.attrs.items() if k not in ignore}


def test_load_scan_reads_every_backend_alike_bit_for_bit(tmp_path):
    """The same records (done, failed, NaN/-0.0/subnormal values, a replaced record) written to
    the memory and the zarr backend: load_scan of both is equal bit for bit, before and after
    the zarr store folds its journal."""
    cfg = small_config()
    cells = _requested(cfg)
    records = []
    for n, c in enumerate(cells[:12]):
        res = _result(cfg, c)
        if n == 3:
            res.sigma_pb, res.Q = -0.0, 5e-324
            res.dsigma_dlnx_f_pb = np.array([math.nan, math.inf, -0.0] + [1 / 3] * (cfg.n_xbins - 3))
        records.append(CellRecord(c, res if n % 5 else None, "" if n % 5 else f"E: {n}", 0.1 * n, n % 3, 1 + n % 2))
    records.append(CellRecord(cells[5], _result(cfg, cells[5]), "", 9.0, 2, 3))
    memory = MemoryStore(cfg)
    disk, _ = open_for_scan(tmp_path / "s.zarr", cfg)
    disk.sync_interval_s = 1e9
    for backend in (memory, disk):
        backend.write_cells(records[:7])
        backend.write_cells(records[7:])
    _same_scandata(load_scan(memory), load_scan(disk))  # the zarr cells from its journal
    _same_scandata(load_scan(memory), load_scan(tmp_path / "s.zarr"))
    disk.close()
    _same_scandata(load_scan(memory), load_scan(tmp_path / "s.zarr"))  # folded


def test_a_scan_gives_the_same_results_in_every_backend(tmp_path):
    """run_scan into memory and onto disk: every result array equal bit for bit (timing aside)."""
    cfg = small_config()
    memory = MemoryStore(cfg)
    assert run_scan(cfg, memory, cell_fn=cheap_cell, quiet=True).exit_code == 0
    assert run_scan(cfg, tmp_path / "s.zarr", cell_fn=cheap_cell, quiet=True).exit_code == 0
    x, y = load_scan(memory), load_scan(tmp_path / "s.zarr")
    for f in CELL_FIELDS:
        if f.name not in ("seconds", "wall_seconds", "rank", "error"):
            assert x[f.name].tobytes() == y[f.name].tobytes(), f.name
    assert store_status(memory)["counts"] == store_status(tmp_path / "s.zarr")["counts"]


def _other_cell(target, energy_GeV, mass_GeV, **kw):
    """A cell function returning the result of the next mass (another cell)."""
    return cheap_cell(target, energy_GeV, mass_GeV * 1.5, **kw)


def test_a_result_of_another_cell_is_failed_not_stored_under_the_requested_one(kind):
    cfg = small_config(max_attempts=1)
    b = kind.new(cfg)
    out = run_scan(cfg, b, cell_fn=_other_cell, quiet=True)
    assert out.exit_code == 1 and out.done == 0 and out.failed == 25
    cells = b.read_cells(("status", "error", "sigma_pb"))
    requested = cells["status"] != SKIPPED
    assert (cells["status"][requested] == FAILED).all() and np.isnan(cells["sigma_pb"]).all()
    assert all("result of another cell: mass_GeV" in e for e in cells["error"][requested])
    b.close()


def test_a_complete_scan_verifies_clean_and_reads_without_warning(kind):
    import warnings

    cfg = small_config()
    b = kind.new(cfg)
    assert run_scan(cfg, b, cell_fn=cheap_cell, quiet=True).exit_code == 0
    b = kind.end(b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = load_scan(b)
        assert b.verify() == {} and (d.status[d.status != SKIPPED] == DONE).all()
    b.close()


def test_attempt_log_lines_decode_to_records():
    """The store decodes its attempt-log lines into typed records (the engine never reads the
    on-disk keys): started and returned lines, a line without ``per_cell`` (each result reported),
    and a line of another shape (left out)."""
    from lfvscan.store.attempt_log import AttemptRecord, decode_records

    lines = [{"started": [[0, 1, 2, 1], [0, 1, 3, 2]], "rank": 1, "max_attempts": 3, "per_cell": False},
             {"started": [[0, 0, 0, 1]], "rank": 0, "max_attempts": 2, "exclusive": True},
             {"returned": [[0, 1, 3, 2]]},
             {"something": "else"}]
    assert decode_records(lines) == [
        AttemptRecord((((0, 1, 2), 1), ((0, 1, 3), 2)), False, 1, 3, False, False),
        AttemptRecord((((0, 0, 0), 1),), False, 0, 2, True, True),
        AttemptRecord((((0, 1, 3), 2),), True),
    ]
