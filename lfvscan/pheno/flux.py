"""Binned muon flux for FASERnu2 (docs/physics.md §9.2, §10.1).

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

ROOT histograms (TH1) are converted to this format by :func:`flux_from_root` and
:func:`write_flux_csv` (``lfvscan flux FILE.root --mu-plus H1 --mu-minus H2 --out flux.csv``),
which need the optional ``uproot`` package (``pip install 'lfvscan[root]'``).  The conversion is
explicit rather than done behind ``load_flux`` so that the scale, the units and the histogram names
are written once, as provenance comments, into the CSV every later result cites.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from lfvscan.errors import UsageError
from lfvscan.util.textfile import read_text_and_bytes
from lfvscan.util.fileio import write_atomic

COLUMNS = ("E_low_GeV", "E_high_GeV", "mu_plus_per_fb", "mu_minus_per_fb")
DEFAULT_FLUX_FILE = "fpf_muon_flux_default.csv"
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
    for name in ("E_low_GeV", "E_high_GeV"):
        a = arrays[name]
        bad = np.nonzero(a <= 0)[0]
        if bad.size:
            raise UsageError(f"{source}: row {bad[0] + 1}: {name} = {_value_text(a[bad[0]])} must be > 0")
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


def default_flux_path() -> Path:
    return Path(str(resources.files("lfvscan") / "data" / DEFAULT_FLUX_FILE))


def load_flux(path: str | Path | None = None) -> MuonFlux:
    """Read and validate a flux CSV (default: the packaged stand-in).  Bad input raises
    :class:`UsageError` naming the file and the offending row/value."""
    p = Path(path) if path is not None else default_flux_path()
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


# ---------------------------------------------------------------------------------- ROOT input

#: x-axis units accepted for ROOT histograms, and their value in GeV
ENERGY_UNITS_GeV = {"MeV": 1e-3, "GeV": 1.0, "TeV": 1e3}


def _read_th1(root_file, name: str, src: str):
    """(contents, edges, underflow, overflow) of the 1-D histogram ``name`` in an open uproot file."""
    try:
        obj = root_file[name]
    except KeyError as exc:  # uproot.KeyInFileError is a KeyError
        hists = sorted({k.split(";")[0] for k, c in root_file.classnames().items() if c.startswith("TH1")})
        raise UsageError(f"ROOT file {src!r}: no histogram {name!r} (1-D histograms in the file: "
                         f"{', '.join(hists) or 'none'})") from exc
    classname = getattr(obj, "classname", type(obj).__name__)
    if not str(classname).startswith("TH1"):
        raise UsageError(f"ROOT file {src!r}: {name!r} is a {classname}, not a 1-D histogram (TH1)")
    flow = np.asarray(obj.values(flow=True), dtype=float)
    edges = np.asarray(obj.axis().edges(), dtype=float)
    return flow[1:-1], edges, float(flow[0]), float(flow[-1])


def flux_from_root(
    path: str | Path,
    *,
    mu_plus: str | None = None,
    mu_minus: str | None = None,
    total: str | None = None,
    scale: float = 1.0,
    energy_unit: str = "GeV",
    per_bin_width: bool = False,
) -> tuple[MuonFlux, list[str]]:
    """Build a :class:`MuonFlux` from TH1 histograms of a ROOT file (needs ``uproot``).

    Either ``mu_plus`` and ``mu_minus`` (one histogram per charge, identical binning) or ``total``
    (mu+ + mu-; split equally between the charges, which the yields never distinguish, §9.2).
    ``energy_unit``: unit of the histograms' x axis (MeV, GeV, TeV).  ``scale``: factor that turns
    the (bin-width-multiplied, if ``per_bin_width``) content into muons per fb^-1 through the
    detector face -- e.g. the face area in cm^2 for a histogram per cm^2, or 1/L for a histogram
    for an integrated luminosity L in fb^-1.  ``per_bin_width``: contents are densities per unit
    of the x axis (dN/dE); they are multiplied by the bin widths in that unit.

    Returns ``(flux, warnings)``; warnings name non-empty under/overflow bins, which the flux
    file cannot hold.  Bad input raises :class:`UsageError` naming the file, histogram or value.
    """
    src = str(path)
    by_charge = mu_plus is not None or mu_minus is not None
    if (total is not None) == by_charge or (by_charge and None in (mu_plus, mu_minus)):
        raise UsageError("give the histograms as --mu-plus NAME --mu-minus NAME, or as --total NAME")
    if energy_unit not in ENERGY_UNITS_GeV:
        raise UsageError(f"energy unit {energy_unit!r} unknown (choose from {', '.join(ENERGY_UNITS_GeV)})")
    scale = float(scale)
    if not (np.isfinite(scale) and scale > 0):
        raise UsageError(f"scale must be a positive finite number, got {scale!r}")
    try:
        import uproot
    except ImportError:
        raise UsageError("reading ROOT files needs uproot: pip install 'lfvscan[root]' (or pip install uproot)") from None
    if not Path(src).is_file():
        raise UsageError(f"ROOT file {src!r} not found")
    try:
        f = uproot.open(src)
    except Exception as exc:  # noqa: BLE001 - uproot raises many types for a non-ROOT file
        raise UsageError(f"ROOT file {src!r}: cannot open ({exc.__class__.__name__}: {exc})") from None
    with f:
        names = {"total": total} if total is not None else {"mu_plus": mu_plus, "mu_minus": mu_minus}
        hists = {key: _read_th1(f, name, src) for key, name in names.items()}
    edges = next(iter(hists.values()))[1]
    for key, (_, e, _, _) in hists.items():
        if e.shape != edges.shape or not np.allclose(e, edges, rtol=EDGE_RTOL, atol=0):
            raise UsageError(f"ROOT file {src!r}: histograms {', '.join(map(repr, names.values()))} "
                             "have different binnings")
    warnings_ = []
    counts = {}
    for key, (c, e, under, over) in hists.items():
        if under or over:
            warnings_.append(f"histogram {names[key]!r}: underflow {under:g} and overflow {over:g} are not in "
                             "the flux file (outside the binned energy range)")
        counts[key] = c * (np.diff(e) if per_bin_width else 1.0) * scale
    if total is not None:
        plus = minus = 0.5 * counts["total"]
    else:
        plus, minus = counts["mu_plus"], counts["mu_minus"]
    e_GeV = edges * ENERGY_UNITS_GeV[energy_unit]
    source = f"ROOT file {src!r}"
    validate_flux(e_GeV[:-1], e_GeV[1:], plus, minus, source=source)
    digest = hashlib.sha256(Path(src).read_bytes()).hexdigest()
    hist_text = (f"total = {total!r} (split equally between mu+ and mu-)" if total is not None
                 else f"mu_plus = {mu_plus!r}, mu_minus = {mu_minus!r}")
    comments = (
        f"converted from ROOT file {os.path.abspath(src)} (sha256 {digest})",
        f"histograms: {hist_text}",
        f"x axis in {energy_unit}; contents {'times bin width, ' if per_bin_width else ''}times scale {scale!r}",
        "columns: muons per fb^-1 through the detector face per energy bin (lfvscan.pheno.flux)",
    )
    flux = MuonFlux(e_GeV[:-1].copy(), e_GeV[1:].copy(), np.asarray(plus, float), np.asarray(minus, float),
                    source=src, comments=comments)
    return flux, warnings_


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


def summarize_flux(flux: MuonFlux) -> dict:
    """Totals and moments of a flux (per fb^-1; energies in GeV), for the ``lfvscan flux`` report."""
    tot = flux.total_per_fb
    centre = np.sqrt(flux.E_low_GeV * flux.E_high_GeV)  # log-centre of each bin
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
