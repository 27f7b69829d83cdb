"""The plan of a scan run: which cells to compute, in which order, with which seed.

Built once per run on rank 0 from the store's cell state (:func:`plan_tasks`):

* Retry rule (:func:`needs_attempt`): every cell not DONE is computed, FAILED cells only while
  ``attempts < max_attempts``; a Task carries its attempt number (1 for the first).
* Order: largest expected cost first (:func:`expected_cost`), so a slow cell never ends up last;
  kinematically closed cells cost ~0 and come last; equal costs keep grid order.  The cost is
  for scheduling only and never affects results.
* Seeds: :func:`cell_seed` (global seed, flat cell index) via numpy's SeedSequence, so results do
  not depend on the number of ranks, on the order or on interruptions.
* Suspects (cells a dead run may have died of, :mod:`lfvscan.scan.attribution`) are computed in
  isolation (:class:`Isolation`): each is handed out in a batch of its own and reported right
  after it (ALONE); the EXCLUSIVE ones (a last attempt whose death would fail the cell for good)
  are computed by rank 0 at the end of the run, with nothing else running, so such a death is
  certainly theirs.  Suspects keep their place in the cost order (put first, they would meet the
  same neighbours in every rerun).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from lfvscan.physics import reach
from lfvscan.spec.config import ScanConfig
from lfvscan.schema import FAILED, PENDING


def cell_seed(global_seed: int, flat_index: int) -> int:
    """Seed of one cell: SeedSequence([global seed, flat cell index]) -> uint32 (independent of N, order)."""
    return int(np.random.SeedSequence([int(global_seed), int(flat_index)]).generate_state(1, np.uint32)[0])


def expected_cost(energy_GeV: float, mass_GeV: float, m_max: float) -> float:
    """Relative cost of a cell for scheduling only (never affects results).

    Closed cells (m_a above the §7.1 reach ``m_max`` [GeV], :func:`lfvscan.physics.reach.max_mass_approx_GeV`)
    cost ~0; open cells cost more at higher energy and for masses closer to the reach (where the
    integrand is most peaked).
    """
    if mass_GeV >= m_max:
        return 1e-3
    return (1.0 + math.log(energy_GeV)) * (1.0 + mass_GeV / m_max)


def needs_attempt(status: int, attempts: int, max_attempts: int) -> bool:
    """Retry rule: PENDING cells, and FAILED cells while attempts < max_attempts."""
    return status == PENDING or (status == FAILED and attempts < max_attempts)


class Isolation(enum.IntEnum):
    """How a task is kept apart from other cells (suspects, :mod:`lfvscan.scan.attribution`)."""

    SHARED = 0  #: batched with other cells
    ALONE = 1  #: a suspect: computed in a batch of its own, its result reported at once
    EXCLUSIVE = 2  #: a suspect computed by rank 0 at the end of the run, nothing else running


@dataclass(frozen=True)
class Task:
    """One cell to compute."""

    index: tuple[int, int, int]
    target: str
    energy_GeV: float
    mass_GeV: float
    seed: int
    attempt: int  #: 1 for the first attempt
    cost: float = 0.0
    isolation: Isolation = Isolation.SHARED


def plan_tasks(config: ScanConfig, status: np.ndarray, attempts: np.ndarray, max_attempts: int,
               stop=None, suspects=()) -> list[Task]:
    """Cells to (re)compute, largest expected cost first (ties: grid order); the cells of
    ``suspects`` ((cell index, attempt, exclusive?)) are computed in isolation.

    ``stop`` (a :class:`lfvscan.scan.signals.StopFlag`, optional) is looked at once per (target,
    energy) row: planning a large grid takes seconds (a SeedSequence per cell), and a SIGTERM then
    must not wait for it.  A set flag returns no task at all (the scan then drains at once)."""
    energies, masses, names = config.energies_GeV, config.masses_GeV, config.target_names
    n_targets, n_energies, n_masses = config.shape
    tasks = []
    isolated = {tuple(int(v) for v in c): Isolation.EXCLUSIVE if excl else Isolation.ALONE for c, _, excl in suspects}
    pair = config.lepton_pair()
    for i in range(n_targets):
        for j in range(n_energies):
            if stop is not None and stop.is_set():
                return []
            m_max = float(reach.max_mass_approx_GeV(energies[j], pair=pair))  # once per energy, not per cell
            for k in range(n_masses):
                a = int(attempts[i, j, k])
                if needs_attempt(int(status[i, j, k]), a, max_attempts):
                    flat = (i * n_energies + j) * n_masses + k
                    tasks.append(
                        Task((i, j, k), names[i], energies[j], masses[k], cell_seed(config.seed, flat), a + 1,
                             expected_cost(energies[j], masses[k], m_max),
                             isolated.get((i, j, k), Isolation.SHARED))
                    )
    tasks.sort(key=lambda t: -t.cost)  # stable: grid order among equal costs
    return tasks
