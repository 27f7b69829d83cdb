"""ROOT histograms (TH1) -> muon flux per fb^-1 through the detector face (docs/physics.md §9.2).

:func:`flux_from_root` reads one or several 1-D histograms per charge (needs the optional
``uproot`` package, ``pip install 'lfvscan[root]'``), combines several histograms of a charge (the
FPF simulation's 100 cm slices in x) by their average or their sum, and turns their contents into
muons per fb^-1 through the detector face per energy bin::

    N_k = c_k * [Delta E_k] * [A] * [1e39 / L] * scale

with ``c_k`` the (combined) content, ``Delta E_k`` the bin width in the x-axis unit (contents per
unit energy, ``per_bin_width``), ``A`` the face area [cm^2] (contents per cm^2, ``per_cm2``) and
``1e39 / L`` [s] the time to integrate 1 fb^-1 = 1e39 cm^-2 at the instantaneous luminosity L
[cm^-2 s^-1] (contents per second, ``per_second_at``).  ``scale`` is any further factor.  Each
factor is written once into the CSV's comments, which every later result cites.

The FPF simulation's FLUKA muon flux (FPFSoftware/FPFSim, ``backgrounds/muons/``): directories
``mu_plus/`` and ``mu_minus/``, histograms ``h_<xlow>_<xhigh>`` per 100 cm slice in x, 20 GeV bins
from 0 to 4.5 TeV, contents in muons GeV^-1 cm^-2 s^-1 at L = 5e34 cm^-2 s^-1.  The FASERnu2 face
(40 x 40 cm at the line of sight) lies in the slices ``h_-100_0`` and ``h_0_100``::

    lfvscan flux fpf_muons.root --mu-plus mu_plus/h_-100_0 mu_plus/h_0_100 \\
        --mu-minus mu_minus/h_-100_0 mu_minus/h_0_100 --per-bin-width --per-cm2 1600 \\
        --per-second-at 5e34 --out fpf_flux.csv
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from lfvscan.errors import UsageError
from lfvscan.pheno.flux import EDGE_RTOL, MuonFlux, validate_flux

#: x-axis units accepted for ROOT histograms, and their value in GeV
ENERGY_UNITS_GeV = {"MeV": 1e-3, "GeV": 1.0, "TeV": 1e3}
#: how several histograms of one charge combine: "average" (densities, e.g. per cm^2 slices of
#: equal width) or "sum" (counts of disjoint regions)
COMBINE_MODES = ("average", "sum")
#: cm^-2 in one fb^-1: integrating 1 fb^-1 at L [cm^-2 s^-1] takes FB_INV_CM2 / L seconds
FB_INV_CM2 = 1e39


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


def _names(value) -> tuple[str, ...]:
    """Histogram names from None, one name or a sequence of names."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _positive_or_none(what: str, value) -> float | None:
    if value is None:
        return None
    v = float(value)
    if not (np.isfinite(v) and v > 0):
        raise UsageError(f"{what} must be a positive finite number, got {value!r}")
    return v


def _check_options(names: dict, combine: str, energy_unit: str, scale, per_cm2, per_second_at):
    """Validate the options of :func:`flux_from_root` (UsageError naming the bad one); returns the
    floats (scale, per_cm2, per_second_at)."""
    by_charge = bool(names["mu_plus"] or names["mu_minus"])
    if bool(names["total"]) == by_charge or (by_charge and not (names["mu_plus"] and names["mu_minus"])):
        raise UsageError("give the histograms as --mu-plus NAME... --mu-minus NAME..., or as --total NAME...")
    if combine not in COMBINE_MODES:
        raise UsageError(f"combine {combine!r} unknown (choose from {', '.join(COMBINE_MODES)})")
    if energy_unit not in ENERGY_UNITS_GeV:
        raise UsageError(f"energy unit {energy_unit!r} unknown (choose from {', '.join(ENERGY_UNITS_GeV)})")
    scale_f = _positive_or_none("scale", scale)
    if scale_f is None:
        raise UsageError(f"scale must be a positive finite number, got {scale!r}")
    return scale_f, _positive_or_none("per_cm2 (face area in cm^2)", per_cm2), \
        _positive_or_none("per_second_at (luminosity in cm^-2 s^-1)", per_second_at)


def _read_all(src: str, names: dict) -> dict:
    """{name: (contents, edges, under, over)} of every histogram named in ``names`` (one binning)."""
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
        hists = {name: _read_th1(f, name, src) for group in names.values() for name in group}
    edges = next(iter(hists.values()))[1]
    for e in (h[1] for h in hists.values()):
        if e.shape != edges.shape or not np.allclose(e, edges, rtol=EDGE_RTOL, atol=0):
            raise UsageError(f"ROOT file {src!r}: histograms {', '.join(map(repr, hists))} have different binnings")
    return hists


