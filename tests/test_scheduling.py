"""Scheduling of the scan engine on the in-memory store: no disk, no zarr, no subprocess, no clock.

``run_scan(config, MemoryStore(config), cell_fn=...)`` runs the real plan, retries, drain and
resume; the cell functions here record what they were asked to compute (tests/_call_log.py), so the
order, the seeds and what is (not) computed after a stop are asserted exactly.
"""

from __future__ import annotations

from lfvscan.physics.process import DEFAULT_PROCESS
import signal
import subprocess
import sys

import numpy as np
import pytest

from lfvscan.errors import UsageError
from lfvscan.physics import reach
from lfvscan.scan.attribution import settle
from lfvscan.scan.coordinator import Coordinator
from lfvscan.scan.engine import run_scan
from lfvscan.scan.plan import Isolation, cell_seed, plan_tasks
from lfvscan.scan.progress import Progress
from lfvscan.scan.signals import StopFlag
from lfvscan.store.records import CellRecord, RecordBatch
from lfvscan.store.memory import MemoryStore
from lfvscan.schema import DONE, FAILED, PENDING, SKIPPED

from _call_log import CallLog as Recorder, sigterm_drains
from _scan_cells import cheap_cell
from _scan_util import UNDER_MPI, memory_results, small_config
from lfvscan.physics.presets import PDG_2024

PAIR = PDG_2024.lepton_pair(DEFAULT_PROCESS)  # beam muon, final tau (PDG masses)

pytestmark = pytest.mark.skipif(UNDER_MPI, reason="serial test (under mpiexec only the MPI tests run)")

N_REQUESTED = 25  #: requested cells of the small config (8 of them closed)


def task_keys(tasks) -> list[tuple[str, float, float, int]]:
    return [(t.target, t.energy_GeV, t.mass_GeV, t.seed) for t in tasks]


def fresh_plan(cfg):
    st, att = MemoryStore(cfg).cell_state()
    return plan_tasks(cfg, st, att, cfg.max_attempts)


@pytest.fixture(scope="module")
def uninterrupted():
    """Results of one uninterrupted serial scan of the small config into memory."""
    cfg = small_config()
    store = MemoryStore(cfg)
    out = run_scan(cfg, store, cell_fn=cheap_cell, quiet=True)
    assert out.exit_code == 0 and out.done == out.total == N_REQUESTED
    return memory_results(store)


def test_every_requested_cell_done_once_with_its_seed():
    cfg = small_config()
    store, cell = MemoryStore(cfg), Recorder()
    out = run_scan(cfg, store, cell_fn=cell, quiet=True)
    assert out.exit_code == 0 and out.done == out.total == out.computed_this_run == N_REQUESTED
    assert "scan complete: 25/25 cells done in <in-memory store>" in out.message
    status, attempts = store.cell_state()
    assert (status[cfg.requested()] == DONE).all() and (status[~cfg.requested()] == SKIPPED).all()
    assert (attempts[cfg.requested()] == 1).all()
    nE, nM = cfg.shape[1:]
    seeds = {(cfg.target_names[i], cfg.energies_GeV[j], cfg.masses_GeV[k]): cell_seed(7, (i * nE + j) * nM + k)
             for (i, j, k) in store.records}
    assert len(cell.calls) == len(seeds) == N_REQUESTED
    assert {c[:3]: c[3] for c in cell.calls} == seeds
    for (i, j, k), rec in store.records.items():
        direct = cheap_cell(cfg.target_names[i], cfg.energies_GeV[j], cfg.masses_GeV[k], rel_err=cfg.rel_err,
                            n_xbins=cfg.n_xbins, seed=cell_seed(7, (i * nE + j) * nM + k))
        assert rec.result.sigma_pb == direct.sigma_pb
        assert rec.result.dsigma_dlnx_f_pb.tobytes() == np.asarray(direct.dsigma_dlnx_f_pb).tobytes()
    assert store.read_run_info()["state"] == "finished"


def test_cells_are_computed_largest_cost_first_closed_last():
    cfg = small_config()
    cell = Recorder()
    run_scan(cfg, MemoryStore(cfg), cell_fn=cell, quiet=True)
    plan = fresh_plan(cfg)
    assert cell.calls == task_keys(plan)  # serially, exactly the plan's order
    costs = [t.cost for t in plan]
    assert costs == sorted(costs, reverse=True)
    closed = [reach.max_mass_approx_GeV(e, pair=PAIR) <= m for _, e, m, _ in cell.calls]
    assert any(closed) and closed == sorted(closed)  # all open cells, then all closed ones


