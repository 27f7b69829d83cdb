"""Benchmark of the vegas cross-section driver (run by hand: ``python benchmarks/xsec.py``).

Prints, for Pb and W at E = 160, 1000, 3000 GeV and m_a = 2, 5, 10, 20, 40 GeV: seconds per cell
at 0.5 % and 0.1 % relative error (with the x_tau distribution), evaluations used, the raw
integrand throughput (points per second) and the peak memory (tracemalloc for the numpy work
arrays of one call, ru_maxrss for the whole process).  Targets (one core): median <= 0.2 s at
0.5 %, <= 2 s at 0.1 %, >= 1e6 points/s, < 500 MB.

Options: ``--quick`` (only Pb at 1 TeV), ``--batch N`` (points per throughput batch), ``--tails``
(instead: the 2 cm selection's tail x_tau >= 0.4 at 1 TeV, m_a = 5 .. 28 GeV, over ``--seeds`` seeds --
tail fraction, quoted and seed-rms relative error, evaluations and seconds per cell; docs/physics.md §7.12),
``--against REF`` (instead: the quick cells with the commit REF, e.g. ``HEAD~3`` or ``main``, and with
this checkout side by side, alternating ``--rounds`` times in one run: integrand points/s, evaluations
and seconds per cell at 0.5 %, and the ratios; benchmarks/_worktree.py), ``--processes`` (instead: per
lepton pair and boson family, CPU seconds and evaluations per cell at 0.5 % and 0.1 % on the same cells, Pb
and W at 160 and 1000 GeV, m = 2, 5, 10, 20 GeV (those open for every pair), ``--seeds`` seeds each;
medians and their ratios to mu -> tau of the same family; docs/scaling.md), ``--real-points`` (instead:
the compiled integrand's CPU nanoseconds per point on the points vegas itself sends in a few paper cells,
where most points are computed in full, unlike the box-uniform batch; with ``--against REF`` both
commits time the same recorded points, alternating).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import tracemalloc

import numpy as np

from lfvscan.physics.presets import PDG_2024
from lfvscan.physics.process import DEFAULT_PROCESS, Process
from lfvscan.xsec import cell_physics, compute_cell, integrand_points, is_open

PAIR = PDG_2024.lepton_pair(DEFAULT_PROCESS)  # beam muon, final tau (PDG masses)


def throughput(target, E, m_a, batch, repeats=5):
    """Integrand points per second on uniform random points of the vegas box (the compiled integrand,
    lfvscan/xsec/kernel.py; points outside the physical region leave it early)."""
    cp = cell_physics(target, E, m_a, physics=PDG_2024, pair=PAIR, boson="scalar")
    lo, hi = np.array(cp.bounds).T
    rng = np.random.default_rng(0)
    y = lo + (hi - lo) * rng.random((batch, 3))
    integrand_points(y, cp)  # warm up
    t0 = time.perf_counter()
    for _ in range(repeats):
        integrand_points(y, cp)
    return repeats * batch / (time.perf_counter() - t0)


def tails(n_seeds: int):
    """Precision and cost of the upper tail x_tau >= 0.4 (2 cm at 1 TeV) per cell, over seeds."""
    print(f"Pb 1000 GeV, tail x_tau >= 0.4, rel_err 0.5 %, {n_seeds} seeds")
    print("  m_a | tail/sigma | quoted err% | rms err% | neval(median) | s/cell(median)")
    for m_a in (5.0, 10.0, 14.1421, 18.8775, 23.7841, 26.6968, 28.2843):
        vals, errs, nev, secs = [], [], [], []
        for seed in range(n_seeds):
            t0 = time.perf_counter()
            r = compute_cell("Pb", 1000.0, m_a, seed=seed)
            secs.append(time.perf_counter() - t0)
            k = int(np.searchsorted(r.x_f_edges, 0.4))
            dl = np.diff(np.log(r.x_f_edges))
            vals.append(float(np.sum(r.dsigma_dlnx_f_pb[k:] * dl[k:])))
            errs.append(float(r.sigma_above_x_err_pb[k]))
            nev.append(r.neval)
            frac = vals[-1] / r.sigma_pb
        mean = statistics.mean(vals)
        print(f"{m_a:5.1f} | {frac:10.2e} | {100 * statistics.mean(errs) / mean:11.2f} | "
              f"{100 * statistics.stdev(vals) / mean:8.2f} | {statistics.median(nev):13.0f} | {statistics.median(secs):.3f}")


PAIRS = (("mu", "tau"), ("e", "tau"), ("mu", "e"), ("e", "mu"))


def processes(n_seeds: int) -> None:
    """CPU seconds and evaluations per cell for each lepton pair and boson family at 0.5 % and 0.1 %,
    and their ratios to mu -> tau (same cells, seeds and family)."""
    cells = [(tgt, E, m) for tgt in ("Pb", "W") for E in (160.0, 1000.0) for m in (2.0, 5.0, 10.0, 20.0)
             if all(is_open(tgt, E, m, pair=PDG_2024.lepton_pair(Process(b, f, "scalar"))) for b, f in PAIRS)]
    print(f"{len(cells)} cells open for every pair (Pb, W; 160, 1000 GeV; m = 2, 5, 10, 20 GeV), {n_seeds} seeds; "
          "medians of CPU seconds and evaluations per cell")
    for boson in ("scalar", "vector"):
        base = {}
        for b, f in PAIRS:
            process = Process(b, f, boson)
            compute_cell("Pb", 1000.0, 5.0, process=process, rel_err=0.05)  # warm up (compiled kernel, caches)
            row = []
            for rel in (0.005, 0.001):
                secs, nev = [], []
                for tgt, E, m in cells:
                    for seed in range(n_seeds):
                        t0 = time.process_time()
                        r = compute_cell(tgt, E, m, rel_err=rel, seed=seed, process=process)
                        secs.append(time.process_time() - t0)
                        nev.append(r.neval)
                med = (statistics.median(secs), statistics.median(nev))
                base.setdefault(rel, med)
                row.append(f"{rel:.1%}: {med[0]:.3f} s {med[1]:8.0f} evals (x{med[0] / base[rel][0]:.2f} time, "
                           f"x{med[1] / base[rel][1]:.2f} evals)")
            print(f"{process.label():22s} " + " | ".join(row))


#: paper cells (target, E [GeV], m_a [GeV]) whose vegas points ``--real-points`` records
REAL_CELLS = (("Pb", 160.0, 2.0), ("Pb", 1000.0, 5.0), ("Pb", 1000.0, 40.0), ("W", 10.0, 2.2272),
              ("W", 120.0, 7.937), ("W", 1000.0, 20.0), ("W", 5000.0, 75.5099))

RECORD = """
import numpy as np
import lfvscan.xsec.integrand as itg
from lfvscan.xsec import compute_cell
seen = {{1: [], 2: []}}
rows_of = {{}}
orig = itg._integrand
def rec(y, cp, rows):
    seen[len(rows)].append(np.array(y, dtype=np.float64))
    rows_of[len(rows)] = np.asarray(rows, dtype=np.float64)
    return orig(y, cp, rows)
