"""Benchmark of the scan engine: demo scan with -n 1 and -n 2 (optionally the paper config).

    python benchmarks/scan.py [--config configs/demo.toml] [--ranks 1 2] [--paper] [--keep DIR]
                              [--engine-only SECONDS]
    python benchmarks/scan.py --efficiency [--repeat 3]     # issue 13: paper config, 1 vs 2 ranks
    python benchmarks/scan.py --simulate 32 [--cell-ms 50]  # issue 13: N oversubscribed ranks
    python benchmarks/scan.py --dispatch [--ranks 2]        # issue 13: rank 0's cells/s, zero-cost cells
    python benchmarks/scan.py --costs                       # rank 0's per-item costs (docs/scaling.md)
    python benchmarks/scan.py --against REF [REF ...] [--rounds 3] [--startup-only]   # commits side by side

Issue-13 modes (each prints its figures and target):

* ``--efficiency``: configs/paper.toml with ``mpiexec -n 1`` (T1) and ``-n 2`` (T2, scan phases),
  and the host's ceiling c in the same run: a cell-integration kernel (``compute_cell`` over a
  fixed list of paper cells) timed alone and as two copies at once, c = alone / together.
  Efficiency T1 / (2 c T2) (target >= 0.90; best of ``--repeat`` runs), per-rank cell count and
  summed cell time from the store's ``rank`` and ``wall_seconds`` arrays.
* ``--simulate N``: N ranks (oversubscribed) on 3000 stand-in cells that sleep ``--cell-ms`` ms
  plus ``--spin-ms`` ms of CPU; efficiency = summed cell time / (N x scan phase) (target >= 0.90
  at N = 32, 50 ms).
* ``--dispatch``: 20,000 zero-cost stand-in cells (``--xbins`` x_f bins, default 8) on ``--ranks``
  ranks: cells/s of the scan phase, and rank 0's capacity, cells per CPU second of rank 0 (target
  >= 20,000 cells/s); for each rank count > 1 also with one rank more and rank 0 only coordinating.

* ``--against REF [REF ...]``: the commits REF (temporary ``git worktree``\ s, benchmarks/_worktree.py)
  and this checkout with the same interpreter, alternating over ``--rounds`` rounds (default 3;
  medians printed): the paper config on one rank for the first REF and this checkout (T1, process
  wall and CPU seconds, evaluations per open cell; each round's store bit-identical to the first's),
  start-up end to end for every tree (``lfvscan xsec --target Pb --energy 1000 --mass 2 --json`` and
  ``mpiexec -n 2 lfvscan scan configs/demo.toml`` in a fresh store, wall and CPU seconds, after an
  untimed warm-up run), then every tree once with an empty numba cache (``NUMBA_CACHE_DIR``: the
  first run after an install compiles); ratios to the first REF.  ``--startup-only`` skips the
  paper config.  CPU seconds (the processes' and their children's) are what a busy shared host
  inflates least.

First it measures the machine's own ceiling: a fixed numpy kernel alone and as N simultaneous
copies (on shared or busy hosts N independent processes do not each run at full speed).

For each rank count it runs ``mpiexec -n N lfvscan scan CONFIG --store NEW`` in a fresh store and
reports: process wall time, scan-phase wall time (rank 0's run file: from the store being ready to
the last write; excludes interpreter start-up and imports), summed per-cell wall time, the time
rank 0 spent writing, engine+store overhead = (N x scan phase - summed cell time) / summed cell
time (everything that is not computing a cell: start-up of the scan, writes, messages, idle ranks
at the end), max RSS per rank, store size and file count.  Then the speed-up / parallel efficiency
between the first two rank counts, and whether all runs gave bit-identical results.
Targets (issue 4): -n 2 wall <= 0.55 x -n 1 wall; overhead < 5 %; paper config < 15 min on 2 cores.
Speed is machine- and load-dependent: run it on an idle machine.  ``--engine-only S`` replaces
the physics by the tests' stand-in cell (tests/_scan_cells.py) sleeping S seconds per open cell:
it measures the engine alone (dispatch, prefetch, writes), free of CPU contention between ranks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def du(path: Path) -> tuple[int, int]:
    """(bytes on disk, number of files)."""
    size, n = 0, 0
    for p in path.rglob("*"):
        if p.is_file():
            n += 1
            size += p.stat().st_blocks * 512
    return size, n


def run(config: Path, store: Path, n: int, extra_env: dict | None = None, cwd: Path | None = None) -> dict:
    mpiexec = shutil.which("mpiexec") or str(Path(sys.executable).with_name("mpiexec"))
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", **(extra_env or {}))
    cmd = [mpiexec, "-n", str(n), sys.executable, "-m", "lfvscan", "scan", str(config), "--store", str(store), "--quiet"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=cwd)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"scan failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    import zarr

    info = json.loads((store / "lfvscan_run.json").read_text())
    g = zarr.open_group(str(store), mode="r")
    status = np.asarray(g["status"][...])
    cell_wall = np.asarray(g["wall_seconds"][...])[status == 1]
    scan_wall = info["updated_unix"] - info["started_unix"]
    summed = float(cell_wall.sum())
    size, files = du(store)
    return {
        "ranks": n,
        "cells": int((status == 1).sum()),
        "wall_s": wall,
        "scan_phase_s": scan_wall,
        "summed_cell_s": summed,
        "mean_cell_s": summed / max(len(cell_wall), 1),
        "rank0_write_s": info["write_seconds"],
        "rank0_cpu_s": info.get("cpu_seconds", float("nan")),
        "overhead": (n * scan_wall - summed) / summed if summed else float("nan"),
        "max_rss_MB_per_rank": info["max_rss_MB_per_rank"],
        "store_MB": size / 1e6,
        "store_files": files,
    }


CEILING_KERNEL = (
    "import time, numpy as np\n"
    "x = np.random.default_rng(0).random(200_000)\n"
    "t = time.perf_counter()\n"
    "for _ in range(150): np.exp(np.sin(x) * np.log1p(x))\n"
    "print(time.perf_counter() - t)\n"
)


def machine_ceiling(n: int) -> tuple[float, float]:
    """Seconds of a fixed numpy kernel run alone and (mean) when n copies run at once.

    alone / together is the best per-process speed n ranks can have on this machine (shared
    caches, memory bandwidth, a busy host): the ceiling of any parallel efficiency measured here.
    """
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

    def start():
        return subprocess.Popen([sys.executable, "-c", CEILING_KERNEL], env=env, stdout=subprocess.PIPE, text=True)

    alone = float(start().communicate()[0])
    procs = [start() for _ in range(n)]
    together = float(np.mean([float(p.communicate()[0]) for p in procs]))
    return alone, together


def same(a: Path, b: Path) -> bool:
    from lfvscan.store.layout import open_group

    # under the current names, so that stores of earlier formats (a REF of --against) compare too
    ga, gb = (open_group(p, writable=False) for p in (a, b))
    names = ["status", "sigma_pb", "sigma_err_pb", "dsigma_dlnx_f_pb", "closed", "neval"]
    return all(np.asarray(ga[k][...]).tobytes() == np.asarray(gb[k][...]).tobytes() for k in names)


KERNEL_CELLS = (
    "import time\n"
    "from lfvscan.xsec import compute_cell\n"
    "cells = [('Pb', 1000.0, m) for m in (2.0, 5.0, 10.0, 20.0, 30.0)] + [('W', 300.0, m) for m in (2.0, 5.0, 10.0)]\n"
    "compute_cell('Pb', 160.0, 3.0, rel_err=0.005, seed=1)\n"  # warm-up (imports, caches)
    "t = time.perf_counter()\n"
    "for _ in range({reps}):\n"
    "    for i, (name, e, m) in enumerate(cells): compute_cell(name, e, m, rel_err=0.005, seed=i)\n"
    "print(time.perf_counter() - t)\n"
)


def cell_ceiling(reps: int = 8) -> tuple[float, float]:
    """(alone, together) seconds of the cell-integration kernel: one copy, then two at once."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    code = KERNEL_CELLS.format(reps=reps)

    def start():
        return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)

    alone = float(start().communicate()[0])
    procs = [start(), start()]
    together = float(np.mean([float(p.communicate()[0]) for p in procs]))
    return alone, together


