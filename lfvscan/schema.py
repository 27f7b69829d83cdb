"""The result schema: every quantity a scan stores, declared once (imports numpy and stdlib only).

Everything that handles scan results derives from the declarations below:
:class:`lfvscan.xsec.result.CellResult` (one attribute per result field), the zarr arrays of a
store with their ``units``/``description`` attributes (:mod:`lfvscan.store.layout`), the fold of
finished cells into those arrays (:mod:`lfvscan.store.fold`), the journal frames
(:mod:`lfvscan.store.frames`), :func:`lfvscan.store.load_scan` and
:class:`lfvscan.store.ScanData`.  Adding a quantity is one line in :data:`RESULT_FIELDS` (and the
code in :mod:`lfvscan.xsec.driver` that computes it).

Dimensions: a *cell* is one (target, energy_GeV, mass_GeV); per-bin quantities add ``x_f_bin``,
the bins of the fixed log x_f = E_f/E grid of the cell's energy (``x_f_edges``, dims
(energy_GeV, x_f_edge)).  Per-bin quantities are float64 histograms (the journal stores them as
raw float64 bytes).  Cross sections are for g = 1, in pb.

Groups:

* :data:`COORDINATES`: the grid, written once when a store is created;
* :data:`RESULT_FIELDS`: what the cross-section driver computes per cell (also the attributes of
  ``CellResult``, besides the cell's coordinates, ``x_f_edges``, ``theta``, ``convention`` and
  ``meta``);
* :data:`BOOK_FIELDS`: bookkeeping the scan engine records per cell, with ``status`` (codes
  :data:`PENDING`, :data:`DONE`, :data:`FAILED`, :data:`SKIPPED`) last: the commit marker;
* :data:`LAB_FIELDS` and :data:`LAB_COORDINATES`: the lab-frame histograms of collider cells over
  ``lab_bin`` and their grids (docs/physics.md §7.16), stored only by scans with a nucleus-beam target
  (:func:`stored_cell_fields`); a ``CellResult`` carries them as its ``lab`` attribute
  (:class:`lfvscan.xsec.labframe.LabDistributions`).

``fill`` is the value of a cell never written; ``default`` (result fields only) is the value of a
``CellResult`` built without the field, e.g. decoded from a journal line without the field.

Relations between result fields (docs/physics.md §7.12), declared on the fields: ``error_of`` names
the quantity a field is the MC error of (it may be a quantity that is not stored, like the upper
tails ``sigma_above_x_pb``); ``parts`` names the (scalar, pseudoscalar) fields a quantity is
``g_S^2 S + g_P^2 P`` of, or, on an error field, the errors of those parts, with ``cov`` their
covariance.  :func:`lfvscan.pheno.theta.scan_at_theta` recombines any theta from these alone.

The two part slots serve both boson families (docs/physics.md §7.14, docs/architecture.md): for a
scan of the vector family (its process, in the store's ``config``) the ``*_scalar_*`` slots hold the
vector part (g_V, g_A) = (1, 0), the ``*_pseudoscalar_*`` slots the axial part (0, 1) and the
``*_sp_cov_*`` slots their covariance.  :func:`family_name` and :func:`family_description` give the
names and descriptions of a slot for a family: a vector store's arrays carry them as attributes
(``description``, ``quantity``), and the HDF5 export, ``lfvscan xsec --json`` and
:meth:`lfvscan.xsec.result.CellResult.named_parts` use the family's names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CELL_DIMS = ("target", "energy_GeV", "mass_GeV")
BIN_DIMS = CELL_DIMS + ("x_f_bin",)
EDGE_DIMS = ("energy_GeV", "x_f_edge")
#: dims of the lab-frame histograms of collider cells (:data:`LAB_FIELDS`): ``lab_bin`` runs over the
#: (pseudorapidity, energy) bins of :mod:`lfvscan.xsec.labframe`, pseudorapidity-major
LAB_DIMS = CELL_DIMS + ("lab_bin",)
#: dims of the MC errors of the acceptance sets of the lab histograms: ``lab_acceptance`` runs over the sets
#: {|eta| < cut, E >= lower edge of an energy bin} of :mod:`lfvscan.xsec.labframe`, cut-major
LAB_ACC_DIMS = CELL_DIMS + ("lab_acceptance",)

PENDING, DONE, FAILED, SKIPPED = 0, 1, 2, 3
STATUS_NAMES = {PENDING: "pending", DONE: "done", FAILED: "failed", SKIPPED: "skipped"}


class _Required:
    """Marker: a result field every ``CellResult`` must be given."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()


