"""Shared loader for the analysis scripts: scan store -> (scan, limits)."""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")

from lfvscan.errors import UsageError  # noqa: E402
from lfvscan.pheno.limits import DEFAULT_N_REQ  # noqa: E402
from lfvscan.pheno.store_limits import compute_limits_for_store  # noqa: E402
from lfvscan.store import load_scan  # noqa: E402, F401  (re-exported for the figure scripts)


def load(store: str, n_req: float = DEFAULT_N_REQ):
    """(scan, limits) for every packaged experiment the scan covers (as `lfvscan limits` does)."""
    try:
        res = compute_limits_for_store(store, n_req=n_req, command=" ".join(sys.argv))
    except UsageError as exc:
        sys.exit(f"error: {exc}")
    for message in res.warnings:
        print(f"warning: {message}", file=sys.stderr)
    return res.scan, res.limits


def args(n=2, usage="STORE OUTDIR"):
    if len(sys.argv) != n + 1 or any(a.startswith("-") for a in sys.argv[1:]):  # also -h/--help
        sys.exit(f"usage: python {sys.argv[0]} {usage}")
    return sys.argv[1:]
