"""Compare two scan stores array by array, bit for bit, and optionally their limits.csv data rows.

    python benchmarks/compare_stores.py NEW_STORE BASE_STORE [--limits NEW_LIMITS_DIR BASE_LIMITS_DIR]

Arrays are read under the current names (a store of an earlier format, e.g. ``lfvscan-scan/3``,
compares to one of this version through :mod:`lfvscan.store.legacy_names`).  The run-dependent
arrays (``seconds``, ``wall_seconds``, ``rank``, and ``row_checksums``, whose records name each
run's chunk writes) are skipped.  limits.csv lines starting with '#' (provenance, dates) are
skipped.  Prints the identical and the differing arrays; exit status 0 if everything compared is
identical, 1 otherwise.  Used for the bit-identity checks of docs/scaling.md (1 vs N ranks, a
change that must not alter numbers).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

#: arrays that differ from run to run by design
RUN_DEPENDENT = {"seconds", "wall_seconds", "rank", "row_checksums"}


def _arrays(path: str) -> dict:
    from lfvscan.store.layout import open_group

    group = open_group(path, writable=False)
    return {name: group[name] for name in group.array_keys()}


def _limit_rows(directory: str) -> list[str]:
    return [line for line in (Path(directory) / "limits.csv").read_text().splitlines() if not line.startswith("#")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("new"), ap.add_argument("base")
    ap.add_argument("--limits", nargs=2, metavar=("NEW_DIR", "BASE_DIR"), help="also compare limits.csv rows")
    args = ap.parse_args(argv)
    a, b = _arrays(args.new), _arrays(args.base)
    ok = a.keys() == b.keys()
    if not ok:
        print("array sets differ: only new", sorted(a.keys() - b.keys()), "only base", sorted(b.keys() - a.keys()))
    same, differ = [], []
    for name in sorted((a.keys() & b.keys()) - RUN_DEPENDENT):
        x, y = np.asarray(a[name][...]), np.asarray(b[name][...])
        equal = x.dtype == y.dtype and x.shape == y.shape and (
            x.tolist() == y.tolist() if x.dtype.kind in "OT" else x.tobytes() == y.tobytes())
        (same if equal else differ).append(name)
    print(f"identical arrays ({len(same)}):", " ".join(same))
    print("differing arrays:", " ".join(differ) if differ else "none")
    ok = ok and not differ
    if args.limits:
        ra, rb = (_limit_rows(d) for d in args.limits)
        print(f"limits.csv data rows: {len(ra)} new, {len(rb)} base,", "identical" if ra == rb else "DIFFERENT")
        ok = ok and ra == rb
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
