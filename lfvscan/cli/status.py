"""``lfvscan status STORE [--json]``: progress of a scan store (read-only; safe while a scan runs).

Prints done/failed/pending counts, the failed cells with their messages, throughput and ETA of
the current (or last) run.  Verifies every chunk (CRC-32C, and its place: lfvscan.store.row_checksums); damaged rows are listed and their
cells counted as pending (the next ``lfvscan scan`` recomputes them).  ``--json`` prints the same as one JSON object (``"complete": true``
when every requested cell is done; batch scripts use it to decide on resubmission).
"""

from __future__ import annotations

import json

from lfvscan.scan.progress import format_duration


def add_parser(sub):
    p = sub.add_parser("status", help="show the progress of a scan store", description=__doc__.split("\n\n")[0])
    p.add_argument("store", help="store directory")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--max-failures", type=int, default=20, help="failed cells listed (default 20)")
    return p


def run(args) -> int:
    from lfvscan.store import store_status

    s = store_status(args.store)
    if args.json:
        print(json.dumps(s))
        return 0
    c = s["counts"]
    print(f"store {s['store']} (config {s['config_hash']}), grid {' x '.join(map(str, s['shape']))}")
    print(
        f"cells: {c['done']}/{s['requested']} done, {c['failed']} failed "
        f"({s['retryable_failed']} to be retried), {c['pending']} pending, {c['skipped']} skipped (not requested)"
    )
    rate = s["rate_cells_per_s"]
    n = s["n_ranks"]
    ranks = f" on {n} rank{'s' if n > 1 else ''}" if n else ""
    print(f"run: {s['state']}{ranks}; throughput {f'{rate:.2f} cells/s' if rate else '-'}; "
          f"ETA {format_duration(s['eta_s']) if not s['finished'] else '0s'}")
    if s["failures"]:
        print("failed cells:")
        for f in s["failures"][: args.max_failures]:
            print(f"  {f['target']} E={f['energy_GeV']:g} GeV m_a={f['mass_GeV']:g} GeV "
                  f"(attempts {f['attempts']}): {f['error']}")
        if len(s["failures"]) > args.max_failures:
            print(f"  ... {len(s['failures']) - args.max_failures} more (--max-failures N)")
    if s["damaged"]:
        print(f"damaged: {len(s['damaged'])} row(s) of the store are damaged (checksum, length, status code, or a chunk not in its place); their cells count as pending "
              f"and the next `lfvscan scan` recomputes them: " + ", ".join(
                  f"{d['target']} E={d['energy_GeV']:g} GeV ({', '.join(d['arrays'])})" for d in s["damaged"][:5]))
    if s["dropped_journal_frames"]:
        print(f"journal: {s['dropped_journal_frames']} torn or corrupt frame(s) skipped (cut off by a kill or damaged); "
              "their cells count as pending and the next `lfvscan scan` computes them again")
    if s["unconverged"]:
        print(f"{s['unconverged']} done cell(s) did not reach the requested precision (stored with converged = "
              f"false and their larger error), e.g. " + ", ".join(
                  f"{u['target']} E={u['energy_GeV']:g} GeV m_a={u['mass_GeV']:g} GeV"
                  for u in s["unconverged_cells"][:3]))
    print("complete" if s["complete"] else "incomplete")
    return 0
