"""Reading a store into memory: :func:`load_scan` -> :class:`lfvscan.store.scandata.ScanData`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lfvscan.schema import CELL_FIELDS
from lfvscan.store.scandata import ScanData
from lfvscan.store.zarr_store import ScanStore


def load_scan(path: str | Path) -> ScanData:
    """Read a (possibly partial, possibly still running) store into a :class:`ScanData` holding
    every schema array the store has (all of them for stores of this version).

    Cells journaled but not folded yet are included (so post-processing agrees with ``lfvscan
    status``); rows with a damaged chunk (:meth:`ScanStore.verify`) read as not computed
    (PENDING, fill values) until a resume recomputes them.
    """
    st = ScanStore.open(path)
    cells = st.read_cells()
    status = cells.pop("status").astype(np.int8)
    arrays = {}
    for f in CELL_FIELDS:
        if f.name != "status" and f.name in st.group:
            values = cells[f.name]
            arrays[f.name] = values if f.dtype == "str" else values.astype(f.dtype, copy=False)
    attrs = dict(st.attrs)
    attrs["units"] = {name: st.group[name].attrs.get("units", "") for name in st.group.array_keys()}
    return ScanData(
        targets=tuple(str(t) for t in st.read("target")),
        energies_GeV=st.read("energy_GeV"),
        masses_GeV=st.read("mass_GeV"),
        x_tau_edges=st.read("x_tau_edges"),
        status=status,
        theta=st.config.theta,
        convention=st.config.convention,
        attrs=attrs,
        **arrays,
    )
