"""Tuning of the vegas driver (:mod:`lfvscan.xsec.driver`) and its evaluation budget (docs/physics.md §7.12).

Kept apart from the driver so that a scan config can check a requested ``rel_err`` against the
budget (:func:`budget_problem`) without importing vegas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class VegasSettings:
    """Tuning of the vegas driver (not physics).

    Defaults chosen on the paper config's 1101 open cells (docs/scaling.md, docs/physics.md §7.12):
    with the theta_s and t maps of :mod:`lfvscan.xsec.integrand` one short adaptation on sigma_total
    suffices, and six short tail-weighted ones pay for themselves in the final iterations (five, or
    1000-point iterations, cost more evaluations in all or gave more cells with Q < 1e-3).

    The per-iteration and per-cell evaluation limits (``neval_max``, ``max_neval_total``) hold at
    ``budget_rel_err``; a smaller ``rel_err`` needs (budget_rel_err / rel_err)^2 times the
    evaluations, and both limits grow by that factor (:meth:`for_rel_err`) up to ``neval_ceiling``."""

    neval_adapt: int = 1500  #: evaluations per adaptation iteration
    #: 0: the frozen-map iterations are sized from the last adaptation iteration; > 0: a first
    #: frozen-map iteration of this many evaluations sizes the others and counts among them
    neval_pilot: int = 0
    n_adapt: int = 1  #: adaptation iterations on sigma_total (discarded)
    #: further adaptation iterations on the tail-weighted integrand f / max(C(x_f)/sigma, tail_min_fraction)
    #: with the tails C pooled from all the adaptation iterations before (docs/physics.md §7.12; discarded)
    n_adapt_tail: int = 6
    #: smallest upper-tail fraction C(x_f)/sigma whose relative error is controlled (and the floor of the
    #: tail weight); the 2 cm selection at 1 TeV keeps >= 1.5e-3 of sigma wherever its limit is g < 1
    #: (m_a <= 27 GeV), so 1e-3 covers it (measured on configs/paper.toml; 5e-4 cost 12 % more evaluations)
    tail_min_fraction: float = 1e-3
    #: relative-error target of every upper tail C >= tail_min_fraction sigma, in units of ``rel_err``
    tail_rel_factor: float = 3.0
    neval_min: int = 1500  #: minimum evaluations per final iteration
    neval_max: int = 400_000  #: maximum evaluations per final iteration at ``budget_rel_err``
    #: minimum number of final iterations (>= 2, for chi2; with ``neval_pilot`` > 0 the sizing one included)
    n_final_min: int = 3
    n_final_max: int = 60  #: maximum number of final iterations
    #: evaluation budget per cell at ``budget_rel_err`` (~90 times the paper config's median cell);
    #: reached only within ~1e-5 of the kinematic edge m_a^max, where the phase space is a sliver and
    #: sigma ~ 1e-12 of typical values; the result then has ``converged = False`` and its (honest,
    #: larger) error
    max_neval_total: int = 3_000_000
    #: relative error at which ``neval_max`` and ``max_neval_total`` hold (the default ``rel_err``)
    budget_rel_err: float = 0.005
    #: largest evaluation budget per cell a request may need (~40 min of one core at ~0.9e6
    #: evaluations per second, measured on benchmarks/precision_3e-4.toml); a ``rel_err``
    #: whose grown budget exceeds it is refused up front (:func:`budget_problem`)
    neval_ceiling: int = 2_000_000_000
    #: a final iteration after the first ``n_final_min`` has this many times the points still missing
    #: (total so far x (worst scaled error / target)^2 - 1), within [neval_min, neval_max]
    final_resize_margin: float = 1.2
    #: the first ``n_final_min`` frozen-map iterations have this share of the points that the sizing
    #: estimate (from ~1500 points) asks for; what is still missing after them is sized on all their
    #: points.  With the whole estimate the paper cells ended with (worst quoted error / target)^2
    #: = 0.70 on average, i.e. ~40 % more points than needed (docs/physics.md §7.12)
    first_sizing_fraction: float = 0.7
    alpha: float = 0.5  #: vegas grid damping
    maxinc_axis: int = 300  #: vegas map increments per axis

    def budget_factor(self, rel_err: float) -> float:
        """(budget_rel_err / rel_err)^2, at least 1: the growth of the evaluation limits at ``rel_err``."""
        return max(1.0, (self.budget_rel_err / float(rel_err)) ** 2)

    def __post_init__(self):
        if isinstance(self.n_final_min, bool) or not isinstance(self.n_final_min, int) or self.n_final_min < 2:
            raise ValueError(f"VegasSettings.n_final_min must be an integer >= 2 (chi2 needs two final "
                             f"iterations), got {self.n_final_min!r}")

    def for_rel_err(self, rel_err: float) -> "VegasSettings":
        """These settings with ``neval_max`` and ``max_neval_total`` grown for ``rel_err``
        (:meth:`budget_factor`); ValueError (:func:`budget_problem`) if the budget exceeds ``neval_ceiling``."""
        problem = budget_problem(rel_err, self)
        if problem:
            raise ValueError(problem)
        f = self.budget_factor(rel_err)
        return replace(self, neval_max=int(math.ceil(self.neval_max * f)),
                       max_neval_total=int(math.ceil(self.max_neval_total * f)))


DEFAULT_VEGAS = VegasSettings()


def budget_problem(rel_err: float, settings: VegasSettings = DEFAULT_VEGAS) -> str | None:
    """None if the evaluation budget ``rel_err`` needs is within ``settings.neval_ceiling``, else one
    line naming ``rel_err``, the budget it would need per cell and the smallest ``rel_err`` allowed."""
    need = settings.max_neval_total * settings.budget_factor(rel_err)
    if need <= settings.neval_ceiling:
        return None
    smallest = settings.budget_rel_err * math.sqrt(settings.max_neval_total / settings.neval_ceiling)
    return (f"rel_err = {rel_err:g} would need an evaluation budget of {need:.3g} per cell (max_neval_total "
            f"{settings.max_neval_total:.3g} x ({settings.budget_rel_err:g} / rel_err)^2), above the ceiling of "
            f"{settings.neval_ceiling:.3g} (VegasSettings.neval_ceiling); ask for rel_err >= {smallest:.2g}")
