"""``lfvscan scan CONFIG [--store PATH]``: run or resume a scan (serial, or under mpiexec/srun).

Exit statuses: :func:`lfvscan.errors.exit_statuses` of ``"scan"`` (the end of ``--help``).  Failed
cells are retried by a rerun while attempts < max_attempts; a cell short of its requested rel_err
within its evaluation budget is stored with converged = false and its honest, larger error.
"""

from __future__ import annotations

from pathlib import Path

from lfvscan.spec.config import load_config
from lfvscan.xsec.settings import budget_problem
from lfvscan.errors import UsageError


def add_parser(sub):
    p = sub.add_parser(
        "scan",
        help="run or resume a scan of the production cross section (MPI-parallel under mpiexec/srun)",
        description=__doc__.split("\n\n")[0],
    )
    add_scan_options(p)
    return p


def add_scan_options(p) -> None:
    """The config, store and run settings of a scan (``scan``, ``run``)."""
    p.add_argument("config", help="scan configuration (TOML), e.g. configs/demo.toml")
    p.add_argument("--store", help="store directory (zarr v3); default: the config's `store` key")
    p.add_argument("--max-attempts", type=int, default=None, help="override the config's max_attempts (run setting)")
    p.add_argument("--progress-interval", type=float, default=10.0, metavar="S",
                   help="seconds between progress log lines when stderr is not a terminal (default 10)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def scan_config(args):
    """(config, its TOML text, store path) of :func:`add_scan_options`' arguments (UsageError if bad)."""
    config = load_config(args.config)
    if (problem := budget_problem(config.rel_err)) is not None:  # refused before any cell is computed
        raise UsageError(f"{args.config}: {problem}")
    if args.max_attempts is not None and args.max_attempts < 1:
        raise UsageError(f"--max-attempts must be >= 1, got {args.max_attempts}")
    if args.store is not None and not args.store.strip():
        raise UsageError("--store: empty path; give a store directory (or leave --store out for the config's `store`)")
    return config, Path(args.config).read_text(), args.store or config.store


def run(args) -> int:
    from lfvscan.scan.engine import main_scan

    config, text, store = scan_config(args)
    return main_scan(config, store, text, quiet=args.quiet, progress_interval_s=args.progress_interval,
                     max_attempts=args.max_attempts)
