"""Upper limits on the signal of a counting experiment with a known background (docs/physics.md §10.6).

A selection curve expects ``b`` background events; the number of signal events it excludes, N_req,
is the upper limit ``s_up`` on the signal mean at confidence level ``cl`` for the expected outcome
``n_obs = floor(b)`` (:func:`expected_n_obs`).  Methods (:data:`METHODS`):

* ``"fixed"``: N_req given as a number (``--n-req``, a curve's ``n_req``), zero background only;
  the behaviour of every experiment that declares no statistics.
* ``"poisson"``: the classical (Neyman) upper limit, P(n <= n_obs | s_up + b) = 1 - cl
  (PDG Review of Particle Physics, "Statistics", Poisson upper limits).
* ``"fc"``: Feldman-Cousins (Phys. Rev. D 57 (1998) 3873): acceptance regions in n ordered by the
  likelihood ratio P(n | s + b) / P(n | max(0, n - b) + b), s_up the largest s whose region holds n_obs
  (:mod:`lfvscan.pheno.feldman_cousins`, exact at any b).
* ``"cls"``: CLs = P(n <= n_obs | s + b) / P(n <= n_obs | b) = 1 - cl (Read 2002; the LHC's
  convention), computed exactly for one counting bin (pyhf's toy-based CLs tends to it).
* ``"sqrt-b"``: N_req = 2 sqrt(b), the criterion of the thesis text for the EIC and MuSIC (R. Marcarelli,
  PhD thesis, ch. 5, subsections "Combined Limits" of the EIC and of MuBeD/MuSIC: "To place 95% C.L.
  (2 sigma) limits ... we find the value of C/Lambda for which the number of expected signal events is
  N_sig = 2 sqrt(N_b.g.)"); b itself, not floor(b); no confidence level of its own (``cl`` is unused, as
  for "fixed").  It needs a background: b = 0 would require no signal at all, and the thesis's
  zero-background limit (MuBeD, same section) uses Feldman-Cousins instead (3.09, 95 %), so b = 0 is
  refused (UsageError) rather than silently switched to another method.

With b = 0 and n_obs = 0: poisson and cls give -ln(1 - cl) exactly (2.303 at 90 %, 2.996 at 95 %),
fc 2.44 (90 %) and 3.09 (95 %).  Poisson probabilities: :mod:`lfvscan.pheno.poisson` (accurate and
O(sqrt(b)) at any b).  Everything is numpy/math only (no scipy at run time).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from lfvscan.errors import UsageError
from lfvscan.pheno.feldman_cousins import fc_upper
from lfvscan.pheno.poisson import bisect_decreasing, poisson_cdf, poisson_upper

__all__ = ["METHODS", "CL_METHODS", "SQRT_B_FACTOR", "Statistics", "DEFAULT_STATISTICS", "expected_n_obs",
           "poisson_cdf", "poisson_upper", "fc_upper", "cls_upper", "sqrt_b_upper", "signal_upper_limit"]

#: limit methods: "fixed" (N_req given, zero background), "poisson", "fc", "cls", "sqrt-b" (module docstring)
METHODS = ("fixed", "poisson", "fc", "cls", "sqrt-b")
#: the methods that are upper limits at a confidence level ``cl`` (the others ignore it)
CL_METHODS = ("poisson", "fc", "cls")
#: k of the "sqrt-b" criterion N_req = k sqrt(b): the thesis text's 2 (its "95% C.L. (2 sigma)"); it states
#: no other factor, so this is not a setting
SQRT_B_FACTOR = 2.0


@dataclass(frozen=True)
class Statistics:
    """How a curve's N_req is obtained: ``method`` (one of :data:`METHODS`) and confidence level
    ``cl`` in (0, 1) (used by :data:`CL_METHODS` only).  Construction validates (UsageError naming the value)."""

    method: str
    cl: float

    def __post_init__(self):
        if self.method not in METHODS:
            raise UsageError(f"statistics must be one of {', '.join(METHODS)}, got {self.method!r}")
        if isinstance(self.cl, bool) or not isinstance(self.cl, (int, float)) or not 0.0 < self.cl < 1.0:
            raise UsageError(f"confidence level must be a number in (0, 1), got {self.cl!r}")

    @property
    def uses_cl(self) -> bool:
        """Whether ``cl`` enters N_req (False for "fixed" and "sqrt-b")."""
        return self.method in CL_METHODS

    def label(self) -> str:
        """``"fc 90% CL"``, ``"fixed N_req"`` or ``"sqrt-b (2 sqrt(b))"``."""
        if self.method == "fixed":
            return "fixed N_req"
        if self.method == "sqrt-b":
            return f"sqrt-b ({SQRT_B_FACTOR:g} sqrt(b))"
        return f"{self.method} {100 * self.cl:g}% CL"


#: today's behaviour: N_req given (default 3), zero background
DEFAULT_STATISTICS = Statistics("fixed", 0.9)


def expected_n_obs(background: float) -> int:
    """n_obs of the expected limit: floor(b) (docs/physics.md §10.6).  The thesis code evaluates its
    Feldman-Cousins interval at n_obs = b on an integer n grid, which is the limit at floor(b); it is
    also the median of Poisson(b) unless the fractional part of b exceeds about 2/3."""
    b = _check_background(background)
    return int(math.floor(b))


def _check_background(background) -> float:
    if isinstance(background, bool) or not isinstance(background, (int, float, np.floating, np.integer)):
        raise UsageError(f"background must be a number of events, got {background!r}")
    b = float(background)
    if not (b >= 0 and math.isfinite(b)):
        raise UsageError(f"background must be finite and >= 0 events, got {background!r}")
    return b


def cls_upper(n_obs: int, b: float, cl: float) -> float:
    """CLs upper limit: P(n <= n_obs | s + b) / P(n <= n_obs | b) = 1 - cl; for n_obs = 0 exactly -ln(1 - cl)."""
    if n_obs == 0:
        return -math.log1p(-cl)
    cl_b = poisson_cdf(n_obs, b)
    return bisect_decreasing(lambda s: poisson_cdf(n_obs, s + b) / cl_b, 1.0 - cl, 0.0, n_obs + 1.0)


def sqrt_b_upper(b: float) -> float:
    """N_req = :data:`SQRT_B_FACTOR` sqrt(b) [events], the thesis text's criterion (module docstring);
    UsageError for b = 0, where it would require no signal (the thesis uses Feldman-Cousins there)."""
    if b == 0.0:
        raise UsageError("statistics 'sqrt-b' (N_req = 2 sqrt(b), the thesis text's EIC/MuSIC criterion) needs a "
                         "background, got b = 0 events (it would need no signal); the thesis's zero-background "
                         "limits use Feldman-Cousins (3.09 at 95 %): choose fc, poisson or cls")
    return SQRT_B_FACTOR * math.sqrt(b)


_UPPER = {"poisson": poisson_upper, "fc": fc_upper, "cls": cls_upper}


def signal_upper_limit(statistics: Statistics, background: float) -> float:
    """N_req [events]: the upper limit on the signal mean for the expected outcome n_obs = floor(b)
    (:func:`expected_n_obs`) with ``statistics``, or 2 sqrt(b) for "sqrt-b" (:func:`sqrt_b_upper`).
    Not defined for "fixed" (UsageError)."""
    if statistics.method == "fixed":
        raise UsageError("statistics 'fixed' takes N_req as a number; choose poisson, fc, cls or sqrt-b for a "
                         "background")
    b = _check_background(background)
    if statistics.method == "sqrt-b":
        return sqrt_b_upper(b)
    return _upper_cached(statistics.method, expected_n_obs(b), b, float(statistics.cl))


@functools.lru_cache(maxsize=256)
def _upper_cached(method: str, n_obs: int, b: float, cl: float) -> float:
    return _UPPER[method](n_obs, b, cl)
