"""On-disk layout of a scan store: a zarr v3 directory (LocalStore) holding one scan, created from
the result schema (:mod:`lfvscan.schema`; docs/architecture.md).

Layout (dimension names in each array's zarr v3 ``dimension_names``; opens with
``xarray.open_zarr(path)`` thanks to consolidated metadata written once at creation):

* coordinates (:data:`lfvscan.schema.COORDINATES`) ``target`` (str), ``energy_GeV``, ``mass_GeV``
  and ``x_f_edges`` (energy_GeV, x_f_edge), the fixed x_f grid of
  :func:`lfvscan.xsec.result.x_f_edges`: written at creation, one compressed chunk each;
* every :data:`lfvscan.schema.RESULT_FIELDS` quantity over (target, energy_GeV, mass_GeV) or
  (target, energy_GeV, mass_GeV, x_f_bin);
* bookkeeping (:data:`lfvscan.schema.BOOK_FIELDS`) over (target, energy_GeV, mass_GeV):
  ``wall_seconds``, ``rank``, ``attempts``, ``error`` (str, last failure message) and ``status``
  (int8 codes of :mod:`lfvscan.schema`; cells the config does not request are SKIPPED from the
  start);
* ``row_checksums`` (target, energy_GeV, row_checksum_entry): each row's record of where its
  chunks belong (:mod:`lfvscan.store.row_checksums`; format ``lfvscan-scan/3``);
* root attributes: ``format``, ``config`` (resolved config, JSON), ``config_toml`` (the TOML
  text), ``config_hash``, ``lfvscan_version``, ``status_codes``, ``created_unix``; every array
  has the ``units`` and ``description`` attributes of its schema field; in a store of the vector
  boson family (``config.process.boson``) the part slots' descriptions say which part they hold
  (:func:`lfvscan.schema.family_description`) and their ``quantity`` attribute names it
  (:func:`lfvscan.schema.family_name`, e.g. ``sigma_vector_pb`` in the ``sigma_scalar_pb`` slot).

Every per-cell array has one chunk per (target, energy) row holding all masses (and x_f bins),
so a fold writes one file per array and touched row; numeric ones are uncompressed (zarr's
``bytes`` codec, then its ``crc32c`` checksum codec), which :mod:`lfvscan.store.chunks` reads and
writes directly.  Every array's codec chain ends with ``crc32c`` (format ``lfvscan-scan/2``), so
a damaged chunk is detected by lfvscan (:mod:`lfvscan.store.row_arrays`), zarr and xarray alike; stores of
format ``lfvscan-scan/1`` (no checksums) are read too.  Array metadata never changes after
creation, so the consolidated metadata stays valid.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

from lfvscan import __version__
from lfvscan.errors import UsageError
from lfvscan.spec.config import ScanConfig
from lfvscan.schema import (
    COORDINATES,
    LAB_COORDINATES,
    SKIPPED,
    STATUS_NAMES,
    Field,
    family_description,
    family_name,
    stored_cell_fields,
)
from lfvscan.store import row_checksums
from lfvscan.store.chunks import write_chunk
from lfvscan.xsec.labframe import ACC_ETA_CUTS, LAB_ETA_EDGES, LAB_X_EDGES, N_LAB_ACC, N_LAB_BINS
from lfvscan.xsec.result import x_f_edges

FORMAT = "lfvscan-scan/3"
#: formats this version reads and resumes (1: before per-chunk checksums; 2: before the row
#: records of :mod:`lfvscan.store.row_checksums`)
READABLE_FORMATS = ("lfvscan-scan/1", "lfvscan-scan/2", FORMAT)
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
    n_targets, n_energies, n_masses = config.shape
    n_bins = config.n_xbins
    return {"target": n_targets, "energy_GeV": n_energies, "mass_GeV": n_masses, "x_f_bin": n_bins,
            "x_f_edge": n_bins + 1, "lab_bin": N_LAB_BINS, "lab_eta_edge": len(LAB_ETA_EDGES),
            "lab_x_edge": len(LAB_X_EDGES), "lab_acceptance": N_LAB_ACC}


def coordinate_values(config: ScanConfig) -> dict[str, np.ndarray]:
    """Values of the coordinate arrays (:data:`lfvscan.schema.COORDINATES`) of ``config``'s store."""
    energies = np.array(config.energies_GeV)
    nb = config.n_xbins
    m_final = config.lepton_pair().final.mass  # x = E_final / E from m_final / E (stored as x_f)
    return {
        "target": np.array(config.target_names, dtype=object),
        "energy_GeV": energies,
        "mass_GeV": np.array(config.masses_GeV),
        "x_f_edges": np.array([x_f_edges(e, nb, m_final) for e in energies])
        .reshape(len(energies), nb + 1),
    }


