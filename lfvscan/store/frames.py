"""The binary frame codec of journal logs: :func:`encode_batch`, :func:`decode_frames`.

One frame holds one :class:`~lfvscan.store.records.RecordBatch` (the cells one write brings: a
worker's last ~0.25 s, or one cell of a serial run)::

    b"LFVB" | header length (u32 LE) | payload length (u32 LE) | crc32 of header + payload (u32 LE)
    header: JSON {"n": rows, "fields": [[name, numpy dtype str, shape], ...], "errors": [[row, message], ...]}
    payload: the rows, packed little-endian records of those fields (lfvscan.store.records.row_dtype)

* Exact: values are raw float64/int/bool bytes (nan, inf, -0.0, subnormals read back bit for
  bit); fields of the schema a frame does not have read as the field's fill value, fields of the
  frame the schema does not have are ignored; the names frames of stores of format
  ``lfvscan-scan/3`` and older give some fields are read as the current ones
  (:func:`lfvscan.store.legacy_names.current_name`).
* Cheap: a few microseconds per cell to encode.
* Crash-safe: the lengths and the checksum expose a torn last frame (a ``kill -9`` during the
  append) and a corrupt one (bit rot); both are skipped, and reading resynchronises on the next
  ``LFVB``.
"""

from __future__ import annotations

import functools
import json
import struct
import zlib

import numpy as np

from lfvscan.store.legacy_names import current_name
from lfvscan.store.records import PER_BIN_FIELD, RecordBatch, n_lab_of, row_dtype

FRAME_MAGIC = b"LFVB"
FRAME_MAX_BYTES = 64 * 2**20  #: rows per frame at most this many bytes (lengths are u32)
_PREFIX = struct.Struct("<4sIII")


@functools.lru_cache(maxsize=16)
def _descr_json(dtype: np.dtype) -> str:
    return json.dumps([[name, dtype.fields[name][0].base.str, list(dtype.fields[name][0].shape)] for name in dtype.names])


def _renamed(dtype: np.dtype, disk_name) -> np.dtype:
    """A copy of ``dtype`` with each field named ``disk_name(name)`` (same layout)."""
    return np.dtype({"names": [disk_name(n) for n in dtype.names],
                     "formats": [dtype.fields[n][0] for n in dtype.names],
                     "offsets": [dtype.fields[n][1] for n in dtype.names], "itemsize": dtype.itemsize})


def encode_batch(batch: RecordBatch, disk_name=None) -> bytes:
    """One frame (module docstring) holding every row of ``batch``: the header names each field
    with its dtype and shape (``disk_name(name)`` if given: the names of the store's format,
    :meth:`lfvscan.store.legacy_names.StoreGroup.disk_name`); the payload is the rows' packed
    little-endian bytes."""
    errors = json.dumps([[int(r), m] for r, m in sorted(batch.errors.items())])
    dtype = batch.rows.dtype if disk_name is None else _renamed(batch.rows.dtype, disk_name)
    header = f'{{"n": {len(batch)}, "fields": {_descr_json(dtype)}, "errors": {errors}}}'.encode()
    payload = np.ascontiguousarray(batch.rows).tobytes()
    body = header + payload
    return _PREFIX.pack(FRAME_MAGIC, len(header), len(payload), zlib.crc32(body)) + body


def encode_frames(batch: RecordBatch, disk_name=None) -> bytes:
    """``batch`` as frames of at most :data:`FRAME_MAX_BYTES` of rows each (the lengths are 32-bit);
    ``disk_name`` as for :func:`encode_batch`."""
    per_frame = max(1, FRAME_MAX_BYTES // batch.rows.dtype.itemsize)
    if len(batch) <= per_frame:
        return encode_batch(batch, disk_name)
    return b"".join(encode_batch(batch.take(np.arange(i, min(i + per_frame, len(batch)))), disk_name)
                    for i in range(0, len(batch), per_frame))


def _decode_body(header: bytes, payload: bytes, n_xbins: int | None) -> RecordBatch:
    h = json.loads(header)
    n = int(h["n"])
    dtype = np.dtype([(current_name(name), dt, tuple(shape)) if shape else (current_name(name), dt)
                      for name, dt, shape in h["fields"]])
    if n * dtype.itemsize != len(payload):
        raise ValueError("payload length disagrees with the fields")
    got = np.frombuffer(payload, dtype=dtype, count=n)
    nb = n_xbins if n_xbins is not None else (dtype[PER_BIN_FIELD].shape[0] if PER_BIN_FIELD in dtype.names else 0)
    n_lab = n_lab_of(dtype)
    if dtype == row_dtype(nb, n_lab):
        rows = got.copy()
    else:  # written with another schema: common fields copied, missing ones keep their fill value
        rows = RecordBatch.empty(n, nb, n_lab).rows
        for name in rows.dtype.names:
            if name in dtype.names:
                rows[name] = got[name]
    return RecordBatch(rows, {int(r): str(m) for r, m in h["errors"]})


def decode_frames(data: bytes, n_xbins: int | None = None) -> tuple[list[RecordBatch], int]:
    """(batches, number of torn or corrupt frames) of a log's bytes."""
    batches, bad, pos = [], 0, 0
    while pos < len(data):
        ok = False
        if len(data) - pos >= _PREFIX.size:
            magic, hlen, plen, crc = _PREFIX.unpack_from(data, pos)
            end = pos + _PREFIX.size + hlen + plen
            if magic == FRAME_MAGIC and end <= len(data):
                body = data[pos + _PREFIX.size:end]
                if zlib.crc32(body) == crc:
                    try:
                        batches.append(_decode_body(body[:hlen], body[hlen:], n_xbins))
                        ok = True
                    except (ValueError, KeyError, TypeError):  # a checksum collision on garbage
                        pass
        if ok:
            pos = end
            continue
        bad += 1
        nxt = data.find(FRAME_MAGIC, pos + 1)  # resynchronise on the next frame
        if nxt < 0:
            break
        pos = nxt
    return batches, bad
