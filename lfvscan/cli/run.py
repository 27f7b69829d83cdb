"""``lfvscan run CONFIG [--store PATH] [--out DIR]``: scan, then limits, then figures, in one command.

Under ``mpiexec`` every rank scans; rank 0 then writes ``OUT/limits.csv`` and ``OUT/figures/``.
Rerunning resumes the scan and rebuilds only what is stale, judged from the store's content hash
(:mod:`lfvscan.pheno.run`).  Exit status: as ``lfvscan scan`` (0 complete, 1 failed cells: limits
and figures are still made, with the missing cells named; 2 usage error; 128+signal interrupted).
"""

from __future__ import annotations

import sys
from pathlib import Path

from lfvscan.errors import UsageError
from lfvscan.scan.config import load_config

HELP = "scan a config, then compute the limits and draw the figures; rerun = resume, rebuild only what is stale"


def add_parser(sub):
    p = sub.add_parser("run", help=HELP, description=__doc__.split("\n\n")[0])
    p.add_argument("config", help="scan configuration (TOML), e.g. configs/demo.toml")
    p.add_argument("--store", help="store directory (zarr v3); default: the config's `store` key")
    p.add_argument("--out", metavar="DIR", default="results", help="output directory (default: results)")
    p.add_argument("--experiments", nargs="+", metavar="NAME", default=None,
                   help="experiments to use (default: all the scan covers)")
    p.add_argument("--experiments-config", metavar="TOML", default=None, help="experiments file (as for `limits`)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one experiment value, e.g. na64mu.n_mu=1e12 (repeatable)")
    p.add_argument("--flux", metavar="CSV", default=None, help="muon flux file for flux-beam experiments")
    p.add_argument("--n-req", type=float, default=None, metavar="N",
                   help="signal events required for exclusion, zero background (default 3)")
    p.add_argument("--formats", nargs="+", default=["pdf", "png"], help="figure formats (default pdf png)")
    p.add_argument("--max-attempts", type=int, default=None, help="override the config's max_attempts")
    p.add_argument("--progress-interval", type=float, default=10.0, metavar="S",
                   help="seconds between scan progress lines when stderr is not a terminal (default 10)")
    p.add_argument("--quiet", action="store_true", help="no progress output (the summary is still printed)")
    return p


def run(args) -> int:
    from lfvscan.cli.limits import parse_overrides
    from lfvscan.pheno.limits import DEFAULT_N_REQ
    from lfvscan.pheno.run import RunOptions, limits_table, run_pipeline
    from lfvscan.plots.figures import check_formats

    config = load_config(args.config)
    if args.max_attempts is not None and args.max_attempts < 1:
        raise UsageError(f"--max-attempts must be >= 1, got {args.max_attempts}")
    try:
        formats = check_formats(args.formats)
    except UsageError as exc:
        raise UsageError(f"--formats: {exc}") from None
    options = RunOptions(
        experiments=tuple(args.experiments) if args.experiments else None,
        experiments_config=args.experiments_config, overrides=parse_overrides(args.overrides), flux=args.flux,
        n_req=DEFAULT_N_REQ if args.n_req is None else args.n_req, formats=formats,
        max_attempts=args.max_attempts, progress_interval_s=args.progress_interval, quiet=args.quiet,
    )
    store = args.store or config.store
    res = run_pipeline(config, Path(args.config).read_text(), store, args.out, options, command=" ".join(sys.argv))
    if res.rank != 0 or res.limits_path is None:
        return res.exit_code
    print(limits_table(res.limits_path))
    states = ", ".join(f"{s.name} {s.state}" for s in res.stages)
    print(f"limits:  {res.limits_path}\nfigures: {res.figures_dir}/  ({states})")
    print(f"export to HDF5: lfvscan export {store} --to {Path(args.out) / 'results.h5'} --limits {res.limits_path}")
    return res.exit_code
