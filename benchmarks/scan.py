"""Benchmark of the scan engine: demo scan with -n 1 and -n 2 (optionally the paper config).

    python benchmarks/scan.py [--config configs/demo.toml] [--ranks 1 2] [--paper] [--keep DIR]
                              [--engine-only SECONDS]

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


def run(config: Path, store: Path, n: int, extra_env: dict | None = None) -> dict:
    mpiexec = shutil.which("mpiexec") or str(Path(sys.executable).with_name("mpiexec"))
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", **(extra_env or {}))
    cmd = [mpiexec, "-n", str(n), sys.executable, "-m", "lfvscan", "scan", str(config), "--store", str(store), "--quiet"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
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
    import zarr

    ga, gb = zarr.open_group(str(a), mode="r"), zarr.open_group(str(b), mode="r")
    names = ["status", "sigma_pb", "sigma_err_pb", "dsigma_dlnx_tau_pb", "closed", "neval"]
    return all(np.asarray(ga[k][...]).tobytes() == np.asarray(gb[k][...]).tobytes() for k in names)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", type=Path, default=REPO / "configs" / "demo.toml")
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--paper", action="store_true", help="also time configs/paper.toml with every rank count")
    ap.add_argument("--keep", type=Path, help="directory for the stores (default: a temporary one, deleted)")
    ap.add_argument("--engine-only", type=float, metavar="S", help="stand-in cells sleeping S s (engine alone)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="lfvscan-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    config, extra_env = args.config, None
    if args.engine_only is not None:
        config = work / "engine-only.toml"
        config.write_text('cell_function = "_scan_cells:cheap_cell"\n' + args.config.read_text())
        extra_env = {"PYTHONPATH": str(REPO / "tests"), "LFVSCAN_TEST_SLEEP": str(args.engine_only)}
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