@dataclass(frozen=True)
class Field:
    """One stored quantity.  ``dtype``: numpy dtype string, or ``"str"`` (variable-length text)."""

    name: str
    dtype: str
    unit: str
    dims: tuple[str, ...]
    description: str
    fill: object
    default: object = REQUIRED
    #: the quantity this field is the MC error of (None: not an error)
    error_of: str | None = None
    #: (scalar, pseudoscalar) parts: fields, or on an error field the parts' error fields
    parts: tuple[str, str] | None = None
    #: on an error field with ``parts``: the covariance field of the two parts [unit^2]
    cov: str | None = None

    @property
    def per_bin(self) -> bool:
        """True for quantities over the x_f bins of the cell."""
        return self.dims == BIN_DIMS

    @property
    def per_lab_bin(self) -> bool:
        """True for the lab-frame histograms of collider cells (:data:`LAB_FIELDS`)."""
        return self.dims == LAB_DIMS


def _fill(dtype: str):
    """Fill value of a result array: NaN for floats, False for booleans, 0 otherwise."""
    if dtype.startswith("f"):
        return math.nan
    return False if dtype == "bool" else 0


def per_cell(name: str, dtype: str, unit: str, description: str, default: object = REQUIRED, **relations) -> Field:
    """A result quantity with one value per cell (``relations``: ``error_of``, ``parts``, ``cov``)."""
    return Field(name, dtype, unit, CELL_DIMS, description, _fill(dtype), default, **relations)


def per_bin(name: str, unit: str, description: str, default: object = REQUIRED, **relations) -> Field:
    """A result histogram (float64) over the x_f bins of the cell.  ``default=None``: optional; a
    ``CellResult`` built without it holds NaN in every bin.  ``relations`` as for :func:`per_cell`."""
    return Field(name, "f8", unit, BIN_DIMS, description, math.nan, default, **relations)


COORDINATES: tuple[Field, ...] = (
    Field("target", "str", "", ("target",), "target element", ""),
    Field("energy_GeV", "f8", "GeV", ("energy_GeV",), "muon beam energy", math.nan),
    Field("mass_GeV", "f8", "GeV", ("mass_GeV",), "ALP mass", math.nan),
    Field("x_f_edges", "f8", "1", EDGE_DIMS, "edges of the log x_f = E_f/E bins (m_tau/E .. 1)", math.nan),
)

#: coordinates of a store of a scan with a nucleus-beam target (absent from fixed-target stores): the
#: lab histograms' grid (:mod:`lfvscan.xsec.labframe`) and each (target, energy)'s own x grid, in the
#: nucleus rest frame for a collider target (docs/physics.md §7.15)
LAB_COORDINATES: tuple[Field, ...] = (
    Field("lab_eta_edges", "f8", "1", ("lab_eta_edge",), "lab pseudorapidity edges of the lab histograms "
          "(positive along the lepton beam; the end bins are under/overflow)", math.nan),
    Field("lab_x_edges", "f8", "1", ("lab_x_edge",), "lab energy edges of the lab histograms, in units of the "
          "lepton beam's lab energy energy_GeV (the end bins reach 0 and infinity)", math.nan),
    Field("lab_acceptance_eta_max", "f8", "1", ("lab_acceptance",), "the |eta| cut of each acceptance set of the "
          "lab histograms (inf: no cut)", math.nan),
    Field("lab_acceptance_x_min", "f8", "1", ("lab_acceptance",), "the energy threshold of each acceptance set, "
          "in units of the lepton beam's lab energy (a lower edge of lab_x_edges)", math.nan),
    Field("x_f_edges_nucleus_frame", "f8", "1", ("target", "energy_GeV", "x_f_edge"),
          "edges of each (target, energy)'s x = E_final / E bins of dsigma_dlnx_f_pb, with E_final and E the "
          "final and beam lepton energies in the nucleus rest frame (m_final/E .. 1): for a collider target E is "
          "the lepton's nucleus-frame energy, for a fixed target the beam energy (the x_f_edges row)", math.nan),
)