def test_failed_cells_retried_while_attempts_below_max(uninterrupted):
    cfg = small_config(max_attempts=2)
    store = MemoryStore(cfg)
    broken = {(cfg.masses_GeV[2], 1000.0)}
    failing = Recorder(fail=lambda t, e, m: (m, e) in broken)
    out = run_scan(cfg, store, cell_fn=failing, quiet=True)
    assert out.exit_code == 1 and out.failed == 2 and out.done == 23 and len(failing.calls) == 25
    assert "2 failed" in out.message and "attempts < max_attempts (2;" in out.message
    bad = [idx for idx, rec in store.records.items() if rec.result is None]
    assert len(bad) == 2 and all(store.records[i].error == "ZeroDivisionError: synthetic failure second line" for i in bad)

    again = Recorder(fail=lambda t, e, m: (m, e) in broken)
    out = run_scan(cfg, store, cell_fn=again, quiet=True)  # attempt 2 of 2 fails too
    assert out.exit_code == 1 and out.computed_this_run == 2 and len(again.calls) == 2
    assert all(store.attempts[i] == 2 and store.status[i] == FAILED for i in bad)

    idle = Recorder()
    out = run_scan(cfg, store, cell_fn=idle, quiet=True)  # attempts exhausted: not retried
    assert out.exit_code == 1 and out.computed_this_run == 0 and idle.calls == []

    fixed = Recorder()
    out = run_scan(cfg, store, cell_fn=fixed, quiet=True, max_attempts=3)  # raised limit: retried
    assert out.exit_code == 0 and out.computed_this_run == 2 and len(fixed.calls) == 2
    assert all(store.attempts[i] == 3 and store.records[i].error == "" for i in bad)
    results = memory_results(store)
    for index, cell in uninterrupted.items():  # same values; only the attempt counts differ
        assert {k: v for k, v in results[index].items() if k != "attempts"} == \
               {k: v for k, v in cell.items() if k != "attempts"}, index


@pytest.mark.parametrize("k", [1, 4, 17, 25])
def test_stop_flag_drains_and_a_second_run_completes_identically(k, uninterrupted):
    cfg = small_config()
    store, stop = MemoryStore(cfg), StopFlag()
    cell = Recorder(stop_at=k)
    with sigterm_drains(stop):
        out = run_scan(cfg, store, cell_fn=cell, quiet=True, stop=stop)
    plan = task_keys(fresh_plan(cfg))
    assert cell.calls == plan[:k]  # nothing after the k-th cell was computed ...
    assert out.exit_code == 143 and out.interrupted_by == signal.SIGTERM
    assert out.done == k == len(store.records)  # ... and the cell in flight was kept
    assert "scan interrupted by signal 15" in out.message and "resume with: lfvscan scan" in out.message
    assert store.read_run_info()["state"] == "interrupted"

    rest = Recorder()
    out = run_scan(cfg, store, cell_fn=rest, quiet=True)
    assert rest.calls == plan[k:]
    assert out.exit_code == 0 and out.computed_this_run == N_REQUESTED - k and out.done == N_REQUESTED
    assert memory_results(store) == uninterrupted
    assert store.read_run_info()["state"] == "finished"


def test_stop_before_the_scan_computes_nothing():
    cfg = small_config()
    store, stop, cell = MemoryStore(cfg), StopFlag(), Recorder()
    stop.set(signal.SIGINT)
    out = run_scan(cfg, store, cell_fn=cell, quiet=True, stop=stop)
    assert out.exit_code == 130 and cell.calls == [] and store.records == {}


def test_store_of_another_config_is_refused():
    with pytest.raises(UsageError, match=r"different config \(differs in: seed\)"):
        run_scan(small_config(seed=8), MemoryStore(small_config()), cell_fn=cheap_cell, quiet=True)
    with pytest.raises(UsageError, match="store must be a path or a ScanBackend"):
        run_scan(small_config(), object(), cell_fn=cheap_cell, quiet=True)
    # max_attempts is a run setting: a store made with another value is the same scan
    out = run_scan(small_config(max_attempts=1), MemoryStore(small_config()), cell_fn=cheap_cell, quiet=True)
    assert out.exit_code == 0


