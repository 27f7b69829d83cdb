"""Scan engine under MPI, in process: ``mpiexec -n 2 python -m pytest --only-mpi``.

Both ranks run each test together (run_scan is called on every rank); rank 0 owns the store and
does the file assertions, after a barrier.
"""

from __future__ import annotations

import signal
import time

import numpy as np
import pytest

from lfvscan.scan.config import load_config
from lfvscan.scan.engine import run_scan
from lfvscan.scan.signals import StopFlag
from lfvscan.errors import UsageError
from lfvscan.store.scandata import DONE, FAILED

from _scan_cells import cheap_cell
from _scan_util import assert_same_results, write_config


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


def slow_cell(*a, **kw):
    time.sleep(0.02)  # long enough that every rank gets cells
    return cheap_cell(*a, **kw)


@pytest.mark.mpi(min_size=2)
def test_two_ranks_give_the_serial_results_and_all_ranks_compute(tmp_path):
    comm, d, cfgs = shared_setup(tmp_path, c={})
    cfg = cfgs["c"]
    out = run_scan(cfg, str(d / "par.zarr"), cell_fn=slow_cell, comm=comm, quiet=True)
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
        return slow_cell(target, energy_GeV, mass_GeV, **kw)

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
        return slow_cell(*a, **kw)

    out = run_scan(cfg, str(d / "s.zarr"), cell_fn=cell, comm=comm, stop=stop, quiet=True)
    if comm.rank in (0, 1):  # the signalled worker and rank 0; other workers just stop
        assert out.exit_code == 143
    if comm.rank == 0:
        assert 2 <= out.done < 25
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
        from lfvscan.store.zarr_store import load_scan

        assert (load_scan(d / "s.zarr").status[load_scan(d / "s.zarr").status != 3] == DONE).all()
