"""Reading the per-cell arrays of a store on disk row chunk by row chunk, with damage detection.

:class:`RowArrays` reads whole per-cell arrays (:meth:`~RowArrays.read`), finds the damaged row
chunks (:meth:`~RowArrays.verify`) and resets them (:meth:`~RowArrays.repair`).  A chunk is
damaged if it cannot be decoded (wrong length; CRC-32C mismatch in stores of format
``lfvscan-scan/2`` and later), or, for ``status``, if it holds a code other than PENDING, DONE,
FAILED in a requested row, or anything but SKIPPED in a row the config does not request; and it is
not in its place if the row's record says another chunk belongs there (missing, moved between
rows or arrays, from another store: :mod:`lfvscan.store.row_checksums`, format ``lfvscan-scan/3``).  A damaged row
reads as not computed (fill values, status PENDING), so a resume recomputes its cells
(bit-identically: seeds are per cell).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from lfvscan.schema import DONE, FAILED, FIELDS, LAB_FIELDS, PENDING, SKIPPED, stored_cell_fields
from lfvscan.store import row_checksums
from lfvscan.store.chunks import ChunkDamaged, RowCache, write_chunk
from lfvscan.store.row_checksums import chunk_crc

#: {(i, j): names of the per-cell arrays whose chunk of that row is damaged}
Damaged = dict[tuple[int, int], list[str]]


def valid_status_row(row: np.ndarray, requested: bool) -> bool:
    """Status codes a row can hold: PENDING/DONE/FAILED if requested, else only SKIPPED."""
    if requested:
        return bool(np.isin(row, (PENDING, DONE, FAILED)).all())
    return bool((row == SKIPPED).all())


class RowArrays:
    """The per-cell arrays of the store at ``path`` (zarr ``group``; ``rows``: the row chunk cache,
    shared with the store's writer; ``requested``: the config's (target, energy) mask)."""

    def __init__(self, path: Path, group, rows: RowCache, requested: np.ndarray, writable: bool):
        self.path = path
        self.group = group
        self.rows = rows
        self.requested = requested
        self.writable = writable
        self.shape = requested.shape
        self._damaged: Damaged | None = None
        #: rows decoded by verify() in a read-only store, handed to read() once (each chunk is then
        #: decoded and checksummed once per load, not twice); a writer keeps none (its rows change)
        self._verified: dict[tuple[str, int, int], np.ndarray] = {}
        #: (store_id, arrays) of the store's row records, None in stores without them
        self.binding = row_checksums.binding(group)
        #: the store's per-cell arrays (the lab histograms only in a store of a scan with a collider target)
        self.fields = stored_cell_fields(LAB_FIELDS[0].name in group)

    def read(self, name: str) -> np.ndarray:
        """The whole per-cell array ``name`` as of the last fold; damaged rows as not computed."""
        damaged = self.verify()
        out = None
        for i in range(self.shape[0]):
            for j in range(self.shape[1]):
                if (i, j) in damaged:
                    row = self.fill_row(name, i, j)
                else:
                    row = self._verified.pop((name, i, j), None)
                    if row is None:
                        row = self._read_row(name, i, j)
                if out is None:
                    out = np.empty(self.shape + row.shape, dtype=row.dtype)
                out[i, j] = row
        return out

    def _read_row(self, name: str, i: int, j: int) -> np.ndarray:
        """Row (i, j) of per-cell array ``name`` from its chunk (raises on damage)."""
        if self.rows.spec(name).raw:
            return self.rows.read(name, i, j)
        return np.array(self.group[name][i, j], dtype=object if FIELDS[name].dtype == "str" else None)

    def fill_row(self, name: str, i: int, j: int) -> np.ndarray:
        """What row (i, j) of ``name`` holds once repaired: the fill value (status PENDING, or
        SKIPPED where not requested)."""
        spec = self.rows.spec(name)
        f = FIELDS[name]
        value = (PENDING if self.requested[i, j] else SKIPPED) if name == "status" else f.fill
        dtype = object if f.dtype == "str" else spec.dtype.newbyteorder("=")
        return np.full(spec.row_shape, value, dtype=dtype)

    def verify(self, refresh: bool = False) -> Damaged:
        """The damaged rows (module docstring); computed once (``refresh`` recomputes)."""
        if self._damaged is not None and not refresh:
            return self._damaged
        damaged: Damaged = {}
        for i in range(self.shape[0]):
            for j in range(self.shape[1]):
                if names := self._verify_row(i, j):
                    damaged[i, j] = names
        self._damaged = damaged
        return damaged

    def _verify_row(self, i: int, j: int, tries: int = 5) -> list[str]:
        """Names of the arrays whose chunk of row (i, j) is damaged or not in its place.

        The row's record (:mod:`lfvscan.store.row_checksums`) is read before and after its chunks:
        if a running scan's fold rewrote it meanwhile, the row is read again (a fold writes its
        record before and after the chunks, so an unchanged record covers what was read)."""
        for _ in range(tries):
            before = self.rows.read_file(row_checksums.NAME, i, j) if self.binding else None
            names, crcs, status = self._read_chunks(i, j)
            if not self.binding:
                return names
            after = self.rows.read_file(row_checksums.NAME, i, j)
            if before == after:
                break
        try:
            record = None if after is None else self.rows.decode(row_checksums.NAME, i, j, after)
        except ChunkDamaged:
            return names + [row_checksums.NAME]
        store_id, arrays = self.binding
        return names + [n for n in row_checksums.misplaced(record, store_id, i, j, crcs, status, arrays)
                        if n not in names]

    def _read_chunks(self, i: int, j: int) -> tuple[list[str], dict[str, int], np.ndarray | None]:
        """Decode every chunk of row (i, j): (names of the damaged ones, {name: CRC-32C of each
        decodable chunk (:func:`lfvscan.store.row_checksums.chunk_crc`)}, the status row or None)."""
        names, crcs, status = [], {}, None
        for f in self.fields:
            try:
                content = self.rows.read_file(f.name, i, j)
                if self.rows.spec(f.name).raw:
                    row = self.rows.decode(f.name, i, j, content)
                else:
                    row = self._read_row(f.name, i, j)
            except Exception:  # noqa: BLE001 - ChunkDamaged, or zarr's checksum/decoding errors
                names.append(f.name)
                continue
            crcs[f.name] = chunk_crc(content)
            if f.name == "status":
                if not valid_status_row(row, bool(self.requested[i, j])):
                    names.append(f.name)
                    continue
                status = row
            if not self.writable:
                self._verified[f.name, i, j] = row
        return names, crcs, status

    def repair(self) -> int:
        """Reset every damaged row to "not computed" (its chunks deleted; SKIPPED written where not
        requested).  Returns the number of rows reset; warns."""
        damaged = self.verify(refresh=True)
        if not damaged:
            return 0
        if not self.writable:
            raise RuntimeError("store opened read-only")
        for (i, j) in sorted(damaged):
            for name in [f.name for f in self.fields] + ([row_checksums.NAME] if self.binding else []):
                self.rows.path(name, i, j).unlink(missing_ok=True)
            if not self.requested[i, j]:
                write_chunk(self.path, "status", (i, j, 0), self.fill_row("status", i, j), set(),
                            self.rows.spec("status").checksum)
        self.rows.forget()
        names = sorted({n for v in damaged.values() for n in v})
        warnings.warn(f"{str(self.path)!r}: {len(damaged)} damaged row(s) (chunks of {', '.join(names)}) reset; "
                      f"their cells are computed again")
        self._damaged = {}
        return len(damaged)
