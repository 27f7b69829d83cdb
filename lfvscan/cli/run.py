"""``lfvscan run CONFIG [--store PATH] [--out DIR]``: scan, then limits, then figures, in one command.

Under ``mpiexec`` every rank scans; rank 0 then writes ``OUT/limits.csv`` and ``OUT/figures/``.
Rerunning resumes the scan and rebuilds only what is stale, judged from the store's content hash
(:mod:`lfvscan.workflow.run`).  Exit statuses: the scan's (:func:`lfvscan.errors.exit_statuses` of
``"run"``, the end of ``--help``); after failed cells or cells short of their precision the limits
and figures are still made, with the missing cells named.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lfvscan.cli.limits import add_experiment_options
from lfvscan.cli.scan import add_scan_options, scan_config
from lfvscan.errors import UsageError

HELP = "scan a config, then compute the limits and draw the figures; rerun = resume, rebuild only what is stale"


def add_parser(sub):
    p = sub.add_parser("run", help=HELP, description=__doc__.split("\n\n")[0])
    add_scan_options(p)
    p.add_argument("--out", metavar="DIR", default="results", help="output directory (default: results)")
    add_experiment_options(p)
    p.add_argument("--formats", nargs="+", default=["pdf", "png"], help="figure formats (default pdf png)")
    return p


def run(args) -> int:
    from lfvscan.cli.limits import parse_overrides, parse_statistics
    from lfvscan.pheno.limits import DEFAULT_N_REQ
    from lfvscan.workflow.run import RunOptions, limits_table, run_pipeline
    from lfvscan.plots.figures import check_formats

    config, text, store = scan_config(args)
    try:
        formats = check_formats(args.formats)
    except UsageError as exc:
        raise UsageError(f"--formats: {exc}") from None
    options = RunOptions(
        experiments=tuple(args.experiments) if args.experiments else None,
        experiments_config=args.experiments_config, overrides=parse_overrides(args.overrides), flux=args.flux,
        n_req=DEFAULT_N_REQ if args.n_req is None else args.n_req, statistics=parse_statistics(args),
        formats=formats,
        max_attempts=args.max_attempts, progress_interval_s=args.progress_interval, quiet=args.quiet,
    )
    res = run_pipeline(config, text, store, args.out, options, command=" ".join(sys.argv))
    if res.rank != 0 or res.limits_path is None:
        return res.exit_code
    print(limits_table(res.limits_path))
    states = ", ".join(f"{s.name} {s.state}" for s in res.stages)
    print(f"limits:  {res.limits_path}\nfigures: {res.figures_dir}/  ({states})")
    print(f"export to HDF5: lfvscan export {store} --to {Path(args.out) / 'results.h5'} --limits {res.limits_path}")
    return res.exit_code