#: per-cell quantities first, then per-bin ones (the order of the arrays in a store)
RESULT_FIELDS: tuple[Field, ...] = (
    per_cell("sigma_pb", "f8", "pb", "total production cross section mu N -> tau N a for g = 1",
             parts=("sigma_scalar_pb", "sigma_pseudoscalar_pb")),
    per_cell("sigma_err_pb", "f8", "pb", "integration error of sigma_pb", error_of="sigma_pb",
             parts=("sigma_scalar_err_pb", "sigma_pseudoscalar_err_pb"), cov="sigma_sp_cov_pb2"),
    per_cell("sigma_coherent_pb", "f8", "pb", "coherent (elastic, ~Z^2) part of sigma_pb",
             parts=("sigma_coherent_scalar_pb", "sigma_coherent_pseudoscalar_pb")),
    per_cell("sigma_coherent_err_pb", "f8", "pb", "integration error of sigma_coherent_pb",
             error_of="sigma_coherent_pb"),
    per_cell("sigma_incoherent_pb", "f8", "pb", "incoherent (diffractive, ~Z) part of sigma_pb",
             parts=("sigma_incoherent_scalar_pb", "sigma_incoherent_pseudoscalar_pb")),
    per_cell("sigma_incoherent_err_pb", "f8", "pb", "integration error of sigma_incoherent_pb",
             error_of="sigma_incoherent_pb"),
    per_cell("chi2_dof", "f8", "1", "vegas chi^2 per degree of freedom"),
    per_cell("Q", "f8", "1", "vegas Q value"),
    per_cell("neval", "i8", "1", "integrand evaluations"),
    per_cell("seconds", "f8", "s", "compute time reported by the cell function"),
    per_cell("closed", "bool", "1", "kinematically closed cell (all cross sections exactly zero)"),
    per_cell("converged", "bool", "1", "True if vegas reached the requested relative error within its evaluation "
             "budget (False: the quoted, honest error is larger than requested)", default=True),
    per_bin("dsigma_dlnx_f_pb", "pb", "dsigma/dln x_f per x_f bin (x_f = E_f/E), for g = 1",
            parts=("dsigma_dlnx_f_scalar_pb", "dsigma_dlnx_f_pseudoscalar_pb")),
    per_bin("dsigma_dlnx_f_err_pb", "pb", "integration error of dsigma_dlnx_f_pb", error_of="dsigma_dlnx_f_pb",
            parts=("dsigma_dlnx_f_scalar_err_pb", "dsigma_dlnx_f_pseudoscalar_err_pb"),
            cov="dsigma_dlnx_f_sp_cov_pb2"),
    # scalar / pseudoscalar parts (docs/physics.md §7.12): sigma = g_S^2 sigma_S + g_P^2 sigma_P exactly, for
    # every cross section and bin; the parts are for (g_S, g_P) = (1, 0) and (0, 1), from the same samples
    per_cell("sigma_scalar_pb", "f8", "pb", "scalar part sigma_S of sigma_pb: (g_S, g_P) = (1, 0)", default=math.nan),
    per_cell("sigma_scalar_err_pb", "f8", "pb", "integration error of sigma_scalar_pb", default=math.nan,
             error_of="sigma_scalar_pb"),
    per_cell("sigma_pseudoscalar_pb", "f8", "pb", "pseudoscalar part sigma_P of sigma_pb: (g_S, g_P) = (0, 1)",
             default=math.nan),
    per_cell("sigma_pseudoscalar_err_pb", "f8", "pb", "integration error of sigma_pseudoscalar_pb", default=math.nan,
             error_of="sigma_pseudoscalar_pb"),
    per_cell("sigma_sp_cov_pb2", "f8", "pb^2", "MC covariance of sigma_scalar_pb and sigma_pseudoscalar_pb",
             default=math.nan),
    per_cell("sigma_coherent_scalar_pb", "f8", "pb", "scalar part of sigma_coherent_pb", default=math.nan),
    per_cell("sigma_coherent_pseudoscalar_pb", "f8", "pb", "pseudoscalar part of sigma_coherent_pb",
             default=math.nan),
    per_cell("sigma_incoherent_scalar_pb", "f8", "pb", "scalar part of sigma_incoherent_pb", default=math.nan),
    per_cell("sigma_incoherent_pseudoscalar_pb", "f8", "pb", "pseudoscalar part of sigma_incoherent_pb",
             default=math.nan),
    per_bin("dsigma_dlnx_f_scalar_pb", "pb", "scalar part of dsigma_dlnx_f_pb", default=None),
    per_bin("dsigma_dlnx_f_scalar_err_pb", "pb", "integration error of dsigma_dlnx_f_scalar_pb", default=None,
            error_of="dsigma_dlnx_f_scalar_pb"),
    per_bin("dsigma_dlnx_f_pseudoscalar_pb", "pb", "pseudoscalar part of dsigma_dlnx_f_pb", default=None),
    per_bin("dsigma_dlnx_f_pseudoscalar_err_pb", "pb", "integration error of dsigma_dlnx_f_pseudoscalar_pb",
            default=None, error_of="dsigma_dlnx_f_pseudoscalar_pb"),
    per_bin("dsigma_dlnx_f_sp_cov_pb2", "pb^2", "MC covariance of the scalar and pseudoscalar parts per bin",
            default=None),
    # errors of the upper-tail cross sections sigma(x_f >= lower edge of bin i) = sum_{k >= i} h_k dln x
    # (docs/physics.md §7.12): what decay-length selections keep; honest errors of selected cross sections
    per_bin("sigma_above_x_err_pb", "pb", "integration error of sigma(x_f >= lower edge of the bin)", default=None,
            error_of="sigma_above_x_pb",
            parts=("sigma_above_x_scalar_err_pb", "sigma_above_x_pseudoscalar_err_pb"),
            cov="sigma_above_x_sp_cov_pb2"),
    per_bin("sigma_above_x_scalar_err_pb", "pb", "integration error of the scalar part of sigma(x_f >= edge)",
            default=None, error_of="sigma_above_x_scalar_pb"),
    per_bin("sigma_above_x_pseudoscalar_err_pb", "pb", "integration error of the pseudoscalar part of "
            "sigma(x_f >= edge)", default=None, error_of="sigma_above_x_pseudoscalar_pb"),
    per_bin("sigma_above_x_sp_cov_pb2", "pb^2", "MC covariance of the scalar and pseudoscalar parts of "
            "sigma(x_f >= edge)", default=None),
)

