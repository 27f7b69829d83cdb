"""The limit figures on the ALP EFT scale axis, C/Lambda in TeV^-1 (``lfvscan figures --axis C/Lambda``,
docs/physics.md §2.7).

The limits carry their C/Lambda values in GeV^-1 (:class:`lfvscan.pheno.eft_axis.EftLimit`, the
thesis's exact-mass convention); the figures draw them in TeV^-1 (x 1000), the unit of the thesis's
figures.  The g-2 bands (computed for the coupling g of Eq. (3) at their theta) are read as C/Lambda
at their own theta with the same convention, so that a band and a limit at one theta compare as in g.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from lfvscan.physics.eft import c_over_lambda_per_g
from lfvscan.physics.leptons import LeptonPair

#: TeV^-1 per GeV^-1
TEV_INV_PER_GEV_INV = 1.0e3
#: y-axis label (of the tau mu coupling) and range of the limit figures per axis (``--axis``);
#: :func:`y_label` names the coupling of another lepton pair
Y_AXES = {
    "g": (r"$g_{\tau\mu}$", (1e-4, 1.0)),
    "C/Lambda": (r"$C_{\tau\mu}/\Lambda$ [TeV$^{-1}$]  ($g_{\rm eff}=C\sqrt{m_i^2+m_f^2+2m_im_f\cos2\theta}/\Lambda$)",
                 (1e-4, 1e3)),
}


def y_label(axis: str, pair: LeptonPair | None) -> str:
    """y-axis label of ``axis`` (:data:`Y_AXES`) naming the coupling of ``pair``'s leptons (None: tau mu):
    g_{tau e} or C_{tau e}/Lambda for e -> tau."""
    label = Y_AXES[axis][0]
    if pair is None or pair.light.name == "mu":
        return label
    return label.replace(r"\tau\mu}", r"\tau " + pair.light.name + "}")


def limits_on_eft_axis(limits) -> list:
    """``limits`` (CurveLimits with ``eft``) with ``g_lim`` / ``g_lim_err`` replaced by C/Lambda and its
    error in TeV^-1, for drawing; ValueError naming a curve without a C/Lambda limit."""
    out = []
    for lim in limits:
        if lim.eft is None:
            raise ValueError(f"{lim.key}: no C/Lambda limit (compute the limits with axis='C/Lambda')")
        out.append(replace(lim, g_lim=TEV_INV_PER_GEV_INV * np.asarray(lim.eft.lim),
                           g_lim_err=TEV_INV_PER_GEV_INV * np.asarray(lim.eft.err)))
    return out


def bands_on_eft_axis(bands, convention: str, *, pair: LeptonPair) -> list:
    """g-2 bands (:class:`lfvscan.pheno.overlays.G2Band`, coupling g of ``convention`` at each band's
    theta) as C/Lambda in TeV^-1 in the thesis's convention."""
    out = []
    for b in bands:
        k = TEV_INV_PER_GEV_INV * c_over_lambda_per_g(b.theta, convention, pair, "exact")
        out.append(replace(b, g_lo=k * b.g_lo, g_central=k * b.g_central, g_hi=k * b.g_hi))
    return out


def g_scale_on_eft_axis(theta: float, convention: str, *, pair: LeptonPair) -> float:
    """TeV^-1 of C/Lambda per unit g at ``theta`` [rad] (the dark-matter lines of Fig. 6, drawn at the scan's theta)."""
    return TEV_INV_PER_GEV_INV * c_over_lambda_per_g(theta, convention, pair, "exact")
