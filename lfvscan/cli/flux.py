"""``lfvscan flux FILE``: inspect a muon flux file, or convert ROOT histograms to one (§9.2).

``lfvscan flux flux.csv`` (or a flux model name, e.g. ``stand-in-2024``) prints the totals per
charge, the energy range and the mean energy of a flux CSV.  ``lfvscan flux fluka.root --mu-plus
H1 [H2 ...] --mu-minus H3 [H4 ...] [--combine average|sum] [--per-bin-width] [--per-cm2 AREA]
[--per-second-at LUMI] [--scale X] [--energy-unit TeV] --out flux.csv`` converts TH1 histograms
(or ``--total`` histograms) to the CSV format of :mod:`lfvscan.pheno.flux`, with the conversion
written into the file as provenance (:mod:`lfvscan.pheno.flux_root` gives the formula and the
command for the FPF simulation's FLUKA slices); use the result as ``flux_file`` in the experiments
TOML or with ``lfvscan limits --flux``.  ROOT input needs the optional ``uproot`` package
(``pip install 'lfvscan[root]'``).
"""

from __future__ import annotations

import json
import sys

from lfvscan.pheno.flux_root import COMBINE_MODES, ENERGY_UNITS_GeV

HELP = "inspect a muon flux CSV, or convert FLUKA ROOT histograms (TH1) to the flux CSV format"


def add_parser(sub):
    p = sub.add_parser("flux", help=HELP, description=__doc__.split("\n\n")[0] + " " + HELP + ".")
    p.add_argument("file", metavar="FILE", help="flux CSV or flux model name, or a ROOT file (name ending in .root)")
    p.add_argument("--mu-plus", nargs="+", metavar="HIST",
                   help="ROOT: histogram(s) of mu+ (paths inside the file, e.g. mu_plus/h_-100_0 mu_plus/h_0_100)")
    p.add_argument("--mu-minus", nargs="+", metavar="HIST", help="ROOT: histogram(s) of mu-")
    p.add_argument("--total", nargs="+", metavar="HIST", help="ROOT: histogram(s) of mu+ + mu- (split equally)")
    p.add_argument("--combine", choices=COMBINE_MODES, default=COMBINE_MODES[0],
                   help="ROOT: several histograms of a charge are averaged (densities, default) or summed (counts)")
    p.add_argument("--per-cm2", type=float, default=None, metavar="AREA_CM2",
                   help="ROOT: contents are per cm^2; multiply by the detector face area in cm^2 (FASERnu2: 1600)")
    p.add_argument("--per-second-at", type=float, default=None, metavar="LUMI_CM2_S",
                   help="ROOT: contents are per second at this instantaneous luminosity [cm^-2 s^-1]; "
                        "multiply by 1e39 / LUMI seconds per fb^-1 (FPF FLUKA: 5e34)")
    p.add_argument("--scale", type=float, default=1.0, metavar="X",
                   help="ROOT: further factor turning contents into muons per fb^-1 through the detector face (default 1)")
    p.add_argument("--energy-unit", default="GeV", choices=tuple(ENERGY_UNITS_GeV),
                   help="ROOT: unit of the histograms' x axis (default GeV)")
    p.add_argument("--per-bin-width", action="store_true",
                   help="ROOT: contents are densities per unit of the x axis (multiplied by the bin widths)")
    p.add_argument("--out", metavar="CSV", help="write the flux as CSV (required for ROOT input)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    return p


def run(args) -> int:
    from lfvscan.errors import UsageError
    from lfvscan.pheno.flux import load_flux, summarize_flux, write_flux_csv
    from lfvscan.pheno.flux_root import flux_from_root

    is_root = str(args.file).lower().endswith(".root")
    root_opts = [o for o, v in (("--mu-plus", args.mu_plus), ("--mu-minus", args.mu_minus), ("--total", args.total))
                 if v is not None]
    if is_root:
        if not args.out:
            raise UsageError("converting a ROOT file needs --out CSV")
        flux, warnings = flux_from_root(args.file, mu_plus=args.mu_plus, mu_minus=args.mu_minus, total=args.total,
                                        combine=args.combine, scale=args.scale, energy_unit=args.energy_unit,
                                        per_bin_width=args.per_bin_width, per_cm2=args.per_cm2,
                                        per_second_at=args.per_second_at)
        for w in warnings:
            print(f"lfvscan flux: warning: {w}", file=sys.stderr)
    else:
        root_opts += [o for o, v in (("--per-cm2", args.per_cm2), ("--per-second-at", args.per_second_at))
                      if v is not None]
        if args.combine != COMBINE_MODES[0]:
            root_opts.append("--combine")
        if root_opts or args.per_bin_width or args.scale != 1.0 or args.energy_unit != "GeV":
            raise UsageError(f"{', '.join(root_opts) or 'the ROOT options'} apply to ROOT files only "
                             f"(name ending in .root), not {args.file!r}")
        flux = load_flux(args.file)
    summary = summarize_flux(flux)
    if args.out:
        summary["written"] = str(write_flux_csv(flux, args.out, overwrite=args.force))
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"flux {summary['source']}: {summary['n_bins']} bins, {summary['E_min_GeV']:g} - {summary['E_max_GeV']:g} GeV")
    print(f"  mu+ {summary['mu_plus_per_fb']:.4g} per fb^-1, mu- {summary['mu_minus_per_fb']:.4g} per fb^-1 "
          f"(through the detector face)")
    print(f"  mean energy {summary['mean_energy_GeV']:.4g} GeV; fraction above 1 TeV {summary['fraction_above_1TeV']:.3f}")
    if args.out:
        print(f"  written to {summary['written']} (use as flux_file in the experiments TOML, or limits --flux)")
    return 0
