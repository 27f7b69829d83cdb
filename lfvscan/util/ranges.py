"""Validity ranges of the physics inputs (docs/physics.md §7.11, "Validity ranges").

Each input of a cell has a range inside which :func:`lfvscan.xsec.compute_cell` is right; outside
it is refused at every boundary (the ``lfvscan xsec`` options, the scan config, the arguments of
``compute_cell``) with one line naming the value and the range.  Where each bound comes from:

* ``energy_GeV`` in [2, 1e7] GeV for a final tau (the paper's mu -> tau; other processes have
  their own lower bound, :func:`lfvscan.physics.process.energy_range`).  Lower: just above the tau
  mass (1.777 GeV), so the x_f grid [m_tau/E, 1] is not empty (a lower energy has no tau to produce).  Upper: the largest energy at
  which the exact vegas cross section was checked against the independent Weizsaecker-Williams
  quadrature (``sigma_ww_pb`` of tests/_crosscheck.py, W target): agreement within
  0.5 % for m_a = 1e-6 .. 500 GeV up to 1e7 GeV; above, float64 cancellations in the kinematics
  spoil the light-ALP cells (m_a = 2 GeV: -1.8 % at 3e7 GeV, -16 % at 1e8 GeV, 1/17 at 1e9 GeV,
  an internal invariant fails at 1e30 GeV) while vegas still reports them converged.
* ``mass_GeV`` in [1e-6, 1e4] GeV: the range checked against the same quadrature (1e-6 GeV at
  1e3 and 1e7 GeV within 0.7 %); 1e4 GeV is above the kinematic reach at 1e7 GeV (closed cells
  are exact zeros).
* ``rel_err`` in [1e-4, 0.5): the evaluation budget of a cell
  (:attr:`lfvscan.xsec.settings.VegasSettings.max_neval_total`, 3e6 evaluations at 0.005) grows as
  (0.005 / rel_err)^2, and the driver refuses a ``rel_err`` whose budget would exceed
  ``VegasSettings.neval_ceiling`` (2e9: rel_err < 1.9e-4) with the budget it needs; at 0.5 the
  error estimate itself is meaningless.
* ``n_xbins`` in [1, 1000]: a finer x_f grid than ln(E/m_tau)/1000 is far below any
  detector's resolution, and the stored distribution grows by 16 bytes per bin and cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    """A closed (or half-open, ``hi_open``) interval [lo, hi] of valid values of one input."""

    name: str
    lo: float
    hi: float
    unit: str = ""
    hi_open: bool = False
    integer: bool = False

    def describe(self) -> str:
        """The range as text, e.g. ``[2, 1e+07] GeV``."""
        text = f"[{self.lo:g}, {self.hi:g}{')' if self.hi_open else ']'}"
        return f"{text} {self.unit}" if self.unit else text

    def contains(self, value) -> bool:
        try:
            v = float(value)
        except (TypeError, ValueError):
            return False
        if not math.isfinite(v) or v < self.lo or v > self.hi or (self.hi_open and v >= self.hi):
            return False
        return not self.integer or v == int(v)

    def problem(self, value, label: str | None = None) -> str | None:
        """None if ``value`` is inside, else one line naming the value and the range."""
        if self.contains(value):
            return None
        kind = "an integer in" if self.integer else "in"
        return (f"{label or self.name} = {value!r}{(' ' + self.unit) if self.unit else ''} is outside the validity "
                f"range: must be {kind} {self.describe()} (docs/physics.md §7.11)")

    def check(self, value, label: str | None = None) -> float:
        """``value`` as float; :class:`ValueError` with :meth:`problem`'s line if it is outside."""
        msg = self.problem(value, label)
        if msg:
            raise ValueError(msg)
        return float(value)


#: muon beam energy [GeV] (module docstring: where the bounds come from)
ENERGY_GEV = Range("energy_GeV", 2.0, 1e7, "GeV")
#: ALP mass [GeV]
MASS_GEV = Range("mass_GeV", 1e-6, 1e4, "GeV")
#: requested relative error of sigma_total
REL_ERR = Range("rel_err", 1e-4, 0.5, hi_open=True)
#: bins of d sigma / d ln x_f
N_XBINS = Range("n_xbins", 1, 1000, integer=True)

#: default requested relative error of sigma_total (``compute_cell``, scan configs, ``lfvscan xsec``)
DEFAULT_REL_ERR = 0.005
#: default number of d sigma / d ln x bins (the final lepton's energy fraction)
DEFAULT_N_XBINS = 60
