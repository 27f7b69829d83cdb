"""The integrand engines (lfvscan.xsec.engine): the choice by a job's cells, numpy and compiled
cells agreeing within a tiny fraction of their errors, and small jobs not importing numba.

The point-by-point and sum references of both engines are in tests/test_xsec_kernel.py (the numpy
reference d3sigma) and tests/test_xsec.py (vegas' own stratified estimate)."""

import subprocess
import sys
from pathlib import Path

import pytest

from lfvscan.scan.cells import cell_engine, compute_task
from lfvscan.scan.plan import Task
from lfvscan.spec.config import load_config
from lfvscan.xsec import compute_cell, engine
from lfvscan.xsec.engine import COMPILED_MIN_CELLS, engine_for_cells, engine_name, using

REPO = Path(__file__).resolve().parents[1]


def test_engine_follows_the_job_size_and_using_restores():
    assert engine_for_cells(1) == "numpy" and engine_for_cells(COMPILED_MIN_CELLS - 1) == "numpy"
    assert engine_for_cells(COMPILED_MIN_CELLS) == "compiled"
    before = engine_name()
    with using("numpy"):
        assert engine_name() == "numpy" and engine.current().name == "numpy"
        with using("compiled"):
            assert engine.current().name == "compiled"
        assert engine_name() == "numpy"
    assert engine_name() == before
    with pytest.raises(ValueError, match="'fortran'"):
        with using("fortran"):
            pass


@pytest.mark.parametrize("target, E, m_a, boson", [("Pb", 1000.0, 2.0, "scalar"), ("W", 300.0, 20.0, "scalar"),
                                                   ("Pb", 160.0, 5.0, "vector")])
def test_a_cell_is_the_same_with_either_engine(target, E, m_a, boson):
    """Same seed: the same evaluations and, as the engines differ only by round-off, cross sections
    and bins within 1e-6 of their errors (measured ~1e-10; vegas adapts on the values, so the
    round-off does not stay at 1e-16)."""
    from lfvscan.physics.process import Process

    process = Process("mu", "tau", boson)
    res = {}
    for name in engine.ENGINES:
        with using(name):
            res[name] = compute_cell(target, E, m_a, seed=4, process=process)
    a, b = res["compiled"], res["numpy"]
    assert a.neval == b.neval and a.sigma_pb > 0
    for field in ("sigma_pb", "sigma_coherent_pb", "sigma_incoherent_pb", "sigma_scalar_pb", "sigma_pseudoscalar_pb"):
        assert abs(getattr(a, field) - getattr(b, field)) < 1e-6 * a.sigma_err_pb, field
    assert b.sigma_err_pb == pytest.approx(a.sigma_err_pb, rel=1e-6)
    assert abs(a.dsigma_dlnx_f_pb - b.dsigma_dlnx_f_pb).max() < 1e-6 * a.dsigma_dlnx_f_err_pb.max()


def test_one_cell_from_the_cli_does_not_import_numba():
    """``lfvscan xsec`` (one cell) runs the numpy engine: numba is never imported (its import and
    first call cost more than the cell)."""
    code = ("import sys, io, contextlib\nfrom lfvscan.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    code = main(['xsec', '--target', 'Pb', '--energy', '1000', '--mass', '2', '--json'])\n"
            "print(code, 'numba' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True).stdout
    assert out.split() == ["0", "False"]


def _engine_of_the_call(*args, **kwargs):
    """A stand-in cell function that fails with the engine it ran under."""
    raise RuntimeError(f"engine={engine_name()}")


@pytest.mark.parametrize("config, want", [("demo.toml", "numpy"), ("paper.toml", "compiled")])
def test_scan_cells_run_with_the_engine_of_the_grid(config, want):
    """Every cell of a scan runs under cell_engine(config): the grid's requested cells decide (demo: 50
    cells, paper: 1932), the same on every rank and in every run of the store."""
    cfg = load_config(REPO / "configs" / config)
    assert cell_engine(cfg) == want
    rec = compute_task(_engine_of_the_call, cfg, Task((0, 0, 0), "Pb", 160.0, 2.0, 1, 1, 1.0), 0)
    assert rec.error.endswith(f"engine={want}")
