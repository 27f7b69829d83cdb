"""Per-cell result of the production cross section (the unit of work of a scan).

A *cell* is one (target, beam energy E [GeV], boson mass m_a [GeV]) of the scan's process.  The cross-section driver
(:mod:`lfvscan.xsec`) returns a :class:`CellResult`; the scan store (:mod:`lfvscan.store`) writes
its :data:`lfvscan.schema.RESULT_FIELDS`.  Cross sections are for g = 1 (sigma = g^2 sigma_hat,
docs/physics.md §7.6) in pb.
"""

from __future__ import annotations

import math
from dataclasses import field, fields, make_dataclass

import numpy as np

from lfvscan.schema import REQUIRED, RESULT_FIELDS, Field, family_name

#: CellResult attributes that are numpy float64 arrays (the journal stores them as raw bytes)
ARRAY_FIELDS: tuple[str, ...] = ("x_f_edges", *(f.name for f in RESULT_FIELDS if f.per_bin))


def x_f_edges(energy_GeV: float, n_bins: int, m_final: float) -> np.ndarray:
    """Fixed log grid of x = E_final / E, the final lepton's energy fraction (named x_f in the
    schema and the store, docs/architecture.md), from m_final / E to 1 (n_bins + 1 edges),
    ``m_final`` [GeV] the final lepton's mass (``preset.lepton_pair(process).final.mass``).

    The grid depends only on (E, n_bins, m_final), so all masses and targets at one energy share it.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins!r}")
    return np.geomspace(m_final / energy_GeV, 1.0, n_bins + 1)


def _python_type(f: Field) -> type:
    if f.per_bin:
        return np.ndarray
    return {"bool": bool, "str": str}.get(f.dtype, int if f.dtype.startswith("i") else float)


def _cell_result_fields() -> list[tuple]:
    """CellResult's fields, in positional order: the cell, the required per-cell results, the
    x_f grid, the required per-bin results, theta and convention, the results with a default,
    ``meta``."""
    required = [f for f in RESULT_FIELDS if f.default is REQUIRED]
    optional = [(f.name, _python_type(f), field(default=f.default)) for f in RESULT_FIELDS if f.default is not REQUIRED]
    return [
        ("target", str), ("energy_GeV", float), ("mass_GeV", float),
        *[(f.name, _python_type(f)) for f in required if not f.per_bin],
        ("x_f_edges", np.ndarray),
        *[(f.name, _python_type(f)) for f in required if f.per_bin],
        ("theta", float, field(default=math.nan)),
        ("convention", str, field(default="eq3")),
        *optional,
        ("lab", object, field(default=None)),
        ("meta", dict, field(default_factory=dict)),
    ]


def _to_dict(self, skip: tuple[str, ...] = ()) -> dict:
    """JSON-ready dict (arrays as lists; ``meta`` copied one level deep).  Fields named in ``skip``
    keep their place with the value None (the journal encodes those arrays itself)."""
    d = {}
    for f in fields(self):
        if f.name in skip:
            d[f.name] = None
            continue
        v = getattr(self, f.name)
        if isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, np.generic):
            v = v.item()
        elif isinstance(v, dict):
            v = dict(v)
        elif hasattr(v, "to_dict"):
            v = v.to_dict()
        d[f.name] = v
    return d


def _named_parts(self, boson: str) -> dict:
    """The two parts of every cross section, their errors and covariances under the names of the boson
    family ``boson`` (:func:`lfvscan.schema.family_name`): ``sigma_scalar_pb``, ... for the scalar
    family, ``sigma_vector_pb``, ``sigma_axial_pb``, ``sigma_va_cov_pb2``, ... for the vector family
    (docs/physics.md §7.14); arrays as lists."""
    out = {}
    for f in RESULT_FIELDS:
        if family_name(f.name, "vector") == f.name:
            continue  # not a part slot
        v = getattr(self, f.name)
        out[family_name(f.name, boson)] = v.tolist() if isinstance(v, np.ndarray) else v
    return out


def _post_init(self) -> None:
    """Optional per-bin results not given (``None``) become NaN histograms of the cell's bins."""
    nb = max(len(self.x_f_edges) - 1, 0)
    for f in RESULT_FIELDS:
        if f.per_bin and getattr(self, f.name) is None:
            setattr(self, f.name, np.full(nb, math.nan))


_DOC = """Result of one cell.  ``closed`` cells have every cross section exactly zero.

Attributes: the cell (``target``, ``energy_GeV`` [GeV], ``mass_GeV`` [GeV]), its ``x_f_edges``,
``theta`` and ``convention`` of the couplings, free-form ``meta`` (not stored), ``lab`` (a collider
cell's :class:`lfvscan.xsec.labframe.LabDistributions`, docs/physics.md §7.16; None for a fixed
target), and one attribute
per :data:`lfvscan.schema.RESULT_FIELDS` entry (the part slots hold the vector and axial parts for a
process of the vector family, docs/physics.md §7.14; ``named_parts(boson)`` gives them under the
family's names):

""" + "\n".join(f"* ``{f.name}`` [{f.unit or '-'}]: {f.description}" for f in RESULT_FIELDS)

#: built from the schema (:func:`_cell_result_fields`); a dataclass like any other
CellResult = make_dataclass(
    "CellResult", _cell_result_fields(), namespace={"__module__": __name__, "__doc__": _DOC, "to_dict": _to_dict,
                                           "named_parts": _named_parts, "__post_init__": _post_init}
)
