"""A deterministic cell stand-in that takes time: :func:`_scan_cells.cheap_cell` after a sleep.

For the real-SLURM chain test (``tests/slurm/test_slurm_jobs.py``): the scan must outlast a job's
walltime so that SLURM's warning signal interrupts it.  ``LFVSCAN_TEST_CELL_SECONDS`` (default 0)
is the sleep per open cell [s]; the results do not depend on it (they are those of cheap_cell,
deterministic in the cell's arguments and seed), so a serial scan with no sleep is the reference.
"""

from __future__ import annotations

import os
import time

from _scan_cells import cheap_cell


def slow_cell(target, energy_GeV, mass_GeV, **kwargs):
    """cheap_cell(target, energy_GeV, mass_GeV, **kwargs), after LFVSCAN_TEST_CELL_SECONDS of sleep."""
    time.sleep(float(os.environ.get("LFVSCAN_TEST_CELL_SECONDS", "0")))
    return cheap_cell(target, energy_GeV, mass_GeV, **kwargs)
