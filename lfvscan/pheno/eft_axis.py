"""Limits on the ALP EFT scale C/Lambda beside the limits on g (``--axis C/Lambda``, docs/physics.md §2.7).

Each curve's limit g_lim is a limit on the coupling g of the curve's convention (the scan's, or the
``--convention`` of ``--theta``) at the curve's theta.  It is read as a limit on C/Lambda [GeV^-1] in
the thesis's convention (g_eff = C sqrt(m_i^2 + m_f^2 + 2 m_i m_f cos 2Theta) / Lambda, exact lepton
masses of the scan's physics preset) and, for comparison, in the Eq. (3) reading (g_eff = C m_heavy / Lambda,
m_light -> 0).  The MC error scales with the same factor.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from lfvscan.errors import UsageError
from lfvscan.physics.eft import c_over_lambda_per_g, eft_mass_GeV, eft_theta
from lfvscan.pheno.scanphysics import scan_lepton_pair, scan_process

#: limit axes of ``lfvscan limits/figures --axis``: the coupling g, or the EFT scale C/Lambda
AXES = ("g", "C/Lambda")
#: the default axis: limits on g only
DEFAULT_AXIS = AXES[0]
#: unit of the C/Lambda columns of limits.csv / limits.json
C_LAMBDA_UNIT = "GeV^-1"
#: meaning of the C/Lambda columns, written into the limits files
C_LAMBDA_MEANING = {
    "C_over_Lambda_lim": "thesis convention: g_eff = C sqrt(m_i^2 + m_f^2 + 2 m_i m_f cos 2Theta) / Lambda, "
                         "exact lepton masses of the physics preset (docs/physics.md §2.7)",
    "C_over_Lambda_eq3_lim": "Eq. (3) reading: g_eff = C m_heavy / Lambda (m_light -> 0), docs/physics.md §2.7",
}


@dataclass(frozen=True)
class EftLimit:
    """One curve's limit on C/Lambda [GeV^-1]: ``lim`` / ``err`` in the thesis's exact-mass convention,
    ``lim_eq3`` in the Eq. (3) reading; ``theta`` [rad] and ``convention`` of the g it was read from;
    ``mass_GeV`` = M(Theta) and ``mass_eq3_GeV`` = m_heavy (g_eff = (C/Lambda) M)."""

    theta: float
    convention: str
    mass_GeV: float
    mass_eq3_GeV: float
    lim: np.ndarray
    err: np.ndarray
    lim_eq3: np.ndarray


def check_axis(axis: str) -> str:
    """``axis`` if known (:data:`AXES`), else UsageError naming it."""
    if axis not in AXES:
        raise UsageError(f"--axis {axis!r}: expected one of {', '.join(AXES)}")
    return axis


def axis_provenance(axis: str) -> dict:
    """The provenance entries of ``axis``: none for g, else the axis and the meaning of its columns."""
    return {} if axis == DEFAULT_AXIS else {"axis": axis, "axis_conventions": C_LAMBDA_MEANING}


def eft_limit(lim, scan) -> EftLimit:
    """The C/Lambda limit of the :class:`~lfvscan.pheno.limits.CurveLimit` ``lim`` of ``scan``
    (docs/physics.md §2.7): g_lim times :func:`lfvscan.physics.eft.c_over_lambda_per_g` at the curve's
    theta and convention (the scan's where the curve was not recombined)."""
    y = lim.yields
    theta = scan.theta if y.theta is None else y.theta
    convention = scan.convention if y.convention is None else y.convention
    pair = scan_lepton_pair(scan)
    k = c_over_lambda_per_g(theta, convention, pair, "exact")
    k3 = c_over_lambda_per_g(theta, convention, pair, "eq3")
    return EftLimit(theta=float(theta), convention=str(convention),
                    mass_GeV=float(eft_mass_GeV(eft_theta(theta, convention, pair), pair, "exact")), mass_eq3_GeV=float(pair.heavy.mass),
                    lim=k * np.asarray(lim.g_lim, float), err=k * np.asarray(lim.g_lim_err, float),
                    lim_eq3=k3 * np.asarray(lim.g_lim, float))


def with_eft_limits(limits, scan) -> list:
    """``limits`` with their :class:`EftLimit` attached (``CurveLimit.eft``); UsageError for a scan
    of the vector family (the ALP EFT scale is the spin-0 family's)."""
    boson = scan_process(scan).boson
    if boson != "scalar":
        raise UsageError(f"--axis C/Lambda: the ALP EFT scale applies to a spin-0 boson; this scan's boson "
                         f"family is {boson!r} (docs/physics.md §2.7)")
    return [replace(lim, eft=eft_limit(lim, scan)) for lim in limits]
