"""``lfvscan run`` under MPI: ``mpiexec -n 2 python -m pytest --only-mpi``.  Every rank scans;
rank 0 alone writes the limits and figures; the store is bit-identical to a serial scan's."""

from __future__ import annotations

import pytest

from lfvscan.workflow.run import LIMITS_FILE, RunOptions, run_pipeline
from lfvscan.spec.config import load_config
from lfvscan.scan.engine import run_scan
from lfvscan.store import load_scan
from lfvscan.pheno.limits import read_limits_csv, scan_hash

from _scan_util import write_config


@pytest.mark.mpi(min_size=2)
def test_run_under_mpi_all_ranks_scan_rank0_post_processes(tmp_path):
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    d = comm.bcast(tmp_path if comm.rank == 0 else None, root=0)
    if comm.rank == 0:
        write_config(d / "c.toml")
    comm.Barrier()
    config = load_config(d / "c.toml")
    opts = RunOptions(experiments=("na64mu", "hemu"), formats=("png",), quiet=True)
    res = run_pipeline(config, (d / "c.toml").read_text(), d / "mpi.zarr", d / "out", opts)
    assert res.rank == comm.rank and res.exit_code == 0
    if comm.rank != 0:
        assert res.stages == [] and res.limits_path is None
    else:
        assert [(s.name, s.state) for s in res.stages] == [("scan", "complete"), ("limits", "built"),
                                                           ("figures", "built")]
        assert set(read_limits_csv(d / "out" / LIMITS_FILE)) >= {"na64mu/projected", "hemu/inv-ultimate"}
        assert (d / "out" / "figures" / "fig6_left_invisible.png").exists()
        assert run_scan(config, d / "serial.zarr", quiet=True).exit_code == 0
        assert scan_hash(load_scan(d / "mpi.zarr")) == scan_hash(load_scan(d / "serial.zarr"))
    comm.Barrier()
