"""Faulty stand-ins for compute_cell (issue 11 tests): each wraps tests/_scan_cells.cheap_cell and
breaks one property at the cells with m_a = 2 GeV (open at every energy of the small grid)."""

from __future__ import annotations

import dataclasses

from _scan_cells import cheap_cell


def _at_light(kw_mass, res, **changes):
    return dataclasses.replace(res, **changes) if kw_mass == 2.0 and not res.closed else res


def nan_sigma_cell(target, energy_GeV, mass_GeV, **kw):
    return _at_light(mass_GeV, cheap_cell(target, energy_GeV, mass_GeV, **kw), sigma_pb=float("nan"))


def negative_error_cell(target, energy_GeV, mass_GeV, **kw):
    return _at_light(mass_GeV, cheap_cell(target, energy_GeV, mass_GeV, **kw), sigma_err_pb=-1.0)


def unconverged_cell(target, energy_GeV, mass_GeV, **kw):
    return _at_light(mass_GeV, cheap_cell(target, energy_GeV, mass_GeV, **kw), converged=False)
