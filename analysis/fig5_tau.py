"""Fig. 5 left (tau_1, W) and right (tau_2, Pb at 1 TeV).  usage: python analysis/fig5_tau.py STORE OUTDIR"""

from pathlib import Path

from _common import args, load_scan

from lfvscan.plots.xsec_figures import fig5_tau1, fig5_tau2

store, out = args()
scan = load_scan(store)
Path(out).mkdir(parents=True, exist_ok=True)
for name, (fig, ax) in {"fig5_left_tau1": fig5_tau1(scan, "W"), "fig5_right_tau2": fig5_tau2(scan, "Pb", 1000.0)}.items():
    for fmt in ("pdf", "png"):
        fig.savefig(Path(out) / f"{name}.{fmt}", dpi=150)
