"""Binned muon flux for FASERnu2 (physics.md §9.2, §10.1).

File format (CSV, ``#`` lines are comments kept as provenance), one row per energy bin::

    E_low_GeV,E_high_GeV,mu_plus_per_fb,mu_minus_per_fb
    10,12.82,6.064e+05,5.553e+05
    ...

``mu_plus_per_fb`` / ``mu_minus_per_fb`` are the numbers of mu+ / mu- crossing the detector face
in the bin per fb^-1 of 14 TeV pp collisions.  Bins must be contiguous (``E_high`` of a row equals
``E_low`` of the next, relative tolerance 1e-6), strictly increasing, with finite non-negative
counts.  The default file ``lfvscan/data/fpf_muon_flux_default.csv`` is a documented stand-in for
the FLUKA prediction (see its ``.md``).

Using the official FLUKA histograms: for each energy bin sum the mu+ and the mu- crossing the
FASERnu2 face (40 x 40 cm^2 by default) and normalise to one fb^-1; write the four columns above
(any number of bins, GeV).  A histogram given per cm^2 must be multiplied by the face area; one
given per unit energy must be multiplied by the bin width.  Energy loss inside the target is
neglected and muons are taken parallel to the axis (§9.2, [U]).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from .errors import UsageError

COLUMNS = ("E_low_GeV", "E_high_GeV", "mu_plus_per_fb", "mu_minus_per_fb")
DEFAULT_FLUX_FILE = "fpf_muon_flux_default.csv"
EDGE_RTOL = 1e-6


@dataclass(frozen=True)
class MuonFlux:
    """Binned muon spectrum through the detector face, per fb^-1 (physics.md §9.2).

    Arrays of shape (nbins,): ``E_low_GeV``, ``E_high_GeV`` [GeV], ``mu_plus_per_fb``,
    ``mu_minus_per_fb`` [muons per fb^-1].  ``source``: file path; ``comments``: the file's
    ``#`` header lines (provenance).
    """

    E_low_GeV: np.ndarray
    E_high_GeV: np.ndarray
    mu_plus_per_fb: np.ndarray
    mu_minus_per_fb: np.ndarray
    source: str = ""
    comments: tuple[str, ...] = ()

    @property
    def total_per_fb(self) -> np.ndarray:
        """mu+ + mu- per bin [per fb^-1]: the incident charge is not measured (§9.2)."""
        return self.mu_plus_per_fb + self.mu_minus_per_fb

    @property
    def edges_GeV(self) -> np.ndarray:
        return np.append(self.E_low_GeV, self.E_high_GeV[-1])


def _v(x) -> str:
    return repr(float(x))


def validate_flux(E_low, E_high, mu_plus, mu_minus, source: str = "flux") -> None:
    """Raise :class:`UsageError` naming the first bad row (1-based data row) or value."""
    arrays = {"E_low_GeV": E_low, "E_high_GeV": E_high, "mu_plus_per_fb": mu_plus, "mu_minus_per_fb": mu_minus}
    n = len(E_low)
    if n == 0:
        raise UsageError(f"{source}: no data rows")
    for name, a in arrays.items():
        bad = np.nonzero(~np.isfinite(a))[0]
        if bad.size:
            raise UsageError(f"{source}: row {bad[0] + 1}: {name} = {_v(a[bad[0]])} is not a finite number")
    for name in ("E_low_GeV", "E_high_GeV"):
        a = arrays[name]
        bad = np.nonzero(a <= 0)[0]
        if bad.size:
            raise UsageError(f"{source}: row {bad[0] + 1}: {name} = {_v(a[bad[0]])} must be > 0")
    bad = np.nonzero(E_high <= E_low)[0]
    if bad.size:
        i = bad[0]
        raise UsageError(f"{source}: row {i + 1}: E_high_GeV = {_v(E_high[i])} is not above E_low_GeV = {_v(E_low[i])}")
    for name in ("mu_plus_per_fb", "mu_minus_per_fb"):
        a = arrays[name]
        bad = np.nonzero(a < 0)[0]
        if bad.size:
            raise UsageError(f"{source}: row {bad[0] + 1}: {name} = {_v(a[bad[0]])} is negative")
    if n > 1:
        gap = np.abs(E_low[1:] - E_high[:-1]) > EDGE_RTOL * E_high[:-1]
        bad = np.nonzero(gap)[0]
        if bad.size:
            i = bad[0]
            kind = "gap" if E_low[i + 1] > E_high[i] else "overlap"
            raise UsageError(
                f"{source}: row {i + 2}: E_low_GeV = {_v(E_low[i + 1])} does not continue row {i + 1}'s "
                f"E_high_GeV = {_v(E_high[i])} ({kind} between bins)"
            )


def default_flux_path() -> Path:
    return Path(str(resources.files("lfvscan") / "data" / DEFAULT_FLUX_FILE))


def load_flux(path: str | Path | None = None) -> MuonFlux:
    """Read and validate a flux CSV (default: the packaged stand-in).  Bad input raises
    :class:`UsageError` naming the file and the offending row/value."""
    p = Path(path) if path is not None else default_flux_path()
    src = str(p)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise UsageError(f"flux file {src!r} not found") from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise UsageError(f"flux file {src!r}: cannot read ({exc.__class__.__name__})") from None
    comments = tuple(line[1:].strip() for line in text.splitlines() if line.lstrip().startswith("#"))
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise UsageError(f"flux file {src!r}: empty")
    rows = list(csv.reader(lines))
    header = tuple(h.strip() for h in rows[0])
    if header != COLUMNS:
        raise UsageError(f"flux file {src!r}: columns {','.join(header)!r}, expected {','.join(COLUMNS)!r}")
    data = []
    for i, row in enumerate(rows[1:], start=1):
        if len(row) != 4:
            raise UsageError(f"flux file {src!r}: row {i}: expected 4 values, got {len(row)}")
        vals = []
        for name, cell in zip(COLUMNS, row):
            try:
                vals.append(float(cell))
            except ValueError:
                raise UsageError(f"flux file {src!r}: row {i}: {name} = {cell.strip()!r} is not a number") from None
        data.append(vals)
    arr = np.array(data, dtype=float).reshape(-1, 4)
    validate_flux(*arr.T, source=f"flux file {src!r}")
    return MuonFlux(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], source=src, comments=comments)
