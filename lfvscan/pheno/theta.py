"""Any coupling angle theta from one scan (docs/physics.md §7.12, §7.14).

A scan stores, besides each cross section at its own theta, its two parts with their errors and
covariance: for the scalar family the scalar and pseudoscalar parts (g_S, g_P) = (1, 0) and (0, 1),
so that for any theta ``sigma = g_S^2 sigma_S + g_P^2 sigma_P``; for the vector family (the store's
process, :func:`lfvscan.pheno.scanphysics.scan_process`) the same slots hold the vector and axial
parts (g_V, g_A) = (1, 0) and (0, 1), ``sigma = g_V^2 sigma_V + g_A^2 sigma_A`` with
``(g_V^2, g_A^2) = (sin^2 theta, cos^2 theta)``.  Which stored field is a part, an error or a covariance
of which is declared once, on the fields of :data:`lfvscan.schema.RESULT_FIELDS` (``parts``,
``error_of``, ``cov``); :func:`recombined_fields` reads it from there.
"""

from __future__ import annotations

import math

import numpy as np

from lfvscan.errors import UsageError
from lfvscan.schema import DONE, LAB_FIELDS, RESULT_FIELDS, Field
from lfvscan.pheno.scanphysics import scan_lepton_pair, scan_process
from lfvscan.store.scandata import ScanData


def recombined_fields(fields: tuple[Field, ...] = RESULT_FIELDS) -> tuple[tuple[Field, ...], tuple[Field, ...]]:
    """(values, errors) that change with theta: the fields with ``parts`` that are not errors, and the
    errors of those or of any quantity with parts (an error without parts of its own cannot be
    recombined and becomes NaN)."""
    values = tuple(f for f in fields if f.parts and f.error_of is None)
    recombined = {f.name for f in values}
    errors = tuple(f for f in fields if f.error_of is not None and (f.parts or f.error_of in recombined))
    return values, errors


def scan_at_theta(scan: ScanData, theta: float, convention: str = "eq3") -> ScanData:
    """The scan's cross sections at another ``theta`` [rad] / ``convention`` from its scalar and
    pseudoscalar parts (docs/physics.md §7.12): sigma = g_S^2 sigma_S + g_P^2 sigma_P for g = 1,
    var = g_S^4 var_S + g_P^4 var_P + 2 g_S^2 g_P^2 cov_SP, for every field of
    :func:`recombined_fields` (sigma, its coherent and incoherent parts, d sigma / d ln x_f and the
    upper-tail errors).  Returns a new :class:`ScanData` (the other arrays shared); UsageError if the
    store has no parts.  The ``"eq2"`` couplings use the lepton masses of the scan's physics preset.
    A vector-family scan recombines its vector and axial parts with (sin^2 theta, cos^2 theta) (§7.14)
    and refuses a convention other than the default (UsageError naming it)."""
    from lfvscan.physics.couplings import check_convention, check_family_convention
    from lfvscan.xsec.integrand import part_weights

    boson = scan_process(scan).boson
    try:
        check_convention(convention)
        check_family_convention(boson, convention)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not math.isfinite(float(theta)):
        raise UsageError(f"theta must be finite, got {theta!r}")
    # the lab-frame histograms of a scan with a collider target recombine like the other parts (§7.16)
    values, errors = recombined_fields(RESULT_FIELDS + tuple(f for f in LAB_FIELDS if f.name in scan))
    probe = values[0].parts[0]
    done = (scan.status == DONE) & ~np.asarray(scan.arrays.get("closed", False), dtype=bool)
    if probe not in scan or (np.any(done) and np.all(np.isnan(scan[probe][done]))):
        raise UsageError("the scan stores no scalar/pseudoscalar parts: "
                         "rescan to use another theta or convention")
    a, b = part_weights(theta, convention, pair=scan_lepton_pair(scan), boson=boson)
    arrays = dict(scan.arrays)
    for f in values:
        sp, pp = f.parts
        arrays[f.name] = a * scan[sp] + b * scan[pp]
    for f in errors:
        if f.parts is None:
            arrays[f.name] = np.full_like(scan[f.name], np.nan)
        else:
            se, pe = f.parts
            var = a * a * scan[se] ** 2 + b * b * scan[pe] ** 2 + 2.0 * a * b * scan[f.cov]
            arrays[f.name] = np.sqrt(np.maximum(var, 0.0))
    status = arrays.pop("status")
    return ScanData(scan.targets, scan.energies_GeV, scan.masses_GeV, scan.x_f_edges, status,
                    theta=float(theta), convention=convention, attrs=scan.attrs,
                    x_f_edges_nucleus_frame=scan.x_f_edges_nucleus_frame, **arrays)
