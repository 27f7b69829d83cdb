"""Scan configuration: a TOML file loaded into frozen dataclasses (docs/architecture.md).

A scan is the grid targets x union(energies) x masses; a (target, energy) pair that the target
does not request is stored as SKIPPED.  Example::

    store = "demo.zarr"              # default store path (``lfvscan scan --store`` overrides)
    seed = 20240722                  # global seed; per-cell seeds derive from (seed, cell index)
    rel_err = 0.005                  # requested relative error of sigma, in [1e-4, 0.5)
    theta = 0.7853981633974483       # optional, default lfvscan.physics.couplings.DEFAULT_THETA (pi/4)
    convention = "eq3"               # optional, one of lfvscan.physics.couplings.CONVENTIONS
    n_xbins = 60                     # optional, bins of dsigma/dln x_f, in [1, 1000]
    physics = "pdg-2024"             # optional, physics preset: "pdg-2024" (default) or "thesis-2024"
    max_attempts = 3                 # optional, attempts per cell before it stays FAILED
    max_cells = 200000               # optional, largest grid accepted (targets x energies x masses)
    cell_timeout_s = 3600            # optional, wall limit of one cell [s] (0: none); then FAILED, retried
    rank_timeout_s = 0               # optional, silence [s] after which a rank is lost (0: from cell costs)
    rank0_computes_up_to = 8         # optional, rank 0 also computes cells in jobs of at most this many ranks
    masses_GeV = {min = 2.0, max = 40.0, n = 8}    # or an explicit list [2.0, 5.0, 10.0]

    [process]                        # optional; absent = mu -> tau with a spin-0 boson
    beam = "mu"                      # "e" | "mu"
    final = "tau"                    # "e" | "mu" | "tau"
    boson = "scalar"                 # "scalar" | "vector"

    [[targets]]
    name = "Pb"                      # a built-in target (lfvscan.physics.targets.TARGETS) ...
    energies_GeV = [160, 1000]       # or {min = ..., max = ..., n = ...} (log-spaced)

    [[targets]]
    name = "Ta"                      # ... or one defined here: Z, A (integers), density, molar mass
    Z = 73
    A = 181
    density_g_cm3 = 16.65
    molar_mass_g_mol = 180.95
    energies_GeV = [1000]

    [[targets]]
    name = "Au"                      # a nucleus beam at a collider (docs/physics.md §7.15): energies_GeV
    nucleus_energy_per_nucleon_GeV = 110   # are the lepton beam's lab energies
    energies_GeV = [18]
    incoherent = false               # optional, default true: false keeps the coherent part only
    t_cut_GeV2 = 0.01                # optional, default 1.0: the hard cut F^2 = 0 above t [GeV^2]

Validity ranges (:mod:`lfvscan.util.ranges`, :mod:`lfvscan.physics.process`, docs/physics.md
§7.11): energies in the process's range (mu -> tau, e -> tau: [2, 1e7] GeV), masses in
[1e-6, 1e4] GeV and above m_beam - m_final for a heavier beam lepton (mu -> e), rel_err in
[1e-4, 0.5), n_xbins in [1, 1000].  For a nucleus beam the energy range applies to the lepton's
nucleus-frame energy (:func:`lfvscan.physics.collider.nucleus_frame_energy`); its error names both.

``[process]`` (:class:`lfvscan.physics.process.Process`) is hashed only when it differs from the
default process, so that a config without the table and one naming the default have the same
hash and resume the same store; a user-defined target's Z, A, density and molar mass are hashed
(key ``target_definitions``) and go into the store's attrs with the config; a nucleus beam's
energy per nucleon is hashed (key ``nucleus_energy_per_nucleon_GeV``, by target) only when some
target has one, so fixed-target configs keep their hash.  A target's form-factor keys
``incoherent`` and ``t_cut_GeV2`` (:data:`FORM_FACTOR_KEYS`, docs/physics.md §7.3) are hashed (key
``form_factors``, by target) only where they differ from :data:`~lfvscan.physics.formfactors.DEFAULT_FF`,
so a config without them, or naming the defaults, keeps its hash.

Testing / extension hook: ``cell_function = "module:function"`` replaces
:func:`lfvscan.xsec.compute_cell` (same signature) for the whole scan; it is part of the
config hash, so a store made with it is never mixed with one made with the real physics.

``physics`` names a :class:`lfvscan.physics.presets.PhysicsPreset` (docs/physics.md §14 item 29); it
is hashed, but the default ``"pdg-2024"`` is left out of the hashed dict, so that a config that does
not name a preset and one that names the default have the same hash and resume the same store.

``store``, ``max_attempts``, ``max_cells``, ``cell_timeout_s``, ``rank_timeout_s`` and
``rank0_computes_up_to`` are *run settings*: they may change between runs of one store.
Everything else is *physics* and is hashed; resuming a store with different physics is refused.

Grid identity: the grid is known by its coordinate *values*, never by the order a
config lists them in.  Energies and masses are sorted; targets are put in the canonical order
(:data:`canonical_target_order`: by element symbol, so ``Pb`` before ``W`` as in
``configs/*.toml``).  A config listing ``W`` before ``Pb`` is the same grid, the same hash, the
same per-cell seeds (a function of the global seed and the flat index in the canonical grid) and
resumes the same store.  A store's own axis order is read from its coordinate arrays
(:meth:`ScanConfig.with_target_order`), so a store whose target axis is in another order is
mapped cell by cell by its coordinates.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from lfvscan.physics.collider import boost, describe_energy, is_collider, nucleus_frame_energy
from lfvscan.physics.couplings import CONVENTIONS, DEFAULT_CONVENTION, DEFAULT_THETA, check_family_convention
from lfvscan.physics.formfactors import DEFAULT_FF, FormFactorParams
from lfvscan.physics.leptons import LeptonPair
from lfvscan.physics.presets import DEFAULT_PRESET, PRESETS, get_preset
from lfvscan.errors import UsageError
from lfvscan.physics.process import DEFAULT_PROCESS, Process, decay_pole_problem, energy_range, process_from_dict
from lfvscan.physics.targets import TARGETS, Target, get_target
from lfvscan.util.ranges import DEFAULT_N_XBINS, DEFAULT_REL_ERR, MASS_GEV, N_XBINS, REL_ERR

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
    "rank0_computes_up_to",
    "masses_GeV",
    "targets",
    "cell_function",
    "physics",
    "max_cells",
    "process",
)
#: keys of a user-defined target (all four, or none for a built-in target)
TARGET_DEFINITION_KEYS = ("Z", "A", "density_g_cm3", "molar_mass_g_mol")
#: the key that makes a target a nucleus beam (lfvscan.physics.collider)
COLLIDER_KEY = "nucleus_energy_per_nucleon_GeV"
#: a target's optional form-factor keys (:class:`~lfvscan.physics.formfactors.FormFactorParams` fields):
#: ``incoherent`` (bool, the incoherent term G_inel) and ``t_cut_GeV2`` (the hard cut [GeV^2], §7.3)
FORM_FACTOR_KEYS = ("incoherent", "t_cut_GeV2")
#: the physics_dict key of the targets' form-factor settings
FORM_FACTORS_KEY = "form_factors"
TARGET_KEYS = ("name", "energies_GeV", *TARGET_DEFINITION_KEYS, COLLIDER_KEY, *FORM_FACTOR_KEYS)
GRID_KEYS = ("min", "max", "n")
#: default bound on the grid size (targets x energies x masses, skipped cells included): 50x the
#: paper grid (3864); a store then holds ~(16 n_xbins + 150) bytes per cell (220 MB at 60 bins), and
#: :data:`LAB_BYTES_PER_CELL` more with a collider target, which post-processing reads into memory.
#: Raise it with the config key ``max_cells``.
MAX_CELLS = 200_000
#: bytes per cell of the lab-frame histograms a store holds when a target is a nucleus beam
#: (docs/physics.md §7.16: 2 x (7 x 288 + 4 x 132) float64)
LAB_BYTES_PER_CELL = 40_704
#: default wall limit of one cell [s] (a stuck cell is failed after it; paper cells take seconds)
DEFAULT_CELL_TIMEOUT_S = 3600.0
#: default largest job (ranks) in which rank 0 computes cells besides coordinating: above it, rank 0
#: only hands out cells and writes results (docs/scaling.md: its service must not wait for the GIL)
RANK0_COMPUTES_UP_TO = 8


@dataclass(frozen=True)
class TargetSpec:
    """One target and the beam energies [GeV] scanned on it (sorted, unique); ``definition``: the
    :class:`~lfvscan.physics.targets.Target` of a user-defined target (None: the built-in one of
    that name); ``nucleus_energy_per_nucleon_GeV`` [GeV]: None for a fixed target, the energy per
    nucleon of a nucleus beam (then ``energies_GeV`` are the lepton beam's lab energies);
    ``form_factors``: the :data:`FORM_FACTOR_KEYS` that differ from :data:`DEFAULT_FF`, as sorted
    (key, value) pairs (empty: the default form factors)."""

    name: str
    energies_GeV: tuple[float, ...]
    definition: Target | None = None
    nucleus_energy_per_nucleon_GeV: float | None = None
    form_factors: tuple[tuple[str, bool | float], ...] = ()

    def form_factor_params(self, base: FormFactorParams = DEFAULT_FF) -> FormFactorParams:
        """``base`` with this target's form-factor keys applied (``base`` itself without any)."""
        return replace(base, **dict(self.form_factors)) if self.form_factors else base

    def target(self) -> str | Target:
        """The cell function's target argument: a built-in target's name, or a :class:`Target`
        (user-defined, or a nucleus beam)."""
        if self.nucleus_energy_per_nucleon_GeV is None:
            return self.name if self.definition is None else self.definition
        base = get_target(self.name) if self.definition is None else self.definition
        return replace(base, nucleus_energy_per_nucleon_GeV=self.nucleus_energy_per_nucleon_GeV)

    def definition_dict(self) -> dict:
        """Z, A, density and molar mass of a user-defined target (its config keys); {} for a built-in one."""
        if self.definition is None:
            return {}
        return {key: getattr(self.definition, key) for key in TARGET_DEFINITION_KEYS}


@dataclass(frozen=True)
class ScanConfig:
    """A validated scan configuration.  See the module docstring for the TOML layout."""

    targets: tuple[TargetSpec, ...]
    masses_GeV: tuple[float, ...]
    seed: int
    rel_err: float = DEFAULT_REL_ERR
    theta: float = DEFAULT_THETA
    convention: str = DEFAULT_CONVENTION
    n_xbins: int = DEFAULT_N_XBINS
    max_attempts: int = 3
    cell_timeout_s: float = DEFAULT_CELL_TIMEOUT_S  #: wall limit of one cell [s]; 0: none
    rank_timeout_s: float = 0.0  #: silence [s] after which a rank is lost; 0: derived (lfvscan.scan.mpi)
    store: str = "scan.zarr"
    cell_function: str = ""
    physics: str = DEFAULT_PRESET.name  #: physics preset name (lfvscan.physics.presets.PRESETS)
    process: Process = DEFAULT_PROCESS  #: beam / final lepton and boson family (lfvscan.physics.process)
    max_cells: int = MAX_CELLS  #: run setting: the largest grid accepted (see MAX_CELLS)
    #: run setting: rank 0 computes cells in jobs of at most this many ranks (0: never)
    rank0_computes_up_to: int = RANK0_COMPUTES_UP_TO
    source: str = ""  #: path of the TOML file (informational, not hashed)

    @property
    def target_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.targets)

    def lepton_pair(self) -> LeptonPair:
        """The beam and final leptons of the scan's process with its preset's masses."""
        return get_preset(self.physics).lepton_pair(self.process)

    def cell_target(self, name: str) -> str | Target:
        """The target argument of the cell function for the grid's target ``name``: the name of a
        built-in target, the :class:`~lfvscan.physics.targets.Target` of a user-defined one;
        ValueError naming it if the grid has no such target."""
        for t in self.targets:
            if t.name == name:
                return t.target()
        raise ValueError(f"target {name!r} is not in the scan (targets: {', '.join(self.target_names)})")

    @property
    def has_collider_target(self) -> bool:
        """True if a target is a nucleus beam (docs/physics.md §7.15): the store then holds the lab-frame
        histograms (§7.16)."""
        return any(not isinstance(t, str) and is_collider(t) for t in (self.cell_target(n) for n in self.target_names))

    def x_edge_energy(self, target_name: str, energy_GeV: float) -> float:
        """The energy [GeV] of a cell's x grid (:func:`lfvscan.xsec.result.x_f_edges`): the beam
        energy, or for a nucleus beam the lepton's nucleus-frame energy (docs/physics.md §7.15)."""
        target = self.cell_target(target_name)
        if isinstance(target, str) or not is_collider(target):
            return float(energy_GeV)
        return nucleus_frame_energy(float(energy_GeV), self.lepton_pair().beam.mass,
                                    get_preset(self.physics).target(target))

    def with_target_order(self, names) -> "ScanConfig":
        """The same grid with its target axis in the order ``names`` (e.g. a store's ``target``
        coordinate array); raises :class:`UsageError` if ``names`` is not a permutation of the targets."""
        names = tuple(str(n) for n in names)
        by_name = {t.name: t for t in self.targets}
        if sorted(names) != sorted(by_name):
            raise UsageError(f"target axis {', '.join(names)} differs from the config's targets "
                             f"{', '.join(sorted(by_name))}")
        if names == self.target_names:
            return self
        return replace(self, targets=tuple(by_name[n] for n in names))

    def grid_coordinates(self) -> dict:
        """The grid by its coordinate values, independent of the order of any list (targets by
        name, each with its sorted energies [GeV]; sorted masses [GeV]): what identifies a store."""
        return {
            "targets": {t.name: sorted(t.energies_GeV) for t in sorted(self.targets, key=lambda t: t.name)},
            "masses_GeV": sorted(self.masses_GeV),
        }

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
        """Everything that determines the results (JSON-able); the config hash covers exactly this.
        ``physics`` appears only when it is not the default preset (see the module docstring).

        The grid enters through :meth:`grid_coordinates` (order-free), so two configs listing the
        same targets, energies and masses in another order have the same hash."""
        grid = self.grid_coordinates()
        d = {
            "targets": grid["targets"],
            "masses_GeV": grid["masses_GeV"],
            "seed": self.seed,
            "rel_err": self.rel_err,
            "theta": self.theta,
            "convention": self.convention,
            "n_xbins": self.n_xbins,
            "cell_function": self.cell_function,
        }
        if self.physics != DEFAULT_PRESET.name:
            d["physics"] = self.physics
        if self.process != DEFAULT_PROCESS:
            d["process"] = self.process.to_dict()
        definitions = {t.name: t.definition_dict() for t in sorted(self.targets, key=lambda t: t.name)
                       if t.definition is not None}
        if definitions:
            d["target_definitions"] = definitions
        beams = {t.name: t.nucleus_energy_per_nucleon_GeV for t in sorted(self.targets, key=lambda t: t.name)
                 if t.nucleus_energy_per_nucleon_GeV is not None}
        if beams:
            d[COLLIDER_KEY] = beams
        form_factors = {t.name: dict(t.form_factors) for t in sorted(self.targets, key=lambda t: t.name)
                        if t.form_factors}
        if form_factors:
            d[FORM_FACTORS_KEY] = form_factors
        return d

    def to_dict(self) -> dict:
        """Full resolved config (physics + run settings), JSON-able."""
        d = self.physics_dict()
        d.update(store=self.store, max_attempts=self.max_attempts, cell_timeout_s=self.cell_timeout_s,
                 rank_timeout_s=self.rank_timeout_s)
        if self.max_cells != MAX_CELLS:
            d["max_cells"] = self.max_cells
        if self.rank0_computes_up_to != RANK0_COMPUTES_UP_TO:
            d["rank0_computes_up_to"] = self.rank0_computes_up_to
        return d

    def config_hash(self) -> str:
        """sha256 of the canonical JSON of :meth:`physics_dict` (first 16 hex digits)."""
        text = json.dumps(self.physics_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_same_physics(stored: "ScanConfig", config: "ScanConfig", name: str, hint: str = "") -> None:
    """UsageError naming the differing keys unless ``stored`` (a store's config) and ``config`` have the
    same physics: grid coordinate values (order-free) and every hashed setting."""
    if stored.physics_dict() != config.physics_dict():
        diff = physics_diff(stored.physics_dict(), config.physics_dict()) or ["config hash"]
        raise UsageError(f"store {name} was made from a different config (differs in: {', '.join(diff)}){hint}")


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
        elif key in ("process", "target_definitions", COLLIDER_KEY, FORM_FACTORS_KEY) and a != b:
            # a table: name its differing entries (an absent process is the default one)
            a = DEFAULT_PROCESS.to_dict() if key == "process" and a is None else (a or {})
            b = DEFAULT_PROCESS.to_dict() if key == "process" and b is None else (b or {})
            out += [f"{key}.{sub}" for sub in sorted(set(a) | set(b)) if a.get(sub) != b.get(sub)]
        elif a != b:
            out.append(key)
    return out


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _grid(value, where: str, problems: list[str], max_n: int = MAX_CELLS) -> tuple[float, ...]:
    """An explicit list of positive numbers, or a log grid {min, max, n} (n <= ``max_n``: checked
    before any point is made); sorted, unique."""
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
        if n > max_n:
            problems.append(f"{where}.n = {n} exceeds max_cells = {max_n} (the largest grid accepted; raise "
                            f"max_cells in the config if you mean it)")
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


def _energy_problem(pair: LeptonPair, value, where: str, beam: Target | None = None) -> str | None:
    """None, or one line naming a beam energy outside the process's range (lfvscan.physics.process);
    ``beam``: a nucleus beam, whose range applies to the nucleus-frame energy (both named)."""
    if beam is None:
        msg = energy_range(pair).problem(value, label=f"{where} value")
        return f"{msg} for {pair.label()}" if msg else None
    e_nf = nucleus_frame_energy(value, pair.beam.mass, beam)
    msg = energy_range(pair).problem(e_nf, label=f"{where} value {value!r}: nucleus-frame energy")
    return f"{msg} for {pair.label()} ({describe_energy(value, pair.beam.mass, beam)})" if msg else None


def _nucleus_beam(t: dict, name: str, definition: Target | None, physics: str, where: str,
                  problems: list[str]) -> tuple[float | None, Target | None]:
    """(energy per nucleon, the beam :class:`Target` with the preset's nucleus mass) of a ``[[targets]]``
    table with ``nucleus_energy_per_nucleon_GeV``; (None, None) for a fixed target or after a problem
    was recorded."""
    if COLLIDER_KEY not in t:
        return None, None
    e = t[COLLIDER_KEY]
    try:
        base = get_target(name) if definition is None else definition
        beam = get_preset(physics if physics in PRESETS else None).target(
            replace(base, nucleus_energy_per_nucleon_GeV=e))
        boost(beam)
    except (TypeError, ValueError) as exc:
        problems.append(f"{where}: {exc}")
        return None, None
    return float(e), beam


def _form_factor_keys(t: dict, where: str, problems: list[str]) -> tuple[tuple[str, bool | float], ...]:
    """The :data:`FORM_FACTOR_KEYS` of a ``[[targets]]`` table that differ from :data:`DEFAULT_FF`
    (sorted (key, value) pairs): ``incoherent`` a boolean, ``t_cut_GeV2`` a positive finite number
    [GeV^2]; a bad value is recorded in ``problems``, naming it."""
    out = []
    if "incoherent" in t:
        v = t["incoherent"]
        if not isinstance(v, bool):
            problems.append(f"{where}: incoherent must be true or false, got {v!r}")
        elif v != DEFAULT_FF.incoherent:
            out.append(("incoherent", v))
    if "t_cut_GeV2" in t:
        v = t["t_cut_GeV2"]
        if not _is_number(v) or not math.isfinite(v) or v <= 0:
            problems.append(f"{where}: t_cut_GeV2 must be a positive finite number (GeV^2), got {v!r}")
        elif float(v) != DEFAULT_FF.t_cut_GeV2:
            out.append(("t_cut_GeV2", float(v)))
    return tuple(sorted(out))


def _mass_problem(pair: LeptonPair, value, where: str) -> str | None:
    """None, or one line naming a boson mass outside the process's range or at its decay pole."""
    return decay_pole_problem(pair, value, label=f"{where} value") or MASS_GEV.problem(value, label=f"{where} value")


def _all_valid(values: tuple[float, ...], problem, where: str, problems: list[str]) -> tuple[float, ...]:
    """``values`` if ``problem(v, where)`` is None for all, else () and one problem line (the first bad value)."""
    for v in values:
        msg = problem(v, where)
        if msg:
            problems.append(msg)
            return ()
    return values


def _process(raw, problems: list[str]) -> Process:
    """The ``[process]`` table as a :class:`Process` (absent: the default); a bad table is recorded in
    ``problems`` and the default process is returned."""
    if raw is None:
        return DEFAULT_PROCESS
    try:
        return process_from_dict(raw)
    except (TypeError, ValueError) as exc:
        problems.append(str(exc))
        return DEFAULT_PROCESS


def _target_definition(t: dict, name: str, where: str, problems: list[str]) -> Target | None:
    """The user-defined :class:`Target` of a ``[[targets]]`` table with Z, A, density_g_cm3 and
    molar_mass_g_mol (None for a built-in target, or after a problem was recorded)."""
    given = [k for k in TARGET_DEFINITION_KEYS if k in t]
    if not given:
        return None
    missing = [k for k in TARGET_DEFINITION_KEYS if k not in t]
    if missing:
        problems.append(f"{where}: a user-defined target needs {', '.join(TARGET_DEFINITION_KEYS)}; "
                        f"missing {', '.join(missing)}")
        return None
    if name.lower() in (k.lower() for k in TARGETS):
        problems.append(f"{where}: {name!r} is a built-in target; a user-defined target needs another name "
                        f"(built-in: {', '.join(TARGETS)})")
        return None
    try:
        return Target(name, Z=t["Z"], A=t["A"], molar_mass_g_mol=t["molar_mass_g_mol"],
                      density_g_cm3=t["density_g_cm3"])
    except (TypeError, ValueError) as exc:
        problems.append(f"{where}: {exc}")
        return None


def canonical_target_order(targets) -> tuple[TargetSpec, ...]:
    """Targets in the canonical order of the grid: sorted by element symbol (``Pb``, ``W``).

    The order of the store's target axis and of the per-cell seeds (flat index in this grid);
    the order of ``[[targets]]`` in a config never matters.
    """
    return tuple(sorted(targets, key=lambda t: t.name))


#: scalar settings: key -> (accepted types, what the error message says it must be); defaults are
#: the :class:`ScanConfig` field defaults, ``seed`` is required
_SETTINGS = {
    "seed": (int, "an integer"),
    "rel_err": ((int, float), "a number"),
    "theta": ((int, float), "a number (radians)"),
    "convention": (str, "a string"),
    "n_xbins": (int, "an integer"),
    "max_attempts": (int, "an integer"),
    "cell_timeout_s": ((int, float), "a number of seconds"),
    "rank_timeout_s": ((int, float), "a number of seconds"),
    "store": (str, "a string (path)"),
    "cell_function": (str, 'a string "module:function"'),
    "physics": (str, "a string (preset name)"),
    "max_cells": (int, "an integer"),
    "rank0_computes_up_to": (int, "an integer (ranks)"),
}
_REQUIRED = ("seed",)


def _typed_settings(data: dict, problems: list[str]) -> dict:
    """The scalar settings of ``data`` with their types checked; a missing or mistyped one takes its
    :class:`ScanConfig` default (a problem is recorded for it)."""
    defaults = {f.name: f.default for f in fields(ScanConfig)}
    out = {}
    for key, (types, label) in _SETTINGS.items():
        default = None if key in _REQUIRED else defaults[key]
        if key not in data:
            if default is None:
                problems.append(f"missing required key {key!r}")
            out[key] = default
            continue
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, types):
            problems.append(f"{key} must be {label}, got {v!r}")
            v = default
        out[key] = v
    return out