def per_rank(store: Path) -> dict[int, tuple[int, float]]:
    """{rank: (cells computed, summed cell wall time [s])} of a store's DONE cells."""
    import zarr

    g = zarr.open_group(str(store), mode="r")
    status = np.asarray(g["status"][...])
    ranks = np.asarray(g["rank"][...])[status == 1]
    walls = np.asarray(g["wall_seconds"][...])[status == 1]
    return {int(r): (int((ranks == r).sum()), float(walls[ranks == r].sum())) for r in sorted(set(ranks.tolist()))}


def efficiency_mode(work: Path, repeat: int) -> None:
    paper = REPO / "configs" / "paper.toml"
    best = None
    for k in range(repeat):
        alone, together = cell_ceiling()
        c = alone / together
        r1 = run(paper, work / f"eff-n1-{k}.zarr", 1)
        r2 = run(paper, work / f"eff-n2-{k}.zarr", 2)
        t1, t2 = r1["scan_phase_s"], r2["scan_phase_s"]
        eff = t1 / (2 * c * t2)
        ranks = per_rank(work / f"eff-n2-{k}.zarr")
        split = ", ".join(f"rank {r}: {n} cells {s:.2f} s" for r, (n, s) in ranks.items())
        idle = json.loads((work / f"eff-n2-{k}.zarr" / "lfvscan_run.json").read_text()).get("idle_seconds_per_rank")
        if idle:
            split += f"; workers idle waiting for rank 0: {idle} s"
        print(f"run {k + 1}: T1 {t1:.2f} s, T2 {t2:.2f} s (scan phases; process walls {r1['wall_s']:.2f} / "
              f"{r2['wall_s']:.2f} s), c {c:.3f} (kernel {alone:.2f} s alone, {together:.2f} s each of 2), "
              f"efficiency T1/(2 c T2) = {eff:.3f}; summed cell time n1 {r1['summed_cell_s']:.2f} s, "
              f"n2 {r2['summed_cell_s']:.2f} s; -n 2 per rank: {split}; "
              f"bit-identical: {same(work / f'eff-n1-{k}.zarr', work / f'eff-n2-{k}.zarr')}", flush=True)
        best = eff if best is None else max(best, eff)
    print(f"paper config, 2 ranks: best efficiency T1/(2 c T2) = {best:.3f} of {repeat} run(s) (target >= 0.90)")


