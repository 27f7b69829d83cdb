"""Binned muon flux for FASERnu2 (docs/physics.md §9.2, §10.1).

File format (CSV, ``#`` lines are comments kept as provenance), one row per energy bin::

    E_low_GeV,E_high_GeV,mu_plus_per_fb,mu_minus_per_fb
    0,20,6.6528e+05,1.8736e+06
    ...

``mu_plus_per_fb`` / ``mu_minus_per_fb`` are the numbers of mu+ / mu- crossing the detector face
in the bin per fb^-1 of 14 TeV pp collisions.  Bins must be contiguous (``E_high`` of a row equals
``E_low`` of the next, relative tolerance 1e-6), strictly increasing, with finite non-negative
counts; only the first bin may start at 0 GeV (as the FLUKA histograms do).

Named flux models (:data:`FLUX_MODELS`), each a CSV with a ``.md`` provenance file in
``lfvscan/data/``: ``"fluka-v2-slices"`` (the default, :data:`DEFAULT_FLUX_MODEL`: the FPF
FLUKA "v2" sample's fluence at the FASERnu2 face and its |x| < 100 cm slice spectra) and
``"stand-in-2024"`` (the earlier parametrised stand-in).  Wherever a flux file is named
(``flux_file`` in the experiments TOML, ``lfvscan limits --flux``, :func:`load_flux`) a model name
may be given instead of a path.

ROOT histograms (TH1, e.g. the FPF simulation's FLUKA slices) are converted to this format by
:func:`lfvscan.pheno.flux_root.flux_from_root` and :func:`write_flux_csv` (``lfvscan flux
FILE.root ... --out flux.csv``).  Energy loss inside the target is neglected and muons are taken
parallel to the axis (§9.2, [U]).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from lfvscan.errors import UsageError
from lfvscan.util.textfile import read_text_and_bytes
from lfvscan.util.fileio import write_atomic

COLUMNS = ("E_low_GeV", "E_high_GeV", "mu_plus_per_fb", "mu_minus_per_fb")
#: named flux models -> their CSV in lfvscan/data/ (each with a .md provenance file beside it)
FLUX_MODELS = {
    "fluka-v2-slices": "fpf_muon_flux_fluka_v2_slices.csv",
    "stand-in-2024": "fpf_muon_flux_stand_in_2024.csv",
}
#: the flux model FASERnu2 uses unless another is named (docs/physics.md §9.2)
DEFAULT_FLUX_MODEL = "fluka-v2-slices"
EDGE_RTOL = 1e-6


@dataclass(frozen=True)
class MuonFlux:
    """Binned muon spectrum through the detector face, per fb^-1 (docs/physics.md §9.2).

    Arrays of shape (nbins,): ``E_low_GeV``, ``E_high_GeV`` [GeV], ``mu_plus_per_fb``,
    ``mu_minus_per_fb`` [muons per fb^-1].  ``source``: file path; ``comments``: the file's
    ``#`` header lines; ``sha256``: hash of the bytes the flux was parsed from (provenance).
    """

    E_low_GeV: np.ndarray
    E_high_GeV: np.ndarray
    mu_plus_per_fb: np.ndarray
    mu_minus_per_fb: np.ndarray
    source: str = ""
    comments: tuple[str, ...] = ()
    sha256: str = ""

    @property
    def total_per_fb(self) -> np.ndarray:
        """mu+ + mu- per bin [per fb^-1]: the incident charge is not measured (§9.2)."""
        return self.mu_plus_per_fb + self.mu_minus_per_fb

    @property
    def edges_GeV(self) -> np.ndarray:
        return np.append(self.E_low_GeV, self.E_high_GeV[-1])


def _value_text(x) -> str:
    """A float as an error message shows it (repr: every digit)."""
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
            raise UsageError(f"{source}: row {bad[0] + 1}: {name} = {_value_text(a[bad[0]])} is not a finite number")
    # energies are positive; the first bin may start at 0 GeV (FLUKA histograms do)
    bad = np.nonzero(E_low < 0)[0]
    if bad.size:
        raise UsageError(f"{source}: row {bad[0] + 1}: E_low_GeV = {_value_text(E_low[bad[0]])} must be >= 0")
    bad = np.nonzero(E_low[1:] == 0)[0]
    if bad.size:
        raise UsageError(f"{source}: row {bad[0] + 2}: E_low_GeV = 0.0 must be > 0 (only the first bin may start at 0)")
    bad = np.nonzero(E_high <= 0)[0]
    if bad.size:
        raise UsageError(f"{source}: row {bad[0] + 1}: E_high_GeV = {_value_text(E_high[bad[0]])} must be > 0")
    bad = np.nonzero(E_high <= E_low)[0]
    if bad.size:
        i = bad[0]
        raise UsageError(f"{source}: row {i + 1}: E_high_GeV = {_value_text(E_high[i])} is not above E_low_GeV = {_value_text(E_low[i])}")
    for name in ("mu_plus_per_fb", "mu_minus_per_fb"):
        a = arrays[name]
        bad = np.nonzero(a < 0)[0]
        if bad.size:
            raise UsageError(f"{source}: row {bad[0] + 1}: {name} = {_value_text(a[bad[0]])} is negative")
    if n > 1:
        gap = np.abs(E_low[1:] - E_high[:-1]) > EDGE_RTOL * E_high[:-1]
        bad = np.nonzero(gap)[0]
        if bad.size:
            i = bad[0]
            kind = "gap" if E_low[i + 1] > E_high[i] else "overlap"
            raise UsageError(
                f"{source}: row {i + 2}: E_low_GeV = {_value_text(E_low[i + 1])} does not continue row {i + 1}'s "
                f"E_high_GeV = {_value_text(E_high[i])} ({kind} between bins)"
            )


def flux_model_path(name: str) -> Path:
    """The packaged CSV of the named flux model (:data:`FLUX_MODELS`); UsageError naming ``name``."""
    if name not in FLUX_MODELS:
        raise UsageError(f"unknown flux model {name!r} (known: {', '.join(FLUX_MODELS)})")
    return Path(str(resources.files("lfvscan") / "data" / FLUX_MODELS[name]))


def default_flux_path() -> Path:
    """The packaged CSV of :data:`DEFAULT_FLUX_MODEL`."""
    return flux_model_path(DEFAULT_FLUX_MODEL)


def resolve_flux(spec: str | Path | None) -> Path:
    """A flux file from a model name (:data:`FLUX_MODELS`) or a path; None: the default model."""
    if spec is None:
        return default_flux_path()
    return flux_model_path(str(spec)) if str(spec) in FLUX_MODELS else Path(spec)


def load_flux(path: str | Path | None = None) -> MuonFlux:
    """Read and validate a flux CSV: a path, a flux model name (:data:`FLUX_MODELS`) or None (the
    default model).  Bad input raises :class:`UsageError` naming the file and the offending row/value."""
    p = resolve_flux(path)
    src = str(p)
    text, raw = read_text_and_bytes(p, "flux file")
    comments = tuple(line[1:].strip() for line in text.splitlines() if line.lstrip().startswith("#"))
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise UsageError(f"flux file {src!r}: empty")
    rows = list(csv.reader(lines))
    header = tuple(h.strip() for h in rows[0])
    if header != COLUMNS:
        # the header is not quoted back: the file may be anything (a --set flux_file pointing elsewhere)
        known = [c for c in header if c.strip() in COLUMNS]
        raise UsageError(f"flux file {src!r}: its first line is not the header {','.join(COLUMNS)!r} "
                         f"({len(header)} field(s), {len(known)} of them known); is it a flux CSV?")
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
    return MuonFlux(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], source=src, comments=comments,
                    sha256=hashlib.sha256(raw).hexdigest())


def write_flux_csv(flux: MuonFlux, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``flux`` in the CSV format of this module, its ``comments`` as ``#`` lines.

    Floats are written with ``repr`` (exact round trip through :func:`load_flux`).  The file is
    written to a temporary name and renamed; an existing file is refused unless ``overwrite``.
    """
    p = Path(path)
    if p.exists() and not overwrite:
        raise UsageError(f"{str(p)!r} exists; choose another --out or pass --force")
    validate_flux(flux.E_low_GeV, flux.E_high_GeV, flux.mu_plus_per_fb, flux.mu_minus_per_fb, source="flux")
    lines = [f"# {c}" for c in flux.comments] + [",".join(COLUMNS)]
    lines += [",".join(repr(float(v)) for v in row)
              for row in zip(flux.E_low_GeV, flux.E_high_GeV, flux.mu_plus_per_fb, flux.mu_minus_per_fb)]
    return write_atomic(p, "\n".join(lines) + "\n")


