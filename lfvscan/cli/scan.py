"""``lfvscan scan CONFIG [--store PATH]``: run or resume a scan (serial, or under mpiexec/srun).

Exit status: 0 every requested cell done; 1 finished with failed cells (rerun to retry while
attempts < max_attempts); 2 usage error (bad config, store from a different config, MPI
launched wrongly); 3 every requested cell done but some did not reach the requested rel_err
within their evaluation budget (stored with converged = false and their honest, larger error);
74 I/O or environment failure (disk full, read-only store; one line; rerun once fixed);
128+signal when drained by SIGTERM (143) / SIGINT (130): rerun to resume.
"""

from __future__ import annotations

from pathlib import Path

from lfvscan.spec.config import load_config
from lfvscan.errors import UsageError


def add_parser(sub):
    p = sub.add_parser(
        "scan",
        help="run or resume a scan of the production cross section (MPI-parallel under mpiexec/srun)",
        description=__doc__.split("\n\n")[0],
        epilog="exit status: 0 complete; 1 failed cells (rerun to retry); 2 usage error; 3 complete but some cells "
               "short of their requested precision; 74 I/O or environment failure (disk full, read-only store); "
               "130/143 interrupted (rerun to resume)",
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
