"""Cells computed in a child process (lfvscan.scan.cell_process): a cell stuck in C code holding
the GIL, or killing its process, never blocks or ends the process that coordinates the scan."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest

from lfvscan.scan.cell_process import (QUEUED_TASKS, QUEUED_TASKS_MAX, QUEUED_WORK_S, CellProcess, hard_limit_s,
                                       queue_depth)
from lfvscan.scan.cells import compute_task
from lfvscan.scan.plan import Task
from lfvscan.store.records import RecordBatch

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


def slow_warm_up_then_slow_cell(target, energy_GeV, mass_GeV, **kw):
    """2.5 s in the warm-up cell (seed 0) and in each real cell: each within cell_timeout_s = 3 s, the two
    together beyond the hard limit 1.1 x 3 + 1 = 4.3 s."""
    import time

    time.sleep(2.5)
    return cheap_cell(target, energy_GeV, mass_GeV, **kw)


@pytest.mark.slow
def test_the_warm_up_does_not_eat_into_the_first_cells_hard_limit():
    """The first task's clock starts when the child has ended its warm-up (READY), not when the task
    was sent: a cell within its limit is not killed because the warm-up before it took long."""
    cfg = replace(small_config(), cell_timeout_s=3.0)
    assert hard_limit_s(cfg) == pytest.approx(4.3)
    cells = CellProcess(slow_warm_up_then_slow_cell, cfg, 0, 3, warm_up=True)
    try:
        cells.start()
        rec = cells.compute(_task(cfg))
        assert rec.error == "" and rec.result is not None
    finally:
        cells.close()


def warm_up_stuck_in_c(target, energy_GeV, mass_GeV, **kw):
    """The warm-up cell (seed 0) never ends; real cells are cheap."""
    if kw.get("seed") == 0:
        stuck_in_c(target, energy_GeV, mass_GeV)
    return cheap_cell(target, energy_GeV, mass_GeV, **kw)


def test_closing_a_child_in_its_warm_up_does_not_wait_for_it():
    """A run with nothing to compute closes its cell process while the warm-up runs: the child is killed
    (it holds no result), so the run ends at once.  The thread bounds a hang, it measures nothing."""
    import threading

    cells = CellProcess(warm_up_stuck_in_c, small_config(), 0, 3, warm_up=True)
    cells.start()
    pid = cells._pid
    closing = threading.Thread(target=cells.close, daemon=True)
    closing.start()
    closing.join(120)
    alive = closing.is_alive()
    if alive:  # the code under test hangs: end its child so the suite goes on
        os.kill(pid, 9)
    assert not alive


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


def _dies_at_third(target, energy_GeV, mass_GeV, **kw):
    """cheap_cell, except that the cell at mass index 2 of small_config ends its process."""
    cfg = small_config()
    if mass_GeV == cfg.masses_GeV[2]:
        os._exit(9)
    return cheap_cell(target, energy_GeV, mass_GeV, **kw)


def test_records_taken_together_stay_in_order_and_a_death_is_charged_to_its_own_cell():
    """Several tasks queued, the records that have arrived taken in one wake-up (receive_ready):
    each comes back on its own, in order, bit-identical to the cell computed in this process; the
    cell that kills the child is FAILED "process died", not a cell before or after it, and the
    cells queued behind it are computed by a new child."""
    cfg = small_config()
    tasks = [_task(cfg, (1, 2, k)) for k in range(5)]
    cells = CellProcess(_dies_at_third, cfg, 0, 3)
    try:
        for t in tasks:
            cells.send(t)
        got = []
        while cells.queued:
            got.extend(cells.receive_ready())
    finally:
        cells.close()
    assert [t.index for t, _ in got] == [t.index for t in tasks]
    for (task, batch), k in zip(got, range(5)):
        assert len(batch) == 1 and tuple(batch.index[0]) == task.index
        if k == 2:
            assert not batch.done[0] and batch.error(0).startswith("process died (attempt 1/3) on rank 0")
            continue
        ref = RecordBatch.from_records([compute_task(cheap_cell, cfg, task, 0)], cfg.n_xbins).rows.copy()
        mine = batch.rows.copy()
        ref["wall_seconds"] = mine["wall_seconds"] = 0.0
        assert mine.tobytes() == ref.tobytes(), k


def test_queue_depth_covers_the_queued_work_within_its_bounds():
    assert queue_depth(None) == QUEUED_TASKS  # before any cell is timed
    assert queue_depth(0.02) == QUEUED_TASKS  # open cells: the minimum
    assert queue_depth(0.001) == int(QUEUED_WORK_S / 0.001)
    assert queue_depth(1e-5) == queue_depth(0.0) == QUEUED_TASKS_MAX  # closed cells
