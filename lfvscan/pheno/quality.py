"""Quality of a yield point: the cells it is built from, and how well the stored grids resolve it
(docs/physics.md §10.1).

A point (one mass of one selection curve) is built from the cells of one target at one energy
(monochromatic beam) or at every energy the flux reaches.  :func:`point_quality` flags it when a
cell is missing or failed, when vegas did not reach the requested precision, or when its Q is low;
:func:`spread_flags` when the yield computed from half the resolution of a stored grid (every other
x_f bin edge: ``x_interp``; every other scan energy of a flux fold: ``flux_interp``) differs by
more than a tolerance, so the interpolation between grid points may be off by more than the limit's
accuracy goal; :func:`warn_quality` turns the flagged points of a curve into one :class:`QualityWarning`.
"""

from __future__ import annotations

import warnings

import numpy as np

from lfvscan.schema import DONE, FAILED
from lfvscan.store.scandata import ScanData


class QualityWarning(UserWarning):
    """Yields built from cells vegas did not converge on, or with a suspicious Q."""


#: a cell with vegas Q (chi^2 probability of its final iterations' scatter) below this is flagged
#: "low_Q" (docs/physics.md §10.1): its final iterations scatter beyond their vegas errors (the
#: driver then scales the cell's error by sqrt(chi2/dof), docs/physics.md §7.12); with 1e-3 about one
#: honest cell in 1000 is flagged by chance (paper scan with the tail-weighted map: 31 of 1101 open
#: cells, which flags 56 of its 690 limit points; raise or lower it with ``--q-min``)
DEFAULT_Q_MIN = 1e-3
#: flag ``x_interp`` where the selected cross section from the tails at every other x_f bin edge
#: differs from the one from every edge by more than this fraction: the interpolation of the tails
#: converges at least quadratically with the bin width, so at every edge it is then within ~1/3 of
#: this (0.33 %) of the exact tail, inside the 0.5 % the limits aim at (docs/physics.md §10.1)
X_INTERP_TOLERANCE = 0.01
#: flag ``flux_interp`` where the flux fold on every other scan energy differs from the fold on every
#: energy by more than this fraction (near a production threshold within the top grid steps, where
#: the fold extrapolates; docs/physics.md §10.1)
FLUX_INTERP_TOLERANCE = 0.01
#: quality of a limit point whose every contributing cell is DONE, converged and has Q >= Q_min
QUALITY_OK = "ok"


def point_quality(scan: ScanData, t: int, js, q_min: float = DEFAULT_Q_MIN):
    """Per mass: (quality flag, smallest Q, largest chi2/dof) over the cells (target t, energies js)
    a yield point is built from (docs/physics.md §10.1).  Flags, joined with "+": "failed" / "missing"
    (a cell FAILED / not computed: N_hat is NaN), "unconverged" (vegas ran out of budget before
    rel_err, ``converged`` False), "low_Q" (``Q < q_min``); else :data:`QUALITY_OK`.  Closed cells
    (sigma = 0 exactly) count as fine.  Arrays the scan lacks are not checked."""
    js = np.atleast_1d(np.asarray(js, dtype=int))
    st = scan.status[t][js]
    nM = scan.masses_GeV.size
    open_ = (st == DONE) & ~(scan.closed[t][js] if "closed" in scan else np.zeros_like(st, bool))
    flags = [[] for _ in range(nM)]
    checks = [("failed", np.any(st == FAILED, axis=0)), ("missing", np.any((st != DONE) & (st != FAILED), axis=0))]
    if "converged" in scan:
        checks.append(("unconverged", np.any(open_ & ~scan.converged[t][js].astype(bool), axis=0)))
    q = np.where(open_, scan.Q[t][js], np.inf) if "Q" in scan else np.full(st.shape, np.inf)
    checks.append(("low_Q", np.any(q < q_min, axis=0)))
    for name, bad in checks:
        for k in np.nonzero(bad)[0]:
            flags[k].append(name)
    min_q = np.min(q, axis=0) if js.size else np.full(nM, np.inf)
    min_q = np.where(np.isfinite(min_q), min_q, np.nan)
    if "chi2_dof" in scan and js.size:
        max_chi2 = np.max(np.where(open_, scan.chi2_dof[t][js], -np.inf), axis=0)
        max_chi2 = np.where(np.isfinite(max_chi2), max_chi2, np.nan)
    else:
        max_chi2 = np.full(nM, np.nan)
    return tuple("+".join(f) if f else QUALITY_OK for f in flags), min_q, max_chi2


#: a half-resolution spread within this many MC errors of the value is not flagged: the grid
#: points the coarser grid leaves out carry MC noise of their own, so such a spread is noise, and a
#: discretisation error that small is inside the max(0.5 %, 2 sigma) the limits are checked against
SPREAD_NOISE_SIGMAS = 2.0


def spread_flags(value, coarse, tolerance: float, error=None) -> np.ndarray:
    """Per mass: whether ``coarse`` (the yield from every other point of a stored grid) differs from
    ``value`` (from every point) by more than ``tolerance`` relative to ``value`` and by more than
    :data:`SPREAD_NOISE_SIGMAS` MC errors ``error`` of ``value`` (None: no noise allowance).  A zero
    value is fine (the stored distribution has no events where the selection looks, exactly)."""
    value = np.asarray(value, dtype=float)
    coarse = np.asarray(coarse, dtype=float)
    noise = 0.0 if error is None else SPREAD_NOISE_SIGMAS * np.nan_to_num(np.asarray(error, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.abs(coarse - value)
        bad = (diff > tolerance * np.abs(value)) & (diff > noise)
    return np.isfinite(value) & (value != 0) & (bad | ~np.isfinite(coarse))


def add_flag(quality, name: str, bad) -> tuple:
    """``quality`` (per-mass flags) with ``name`` joined where ``bad`` is true."""
    def joined(q, b):
        if not b:
            return q
        return name if q == QUALITY_OK else f"{q}+{name}"
    return tuple(joined(q, bool(b)) for q, b in zip(quality, bad))


#: flags :func:`warn_quality` warns about (missing and failed cells have their own warning)
WARNED_FLAGS = ("unconverged", "low_Q", "x_interp", "flux_interp")


def warn_quality(key: str, masses, quality) -> None:
    """One :class:`QualityWarning` for curve ``key`` if any point's ``quality`` flag says
    unconverged or low-Q cells or a grid too coarse for the selection (first 20 points named)."""
    bad = [(m, q) for m, q in zip(masses, quality)
           if q != QUALITY_OK and any(f in q.split("+") for f in WARNED_FLAGS)]
    if bad:
        shown = ", ".join(f"{m:g} GeV ({q})" for m, q in bad[:20])
        more = f" and {len(bad) - 20} more" if len(bad) > 20 else ""
        warnings.warn(QualityWarning(f"{key}: {len(bad)} point(s) built from unconverged or low-Q cells or "
                                     f"interpolated beyond tolerance: m_a = {shown}{more}; flagged in the "
                                     f"quality column"), stacklevel=3)

