"""Cheap deterministic stand-ins for lfvscan.xsec.compute_cell, used by the scan-engine tests.

Selected in a config with ``cell_function = "_scan_cells:cheap_cell"`` (tests put this directory
on PYTHONPATH).  Behaviour knobs, all through environment variables so subprocess runs can use them:

* ``LFVSCAN_TEST_SLEEP``: seconds to sleep per open cell (to be killed mid-scan);
* ``LFVSCAN_TEST_FAIL_MASSES``: comma-separated masses whose cells raise;
* ``LFVSCAN_TEST_FAIL_FLAG``: a path; while that file exists, every cell with m_a > 5 raises.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np

from lfvscan.xsec.result import CellResult, x_tau_edges
from lfvscan.physics.constants import M_MU, M_TAU


def cheap_cell(target, energy_GeV, mass_GeV, *, rel_err=0.005, theta=math.pi / 4, convention="eq3", seed=0,
               n_xbins=60):
    """Deterministic in (target, E, m, seed, n_xbins); random parts come from ``seed`` only."""
    edges = x_tau_edges(energy_GeV, n_xbins)
    reach = math.sqrt(2 * energy_GeV + M_MU**2) - M_TAU
    name = target if isinstance(target, str) else target.name
    fail = {float(x) for x in os.environ.get("LFVSCAN_TEST_FAIL_MASSES", "").split(",") if x.strip()}
    if mass_GeV in fail:
        raise RuntimeError(f"synthetic failure at m_a={mass_GeV:g}")
    flag = os.environ.get("LFVSCAN_TEST_FAIL_FLAG")
    if flag and os.path.exists(flag) and mass_GeV > 5:
        raise ValueError(f"flagged failure at m_a={mass_GeV:g}")
    if mass_GeV >= reach:
        z = np.zeros(n_xbins)
        return CellResult(name, energy_GeV, mass_GeV, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0, 0.0, True,
                          edges, z, z.copy(), theta, convention)
    time.sleep(float(os.environ.get("LFVSCAN_TEST_SLEEP", "0")))
    rng = np.random.default_rng(seed)
    z2 = {"Pb": 82.0, "W": 74.0}.get(name, 1.0) ** 2
    sigma = z2 * (1 - mass_GeV / reach) ** 2 / mass_GeV**2 * (1 + rel_err * rng.standard_normal())
    dist = sigma * rng.dirichlet(np.ones(n_xbins)) / np.diff(np.log(edges))
    return CellResult(
        name, energy_GeV, mass_GeV, sigma, rel_err * sigma, 0.9 * sigma, 0.9 * rel_err * sigma,
        0.1 * sigma, 0.1 * rel_err * sigma, float(rng.uniform(0.5, 1.5)), float(rng.uniform()),
        int(rng.integers(1000, 100000)), 1e-3, False, edges, dist, rel_err * dist, theta, convention,
    )
