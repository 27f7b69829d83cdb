"""Integration layer: the exact 2 -> 3 cross section per cell with vegas (docs/physics.md §7).

* :mod:`lfvscan.xsec.integrand`: the fully differential cross section in the vegas variables;
* :mod:`lfvscan.xsec.engine`: which implementation evaluates it, by a job's size: the compiled one
  (:mod:`lfvscan.xsec.kernel` point by point, numba) or numpy (:mod:`lfvscan.xsec.integrand_numpy`),
  both reading :mod:`lfvscan.xsec.cell_constants`;
* :mod:`lfvscan.xsec.driver`: :func:`compute_cell`, adaptation, frozen-map iterations, errors;
* :mod:`lfvscan.xsec.accumulate`: the sums of a frozen-map iteration (the engine's
  :mod:`lfvscan.xsec.sums_compiled` or :mod:`lfvscan.xsec.sums_numpy`);
* :mod:`lfvscan.xsec.result`: :class:`CellResult`, the unit of work of a scan;
* :mod:`lfvscan.xsec.chi2`: closed-form chi^2 survival for the iterations' Q.
"""

import importlib

#: public name -> defining module (loaded on first use, so that importing lfvscan.xsec.result or
#: lfvscan.xsec.chi2 does not import vegas)
_EXPORTS = {
    "DEFAULT_VEGAS": "lfvscan.xsec.settings", "VegasSettings": "lfvscan.xsec.settings",
    "compute_cell": "lfvscan.xsec.driver",
    "THETA_A_MIN": "lfvscan.xsec.integrand", "CellPhysics": "lfvscan.xsec.integrand",
    "cell_physics": "lfvscan.xsec.integrand", "d3sigma": "lfvscan.xsec.integrand",
    "dsigma_dw_dcos": "lfvscan.xsec.integrand", "integrand_points": "lfvscan.xsec.integrand",
    "CellResult": "lfvscan.xsec.result", "x_f_edges": "lfvscan.xsec.result",
    # the kinematic reach is pure physics; re-exported because every cell asks it first
    "is_open": "lfvscan.physics.reach", "max_mass_exact_GeV": "lfvscan.physics.reach",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'lfvscan.xsec' has no attribute {name!r}")