def per_lab_bin(name: str, unit: str, description: str, dims: tuple[str, ...] = LAB_DIMS, **relations) -> Field:
    """A lab-frame histogram (float64) over the ``lab_bin`` bins of a collider cell, or with ``dims`` =
    :data:`LAB_ACC_DIMS` over its acceptance sets (:data:`LAB_FIELDS`)."""
    return Field(name, "f8", unit, dims, description, math.nan, None, **relations)


def _lab_fields(particle: str, what: str) -> tuple[Field, ...]:
    """The eleven arrays of one lab histogram: cross section per bin, its error, the two parts, their
    errors and covariance, and the errors of the acceptance sets' cross sections with their parts'
    (docs/physics.md §7.16, §7.12)."""
    n = f"lab_{particle}"
    return (
        per_lab_bin(f"{n}_pb", "pb", f"sigma per lab-frame bin of the {what}'s (pseudorapidity, energy / lepton "
                    "beam energy) at the scan's couplings, for g = 1 (collider targets only; all bins add up to "
                    "sigma_pb)", parts=(f"{n}_scalar_pb", f"{n}_pseudoscalar_pb")),
        per_lab_bin(f"{n}_err_pb", "pb", f"integration error of {n}_pb", error_of=f"{n}_pb",
                    parts=(f"{n}_scalar_err_pb", f"{n}_pseudoscalar_err_pb"), cov=f"{n}_sp_cov_pb2"),
        per_lab_bin(f"{n}_scalar_pb", "pb", f"scalar part of {n}_pb"),
        per_lab_bin(f"{n}_scalar_err_pb", "pb", f"integration error of {n}_scalar_pb", error_of=f"{n}_scalar_pb"),
        per_lab_bin(f"{n}_pseudoscalar_pb", "pb", f"pseudoscalar part of {n}_pb"),
        per_lab_bin(f"{n}_pseudoscalar_err_pb", "pb", f"integration error of {n}_pseudoscalar_pb",
                    error_of=f"{n}_pseudoscalar_pb"),
        per_lab_bin(f"{n}_sp_cov_pb2", "pb^2", f"MC covariance of the scalar and pseudoscalar parts of {n}_pb per bin"),
        # the cross section of an acceptance set is the sum of its bins; its MC error is not their quadrature sum
        per_lab_bin(f"{n}_accepted_err_pb", "pb", f"integration error of the sum of {n}_pb over each acceptance set "
                    "{|eta| < cut, E >= lower edge of an energy bin} (lab_acceptance_eta_max x lab_acceptance_x_min)",
                    LAB_ACC_DIMS, error_of=f"{n}_accepted_pb",
                    parts=(f"{n}_accepted_scalar_err_pb", f"{n}_accepted_pseudoscalar_err_pb"),
                    cov=f"{n}_accepted_sp_cov_pb2"),
        per_lab_bin(f"{n}_accepted_scalar_err_pb", "pb", f"integration error of the scalar part of {n}'s accepted "
                    "cross sections", LAB_ACC_DIMS, error_of=f"{n}_accepted_scalar_pb"),
        per_lab_bin(f"{n}_accepted_pseudoscalar_err_pb", "pb", f"integration error of the pseudoscalar part of {n}'s "
                    "accepted cross sections", LAB_ACC_DIMS, error_of=f"{n}_accepted_pseudoscalar_pb"),
        per_lab_bin(f"{n}_accepted_sp_cov_pb2", "pb^2", f"MC covariance of the scalar and pseudoscalar parts of {n}'s "
                    "accepted cross sections", LAB_ACC_DIMS),
    )


