"""Exclusion limits g_lim(m_a) = sqrt(N_req / N_hat) (docs/physics.md §10.4).

Zero background is assumed for every projected curve [P].  ``N_req`` defaults to 3 (about 95 % CL
for a Poisson process with no background, [U]); 2.3 (90 % CL) is the usual alternative.  The limit
is exact because N is proportional to g^2 (prompt ALP decays, fixed branching ratios).

Special values: ``N_hat = 0`` (cut removes everything, mass above the kinematic reach) gives an
infinite limit, reported as ``inf`` in CSV and as the string ``"inf"`` in JSON; a mass whose cells
are not all computed gives NaN, reported as ``nan`` in CSV and ``null`` in JSON.

Output files carry their provenance in the header: lfvscan version, UTC time, N_req, the
experiments configuration (and its sha256), the scan's attributes (config, config hash) and a
sha256 of the scan arrays used.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lfvscan import __version__
from lfvscan.errors import UsageError
from lfvscan.pheno.statistics import DEFAULT_STATISTICS, Statistics, signal_upper_limit
from lfvscan.util.textfile import read_text
from lfvscan.pheno.yields import CurveYield
from lfvscan.schema import RESULT_FIELDS

#: default number of signal events required for exclusion (docs/physics.md §10.4, [U])
DEFAULT_N_REQ = 3.0

CSV_COLUMNS = (
    ("experiment", ""),
    ("curve", ""),
    ("scenario", ""),
    ("mass_GeV", "GeV"),
    ("n_hat", "events at g=1"),
    ("n_hat_err", "events at g=1"),
    ("g_lim", "1"),
    ("g_lim_err", "1"),
    ("quality", ""),
)
#: numeric columns (read back as floats by :func:`read_limits_csv`)
NUMERIC_COLUMNS = ("mass_GeV", "n_hat", "n_hat_err", "g_lim", "g_lim_err")
#: columns appended with ``--axis C/Lambda`` (docs/physics.md §2.7): the limit on C/Lambda in the
#: thesis's exact-mass convention, its MC error, the Eq. (3) reading, and theta / convention of g
EFT_CSV_COLUMNS = (
    ("C_over_Lambda_lim", "GeV^-1"),
    ("C_over_Lambda_lim_err", "GeV^-1"),
    ("C_over_Lambda_eq3_lim", "GeV^-1"),
    ("theta", "rad"),
    ("g_convention", ""),
)


def check_n_req(n_req) -> float:
    try:
        v = float(n_req)
    except (TypeError, ValueError):
        raise UsageError(f"N_req must be a number, got {n_req!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise UsageError(f"N_req must be positive and finite, got {n_req!r}")
    return v


def g_limit(n_hat, n_req=DEFAULT_N_REQ):
    """g_lim = sqrt(N_req / N_hat) (docs/physics.md §10.4); inf where N_hat == 0, NaN where N_hat is NaN."""
    n_req = check_n_req(n_req)
    n_hat = np.asarray(n_hat, dtype=float)
    if np.any(n_hat < 0):
        raise ValueError(f"negative N_hat {n_hat[n_hat < 0][0]!r}")
    with np.errstate(divide="ignore"):
        return np.sqrt(n_req / n_hat)


@dataclass(frozen=True)
class CurveLimit:
    """Limit for one curve; ``g_lim_err`` = g_lim * n_hat_err / (2 n_hat) (MC error)."""

    yields: CurveYield
    n_req: float
    g_lim: np.ndarray
    g_lim_err: np.ndarray
    statistics: Statistics = DEFAULT_STATISTICS
    #: the limit on C/Lambda (:class:`lfvscan.pheno.eft_axis.EftLimit`) with ``--axis C/Lambda``, else None
    eft: object | None = None

    @property
    def key(self) -> str:
        return self.yields.key

    @property
    def masses_GeV(self) -> np.ndarray:
        return self.yields.masses_GeV


def curve_statistics(y: CurveYield, statistics: Statistics) -> Statistics:
    """The statistics of curve ``y``: its own method / CL where set, else ``statistics``."""
    return Statistics(y.statistics or statistics.method, statistics.cl if y.cl is None else y.cl)


def curve_n_req(y: CurveYield, n_req: float, statistics: Statistics) -> tuple[float, Statistics]:
    """(N_req, statistics) of curve ``y`` (docs/physics.md §10.4, §10.6): with method "fixed" the
    curve's own ``n_req`` or ``n_req`` (zero background only, else UsageError); otherwise the
    upper limit on the signal for the expected outcome with the curve's background."""
    st = curve_statistics(y, statistics)
    if st.method == "fixed":
        if y.background > 0:
            raise UsageError(f"{y.key}: background {y.background:g} events needs statistics poisson, fc, cls or "
                             f"sqrt-b (--statistics, or the experiment's statistics key), not a fixed N_req")
        return (n_req if y.n_req is None else check_n_req(y.n_req)), st  # a curve's own N_req wins
    try:
        return signal_upper_limit(st, y.background), st
    except UsageError as exc:
        raise UsageError(f"{y.key}: {exc}") from None


