"""Scan configuration: a TOML file loaded into frozen dataclasses (architecture.md, issue 4).

A scan is the grid targets x union(energies) x masses; a (target, energy) pair that the target
does not request is stored as SKIPPED.  Example::

    store = "demo.zarr"              # default store path (``lfvscan scan --store`` overrides)
    seed = 20240722                  # global seed; per-cell seeds derive from (seed, cell index)
    rel_err = 0.005                  # requested relative error of sigma, in (0, 0.5)
    theta = 0.7853981633974483       # optional, default lfvscan.couplings.DEFAULT_THETA (pi/4)
    convention = "eq3"               # optional, one of lfvscan.couplings.CONVENTIONS
    n_xbins = 60                     # optional, bins of dsigma/dln x_tau
    max_attempts = 3                 # optional, attempts per cell before it stays FAILED
    cell_timeout_s = 3600            # optional, wall limit of one cell [s] (0: none); then FAILED, retried
    rank_timeout_s = 0               # optional, silence [s] after which a rank is lost (0: from cell costs)
    masses_GeV = {min = 2.0, max = 40.0, n = 8}    # or an explicit list [2.0, 5.0, 10.0]

    [[targets]]
    name = "Pb"
    energies_GeV = [160, 1000]       # or {min = ..., max = ..., n = ...} (log-spaced)

Testing / extension hook: ``cell_function = "module:function"`` replaces
:func:`lfvscan.xsec.compute_cell` (same signature) for the whole scan; it is part of the
config hash, so a store made with it is never mixed with one made with the real physics.

``store``, ``max_attempts``, ``cell_timeout_s`` and ``rank_timeout_s`` are *run settings*: they may change between runs of one store.
Everything else is *physics* and is hashed; resuming a store with different physics is refused.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lfvscan.physics.couplings import CONVENTIONS, DEFAULT_THETA
from lfvscan.errors import UsageError
from lfvscan.physics.targets import TARGETS, get_target

#: keys allowed at the top level of a scan config, and in each [[targets]] table
TOP_KEYS = (
    "store",
    "seed",
    "rel_err",
    "theta",
    "convention",
    "n_xbins",
    "max_attempts",
    "cell_timeout_s",
    "rank_timeout_s",
    "masses_GeV",
    "targets",
    "cell_function",
)
TARGET_KEYS = ("name", "energies_GeV")
GRID_KEYS = ("min", "max", "n")
#: keys that may differ between runs of one store (not hashed)
RUN_KEYS = ("store", "max_attempts", "cell_timeout_s", "rank_timeout_s")
#: default wall limit of one cell [s] (a stuck cell is failed after it; paper cells take seconds)
DEFAULT_CELL_TIMEOUT_S = 3600.0


@dataclass(frozen=True)
class TargetSpec:
    """One target and the beam energies [GeV] scanned on it (sorted, unique)."""

    name: str
    energies_GeV: tuple[float, ...]


@dataclass(frozen=True)
class ScanConfig:
    """A validated scan configuration.  See the module docstring for the TOML layout."""

    targets: tuple[TargetSpec, ...]
    masses_GeV: tuple[float, ...]
    seed: int
    rel_err: float = 0.005
    theta: float = DEFAULT_THETA
    convention: str = "eq3"
    n_xbins: int = 60
    max_attempts: int = 3
    cell_timeout_s: float = DEFAULT_CELL_TIMEOUT_S  #: wall limit of one cell [s]; 0: none
    rank_timeout_s: float = 0.0  #: silence [s] after which a rank is lost; 0: derived (lfvscan.scan.mpi)
    store: str = "scan.zarr"
    cell_function: str = ""
    source: str = ""  #: path of the TOML file (informational, not hashed)

    @property
    def target_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.targets)

    @property
    def energies_GeV(self) -> tuple[float, ...]:
        """Sorted union of all targets' energies (the store's energy axis)."""
        return tuple(sorted({e for t in self.targets for e in t.energies_GeV}))

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.targets), len(self.energies_GeV), len(self.masses_GeV))

    def requested(self) -> np.ndarray:
        """Bool mask (target, energy): True where the target requests that energy."""
        energies = self.energies_GeV
        mask = np.zeros(self.shape[:2], dtype=bool)
        for i, t in enumerate(self.targets):
            wanted = set(t.energies_GeV)
            for j, e in enumerate(energies):
                mask[i, j] = e in wanted
        return mask

    def physics_dict(self) -> dict:
        """Everything that determines the results (JSON-able); the config hash covers exactly this."""
        return {
            "targets": {t.name: list(t.energies_GeV) for t in self.targets},
            "masses_GeV": list(self.masses_GeV),
            "seed": self.seed,
            "rel_err": self.rel_err,
            "theta": self.theta,
            "convention": self.convention,
            "n_xbins": self.n_xbins,
            "cell_function": self.cell_function,
        }

    def to_dict(self) -> dict:
        """Full resolved config (physics + run settings), JSON-able."""
        d = self.physics_dict()
        d.update(store=self.store, max_attempts=self.max_attempts, cell_timeout_s=self.cell_timeout_s,
                 rank_timeout_s=self.rank_timeout_s)
        return d

    def config_hash(self) -> str:
        """sha256 of the canonical JSON of :meth:`physics_dict` (first 16 hex digits)."""
        text = json.dumps(self.physics_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def physics_diff(old: dict, new: dict) -> list[str]:
    """Names of the physics keys that differ between two :meth:`ScanConfig.physics_dict` dicts."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if key == "targets" and isinstance(a, dict) and isinstance(b, dict):
            for name in sorted(set(a) | set(b)):
                if a.get(name) != b.get(name):
                    what = "energies_GeV" if name in a and name in b else ("added" if name in b else "removed")
                    out.append(f"targets.{name} ({what})")
        elif a != b:
            out.append(key)
    return out


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _grid(value, where: str, problems: list[str]) -> tuple[float, ...]:
    """An explicit list of positive numbers, or a log grid {min, max, n}; sorted, unique."""
    if isinstance(value, dict):
        extra = sorted(set(value) - set(GRID_KEYS))
        missing = [k for k in GRID_KEYS if k not in value]
        if extra:
            problems.append(f"{where}: unknown key(s) {', '.join(extra)} (a log grid has min, max, n)")
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)} (a log grid has min, max, n)")
        if extra or missing:
            return ()
        lo, hi, n = value["min"], value["max"], value["n"]
        if not (_is_number(lo) and _is_number(hi)):
            problems.append(f"{where}: min and max must be numbers, got {lo!r}, {hi!r}")
            return ()
        if not isinstance(n, int) or isinstance(n, bool):
            problems.append(f"{where}.n must be an integer, got {n!r}")
            return ()
        if n < 1:
            problems.append(f"{where}.n must be >= 1, got {n} (empty grid)")
            return ()
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
            problems.append(f"{where}: need 0 < min <= max (finite), got min={lo!r}, max={hi!r}")
            return ()
        if n == 1 and lo != hi:
            problems.append(f"{where}: n = 1 needs min == max, got min={lo!r}, max={hi!r}")
            return ()
        vals = np.geomspace(float(lo), float(hi), n)
        vals[0], vals[-1] = float(lo), float(hi)  # exact end points
        return tuple(float(v) for v in vals)
    if isinstance(value, list):
        if not value:
            problems.append(f"{where}: empty list (empty grid)")
            return ()
        bad = [v for v in value if not _is_number(v) or not math.isfinite(v) or v <= 0]
        if bad:
            problems.append(f"{where}: values must be positive finite numbers, got {bad[0]!r}")
            return ()
        return tuple(sorted({float(v) for v in value}))
    problems.append(f"{where}: must be a list of numbers or a table {{min, max, n}}, got {type(value).__name__}")
    return ()