itg._integrand = rec
out = {{}}
for i, (tgt, E, m) in enumerate({cells!r}):
    seen[1].clear(); seen[2].clear()
    compute_cell(tgt, E, m, seed=1, rel_err=0.005)
    for k in (1, 2):
        out[f"y{{k}}_{{i}}"] = np.concatenate(seen[k])
        out[f"rows{{k}}_{{i}}"] = rows_of[k]
    out[f"cell{{i}}"] = np.array([E, m, 0.0 if tgt == "Pb" else 1.0])
np.savez({path!r}, **out)
"""

TIME_REAL = """
import json, time
import numpy as np
from lfvscan.physics.presets import PDG_2024
from lfvscan.physics.process import DEFAULT_PROCESS
from lfvscan.xsec import cell_physics
from lfvscan.xsec.integrand import _integrand
d = np.load({path!r})
ns, npts = [], []
for i in range(len([k for k in d.files if k.startswith("cell")])):
    E, m, tg = d[f"cell{{i}}"]
    cp = cell_physics("Pb" if tg == 0.0 else "W", float(E), float(m), physics=PDG_2024,
                      pair=PDG_2024.lepton_pair(DEFAULT_PROCESS), boson="scalar")
    calls = [(d[f"y{{k}}_{{i}}"], d[f"rows{{k}}_{{i}}"]) for k in (1, 2)]
    for y, rows in calls:
        _integrand(y[:100], cp, rows)  # compile / load
    best = float("inf")
    for _ in range({repeats}):
        t = time.process_time()
        for y, rows in calls:
            _integrand(y, cp, rows)
        best = min(best, time.process_time() - t)
    n = sum(len(y) for y, _ in calls)
    ns.append(best / n * 1e9)
    npts.append(n)
