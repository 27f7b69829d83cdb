"""Scan engine (serial paths and subprocess runs): seeds, scheduling, faults, resume, signals, progress."""

from __future__ import annotations

from lfvscan.physics.process import DEFAULT_PROCESS
import io
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from lfvscan.spec.config import load_config
from lfvscan.physics import reach
from lfvscan.scan.engine import run_scan
from lfvscan.scan.cells import cell_engine
from lfvscan.xsec.engine import using
from lfvscan.scan.mpi import launch_problem
from lfvscan.physics.presets import PDG_2024
from lfvscan.physics.reach import max_mass_approx_GeV
from lfvscan.scan.plan import cell_seed, expected_cost, plan_tasks
from lfvscan.scan.signals import StopFlag
from lfvscan.scan.progress import Progress, format_duration
from lfvscan.store import open_for_scan
from lfvscan.store.backend import ScanBackend
from lfvscan.store.chunks import CRC_BYTES
from lfvscan.store.memory import MemoryStore
from lfvscan.schema import DONE, FAILED, PENDING, SKIPPED
from lfvscan.store import load_scan, store_status

from _call_log import CallLog, sigterm_drains
from _scan_cells import cheap_cell
from _scan_util import (MPIEXEC, SMALL_TOML, UNDER_MPI, assert_same_results, extra_attempts, memory_results, read_results,
                        run_scan_cli, scan_cmd, small_config, subprocess_env, write_config)

pytestmark = pytest.mark.skipif(UNDER_MPI, reason="serial test (under mpiexec only the MPI tests run)")


def _read_if_there(path: Path) -> bytes:
    """File content, or b"" if a running scan removed or replaced the file meanwhile."""
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return b""


def n_done(store: Path) -> int:
    """DONE cells: status chunk files (one int8 byte per cell of a row) plus DONE rows in the
    journal logs (intact frames only).  Exact unless a fold runs meanwhile; the tests read it while
    the scan is paused (see :func:`start_paused`) or gone."""
    from lfvscan.store.frames import decode_frames

    folded = sum(_read_if_there(p)[:-CRC_BYTES].count(bytes([DONE])) for p in (store / "status" / "c").rglob("*")
                 if p.is_file() and not p.name.endswith(".partial"))  # a chunk ends with its CRC-32C
    frames = [b for p in (store / "journal").glob("*.jnl") for b in decode_frames(_read_if_there(p))[0]]
    return folded + sum(int(b.done.sum()) for b in frames)


def start_paused(cmd: list[str], pause_dir: Path, at_cell: int, n_procs: int = 1, until_signal: bool = False,
                 timeout_s: float = 60, extra_env: dict | None = None, **popen) -> subprocess.Popen:
    """Start a scan whose processes each pause in their ``at_cell``-th cell (``_scan_cells`` knobs);
    return once ``n_procs`` processes are paused there.  Fails loudly (after killing the scan) if
    the scan exits first or nothing pauses within ``timeout_s``: polling only, no timing guess."""
    pause_dir.mkdir()
    env = subprocess_env(LFVSCAN_TEST_PAUSE_AT=str(at_cell), LFVSCAN_TEST_PAUSE_DIR=str(pause_dir),
                         LFVSCAN_TEST_PAUSE_UNTIL="signal" if until_signal else "kill", **(extra_env or {}))
    p = subprocess.Popen(cmd, env=env, **popen)
    deadline = time.monotonic() + timeout_s
    while len(list(pause_dir.glob("paused.*"))) < n_procs:
        problem = (f"scan exited with {p.returncode}" if p.poll() is not None
                   else f"no pause within {timeout_s} s" if time.monotonic() > deadline else None)
        if problem:
            kill_scan(p)
            raise AssertionError(f"{problem} before {n_procs} process(es) paused at cell {at_cell}")
        time.sleep(0.005)
    return p


def wait_for_done(p: subprocess.Popen, store: Path, n: int, timeout_s: float = 60) -> None:
    """Return once the store holds ``n`` DONE cells.  The scan's cells run in a child process that
    sends each result to the scan process, which records it: a cell the child has finished may not
    be recorded yet when the child pauses in its next cell.  Polling only, no timing guess; fails
    loudly (after killing the scan) if the scan exits or the count is not reached in ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while n_done(store) < n:
        if p.poll() is not None or time.monotonic() > deadline:
            kill_scan(p)
            raise AssertionError(f"{n_done(store)} of {n} cells recorded before the scan "
                                 f"{'exited' if p.returncode is not None else 'timed out'}")
        time.sleep(0.005)


def kill_scan(p: subprocess.Popen) -> None:
    """SIGKILL a scan (its whole process group if it has one) and reap it."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGKILL) if os.getpgid(p.pid) == p.pid else p.kill()
        except ProcessLookupError:
            pass
    p.wait(timeout=30)


@pytest.fixture
def reference(tmp_path_factory):
    """An uninterrupted serial scan of the small config (in-process)."""
    d = tmp_path_factory.mktemp("ref")
    cfg = load_config(write_config(d / "c.toml"))
    out = run_scan(cfg, str(d / "ref.zarr"), cell_fn=cheap_cell, quiet=True)
    assert out.exit_code == 0 and out.done == out.total == 25
    return d / "ref.zarr"


def test_cell_seed_is_a_pure_function_of_seed_and_index():
    seeds = [cell_seed(7, i) for i in range(100)]
    assert len(set(seeds)) == 100
    assert seeds == [cell_seed(7, i) for i in range(100)]
    assert cell_seed(8, 0) != cell_seed(7, 0)


