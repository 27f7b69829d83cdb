"""Where every row chunk belongs: the ``row_checksums`` array of a store (format ``lfvscan-scan/3``).

A chunk's own CRC-32C (:mod:`lfvscan.store.chunks`) proves that its bytes are intact, not that
it is the chunk of its place: a deleted chunk reads as the fill value, and a valid chunk moved to
another row, another array or another store passes its own check.  So every row (i, j) that
holds results also holds a record, written with the row by every fold, of what each per-cell
array's chunk of that row is:

``row_checksums[i, j]`` (uint32, one chunk per row, itself ending with its CRC-32C) =
``[store_id, i, j, n, a_0, b_0, ..., a_{n-1}, b_{n-1}]``: the store's random identity (the array's
``store_id`` attribute), the row's own coordinates, the number n of per-cell arrays (in the order
of the array's ``arrays`` attribute) and, for each, the CRC-32C values its chunk of the row may
have (the chunk's last 4 bytes; :data:`ABSENT` for no chunk).  ``a == b`` outside a fold; a fold
first writes (old, new) for every chunk it rewrites (a kill in the middle of it leaves each chunk
old or new, both accepted, and the journal it leaves folds the row again at resume), then the
data and status chunks, then (new, new).  For the text array ``error`` (written through zarr) the
new value is only known once written: :data:`ANY` until then.

A row is in its place (:func:`misplaced`) if its record decodes, names this store and this row,
and every array's chunk has an accepted CRC-32C; a row without a record must hold no DONE or
FAILED cell (it was never folded, or was reset).  Otherwise the arrays that disagree (or
``row_checksums`` itself) are reported, and the row reads as not computed until a resume
recomputes it (:mod:`lfvscan.store.row_arrays`).  Stores of format ``lfvscan-scan/2`` or older
have no such record: there only the chunks' own checksums are verified.
"""

from __future__ import annotations

import secrets

import numpy as np

from lfvscan.schema import CELL_FIELDS, DONE, FAILED
from lfvscan.store.legacy_names import current_name

#: name of the array of row records
NAME = "row_checksums"
#: dimension names of the array (``row_checksum_entry``: the entries of one row's record)
DIMS = ("target", "energy_GeV", "row_checksum_entry")
#: the per-cell arrays a record covers, in record order
ARRAYS = tuple(f.name for f in CELL_FIELDS)
HEADER = 4  #: entries before the checksums: store_id, i, j, n
#: entry of an absent chunk (reads as the fill value)
ABSENT = 0
#: entry accepting any valid chunk (the text array during a fold, until it is written)
ANY = 0xFFFFFFFF


def new_store_id() -> int:
    """A random 32-bit identity for a new store."""
    return secrets.randbits(32)


def binding(group) -> tuple[int, tuple[str, ...]] | None:
    """(store_id, arrays) of the row records of zarr group ``group``, arrays under their current
    names (:mod:`lfvscan.store.legacy_names`); None if it has none (format ``lfvscan-scan/2`` or older)."""
    if NAME not in group:
        return None
    attrs = group[NAME].attrs
    return int(attrs["store_id"]), tuple(current_name(a) for a in attrs["arrays"])


def record_length(n_arrays: int = len(ARRAYS)) -> int:
    return HEADER + 2 * n_arrays


def chunk_crc(content: bytes | None) -> int:
    """The value a record holds for a chunk file's ``content`` (None: no file): its trailing
    CRC-32C as an unsigned 32-bit integer, :data:`ABSENT` if there is no file."""
    return ABSENT if content is None else int.from_bytes(content[-4:], "little")


def encode(store_id: int, i: int, j: int, accepted: dict[str, tuple[int, int]], arrays: tuple[str, ...]) -> np.ndarray:
    """The record of row (i, j): ``accepted[name]`` = the (a, b) CRC-32C values of each array's chunk."""
    out = np.empty(record_length(len(arrays)), dtype=np.uint32)
    out[:HEADER] = (store_id, i, j, len(arrays))
    for n, name in enumerate(arrays):
        out[HEADER + 2 * n: HEADER + 2 * n + 2] = accepted[name]
    return out


def misplaced(record: np.ndarray | None, store_id: int, i: int, j: int, crcs: dict[str, int],
              status: np.ndarray | None, arrays: tuple[str, ...]) -> list[str]:
    """Names of the arrays whose chunk of row (i, j) is not the one its record names (module
    docstring); ``[NAME]`` if the record is not this row's of this store, or missing from a row
    holding results.  ``crcs``: {array: :func:`chunk_crc` of its chunk} (arrays whose chunk cannot
    be decoded are left out: reported as damaged anyway); ``status``: the row's status codes
    (None if unreadable)."""
    if record is None:
        holds_results = status is not None and bool(np.isin(status, (DONE, FAILED)).any())
        return [NAME] if holds_results else []
    head = [int(v) for v in record[:HEADER]]
    if record.shape != (record_length(len(arrays)),) or head != [store_id, i, j, len(arrays)]:
        return [NAME]
    bad = []
    for n, name in enumerate(arrays):
        if name not in crcs:
            continue
        a, b = int(record[HEADER + 2 * n]), int(record[HEADER + 2 * n + 1])
        if crcs[name] not in (a, b) and not (b == ANY and crcs[name] != ABSENT):
            bad.append(name)
    return bad
