"""All figures (same as `lfvscan figures STORE --out OUTDIR`).  usage: python analysis/make_all.py STORE OUTDIR"""

from pathlib import Path

from _common import args, load

from lfvscan.plots.figures import make_all

store, out = args()
scan, lims = load(store)
Path(out).mkdir(parents=True, exist_ok=True)
figs = make_all(scan, lims, out)
print("wrote", ", ".join(k for k in figs if k != "_skipped"), "skipped:", figs["_skipped"] or "none")
