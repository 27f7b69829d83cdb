"""Statistical comparison of two paper stores and their limits (run by hand).

    python benchmarks/pulls.py NEW_STORE NEW_LIMITS_DIR BASE_STORE BASE_LIMITS_DIR [--list N]

Two independent vegas runs of the same cells agree within their errors: for every open cell the
pull ``(sigma_new - sigma_base) / sqrt(err_new^2 + err_base^2)`` (total, coherent, incoherent,
scalar and pseudoscalar parts) should have mean ~0 and rms ~1 (below 1 where the quoted errors
are conservative); the same for the limits' expected events ``n_hat`` and ``g_lim`` of every
(experiment, curve, mass) row whose quality is ok in both.  Also prints, per store, the open cells,
evaluations per open cell, vegas' Q below 1e-3 and 1e-2 (docs/physics.md §10.1) and the cells not
converged.  ``--list N`` prints the N largest sigma pulls.
"""

from __future__ import annotations

import argparse
import csv
import math

import numpy as np
import zarr

PAIRS = [("sigma_pb", "sigma_err_pb"), ("sigma_coherent_pb", "sigma_coherent_err_pb"),
         ("sigma_incoherent_pb", "sigma_incoherent_err_pb"), ("sigma_scalar_pb", "sigma_scalar_err_pb"),
         ("sigma_pseudoscalar_pb", "sigma_pseudoscalar_err_pb")]


def summary(name: str, p: np.ndarray) -> str:
    p = p[np.isfinite(p)]
    return (f"{name}: n {p.size}, mean {p.mean():+.3f} (+- {p.std() / math.sqrt(p.size):.3f}), rms "
            f"{math.sqrt(np.mean(p * p)):.3f}, |pull| > 3: {int(np.sum(np.abs(p) > 3))}, max |pull| {np.max(np.abs(p)):.2f}")


def limits_rows(d: str) -> dict:
    with open(f"{d}/limits.csv") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return {(r["experiment"], r["curve"], r["scenario"], r["mass_GeV"]): r for r in rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("new"), ap.add_argument("new_limits"), ap.add_argument("base"), ap.add_argument("base_limits")
    ap.add_argument("--list", type=int, default=0)
    a = ap.parse_args()
    gn, gb = zarr.open_group(a.new, mode="r"), zarr.open_group(a.base, mode="r")
    open_ = {}
    for name, g in (("new", gn), ("base", gb)):
        op = (np.asarray(g["status"][...]) == 1) & ~np.asarray(g["closed"][...])
        ne, q = np.asarray(g["neval"][...])[op], np.asarray(g["Q"][...])[op]
        conv = np.asarray(g["converged"][...])[op]
        print(f"{name} {getattr(g.store, 'root', '')}: open cells {op.sum()}, evaluations per open cell median "
              f"{np.median(ne):.0f} (total {ne.sum() / 1e6:.1f} M), Q < 1e-3: {int(np.sum(q < 1e-3))}, "
              f"Q < 1e-2: {int(np.sum(q < 1e-2))}, not converged: {int(np.sum(~conv))}")
        open_[name] = op
    both = open_["new"] & open_["base"]
    for val, err in PAIRS:
        x, ex = np.asarray(gn[val][...])[both], np.asarray(gn[err][...])[both]
        y, ey = np.asarray(gb[val][...])[both], np.asarray(gb[err][...])[both]
        print(summary(f"pull {val}", (x - y) / np.hypot(ex, ey)))
    if a.list:
        x, ex = np.asarray(gn["sigma_pb"][...]), np.asarray(gn["sigma_err_pb"][...])
        y, ey = np.asarray(gb["sigma_pb"][...]), np.asarray(gb["sigma_err_pb"][...])
        p = np.where(both, (x - y) / np.hypot(ex, ey), 0.0)
        for idx in np.argsort(-np.abs(p), axis=None)[: a.list]:
            i, j, k = np.unravel_index(idx, p.shape)
            print(f"  {gn['target'][i]} {float(gn['energy_GeV'][j]):8.2f} GeV m_a {float(gn['mass_GeV'][k]):8.4f}: "
                  f"pull {p[i, j, k]:+.2f}, Q new {float(gn['Q'][i, j, k]):.2g} base {float(gb['Q'][i, j, k]):.2g}")
    ln, lb = limits_rows(a.new_limits), limits_rows(a.base_limits)
    keys = [k for k in lb if k in ln and lb[k]["quality"] == "ok" and ln[k]["quality"] == "ok"
            and math.isfinite(float(lb[k]["n_hat"])) and float(lb[k]["n_hat"]) > 0 and float(lb[k]["n_hat_err"]) > 0]
    for col, err in (("n_hat", "n_hat_err"), ("g_lim", "g_lim_err")):
        p = np.array([(float(ln[k][col]) - float(lb[k][col])) / math.hypot(float(ln[k][err]), float(lb[k][err]))
                      for k in keys])
        print(summary(f"pull limits {col} (rows ok in both)", p))
    print(f"limits rows: base {len(lb)}, new {len(ln)}, compared {len(keys)}; quality differs in "
          f"{sum(1 for k in lb if k in ln and lb[k]['quality'] != ln[k]['quality'])}")


if __name__ == "__main__":
    main()
