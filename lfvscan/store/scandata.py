"""In-memory view of a scan store, the contract between the store and post-processing.

:func:`lfvscan.store.load_scan` returns a :class:`ScanData`; yields, limits and figures consume
only this object, so they can be tested on toy data built in memory.

A small labelled dataset in the spirit of ``xarray.Dataset``, described by :mod:`lfvscan.schema`:
coordinates ``targets``, ``energies_GeV``, ``masses_GeV``, ``x_f_edges``; arrays over
(target, energy, mass[, x_f bin]), one per schema field (result quantities and bookkeeping).
``status`` holds one of :data:`PENDING`, :data:`DONE`, :data:`FAILED`, :data:`SKIPPED` (cell not
requested by the config, e.g. W at an energy only Pb is scanned at).
"""

from __future__ import annotations

import math

import numpy as np

from lfvscan.schema import CELL_FIELDS, DONE, FAILED, FIELDS, LAB_FIELDS, PENDING, SKIPPED, STATUS_NAMES
from lfvscan.xsec.labframe import LAB_ETA_EDGES, LAB_X_EDGES, N_LAB_ACC, LabDistributions, lab_from_field_values

__all__ = ["ScanData"]

_ARRAY_NAMES = frozenset(f.name for f in CELL_FIELDS + LAB_FIELDS)