print(json.dumps({{"ns": ns, "n": npts}}))
"""


def real_points(ref: str | None, rounds: int, repeats: int = 5) -> None:
    """CPU ns per point of the compiled integrand on vegas' own points of :data:`REAL_CELLS` (recorded
    once with this checkout, seed 1), for this checkout and, with ``ref``, for commit ``ref`` alternating."""
    import contextlib
    import json
    import shutil
    import tempfile
    from pathlib import Path

    from _worktree import REPO, checkout, python_in

    tmp = Path(tempfile.mkdtemp(prefix="lfvscan-pts-"))
    path = str(tmp / "points.npz")
    try:
        python_in(REPO, RECORD.format(cells=REAL_CELLS, path=path))
        code = TIME_REAL.format(path=path, repeats=repeats)
        with (checkout(ref) if ref else contextlib.nullcontext((None, None))) as (tree, short):
            trees = ([(short, tree)] if ref else []) + [("this", REPO)]
            runs = {name: [] for name, _ in trees}
            for _ in range(rounds):
                for name, t in trees:
                    runs[name].append(json.loads(python_in(Path(t), code)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = runs["this"][0]["n"]
    print("cell                 points | " + " | ".join(f"{name:>8} ns/pt" for name in runs))
    med = {name: [statistics.median(r["ns"][i] for r in rs) for i in range(len(n))] for name, rs in runs.items()}
    for i, cell in enumerate(REAL_CELLS):
        print(f"{cell[0]:>2} {cell[1]:6.0f} {cell[2]:8.4f} {n[i]:8d} | " + " | ".join(f"{med[k][i]:14.1f}" for k in med))
    tot = {k: sum(v * m for v, m in zip(med[k], n)) / sum(n) for k in med}
    print("point-weighted mean ns/pt: " + ", ".join(f"{k} {v:.1f}" for k, v in tot.items()))
    if ref:
        print(f"ratio {short} / this: x{tot[short] / tot['this']:.2f} (CPU time, best of {repeats} per round, "
              f"medians over {rounds} round(s))")


SIDE_BY_SIDE = """
import json, time
import numpy as np
from lfvscan.physics.presets import PDG_2024
from lfvscan.xsec import cell_physics, compute_cell, integrand_points
import inspect
try:  # the same script runs on the reference commit, whose API may be older
    pair = PDG_2024.lepton_pair()
except TypeError:
    from lfvscan.physics.process import DEFAULT_PROCESS, Process
    pair = PDG_2024.lepton_pair(DEFAULT_PROCESS)
kw = {{"boson": "scalar"}} if "boson" in inspect.signature(cell_physics).parameters else {{}}
out = {{"thr": [], "neval": [], "sec": []}}
for m in (2.0, 5.0, 10.0, 20.0, 40.0):
    cp = cell_physics("Pb", 1000.0, m, physics=PDG_2024, pair=pair, **kw)
    lo, hi = np.array(cp.bounds).T
    y = lo + (hi - lo) * np.random.default_rng(0).random(({batch}, 3))
    integrand_points(y, cp)
    t = time.perf_counter()
    for _ in range(5):
        integrand_points(y, cp)
    out["thr"].append(5 * {batch} / (time.perf_counter() - t))
    compute_cell("Pb", 1000.0, m, seed=99)
    for seed in range(3):
        r = compute_cell("Pb", 1000.0, m, seed=seed)
        out["neval"].append(r.neval)
        out["sec"].append(r.seconds)
