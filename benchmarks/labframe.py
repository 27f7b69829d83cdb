"""Cost of the lab-frame histograms of collider cells (docs/physics.md §7.16): per-cell time of
compute_cell with and without them, at the same seed (the cross sections are bit-identical).

    python benchmarks/labframe.py            # EIC e -> tau and MuSIC mu -> tau cells at rel_err 0.005

Prints, per cell, the seconds with and without the histograms and their ratio (best of two runs each,
after a warm-up that compiles the kernels)."""

from __future__ import annotations

import dataclasses
import time

from lfvscan.physics.process import Process
from lfvscan.physics.targets import GOLD
from lfvscan.xsec import compute_cell, driver

AU_110 = dataclasses.replace(GOLD, nucleus_energy_per_nucleon_GeV=110.0)
CELLS = [(Process("e", "tau", "scalar"), 18.0, m) for m in (2.0, 5.0, 20.0)] + \
        [(Process("mu", "tau", "scalar"), 1000.0, m) for m in (5.0, 50.0)]


def _best(fn, n=2):
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        r = fn()
        best = min(best, time.perf_counter() - t0)
    return best, r


def main() -> None:
    with_lab = driver._lab_frame
    compute_cell(AU_110, 18.0, 5.0, rel_err=0.05, process=CELLS[0][0])  # compile
    print(f"{'process':>10} {'E_lab':>7} {'m_a':>6} {'with [s]':>9} {'without [s]':>11} {'ratio':>6} {'neval':>8}")
    for process, E, m in CELLS:
        def run():
            return compute_cell(AU_110, E, m, rel_err=0.005, seed=1, process=process)
        t_on, r_on = _best(run)
        driver._lab_frame = lambda tgt, energy: None
        try:
            t_off, r_off = _best(run)
        finally:
            driver._lab_frame = with_lab
        assert r_on.sigma_pb == r_off.sigma_pb
        print(f"{process.beam + '->' + process.final:>10} {E:7g} {m:6g} {t_on:9.2f} {t_off:11.2f} {t_on / t_off:6.2f} "
              f"{r_on.neval:8d}")


if __name__ == "__main__":
    main()
