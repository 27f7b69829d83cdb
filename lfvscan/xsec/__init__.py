"""Integration layer: the exact 2 -> 3 cross section per cell with vegas (docs/physics.md §7).

* :mod:`lfvscan.xsec.integrand`: the fully differential cross section in the vegas variables;
* :mod:`lfvscan.xsec.driver`: :func:`compute_cell`, adaptation, frozen-map iterations, errors;
* :mod:`lfvscan.xsec.result`: :class:`CellResult`, the unit of work of a scan;
* :mod:`lfvscan.xsec.chi2`: closed-form chi^2 survival for the iterations' Q.
"""

import importlib

#: public name -> defining module (loaded on first use, so that importing lfvscan.xsec.result or
#: lfvscan.xsec.chi2 does not import vegas)
_EXPORTS = {
    "DEFAULT_VEGAS": "driver", "VegasSettings": "driver", "compute_cell": "driver",
    "THETA_A_MIN": "integrand", "CellPhysics": "integrand", "cell_physics": "integrand", "d3sigma": "integrand",
    "dsigma_dw_dcos": "integrand", "integrand_points": "integrand", "is_open": "integrand",
    "max_mass_exact_GeV": "integrand", "CellResult": "result", "x_tau_edges": "result",
    # deprecated alias (= max_mass_exact_GeV) kept for other layers until the merge
    "max_mass_GeV": "integrand",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"lfvscan.xsec.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'lfvscan.xsec' has no attribute {name!r}")
