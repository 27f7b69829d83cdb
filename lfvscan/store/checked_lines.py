"""Checksummed JSON lines: one JSON object, TAB, crc32 of the JSON (8 hex digits), LF.

The line format of attempt logs (:mod:`lfvscan.store.attempt_log`) and of JSON-line journals
(:mod:`lfvscan.store.legacy_journal`).  A torn or corrupt line reads as None.
"""

from __future__ import annotations

import json
import zlib


def encode_line(d: dict) -> bytes:
    """One line holding ``d``: JSON, TAB, crc32 of the JSON (8 hex digits), LF."""
    text = json.dumps(d).encode()
    return text + b"\t" + f"{zlib.crc32(text):08x}".encode() + b"\n"


def decode_line(line: bytes) -> dict | None:
    """The JSON object of one line, or None if it is torn or corrupt."""
    if not line.endswith(b"\n"):
        return None
    text, sep, crc = line[:-1].rpartition(b"\t")
    if not sep or crc != f"{zlib.crc32(text):08x}".encode():
        return None
    try:
        d = json.loads(text)
    except ValueError:
        return None
    return d if isinstance(d, dict) else None


def decode_lines(data: bytes) -> list[dict]:
    """The intact lines of ``data`` (torn or corrupt ones skipped)."""
    return [d for d in map(decode_line, data.splitlines(keepends=True)) if d is not None]