def _timed(cmd: list[str], env: dict, cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its descendants) of a command run in ``cwd``
    (raises on failure).  The CPU time is what a busy shared host inflates least."""
    import resource

    def cpu():
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime

    c0, t0 = cpu(), time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=cwd)
    wall, used = time.perf_counter() - t0, cpu() - c0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    return wall, used


#: the one-cell command of the start-up figures (issue 23's)
ONE_CELL = ["xsec", "--target", "Pb", "--energy", "1000", "--mass", "2", "--json"]


def _startup(tree: Path, work: Path, tag: str, cold: bool = False) -> dict:
    """Start-up end to end with lfvscan from ``tree``: ``lfvscan xsec`` for one cell
    (:data:`ONE_CELL`) and ``mpiexec -n 2 lfvscan scan configs/demo.toml`` in a fresh store, each as
    (wall, CPU) seconds; ``cold``: with a new empty numba cache (``NUMBA_CACHE_DIR``), so a tree
    that uses numba compiles.  Warm runs are preceded by an untimed one (a new worktree's cache)."""
    from _worktree import env_for

    mpiexec = shutil.which("mpiexec") or str(Path(sys.executable).with_name("mpiexec"))
    cell = [sys.executable, "-m", "lfvscan", *ONE_CELL]
    store = work / f"demo-{tag}.zarr"
    demo = [mpiexec, "-n", "2", sys.executable, "-m", "lfvscan", "scan", str(tree / "configs" / "demo.toml"),
            "--store", str(store), "--quiet"]

    def timed(cmd):
        shutil.rmtree(store, ignore_errors=True)
        cache = Path(tempfile.mkdtemp(prefix="numba-cold-", dir=work))
        try:
            return _timed(cmd, env_for(tree, **({"NUMBA_CACHE_DIR": str(cache)} if cold else {})), tree)
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    if not cold:
        timed(cell)
    return {"one": timed(cell), "demo": timed(demo)}


def _open_nevals(store: Path) -> np.ndarray:
    import zarr

    g = zarr.open_group(str(store), mode="r")
    sel = (np.asarray(g["status"][...]) == 1) & ~np.asarray(g["closed"][...])
    return np.asarray(g["neval"][...])[sel]


def _paper_t1(name: str, path: Path, work: Path, k: int) -> dict:
    """The paper config on one rank with lfvscan from ``path`` in a fresh store: T1 (scan phase),
    process wall and CPU, evaluations per open cell; bit-identity with the first round's store."""
    import resource

    store = work / f"paper-{name}-{k}.zarr"
    shutil.rmtree(store, ignore_errors=True)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    # run in the tree: ``python -m`` puts the working directory first on sys.path
    r = run(path / "configs" / "paper.toml", store, 1, {"PYTHONPATH": str(path)}, cwd=path)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
    nev = _open_nevals(store)
    same_as_first = same(work / f"paper-{name}-0.zarr", store) if k else True
    print(f"{name:>8} round {k + 1}: paper config, 1 rank: T1 {r['scan_phase_s']:.2f} s (process wall "
          f"{r['wall_s']:.2f} s, CPU {cpu:.2f} s); evaluations per open cell median {np.median(nev):.0f}, total "
          f"{nev.sum() / 1e6:.1f} M; bit-identical to round 1: {same_as_first}", flush=True)
    return dict(T1=r["scan_phase_s"], wall=r["wall_s"], cpu=cpu, neval=float(np.median(nev)))


def against_mode(refs: list[str], work: Path, rounds: int, paper: bool) -> None:
    """Commits ``refs`` and this checkout side by side, alternating ``rounds`` times (module docstring,
    ``--against``): medians of the paper config's T1 (first ref and this; unless not ``paper``) and of
    the start-up figures (every tree), and the ratios to the first ref."""
    import contextlib

    from _worktree import checkout

    with contextlib.ExitStack() as stack:
        trees = [stack.enter_context(checkout(ref)) for ref in refs]
        trees = [(short, tree) for tree, short in trees] + [("this", REPO)]
        first = trees[0][0]
        res = {name: {"paper": [], "start": []} for name, _ in trees}
        for k in range(rounds):
            for name, path in trees:
                if paper and name in (first, "this"):
                    res[name]["paper"].append(_paper_t1(name, path, work, k))
            for name, path in trees:
                st = _startup(path, work, name)
                res[name]["start"].append(st)
                print(f"{name:>8} round {k + 1}: lfvscan {' '.join(ONE_CELL)}: {st['one'][0]:.2f} s (CPU "
                      f"{st['one'][1]:.2f} s); mpiexec -n 2 demo scan {st['demo'][0]:.2f} s (CPU {st['demo'][1]:.2f} s)",
                      flush=True)
        for name, path in trees:
            st = _startup(path, work, f"cold-{name}", cold=True)
            print(f"{name:>8}, empty numba cache: one cell {st['one'][0]:.2f} s (CPU {st['one'][1]:.2f} s), demo scan "
                  f"{st['demo'][0]:.2f} s (CPU {st['demo'][1]:.2f} s)", flush=True)
        _against_summary(res, first, rounds)


def _against_summary(res: dict, first: str, rounds: int) -> None:
    """Medians over the rounds of ``against_mode`` and the ratios to the tree ``first``."""
    def med(name, part, key, i=None):
        vals = [r[key] if i is None else r[key][i] for r in res[name][part]]
        return float(np.median(vals)) if vals else float("nan")

    print(f"medians of {rounds} round(s):")
    for name in res:
        line = (f"{name:>8}: one cell {med(name, 'start', 'one', 0):.2f} s (CPU {med(name, 'start', 'one', 1):.2f} s), "
                f"demo scan {med(name, 'start', 'demo', 0):.2f} s (CPU {med(name, 'start', 'demo', 1):.2f} s)")
        if res[name]["paper"]:
            line += (f"; paper T1 {med(name, 'paper', 'T1'):.2f} s (wall {med(name, 'paper', 'wall'):.2f} s, CPU "
                     f"{med(name, 'paper', 'cpu'):.2f} s), evaluations per open cell {med(name, 'paper', 'neval'):.0f}")
        print(line)
    for name in res:
        if name == first:
            continue
        line = (f"ratios {name} / {first}: one cell x{med(name, 'start', 'one', 0) / med(first, 'start', 'one', 0):.2f} "
                f"(CPU x{med(name, 'start', 'one', 1) / med(first, 'start', 'one', 1):.2f}), demo scan "
                f"x{med(name, 'start', 'demo', 0) / med(first, 'start', 'demo', 0):.2f} "
                f"(CPU x{med(name, 'start', 'demo', 1) / med(first, 'start', 'demo', 1):.2f})")
        if res[name]["paper"]:
            line += (f"; paper T1 x{med(name, 'paper', 'T1') / med(first, 'paper', 'T1'):.3f} (speed-up "
                     f"{med(first, 'paper', 'T1') / med(name, 'paper', 'T1'):.2f}; CPU speed-up "
                     f"{med(first, 'paper', 'cpu') / med(name, 'paper', 'cpu'):.2f})")
        print(line + f"; load average now {os.getloadavg()[0]:.2f}")


def grid_toml(n_energies: int, n_masses: int, n_xbins: int, e_min: float = 1000.0, e_max: float = 5000.0,
              m_max: float = 20.0, cell: str = "cheap_cell", extra: str = "") -> str:
    """A one-target grid of open stand-in cells (masses far below the reach)."""
    return (f'store = "x.zarr"\nseed = 1\nrel_err = 0.01\nn_xbins = {n_xbins}\n{extra}'
            f'cell_function = "_scan_cells:{cell}"\n'
            f'masses_GeV = {{ min = 2.0, max = {m_max}, n = {n_masses} }}\n'
            f'[[targets]]\nname = "Pb"\nenergies_GeV = {{ min = {e_min}, max = {e_max}, n = {n_energies} }}\n')


def simulate_mode(work: Path, n: int, cell_ms: float, spin_ms: float) -> None:
    cfg = work / "simulate.toml"
    cfg.write_text(grid_toml(30, 100, 8))
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "tests"), os.environ.get("PYTHONPATH")])), "LFVSCAN_TEST_SLEEP": str(cell_ms / 1e3),
           "LFVSCAN_TEST_SPIN": str(spin_ms / 1e3)}
    row = run(cfg, work / f"simulate-n{n}.zarr", n, env)
    eff = row["summed_cell_s"] / (n * row["scan_phase_s"])
    counts = [c for c, _ in per_rank(work / f"simulate-n{n}.zarr").values()]
    print(f"simulate -n {n}: {row['cells']} cells of {cell_ms:g} ms sleep + {spin_ms:g} ms CPU, scan phase "
          f"{row['scan_phase_s']:.2f} s (process wall {row['wall_s']:.2f} s), summed cell time "
          f"{row['summed_cell_s']:.2f} s, efficiency {eff:.3f} (target >= 0.90 at N = 32, 50 ms); cells per rank "
          f"min {min(counts)} max {max(counts)}")


