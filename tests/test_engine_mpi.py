"""Scan engine under MPI, in process: ``mpiexec -n 2 python -m pytest --only-mpi``.

Both ranks run each test together (run_scan is called on every rank); rank 0 owns the store and
does the file assertions, after a barrier.
"""

from __future__ import annotations

import signal
import time

import numpy as np
import pytest

from lfvscan.spec.config import load_config
from lfvscan.scan.engine import run_scan
from lfvscan.scan.signals import StopFlag
from lfvscan.errors import UsageError
from lfvscan.store.memory import MemoryStore
from lfvscan.schema import DONE, FAILED

from _scan_cells import cheap_cell
from _scan_util import assert_same_results, memory_results, small_config, write_config


def shared_dir(tmp_path, comm):
    """Rank 0's tmp dir, known to every rank."""
    return comm.bcast(tmp_path if comm.rank == 0 else None, root=0)


def shared_setup(tmp_path, **configs):
    """(comm, shared dir, {name: loaded config}): rank 0 writes each ``name.toml`` with the given
    ``write_config`` keywords, every rank loads them after a barrier."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    d = shared_dir(tmp_path, comm)
    if comm.rank == 0:
        for name, kw in configs.items():
            write_config(d / f"{name}.toml", **kw)
    comm.Barrier()
    return comm, d, {name: load_config(d / f"{name}.toml") for name in configs}


class StartTogether:
    """Cell function: each rank's first cell waits until every rank has started a cell, so every
    rank computes (however fast the cells and whoever asks first), then ``cell`` computes it.

    The handshake goes through files in the shared directory (a cell function must not call MPI:
    on rank 0 only the service thread does).  The wait is bounded: after ``timeout_s`` it gives up
    and :meth:`check` fails with the reason (an exception inside a cell would only mark it FAILED).
    """

    def __init__(self, d, comm, name: str, cell=cheap_cell, timeout_s: float = 60.0):
        self.dir, self.rank, self.size = d / name, comm.rank, comm.size
        self.cell, self.timeout_s = cell, timeout_s
        self.started = False
        self.problem: str | None = None

    def __call__(self, *a, **kw):
        if not self.started:
            self.started = True
            self.dir.mkdir(exist_ok=True)
            (self.dir / f"rank{self.rank}").touch()
            deadline = time.monotonic() + self.timeout_s
            while (missing := [r for r in range(self.size) if not (self.dir / f"rank{r}").exists()]):
                if time.monotonic() > deadline:
                    self.problem = f"rank {self.rank}: ranks {missing} started no cell within {self.timeout_s} s"
                    break
                time.sleep(0.001)  # polling interval only; the condition decides
        return self.cell(*a, **kw)

    def check(self) -> None:
        assert self.problem is None, self.problem


@pytest.mark.mpi(min_size=2)
def test_two_ranks_give_the_serial_results_and_all_ranks_compute(tmp_path):
    comm, d, cfgs = shared_setup(tmp_path, c={})
    cfg = cfgs["c"]
    together = StartTogether(d, comm, "par")
    out = run_scan(cfg, str(d / "par.zarr"), cell_fn=together, comm=comm, quiet=True)
    together.check()
    assert out.exit_code == 0
    if comm.rank == 0:
        ser = run_scan(cfg, str(d / "ser.zarr"), cell_fn=cheap_cell, quiet=True)
        assert ser.exit_code == 0 and out.done == ser.done == 25
        assert_same_results(d / "ser.zarr", d / "par.zarr")
        import zarr

        ranks = np.asarray(zarr.open_group(str(d / "par.zarr"), mode="r")["rank"][...])
        assert set(ranks[ranks >= 0].ravel()) == set(range(comm.size))  # rank 0 computes too
    comm.Barrier()


@pytest.mark.mpi(min_size=2)
def test_failures_recorded_under_mpi(tmp_path):
    comm, d, cfgs = shared_setup(tmp_path, c={})
    cfg = cfgs["c"]

    def failing(target, energy_GeV, mass_GeV, **kw):
        if mass_GeV == cfg.masses_GeV[0]:
            raise RuntimeError(f"bad cell on rank {comm.rank}")
        return cheap_cell(target, energy_GeV, mass_GeV, **kw)

    out = run_scan(cfg, str(d / "s.zarr"), cell_fn=failing, comm=comm, quiet=True)
    if comm.rank == 0:
        assert out.exit_code == 1 and out.failed == 5 and out.done == 20
        import zarr

        g = zarr.open_group(str(d / "s.zarr"), mode="r")
        st = np.asarray(g["status"][...])
        assert (st[..., 0][cfg.requested()] == FAILED).all()
        errs = {str(e) for e in np.asarray(g["error"][...])[st == FAILED].ravel()}
        assert errs <= {f"RuntimeError: bad cell on rank {r}" for r in range(comm.size)}
    comm.Barrier()


@pytest.mark.mpi(min_size=2)
def test_signal_on_a_worker_drains_every_rank_and_resume_completes(tmp_path):
    comm, d, cfgs = shared_setup(tmp_path, c={})
    cfg = cfgs["c"]
    stop, n = StopFlag(), []

    def cell(*a, **kw):
        n.append(1)
        if comm.rank == 1 and len(n) == 2:
            stop.set(signal.SIGTERM)  # as if SIGTERM reached only this worker
        return cheap_cell(*a, **kw)

    # rank 1 gets PREFETCH + 1 = 3 cells at once (rank 0 waits in its first cell meanwhile), so it
    # computes its 2nd cell, the signal comes during it, and it hands back the 3rd
    together = StartTogether(d, comm, "sig", cell=cell)
    out = run_scan(cfg, str(d / "s.zarr"), cell_fn=together, comm=comm, stop=stop, quiet=True)
    together.check()
    if comm.rank in (0, 1):  # the signalled worker and rank 0; other workers just stop
        assert out.exit_code == 143
    if comm.rank == 1:
        assert out.computed_this_run == 2 and out.interrupted_by == signal.SIGTERM
    if comm.rank == 0:
        assert 3 <= out.done < 25  # rank 1's 2 cells and at least rank 0's first; rank 1's 3rd is not done
    comm.Barrier()
    out = run_scan(cfg, str(d / "s.zarr"), cell_fn=cheap_cell, comm=comm, quiet=True)
    assert out.exit_code == 0
    if comm.rank == 0:
        run_scan(cfg, str(d / "ref.zarr"), cell_fn=cheap_cell, quiet=True)
        assert_same_results(d / "ref.zarr", d / "s.zarr")
    comm.Barrier()


@pytest.mark.mpi(min_size=2)
def test_store_of_other_config_refused_on_every_rank(tmp_path):
    comm, d, cfgs = shared_setup(tmp_path, a={"seed": 1}, b={"seed": 2})
    run_scan(cfgs["a"], str(d / "s.zarr"), cell_fn=cheap_cell, comm=comm, quiet=True)
    if comm.rank == 0:
        with pytest.raises(UsageError, match="differs in: seed"):
            run_scan(cfgs["b"], str(d / "s.zarr"), cell_fn=cheap_cell, comm=comm, quiet=True)
    else:
        out = run_scan(cfgs["b"], str(d / "s.zarr"), cell_fn=cheap_cell, comm=comm, quiet=True)
        assert out.exit_code == 2 and "differs in: seed" in out.message
    comm.Barrier()
    if comm.rank == 0:
        from lfvscan.store import load_scan

        assert (load_scan(d / "s.zarr").status[load_scan(d / "s.zarr").status != 3] == DONE).all()


@pytest.mark.mpi(min_size=2)
def test_two_ranks_into_a_memory_store_equal_one_rank(tmp_path):
    """The MPI transport with the in-memory backend (only rank 0 holds a store)."""
    comm, d, _ = shared_setup(tmp_path)
    cfg = small_config()
    store = MemoryStore(cfg) if comm.rank == 0 else None
    together = StartTogether(d, comm, "mem")
    out = run_scan(cfg, store, cell_fn=together, comm=comm, quiet=True)
    together.check()
    assert out.exit_code == 0
    if comm.rank == 0:
        serial = MemoryStore(cfg)
        assert run_scan(cfg, serial, cell_fn=cheap_cell, quiet=True).exit_code == 0
        assert memory_results(store) == memory_results(serial) and len(store.records) == 25
        assert {rec.rank for rec in store.records.values()} == set(range(comm.size))
        assert store.read_run_info()["pids"].keys() == {str(r) for r in range(comm.size)}
    comm.Barrier()


BIG_TOML = """seed = 3
rel_err = 0.01
n_xbins = 60
masses_GeV = {{ min = 2.0, max = 20.0, n = 200 }}
[[targets]]
name = "Pb"
energies_GeV = {{ min = 1000.0, max = 5000.0, n = {n_energies} }}
"""


@pytest.mark.mpi(min_size=2)
def test_coalesced_batches_of_megabytes_both_ways_never_deadlock(tmp_path):
    """Thousands of fast cells with 60 bins: task batches and coalesced result batches of several
    MB cross in both directions at once (beyond MPI's eager limit, where two blocking sends would
    wait for each other for ever: seen in 1 of 5 runs before rank 0's replies became non-blocking).
    Three runs each end, equal to a serial run, with the worker's results coalesced (batches not per
    cell)."""
    import tomllib

    from lfvscan.spec.config import parse_config

    comm, d, _ = shared_setup(tmp_path)
    cfg = parse_config(tomllib.loads(BIG_TOML.format(n_energies=20)))
    serial = None
    if comm.rank == 0:
        serial = MemoryStore(cfg)
        assert run_scan(cfg, serial, cell_fn=cheap_cell, quiet=True).exit_code == 0
    for attempt in range(3):
        store = MemoryStore(cfg) if comm.rank == 0 else None
        together = StartTogether(d, comm, f"big{attempt}")
        out = run_scan(cfg, store, cell_fn=together, comm=comm, quiet=True)
        together.check()
        assert out.exit_code == 0
        if comm.rank == 0:
            assert memory_results(store) == memory_results(serial) and len(store.records) == 4000
            started = [ln for ln in store.attempt_log.lines if "started" in ln]
            coalesced = [ln for ln in started if not ln["per_cell"] and ln["rank"] != 0]
            assert coalesced and max(len(ln["started"]) for ln in coalesced) >= 100  # the worker's: many cells
        comm.Barrier()
