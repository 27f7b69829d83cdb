"""The names stores of formats ``lfvscan-scan/1`` to ``/3`` give the final lepton's energy fraction,
mapped to the current ones in this one place (docs/architecture.md, "Store format").

Those stores name x_f = E_f / E (docs/physics.md §7.13) after the tau: their arrays, dimensions,
row-record ``arrays`` attribute, journal frames and JSON-line journal logs use the names on the
right of :data:`LEGACY_NAMES`.  Every reader and writer of the store layer goes through this
module: :class:`StoreGroup` gives a store's zarr group under the current names (arrays are read
and written under their names on disk), :func:`current_name` renames what a journal or a
row-record attribute names.  A store of such a format that a scan resumes keeps its format and
its names on disk, so both versions read it.
"""

from __future__ import annotations

# rename-script: off
#: current name -> name in stores of :data:`LEGACY_FORMATS` (arrays and dimension names)
LEGACY_NAMES: dict[str, str] = {
    "x_f_edges": "x_tau_edges",
    "x_f_edges_nucleus_frame": "x_tau_edges_nucleus_frame",
    "dsigma_dlnx_f_pb": "dsigma_dlnx_tau_pb",
    "dsigma_dlnx_f_err_pb": "dsigma_dlnx_tau_err_pb",
    "dsigma_dlnx_f_scalar_pb": "dsigma_dlnx_tau_scalar_pb",
    "dsigma_dlnx_f_scalar_err_pb": "dsigma_dlnx_tau_scalar_err_pb",
    "dsigma_dlnx_f_pseudoscalar_pb": "dsigma_dlnx_tau_pseudoscalar_pb",
    "dsigma_dlnx_f_pseudoscalar_err_pb": "dsigma_dlnx_tau_pseudoscalar_err_pb",
    "dsigma_dlnx_f_sp_cov_pb2": "dsigma_dlnx_tau_sp_cov_pb2",
    "x_f_bin": "x_tau_bin",
    "x_f_edge": "x_tau_edge",
}
# rename-script: on
#: store formats whose names are the legacy ones
LEGACY_FORMATS = ("lfvscan-scan/1", "lfvscan-scan/2", "lfvscan-scan/3")
_CURRENT = {old: new for new, old in LEGACY_NAMES.items()}


def current_name(name: str) -> str:
    """The current name of a name found in a store, a journal frame or a journal log (names that
    were never renamed are returned unchanged)."""
    return _CURRENT.get(name, name)


def store_group(group) -> "StoreGroup":
    """``group`` (a zarr group of a store, or already a :class:`StoreGroup`) as a :class:`StoreGroup`."""
    return group if isinstance(group, StoreGroup) else StoreGroup(group)


class StoreGroup:
    """The zarr group of a store under the current names: ``group[name]``, ``name in group``,
    :meth:`array_keys` and :meth:`disk_name` translate for stores of :data:`LEGACY_FORMATS`;
    ``zarr`` is the group itself."""

    def __init__(self, group):
        self.zarr = group
        self.legacy = group.attrs.get("format") in LEGACY_FORMATS

    @property
    def attrs(self):
        return self.zarr.attrs

    def disk_name(self, name: str) -> str:
        """The name of array ``name`` on disk (its directory under the store)."""
        return LEGACY_NAMES.get(name, name) if self.legacy else name

    def __getitem__(self, name: str):
        return self.zarr[self.disk_name(name)]

    def __contains__(self, name: str) -> bool:
        return self.disk_name(name) in self.zarr

    def array_keys(self):
        """The arrays of the store, under their current names."""
        return [current_name(k) if self.legacy else k for k in self.zarr.array_keys()]
