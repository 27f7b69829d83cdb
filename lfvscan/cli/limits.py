"""``lfvscan limits STORE``: exclusion limits g_lim(m_a) from a scan store (docs/physics.md §10)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

from lfvscan.errors import UsageError
from lfvscan.pheno.eft_axis import AXES, DEFAULT_AXIS
from lfvscan.pheno.experiments import VISIBLE_ANALYSES
from lfvscan.pheno.statistics import METHODS
from lfvscan.physics.couplings import CONVENTIONS

HELP = "exclusion limits g_lim(m_a) = sqrt(N_req / N_hat) for each experiment and selection curve"


def add_common(p) -> None:
    """Options shared by ``limits`` and ``figures``."""
    p.add_argument("store", metavar="STORE", help="scan store (zarr directory written by `lfvscan scan`)")
    add_experiment_options(p)
    p.add_argument("--visible-analysis", choices=VISIBLE_ANALYSES, default=VISIBLE_ANALYSES[0],
                   help="visible curves: exact correlated tau1/tau2 acceptance (default) or the published "
                        "analysis (tau2 from its mean energy, factorised; N_req = 2.44), docs/physics.md §10.3")
    p.add_argument("--q-min", type=float, default=None, metavar="Q",
                   help="flag points built from cells with vegas Q below this (default 1e-3; quality column)")
    p.add_argument("--theta", nargs="+", default=None, metavar="THETA",
                   help="recombine the stored scalar/pseudoscalar parts at these theta values [rad; pi/2, 3pi/8, "
                        "0.7 ...] (default: the scan's theta; docs/physics.md §7.12)")
    p.add_argument("--convention", default=None, choices=CONVENTIONS,
                   help="coupling convention of --theta (default: the scan's)")
    p.add_argument("--axis", choices=AXES, default=DEFAULT_AXIS,
                   help="C/Lambda: also give each limit as a limit on the ALP EFT scale C/Lambda [GeV^-1 in the "
                        "files, TeV^-1 in the figures], g_eff = C sqrt(m_i^2+m_f^2+2 m_i m_f cos 2theta)/Lambda "
                        "(exact masses, the thesis's convention) and the Eq. (3) reading g_eff = C m_tau/Lambda; "
                        "docs/physics.md §2.7 (default g)")
    p.add_argument("--out", metavar="DIR", default=".", help="output directory (default: current)")


def add_experiment_options(p) -> None:
    """Which experiments, their settings, the flux and N_req (``limits``, ``figures``, ``run``)."""
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
                   help="signal events required for exclusion with --statistics fixed, zero background "
                        "(default 3; 2.3 = 90%% CL)")
    p.add_argument("--statistics", choices=METHODS, default=None,
                   help="limit method of the curves that declare none: fixed N_req (default), classical poisson, "
                        "fc (Feldman-Cousins), cls, with the curve's background, or sqrt-b (N_req = 2 sqrt(b), "
                        "the thesis text's EIC/MuSIC criterion); docs/physics.md §10.6")
    p.add_argument("--cl", type=float, default=None, metavar="CL",
                   help="confidence level of --statistics poisson/fc/cls (default 0.9; e.g. 0.95)")


def add_parser(sub):
    p = sub.add_parser("limits", help=HELP, description=HELP)
    add_common(p)
    p.add_argument("--json", action="store_true", help="also write limits.json (inf as \"inf\", missing as null)")
    return p


def parse_statistics(args):
    """The :class:`~lfvscan.pheno.statistics.Statistics` of ``--statistics`` / ``--cl`` (defaults:
    :data:`~lfvscan.pheno.statistics.DEFAULT_STATISTICS`)."""
    from lfvscan.pheno.statistics import CL_METHODS, DEFAULT_STATISTICS, Statistics

    if args.cl is not None and args.statistics not in CL_METHODS:
        raise UsageError(f"--cl needs --statistics {', '.join(CL_METHODS)}, got --statistics "
                         f"{args.statistics or DEFAULT_STATISTICS.method}")
    return Statistics(args.statistics or DEFAULT_STATISTICS.method,
                      DEFAULT_STATISTICS.cl if args.cl is None else args.cl)


def parse_overrides(items) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(f"--set {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def parse_theta(text: str, option: str = "--theta") -> float:
    """'pi/2', '3pi/8', '1.5708' -> radians (UsageError naming ``option`` otherwise)."""
    s = text.strip().lower().replace("π", "pi")
    try:
        if "pi" in s:
            num, _, den = s.partition("/")
            num = num.replace("*", "").replace("pi", "")
            v = (float(num) if num else 1.0) * math.pi / (float(den) if den else 1.0)
        else:
            v = float(s)
    except ZeroDivisionError:
        raise UsageError(f"{option}: cannot read {text!r}: division by zero (use e.g. pi/2, 3pi/8, 1.2)") from None
    except ValueError:
        raise UsageError(f"{option}: cannot read {text!r} (use e.g. pi/2, 3pi/8, 1.2)") from None
    if not math.isfinite(v):
        raise UsageError(f"{option}: theta must be finite, got {text!r}")
    return v


def parse_thetas(items, option: str = "--theta"):
    """None, or the tuple of radians of ``items``."""
    return None if items is None else tuple(parse_theta(t, option) for t in items)


def compute(args):
    """Run the pipeline (:func:`lfvscan.pheno.store_limits.compute_limits_for_store`) for the options of
    ``add_common``; its warnings go to stderr as ``lfvscan <cmd>: warning: ...``.  Writes nothing."""
    from lfvscan.pheno.limits import DEFAULT_N_REQ
    from lfvscan.pheno.store_limits import compute_limits_for_store
    from lfvscan.pheno.quality import DEFAULT_Q_MIN

    overrides = parse_overrides(args.overrides)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} exists and is not a directory")
    res = compute_limits_for_store(
        args.store, experiments=args.experiments, experiments_config=args.experiments_config,
        overrides=overrides, flux=args.flux, n_req=DEFAULT_N_REQ if args.n_req is None else args.n_req,
        command=" ".join(sys.argv), visible_analysis=args.visible_analysis,
        q_min=DEFAULT_Q_MIN if args.q_min is None else args.q_min,
        thetas=parse_thetas(args.theta, "--theta"), convention=args.convention,
        statistics=parse_statistics(args), axis=args.axis,
    )
    for message in res.warnings:
        print(f"lfvscan {args.command}: warning: {message}", file=sys.stderr)
    return res


def run(args) -> int:
    from lfvscan.util.fileio import write_atomic
    from lfvscan.pheno.limits import limits_csv, limits_json, summary_columns

    res = compute(args)
    lims, prov = res.limits, res.provenance
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = [(out / "limits.csv", limits_csv(lims, prov))]
    if args.json:
        files.append((out / "limits.json", limits_json(lims, prov)))
    for path, text in files:
        write_atomic(path, text)
    # short summary on stdout
    masses = res.scan.masses_GeV
    show = summary_columns(masses)
    print("g_lim at m_a = " + ", ".join(f"{masses[k]:.4g}" for k in show) + " GeV  (N_req = %g)" % prov["n_req"])
    for lim in lims:
        vals = "  ".join(f"{lim.g_lim[k]:.3e}" for k in show)
        how = "" if lim.statistics.method == "fixed" else f", {lim.statistics.label()}"
        own = f"  (N_req = {lim.n_req:.4g}{how})" if lim.n_req != prov["n_req"] else ""
        print(f"  {lim.key:<26s} {vals}{own}")
        if lim.eft is not None:  # C/Lambda [TeV^-1] of the thesis's convention (docs/physics.md §2.7)
            vals = "  ".join(f"{1e3 * lim.eft.lim[k]:.3e}" for k in show)
            print(f"  {'  C/Lambda [TeV^-1]':<26s} {vals}")
    print("wrote " + ", ".join(str(p) for p, _ in files))
    return 0
