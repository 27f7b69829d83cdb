"""chi^2 survival probability for an integer number of degrees of freedom, in closed form.

Used for the Q value of the vegas iterations of a cell (:mod:`lfvscan.xsec`).  ``scipy.special``
would do, but importing it costs ~0.2 s in every MPI rank and every CLI call; for integer
``dof = k`` the regularised upper incomplete gamma function Q(k/2, x/2) is a finite sum
(Abramowitz & Stegun 26.4.4-26.4.5):

    k even:  Q = exp(-x/2) sum_{j=0}^{k/2-1} (x/2)^j / j!
    k odd:   Q = erfc(sqrt(x/2)) + exp(-x/2) sum_{j=1}^{(k-1)/2} (x/2)^(j-1/2) / Gamma(j+1/2)

Each term is summed from its logarithm (``lgamma``), so nothing overflows for large x or k.
"""

from __future__ import annotations

import math


def chi2_survival(dof: int, chi2: float) -> float:
    """P(chi^2_dof >= chi2) for integer ``dof >= 1`` and ``chi2 >= 0`` (dimensionless)."""
    if isinstance(dof, bool) or int(dof) != dof or dof < 1:
        raise ValueError(f"dof must be a positive integer, got {dof!r}")
    x = float(chi2)
    if not (x >= 0.0):  # also catches nan
        raise ValueError(f"chi2 must be >= 0, got {chi2!r}")
    k = int(dof)
    if x == 0.0:
        return 1.0
    h = 0.5 * x
    log_h = math.log(h)
    if k % 2 == 0:
        total = sum(math.exp(-h + j * log_h - math.lgamma(j + 1.0)) for j in range(k // 2))
    else:
        total = math.erfc(math.sqrt(h)) + sum(
            math.exp(-h + (j - 0.5) * log_h - math.lgamma(j + 0.5)) for j in range(1, (k - 1) // 2 + 1)
        )
    return min(total, 1.0)