def _setting_problems(s: dict) -> list[str]:
    """Range and membership checks of the typed scalar settings (docs/physics.md §7.11 for the
    physics ranges)."""
    problems = []
    if s["rank0_computes_up_to"] < 0:
        problems.append(f"rank0_computes_up_to must be >= 0 (0: rank 0 never computes), got {s['rank0_computes_up_to']}")
    if s["max_cells"] < 1:
        problems.append(f"max_cells must be >= 1, got {s['max_cells']}")
    if isinstance(s["seed"], int) and s["seed"] < 0:
        problems.append(f"seed must be >= 0, got {s['seed']}")
    if REL_ERR.problem(s["rel_err"]):
        problems.append(REL_ERR.problem(s["rel_err"]))
    if not math.isfinite(s["theta"]):
        problems.append(f"theta must be finite, got {s['theta']!r}")
    if s["convention"] not in CONVENTIONS:
        problems.append(f"convention must be one of {', '.join(CONVENTIONS)}, got {s['convention']!r}")
    if N_XBINS.problem(s["n_xbins"]):
        problems.append(N_XBINS.problem(s["n_xbins"]))
    if s["max_attempts"] < 1:
        problems.append(f"max_attempts must be >= 1, got {s['max_attempts']}")
    if s["physics"] not in PRESETS:
        problems.append(f"physics must be one of {', '.join(PRESETS)}, got {s['physics']!r}")
    for key, zero in (("cell_timeout_s", "none"), ("rank_timeout_s", "automatic")):
        v = s[key]
        if not (math.isfinite(v) and v >= 0):
            problems.append(f"{key} must be a finite number of seconds >= 0 (0: {zero}), got {v!r}")
    if s["cell_function"] and s["cell_function"].count(":") != 1:
        problems.append(f'cell_function must look like "module:function", got {s["cell_function"]!r}')
    return problems


