"""A stand-in cell function for the ``lfvscan run`` / export tests: :func:`_scan_cells.cheap_cell`,
except that the cell (Pb, 1000 GeV, lightest mass) raises while the file named by the environment
variable ``LFVSCAN_TEST_FAIL_MARKER`` exists.  A test makes a cell fail, then succeed on the
retry, by creating and deleting that file: the store's content changes at a known point."""

from __future__ import annotations

import os
from pathlib import Path

from _scan_cells import cheap_cell

FAIL_CELL = ("Pb", 1000.0, 2.0)


def flaky_cell(target, energy_GeV, mass_GeV, **kw):
    name = target if isinstance(target, str) else target.name
    marker = os.environ.get("LFVSCAN_TEST_FAIL_MARKER")
    if (name, float(energy_GeV), round(float(mass_GeV), 9)) == FAIL_CELL and marker and Path(marker).exists():
        raise RuntimeError(f"test failure while {marker} exists")
    return cheap_cell(target, energy_GeV, mass_GeV, **kw)