def _factor_text(energy_unit, per_bin_width, per_cm2, per_second_at, scale) -> str:
    """The conversion of the contents, as the CSV comment states it."""
    parts = []
    if per_bin_width:
        parts.append(f"times bin width [{energy_unit}] (contents per {energy_unit})")
    if per_cm2 is not None:
        parts.append(f"times face area {per_cm2!r} cm^2 (contents per cm^2)")
    if per_second_at is not None:
        parts.append(f"times 1e39 / L = {FB_INV_CM2 / per_second_at!r} s per fb^-1 at L = {per_second_at!r} "
                     "cm^-2 s^-1 (contents per second)")
    parts.append(f"times scale {scale!r}")
    return "contents " + ", ".join(parts)


def flux_from_root(
    path: str | Path,
    *,
    mu_plus=None,
    mu_minus=None,
    total=None,
    combine: str = "average",
    scale: float = 1.0,
    energy_unit: str = "GeV",
    per_bin_width: bool = False,
    per_cm2: float | None = None,
    per_second_at: float | None = None,
) -> tuple[MuonFlux, list[str]]:
    """Build a :class:`~lfvscan.pheno.flux.MuonFlux` from TH1 histograms of a ROOT file.

    ``mu_plus`` and ``mu_minus``: one name or a list of names per charge (all with one binning), or
    ``total``: mu+ + mu- (split equally between the charges, which the yields never distinguish,
    §9.2).  Several histograms of a charge combine by ``combine`` ("average" or "sum").
    ``energy_unit``: unit of the x axis (MeV, GeV, TeV).  The contents become muons per fb^-1
    through the detector face by the factors of the module docstring: ``per_bin_width`` (densities
    per unit of the x axis), ``per_cm2`` (face area [cm^2] for densities per cm^2),
    ``per_second_at`` (instantaneous luminosity [cm^-2 s^-1] for rates per second) and ``scale``.
    A first bin starting at 0 GeV is kept (the fold reports the muons below the scan as unused).

    Returns ``(flux, warnings)``; warnings name non-empty under/overflow bins, which the flux file
    cannot hold.  Bad input raises :class:`UsageError` naming the file, histogram or value.
    """
    src = str(path)
    names = {"mu_plus": _names(mu_plus), "mu_minus": _names(mu_minus), "total": _names(total)}
    scale, per_cm2, per_second_at = _check_options(names, combine, energy_unit, scale, per_cm2, per_second_at)
    hists = _read_all(src, {k: v for k, v in names.items() if v})
    edges = next(iter(hists.values()))[1]
    warnings_ = [f"histogram {name!r}: underflow {under:g} and overflow {over:g} are not in the flux file "
                 "(outside the binned energy range)" for name, (_, _, under, over) in hists.items() if under or over]
    factor = (np.diff(edges) if per_bin_width else 1.0) * scale
    factor = factor * (per_cm2 if per_cm2 is not None else 1.0)
    factor = factor * (FB_INV_CM2 / per_second_at if per_second_at is not None else 1.0)
    counts = {}
    for key, group in names.items():
        if group:
            stacked = np.sum([hists[n][0] for n in group], axis=0)
            counts[key] = (stacked / len(group) if combine == "average" else stacked) * factor
    if names["total"]:
        plus = minus = 0.5 * counts["total"]
    else:
        plus, minus = counts["mu_plus"], counts["mu_minus"]
    e_GeV = edges * ENERGY_UNITS_GeV[energy_unit]
    validate_flux(e_GeV[:-1], e_GeV[1:], plus, minus, source=f"ROOT file {src!r}")
    digest = hashlib.sha256(Path(src).read_bytes()).hexdigest()
    hist_text = "; ".join(f"{key} = {', '.join(map(repr, group))}" for key, group in names.items() if group)
    if names["total"]:
        hist_text += " (split equally between mu+ and mu-)"
    comments = (
        f"converted from ROOT file {os.path.abspath(src)} (sha256 {digest})",
        f"histograms: {hist_text}; several per charge combined by their {combine}",
        f"x axis in {energy_unit}; {_factor_text(energy_unit, per_bin_width, per_cm2, per_second_at, scale)}",
        "columns: muons per fb^-1 through the detector face per energy bin (lfvscan.pheno.flux)",
    )
    flux = MuonFlux(e_GeV[:-1].copy(), e_GeV[1:].copy(), np.asarray(plus, float), np.asarray(minus, float),
                    source=src, comments=comments)
    return flux, warnings_
