"""Cost of computing a serial scan's cells in a child process (lfvscan.scan.cell_process).

    python benchmarks/serial_cells.py [--config configs/paper.toml] [--limit N]

Every task of the config's plan (a fresh store, plan order, N first ones with ``--limit``) is
computed twice in this one run, in blocks of ``--block`` cells, alternating which mode goes first
per block so that the load of a shared host affects both alike: in this process
(:func:`lfvscan.scan.cells.compute_task`, how a serial scan computed before) and in a persistent
:class:`~lfvscan.scan.cell_process.CellProcess` as the serial scan uses it now (the next task
queued in the child, tasks pickled and records packed through pipes, the parent waiting off the GIL).  Prints the summed
wall and CPU times (parent + child) of both, the overhead in percent and per cell, and whether
both records are bit-identical.  On a host with more runnable processes than CPUs the wall times
include the scheduler's wake-up latencies, which the child's round trips pay and a single process
does not; the CPU times do not.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _same(a, b, n_xbins: int) -> bool:
    """A record computed in this process and a packed one from the child (a one-row RecordBatch):
    the same outcome and bit-identical fields (the cell's own timings aside)."""
    from lfvscan.store.records import RecordBatch

    ref = RecordBatch.from_records([a], n_xbins)
    x, y = ref.rows.copy(), b.rows.copy()
    for name in ("wall_seconds", "seconds"):
        x[name] = y[name] = 0.0
    return x.tobytes() == y.tobytes() and ref.error(0) == b.error(0)


def _cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) used so far by the process ``pid`` (Linux /proc; 0 if unknown)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _serially(cells, block: list) -> list:
    """The records of ``block`` as a serial scan of open cells gets them: QUEUED_TASKS tasks queued in the
    cell process, each record received in order."""
    from lfvscan.scan.cell_process import QUEUED_TASKS

    todo, recs = list(block), []
    while todo or cells.queued:
        while todo and cells.queued < QUEUED_TASKS:
            cells.send(todo.pop(0))
        recs.extend(rec for _, rec in cells.receive_ready())
    return recs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(REPO / "configs" / "paper.toml"))
    ap.add_argument("--limit", type=int, default=0, help="only the first N tasks of the plan (0: all)")
    ap.add_argument("--block", type=int, default=10, help="cells per block of one mode (modes alternate)")
    args = ap.parse_args()

    from lfvscan.scan.cell_process import CellProcess
    from lfvscan.scan.cells import compute_task, resolve_cell_fn
    from lfvscan.scan.plan import plan_tasks
    from lfvscan.spec.config import load_config
    from lfvscan.store.memory import MemoryStore

    config = load_config(args.config)
    status, attempts = MemoryStore(config).cell_state()
    tasks = plan_tasks(config, status, attempts, config.max_attempts)
    tasks = tasks[:args.limit] if args.limit > 0 else tasks
    cell_fn = resolve_cell_fn(config.cell_function)
    cells = CellProcess(cell_fn, config, 0, config.max_attempts)
    cells.start()
    t_in = t_child = cpu_in = cpu_child = 0.0
    same = 0
    try:
        for b in range(0, len(tasks), args.block):
            block = tasks[b:b + args.block]
            order = ("in", "child") if (b // args.block) % 2 == 0 else ("child", "in")
            recs = {}
            for how in order:
                t0, c0, k0 = time.perf_counter(), time.process_time(), _cpu_s(cells._pid)
                recs[how] = [compute_task(cell_fn, config, t, 0) for t in block] if how == "in" else \
                    _serially(cells, block)
                dt, dc = time.perf_counter() - t0, time.process_time() - c0 + _cpu_s(cells._pid) - k0
                if how == "in":
                    t_in, cpu_in = t_in + dt, cpu_in + dc
                else:
                    t_child, cpu_child = t_child + dt, cpu_child + dc
            same += sum(_same(a, c, config.n_xbins) for a, c in zip(recs["in"], recs["child"]))
    finally:
        cells.close()
    n = len(tasks)
    print(f"{Path(args.config).name}: {n} cells, one rank: wall in process {t_in:.2f} s, in a child process "
          f"{t_child:.2f} s: overhead {100 * (t_child / t_in - 1):+.2f} % ({1e3 * (t_child - t_in) / n:+.3f} ms per "
          f"cell); CPU (parent + child) {cpu_in:.2f} s vs {cpu_child:.2f} s: {100 * (cpu_child / cpu_in - 1):+.2f} %; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; bit-identical records: {same}/{n}")
    return 0 if same == n else 1


if __name__ == "__main__":
    sys.exit(main())
