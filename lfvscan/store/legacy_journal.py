"""Reader of JSON-line journals (``*.log``), the first journal format of lfvscan 0.1.0 stores, so
that such a store resumes; current stores write binary frames (:mod:`lfvscan.store.frames`).

One checksummed JSON line per finished cell (:mod:`lfvscan.store.checked_lines`)::

    {"index": [i, j, k], "error": str, "wall_seconds": s, "rank": r, "attempts": n,
     "result": null | {CellResult fields..., <array field>: {"f8le_b64": base64 of float64 LE}}}
"""

from __future__ import annotations

import base64

import numpy as np

from lfvscan.store.checked_lines import decode_line
from lfvscan.store.records import CellRecord, RecordBatch
from lfvscan.xsec.result import ARRAY_FIELDS, CellResult

LEGACY_SUFFIX = ".log"


def decode_record(line: bytes) -> CellRecord | None:
    """The record of one JSON line, or None if the line is torn or corrupt."""
    d = decode_line(line)
    if d is None:
        return None
    try:
        res = None
        if d["result"] is not None:
            r = d["result"]
            for name in ARRAY_FIELDS:
                if name not in r:  # a histogram the line does not have: CellResult fills NaN
                    continue
                r[name] = np.frombuffer(base64.b64decode(r[name]["f8le_b64"]), dtype="<f8").astype("f8")
            res = CellResult(**r)
        return CellRecord(tuple(int(v) for v in d["index"]), res, d["error"], d["wall_seconds"], d["rank"],
                          d["attempts"])
    except (ValueError, KeyError, TypeError):  # checksum collision on garbage: treat as corrupt
        return None


def decode_legacy_log(data: bytes, n_xbins: int | None = None) -> tuple[list[RecordBatch], int]:
    """(batches, number of torn or corrupt lines) of a JSON-line journal's bytes; ``n_xbins``: the
    store's bins (needed only for a log holding failures alone)."""
    records, bad = [], 0
    for line in data.splitlines(keepends=True):
        rec = decode_record(line)
        if rec is None:
            bad += 1
        else:
            records.append(rec)
    if not records:
        return [], bad
    if n_xbins is None:
        n_xbins = next((len(r.result.dsigma_dlnx_f_pb) for r in records if r.result is not None), 0)
    return [RecordBatch.from_records(records, n_xbins)], bad