def bin_mean_energies_GeV(flux: MuonFlux) -> np.ndarray:
    """Mean energy [GeV] in each bin for the within-bin distribution the fold assumes
    (docs/physics.md §10.1): uniform in ln E, (b - a) / ln(b / a); a bin starting at 0, uniform in E, b / 2."""
    a, b = flux.E_low_GeV, flux.E_high_GeV
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, (b - a) / np.log(b / np.where(a > 0, a, 1.0)), 0.5 * b)


def summarize_flux(flux: MuonFlux) -> dict:
    """Totals and moments of a flux (per fb^-1; energies in GeV), for the ``lfvscan flux`` report.
    The mean energy uses :func:`bin_mean_energies_GeV` (the fold's within-bin distribution)."""
    tot = flux.total_per_fb
    centre = bin_mean_energies_GeV(flux)
    n = float(tot.sum())
    return {
        "source": flux.source,
        "n_bins": int(len(tot)),
        "E_min_GeV": float(flux.E_low_GeV[0]),
        "E_max_GeV": float(flux.E_high_GeV[-1]),
        "mu_plus_per_fb": float(flux.mu_plus_per_fb.sum()),
        "mu_minus_per_fb": float(flux.mu_minus_per_fb.sum()),
        "mean_energy_GeV": float((centre * tot).sum() / n) if n > 0 else float("nan"),
        "fraction_above_1TeV": float(tot[flux.E_low_GeV >= 1000.0].sum() / n) if n > 0 else float("nan"),
    }
