"""Figs. 6 (left, right) and 7 from the limits.  usage: python analysis/fig6_fig7_limits.py STORE OUTDIR"""

from pathlib import Path

from _common import args, load

from lfvscan.plots.figures import band_masses_GeV
from lfvscan.plots.limit_figures import fig6_invisible, fig7_visible
from lfvscan.pheno.overlays import g2_bands

store, out = args()
scan, lims = load(store)
bands = g2_bands(band_masses_GeV(scan))  # pi/2, 3pi/8, pi/3, pi/4, as `lfvscan figures` draws them
Path(out).mkdir(parents=True, exist_ok=True)
figs = {
    "fig6_left_invisible": fig6_invisible(lims),
    "fig6_right_invisible_g2_dm": fig6_invisible(lims, bands, dm_lines=True),
    "fig7_visible": fig7_visible(lims, bands),
}
for name, (fig, ax) in figs.items():
    for fmt in ("pdf", "png"):
        fig.savefig(Path(out) / f"{name}.{fmt}", dpi=150)
