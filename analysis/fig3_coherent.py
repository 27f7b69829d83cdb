"""Fig. 3: coherent vs diffractive sigma_hat vs muon energy.  usage: python analysis/fig3_coherent.py STORE OUTDIR"""

from pathlib import Path

from _common import args, load_scan

from lfvscan.plots.xsec_figures import fig3_coherent_diffractive

store, out = args()
fig, ax = fig3_coherent_diffractive(load_scan(store))  # vs E_mu; fig3_vs_mass(scan, "Pb") for vs m_a
Path(out).mkdir(parents=True, exist_ok=True)
for fmt in ("pdf", "png"):
    fig.savefig(Path(out) / f"fig3_coherent_diffractive.{fmt}", dpi=150)