def _target_specs(raw_targets, max_cells: int, pair: LeptonPair, physics: str, problems: list[str]) -> list[TargetSpec]:
    """The ``[[targets]]`` tables as :class:`TargetSpec` (known or user-defined target, energies in
    the range of the process of ``pair``, each target once); a bad table is left out and recorded
    in ``problems``."""
    if raw_targets is None:
        problems.append("missing [[targets]] (at least one target)")
        return []
    if not isinstance(raw_targets, list) or not all(isinstance(t, dict) for t in raw_targets):
        problems.append("targets must be an array of tables [[targets]]")
        return []
    if not raw_targets:
        problems.append("targets is empty (empty grid)")
        return []
    targets: list[TargetSpec] = []
    for k, t in enumerate(raw_targets):
        where = f"targets[{k}]"
        extra = sorted(set(t) - set(TARGET_KEYS))
        if extra:
            problems.append(f"{where}: unknown key(s) {', '.join(map(repr, extra))} (allowed: {', '.join(TARGET_KEYS)})")
        name = t.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}: name must be a non-empty string, got {name!r}")
            continue
        n_problems = len(problems)
        definition = _target_definition(t, name, f"{where} ({name})", problems)
        if len(problems) > n_problems:
            continue
        if definition is None:
            try:
                name = get_target(name).name
            except ValueError:
                problems.append(f"{where}: unknown target {name!r} (known: {', '.join(TARGETS)}; or define it "
                                f"with {', '.join(TARGET_DEFINITION_KEYS)})")
                continue
        where = f"targets[{k}] ({name})"
        if name in [x.name for x in targets]:
            problems.append(f"{where}: target listed twice")
            continue
        if "energies_GeV" not in t:
            problems.append(f"{where}: missing energies_GeV")
            continue
        n_problems = len(problems)
        per_nucleon, beam = _nucleus_beam(t, name, definition, physics, where, problems)
        form_factors = _form_factor_keys(t, where, problems)
        if len(problems) > n_problems:
            continue
        energies = _all_valid(_grid(t["energies_GeV"], f"{where}.energies_GeV", problems, max_cells),
                              lambda v, w: _energy_problem(pair, v, w, beam), f"{where}.energies_GeV", problems)
        if energies:
            targets.append(TargetSpec(name, energies, definition, per_nucleon, form_factors))
    return targets