def test_coordinator_hands_out_nothing_after_stop_and_counts_in_flight():
    cfg = small_config()
    store, stop = MemoryStore(cfg), StopFlag()
    status, attempts = store.cell_state()
    tasks = plan_tasks(cfg, status, attempts, 3)
    coord = Coordinator(store, cfg, tasks, stop, Progress(N_REQUESTED, enabled=False), status, 2, 3)
    a, b = coord.next_task(), coord.next_task()
    assert (a, b) == tuple(tasks[:2]) and coord.in_flight == 2
    coord.submit(CellRecord(a.index, None, "boom", 0.0, 1, a.attempt))
    stop.set()
    assert coord.next_task() is None  # draining
    coord.give_back([b])  # handed out, returned uncomputed: not queued again
    assert coord.in_flight == 0 and coord.flush() == 1 and coord.failed_now == 1
    assert store.status[a.index] == FAILED and b.index not in store.records
    coord.heartbeat("interrupted")
    info = store.read_run_info()
    assert info["state"] == "interrupted" and info["n_ranks"] == 2 and info["failed_this_run"] == 1


def test_engine_imports_neither_zarr_nor_mpi4py_for_an_in_memory_scan():
    """The engine reaches zarr only through a store path, and MPI only under an MPI launcher."""
    code = (
        "import sys\n"
        "from lfvscan.scan.engine import run_scan\n"
        "from lfvscan.store.memory import MemoryStore\n"
        "from _scan_cells import cheap_cell\n"
        "from _scan_util import small_config\n"
        "cfg = small_config()\n"
        "assert run_scan(cfg, MemoryStore(cfg), cell_fn=cheap_cell, quiet=True).exit_code == 0\n"
        "print(sorted(m for m in ('zarr', 'mpi4py') if m in sys.modules))\n"
    )
    from _scan_util import TESTS_DIR, subprocess_env

    r = subprocess.run([sys.executable, "-c", code], env=subprocess_env(), cwd=TESTS_DIR, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_batches_hold_the_target_work_and_shrink_on_the_tail():
    """Batch size = BATCH_TARGET_S / running mean cell time, capped, and at most 1/(2 x ranks) of
    the cells left; the attempts of a batch are one 'started' line, in hand-out order."""
    from lfvscan.scan.coordinator import BATCH_MAX, BATCH_TARGET_S

    cfg = small_config()
    store = MemoryStore(cfg)
    status, attempts = store.cell_state()
    tasks = plan_tasks(cfg, status, attempts, 3) * 40  # 1000 entries (the bookkeeping does not mind repeats)
    coord = Coordinator(store, cfg, tasks, StopFlag(), Progress(N_REQUESTED, enabled=False), status, 2, 3)
    assert coord.batch_size() == 1  # no cell timed yet
    coord.submit(CellRecord(tasks[0].index, None, "x", 0.01, 1, 1))  # mean 10 ms
    assert coord.batch_size() == round(BATCH_TARGET_S / 0.01) == 25
    for _ in range(200):  # cells of 1 us: the cap
        coord.submit(CellRecord(tasks[0].index, None, "x", 1e-6, 1, 1))
    assert coord.batch_size() == min(BATCH_MAX, len(tasks) // 4) == 250
    batch, per_cell = coord.next_tasks(coord.batch_size(), rank=1)
    assert batch == tasks[:250] and per_cell and len(store.attempt_log.lines) == 1
    assert store.attempt_log.lines[0]["started"][:2] == [[*t.index, t.attempt] for t in batch[:2]]
    while len(coord.tasks) > 3:
        coord.next_tasks(coord.batch_size(), rank=1)
    assert coord.batch_size() == 1  # the tail goes out cell by cell


def test_results_are_coalesced_only_where_a_crash_stays_attributable():
    """Per-cell reporting (a crash charged to the cell that was running) for rank 0's own cells, before
    any cell is timed, for cells of REPORT_EACH_MIN_S or more, and for suspects; workers coalesce fast cells."""
    from lfvscan.scan.coordinator import REPORT_EACH_MIN_S

    cfg = small_config()
    store = MemoryStore(cfg)
    status, attempts = store.cell_state()
    tasks = plan_tasks(cfg, status, attempts, 3)
    coord = Coordinator(store, cfg, tasks, StopFlag(), Progress(N_REQUESTED, enabled=False), status, 2, 3)
    assert coord.next_tasks(2, rank=1, coalesces=True)[1]  # nothing timed yet: per cell
    coord.submit(CellRecord(tasks[0].index, None, "x", 1e-3, 1, 1))
    assert not coord.next_tasks(2, rank=1, coalesces=True)[1]  # 1 ms cells: a worker coalesces
    for _ in range(100):
        coord.submit(CellRecord(tasks[0].index, None, "x", 2 * REPORT_EACH_MIN_S, 1, 1))
    assert coord.next_tasks(2, rank=1, coalesces=True)[1]  # slow cells: per cell ...
    assert not coord.next_tasks(2, rank=0)[1]  # ... but never rank 0's own (its writer thread writes them later)
    assert [ln["per_cell"] for ln in store.attempt_log.lines] == [True, False, True, False]
    serial = Coordinator(store, cfg, tasks, StopFlag(), Progress(N_REQUESTED, enabled=False), status, 1, 3)
    # serial: each reported at once, but not exclusive (the next cell is queued in the cell process
    # before this one's result is written)
    assert serial.next_tasks(2, rank=0)[1] and not store.attempt_log.lines[-1].get("exclusive")


def _line(cells, rank, per_cell=True, exclusive=False, max_attempts=2):
    """An attempt-log line as the store writes it, decoded as the store reads it back."""
    from lfvscan.store.attempt_log import decode_record

    d = {"started": [[*c, a] for c, a in cells], "rank": rank, "max_attempts": max_attempts, "per_cell": per_cell}
    if exclusive:
        d["exclusive"] = True
    return decode_record(d)


def test_a_death_is_charged_only_where_it_is_certain():
    """died_attempts on hand-made attempt logs (lfvscan.scan.attribution): which dead attempts are
    charged, which become suspects (computed alone; exclusive = at the end with nothing else running)."""
    from lfvscan.scan.attribution import died_attempts

    a, b, c, d, e = (0, 0, 0), (0, 0, 1), (0, 0, 2), (0, 1, 0), (0, 1, 1)
    att = np.zeros((1, 2, 3), dtype=np.int32)
    # one rank, per cell: its first unfinished attempt was running (b, queued behind, never started);
    # charged, and its retry (the last attempt) is an exclusive suspect
    recs, sus = died_attempts([_line([(a, 1), (b, 1)], 1)], att)
    assert [(r.index, r.attempts, r.rank) for r in recs] == [(a, 1, 1)] and sus == [(a, 2, True)]
    # its last attempt (2/2): not exclusive, so its result might have been the one lost in flight:
    # not charged, computed again with nothing else running
    recs, sus = died_attempts([_line([(a, 2)], 1)], np.ones((1, 2, 3), dtype=np.int32))
    assert recs == [] and sus == [(a, 2, True)]
    # exclusive (rank 0 computing suspects at the end of a run): certain, charged for good
    recs, sus = died_attempts([_line([(a, 2)], 0, exclusive=True)], np.ones((1, 2, 3), dtype=np.int32))
    assert [(r.index, r.attempts) for r in recs] == [(a, 2)] and sus == []
    # mpiexec tore the job down: rank 0 and rank 1 each had a cell running; both are charged once
    # (unknowable which died), but a last attempt is never failed on such a guess: exclusive suspect
    att2 = att.copy()
    att2[c] = 1
    recs, sus = died_attempts([_line([(a, 1)], 0), _line([(c, 2)], 1)], att2)
    assert [(r.index, r.attempts) for r in recs] == [(a, 1)]
    assert sus == [(a, 2, True), (c, 2, True)]
    # an exclusive attempt (nothing else ran) is certain even though another rank's log has one too
    recs, _ = died_attempts([_line([(b, 1)], 1, per_cell=False), _line([(c, 2)], 0, exclusive=True)], att2)
    assert [(r.index, r.attempts) for r in recs] == [(c, 2)]
    # a coalescing rank: nobody charged, every unfinished attempt of it a suspect (same attempt)
    att3 = att.copy()
    att3[a] = 1  # a's result arrived; b, d, e did not
    recs, sus = died_attempts([_line([(a, 1), (b, 1)], 1, per_cell=False), _line([(d, 1), (e, 1)], 1, per_cell=False)],
                              att3)
    assert recs == [] and sus == [(b, 1, False), (d, 1, False), (e, 1, False)]
    # a settling cut short after it wrote a's death: the rank is not charged a second time
    recs, sus = died_attempts([_line([(a, 1), (b, 1)], 1)], att3, settled=frozenset({(a, 1)}))
    assert recs == [] and sus == []


def test_suspects_are_computed_alone_exclusive_ones_by_rank0_at_the_end_and_then_cleared():
    """A MemoryStore whose run died: the suspects come out of settling, are planned alone in their
    cost order, handed out one per batch (per cell); exclusive ones only through next_exclusive; a
    finished attempt clears a suspect."""
    cfg = small_config(max_attempts=2)
    store = MemoryStore(cfg)
    status, attempts = store.cell_state()
    tasks = plan_tasks(cfg, status, attempts, 2)
    coord = Coordinator(store, cfg, tasks, StopFlag(), Progress(N_REQUESTED, enabled=False), status, 2, 2)
    first, _ = coord.next_tasks(1, rank=1, coalesces=True)
    coord.submit(CellRecord(first[0].index, None, "x", 1e-3, 1, 1))  # fast cells: workers coalesce
    coord.flush()
    coalesced, per_cell = coord.next_tasks(4, rank=1, coalesces=True)
    assert not per_cell  # then rank 1 dies with all four: the next run
    settled = settle(store)
    status, attempts = store.cell_state()
    assert settled.died == [] and settled.suspects == sorted((t.index, 1, False) for t in coalesced)
    replan = plan_tasks(cfg, status, attempts, 2, suspects=settled.suspects + [(tasks[5].index, 1, True)])
    assert [t.index for t in replan] == [t.index for t in plan_tasks(cfg, status, attempts, 2)]  # cost order kept
    assert {t.index for t in replan if t.isolation != Isolation.SHARED} == {t.index for t in coalesced} | {tasks[5].index}
    coord = Coordinator(store, cfg, replan, StopFlag(), Progress(N_REQUESTED, enabled=False), status, 2, 2)
    coord.submit(CellRecord(first[0].index, None, "x", 1e-3, 1, 2))
    handed = []
    while (got := coord.next_tasks(10, rank=1, coalesces=True))[0]:
        handed.append(got)
    alone = [(b, pc) for b, pc in handed if b[0].isolation != Isolation.SHARED]
    assert all(len(b) == 1 and pc for b, pc in alone) and len(alone) == 4  # one per batch, per cell
    assert coord.next_tasks(10, rank=0)[0] == []  # rank 0 under MPI never takes a suspect
    assert tasks[5].index not in {t.index for b, _ in handed for t in b}  # the exclusive one waits ...
    last = coord.next_exclusive()  # ... for rank 0, at the end
    assert last.index == tasks[5].index and store.attempt_log.lines[-1]["exclusive"] is True
    assert coord.next_exclusive() is None
    coord.submit_batch(RecordBatch.from_records([CellRecord(alone[0][0][0].index, None, "x", 1e-3, 1, 1)],
                                                cfg.n_xbins))
    coord.flush()
    store.attempt_log = type(store.attempt_log)(None)  # this run ended cleanly
    suspects = settle(store).suspects
    assert alone[0][0][0].index not in {c for c, _, _ in suspects} and len(suspects) == 3


def test_rank0_of_an_mpi_run_leaves_suspects_to_the_workers():
    """A suspect at the head of the queue is passed over by rank 0 (its results are written later by
    its writer thread) and goes, alone and per cell, to the next worker that asks."""
    from dataclasses import replace

    cfg = small_config()
    store = MemoryStore(cfg)
    status, attempts = store.cell_state()
    tasks = plan_tasks(cfg, status, attempts, 3)
    tasks[0] = replace(tasks[0], isolation=Isolation.ALONE)
    coord = Coordinator(store, cfg, tasks, StopFlag(), Progress(N_REQUESTED, enabled=False), status, 2, 3)
    own, per_cell = coord.next_tasks(3, rank=0)
    assert own == tasks[1:4] and not per_cell
    assert coord.next_tasks(3, rank=1, coalesces=True) == ([tasks[0]], True)


class _StopAfter:
    """A stop flag that turns set after ``n`` looks (a SIGTERM arriving while the plan is built)."""

    def __init__(self, n: int):
        self.n, self.looks = n, 0

    def is_set(self) -> bool:
        self.looks += 1
        return self.looks > self.n


def test_planning_stops_at_the_next_row_when_the_stop_flag_is_set():
    cfg = small_config()
    status = np.where(cfg.requested()[:, :, None], PENDING, SKIPPED) * np.ones(cfg.shape, dtype=np.int8)
    attempts = np.zeros(cfg.shape, dtype=np.int32)
    full = plan_tasks(cfg, status, attempts, 3)
    assert len(full) == N_REQUESTED
    stop = _StopAfter(2)
    assert plan_tasks(cfg, status, attempts, 3, stop) == []
    assert stop.looks == 3  # one look per (target, energy) row until it was set, not one per cell