def test_plan_largest_cost_first_closed_last_and_retry_limit(tmp_path):
    cfg = load_config(write_config(tmp_path / "c.toml"))
    status = np.where(cfg.requested()[:, :, None], PENDING, SKIPPED) * np.ones(cfg.shape, dtype=np.int8)
    attempts = np.zeros(cfg.shape, dtype=np.int32)
    status[0, 1, 0], status[0, 1, 1], attempts[0, 1, 1] = DONE, FAILED, 1
    status[0, 1, 2], attempts[0, 1, 2] = FAILED, 3
    tasks = plan_tasks(cfg, status, attempts, max_attempts=3)
    idx = [t.index for t in tasks]
    assert (0, 1, 0) not in idx and (0, 1, 2) not in idx  # done; failed with attempts exhausted
    assert (0, 1, 1) in idx and [t.attempt for t in tasks if t.index == (0, 1, 1)] == [2]
    assert len(tasks) == 25 - 2
    costs = [t.cost for t in tasks]
    assert costs == sorted(costs, reverse=True)
    closed = [t for t in tasks if t.mass_GeV >= reach.max_mass_approx_GeV(t.energy_GeV, pair=PDG_2024.lepton_pair(DEFAULT_PROCESS))]
    assert closed and tasks[-len(closed):] == closed

    def cost(E, m):
        return expected_cost(E, m, float(max_mass_approx_GeV(E, pair=PDG_2024.lepton_pair(DEFAULT_PROCESS))))

    assert cost(1000, 40) > cost(1000, 2) > cost(160, 2) > cost(160, 40)
    nE, nM = cfg.shape[1:]
    assert all(t.seed == cell_seed(7, (t.index[0] * nE + t.index[1]) * nM + t.index[2]) for t in tasks)


def test_serial_scan_values_equal_direct_cell_calls(reference):
    d = load_scan(reference)
    assert (d.status[d.status != SKIPPED] == DONE).all()
    nE, nM = d.status.shape[1:]
    for (i, j, k) in [(0, 1, 0), (1, 3, 4), (1, 2, 1)]:
        r = cheap_cell(d.targets[i], d.energies_GeV[j], d.masses_GeV[k], rel_err=0.01, n_xbins=8,
                       seed=cell_seed(7, (i * nE + j) * nM + k))
        assert d.sigma_pb[i, j, k] == r.sigma_pb
        assert d.dsigma_dlnx_f_pb[i, j, k].tobytes() == np.asarray(r.dsigma_dlnx_f_pb).tobytes()
    assert d.closed[0, 1, 4] and d.sigma_pb[0, 1, 4] == 0.0  # 40 GeV at 160 GeV is above the reach


def test_a_zarr_store_object_is_used_as_is(tmp_path, reference):
    """The zarr store passed as a ScanBackend object is used as is (and not closed); its results
    equal those of the scan run on the path (memory vs zarr: tests/test_backends.py)."""
    cfg = load_config(write_config(tmp_path / "c.toml"))
    obj, created = open_for_scan(tmp_path / "obj.zarr", cfg)
    assert created and isinstance(obj, ScanBackend)
    out = run_scan(cfg, obj, cell_fn=cheap_cell, quiet=True)
    assert out.exit_code == 0 and f"in {tmp_path / 'obj.zarr'}" in out.message
    obj.close()
    assert_same_results(reference, tmp_path / "obj.zarr")


@pytest.mark.slow
def test_failed_cells_recorded_scan_goes_on_then_retried(tmp_path, reference):
    cfg = load_config(write_config(tmp_path / "c.toml", max_attempts=2))
    store = str(tmp_path / "s.zarr")

    def flaky(target, energy_GeV, mass_GeV, **kw):
        if mass_GeV == cfg.masses_GeV[2] and energy_GeV >= 1000:
            raise ZeroDivisionError("synthetic failure\nsecond line")
        return cheap_cell(target, energy_GeV, mass_GeV, **kw)

    out = run_scan(cfg, store, cell_fn=flaky, quiet=True)
    assert out.exit_code == 1 and out.failed == 2 and out.done == 23
    d = load_scan(store)
    assert (d.status[:, 3, 2] == FAILED).all()
    import zarr

    g = zarr.open_group(store, mode="r")
    assert g["error"][0, 3, 2] == "ZeroDivisionError: synthetic failure second line"
    assert g["attempts"][0, 3, 2] == 1
    out = run_scan(cfg, store, cell_fn=flaky, quiet=True)  # second attempt fails too
    assert out.exit_code == 1 and out.computed_this_run == 2 and g["attempts"][0, 3, 2] == 2
    out = run_scan(cfg, store, cell_fn=cheap_cell, quiet=True)  # limit reached: not retried
    assert out.exit_code == 1 and out.computed_this_run == 0
    out = run_scan(cfg, store, cell_fn=cheap_cell, quiet=True, max_attempts=3)  # raised limit: retried
    assert out.exit_code == 0 and out.computed_this_run == 2 and g["error"][0, 3, 2] == ""
    ref, new = read_results(reference), read_results(Path(store))
    assert ref["sigma_pb"].tobytes() == new["sigma_pb"].tobytes()
    assert new["attempts"][0, 3, 2] == 3


@pytest.mark.slow
def test_stop_flag_drains_then_resume_is_identical(tmp_path, reference):
    cfg = load_config(write_config(tmp_path / "c.toml"))
    store = tmp_path / "s.zarr"
    stop = StopFlag()
    with sigterm_drains(stop):
        out = run_scan(cfg, str(store), cell_fn=CallLog(stop_at=4), quiet=True, stop=stop)
    assert out.exit_code == 143 and out.interrupted_by == signal.SIGTERM
    assert out.done == 4 == n_done(store)  # the cell in flight when the signal came is kept
    assert "resume with: lfvscan scan" in out.message
    out = run_scan(cfg, str(store), cell_fn=cheap_cell, quiet=True)
    assert out.exit_code == 0 and out.computed_this_run == 21
    assert_same_results(reference, store)


