"""``lfvscan verify STORE [--json]``: check that every chunk of a scan store is intact and in its place.

Reads every row chunk of every per-cell array: its CRC-32C, its status codes, and (stores of
format ``lfvscan-scan/3``) the row's record of which chunk belongs there, so a missing chunk, a
chunk moved between rows or arrays, or one copied from another store is found
(:mod:`lfvscan.store.row_checksums`).  Run it before reading a store with zarr or xarray
directly (``lfvscan`` commands verify on their own and read damaged rows as not computed).
Read-only; the next ``lfvscan scan`` of the store recomputes the damaged rows.
"""

from __future__ import annotations

import json

from lfvscan.errors import EXIT_FAILED_CELLS, EXIT_OK

def add_parser(sub):
    import argparse

    p = sub.add_parser("verify", help="check that every chunk of a scan store is intact and in its place",
                       description=__doc__.split("\n\n")[0],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("store", help="store directory")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def run(args) -> int:
    from lfvscan.store import ScanStore

    st = ScanStore.open(args.store)
    damaged = st.verify()
    rows = [{"target": st.config.target_names[i], "energy_GeV": st.config.energies_GeV[j], "arrays": names}
            for (i, j), names in sorted(damaged.items())]
    bound = st.has_row_records
    if args.json:
        print(json.dumps({"store": args.store, "damaged": rows, "row_records": bound}))
    elif not rows:
        n = st.shape[0] * st.shape[1]
        how = "intact and in its place" if bound else "intact (a store without row records: places not checked)"
        print(f"{args.store}: every chunk of its {n} rows is {how}")
    else:
        print(f"{args.store}: {len(rows)} damaged row(s) (their cells read as not computed; the next `lfvscan scan` "
              "recomputes them):")
        for d in rows:
            print(f"  {d['target']} E={d['energy_GeV']:g} GeV: {', '.join(d['arrays'])}")
    return EXIT_FAILED_CELLS if rows else EXIT_OK