def lab_coordinate_values(config: ScanConfig) -> dict[str, np.ndarray]:
    """Values of the coordinates a store of a scan with a collider target adds
    (:data:`lfvscan.schema.LAB_COORDINATES`)."""
    nb = config.n_xbins
    m_final = config.lepton_pair().final.mass
    x_nf = np.array([[x_f_edges(config.x_edge_energy(t, e), nb, m_final) for e in config.energies_GeV]
                     for t in config.target_names]).reshape(len(config.target_names), len(config.energies_GeV), nb + 1)
    nx = len(LAB_X_EDGES) - 1
    return {"lab_eta_edges": LAB_ETA_EDGES, "lab_x_edges": LAB_X_EDGES, "x_f_edges_nucleus_frame": x_nf,
            "lab_acceptance_eta_max": np.repeat(ACC_ETA_CUTS, nx), "lab_acceptance_x_min": np.tile(LAB_X_EDGES[:-1],
                                                                                                 len(ACC_ETA_CUTS))}


def _array_attributes(f: Field, boson: str) -> dict:
    """``units`` and ``description`` of field ``f`` in a store of the boson family ``boson``, and for a
    part slot holding another family's part its ``quantity`` (module docstring)."""
    attrs = {"units": f.unit, "description": family_description(f, boson)}
    if family_name(f.name, boson) != f.name:
        attrs["quantity"] = family_name(f.name, boson)
    return attrs


def _create_array(group, f: Field, sizes: dict[str, int], row_chunked: bool, boson: str):
    """The zarr array of schema field ``f`` in a store of the boson family ``boson``: row chunks for
    per-cell arrays, one chunk for coordinates; uncompressed unless a coordinate or a string array."""
    from zarr.codecs import Crc32cCodec, ZstdCodec

    shape = tuple(sizes[d] for d in f.dims)
    chunks = tuple(1 if row_chunked and d in ROW_DIMS else n for d, n in zip(f.dims, shape))
    compressed = not row_chunked or f.dtype == "str"
    return group.create_array(
        f.name,
        shape=shape,
        chunks=chunks,
        dtype=str if f.dtype == "str" else f.dtype,
        fill_value=f.fill,
        dimension_names=f.dims,
        attributes=_array_attributes(f, boson),
        compressors=(ZstdCodec(), Crc32cCodec()) if compressed else (Crc32cCodec(),),
    )


def _create_row_checksums(group, sizes: dict[str, int], arrays: tuple[str, ...]):
    """The array of row records (:mod:`lfvscan.store.row_checksums`): uint32, one raw chunk per
    row ending with its CRC-32C; attributes ``store_id`` (this store's random identity) and
    ``arrays`` (the per-cell arrays a record covers, in order)."""
    from zarr.codecs import Crc32cCodec

    n = row_checksums.record_length(len(arrays))
    return group.create_array(
        row_checksums.NAME,
        shape=(sizes["target"], sizes["energy_GeV"], n),
        chunks=(1, 1, n),
        dtype="uint32",
        fill_value=0,
        dimension_names=row_checksums.DIMS,
        attributes={"units": "1", "store_id": row_checksums.new_store_id(), "arrays": list(arrays),
                    "description": "per row: store_id, target index, energy index, number of arrays, then the "
                                   "accepted CRC-32C values of each per-cell array's chunk of the row"},
        compressors=(Crc32cCodec(),),
    )


