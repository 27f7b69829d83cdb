"""Statistical comparison of two paper stores and their limits (run by hand).

    python benchmarks/pulls.py NEW_STORE NEW_LIMITS_DIR BASE_STORE BASE_LIMITS_DIR [--list N]

Two independent vegas runs of the same cells agree within their errors: for every open cell the
pull ``(sigma_new - sigma_base) / sqrt(err_new^2 + err_base^2)`` (total, coherent, incoherent,
scalar and pseudoscalar parts) should have mean ~0 and rms ~1 (below 1 where the quoted errors
are conservative); the same for the distribution d sigma / d ln x_f (total and parts) and the upper
tails sigma(x_f >= x) per bin that holds at least ``TAIL_MIN`` of sigma, and for the limits'
expected events ``n_hat`` and ``g_lim`` of every (experiment, curve, mass) row whose quality is ok
in both, in all and per (experiment, curve) (the goal: rms <= 1.15 for every curve).  Also prints,
per store, the open cells, evaluations per open cell, vegas' Q below 1e-3 and 1e-2 (docs/physics.md
§10.1, as counts and shares of the open cells) and the cells not converged.  ``--list N`` prints the
N largest sigma pulls.

Two seeds of the paper config: copy configs/paper.toml with another ``seed = ...`` line and scan it
into a second store (``lfvscan scan COPY.toml --store S2.zarr``; ``lfvscan limits S2.zarr --out L2``).
"""

from __future__ import annotations

import argparse
import csv
import math

import numpy as np

PAIRS = [("sigma_pb", "sigma_err_pb"), ("sigma_coherent_pb", "sigma_coherent_err_pb"),
         ("sigma_incoherent_pb", "sigma_incoherent_err_pb"), ("sigma_scalar_pb", "sigma_scalar_err_pb"),
         ("sigma_pseudoscalar_pb", "sigma_pseudoscalar_err_pb")]


BINS = [("dsigma_dlnx_f_pb", "dsigma_dlnx_f_err_pb"),
        ("dsigma_dlnx_f_scalar_pb", "dsigma_dlnx_f_scalar_err_pb"),
        ("dsigma_dlnx_f_pseudoscalar_pb", "dsigma_dlnx_f_pseudoscalar_err_pb")]
#: upper tails / bins compared: those holding at least this fraction of sigma in both stores (the
#: driver's ``tail_min_fraction``: smaller tails have no precision target)
TAIL_MIN = 1e-3


def summary(name: str, p: np.ndarray) -> str:
    p = p[np.isfinite(p)]
    if p.size == 0:
        return f"{name}: n 0"
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
    from lfvscan.store.layout import open_group

    # under the current names, so that a store of an earlier format compares too
    gn, gb = (open_group(p, writable=False) for p in (a.new, a.base))
    open_ = {}
    for name, g in (("new", gn), ("base", gb)):
        op = (np.asarray(g["status"][...]) == 1) & ~np.asarray(g["closed"][...])
        ne, q = np.asarray(g["neval"][...])[op], np.asarray(g["Q"][...])[op]
        conv = np.asarray(g["converged"][...])[op]
        n3, n2 = int(np.sum(q < 1e-3)), int(np.sum(q < 1e-2))
        print(f"{name} {getattr(g.zarr.store, 'root', '')}: open cells {op.sum()}, evaluations per open cell median "
              f"{np.median(ne):.0f} (total {ne.sum() / 1e6:.1f} M), Q < 1e-3: {n3} ({100 * n3 / op.sum():.2f} %), "
              f"Q < 1e-2: {n2} ({100 * n2 / op.sum():.2f} %), not converged: {int(np.sum(~conv))}")
        open_[name] = op
    both = open_["new"] & open_["base"]
    for val, err in PAIRS:
        x, ex = np.asarray(gn[val][...])[both], np.asarray(gn[err][...])[both]
        y, ey = np.asarray(gb[val][...])[both], np.asarray(gb[err][...])[both]
        print(summary(f"pull {val}", (x - y) / np.hypot(ex, ey)))
    bin_pulls(gn, gb, both)
    if a.list:
        x, ex = np.asarray(gn["sigma_pb"][...]), np.asarray(gn["sigma_err_pb"][...])
        y, ey = np.asarray(gb["sigma_pb"][...]), np.asarray(gb["sigma_err_pb"][...])
        p = np.where(both, (x - y) / np.hypot(ex, ey), 0.0)
        for idx in np.argsort(-np.abs(p), axis=None)[: a.list]:
            i, j, k = np.unravel_index(idx, p.shape)
            print(f"  {gn['target'][i]} {float(gn['energy_GeV'][j]):8.2f} GeV m_a {float(gn['mass_GeV'][k]):8.4f}: "
                  f"pull {p[i, j, k]:+.2f}, Q new {float(gn['Q'][i, j, k]):.2g} base {float(gb['Q'][i, j, k]):.2g}")
    limit_pulls(limits_rows(a.new_limits), limits_rows(a.base_limits))


