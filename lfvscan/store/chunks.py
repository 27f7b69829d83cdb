"""Row chunks of a store's per-cell arrays, read and written as files (around zarr's API).

A per-cell array has one chunk per (target, energy) row (:mod:`lfvscan.store.layout`); its file
is ``<store>/<array>/c/<i>/<j>/0`` (``.../0/0`` for per-bin arrays: zarr v3 default chunk key
encoding, separator "/").  Numeric arrays are uncompressed, so a chunk file is exactly zarr's
``bytes``-codec encoding, the raw little-endian array: reading and writing it directly is ~20x
cheaper than zarr's async machinery (~50x for reads of a new store's never-written rows); tests
check that zarr and xarray read back exactly what was written.  A missing chunk file reads as the
array's fill value, as in zarr.

Atomic writes: a chunk is written to a ``.<name>.<pid>-<n>.partial`` file next to it and renamed,
so a reader sees the old or the new chunk, never half of one.  A kill can leave ``*.partial``
files, which :func:`clean_partials` removes (the next fold rewrites the same values).

Checksums: every array of a store of format ``lfvscan-scan/2`` ends its codec chain with zarr
v3's standard ``crc32c`` codec, so each chunk file is the raw little-endian row followed by the
CRC-32C of those bytes (4 bytes, little endian).  :class:`RowCache` verifies it on every read
(:class:`ChunkDamaged` on a mismatch or a wrong length), and so do zarr and xarray readers.  The
CRC-32C is computed with ``google_crc32c``, the library zarr's own ``crc32c`` codec uses (it is
installed with zarr).  Stores of format ``lfvscan-scan/1`` (no checksum) are read too; there only a
wrong length is detected.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lfvscan.store.legacy_names import store_group
from lfvscan.store.row_checksums import chunk_crc
from lfvscan.util.fileio import write_all

_TMP_COUNTER = itertools.count()
#: bytes of the checksum after the data in a chunk file (zarr v3 ``crc32c`` codec)
CRC_BYTES = 4


class ChunkDamaged(ValueError):
    """A chunk file whose length or checksum is wrong (truncated, overwritten, bit rot)."""


def crc32c(data: bytes) -> bytes:
    """CRC-32C (Castagnoli) of ``data`` as 4 little-endian bytes, as zarr's ``crc32c`` codec writes it."""
    import google_crc32c

    return int(google_crc32c.value(data)).to_bytes(CRC_BYTES, "little")


def encode_chunk(values: np.ndarray, checksum: bool) -> bytes:
    """Chunk file content: the raw little-endian array (zarr ``bytes`` codec), then its CRC-32C
    if ``checksum`` (zarr ``crc32c`` codec)."""
    data = np.ascontiguousarray(values)
    big_endian = data.dtype.byteorder == ">" or (data.dtype.byteorder == "=" and not np.little_endian)
    if data.dtype.itemsize > 1 and big_endian:
        data = data.astype(data.dtype.newbyteorder("<"))
    raw = data.tobytes()
    return raw + crc32c(raw) if checksum else raw


def decode_chunk(content: bytes, dtype: np.dtype, shape: tuple[int, ...], checksum: bool, where: str = "") -> np.ndarray:
    """Inverse of :func:`encode_chunk`; :class:`ChunkDamaged` if the length or the checksum is wrong."""
    n = int(np.prod(shape)) * dtype.itemsize
    expect = n + (CRC_BYTES if checksum else 0)
    if len(content) != expect:
        raise ChunkDamaged(f"chunk {where} has {len(content)} bytes, expected {expect}")
    if checksum and crc32c(content[:n]) != content[n:]:
        raise ChunkDamaged(f"chunk {where}: checksum mismatch")
    return np.frombuffer(content[:n], dtype=dtype).reshape(shape)


def chunk_path(root: str | Path, name: str, index: tuple[int, ...]) -> Path:
    """Path of a chunk file (zarr v3 default chunk key encoding, separator "/")."""
    return Path(root) / name / "c" / "/".join(str(i) for i in index)


def write_chunk(root: str | Path, name: str, index: tuple[int, ...], values: np.ndarray, dirs: set[str],
                checksum: bool = True) -> None:
    """Write one uncompressed chunk (zarr v3 ``bytes`` codec, little endian, then the ``crc32c``
    codec's checksum if ``checksum``) atomically (:func:`write_content`)."""
    write_content(root, name, index, encode_chunk(values, checksum), dirs)


def write_content(root: str | Path, name: str, index: tuple[int, ...], content: bytes, dirs: set[str]) -> None:
    """Write the chunk file of ``index`` of array ``name`` with ``content``, atomically.

    Plain ``os`` calls on strings (no pathlib, no uuid): a fold calls it once per array and touched
    row.  ``dirs``: chunk directories known to exist (created here once).
    """
    parent = f"{root}/{name}/c/" + "/".join(str(i) for i in index[:-1])
    if parent not in dirs:
        os.makedirs(parent, exist_ok=True)
        dirs.add(parent)
    path = f"{parent}/{index[-1]}"
    tmp = f"{parent}/.{index[-1]}.{os.getpid()}-{next(_TMP_COUNTER)}.partial"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        write_all(fd, content)  # never leave a short chunk
    except BaseException:
        os.close(fd)
        fd = -1
        os.unlink(tmp)
        raise
    finally:
        if fd >= 0:
            os.close(fd)
    os.replace(tmp, path)