#: lab-frame histograms of collider cells (docs/physics.md §7.16): stored only by scans with a nucleus-beam
#: target (their arrays are absent from fixed-target stores), fill NaN for fixed-target cells of such scans
LAB_FIELDS: tuple[Field, ...] = _lab_fields("lepton", "final lepton") + _lab_fields("boson", "boson")

#: bookkeeping per cell; all but ``error`` and ``status`` are attributes of a
#: :class:`lfvscan.store.records.CellRecord` of the same name
BOOK_FIELDS: tuple[Field, ...] = (
    Field("wall_seconds", "f8", "s", CELL_DIMS, "wall time of the cell on its rank (engine measurement)", math.nan),
    Field("rank", "i4", "1", CELL_DIMS, "MPI rank that computed the cell", -1),
    Field("attempts", "i4", "1", CELL_DIMS, "number of attempts so far", 0),
    Field("error", "str", "", CELL_DIMS, "message of the last failure ('' if none)", ""),
    Field("status", "i1", "1", CELL_DIMS, "cell status (commit marker, written last): "
          + ", ".join(f"{k}={v}" for k, v in STATUS_NAMES.items()), PENDING),
)

#: everything stored over the cells (and their x_f bins), in store order
CELL_FIELDS: tuple[Field, ...] = RESULT_FIELDS + BOOK_FIELDS