def dispatch_mode(work: Path, ranks: list[int], n_xbins: int) -> None:
    """Zero-cost cells: cells/s of the scan phase, and rank 0's capacity = cells / rank 0's CPU
    seconds over the scan phase (all its threads: dispatch, unpickling, journal, folds), in a job
    where rank 0 also computes (its default up to 8 ranks) and in one where it only coordinates
    (``rank0_computes_up_to = 0``, run with one rank more)."""
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "tests"), os.environ.get("PYTHONPATH")])),
           "LFVSCAN_TEST_SLEEP": "0"}
    runs = [(n, "") for n in ranks] + [(n + 1, "rank0_computes_up_to = 0\n") for n in ranks if n > 1]
    for n, extra in runs:
        cfg = work / f"dispatch-{n}-{bool(extra)}.toml"
        cfg.write_text(grid_toml(50, 400, n_xbins, cell="zero_cell", extra=extra))
        row = run(cfg, work / f"dispatch-n{n}-{bool(extra)}.zarr", n, env)
        rate = row["cells"] / row["scan_phase_s"]
        role = "rank 0 only coordinates" if extra else ("serial" if n == 1 else "rank 0 also computes")
        counts = ", ".join(f"rank {r}: {c}" for r, (c, _) in per_rank(work / f"dispatch-n{n}-{bool(extra)}.zarr").items())
        print(f"dispatch -n {n} ({role}, {n_xbins} x_f bins): {row['cells']} zero-cost cells in a scan phase of "
              f"{row['scan_phase_s']:.2f} s (process wall {row['wall_s']:.2f} s): {rate:,.0f} cells/s; rank 0 CPU "
              f"{row['rank0_cpu_s']:.2f} s, of which writing {row['rank0_write_s']:.2f} s: capacity "
              f"{row['cells'] / row['rank0_cpu_s']:,.0f} cells per rank-0 CPU second (target >= 20,000); cells per rank: "
              f"{counts}")


