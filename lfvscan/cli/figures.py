"""``lfvscan figures STORE --out DIR``: every figure of the paper from a scan (docs/physics.md §11)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from lfvscan.errors import UsageError
from lfvscan.cli.limits import add_common, compute, parse_theta
from lfvscan.pheno.eft_axis import DEFAULT_AXIS

HELP = "draw Figs. 1, 3, 5, 6, 7 of arXiv:2407.15942 (PDF and PNG) from a scan store"


def _theta(text: str) -> float:
    """'pi/2', '3pi/8', '1.5708' -> radians."""
    return parse_theta(text, "--thetas")


def add_parser(sub):
    p = sub.add_parser("figures", help=HELP, description=HELP)
    add_common(p)
    p.add_argument("--g2-preset", default=None, help="g-2 measurement: paper-2023 (default) or wp2025")
    p.add_argument("--thetas", nargs="+", default=None, metavar="THETA",
                   help="theta values of the g-2 bands (default: the --theta values, else pi/2 3pi/8 pi/3 pi/4)")
    p.add_argument("--nsigma", type=float, default=None, help="g-2 band half-width in sigma (default 2)")
    p.add_argument("--f-eff", type=float, default=None, help="CMB energy-deposition efficiency (default 0.2)")
    p.add_argument("--id-curve", action="append", default=[], metavar="CSV",
                   help="indirect-detection limit curve m_chi_GeV,sigma_v_cm3_s with '# label:', "
                        "'# limit_type: majorana|dirac' header (repeatable)")
    p.add_argument("--formats", nargs="+", default=["pdf", "png"], help="file formats (default pdf png)")
    p.add_argument("--compare", metavar="OTHER", default=None,
                   help="second result set to overlay on STORE's limits (compare_invisible, compare_visible): "
                        "another store (limits computed with the same options) or a limits CSV")
    p.add_argument("--labels", nargs=2, metavar=("A", "B"), default=None,
                   help="legend names of STORE and OTHER in the comparison (default: their file names)")
    return p


def _check_compare(args) -> tuple[str, str] | None:
    """The two set labels if --compare is given (UsageError for a missing OTHER, --labels alone, or the
    C/Lambda axis, which the comparison figures do not draw)."""
    if args.compare is not None and args.axis != DEFAULT_AXIS:
        raise UsageError(f"--compare draws limits on g; it cannot be combined with --axis {args.axis}")
    if args.compare is None:
        if args.labels:
            raise UsageError("--labels needs --compare OTHER")
        return None
    other = Path(args.compare)
    if not other.exists():
        raise UsageError(f"--compare: {args.compare!r} not found (a store directory or a limits CSV)")
    labels = tuple(args.labels) if args.labels else (Path(args.store).name, other.name)
    if labels[0] == labels[1]:
        raise UsageError(f"--labels: the two result sets need different names, got {labels[0]!r} twice")
    return labels


def _other_curves(args):
    """LimitCurves of --compare: read from a CSV, or computed from a store with this command's options."""
    import argparse

    from lfvscan.pheno.limits import curves_from_csv
    from lfvscan.plots.compare import curves_from_limits

    other = Path(args.compare)
    if other.is_file():
        return curves_from_csv(other)
    return curves_from_limits(compute(argparse.Namespace(**{**vars(args), "store": str(other)})).limits)


def run(args) -> int:
    from lfvscan.physics import g2
    from lfvscan.pheno import overlays
    from lfvscan.plots.figures import check_formats, make_all

    preset = args.g2_preset  # None: the default of the scan's lepton (lfvscan.physics.g2.DEFAULT_G2_PRESETS)
    nsigma = g2.DEFAULT_NSIGMA if args.nsigma is None else args.nsigma
    if preset is not None:
        overlays.check_g2_preset(preset)
    if args.thetas:
        thetas = tuple(_theta(t) for t in args.thetas)
    elif args.theta:
        thetas = tuple(parse_theta(t) for t in args.theta)
    else:
        thetas = overlays.DEFAULT_THETAS
    f_eff = overlays.DEFAULT_F_EFF if args.f_eff is None else args.f_eff
    if not (f_eff > 0 and math.isfinite(f_eff)):
        raise UsageError(f"--f-eff must be positive, got {args.f_eff!r}")
    if not (nsigma > 0 and math.isfinite(nsigma)):
        raise UsageError(f"--nsigma must be positive, got {args.nsigma!r}")
    try:
        formats = check_formats(args.formats)
    except UsageError as exc:
        raise UsageError(f"--formats: {exc}") from None
    id_curves = [overlays.load_id_curve(p) for p in args.id_curve]
    set_labels = _check_compare(args)
    res = compute(args)
    other = _other_curves(args) if set_labels else None
    from lfvscan.pheno.store_limits import flux_variant_limits

    variants = flux_variant_limits(res)  # FASERnu2 with the harder stand-in flux (flux uncertainty)
    if not any(np.isfinite(lim.g_lim).any() for lim in res.limits):
        raise UsageError(f"no exclusion limit of store {args.store!r} is finite ({len(res.limits)} curves: every cell "
                         f"closed, zero, failed or not computed at the experiments' energies); nothing to plot "
                         f"(see `lfvscan status {args.store}` and `lfvscan limits {args.store}`)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figs = make_all(res.scan, res.limits, out, g2_preset=preset, thetas=thetas, nsigma=nsigma,
                    f_eff=f_eff, id_curves=id_curves, formats=formats, flux_variants=variants, axis=args.axis)
    for name, why in figs["_skipped"].items():
        print(f"lfvscan figures: warning: skipped {name}: {why}", file=sys.stderr)
    written = [n for n in figs if n != "_skipped"]
    if set_labels:
        from lfvscan.plots.compare import curves_from_limits, make_compare

        sets = {set_labels[0]: curves_from_limits(res.limits), set_labels[1]: other}
        written += list(make_compare(sets, out, formats))
    print(f"wrote {len(written)} figures to {out}: " + ", ".join(written))
    return 0