@pytest.mark.slow
def test_kill9_at_chosen_cells_then_resume_is_bit_identical(tmp_path, reference):
    """kill -9 while a cell computes, four times (0, 3, 7, 11 cells done), then as if a kill had
    cut a journal append and a fold short (torn last line, leftover *.partial); resume: bit-identical."""
    cfg_path = write_config(tmp_path / "c.toml")
    store = tmp_path / "s.zarr"
    # each run pauses in its k-th cell: k - 1 cells of that run are in the journal, the k-th is lost
    for k, done_after in ((1, 0), (4, 3), (5, 7), (5, 11)):
        p = start_paused(scan_cmd(cfg_path, store, "--quiet"), tmp_path / f"pause{done_after}", k,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_done(p, store, done_after)  # the cells before the paused one reach the journal
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        assert p.returncode == -signal.SIGKILL
        assert n_done(store) == done_after
    (log,) = (store / "journal").glob("*.jnl")  # the last run's cells 8..11, a frame each
    data = log.read_bytes()
    log.write_bytes(data[: len(data) - 100])  # a kill in the middle of appending cell 11
    assert n_done(store) == 10
    chunk = min(p for p in (store / "sigma_pb" / "c").rglob("*") if p.is_file())
    (chunk.parent / f".{chunk.name}.4242-0.partial").write_bytes(b"\x00\x01")  # a kill mid-fold
    r = run_scan_cli(cfg_path, store, "--quiet")
    assert r.returncode == 0, r.stderr
    assert_same_results(reference, store, ignore=("attempts",))
    assert not list(store.rglob("*.partial"))
    # each kill cost one attempt of the cell it interrupted (the 4th: cell 11, whose record was cut;
    # cell 12 queued behind it in that run's attempt log never counts), retried bit-identically
    extra = extra_attempts(reference, store)
    assert sorted(set(extra.ravel())) == [0, 1] and extra.sum() == 4
    assert not list((store / "journal").glob("*.started"))


@pytest.mark.slow
def test_sigterm_subprocess_drains_and_says_how_to_resume(tmp_path, reference):
    cfg_path = write_config(tmp_path / "c.toml")
    store = tmp_path / "s.zarr"
    p = start_paused(scan_cmd(cfg_path, store, "--progress-interval", "0.1"), tmp_path / "pause", 3, until_signal=True,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.send_signal(signal.SIGTERM)  # while cell 3 computes; it finishes once the handler has run
    out, err = p.communicate(timeout=60)
    assert p.returncode == 143, err
    assert "scan interrupted by signal 15: 3/25 cells done" in err
    assert f"resume with: lfvscan scan {cfg_path} --store {store}" in err
    assert n_done(store) == 3  # the cell in flight when the signal came is kept
    status = json.loads(subprocess.run([*scan_cmd(cfg_path, store)[:3], "status", str(store), "--json"],
                                       env=subprocess_env(), capture_output=True, text=True).stdout)
    assert status["state"] == "interrupted" and status["counts"]["done"] == 3
    r = run_scan_cli(cfg_path, store, "--quiet")
    assert r.returncode == 0, r.stderr
    assert_same_results(reference, store)


def test_cli_refuses_store_from_other_config(tmp_path, reference):
    cfg_path = write_config(tmp_path / "c.toml", seed=99)
    r = run_scan_cli(cfg_path, reference)
    assert r.returncode == 2
    assert "differs in: seed" in r.stderr and "--store NEW_PATH" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_wrong_mpi_launch_is_detected(tmp_path):
    assert launch_problem(1, {"SLURM_STEP_NUM_TASKS": "4"}).startswith("MPI launched wrongly: SLURM_STEP_NUM_TASKS=4")
    assert launch_problem(1, {"PMI_SIZE": "2"}) is not None
    assert launch_problem(2, {"PMI_SIZE": "2"}) is None
    assert launch_problem(1, {"PMI_SIZE": "1", "SLURM_NTASKS": "8"}) is None  # a serial run inside an allocation
    cfg_path = write_config(tmp_path / "c.toml")
    r = run_scan_cli(cfg_path, tmp_path / "s.zarr", SLURM_STEP_NUM_TASKS="3")
    assert r.returncode == 2 and "MPI launched wrongly" in r.stderr
    assert not (tmp_path / "s.zarr").exists()


@pytest.mark.slow
def test_mpiexec_two_ranks_kill9_worker_then_resume(tmp_path, reference):
    """kill -9 of the worker rank kills the job; resuming with 2 ranks gives the serial results."""
    cfg_path = write_config(tmp_path / "c.toml")
    store = tmp_path / "s.zarr"
    pause = tmp_path / "pause"
    # both ranks pause in their 3rd cell (rank 1 got 3 cells at once while rank 0 computed 2)
    p = start_paused([MPIEXEC, "-n", "2", *scan_cmd(cfg_path, store, "--quiet")], pause, 3, n_procs=2,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        # rank 0 registers a worker's pid (run info) before handing it its first cells
        pid = json.loads((store / "lfvscan_run.json").read_text())["pids"]["1"]
        assert (pause / f"paused.{pid}").exists()
        assert n_done(store) <= 4  # 2 cells per rank at most
        os.kill(pid, signal.SIGKILL)
        p.wait(timeout=60)  # mpiexec ends the job when a rank dies
    finally:
        kill_scan(p)
    assert p.returncode != 0
    assert n_done(store) <= 4
    r = subprocess.run([MPIEXEC, "-n", "2", *scan_cmd(cfg_path, store, "--quiet")], env=subprocess_env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert_same_results(reference, store, ignore=("attempts",))
    # the killed job's cells in flight cost at most one attempt each (a per-cell rank's; a rank
    # that coalesced its results, as rank 0 always does, charges nobody: its cells are suspects)
    extra = extra_attempts(reference, store)
    assert set(extra.ravel()) <= {0, 1} and extra.sum() <= 2


# ---------------------------------------------------------------------------- progress
class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_progress_log_lines_when_not_a_tty():
    clock, out = FakeClock(), io.StringIO()
    p = Progress(100, done_before=10, stream=out, tty=False, interval_s=5.0, every_cells=30, clock=clock)
    clock.t = 1.0
    p.update(12)  # first call prints
    clock.t = 2.0
    p.update(20)  # neither 5 s nor 30 cells since the last line
    clock.t = 7.0
    p.update(30)  # 5 s later
    clock.t = 8.0
    p.update(61, failed=1)  # 30+ cells later
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[1].endswith("scan: 30/100 cells (30.0%) | 2.86 cells/s | ETA 24s")
    assert "61/100 cells (61.0%) | 1 failed | 6.50 cells/s | ETA 6s" in lines[2]
    assert all(len(line.split()[0]) == 20 and line.split()[0].endswith("Z") for line in lines)  # UTC stamps


def test_progress_single_updating_line_on_a_tty():
    clock, out = FakeClock(), io.StringIO()
    p = Progress(10, stream=out, tty=True, clock=clock)
    for i in range(1, 11):
        clock.t = i * 0.5
        p.update(i)
    p.finish()
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert text.count("\r") == 11  # 10 redraws + final
    assert text.rstrip().endswith("scan: 10/10 cells (100.0%) | 2.00 cells/s | ETA 0s")
    assert format_duration(3725) == "1h02m" and format_duration(None) == "?"


def test_default_cell_function_is_the_real_compute_cell(tmp_path):
    """The scan runs lfvscan.xsec.compute_cell unless the config names a stand-in."""
    from lfvscan.xsec import compute_cell

    toml = 'seed = 5\nrel_err = 0.05\nn_xbins = 6\nmasses_GeV = [2.0, 20.0]\n[[targets]]\nname = "Pb"\nenergies_GeV = [160]\n'
    cfg = load_config(write_config(tmp_path / "c.toml", text=toml))
    out = run_scan(cfg, str(tmp_path / "s.zarr"), quiet=True)
    assert out.exit_code == 0 and out.done == 2
    d = load_scan(tmp_path / "s.zarr")
    with using(cell_engine(cfg)):  # the scan's integrand engine (lfvscan.xsec.engine)
        direct = compute_cell("Pb", 160.0, 2.0, rel_err=0.05, n_xbins=6, seed=cell_seed(5, 0))
    assert d.sigma_pb[0, 0, 0] == direct.sigma_pb > 0
    assert d.dsigma_dlnx_f_pb[0, 0, 0].tobytes() == np.asarray(direct.dsigma_dlnx_f_pb).tobytes()
    assert d.closed[0, 0, 1] and d.sigma_pb[0, 0, 1] == 0.0  # 20 GeV > 16.1 GeV reach at 160 GeV


@pytest.mark.slow
def test_mpiexec_sigterm_drains_all_ranks_status_works_while_running(tmp_path, reference):
    cfg_path = write_config(tmp_path / "c.toml")
    store = tmp_path / "s.zarr"
    # both ranks pause in their 3rd cell until SIGTERM has reached them
    p = start_paused([MPIEXEC, "-n", "2", *scan_cmd(cfg_path, store)], tmp_path / "pause", 3, n_procs=2,
                     until_signal=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # rank 0's 2 cells and rank 1's first (sent with its next request) reach the journal
        deadline = time.monotonic() + 60
        while n_done(store) < 3:
            assert time.monotonic() < deadline, f"only {n_done(store)} cells written while both ranks pause"
            time.sleep(0.005)
        live = store_status(store)  # what `lfvscan status` shows: a read-only view of the running scan
        assert live["state"] == "running" and live["n_ranks"] == 2
        assert 3 <= live["counts"]["done"] <= 4 and sum(live["counts"].values()) == 40
        p.send_signal(signal.SIGTERM)  # mpiexec forwards it to both ranks
        out, err = p.communicate(timeout=60)
    finally:
        kill_scan(p)
    assert p.returncode == 143, err
    assert "scan interrupted by signal 15: 6/25 cells done" in err and "resume with:" in err
    assert n_done(store) == 6  # 3 per rank: the cells in flight finish, no new ones start
    r = subprocess.run([MPIEXEC, "-n", "2", *scan_cmd(cfg_path, store, "--quiet")], env=subprocess_env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert_same_results(reference, store)


# ---------------------------------------------------------------------------- attempts that kill the process
#: an open cell of the small grid, computed early (large expected cost)
DIE_CELL = ("Pb", 1000.0, 8.944271909999156)
DIE_AT = f"{DIE_CELL[0]},{DIE_CELL[1]!r},{DIE_CELL[2]!r}"


def _die_index(store: Path) -> tuple[int, int, int]:
    cfg = load_config(write_config(store.parent / "probe.toml"))
    return (cfg.target_names.index(DIE_CELL[0]), cfg.energies_GeV.index(DIE_CELL[1]), cfg.masses_GeV.index(DIE_CELL[2]))


def _assert_others_match(reference: Path, store: Path, skip: set) -> None:
    """Every cell but those in ``skip`` bit-identical to the reference (attempts aside)."""
    ref, got = read_results(reference), read_results(store)
    mask = np.ones(ref["status"].shape, dtype=bool)
    for ijk in skip:
        mask[ijk] = False
    for name in ref:
        if name == "attempts":
            continue
        a, b = ref[name][mask], got[name][mask]
        if a.dtype.kind in "biuf":
            assert a.tobytes() == b.tobytes(), name
        else:
            assert [str(v) for v in a] == [str(v) for v in b], name


def test_a_cell_raising_systemexit_fails_with_one_line_and_the_scan_goes_on():
    """A cell that raises SystemExit is FAILED with a one-line message like any exception; the
    other cells are computed and the scan exits 1 (failed cells)."""
    from lfvscan.store.memory import MemoryStore

    cfg = small_config(max_attempts=2)
    die = (cfg.target_names.index(DIE_CELL[0]), cfg.energies_GeV.index(DIE_CELL[1]), cfg.masses_GeV.index(DIE_CELL[2]))

    def exiting(target, energy_GeV, mass_GeV, **kw):
        if (target, energy_GeV, mass_GeV) == DIE_CELL:
            raise SystemExit(7)
        return cheap_cell(target, energy_GeV, mass_GeV, **kw)

    store = MemoryStore(cfg)
    out = run_scan(cfg, store, cell_fn=exiting, quiet=True)
    assert out.exit_code == 1 and out.failed == 1 and out.done == 24
    assert store.records[die].error == ("SystemExit: the cell function called sys.exit(7); a cell must return a "
                                        "result or raise")


def test_cli_cell_raising_systemexit_is_one_line_and_exit_1(tmp_path):
    cfg_path = write_config(tmp_path / "c.toml", max_attempts=1)
    r = run_scan_cli(cfg_path, tmp_path / "s.zarr", LFVSCAN_TEST_DIE_AT=DIE_AT, LFVSCAN_TEST_DIE_HOW="systemexit")
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "scan finished: 24/25 cells done, 1 failed" in r.stderr


@pytest.mark.slow
def test_cell_killing_its_process_fails_after_max_attempts(tmp_path, reference):
    """A cell that ends its process (os._exit twice, then SIGSEGV): a serial scan computes its cells
    in a child process (lfvscan.scan.cell_process), so each death fails that cell "process died
    (attempt k/3)" at once while the run computes every other cell; each rerun retries it while
    attempts < max_attempts, then it stays FAILED (bit-identical to an uninterrupted run elsewhere)."""
    cfg_path = write_config(tmp_path / "c.toml", max_attempts=3)
    store = tmp_path / "s.zarr"
    die = _die_index(store)
    for attempt, how, end in ((1, "exit", "exited with status 7"), (2, "exit", "exited with status 7"),
                              (3, "segv", f"ended by signal {signal.SIGSEGV}")):
        r = run_scan_cli(cfg_path, store, LFVSCAN_TEST_DIE_AT=DIE_AT, LFVSCAN_TEST_DIE_HOW=how)
        assert r.returncode == 1, r.stderr
        assert "Traceback" not in r.stderr and "scan finished: 24/25 cells done, 1 failed" in r.stderr
        got = read_results(store)
        assert got["status"][die] == FAILED and got["attempts"][die] == attempt
        error = str(got["error"][die])
        assert error.startswith(f"process died (attempt {attempt}/3) on rank 0") and error.endswith(end), error
        assert not list((store / "journal").glob("*.started"))
    r = run_scan_cli(cfg_path, store, LFVSCAN_TEST_DIE_AT=DIE_AT)
    assert r.returncode == 1 and "0 to compute" in r.stderr, r.stderr  # attempts exhausted: not retried
    _assert_others_match(reference, store, {die})
    assert sorted(set(extra_attempts(reference, store).ravel())) == [0, 2]  # only the dying cell: 3 vs 1


@pytest.mark.slow
def test_mpiexec_cell_killing_its_rank_fails_after_max_attempts(tmp_path, reference):
    """Under ``mpiexec -n 2`` the dying cell kills its rank (and mpiexec the job) on a worker, or
    rank 0's cell process (FAILED at once, the job goes on); each death counts, so reruns end
    (never a loop) with that cell FAILED "process died (attempt 2/2)".  The other rank's cell in flight may lose an attempt too (which process died is
    unknowable), but never its last: it is the only FAILED cell; raising --max-attempts then
    completes every cell bit-identically."""
    cfg_path = write_config(tmp_path / "c.toml", max_attempts=2)
    store = tmp_path / "s.zarr"
    die = _die_index(store)
    cmd = [MPIEXEC, "-n", "2", *scan_cmd(cfg_path, store, "--quiet")]
    codes = []
    for _ in range(8):  # each dying run counts >= 1 attempt of a cell with < 2: at most 2 x 25 runs in theory,
        r = subprocess.run(cmd, env=subprocess_env(LFVSCAN_TEST_DIE_AT=DIE_AT), capture_output=True, text=True,
                           timeout=120)  # and 2 in practice (the dying cell is the 3rd in plan order)
        codes.append(r.returncode)
        if r.returncode in (0, 1) and read_results(store)["attempts"][die] >= 2:
            break
    assert codes[-1] == 1 and len(codes) >= 2, codes
    got = read_results(store)
    assert got["status"][die] == FAILED and got["attempts"][die] == 2
    assert str(got["error"][die]).startswith("process died (attempt 2/2)")
    assert (got["status"] == FAILED).sum() == 1  # a guess never costs an innocent cell its last attempt
    r = subprocess.run([*cmd, "--max-attempts", "5"], env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert_same_results(reference, store, ignore=("attempts",))


@pytest.mark.slow
def test_mpiexec_stopped_rank0_ends_the_job_from_the_worker_then_resume(tmp_path, reference):
    """kill -STOP of rank 0 while the worker still has cells: the worker waits for rank 0 no longer
    than the silence rank 0 allows it (rank_timeout_s), prints why and ends the job with exit 75;
    nothing written is lost and the rerun gives the uninterrupted results bit for bit."""
    cfg_path = write_config(tmp_path / "c.toml", text=_toml_with(rank_timeout_s=2))
    store = tmp_path / "s.zarr"
    pause = tmp_path / "pause"
    p = start_paused([MPIEXEC, "-n", "2", *scan_cmd(cfg_path, store, "--quiet")], pause, 2, n_procs=1,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                     extra_env={"LFVSCAN_TEST_PAUSE_RANK": "1"})
    rank0 = json.loads((store / "lfvscan_run.json").read_text())["pid"]
    try:
        os.kill(rank0, signal.SIGSTOP)  # rank 0 neither dies nor answers
        (pause / "release").touch()  # the worker goes on, and soon needs rank 0
        out, err = p.communicate(timeout=120)
    finally:
        kill_scan(p)
        try:
            os.kill(rank0, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert p.returncode == 75, err
    assert "rank 1: rank 0 has not answered for" in err and "it is hung or stopped; ending the job" in err
    r = subprocess.run([MPIEXEC, "-n", "2", *scan_cmd(cfg_path, store, "--quiet")], env=subprocess_env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert_same_results(reference, store, ignore=("attempts",))


@pytest.mark.slow
def test_mpiexec_worker_silent_from_the_start_ends_the_job(tmp_path, reference):
    """A worker stopped before its first message: rank 0 computes every cell itself, and then ends
    the job on that silent worker (exit 75) instead of waiting for it for ever."""
    cfg_path = write_config(tmp_path / "c.toml", text=_toml_with(rank_timeout_s=2))
    store = tmp_path / "s.zarr"
    p = subprocess.Popen([MPIEXEC, "-n", "2", *scan_cmd(cfg_path, store, "--quiet")],
                         env=subprocess_env(LFVSCAN_TEST_STOP_SELF_RANK="1"), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=120)
    finally:
        kill_scan(p)
    assert p.returncode == 75, err
    assert "rank 1 (pid ?) has not answered for" in err and "since the start (it never reported)" in err
    assert_same_results(reference, store, ignore=("attempts", "rank"))  # rank 0 computed every cell


@pytest.mark.slow
def test_mpiexec_cell_stuck_in_c_code_never_hangs_the_job(tmp_path, reference):
    """A cell stuck in one C call holding the GIL (no wall limit can interrupt it in its process):
    on rank 0 its cell process is killed past the limit (FAILED, the job goes on); on the worker
    rank 0 ends the job (75) and the rerun computes it as a suspect, in rank 0's cell process.
    Every run ends; at the end that cell is FAILED and every other cell bit-identical."""
    cfg_path = write_config(tmp_path / "c.toml", text=_toml_with(cell_timeout_s=1, rank_timeout_s=3).replace(
        "max_attempts = 3", "max_attempts = 2"))
    store = tmp_path / "s.zarr"
    die = _die_index(store)
    cmd = [MPIEXEC, "-n", "2", *scan_cmd(cfg_path, store, "--quiet")]
    codes = []
    for _ in range(6):
        p = subprocess.Popen(cmd, env=subprocess_env(LFVSCAN_TEST_STUCK_AT=DIE_AT), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            p.communicate(timeout=90)  # a hang would exceed this by far
        finally:
            kill_scan(p)
            try:
                os.killpg(p.pid, signal.SIGKILL)  # no stuck process of the job outlives it
            except ProcessLookupError:
                pass
        codes.append(p.returncode)
        got = read_results(store)
        if p.returncode in (0, 1) and got["status"][die] == FAILED and got["attempts"][die] >= 2:
            break
    assert set(codes) <= {1, 75} and codes[-1] == 1, codes
    assert got["status"][die] == FAILED and (got["status"] == FAILED).sum() == 1
    _assert_others_match(reference, store, {die})


@pytest.mark.slow
def test_serial_cell_stuck_in_c_code_is_failed_and_the_resume_computes_it(tmp_path, reference):
    """A serial scan: a cell stuck in one C call holding the GIL (SIGALRM cannot interrupt it) runs
    in the scan's cell process, which is killed past the hard limit (cell_timeout_s x 1.1 + 1 s):
    that cell is FAILED "CellTimeout" with attempt 1, every other cell is computed, one line, exit
    1; the rerun charges a second attempt and, the cell no longer stuck, completes the store
    bit-identically.  (Before, the scan hung for good: the subprocess timeout fails this test.)"""
    cfg_path = write_config(tmp_path / "c.toml", text=_toml_with(cell_timeout_s=0.2))
    store = tmp_path / "s.zarr"
    die = _die_index(store)
    r = run_scan_cli(cfg_path, store, timeout=90, LFVSCAN_TEST_STUCK_AT=DIE_AT)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "scan finished: 24/25 cells done, 1 failed" in r.stderr
    got = read_results(store)
    assert got["status"][die] == FAILED and got["attempts"][die] == 1
    assert str(got["error"][die]).startswith("CellTimeout: cell did not end within 1.22 s (cell_timeout_s = 0.2 s")
    assert not list((store / "journal").glob("*.started"))
    r = run_scan_cli(cfg_path, store, "--quiet")
    assert r.returncode == 0, r.stderr
    assert read_results(store)["attempts"][die] == 2
    assert_same_results(reference, store, ignore=("attempts",))


COALESCED_TOML = """\
seed = 11
rel_err = 0.01
n_xbins = 8
max_attempts = 2
rank0_computes_up_to = 0
masses_GeV = {{ min = 2.0, max = 20.0, n = 50 }}
cell_function = "_scan_cells:cheap_cell"

[[targets]]
name = "Pb"
energies_GeV = {{ min = 1000, max = 5000, n = 4 }}
"""


def _coalesced_setup(tmp_path):
    """The COALESCED_TOML scan, its uninterrupted serial reference, and its 120th cell in plan order
    (inside a coalesced batch of a worker) as the cell that kills its process."""
    cfg_path = tmp_path / "c.toml"
    cfg_path.write_text(COALESCED_TOML.format())
    cfg = load_config(cfg_path)
    reference = tmp_path / "ref.zarr"
    assert run_scan_cli(cfg_path, reference, "--quiet").returncode == 0
    die = plan_tasks(cfg, np.zeros(cfg.shape, np.int8), np.zeros(cfg.shape, np.int32), 2)[120]
    return cfg_path, cfg, reference, die, subprocess_env(LFVSCAN_TEST_DIE_AT=f"Pb,{die.energy_GeV!r},{die.mass_GeV!r}")


def _run_until_done(cmd: list[str], env: dict, max_runs: int) -> list[subprocess.CompletedProcess]:
    runs = []
    for _ in range(max_runs):
        runs.append(subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120))
        if runs[-1].returncode in (0, 1):
            break
    return runs


@pytest.mark.slow
def test_mpiexec_cell_killing_its_rank_inside_a_coalesced_batch_is_found_and_charged(tmp_path):
    """One worker computes every cell (rank0_computes_up_to = 0) and coalesces its fast cells'
    results; the 120th cell kills it.  Run 1: the running cell is unknowable (its results died with
    it): nobody is charged, the worker's unfinished cells become suspects.  Run 2 computes them
    alone, each reported at once: the culprit dies, charged 1/2; its last attempt is exclusive.  Run 3:
    rank 0 computes it at the end with nothing else running, in its cell process, which dies:
    charged 2/2, FAILED for good, and the run completes the rest.  No other cell ever lost an attempt, and every other cell is bit-identical
    to an uninterrupted serial run."""
    cfg_path, cfg, reference, die, env = _coalesced_setup(tmp_path)
    store = tmp_path / "s.zarr"
    runs = _run_until_done([MPIEXEC, "-n", "2", *scan_cmd(cfg_path, store)], env, 6)
    codes = [r.returncode for r in runs]
    assert len(codes) == 3 and all(c not in (0, 1) for c in codes[:2]) and codes[-1] == 1, codes
    assert "were running when a previous run died" in runs[1].stderr
    cell = f"target=Pb E={die.energy_GeV:g} GeV m_a={die.mass_GeV:g} GeV"
    assert f"{cell}: process died (attempt 1/2) on rank 1" in runs[2].stderr  # the killer, not a neighbour
    assert f"{cell}: process died (attempt 2/2) on rank 0" in runs[2].stderr
    got = read_results(store)
    assert got["status"][die.index] == FAILED and got["attempts"][die.index] == 2
    assert (got["status"] == FAILED).sum() == 1
    others = np.ones(cfg.shape, dtype=bool)
    others[die.index] = False
    assert (got["attempts"][others] == 1).all()  # no innocent cell was ever charged
    d = load_scan(store)
    assert (d.rank[d.status == DONE] == 1).all()  # rank0_computes_up_to = 0: rank 0 computed none
    _assert_others_match(reference, store, {die.index})
    assert not (store / "journal" / "suspects.json").exists()


@pytest.mark.slow
def test_mpiexec_two_workers_a_killing_cell_never_fails_an_innocent(tmp_path):
    """Two workers (-n 3, rank 0 only coordinates): each death tears the other worker down too, so
    which cell ended the job is a guess for every rank but one; guesses may cost innocent cells an
    attempt but never their last one.  The culprit ends FAILED "process died (attempt 2/2)" (its
    last attempt computed with nothing else running), every other cell DONE and bit-identical."""
    cfg_path, cfg, reference, die, env = _coalesced_setup(tmp_path)
    store = tmp_path / "s.zarr"
    runs = _run_until_done([MPIEXEC, "-n", "3", *scan_cmd(cfg_path, store)], env, 8)
    codes = [r.returncode for r in runs]
    assert codes[-1] == 1 and all(c not in (0, 1) for c in codes[:-1]) and len(codes) >= 3, codes
    got = read_results(store)
    assert got["status"][die.index] == FAILED and got["attempts"][die.index] == 2
    assert str(got["error"][die.index]).startswith("process died (attempt 2/2) on rank 0")
    assert (got["status"] == FAILED).sum() == 1 and "scan finished: 199/200 cells done, 1 failed" in runs[-1].stderr
    _assert_others_match(reference, store, {die.index})


# ---------------------------------------------------------------------------- hung cells, silent ranks
def _toml_with(**keys) -> str:
    extra = "".join(f"{k} = {v}\n" for k, v in keys.items())
    return SMALL_TOML.format(store="s.zarr", seed=7, max_attempts=3).replace("n_xbins = 8\n", "n_xbins = 8\n" + extra)


def test_liveness_timeout_derives_from_cell_costs_within_bounds():
    from dataclasses import replace

    from lfvscan.scan.mpi import LIVENESS_FACTOR, LIVENESS_MAX_S, LIVENESS_MIN_S, liveness_timeout_s

    cfg = small_config()  # cell_timeout_s = 3600 s by default
    assert liveness_timeout_s(cfg, None) == 3600 + LIVENESS_MIN_S  # nothing seen: the longest a cell may take
    assert liveness_timeout_s(cfg, 0.01) == LIVENESS_MIN_S
    assert liveness_timeout_s(cfg, 20.0) == LIVENESS_FACTOR * 20.0
    assert liveness_timeout_s(cfg, 1e4) == 3600 + LIVENESS_MIN_S
    assert liveness_timeout_s(replace(cfg, cell_timeout_s=0.0), 1e4) == LIVENESS_MAX_S
    assert liveness_timeout_s(replace(cfg, rank_timeout_s=7.5), 1e4) == 7.5


def test_cell_over_its_wall_limit_fails_and_the_scan_goes_on():
    """A cell blocked forever is interrupted after cell_timeout_s, recorded FAILED with that
    message, the other cells are computed, and the next run computes it bit-identically."""
    import threading
    from dataclasses import replace

    cfg = replace(small_config(), cell_timeout_s=0.5)
    die = (cfg.target_names.index(DIE_CELL[0]), cfg.energies_GeV.index(DIE_CELL[1]), cfg.masses_GeV.index(DIE_CELL[2]))
    never = threading.Event()

    def hanging(target, energy_GeV, mass_GeV, **kw):
        if (target, energy_GeV, mass_GeV) == DIE_CELL:
            never.wait()  # blocks until interrupted: the wall limit's SIGALRM
        return cheap_cell(target, energy_GeV, mass_GeV, **kw)

    store, ref = MemoryStore(cfg), MemoryStore(cfg)
    out = run_scan(cfg, store, cell_fn=hanging, quiet=True)
    assert out.exit_code == 1 and out.failed == 1 and out.done == 24
    assert store.records[die].error == ("CellTimeout: cell exceeded its wall limit of 0.5 s (cell_timeout_s); it is "
                                        "computed again by the next run while attempts < max_attempts")
    out = run_scan(cfg, store, cell_fn=cheap_cell, quiet=True)
    assert out.exit_code == 0 and out.computed_this_run == 1
    run_scan(cfg, ref, cell_fn=cheap_cell, quiet=True)
    a, b = memory_results(ref), memory_results(store)
    b[die]["attempts"] = a[die]["attempts"]  # the timed-out attempt counts
    assert a == b


@pytest.mark.slow
def test_mpiexec_hung_cell_fails_on_its_rank_and_the_rest_completes(tmp_path, reference):
    """Under mpiexec -n 2 a cell blocked forever (on whichever rank) is failed after cell_timeout_s,
    the cells queued behind it are computed, and a rerun completes the scan bit-identically."""
    cfg_path = write_config(tmp_path / "c.toml", text=_toml_with(cell_timeout_s=1))
    store = tmp_path / "s.zarr"
    cmd = [MPIEXEC, "-n", "2", *scan_cmd(cfg_path, store, "--quiet")]
    (tmp_path / "pause").mkdir()
    r = subprocess.run(cmd, env=subprocess_env(LFVSCAN_TEST_BLOCK_AT=DIE_AT, LFVSCAN_TEST_PAUSE_DIR=str(tmp_path / "pause")),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    assert len(list((tmp_path / "pause").glob("paused.*"))) == 1  # the hung cell did start
    got = read_results(store)
    die = _die_index(store)
    assert got["status"][die] == FAILED and "exceeded its wall limit of 1 s" in str(got["error"][die])
    _assert_others_match(reference, store, {die})
    r = subprocess.run(cmd, env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert_same_results(reference, store, ignore=("attempts",))


@pytest.mark.slow
def test_mpiexec_stopped_worker_ends_the_job_then_resume(tmp_path, reference):
    """kill -STOP of rank 1 while it holds cells: rank 0 gives it up after rank_timeout_s, writes
    what it has, and the job ends with exit 75 and a message naming the rank; the rerun gives the
    uninterrupted results bit for bit."""
    cfg_path = write_config(tmp_path / "c.toml", text=_toml_with(rank_timeout_s=1))
    store = tmp_path / "s.zarr"
    pause = tmp_path / "pause"
    p = start_paused([MPIEXEC, "-n", "2", *scan_cmd(cfg_path, store, "--quiet")], pause, 3, n_procs=1,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                     extra_env={"LFVSCAN_TEST_PAUSE_RANK": "1"})
    (marker,) = pause.glob("paused.*")
    pid = int(marker.name.split(".")[1])
    try:
        os.kill(pid, signal.SIGSTOP)  # rank 1 neither dies nor answers
        out, err = p.communicate(timeout=120)
    finally:
        kill_scan(p)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert p.returncode == 75, err
    assert f"rank 1 (pid {pid}) has not answered for" in err and "it is hung or stopped; ending the job" in err
    assert f"resume with: lfvscan scan {cfg_path} --store {store}" in err
    status = json.loads(subprocess.run([*scan_cmd(cfg_path, store)[:3], "status", str(store), "--json"],
                                       env=subprocess_env(), capture_output=True, text=True).stdout)
    assert status["state"] == "ended: a rank was lost"
    r = subprocess.run([MPIEXEC, "-n", "2", *scan_cmd(cfg_path, store, "--quiet")], env=subprocess_env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert_same_results(reference, store, ignore=("attempts",))
