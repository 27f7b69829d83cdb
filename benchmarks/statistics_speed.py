"""Wall time of the limit statistics at large background (run by hand; docs/physics.md §10.6).

    python benchmarks/statistics_speed.py [--b 0 0.5 3 15 100 1e3 1e4 1e5 1e6] [--cl 0.9 0.95]
                                          [--methods fc poisson cls] [--max-fc-b B]

For each background b and confidence level: N_req = the upper limit at n_obs = floor(b)
(``signal_upper_limit``) and its wall time, per method, with the number of Feldman-Cousins
constructions it ran.  Above ``--max-fc-b`` the FC limit is not computed; one construction is timed
instead and multiplied by the 41 constructions of the monotone envelope (a lower bound for the limit).
The lru cache of ``signal_upper_limit`` is bypassed (each figure is one cold evaluation).
"""

from __future__ import annotations

import argparse
import time

from lfvscan.pheno import statistics as st

try:  # the module that holds the FC construction (statistics itself in versions before feldman_cousins)
    from lfvscan.pheno import feldman_cousins as fc
except ImportError:
    fc = st


def _timed(f, *args):
    t0 = time.perf_counter()
    v = f(*args)
    return v, time.perf_counter() - t0


def _fc_row(n, b, cl, max_fc_b):
    calls = [0]
    construction = fc.fc_construction_upper

    def counted(*a):
        calls[0] += 1
        return construction(*a)

    if b > max_fc_b:
        v, dt = _timed(construction, n, b, cl)
        return f"one construction {dt:8.3f} s (s_up {v:.6f}); x41 >= {41 * dt:9.1f} s"
    fc.fc_construction_upper = counted
    try:
        v, dt = _timed(fc.fc_upper, n, b, cl)
    finally:
        fc.fc_construction_upper = construction
    return f"{v:14.6f} {dt:9.3f} s ({calls[0]} constructions)"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--b", nargs="+", type=float, default=[0, 0.5, 3, 15, 100, 1e3, 1e4, 1e5, 1e6])
    p.add_argument("--cl", nargs="+", type=float, default=[0.9, 0.95])
    p.add_argument("--methods", nargs="+", default=["fc", "poisson", "cls"])
    p.add_argument("--max-fc-b", type=float, default=float("inf"),
                   help="above this b, time one FC construction instead of the limit")
    args = p.parse_args(argv)
    uppers = {"poisson": st.poisson_upper, "cls": st.cls_upper}
    for cl in args.cl:
        for b in args.b:
            n = st.expected_n_obs(b)
            for method in args.methods:
                if method == "fc":
                    row = _fc_row(n, b, cl, args.max_fc_b)
                else:
                    v, dt = _timed(uppers[method], n, b, cl)
                    row = f"{v:14.6f} {dt:9.3f} s"
                print(f"cl {cl:4.2f}  b {b:9.4g}  n_obs {n:8d}  {method:8s} {row}", flush=True)


if __name__ == "__main__":
    main()
