"""Cells computed in a child process (lfvscan.scan.cell_process): a cell stuck in C code holding
the GIL, or killing its process, never blocks or ends the process that coordinates the scan."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest

from lfvscan.scan.cell_process import CellProcess, hard_limit_s
from lfvscan.scan.cells import compute_task
from lfvscan.scan.plan import Task

from _scan_cells import cheap_cell
from _scan_util import UNDER_MPI, small_config

pytestmark = pytest.mark.skipif(UNDER_MPI, reason="serial tests (each MPI rank would run them at once)")


def _task(cfg, index=(1, 2, 3), attempt=1):
    i, j, k = index
    return Task(index, cfg.target_names[i], cfg.energies_GeV[j], cfg.masses_GeV[k], seed=11, attempt=attempt)


def stuck_in_c(target, energy_GeV, mass_GeV, **kw):
    sum(range(10**18))  # one C call holding the GIL: no SIGALRM handler runs


def dies(target, energy_GeV, mass_GeV, **kw):
    os._exit(9)


def test_a_cell_in_the_child_gives_the_record_computed_in_process():
    cfg = small_config()
    cells = CellProcess(cheap_cell, cfg, 0, 3)
    try:
        for index in ((1, 2, 3), (0, 1, 0), (1, 0, 4)):  # the same child, one cell after another
            a, b = cells.compute(_task(cfg, index)), compute_task(cheap_cell, cfg, _task(cfg, index), 0)
            assert a.index == b.index and a.error == b.error == "" and a.attempts == b.attempts
            for name in ("sigma_pb", "sigma_err_pb", "neval"):
                assert getattr(a.result, name) == getattr(b.result, name), name
            assert np.asarray(a.result.dsigma_dlnx_f_pb).tobytes() == np.asarray(b.result.dsigma_dlnx_f_pb).tobytes()
    finally:
        cells.close()


@pytest.mark.slow
def test_a_cell_stuck_in_c_code_is_killed_past_the_hard_limit_and_the_next_cell_runs():
    cfg = replace(small_config(), cell_timeout_s=0.5)
    assert hard_limit_s(cfg) == pytest.approx(0.55 + 1.0)
    cells = CellProcess(stuck_in_c, cfg, 0, 3)
    try:
        rec = cells.compute(_task(cfg))
        assert rec.result is None and rec.error.startswith("CellTimeout: cell did not end within 1.55 s")
        cells.cell_fn = cheap_cell  # a new child takes the next cell
        assert cells.compute(_task(cfg, (0, 1, 1))).result is not None
    finally:
        cells.close()


def test_a_cell_killing_its_process_fails_with_a_death_message():
    cfg = small_config()
    cells = CellProcess(dies, cfg, 0, 3)
    try:
        rec = cells.compute(_task(cfg, attempt=2))
        assert rec.result is None and rec.attempts == 2
        assert rec.error.startswith("process died (attempt 2/3) on rank 0") and "exited with status 9" in rec.error
    finally:
        cells.close()


@pytest.mark.slow
def test_a_serial_resume_computes_an_exclusive_suspect_stuck_in_c_code_without_hanging():
    """A cell that was running on a worker when a job fell silent, on its last attempt, is an
    exclusive suspect; a serial resume computes it in a child process: stuck in C code, it is
    killed past the hard limit and FAILED, and every other cell is computed."""
    from lfvscan.scan.engine import run_scan
    from lfvscan.store.memory import MemoryStore
    from lfvscan.store.records import CellRecord
    from lfvscan.schema import DONE, FAILED

    cfg = replace(small_config(max_attempts=2), cell_timeout_s=0.5)
    suspect = (1, 2, 3)
    store = MemoryStore(cfg)
    store.write_cells([CellRecord(suspect, None, "RuntimeError: first attempt", 0.1, 1, 1)])
    store.start_cells([(suspect, 2)], 1, 2, reports_each=True, exclusive=False)  # then the job died
    i, j, k = suspect

    def stuck_there(target, energy_GeV, mass_GeV, **kw):
        if (target, energy_GeV, mass_GeV) == (cfg.target_names[i], cfg.energies_GeV[j], cfg.masses_GeV[k]):
            sum(range(10**18))
        return cheap_cell(target, energy_GeV, mass_GeV, **kw)

    out = run_scan(cfg, store, cell_fn=stuck_there, quiet=True)
    status, attempts = store.cell_state()
    assert status[suspect] == FAILED and attempts[suspect] == 2
    assert store.records[suspect].error.startswith("CellTimeout: cell did not end within")
    assert out.exit_code == 1 and out.done == 24 and (status == DONE).sum() == 24


class _SecondSignal:
    """A StopFlag whose check raises KeyboardInterrupt, as the CLI's handler does on a second signal
    while the parent waits for its cell."""

    signum = 2

    def is_set(self):
        raise KeyboardInterrupt


def test_an_abort_while_a_cell_is_stuck_kills_the_child_instead_of_waiting_for_it():
    """Leaving compute by an exception (a second Ctrl-C) with the cell still running, close() kills
    the child: waiting for it to finish its (stuck, unlimited) cell would hang the exit."""
    import threading

    cfg = replace(small_config(), cell_timeout_s=0)  # no wall limit: only the abort ends the wait
    cells = CellProcess(stuck_in_c, cfg, 0, 3, stop=_SecondSignal())
    with pytest.raises(KeyboardInterrupt):
        cells.compute(_task(cfg))
    pid = cells._pid
    closing = threading.Thread(target=cells.close, daemon=True)
    closing.start()
    closing.join(60)  # a bound for a failing run only (a waiting close never returns)
    assert not closing.is_alive()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped
