"""Fig. 1: DM plane (needs no scan).  usage: python analysis/fig1_dm_plane.py OUTDIR [ID_CURVE.csv ...]"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from lfvscan.plots.dm_plane import fig1_dm_plane  # noqa: E402
from lfvscan.pheno.overlays import load_id_curve  # noqa: E402

if len(sys.argv) < 2 or sys.argv[1].startswith("-"):  # no OUTDIR, or -h/--help
    sys.exit(__doc__)
out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
fig, ax = fig1_dm_plane(id_curves=[load_id_curve(p) for p in sys.argv[2:]])
for fmt in ("pdf", "png"):
    fig.savefig(out / f"fig1_dm_plane.{fmt}", dpi=150)