def create(path: str | Path, config: ScanConfig, config_text: str = "") -> None:
    """Write a new, empty store for ``config`` at ``path`` (which must not exist): every schema
    array, the coordinates, consolidated metadata, SKIPPED for cells the config does not request."""
    import zarr

    root = zarr.storage.LocalStore(str(path))
    group = zarr.create_group(root, zarr_format=3, attributes=root_attributes(config, config_text))
    sizes = dim_sizes(config)
    values = coordinate_values(config)
    boson = config.process.boson
    lab = config.has_collider_target
    for f in COORDINATES:
        a = _create_array(group, f, sizes, row_chunked=False, boson=boson)
        a[:] = values[f.name]
        if lab and f.name == "x_f_edges":  # label it: a collider target's x grid is another one
            a.attrs["description"] = (f"{f.description}, at the lepton's beam energy: the x grid of the fixed targets; "
                                      "a collider target's x histogram is over x in the nucleus rest frame, on the "
                                      "grid of x_f_edges_nucleus_frame (docs/physics.md §7.15)")
    if lab:  # the lab histograms and their grids (docs/physics.md §7.16): only with a collider target
        lab_values = lab_coordinate_values(config)
        for f in LAB_COORDINATES:
            _create_array(group, f, sizes, row_chunked=False, boson=boson)[:] = lab_values[f.name]
    cell_fields = stored_cell_fields(lab)
    for f in cell_fields:
        _create_array(group, f, sizes, row_chunked=True, boson=boson)
    _create_row_checksums(group, sizes, tuple(f.name for f in cell_fields))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "consolidated metadata not part of the v3 spec"
        zarr.consolidate_metadata(root)
    dirs: set[str] = set()
    skipped = np.full(sizes["mass_GeV"], SKIPPED, dtype="i1")
    for i, j in zip(*np.nonzero(~config.requested())):
        write_chunk(path, "status", (int(i), int(j), 0), skipped, dirs)


def describe_read_error(exc: BaseException) -> str:
    """One short line for a failed read of a store file: zarr's checksum errors quote the raw
    checksum bytes, which say nothing to a user."""
    text = " ".join(str(exc).split())
    if "checksum" in text.lower():
        return "checksum mismatch: the file is damaged"
    return text[:300] or type(exc).__name__


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
        if not isinstance(g.attrs.get("config"), dict):
            raise UsageError(f"store {str(path)!r} is damaged: its zarr.json has no valid 'config' attribute "
                             "(the scan's configuration); restore zarr.json from a backup, or start a new store")
    except UsageError:
        raise
    except Exception as exc:  # corrupt metadata
        raise UsageError(f"cannot open scan store {str(path)!r}: {describe_read_error(exc)}") from None
    return g


def check_not_other(path: Path) -> None:
    """Raise :class:`UsageError` if ``path`` exists but is neither a store nor an empty directory."""
    if path.exists() and not (path / "zarr.json").exists():
        if path.is_dir() and any(path.iterdir()):
            raise UsageError(f"{str(path)!r} exists and is not a scan store (no zarr.json); choose another --store")
        if not path.is_dir():
            raise UsageError(f"{str(path)!r} exists and is not a directory; choose another --store")


def store_grid(group, config: ScanConfig, path: Path) -> ScanConfig:
    """``config`` with its target axis in the order of the store's ``target`` coordinate array,
    after checking that the store's coordinate arrays hold exactly ``config``'s grid.

    Cells are always addressed by the store's own axes: a store whose targets are not in the
    canonical order (:func:`lfvscan.spec.config.canonical_target_order`) keeps its order, and its
    cells stay where its coordinates say.  Raises :class:`UsageError` if the coordinate arrays are
    unreadable or disagree with the store's config attributes (a damaged store).
    """
    try:
        targets = [str(t) for t in np.asarray(group["target"][...]).ravel()]
        energies = np.asarray(group["energy_GeV"][...], dtype=float)
        masses = np.asarray(group["mass_GeV"][...], dtype=float)
    except Exception as exc:  # noqa: BLE001 - a damaged coordinate chunk
        raise UsageError(f"store {str(path)!r}: cannot read its coordinate arrays ({describe_read_error(exc)}); "
                         "the store is damaged") from None
    ordered = config.with_target_order(targets) if sorted(targets) == sorted(config.target_names) else None
    if (ordered is None or energies.tolist() != list(config.energies_GeV)
            or masses.tolist() != list(config.masses_GeV)):
        raise UsageError(f"store {str(path)!r}: its coordinate arrays (target, energy_GeV, mass_GeV) disagree "
                         f"with its config attributes; the store is damaged")
    return ordered
