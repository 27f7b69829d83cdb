"""Reading a store into memory: :func:`load_scan` -> :class:`lfvscan.store.scandata.ScanData`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lfvscan.store.scandata import ScanData
from lfvscan.store.zarr_store import ScanStore


def load_scan(path: str | Path) -> ScanData:
    """Read a (possibly partial, possibly still running) store into a :class:`ScanData`.

    ``status`` is read first, so a cell marked DONE always has its data complete.
    """
    st = ScanStore.open(path)
    status = st.read("status")
    cfg = st.config
    attrs = dict(st.attrs)
    attrs["units"] = {name: st.group[name].attrs.get("units", "") for name in st.group.array_keys()}
    return ScanData(
        targets=tuple(str(t) for t in st.read("target")),
        energies_GeV=st.read("energy_GeV"),
        masses_GeV=st.read("mass_GeV"),
        x_tau_edges=st.read("x_tau_edges"),
        status=status.astype(np.int8),
        sigma_pb=st.read("sigma_pb"),
        sigma_err_pb=st.read("sigma_err_pb"),
        sigma_coherent_pb=st.read("sigma_coherent_pb"),
        sigma_incoherent_pb=st.read("sigma_incoherent_pb"),
        dsigma_dlnx_tau_pb=st.read("dsigma_dlnx_tau_pb"),
        dsigma_dlnx_tau_err_pb=st.read("dsigma_dlnx_tau_err_pb"),
        closed=st.read("closed").astype(bool),
        theta=cfg.theta,
        convention=cfg.convention,
        attrs=attrs,
    )