def per_item_costs(n_xbins: int = 60, n: int = 2000, batch: int = 100) -> None:
    """Costs per cell of each step results take (what docs/scaling.md projects from), for batches of
    ``batch`` cells (what a worker sends per RESULT_WINDOW_S at ~2.5 ms per cell), and the previous
    per-cell objects for comparison: worker packing, message pickle + unpickle, journal frame
    encoding and append, fold into a store's row chunks, one attempt line per batch, memory per
    planned task."""
    import pickle
    import tracemalloc

    sys.path.insert(0, str(REPO / "tests"))
    from _legacy_journal import encode_record
    from _scan_cells import cheap_cell

    from lfvscan.spec.config import parse_config
    from lfvscan.scan.plan import Task
    from lfvscan.store import open_for_scan
    from lfvscan.store.attempt_log import AttemptLog
    from lfvscan.store.frames import encode_batch
    from lfvscan.store.journal import Journal
    from lfvscan.store.records import CellRecord, RecordBatch
    import tomllib

    cfg = parse_config(tomllib.loads(grid_toml(1, n, n_xbins, e_max=1000.0)))
    recs = [CellRecord((0, 0, k), cheap_cell("Pb", 1000.0, cfg.masses_GeV[k], seed=k, n_xbins=n_xbins), "", 0.01, 1, 1)
            for k in range(n)]
    chunks = [recs[i:i + batch] for i in range(0, n, batch)]

    def per(fn, count=n):
        t = time.perf_counter()
        fn()
        return (time.perf_counter() - t) / count * 1e6

    old_msg = per(lambda: [pickle.loads(pickle.dumps(r, protocol=5)) for r in recs])
    old_enc = per(lambda: [encode_record(r) for r in recs])
    pack = per(lambda: [RecordBatch.from_records(c, n_xbins) for c in chunks])
    batches = [RecordBatch.from_records(c, n_xbins) for c in chunks]
    msg = per(lambda: [pickle.loads(pickle.dumps(b, protocol=5)) for b in batches])
    enc = per(lambda: [encode_batch(b) for b in batches])
    size = len(encode_batch(batches[0])) / batch
    with tempfile.TemporaryDirectory() as d:
        j = Journal(d, n_xbins)
        app = per(lambda: [j.append(b) for b in batches])
        j.close()
        store, _ = open_for_scan(Path(d) / "s.zarr", cfg)
        store.sync_interval_s = 1e9
        fold = per(lambda: ([store.write_cells(b) for b in batches], store.sync()))
        store.close()
        log = AttemptLog(Path(d) / "att")
        att = per(lambda: [log.started([((0, 0, k), 1) for k in range(i, i + batch)], 1, 3, False, False) for i in range(0, n, batch)],
                  n // batch)
        log.close()
    tracemalloc.start()
    tasks = [Task((0, 0, k), "Pb", 1000.0, 2.0, 12345, 1, 1.0) for k in range(n)]
    mem = tracemalloc.get_traced_memory()[0] / n
    tracemalloc.stop()
    del tasks
    print(f"per-cell costs, n_xbins {n_xbins}, batches of {batch} cells [us per cell]:\n"
          f"  worker: packing into a RecordBatch {pack:.1f}\n"
          f"  message: pickle + unpickle of the batch {msg:.1f} (previously one CellRecord per message: {old_msg:.0f})\n"
          f"  rank 0: journal frame encoding {enc:.1f} ({size:.0f} B per cell; previously a JSON line per cell: "
          f"{old_enc:.0f}), journal append with encoding {app:.1f}, journal + fold into the row chunks {fold:.1f}\n"
          f"  one attempt line per batch of {batch}: {att:.0f} us; planned task in memory {mem:.0f} B")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", type=Path, default=REPO / "configs" / "demo.toml")
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--paper", action="store_true", help="also time configs/paper.toml with every rank count")
    ap.add_argument("--keep", type=Path, help="directory for the stores (default: a temporary one, deleted)")
    ap.add_argument("--engine-only", type=float, metavar="S", help="stand-in cells sleeping S s (engine alone)")
    ap.add_argument("--efficiency", action="store_true", help="paper config: T1, T2, c, T1/(2 c T2), per-rank split")
    ap.add_argument("--repeat", type=int, default=3, help="runs of --efficiency (the best counts)")
    ap.add_argument("--simulate", type=int, metavar="N", help="N oversubscribed ranks on synthetic cells")
    ap.add_argument("--cell-ms", type=float, default=50.0, help="sleep of a synthetic cell [ms]")
    ap.add_argument("--spin-ms", type=float, default=1.0, help="CPU work of a synthetic cell [ms]")
    ap.add_argument("--dispatch", action="store_true", help="rank 0's dispatch capacity, zero-cost cells")
    ap.add_argument("--costs", action="store_true", help="rank 0's per-item costs (docs/scaling.md)")
    ap.add_argument("--xbins", type=int, default=8, help="x_f bins of the --dispatch cells (the paper uses 60)")
    ap.add_argument("--against", metavar="REF", nargs="+",
                    help="git commits REF... and this checkout side by side (paper T1 of the first, start-up of all)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds of --against (medians printed)")
    ap.add_argument("--startup-only", action="store_true", help="--against without the paper config")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="lfvscan-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.against:
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")
        against_mode(args.against, work, args.rounds, not args.startup_only)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    if args.costs:
        per_item_costs()
        return 0
    if args.efficiency or args.simulate or args.dispatch:
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")
        if args.efficiency:
            efficiency_mode(work, args.repeat)
        if args.simulate:
            simulate_mode(work, args.simulate, args.cell_ms, args.spin_ms)
        if args.dispatch:
            dispatch_mode(work, args.ranks, args.xbins)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    config, extra_env = args.config, None
    if args.engine_only is not None:
        config = work / "engine-only.toml"
        config.write_text('cell_function = "_scan_cells:cheap_cell"\n' + args.config.read_text())
        extra_env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "tests"), os.environ.get("PYTHONPATH")])), "LFVSCAN_TEST_SLEEP": str(args.engine_only)}
        print(f"engine only: stand-in cells sleeping {args.engine_only} s per open cell")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")
    n_max = max(args.ranks)
    if n_max > 1:
        alone, together = machine_ceiling(n_max)
        print(f"machine ceiling: a numpy kernel takes {alone:.2f} s alone, {together:.2f} s each with {n_max} copies "
              f"at once -> per-process speed {alone / together:.2f} (no parallel efficiency can exceed it here)")
    configs = [("demo" if args.config.name == "demo.toml" else args.config.stem, config, extra_env)]
    if args.paper:
        configs.append(("paper", REPO / "configs" / "paper.toml", None))
    for label, cfg, env in configs:
        rows = []
        for n in args.ranks:
            store = work / f"bench-{label}-n{n}.zarr"
            shutil.rmtree(store, ignore_errors=True)
            row = run(cfg, store, n, env)
            rows.append(row)
            print(
                f"{label} -n {n}: {row['cells']} cells, wall {row['wall_s']:.2f} s, scan phase {row['scan_phase_s']:.2f} s, "
                f"summed cell time {row['summed_cell_s']:.2f} s ({row['mean_cell_s'] * 1e3:.0f} ms/cell), "
                f"rank-0 writes {row['rank0_write_s']:.2f} s, overhead {100 * row['overhead']:.1f} %, "
                f"max RSS/rank {row['max_rss_MB_per_rank']} MB, store {row['store_MB']:.1f} MB in {row['store_files']} files"
            )
        if len(rows) >= 2:
            a, b = rows[0], rows[1]
            k = b["ranks"] / a["ranks"]
            for key, what in (("wall_s", "process wall"), ("scan_phase_s", "scan phase")):
                ratio = b[key] / a[key]
                print(f"{label} {what}: -n {b['ranks']} / -n {a['ranks']} = {ratio:.3f} (target <= 0.55), "
                      f"parallel efficiency {1 / ratio / k:.2f}")
            ok = all(same(work / f"bench-{label}-n{rows[0]['ranks']}.zarr", work / f"bench-{label}-n{r['ranks']}.zarr")
                     for r in rows[1:])
            print(f"{label} results bit-identical across rank counts: {ok}")
        if label == "paper":
            print(f"paper config: wall {rows[-1]['wall_s']:.1f} s with -n {rows[-1]['ranks']} (target < 900 s on 2 cores)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
