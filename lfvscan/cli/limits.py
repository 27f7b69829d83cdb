"""``lfvscan limits STORE``: exclusion limits g_lim(m_a) from a scan store (physics.md §10)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

from lfvscan.errors import UsageError

HELP = "exclusion limits g_lim(m_a) = sqrt(N_req / N_hat) for each experiment and selection curve"


def add_common(p) -> None:
    """Options shared by ``limits`` and ``figures``."""
    p.add_argument("store", metavar="STORE", help="scan store (zarr directory written by `lfvscan scan`)")
    p.add_argument("--experiments", nargs="+", metavar="NAME", default=None,
                   help="experiments to use (default: all in the experiments config)")
    p.add_argument("--experiments-config", metavar="TOML", default=None,
                   help="experiments file (default: the packaged experiments.toml, see configs/experiments.toml)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one value, e.g. na64mu.n_mu=1e12 or hemu.inv-2mm.res_tau1_cm=0.1 (repeatable)")
    p.add_argument("--flux", metavar="CSV", default=None,
                   help="muon flux file for flux-beam experiments (E_low_GeV,E_high_GeV,mu_plus_per_fb,mu_minus_per_fb; "
                        "convert ROOT histograms with `lfvscan flux FILE.root ... --out CSV`)")
    p.add_argument("--n-req", type=float, default=None, metavar="N",
                   help="signal events required for exclusion, zero background (default 3; 2.3 = 90%% CL)")
    p.add_argument("--out", metavar="DIR", default=".", help="output directory (default: current)")


def add_parser(sub):
    p = sub.add_parser("limits", help=HELP, description=HELP)
    add_common(p)
    p.add_argument("--json", action="store_true", help="also write limits.json (inf as \"inf\", missing as null)")
    return p


def parse_overrides(items) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(f"--set {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def prepare(args):
    """Load experiments, flux and scan; compute yields and limits (no file written).

    Returns (scan, experiments, limits, provenance).  Warnings (incomplete scan, flux outside
    the scanned range) are printed on stderr as ``lfvscan <cmd>: warning: ...``.
    """
    from lfvscan.pheno import experiments as ex
    from lfvscan.pheno.flux import load_flux
    from lfvscan.pheno.limits import DEFAULT_N_REQ, check_n_req, compute_limits, provenance
    from lfvscan.store import load_scan
    from lfvscan.pheno.yields import compute_yields, covered_experiments

    n_req = check_n_req(DEFAULT_N_REQ if args.n_req is None else args.n_req)
    overrides = parse_overrides(args.overrides)
    exps = ex.load_experiments(args.experiments_config, overrides)
    exps = ex.select(exps, args.experiments)
    flux = load_flux(args.flux) if args.flux else None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} exists and is not a directory")
    scan = load_scan(args.store)
    if not args.experiments:  # default: every experiment the scan covers
        usable, skipped = covered_experiments(scan, exps)
        for name, reason in skipped.items():
            print(f"lfvscan {args.command}: warning: skipping {name}: {reason}", file=sys.stderr)
        if not usable:
            raise UsageError(f"scan {args.store!r} covers none of the experiments ({', '.join(exps)})")
        exps = usable
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ys = compute_yields(scan, exps, flux)
    for w in caught:
        print(f"lfvscan {args.command}: warning: {w.message}", file=sys.stderr)
    lims = compute_limits(ys, n_req)
    extra = {
        "command": " ".join(sys.argv),
        "overrides": overrides,
        "flux_files": _flux_provenance(exps, args.flux),
    }
    prov = provenance(scan, exps, n_req, store_path=args.store, extra=extra)
    return scan, exps, lims, prov


def _flux_provenance(exps, flux_override) -> dict:
    """{experiment: {"path", "sha256"}} of the flux file each flux-beam experiment used."""
    import hashlib

    out = {}
    for name, e in exps.items():
        if e.beam != "flux":
            continue
        path = Path(flux_override) if flux_override else e.flux_path()
        out[name] = {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    return out


def run(args) -> int:
    from lfvscan.util.fileio import write_atomic
    from lfvscan.pheno.limits import limits_csv, limits_json

    scan, exps, lims, prov = prepare(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = [(out / "limits.csv", limits_csv(lims, prov))]
    if args.json:
        files.append((out / "limits.json", limits_json(lims, prov)))
    for path, text in files:
        write_atomic(path, text)
    # short summary on stdout
    masses = scan.masses_GeV
    show = sorted({int(np.argmin(np.abs(np.log(masses / v)))) for v in (2.0, 5.0, 10.0, 20.0, 40.0)})
    print("g_lim at m_a = " + ", ".join(f"{masses[k]:.4g}" for k in show) + " GeV  (N_req = %g)" % prov["n_req"])
    for lim in lims:
        vals = "  ".join(f"{lim.g_lim[k]:.3e}" for k in show)
        print(f"  {lim.key:<26s} {vals}")
    print("wrote " + ", ".join(str(p) for p, _ in files))
    return 0