def compute_limits(yields: list[CurveYield], n_req=DEFAULT_N_REQ,
                   statistics: Statistics = DEFAULT_STATISTICS) -> list[CurveLimit]:
    """Limits for each curve: N_req from :func:`curve_n_req` (``n_req`` or the curve's own
    ``CurveYield.n_req`` with the "fixed" method, e.g. 2.44 of the published visible analysis,
    docs/physics.md §10.3; else the ``statistics`` upper limit with the curve's background, §10.6)."""
    n_req = check_n_req(n_req)
    out = []
    for y in yields:
        n, st = curve_n_req(y, n_req, statistics)
        g = g_limit(y.n_hat, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            gerr = np.where(y.n_hat > 0, g * y.n_hat_err / (2 * y.n_hat), np.nan)
        out.append(CurveLimit(yields=y, n_req=n, g_lim=g, g_lim_err=gerr, statistics=st))
    return out


def scan_hash(scan) -> str:
    """sha256 over what a scan's results are: coordinates, ``status``, every schema result array
    (raw bytes, dtype and shape) and theta/convention.  Written into every limits file
    (``store_arrays_sha256``) and the key by which ``lfvscan run`` decides what is stale."""
    h = hashlib.sha256()
    h.update(repr((tuple(scan.targets), float(scan.theta), str(scan.convention))).encode())
    arrays = {"energies_GeV": scan.energies_GeV, "masses_GeV": scan.masses_GeV, "x_f_edges": scan.x_f_edges,
              "status": scan.status}
    arrays.update({f.name: scan[f.name] for f in RESULT_FIELDS if f.name in scan})
    for name, a in arrays.items():
        a = np.ascontiguousarray(a)
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def provenance(scan, experiments, n_req, store_path=None, extra=None) -> dict:
    """Provenance block written into every output file."""
    from lfvscan.pheno.experiments import config_hash

    attrs = {k: v for k, v in (scan.attrs or {}).items()}
    return {
        "lfvscan_version": __version__,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "store": str(store_path) if store_path is not None else None,
        "store_arrays_sha256": scan_hash(scan),
        "store_attrs": attrs,
        "scan_theta": scan.theta,
        "scan_convention": scan.convention,
        "n_req": n_req,
        "n_req_meaning": "signal events required for exclusion, zero background (docs/physics.md §10.4)",
        "experiments_sha256": config_hash(experiments),
        "experiments": {k: e.to_dict() for k, e in experiments.items()},
        **(extra or {}),
    }


def _fmt(v) -> str:
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf"
    return f"{v:.8g}"


def _quality(y: CurveYield, i: int) -> str:
    return y.quality[i] if y.quality else "ok"


def limits_csv(limits: list[CurveLimit], prov: dict) -> str:
    """CSV text: ``#`` header with units and provenance (JSON, one line per key), then rows.  Curves
    recombined at a chosen theta (docs/physics.md §7.12) are named ``curve@theta=<rad>``."""
    eft = any(lim.eft is not None for lim in limits)
    columns = CSV_COLUMNS + (EFT_CSV_COLUMNS if eft else ())
    buf = io.StringIO()
    buf.write("# lfvscan limits: g_lim(m_a) = sqrt(N_req / N_hat), N_hat = expected events at g = 1\n")
    buf.write("# units: " + ", ".join(f"{c}[{u}]" for c, u in columns if u) + "\n")
    buf.write("# g_lim = inf: no expected events (cuts remove everything / above reach); nan: cells missing\n")
    buf.write("# quality: ok, or flags of the cells the point is built from joined by '+': failed, missing,\n"
              "#   unconverged (vegas budget ran out before rel_err), low_Q (vegas Q < q_min; docs/physics.md §10.1),\n"
              "#   x_interp / flux_interp (the stored x_f bins / scan energies do not resolve the point, §10.1)\n")
    for k, v in prov.items():
        buf.write(f"# {k}: {json.dumps(v, default=str, ensure_ascii=False)}\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c for c, _ in columns])
    for lim in limits:
        y = lim.yields
        for i, m in enumerate(y.masses_GeV):
            row = [y.experiment, y.curve_name, y.scenario, _fmt(m), _fmt(y.n_hat[i]), _fmt(y.n_hat_err[i]),
                   _fmt(lim.g_lim[i]), _fmt(lim.g_lim_err[i]), _quality(y, i)]
            if eft:
                e = lim.eft
                row += [_fmt(e.lim[i]), _fmt(e.err[i]), _fmt(e.lim_eq3[i]), _fmt(e.theta), e.convention]
            w.writerow(row)
    return buf.getvalue()


def _json_num(v):
    v = float(v)
    if math.isnan(v):
        return None
    if math.isinf(v):
        return "inf"
    return v


def _eft_json(e) -> dict:
    """The ``C_over_Lambda`` block of one curve in limits.json (docs/physics.md §2.7)."""
    return {
        "unit": "GeV^-1",
        "theta": e.theta,
        "g_convention": e.convention,
        "convention": "thesis: g_eff = C sqrt(m_i^2 + m_f^2 + 2 m_i m_f cos 2Theta) / Lambda, exact lepton masses",
        "mass_GeV": e.mass_GeV,
        "lim": [_json_num(v) for v in e.lim],
        "lim_err": [_json_num(v) for v in e.err],
        "eq3_convention": "Eq. (3) reading: g_eff = C m_heavy / Lambda (m_light -> 0)",
        "eq3_mass_GeV": e.mass_eq3_GeV,
        "lim_eq3": [_json_num(v) for v in e.lim_eq3],
    }


def limits_json(limits: list[CurveLimit], prov: dict) -> str:
    """JSON text: {"provenance", "units", "special_values", "curves": [...]}.  Curves recombined at a
    chosen theta (``--theta``, docs/physics.md §7.12) carry ``theta`` [rad] and ``convention``."""
    curves = []
    for lim in limits:
        y = lim.yields
        curves.append({
            "experiment": y.experiment,
            "curve": y.curve,
            "scenario": y.scenario,
            "label": y.label,
            "exposure": y.exposure,
            "exposure_unit": y.exposure_unit,
            "selection_factor": y.factor,
            "column_density_per_pb": y.column_density_per_pb,
            "drawn_in_paper": y.drawn,
            "n_req": lim.n_req,
            "statistics": lim.statistics.method,
            "cl": lim.statistics.cl if lim.statistics.uses_cl else None,
            "background_events": y.background,
            "mass_GeV": [_json_num(m) for m in y.masses_GeV],
            "n_hat": [_json_num(v) for v in y.n_hat],
            "n_hat_err": [_json_num(v) for v in y.n_hat_err],
            "g_lim": [_json_num(v) for v in lim.g_lim],
            "g_lim_err": [_json_num(v) for v in lim.g_lim_err],
            "quality": [_quality(y, i) for i in range(len(y.masses_GeV))],
            "min_Q": [_json_num(v) for v in y.min_Q] if y.min_Q is not None else None,
            "max_chi2_dof": [_json_num(v) for v in y.max_chi2_dof] if y.max_chi2_dof is not None else None,
            **({} if y.theta is None else {"theta": y.theta, "convention": y.convention}),
            **({} if lim.eft is None else {"C_over_Lambda": _eft_json(lim.eft)}),
            "missing_cells": [list(c) for c in y.missing],
            "notes": list(y.notes),
        })
    doc = {
        "provenance": prov,
        "units": {"mass_GeV": "GeV", "n_hat": "events at g=1", "g_lim": "dimensionless coupling g_tau_mu"},
        "special_values": {"inf": "N_hat = 0: no sensitivity", "null": "not computed (missing cells)"},
        "curves": curves,
    }
    return json.dumps(doc, indent=1, default=str, ensure_ascii=False)


#: ALP masses [GeV] the on-screen limit summaries show (the scanned masses nearest to them)
SUMMARY_MASSES_GEV = (2.0, 5.0, 10.0, 20.0, 40.0)


def summary_columns(masses_GeV, wanted_GeV=SUMMARY_MASSES_GEV) -> list[int]:
    """Indices of the scanned masses nearest (in ln m) to ``wanted_GeV``, ascending, no repeats."""
    masses = np.asarray(masses_GeV, dtype=float)
    return sorted({int(np.argmin(np.abs(np.log(masses / v)))) for v in wanted_GeV})


#: text columns read back per point (``quality`` may be absent from a CSV)
TEXT_COLUMNS = ("scenario", "quality")


def read_limits_csv(path) -> dict[str, dict[str, np.ndarray]]:
    """Read a limits CSV back: {"exp/curve": {"mass_GeV", "n_hat", "g_lim", ... (float arrays),
    "scenario", "quality" (tuples of text, one per point)}}.  UsageError if it is not one."""
    lines = [ln for ln in read_text(path, "limits CSV").splitlines() if ln and not ln.startswith("#")]
    rows = list(csv.DictReader(lines))
    if not rows or not {"experiment", "curve", "scenario", *NUMERIC_COLUMNS} <= set(rows[0]):
        raise UsageError(f"{str(path)!r} is not a limits CSV written by `lfvscan limits` or `lfvscan run`")
    out: dict[str, dict[str, list]] = {}
    for r in rows:
        d = out.setdefault(f"{r['experiment']}/{r['curve']}", {})
        for c in NUMERIC_COLUMNS:
            d.setdefault(c, []).append(float(r[c]))
        for c in TEXT_COLUMNS:
            if c in r:
                d.setdefault(c, []).append(r[c])
    return {k: {c: np.array(v) if c not in TEXT_COLUMNS else tuple(v) for c, v in d.items()} for k, d in out.items()}


#: header lines of :func:`limits_csv` that describe the file (not provenance)
_DESCRIPTION_LINES = ("# lfvscan limits", "# units", "# g_lim", "# quality")


def read_limits_header(path) -> dict[str, str]:
    """The provenance block of a limits CSV: {key: value as written (JSON text)} of its ``# key: value``
    header lines (the title, units and meaning lines excluded)."""
    out = {}
    for ln in read_text(path, "limits CSV").splitlines():
        if not ln.startswith("#"):
            break
        if ln.startswith("# ") and ": " in ln and not ln.startswith(_DESCRIPTION_LINES):
            k, v = ln[2:].split(": ", 1)
            out[k] = v
    return out


@dataclass(frozen=True)
class LimitCurve:
    """One limit curve of a result set: ``key`` "experiment/curve", ``scenario`` (invisible |
    visible), legend ``label``, ``masses_GeV`` [GeV], ``g_lim`` and its MC error ``g_lim_err`` [1]."""

    key: str
    scenario: str
    label: str
    masses_GeV: np.ndarray
    g_lim: np.ndarray
    g_lim_err: np.ndarray


def curves_from_csv(path) -> list[LimitCurve]:
    """:class:`LimitCurve` of every curve in a limits CSV written by ``lfvscan limits`` / ``run``
    (labelled by their key "experiment/curve", the CSV has no legend labels)."""
    return [LimitCurve(k, d["scenario"][0], k, d["mass_GeV"], d["g_lim"], d["g_lim_err"])
            for k, d in read_limits_csv(path).items()]