def clean_partials(root: str | Path) -> int:
    """Remove ``*.partial`` leftovers of writes interrupted by a kill; returns how many."""
    n = 0
    for p in Path(root).rglob("*.partial"):
        p.unlink(missing_ok=True)
        n += 1
    return n


@dataclass(frozen=True)
class ChunkSpec:
    """How a per-cell array's row chunks are encoded."""

    raw: bool  #: chunk file = raw little-endian array [+ CRC-32C] (else: read through zarr)
    dtype: np.dtype  #: dtype of the chunk file (little endian when raw)
    fill: object
    row_shape: tuple[int, ...]  #: shape of one row: (n_masses,) or (n_masses, n_bins)
    checksum: bool = False  #: the codec chain ends with zarr's crc32c codec

    @classmethod
    def of(cls, array) -> "ChunkSpec":
        """The spec of zarr array ``array``."""
        from zarr.codecs import Crc32cCodec

        bb = tuple(array.compressors)
        checksum = bool(bb) and isinstance(bb[-1], Crc32cCodec)
        raw = (not array.filters and array.dtype.kind in "biuf"
               and all(isinstance(c, Crc32cCodec) for c in bb) and len(bb) <= 1)
        dtype = np.dtype(array.dtype).newbyteorder("<") if raw else array.dtype
        return cls(raw, dtype, array.fill_value, tuple(array.chunks[2:]), checksum)


class RowCache:
    """Rows (i, j) of the per-cell arrays of one store, for its single writer: read once (from the
    chunk file, or through zarr for arrays that are not raw), changed in memory, written back."""

    def __init__(self, root: str | Path, group):
        self.root = Path(root)
        self.group = store_group(group)  # arrays under their current names (lfvscan.store.legacy_names)
        self._rows: dict[tuple[str, int, int], np.ndarray] = {}
        self._specs: dict[str, ChunkSpec] = {}
        self.dirs: set[str] = set()  # chunk directories already created by this writer
        self._crcs: dict[tuple[str, int, int], int] = {}  # chunk CRC-32C on disk, of the rows read or written

    def spec(self, name: str) -> ChunkSpec:
        if name not in self._specs:
            self._specs[name] = ChunkSpec.of(self.group[name])
        return self._specs[name]

    def path(self, name: str, i: int, j: int) -> Path:
        """Chunk file of row (i, j) of per-cell array ``name``."""
        return chunk_path(self.root, self.group.disk_name(name), (i, j) + (0,) * len(self.spec(name).row_shape))

    def read_file(self, name: str, i: int, j: int) -> bytes | None:
        """Content of the chunk file of row (i, j) of ``name`` (None if there is none)."""
        try:
            return self.path(name, i, j).read_bytes()
        except FileNotFoundError:
            return None

    def decode(self, name: str, i: int, j: int, content: bytes | None) -> np.ndarray:
        """Row (i, j) of raw array ``name`` from its chunk file's ``content`` (None: the fill value)."""
        spec = self.spec(name)
        native = spec.dtype.newbyteorder("=")
        if content is None:
            return np.full(spec.row_shape, spec.fill, dtype=native)
        data = decode_chunk(content, spec.dtype, spec.row_shape, spec.checksum, where=f"{name}[{i}, {j}]")
        return data.astype(native, copy=True)

    def read(self, name: str, i: int, j: int) -> np.ndarray:
        """Row (i, j) of array ``name`` (all masses) as on disk; the fill value if never written.
        Remembers the CRC-32C of the chunk read (:meth:`disk_crc`)."""
        if not self.spec(name).raw:
            return np.array(self.group[name][i, j])
        content = self.read_file(name, i, j)
        row = self.decode(name, i, j, content)
        self._crcs[name, i, j] = chunk_crc(content)
        return row

    def disk_crc(self, name: str, i: int, j: int) -> int:
        """The :func:`lfvscan.store.row_checksums.chunk_crc` of the chunk of row (i, j) of ``name`` on disk."""
        if (name, i, j) not in self._crcs:
            self._crcs[name, i, j] = chunk_crc(self.read_file(name, i, j))
        return self._crcs[name, i, j]

    def row(self, name: str, i: int, j: int) -> np.ndarray:
        """Row (i, j) of array ``name``, cached: change it in place, then :meth:`write` it."""
        key = (name, i, j)
        if key not in self._rows:
            self._rows[key] = self.read(name, i, j)
        return self._rows[key]

    def encode(self, name: str, i: int, j: int) -> bytes:
        """The chunk file content of the cached row (i, j) of raw array ``name``."""
        return encode_chunk(self.row(name, i, j), self.spec(name).checksum)

    def write(self, name: str, i: int, j: int, content: bytes | None = None) -> None:
        """Write the cached row (i, j) of raw array ``name`` (or its ``content`` as encoded by
        :meth:`encode`) to its chunk file, atomically."""
        spec = self.spec(name)
        index = (i, j) + (0,) * len(spec.row_shape)
        if content is None:
            content = self.encode(name, i, j)
        write_content(self.root, self.group.disk_name(name), index, content, self.dirs)
        self._crcs[name, i, j] = chunk_crc(content)

    def forget_crc(self, name: str, i: int, j: int) -> None:
        """Forget the remembered CRC-32C of a chunk rewritten by somebody else (zarr)."""
        self._crcs.pop((name, i, j), None)

    def forget(self) -> None:
        """Drop the cached rows (after a repair rewrote them on disk)."""
        self._rows.clear()
        self._crcs.clear()