print(json.dumps(out))
"""


def against(ref: str, batch: int, rounds: int) -> None:
    """The quick cells with commit ``ref`` and with this checkout, alternating, and the ratios."""
    import json
    from pathlib import Path

    from _worktree import REPO, checkout, python_in

    code = SIDE_BY_SIDE.format(batch=batch)
    with checkout(ref) as (tree, short):
        runs = {short: [], "this": []}
        for _ in range(rounds):
            for name, path in ((short, tree), ("this", REPO)):
                runs[name].append(json.loads(python_in(Path(path), code)))
    med = {}
    for name, rs in runs.items():
        med[name] = {k: statistics.median([v for r in rs for v in r[k]]) for k in ("thr", "neval", "sec")}
        print(f"{name:>8}: integrand {med[name]['thr'] / 1e6:6.2f} Mpts/s (median of the 5 quick cells), "
              f"evaluations per cell {med[name]['neval']:8.0f}, seconds per cell {med[name]['sec']:.4f} "
              f"(medians over Pb 1 TeV, m_a = 2..40 GeV, 3 seeds, {rounds} round(s))")
    old, new = med[short], med["this"]
    print(f"ratios this / {short}: points/s x{new['thr'] / old['thr']:.2f}, evaluations per cell "
          f"x{new['neval'] / old['neval']:.2f}, seconds per cell x{new['sec'] / old['sec']:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--tails", action="store_true")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--against", metavar="REF", help="side by side with git commit REF (quick cells)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of --against")
    ap.add_argument("--processes", action="store_true", help="per lepton pair and boson family, ratios to mu -> tau")
    ap.add_argument("--real-points", action="store_true", help="ns per point on vegas' own points of paper cells")
    a = ap.parse_args()
    if a.real_points:
        real_points(a.against, a.rounds)
        return
    if a.processes:
        processes(a.seeds)
        return
    if a.against:
        against(a.against, a.batch, a.rounds)
        return
    if a.tails:
        tails(a.seeds)
        return
    targets = ("Pb",) if a.quick else ("Pb", "W")
    energies = (1000.0,) if a.quick else (160.0, 1000.0, 3000.0)
    masses = (2.0, 5.0, 10.0, 20.0, 40.0)
    print(f"{'tgt':>3} {'E':>6} {'m_a':>5} | {'s@0.5%':>7} {'neval':>7} {'err%':>6} {'chi2':>5} | "
          f"{'s@0.1%':>7} {'neval':>8} {'err%':>6} {'chi2':>5} | {'Mpts/s':>6} {'peakMB':>7}")
    t5, t1, tp, n5 = [], [], [], []
    for tgt in targets:
        for E in energies:
            for m in masses:
                if not is_open(tgt, E, m, pair=PAIR):
                    t0 = time.perf_counter()
                    r = compute_cell(tgt, E, m)
                    print(f"{tgt:>3} {E:6.0f} {m:5.0f} | closed ({(time.perf_counter() - t0) * 1e3:.2f} ms)")
                    continue
                r5 = compute_cell(tgt, E, m, rel_err=0.005)
                r1 = compute_cell(tgt, E, m, rel_err=0.001)
                tracemalloc.start()  # separate call: tracing slows numpy down, so not timed
                compute_cell(tgt, E, m, rel_err=0.001)
                peak = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
                thr = throughput(tgt, E, m, a.batch)
                t5.append(r5.seconds)
                n5.append(r5.neval)
                t1.append(r1.seconds)
                tp.append(thr)
                print(f"{tgt:>3} {E:6.0f} {m:5.0f} | {r5.seconds:7.3f} {r5.neval:7d} "
                      f"{100 * r5.sigma_err_pb / r5.sigma_pb:6.3f} {r5.chi2_dof:5.2f} | {r1.seconds:7.3f} "
                      f"{r1.neval:8d} {100 * r1.sigma_err_pb / r1.sigma_pb:6.3f} {r1.chi2_dof:5.2f} | "
                      f"{thr / 1e6:6.2f} {peak:7.1f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nopen cells: {len(t5)};  median s/cell at 0.5 %: {statistics.median(t5):.3f} (max {max(t5):.3f});"
          f"  at 0.1 %: {statistics.median(t1):.3f} (max {max(t1):.3f})")
    print(f"evaluations per open cell at 0.5 %: median {statistics.median(n5):.0f}")
    print(f"integrand throughput: median {statistics.median(tp) / 1e6:.2f} Mpts/s (min {min(tp) / 1e6:.2f});"
          f"  process peak RSS {rss:.0f} MB")
    print("(peakMB: tracemalloc peak of one 0.1 % call, i.e. the numpy/vegas work arrays)")


if __name__ == "__main__":
    main()