def _grid_size_problem(targets: list[TargetSpec], masses: tuple[float, ...], n_xbins: int, max_cells: int) -> str:
    """A problem line if the grid (targets x union of energies x masses) exceeds ``max_cells``."""
    n_energies = len({e for t in targets for e in t.energies_GeV})
    n_cells = len(targets) * n_energies * len(masses)
    if n_cells <= max_cells:
        return ""
    lab = LAB_BYTES_PER_CELL if any(t.nucleus_energy_per_nucleon_GeV is not None for t in targets) else 0
    mb = n_cells * (16 * int(n_xbins) + 150 + lab) / 1e6
    return (f"the grid has {n_cells} cells ({len(targets)} targets x {n_energies} energies x "
            f"{len(masses)} masses; a store of ~{mb:.0f} MB read into memory by post-processing), "
            f"more than max_cells = {max_cells}; raise max_cells in the config if you mean it")


def parse_config(data: dict, source: str = "<config>") -> ScanConfig:
    """Validate a parsed TOML dict; raise :class:`UsageError` listing every problem found."""
    problems: list[str] = []
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        problems.append(f"unknown key(s) {', '.join(map(repr, unknown))} (allowed: {', '.join(TOP_KEYS)})")
    settings = _typed_settings(data, problems)
    problems += _setting_problems(settings)
    max_cells = settings["max_cells"] if settings["max_cells"] >= 1 else MAX_CELLS
    process = _process(data.get("process"), problems)
    if settings["convention"] in CONVENTIONS:
        try:
            check_family_convention(process.boson, settings["convention"])
        except ValueError as exc:
            problems.append(str(exc))
    pair = get_preset(settings["physics"] if settings["physics"] in PRESETS else None).lepton_pair(process)

    masses: tuple[float, ...] = ()
    if "masses_GeV" in data:
        masses = _all_valid(_grid(data["masses_GeV"], "masses_GeV", problems, max_cells),
                            lambda v, w: _mass_problem(pair, v, w), "masses_GeV", problems)
    else:
        problems.append("missing required key 'masses_GeV'")
    targets = _target_specs(data.get("targets"), max_cells, pair, settings["physics"], problems)
    if not problems and targets and masses:
        too_large = _grid_size_problem(targets, masses, settings["n_xbins"], max_cells)
        problems += [too_large] if too_large else []
    if problems:
        raise UsageError(f"invalid scan config {source}: " + "; ".join(problems))
    numeric = {"seed": int, "rel_err": float, "theta": float, "n_xbins": int, "max_attempts": int,
               "cell_timeout_s": float, "rank_timeout_s": float, "max_cells": int, "rank0_computes_up_to": int}
    settings = {k: numeric.get(k, lambda v: v)(v) for k, v in settings.items()}
    return ScanConfig(targets=canonical_target_order(targets), masses_GeV=masses, source=source, process=process,
                      **settings)


