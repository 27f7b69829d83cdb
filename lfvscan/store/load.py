"""Reading a store into memory: :func:`load_scan` -> :class:`lfvscan.store.scandata.ScanData`."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from lfvscan.schema import FIELDS
from lfvscan.store.backend import ScanBackend
from lfvscan.store.scandata import ScanData


def open_backend(store: str | Path | ScanBackend) -> ScanBackend:
    """``store`` itself if it is a backend, else the store on disk at that path, opened read-only."""
    if isinstance(store, ScanBackend):
        return store
    from lfvscan.store.zarr_store import ScanStore  # zarr only for a path

    return ScanStore.open(store)


class DamagedStoreWarning(UserWarning):
    """A store has rows whose chunks are damaged or not in their place: they read as not computed."""


def warn_damaged(st: ScanBackend) -> None:
    """Warn (:class:`DamagedStoreWarning`, one line) if ``st`` has damaged rows (:meth:`ScanBackend.verify`)."""
    damaged = st.verify()
    if damaged:
        tn, en = st.config.target_names, st.config.energies_GeV
        rows = ", ".join(f"{tn[i]} E={en[j]:g} GeV ({', '.join(names)})" for (i, j), names in sorted(damaged.items())[:3])
        more = f" and {len(damaged) - 3} more" if len(damaged) > 3 else ""
        warnings.warn(DamagedStoreWarning(
            f"store {str(getattr(st, 'path', st))!r}: {len(damaged)} damaged row(s) ({rows}{more}: chunks damaged or not "
            f"in their place) read as not computed; `lfvscan verify` lists them, the next `lfvscan scan` recomputes them"),
            stacklevel=3)


def load_scan(store: str | Path | ScanBackend) -> ScanData:
    """Read a (possibly partial, possibly still running) store (a path or a
    :class:`~lfvscan.store.backend.ScanBackend`) into a :class:`ScanData` holding every schema
    array the store has (all of them for stores of this version).

    Cells recorded but not folded yet are included (so post-processing agrees with ``lfvscan
    status``); rows with a damaged chunk (:meth:`ScanBackend.verify`) read as not computed
    (PENDING, fill values) until a resume recomputes them, with a :class:`DamagedStoreWarning`.
    """
    st = open_backend(store)
    warn_damaged(st)
    cells = st.read_cells()
    status = cells.pop("status").astype(np.int8)
    arrays = {name: values if FIELDS[name].dtype == "str" else values.astype(FIELDS[name].dtype, copy=False)
              for name, values in cells.items()}
    coords = st.read_coordinates()
    return ScanData(
        targets=tuple(str(t) for t in coords["target"]),
        energies_GeV=coords["energy_GeV"],
        masses_GeV=coords["mass_GeV"],
        x_f_edges=coords["x_f_edges"],
        x_f_edges_nucleus_frame=coords.get("x_f_edges_nucleus_frame"),
        status=status,
        theta=st.config.theta,
        convention=st.config.convention,
        attrs=st.read_attrs(),
        **arrays,
    )
