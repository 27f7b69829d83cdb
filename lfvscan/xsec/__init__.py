"""Integration layer: the exact 2 -> 3 cross section per cell with vegas (docs/physics.md §7).

* :mod:`lfvscan.xsec.integrand`: the fully differential cross section in the vegas variables;
* :mod:`lfvscan.xsec.driver`: :func:`compute_cell`, adaptation, frozen-map iterations, errors;
* :mod:`lfvscan.xsec.result`: :class:`CellResult`, the unit of work of a scan;
* :mod:`lfvscan.xsec.chi2`: closed-form chi^2 survival for the iterations' Q.
"""

from lfvscan.xsec.driver import DEFAULT_VEGAS, VegasSettings, compute_cell
from lfvscan.xsec.integrand import (
    THETA_A_MIN,
    CellPhysics,
    cell_physics,
    d3sigma,
    dsigma_dw_dcos,
    integrand_points,
    is_open,
    max_mass_GeV,
)
from lfvscan.xsec.result import CellResult, x_tau_edges

__all__ = [
    "DEFAULT_VEGAS", "THETA_A_MIN", "CellPhysics", "CellResult", "VegasSettings", "cell_physics", "compute_cell",
    "d3sigma", "dsigma_dw_dcos", "integrand_points", "is_open", "max_mass_GeV", "x_tau_edges",
]