class ScanData:
    """Coordinates and arrays of a (possibly partial) scan.  Cross sections for g = 1, in pb.

    ``ScanData(targets, energies_GeV, masses_GeV, x_f_edges, status, sigma_pb=..., Q=..., ...,
    theta=..., convention=..., attrs=...)``: any :data:`lfvscan.schema.CELL_FIELDS` array may be
    given by keyword (:func:`lfvscan.store.load_scan` gives all of them).  Every array is an
    attribute (``scan.sigma_pb``), an item (``scan["Q"]``) and an entry of :attr:`arrays`;
    :meth:`dims` and :meth:`unit` describe it.

    * ``targets``: target names; ``energies_GeV`` (nE,) [GeV]; ``masses_GeV`` (nM,) [GeV];
      ``x_f_edges`` (nE, nb + 1): the x_f bin edges of each energy;
    * ``status`` (nT, nE, nM) int8 and the other arrays: (nT, nE, nM), or (nT, nE, nM, nb) for
      per-bin quantities;
    * ``theta``, ``convention``: the couplings the cross sections were computed with;
    * ``attrs``: store attributes (config, config hash, lfvscan version, ``units`` per array);
    * ``x_f_edges_nucleus_frame`` (nT, nE, nb + 1), scans with a collider target only: each
      (target, energy)'s own x grid (:meth:`cell_x_edges`); the lab histograms (:data:`LAB_FIELDS`,
      (nT, nE, nM, n_lab)) are on :data:`~lfvscan.xsec.labframe.LAB_ETA_EDGES` x
      :data:`~lfvscan.xsec.labframe.LAB_X_EDGES` (:meth:`lab_distributions`).
    """

    def __init__(self, targets, energies_GeV, masses_GeV, x_f_edges, status, *, theta: float = math.nan,
                 convention: str = "eq3", attrs: dict | None = None, x_f_edges_nucleus_frame=None, **arrays):
        unknown = sorted(set(arrays) - _ARRAY_NAMES)
        if unknown:
            raise TypeError(f"ScanData got unknown array(s) {', '.join(unknown)} "
                            f"(schema arrays: {', '.join(f.name for f in CELL_FIELDS)})")
        self.targets = tuple(targets)
        self.energies_GeV = np.asarray(energies_GeV)
        self.masses_GeV = np.asarray(masses_GeV)
        self.x_f_edges = np.asarray(x_f_edges)
        self.x_f_edges_nucleus_frame = None if x_f_edges_nucleus_frame is None else np.asarray(x_f_edges_nucleus_frame)
        self.theta = theta
        self.convention = convention
        self.attrs = {} if attrs is None else attrs
        self.arrays: dict[str, np.ndarray] = {}
        for name, values in {"status": status, **arrays}.items():
            setattr(self, name, values)

    # ------------------------------------------------------------------ labelled access
    @property
    def sizes(self) -> dict[str, int]:
        """Length of every dimension."""
        nb = self.x_f_edges.shape[-1] - 1
        return {"target": len(self.targets), "energy_GeV": len(self.energies_GeV), "mass_GeV": len(self.masses_GeV),
                "x_f_bin": nb, "x_f_edge": nb + 1, "lab_bin": (len(LAB_ETA_EDGES) - 1) * (len(LAB_X_EDGES) - 1),
                "lab_acceptance": N_LAB_ACC}

    def cell_x_edges(self, target: int, energy: int) -> np.ndarray:
        """The x grid of the ``dsigma_dlnx_f_pb`` histograms of (target, energy) (indices): x =
        E_final / E in the nucleus rest frame, which for a collider target is not the lab frame of
        ``x_f_edges`` (docs/physics.md §7.15)."""
        if self.x_f_edges_nucleus_frame is not None:
            return self.x_f_edges_nucleus_frame[target, energy]
        return self.x_f_edges[energy]

    def lab_distributions(self, target: int, energy: int, mass: int) -> LabDistributions | None:
        """The lab-frame histograms of a cell (indices; docs/physics.md §7.16), None if the scan has
        none for it (a fixed target, or a cell not computed)."""
        if LAB_FIELDS[0].name not in self.arrays:
            return None
        return lab_from_field_values({f.name: self.arrays[f.name][target, energy, mass] for f in LAB_FIELDS},
                                     float(self.energies_GeV[energy]))

    @property
    def coords(self) -> dict[str, np.ndarray]:
        """Coordinate arrays by their store names."""
        return {"target": np.array(self.targets), "energy_GeV": self.energies_GeV, "mass_GeV": self.masses_GeV,
                "x_f_edges": self.x_f_edges}

    def dims(self, name: str) -> tuple[str, ...]:
        """Dimension names of array or coordinate ``name``."""
        return FIELDS[name].dims

    def unit(self, name: str) -> str:
        """Unit of array or coordinate ``name`` ("1": dimensionless, "": text)."""
        return FIELDS[name].unit

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def __contains__(self, name: str) -> bool:
        return name in self.arrays

    def __getattr__(self, name: str):
        arrays = self.__dict__.get("arrays", {})
        if name in arrays:
            return arrays[name]
        if name in _ARRAY_NAMES:
            raise AttributeError(f"this ScanData has no {name!r} array (not given when it was built)")
        raise AttributeError(f"'ScanData' object has no attribute {name!r}")

    def __setattr__(self, name: str, value) -> None:
        if name not in _ARRAY_NAMES:
            object.__setattr__(self, name, value)
            return
        value = np.asarray(value)
        shape = tuple(self.sizes[d] for d in FIELDS[name].dims)
        if value.shape != shape:
            raise ValueError(f"{name} has shape {value.shape}, expected {shape} {FIELDS[name].dims}")
        self.arrays[name] = value

    def __repr__(self) -> str:
        sizes = ", ".join(f"{d}: {n}" for d, n in self.sizes.items())
        return f"<ScanData ({sizes}) targets {self.targets}; arrays: {', '.join(self.arrays)}>"

    # ------------------------------------------------------------------ lookup
    def target_index(self, name: str) -> int:
        """Index of target ``name`` (case-insensitive)."""
        for i, t in enumerate(self.targets):
            if t.lower() == name.lower():
                return i
        raise ValueError(f"target {name!r} not in scan (has: {', '.join(self.targets)})")

    def energy_index(self, energy_GeV: float, rtol: float = 1e-9) -> int:
        """Index of the scanned energy equal to ``energy_GeV`` [GeV] within ``rtol``."""
        idx = np.nonzero(np.isclose(self.energies_GeV, energy_GeV, rtol=rtol, atol=0))[0]
        if idx.size == 0:
            raise ValueError(
                f"energy {energy_GeV} GeV not in scan (has: {', '.join(f'{e:g}' for e in self.energies_GeV)})"
            )
        return int(idx[0])
