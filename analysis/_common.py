"""Shared loader for the analysis scripts: scan store -> (scan, limits)."""

from __future__ import annotations

import sys
import warnings

import matplotlib

matplotlib.use("Agg")

from lfvscan.pheno.experiments import load_experiments  # noqa: E402
from lfvscan.pheno.limits import DEFAULT_N_REQ, compute_limits  # noqa: E402
from lfvscan.store import load_scan  # noqa: E402
from lfvscan.pheno.yields import compute_yields, covered_experiments  # noqa: E402


def load(store: str, n_req: float = DEFAULT_N_REQ):
    """(scan, limits) for every packaged experiment the scan covers (as `lfvscan limits` does)."""
    scan = load_scan(store)
    exps, skipped = covered_experiments(scan, load_experiments())
    for name, reason in skipped.items():
        print(f"warning: skipping {name}: {reason}", file=sys.stderr)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lims = compute_limits(compute_yields(scan, exps), n_req)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return scan, lims


def args(n=2, usage="STORE OUTDIR"):
    if len(sys.argv) != n + 1:
        sys.exit(f"usage: python {sys.argv[0]} {usage}")
    return sys.argv[1:]