#: every stored array by name
FIELDS: dict[str, Field] = {f.name: f for f in COORDINATES + LAB_COORDINATES + CELL_FIELDS + LAB_FIELDS}


def stored_cell_fields(lab: bool) -> tuple[Field, ...]:
    """The per-cell arrays of a store: :data:`CELL_FIELDS`, then :data:`LAB_FIELDS` if ``lab`` (a scan
    with a nucleus-beam target)."""
    return CELL_FIELDS + (LAB_FIELDS if lab else ())


#: what the two part slots and their covariance are called for each boson family: (first part, second part,
#: covariance tag) replacing ("scalar", "pseudoscalar", "sp") in the slots' names
PART_NAMES = {"scalar": ("scalar", "pseudoscalar", "sp"), "vector": ("vector", "axial", "va")}
#: the couplings of the two parts of each family, in the slots' descriptions
_PART_COUPLINGS = {"scalar": ("(g_S, g_P)", "sigma_S", "sigma_P"), "vector": ("(g_V, g_A)", "sigma_V", "sigma_A")}


def _rename(text: str, boson: str, names: bool) -> str:
    """``text`` with the scalar family's part words replaced by those of ``boson`` (ValueError naming
    an unknown family); ``names``: replace inside field names (``_scalar_``) or in prose too."""
    if boson not in PART_NAMES:
        raise ValueError(f"boson family {boson!r} unknown (known: {', '.join(PART_NAMES)})")
    first, second, cov = PART_NAMES[boson]
    if boson == "scalar":
        return text
    marker = "\0"  # protects the replaced second part from the first part's replacement
    text = text.replace("pseudoscalar", marker).replace("scalar", first).replace(marker, second)
    text = text.replace("_sp_cov_", f"_{cov}_cov_")
    if not names:
        for a, b in zip(_PART_COUPLINGS["scalar"], _PART_COUPLINGS[boson]):
            text = text.replace(a, b)
    return text


def family_name(name: str, boson: str) -> str:
    """The name of result field ``name`` for the boson family ``boson``: unchanged for the scalar
    family and for fields that are not parts; for the vector family ``sigma_scalar_pb`` ->
    ``sigma_vector_pb``, ``*_pseudoscalar_*`` -> ``*_axial_*``, ``*_sp_cov_*`` -> ``*_va_cov_*``."""
    return _rename(name, boson, names=True)


def family_description(f: Field, boson: str) -> str:
    """The ``description`` of field ``f`` in a store of the boson family ``boson``: the schema's for the
    scalar family; for the vector family the part slots say which part they hold and under which name."""
    if boson == "scalar" or family_name(f.name, boson) == f.name:
        return f.description
    return (f"{_rename(f.description, boson, names=False)} [{family_name(f.name, boson)}: the {f.name} slot "
            f"holds it in a {boson}-family store, docs/physics.md §7.14]")


def _check_relations() -> None:
    """Every field named by a relation is a result field (``error_of`` may name an unstored quantity)."""
    names = {f.name for f in RESULT_FIELDS + LAB_FIELDS}
    for f in RESULT_FIELDS + LAB_FIELDS:
        for other in (f.parts or ()) + ((f.cov,) if f.cov else ()):
            if other not in names:
                raise AssertionError(f"{f.name}: relation names {other!r}, not a result field")
        if f.cov and not (f.parts and f.error_of):
            raise AssertionError(f"{f.name}: cov is for error fields with parts")


_check_relations()