def load_config(path: str | Path) -> ScanConfig:
    """Read and validate a scan config TOML file (raises :class:`UsageError`)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read scan config {str(p)!r}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"scan config {str(p)!r} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                         f"{exc.start}); TOML files must be UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"scan config {str(p)!r} is not valid TOML: {exc}") from None
    return parse_config(data, source=str(p))


def config_from_dict(d: dict, source: str = "<store>") -> ScanConfig:
    """Rebuild a :class:`ScanConfig` from :meth:`ScanConfig.to_dict` output (e.g. a store's attrs)."""
    definitions = d.get("target_definitions") or {}
    beams = {n: {COLLIDER_KEY: e} for n, e in (d.get(COLLIDER_KEY) or {}).items()}
    form_factors = d.get(FORM_FACTORS_KEY) or {}
    data = {k: v for k, v in d.items() if k not in ("targets", "target_definitions", COLLIDER_KEY, FORM_FACTORS_KEY)}
    data["targets"] = [{"name": n, "energies_GeV": list(e), **definitions.get(n, {}), **beams.get(n, {}),
                        **form_factors.get(n, {})} for n, e in d["targets"].items()]
    if not data.get("cell_function"):
        data.pop("cell_function", None)
    return parse_config(data, source=source)  # canonical target order; a store reorders with its axis
