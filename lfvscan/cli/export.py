"""``lfvscan export STORE --to FILE.h5 [--limits limits.csv]``: a store as one HDF5 file.

Every result array with its units, description and dimension names as attributes, the limits
when given, and the provenance (config, config hash, versions, creation time) as file attributes
(:mod:`lfvscan.pheno.export`).  A running scan is exported with every cell it has recorded so far.
"""

from __future__ import annotations

from lfvscan.errors import UsageError

HELP = "write a scan store (and its limits) to one HDF5 file, readable with h5py, Mathematica, ROOT tools"


def add_parser(sub):
    p = sub.add_parser("export", help=HELP, description=__doc__.split("\n\n")[0])
    p.add_argument("store", metavar="STORE", help="scan store (zarr directory written by `lfvscan scan`/`run`)")
    p.add_argument("--to", required=True, metavar="FILE.h5", help="HDF5 file to write (replaced if it exists)")
    p.add_argument("--limits", metavar="CSV", default=None,
                   help="limits CSV to include (written by `lfvscan limits` or `lfvscan run`, e.g. results/limits.csv)")
    return p


def run(args) -> int:
    from lfvscan.pheno.export import export_hdf5

    if not args.to.endswith((".h5", ".hdf5")):
        raise UsageError(f"--to {args.to!r}: give a file name ending in .h5 or .hdf5")
    done = export_hdf5(args.store, args.to, limits_csv=args.limits)
    extra = f" and {len(done['limits'])} limit curves" if done["limits"] else ""
    print(f"wrote {args.to}: {len(done['arrays'])} arrays{extra}")
    return 0