def parse_config(data: dict, source: str = "<config>") -> ScanConfig:
    """Validate a parsed TOML dict; raise :class:`UsageError` listing every problem found."""
    problems: list[str] = []
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        problems.append(f"unknown key(s) {', '.join(map(repr, unknown))} (allowed: {', '.join(TOP_KEYS)})")

    def typed(key, types, default, label):
        if key not in data:
            if default is None:
                problems.append(f"missing required key {key!r}")
            return default
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, types):
            problems.append(f"{key} must be {label}, got {v!r}")
            return default
        return v

    seed = typed("seed", int, None, "an integer")
    rel_err = typed("rel_err", (int, float), 0.005, "a number")
    theta = typed("theta", (int, float), DEFAULT_THETA, "a number (radians)")
    convention = typed("convention", str, "eq3", "a string")
    n_xbins = typed("n_xbins", int, 60, "an integer")
    max_attempts = typed("max_attempts", int, 3, "an integer")
    cell_timeout_s = typed("cell_timeout_s", (int, float), DEFAULT_CELL_TIMEOUT_S, "a number of seconds")
    rank_timeout_s = typed("rank_timeout_s", (int, float), 0.0, "a number of seconds")
    store = typed("store", str, "scan.zarr", "a string (path)")
    cell_function = typed("cell_function", str, "", 'a string "module:function"')

    if isinstance(seed, int) and seed < 0:
        problems.append(f"seed must be >= 0, got {seed}")
    if rel_err is not None and not (math.isfinite(rel_err) and 0 < rel_err < 0.5):
        problems.append(f"rel_err must be in (0, 0.5), got {rel_err!r}")
    if not math.isfinite(theta):
        problems.append(f"theta must be finite, got {theta!r}")
    if convention not in CONVENTIONS:
        problems.append(f"convention must be one of {', '.join(CONVENTIONS)}, got {convention!r}")
    if n_xbins < 1:
        problems.append(f"n_xbins must be >= 1, got {n_xbins}")
    if max_attempts < 1:
        problems.append(f"max_attempts must be >= 1, got {max_attempts}")
    for key, v in (("cell_timeout_s", cell_timeout_s), ("rank_timeout_s", rank_timeout_s)):
        if not (math.isfinite(v) and v >= 0):
            problems.append(f"{key} must be a finite number of seconds >= 0 (0: {'none' if key == 'cell_timeout_s' else 'automatic'}), got {v!r}")
    if cell_function and cell_function.count(":") != 1:
        problems.append(f'cell_function must look like "module:function", got {cell_function!r}')

    masses: tuple[float, ...] = ()
    if "masses_GeV" in data:
        masses = _grid(data["masses_GeV"], "masses_GeV", problems)
    else:
        problems.append("missing required key 'masses_GeV'")

    targets: list[TargetSpec] = []
    raw_targets = data.get("targets")
    if raw_targets is None:
        problems.append("missing [[targets]] (at least one target)")
    elif not isinstance(raw_targets, list) or not all(isinstance(t, dict) for t in raw_targets):
        problems.append("targets must be an array of tables [[targets]]")
    elif not raw_targets:
        problems.append("targets is empty (empty grid)")
    else:
        for k, t in enumerate(raw_targets):
            where = f"targets[{k}]"
            extra = sorted(set(t) - set(TARGET_KEYS))
            if extra:
                problems.append(f"{where}: unknown key(s) {', '.join(map(repr, extra))} (allowed: {', '.join(TARGET_KEYS)})")
            name = t.get("name")
            if not isinstance(name, str):
                problems.append(f"{where}: name must be a string, got {name!r}")
                continue
            try:
                name = get_target(name).name
            except ValueError:
                problems.append(f"{where}: unknown target {name!r} (known: {', '.join(TARGETS)})")
                continue
            where = f"targets[{k}] ({name})"
            if name in [x.name for x in targets]:
                problems.append(f"{where}: target listed twice")
                continue
            if "energies_GeV" not in t:
                problems.append(f"{where}: missing energies_GeV")
                continue
            energies = _grid(t["energies_GeV"], f"{where}.energies_GeV", problems)
            if energies:
                targets.append(TargetSpec(name, energies))

    if problems:
        raise UsageError(f"invalid scan config {source}: " + "; ".join(problems))
    return ScanConfig(
        targets=tuple(targets),
        masses_GeV=masses,
        seed=int(seed),
        rel_err=float(rel_err),
        theta=float(theta),
        convention=convention,
        n_xbins=int(n_xbins),
        max_attempts=int(max_attempts),
        cell_timeout_s=float(cell_timeout_s),
        rank_timeout_s=float(rank_timeout_s),
        store=store,
        cell_function=cell_function,
        source=source,
    )


def load_config(path: str | Path) -> ScanConfig:
    """Read and validate a scan config TOML file (raises :class:`UsageError`)."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read scan config {str(p)!r}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"scan config {str(p)!r} is not valid TOML: {exc}") from None
    return parse_config(data, source=str(p))


def config_from_dict(d: dict, source: str = "<store>") -> ScanConfig:
    """Rebuild a :class:`ScanConfig` from :meth:`ScanConfig.to_dict` output (e.g. a store's attrs)."""
    data = {k: v for k, v in d.items() if k != "targets"}
    data["targets"] = [{"name": n, "energies_GeV": list(e)} for n, e in d["targets"].items()]
    if not data.get("cell_function"):
        data.pop("cell_function", None)
    return parse_config(data, source=source)