def bin_pulls(gn, gb, both: np.ndarray) -> None:
    """Pulls of the distribution per bin and of the upper tails (bins / tails >= TAIL_MIN sigma in both)."""
    # bin width in ln x_f per energy, shaped (1, n_E, 1, 1) against (target, energy, mass, bin)
    widths = np.diff(np.log(np.asarray(gn["x_f_edges"][...])), axis=1)[None, :, None, :1]
    sig = np.asarray(gn["sigma_pb"][...]), np.asarray(gb["sigma_pb"][...])
    for val, err in BINS:
        x, ex = np.asarray(gn[val][...]), np.asarray(gn[err][...])
        y, ey = np.asarray(gb[val][...]), np.asarray(gb[err][...])
        keep = both[..., None] & (x * widths >= TAIL_MIN * sig[0][..., None]) & (y * widths >= TAIL_MIN * sig[1][..., None])
        print(summary(f"pull {val} per bin", ((x - y) / np.hypot(ex, ey))[keep]))
    tails = [np.cumsum(np.asarray(g["dsigma_dlnx_f_pb"][...])[..., ::-1], axis=-1)[..., ::-1] * widths
             for g in (gn, gb)]
    et = np.asarray(gn["sigma_above_x_err_pb"][...]), np.asarray(gb["sigma_above_x_err_pb"][...])
    keep = both[..., None] & (tails[0] >= TAIL_MIN * sig[0][..., None]) & (tails[1] >= TAIL_MIN * sig[1][..., None])
    print(summary("pull sigma_above_x (tails)", ((tails[0] - tails[1]) / np.hypot(*et))[keep]))


def limit_pulls(ln: dict, lb: dict) -> None:
    """Pulls of n_hat and g_lim of the limits rows ok in both, in all and per (experiment, curve)."""
    keys = [k for k in lb if k in ln and lb[k]["quality"] == "ok" and ln[k]["quality"] == "ok"
            and math.isfinite(float(lb[k]["n_hat"])) and float(lb[k]["n_hat"]) > 0 and float(lb[k]["n_hat_err"]) > 0]

    def pulls(col, err, ks):
        return np.array([(float(ln[k][col]) - float(lb[k][col])) / math.hypot(float(ln[k][err]), float(lb[k][err]))
                         for k in ks])

    for col, err in (("n_hat", "n_hat_err"), ("g_lim", "g_lim_err")):
        print(summary(f"pull limits {col} (rows ok in both)", pulls(col, err, keys)))
    curves = sorted({k[:2] for k in keys})
    worst = 0.0
    for exp, curve in curves:
        ks = [k for k in keys if k[:2] == (exp, curve)]
        p = pulls("g_lim", "g_lim_err", ks)
        worst = max(worst, math.sqrt(np.mean(p * p)))
        print("  " + summary(f"{exp}/{curve} g_lim", p))
    print(f"largest per-curve g_lim pull rms: {worst:.3f} (goal <= 1.15)")
    print(f"limits rows: base {len(lb)}, new {len(ln)}, compared {len(keys)}; quality differs in "
          f"{sum(1 for k in lb if k in ln and lb[k]['quality'] != ln[k]['quality'])}")


if __name__ == "__main__":
    main()
