"""On-disk layout of a scan store: a zarr v3 directory (LocalStore) holding one scan, created from
the result schema (:mod:`lfvscan.schema`; architecture.md, issue 4).

Layout (dimension names in each array's zarr v3 ``dimension_names``; opens with
``xarray.open_zarr(path)`` thanks to consolidated metadata written once at creation):

* coordinates (:data:`lfvscan.schema.COORDINATES`) ``target`` (str), ``energy_GeV``, ``mass_GeV``
  and ``x_tau_edges`` (energy_GeV, x_tau_edge), the fixed x_tau grid of
  :func:`lfvscan.xsec.result.x_tau_edges`: written at creation, one compressed chunk each;
* every :data:`lfvscan.schema.RESULT_FIELDS` quantity over (target, energy_GeV, mass_GeV) or
  (target, energy_GeV, mass_GeV, x_tau_bin);
* bookkeeping (:data:`lfvscan.schema.BOOK_FIELDS`) over (target, energy_GeV, mass_GeV):
  ``wall_seconds``, ``rank``, ``attempts``, ``error`` (str, last failure message) and ``status``
  (int8 codes of :mod:`lfvscan.schema`; cells the config does not request are SKIPPED from the
  start);
* root attributes: ``format``, ``config`` (resolved config, JSON), ``config_toml`` (the TOML
  text), ``config_hash``, ``lfvscan_version``, ``status_codes``, ``created_unix``; every array
  has the ``units`` and ``description`` attributes of its schema field.

Every per-cell array has one chunk per (target, energy) row holding all masses (and x_tau bins),
so a fold writes one file per array and touched row; numeric ones are uncompressed (zarr's
``bytes`` codec, then its ``crc32c`` checksum codec), which :mod:`lfvscan.store.chunks` reads and
writes directly.  Every array's codec chain ends with ``crc32c`` (format ``lfvscan-scan/2``), so
a damaged chunk is detected by lfvscan (:func:`damaged_rows`), zarr and xarray alike; stores of
format ``lfvscan-scan/1`` (no checksums) are still read.  Array metadata never changes after
creation, so the consolidated metadata stays valid.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

from lfvscan import __version__
from lfvscan.errors import UsageError
from lfvscan.physics.presets import get_preset
from lfvscan.spec.config import ScanConfig
from lfvscan.schema import CELL_FIELDS, COORDINATES, SKIPPED, STATUS_NAMES, Field
from lfvscan.store.chunks import write_chunk
from lfvscan.xsec.result import x_tau_edges

FORMAT = "lfvscan-scan/2"
#: formats this version reads and resumes (1: before per-chunk checksums)
READABLE_FORMATS = ("lfvscan-scan/1", FORMAT)
#: dimensions chunked one index at a time (a chunk is one row over the others)
ROW_DIMS = ("target", "energy_GeV")


def root_attributes(config: ScanConfig, config_text: str) -> dict:
    """Root group attributes of a new store for ``config``."""
    return {
        "format": FORMAT,
        "lfvscan_version": __version__,
        "config": config.to_dict(),
        "config_toml": config_text,
        "config_hash": config.config_hash(),
        "status_codes": {str(k): v for k, v in STATUS_NAMES.items()},
        "created_unix": time.time(),
    }


def dim_sizes(config: ScanConfig) -> dict[str, int]:
    """Length of every dimension of ``config``'s store."""
    nT, nE, nM = config.shape
    nb = config.n_xbins
    return {"target": nT, "energy_GeV": nE, "mass_GeV": nM, "x_tau_bin": nb, "x_tau_edge": nb + 1}


def coordinate_values(config: ScanConfig) -> dict[str, np.ndarray]:
    """Values of the coordinate arrays (:data:`lfvscan.schema.COORDINATES`) of ``config``'s store."""
    energies = np.array(config.energies_GeV)
    nb = config.n_xbins
    return {
        "target": np.array(config.target_names, dtype=object),
        "energy_GeV": energies,
        "mass_GeV": np.array(config.masses_GeV),
        "x_tau_edges": np.array([x_tau_edges(e, nb, get_preset(config.physics).m_tau_GeV) for e in energies])
        .reshape(len(energies), nb + 1),
    }


def _create_array(group, f: Field, sizes: dict[str, int], per_cell: bool):
    """The zarr array of schema field ``f``: row chunks for per-cell arrays, one chunk for
    coordinates; uncompressed unless a coordinate or a string array."""
    from zarr.codecs import Crc32cCodec, ZstdCodec

    shape = tuple(sizes[d] for d in f.dims)
    chunks = tuple(1 if per_cell and d in ROW_DIMS else n for d, n in zip(f.dims, shape))
    compressed = not per_cell or f.dtype == "str"
    return group.create_array(
        f.name,
        shape=shape,
        chunks=chunks,
        dtype=str if f.dtype == "str" else f.dtype,
        fill_value=f.fill,
        dimension_names=f.dims,
        attributes={"units": f.unit, "description": f.description},
        compressors=(ZstdCodec(), Crc32cCodec()) if compressed else (Crc32cCodec(),),
    )


def create(path: str | Path, config: ScanConfig, config_text: str = "") -> None:
    """Write a new, empty store for ``config`` at ``path`` (which must not exist): every schema
    array, the coordinates, consolidated metadata, SKIPPED for cells the config does not request."""
    import zarr

    root = zarr.storage.LocalStore(str(path))
    group = zarr.create_group(root, zarr_format=3, attributes=root_attributes(config, config_text))
    sizes = dim_sizes(config)
    values = coordinate_values(config)
    for f in COORDINATES:
        _create_array(group, f, sizes, per_cell=False)[:] = values[f.name]
    for f in CELL_FIELDS:
        _create_array(group, f, sizes, per_cell=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "consolidated metadata not part of the v3 spec"
        zarr.consolidate_metadata(root)
    dirs: set[str] = set()
    skipped = np.full(sizes["mass_GeV"], SKIPPED, dtype="i1")
    for i, j in zip(*np.nonzero(~config.requested())):
        write_chunk(path, "status", (int(i), int(j), 0), skipped, dirs)


def open_group(path: str | Path, writable: bool):
    """The zarr group of the store at ``path`` (raises :class:`UsageError` if it is not one)."""
    import zarr

    path = Path(path)
    if not (path / "zarr.json").exists():
        raise UsageError(f"no scan store at {str(path)!r} (missing zarr.json)")
    try:
        g = zarr.open_group(zarr.storage.LocalStore(str(path), read_only=not writable), mode="r+" if writable else "r")
        if g.attrs.get("format") not in READABLE_FORMATS:
            raise UsageError(f"{str(path)!r} is a zarr store but not an lfvscan scan store")
    except UsageError:
        raise
    except Exception as exc:  # corrupt metadata
        raise UsageError(f"cannot open scan store {str(path)!r}: {exc}") from None
    return g


def check_not_other(path: Path) -> None:
    """Raise :class:`UsageError` if ``path`` exists but is neither a store nor an empty directory."""
    if path.exists() and not (path / "zarr.json").exists():
        if path.is_dir() and any(path.iterdir()):
            raise UsageError(f"{str(path)!r} exists and is not a scan store (no zarr.json); choose another --store")
        if not path.is_dir():
            raise UsageError(f"{str(path)!r} exists and is not a directory; choose another --store")
