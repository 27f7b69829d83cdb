"""Writer of JSON-line journals (``*.log``, the format of lfvscan 0.1.0), for tests of the reader
(:mod:`lfvscan.store.legacy_journal`): scans write binary frames only."""

from __future__ import annotations

import base64

import numpy as np

from lfvscan.store.checked_lines import encode_line
from lfvscan.store.records import CellRecord
from lfvscan.xsec.result import ARRAY_FIELDS


def encode_record(rec: CellRecord) -> bytes:
    """One JSON line (JSON, TAB, crc32 hex, LF) for ``rec``, arrays as base64 of float64 LE."""
    d = {
        "index": [int(v) for v in rec.index],
        "error": rec.error,
        "wall_seconds": rec.wall_seconds,
        "rank": rec.rank,
        "attempts": rec.attempts,
        "result": None,
    }
    if rec.result is not None:
        r = rec.result.to_dict(skip=ARRAY_FIELDS + ("meta",))  # arrays as base64 below, not as lists
        r.pop("meta", None)
        for name in ARRAY_FIELDS:
            raw = np.asarray(getattr(rec.result, name), dtype="<f8").tobytes()
            r[name] = {"f8le_b64": base64.b64encode(raw).decode()}
        d["result"] = r
    return encode_line(d)
