"""Experiments and selection curves as data (docs/physics.md §9, §10.2, §10.3).

The defaults live in ``lfvscan/data/experiments.toml`` (a copy sits in ``configs/``), so an
installed lfvscan works without the repository.  :func:`load_experiments` reads a TOML file into
frozen dataclasses; every number can be overridden in a user file or with ``overrides``
(``{"na64mu.n_mu": 1e12, "hemu.inv-2mm.res_tau1_cm": 0.1}``).

Nothing physical is typed in twice: the column density n_T L is computed from the target's
density and molar mass (:meth:`lfvscan.physics.targets.Target.column_density_per_pb`), and branching
ratios come from :mod:`lfvscan.physics.constants`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from lfvscan.physics.constants import BR_TAU_3PRONG, BR_TAU_TO_MU
from lfvscan.errors import UsageError
from lfvscan.pheno.collider_setup import COLLIDER_KEYS, ColliderSetup, build_collider, collider_curve
from lfvscan.pheno.flux import FLUX_MODELS, flux_model_path
from lfvscan.util.textfile import read_text
from lfvscan.util.validate import one_of
from lfvscan.physics.targets import Target, get_target
from lfvscan.physics.taudecay import ACCEPTANCE_MODES

#: tau decay modes a selection can require -> branching ratio (docs/physics.md §1, §10.2)
TAU_MODES: dict[str, float] = {"mu": BR_TAU_TO_MU, "3prong": BR_TAU_3PRONG, "all": 1.0}
SCENARIOS = ("invisible", "visible")
BEAMS = ("mono", "flux", "collider")
DEFAULT_FILE = "experiments.toml"

#: keys of the limit statistics and the background, allowed on an experiment (inherited by its
#: curves) and on a curve (wins), docs/physics.md §10.6
_LIMIT_KEYS = {"statistics", "cl", "background_events", "background_pb", "background_efficiency"}
_EXP_KEYS = {
    "label", "target", "length_cm", "length_X0", "beam", "beam_energy_GeV", "n_mu",
    "flux_file", "luminosity_fb", "area_cm2", "curves", "process",
} | _LIMIT_KEYS | COLLIDER_KEYS
_CURVE_KEYS = {
    "name", "label", "scenario", "alp_br", "tau_mode", "n_tau_tagged", "res_tau1_cm",
    "res_tau2_cm", "efficiency", "n_mu", "drawn", "acceptance", "muon_energy_max_GeV",
    "tau2_acceptance", "n_req", "tau_id_efficiency",
} | _LIMIT_KEYS
#: the process an experiment without a ``process`` key observes (the paper's)
DEFAULT_EXPERIMENT_PROCESS = "mu -> tau"
#: how the tau from the ALP decay (tau_2) enters a visible curve (docs/physics.md §10.3):
#: "correlated" (default, exact): P_2 at each event's E_a, correlated with the tau_1 cut;
#: "mean-energy" (the published analysis, thesis code): tau_2 resolved iff its mean lab energy at
#: the event's E_a, E_a E*/m_a, exceeds E_cut(res_tau2_cm); the tau_2 fraction of sigma is
#: multiplied with the tau_1 fraction as if independent
TAU2_ACCEPTANCES = ("correlated", "mean-energy")
#: N_req of the published analysis: Feldman-Cousins 90 % CL upper limit for 0 observed, 0 background
N_REQ_PUBLISHED = 2.44
#: curve settings of the published analysis for every visible curve (``--visible-analysis published``)
PUBLISHED_VISIBLE = {"tau2_acceptance": "mean-energy", "n_req": N_REQ_PUBLISHED}
#: treatments of the visible curves: "exact" (correlated tau1/tau2 acceptance, the default) or
#: "published" (every visible curve gets PUBLISHED_VISIBLE), docs/physics.md §10.3
VISIBLE_ANALYSES = ("exact", "published")
#: decay-length acceptance criteria (docs/physics.md §8.5): mean decay length > d (baseline) or
#: survival probability exp(-d / lambda); defined with the criteria in lfvscan.physics.taudecay
ACCEPTANCES = ACCEPTANCE_MODES


@dataclass(frozen=True)
class Selection:
    """One selection curve (a row of the tables in docs/physics.md §10.2 / §10.3).

    The per-event efficiency is ``eps(E_a; E) = factor * Theta(lambda_tau(E - E_a) > res_tau1_cm)
    * P_2(E_a; res_tau2_cm)`` with ``factor = alp_br * BR(tau_mode)**n_tau_tagged * efficiency``.

    Attributes: ``name`` (unique within the experiment), ``label`` (legend text), ``scenario``
    ("invisible" / "visible"), ``alp_br`` (BR of the ALP into the selected final state: BR_inv = 1
    [P, §3.5] or 1/2 for the charge-flip combination [P, §10.3]), ``tau_mode`` ("mu", "3prong",
    "all"), ``n_tau_tagged`` (1 or 2), ``res_tau1_cm`` / ``res_tau2_cm`` (decay-length resolution
    for the conversion tau / the tau from the ALP decay [cm]; None = no cut), ``efficiency``
    (detector efficiency, default 1 [U, §9.1]), ``n_mu`` (overrides the experiment's muons on
    target for this curve), ``drawn`` (informational: drawn in the paper's figure),
    ``acceptance`` ("mean": Theta(lambda_tau > d), the baseline of docs/physics.md §8.5 [U]; or
    "exponential": survival probability exp(-d / lambda_tau), the option of §8.5),
    ``muon_energy_max_GeV`` (optional NA64-mu cut on the muon from tau -> mu nu nu, e.g. E/2 = 80
    GeV: weight P(E_mu < value) from the spectrum of §8.4; None = no cut, the paper's baseline),
    ``tau2_acceptance`` (visible curves: one of :data:`TAU2_ACCEPTANCES`, default "correlated"),
    ``n_req`` (signal events required for this curve's exclusion; None = the global ``N_req``),
    ``statistics`` / ``cl`` (limit method and confidence level, :mod:`lfvscan.pheno.statistics`;
    None = the global ones), ``background_events`` (expected background events) plus
    ``background_pb`` x the lepton-nucleus luminosity [pb^-1] x ``background_efficiency``
    (docs/physics.md §10.6).
    """

    name: str
    label: str
    scenario: str = "invisible"
    alp_br: float = 1.0
    tau_mode: str = "all"
    n_tau_tagged: int = 1
    res_tau1_cm: float | None = None
    res_tau2_cm: float | None = None
    efficiency: float = 1.0
    n_mu: float | None = None
    drawn: bool = True
    acceptance: str = "mean"
    muon_energy_max_GeV: float | None = None
    tau2_acceptance: str = "correlated"
    n_req: float | None = None
    statistics: str | None = None
    cl: float | None = None
    background_events: float = 0.0
    background_pb: float = 0.0
    background_efficiency: float = 1.0
    tau_id_efficiency: float | None = None  #: collider curves: tau identification (docs/physics.md §10.8)

    @property
    def factor(self) -> float:
        """Constant part of the efficiency: alp_br * BR(tau_mode)^n_tau_tagged * efficiency."""
        return self.alp_br * TAU_MODES[self.tau_mode] ** self.n_tau_tagged * self.efficiency


@dataclass(frozen=True)
class Experiment:
    """One experiment (docs/physics.md §9).

    Attributes: ``name`` (key), ``label``, ``target`` (:class:`Target`), ``length_cm`` [cm],
    ``beam`` ("mono": ``beam_energy_GeV`` and ``n_mu`` muons on target; "flux": muon spectrum in
    ``flux_file`` per fb^-1 times ``luminosity_fb`` [fb^-1]), ``area_cm2`` (informational),
    ``curves`` (tuple of :class:`Selection`), ``source`` (file it was read from), ``process``
    ((beam lepton, final lepton) it observes; TOML ``process = "e -> tau"``, default "mu -> tau").
    """

    @property
    def process_label(self) -> str:
        """``"mu -> tau"``."""
        return f"{self.process[0]} -> {self.process[1]}"

    name: str
    label: str
    target: Target
    length_cm: float
    beam: str
    curves: tuple[Selection, ...]
    beam_energy_GeV: float | None = None
    n_mu: float | None = None
    flux_file: str | None = None
    luminosity_fb: float | None = None
    area_cm2: float | None = None
    source: str = ""
    process: tuple[str, str] = ("mu", "tau")
    #: beam = "collider": the collider setup (luminosity, acceptance, efficiencies), docs/physics.md §10.8
    collider: ColliderSetup | None = None

    @property
    def column_density_per_pb(self) -> float:
        """n_T L [pb^-1] from the target density, molar mass and length (docs/physics.md §13.1)."""
        return self.target.column_density_per_pb(self.length_cm)

    def curve(self, name: str) -> Selection:
        for c in self.curves:
            if c.name == name:
                return c
        raise UsageError(
            f"unknown curve {name!r} of experiment {self.name!r} (known: {', '.join(c.name for c in self.curves)})"
        )

    def n_mu_for(self, curve: Selection) -> float:
        """Muons on target for ``curve`` (mono beams)."""
        return float(curve.n_mu if curve.n_mu is not None else self.n_mu)

    def flux_path(self) -> Path:
        """Resolve ``flux_file``: a flux model name (:data:`lfvscan.pheno.flux.FLUX_MODELS`), an
        absolute path, a path next to the source TOML, or a file in the package data."""
        if self.flux_file is None:
            raise UsageError(f"experiment {self.name!r} has no flux_file")
        if self.flux_file in FLUX_MODELS:
            return flux_model_path(self.flux_file)
        p = Path(self.flux_file).expanduser()
        if p.is_absolute():
            return p
        if self.source:
            q = Path(self.source).parent / p
            if q.exists():
                return q
        if p.exists():
            return p
        data = resources.files("lfvscan") / "data" / p.name
        return Path(str(data))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["target"] = self.target.name
        d["column_density_per_pb"] = self.column_density_per_pb
        return d


def _positive_number(where: str, key: str, value, *, allow_none=False):
    """A positive finite number from the TOML (UsageError naming ``where``, ``key`` and the value)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{where}: {key} must be a number, got {value!r}")
    v = float(value)
    if not (0.0 < v < float("inf")):  # also rejects nan
        raise UsageError(f"{where}: {key} must be positive and finite, got {value!r}")
    return v


def _build_curve(exp_name: str, raw: dict) -> Selection:
    where = f"experiment {exp_name!r}"
    if not isinstance(raw, dict) or "name" not in raw:
        raise UsageError(f"{where}: every [[{exp_name}.curves]] entry needs a name")
    name = str(raw["name"])
    where = f"curve {exp_name}.{name}"
    unknown = set(raw) - _CURVE_KEYS
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(_CURVE_KEYS))})")
    scen = one_of(where, "scenario", raw.get("scenario", "invisible"), SCENARIOS, UsageError)
    mode = one_of(where, "tau_mode", raw.get("tau_mode", "all"), TAU_MODES, UsageError)
    ntag = raw.get("n_tau_tagged", 1 if scen == "invisible" else 2)
    if ntag not in (1, 2) or isinstance(ntag, bool):
        raise UsageError(f"{where}: n_tau_tagged must be 1 or 2, got {ntag!r}")
    alp_br = _positive_number(where, "alp_br", raw.get("alp_br", 1.0))
    if alp_br > 1:
        raise UsageError(f"{where}: alp_br must be <= 1, got {alp_br!r}")
    eff = _positive_number(where, "efficiency", raw.get("efficiency", 1.0))
    if eff > 1:
        raise UsageError(f"{where}: efficiency must be <= 1, got {eff!r}")
    acc = raw.get("acceptance", "mean")
    if acc not in ACCEPTANCES:
        raise UsageError(f"{where}: acceptance must be one of {ACCEPTANCES}, got {acc!r}")
    mu_max = _positive_number(where, "muon_energy_max_GeV", raw.get("muon_energy_max_GeV"), allow_none=True)
    if mu_max is not None and not (mode == "mu" and scen == "invisible"):
        raise UsageError(f"{where}: muon_energy_max_GeV needs tau_mode = 'mu' and the invisible scenario")
    res2 = _positive_number(where, "res_tau2_cm", raw.get("res_tau2_cm"), allow_none=True)
    if res2 is not None and scen != "visible":
        raise UsageError(f"{where}: res_tau2_cm only applies to the visible scenario (tau from a -> tau mu)")
    tau2_acc = raw.get("tau2_acceptance", "correlated")
    if tau2_acc not in TAU2_ACCEPTANCES:
        raise UsageError(f"{where}: tau2_acceptance must be one of {TAU2_ACCEPTANCES}, got {tau2_acc!r}")
    if tau2_acc == "mean-energy" and (scen != "visible" or acc != "mean"):
        raise UsageError(f"{where}: tau2_acceptance = 'mean-energy' needs the visible scenario and acceptance = 'mean'")
    n_req = _positive_number(where, "n_req", raw.get("n_req"), allow_none=True)
    if n_req is not None and not n_req > 0:
        raise UsageError(f"{where}: n_req must be positive, got {n_req!r}")
    limit = _limit_settings(where, raw)
    if n_req is not None and limit["statistics"] not in (None, "fixed"):
        raise UsageError(f"{where}: n_req applies to statistics 'fixed' only, got statistics {limit['statistics']!r}")
    return Selection(
        name=name,
        label=str(raw.get("label", f"{exp_name} {name}")),
        scenario=scen,
        alp_br=alp_br,
        tau_mode=mode,
        n_tau_tagged=int(ntag),
        res_tau1_cm=_positive_number(where, "res_tau1_cm", raw.get("res_tau1_cm"), allow_none=True),
        res_tau2_cm=res2,
        efficiency=eff,
        n_mu=_positive_number(where, "n_mu", raw.get("n_mu"), allow_none=True),
        drawn=bool(raw.get("drawn", True)),
        acceptance=acc,
        muon_energy_max_GeV=mu_max,
        tau2_acceptance=tau2_acc,
        n_req=n_req,
        tau_id_efficiency=raw.get("tau_id_efficiency"),
        **limit,
    )


def _limit_settings(where: str, raw: dict) -> dict:
    """The curve's statistics, cl and background keys, validated (docs/physics.md §10.6)."""
    from lfvscan.pheno.statistics import METHODS, Statistics

    method = raw.get("statistics")
    if method is not None and method not in METHODS:
        raise UsageError(f"{where}: statistics must be one of {METHODS}, got {method!r}")
    cl = raw.get("cl")
    if cl is not None:
        try:
            Statistics(method or "fixed", cl)
        except UsageError as exc:
            raise UsageError(f"{where}: cl: {exc}") from None
        cl = float(cl)
    out = {"statistics": method, "cl": cl}
    for key in ("background_events", "background_pb"):
        v = raw.get(key, 0.0)
        out[key] = 0.0 if v == 0 else _positive_number(where, key, v)
    eff = _positive_number(where, "background_efficiency", raw.get("background_efficiency", 1.0))
    if eff > 1:
        raise UsageError(f"{where}: background_efficiency must be <= 1, got {eff!r}")
    out["background_efficiency"] = eff
    return out


def _parse_process(where: str, text) -> tuple[str, str]:
    """``"e -> tau"`` -> ("e", "tau"), checked against the leptons a process may have."""
    from lfvscan.physics.process import BEAM_LEPTONS, FINAL_LEPTONS

    parts = [p.strip() for p in str(text).split("->")]
    if len(parts) != 2 or parts[0] not in BEAM_LEPTONS or parts[1] not in FINAL_LEPTONS:
        raise UsageError(f"{where}: process must read 'BEAM -> FINAL' with BEAM in {BEAM_LEPTONS} and FINAL in "
                         f"{FINAL_LEPTONS}, got {text!r}")
    return parts[0], parts[1]


def _beam_settings(where: str, raw: dict, target: Target, beam: str) -> tuple[float, dict]:
    """(target length [cm], the beam's Experiment fields) of an experiment's raw table: a fixed target's
    length and its mono beam or flux; a collider's lepton energy and :class:`ColliderSetup` (no length)."""
    kw: dict = {}
    if beam == "collider":
        stray = sorted({"length_cm", "length_X0", "n_mu", "flux_file", "luminosity_fb"} & set(raw))
        if stray:
            raise UsageError(f"{where}: {', '.join(stray)} do not apply to beam = 'collider' "
                             "(its luminosity is luminosity_fb_per_nucleon / A)")
        kw["beam_energy_GeV"] = _positive_number(where, "beam_energy_GeV", raw.get("beam_energy_GeV"))
        kw["collider"] = build_collider(where, raw, target.A)
        kw["luminosity_fb"] = kw["collider"].luminosity_fb
        return 0.0, kw
    stray = sorted(COLLIDER_KEYS & set(raw))
    if stray:
        raise UsageError(f"{where}: {', '.join(stray)} only apply to beam = 'collider'")
    if ("length_cm" in raw) == ("length_X0" in raw):
        raise UsageError(f"{where}: give exactly one of length_cm, length_X0")
    if "length_cm" in raw:
        length = _positive_number(where, "length_cm", raw["length_cm"])
    else:
        try:
            length = _positive_number(where, "length_X0", raw["length_X0"]) * target.X0_cm
        except ValueError as exc:
            raise UsageError(f"{where}: length_X0 given but {exc}") from None
    if beam == "mono":
        kw["beam_energy_GeV"] = _positive_number(where, "beam_energy_GeV", raw.get("beam_energy_GeV"))
        kw["n_mu"] = _positive_number(where, "n_mu", raw.get("n_mu"))
    else:
        if not raw.get("flux_file"):
            raise UsageError(f"{where}: beam = 'flux' needs flux_file")
        kw["flux_file"] = str(raw["flux_file"])
        kw["luminosity_fb"] = _positive_number(where, "luminosity_fb", raw.get("luminosity_fb"))
    return length, kw


def _build_experiment(name: str, raw: dict, source: str) -> Experiment:
    where = f"experiment {name!r}"
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: expected a table, got {raw!r}")
    unknown = set(raw) - _EXP_KEYS
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(_EXP_KEYS))})")
    try:
        target = get_target(raw.get("target", ""))
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from None
    beam = raw.get("beam", "mono")
    if beam not in BEAMS:
        raise UsageError(f"{where}: beam must be one of {BEAMS}, got {beam!r}")
    length, kw = _beam_settings(where, raw, target, beam)
    curves_raw = raw.get("curves", [])
    if not isinstance(curves_raw, list) or not curves_raw:
        raise UsageError(f"{where}: needs at least one [[{name}.curves]] entry")
    inherited = {k: raw[k] for k in _LIMIT_KEYS if k in raw}
    if beam == "collider":
        inherited.pop("background_pb", None)
        curves_raw = [collider_curve(f"curve {name}.{c.get('name', '?')}", c, kw["collider"], raw.get("background_pb", 0.0))
                      if isinstance(c, dict) else c for c in curves_raw]
    curves = tuple(_build_curve(name, {**inherited, **c} if isinstance(c, dict) else c) for c in curves_raw)
    names = [c.name for c in curves]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise UsageError(f"{where}: duplicate curve name(s) {', '.join(sorted(dup))}")
    if beam != "mono" and any(c.n_mu is not None for c in curves):
        raise UsageError(f"{where}: n_mu on a curve only applies to mono beams")
    if beam != "collider" and any(c.tau_id_efficiency is not None for c in curves):
        raise UsageError(f"{where}: tau_id_efficiency on a curve only applies to beam = 'collider'")
    return Experiment(
        name=name,
        label=str(raw.get("label", name)),
        target=target,
        length_cm=length,
        beam=beam,
        curves=curves,
        area_cm2=_positive_number(where, "area_cm2", raw.get("area_cm2"), allow_none=True),
        source=source,
        process=_parse_process(where, raw.get("process", DEFAULT_EXPERIMENT_PROCESS)),
        **kw,
    )


def _parse_value(text: str):
    """Parse an override value: TOML scalar syntax (numbers, true/false, "strings"), else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(raw: dict, overrides: dict | None) -> dict:
    """Return a copy of the raw TOML dict with ``{"EXP.FIELD": value, "EXP.CURVE.FIELD": value}``
    applied.  String values are parsed as TOML scalars (``"1e12"`` -> 1e12); an unknown
    experiment or curve raises :class:`UsageError` naming it."""
    out = copy.deepcopy(raw)
    for key, value in (overrides or {}).items():
        if isinstance(value, str):
            value = _parse_value(value)
        parts = str(key).split(".")
        if len(parts) not in (2, 3) or not all(parts):
            raise UsageError(f"override {key!r}: expected EXP.FIELD or EXP.CURVE.FIELD")
        if parts[0] not in out:
            raise UsageError(f"override {key!r}: unknown experiment {parts[0]!r} (known: {', '.join(out)})")
        exp = out[parts[0]]
        if len(parts) == 2:
            exp[parts[1]] = value
            if parts[1] == "length_cm":
                exp.pop("length_X0", None)
            elif parts[1] == "length_X0":
                exp.pop("length_cm", None)
        else:
            match = [c for c in exp.get("curves", []) if c.get("name") == parts[1]]
            if not match:
                known = ", ".join(c.get("name", "?") for c in exp.get("curves", []))
                raise UsageError(f"override {key!r}: unknown curve {parts[1]!r} (known: {known})")
            match[0][parts[2]] = value
    return out


def default_experiments_path() -> Path:
    """Path of the packaged default ``experiments.toml``."""
    return Path(str(resources.files("lfvscan") / "data" / DEFAULT_FILE))


def read_raw(path: str | Path | None = None) -> tuple[dict, str]:
    """Read the raw TOML dict (default: packaged file); returns (dict, source path)."""
    p = Path(path) if path is not None else default_experiments_path()
    text = read_text(p, "experiments config")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"experiments config {str(p)!r}: {exc}") from None
    return raw, str(p)


def load_experiments(path: str | Path | None = None, overrides: dict | None = None) -> dict[str, Experiment]:
    """Load experiments from ``path`` (default: the packaged ``experiments.toml``), apply
    ``overrides`` and return ``{name: Experiment}`` in file order."""
    raw, source = read_raw(path)
    raw = apply_overrides(raw, overrides)
    if not raw:
        raise UsageError(f"experiments config {source!r} defines no experiment")
    return {name: _build_experiment(name, body, source) for name, body in raw.items()}


def select(experiments: dict[str, Experiment], names) -> dict[str, Experiment]:
    """Subset by name; unknown names raise :class:`UsageError` naming them."""
    if not names:
        return dict(experiments)
    bad = [n for n in names if n not in experiments]
    if bad:
        raise UsageError(f"unknown experiment {bad[0]!r} (known: {', '.join(experiments)})")
    return {n: experiments[n] for n in names}


def config_hash(experiments: dict[str, Experiment]) -> str:
    """sha256 of the canonical JSON of the experiments, without the file they came from (provenance)."""
    d = {k: {kk: vv for kk, vv in e.to_dict().items() if kk != "source"} for k, e in experiments.items()}
    blob = json.dumps(d, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def published_visible_overrides(experiments: dict[str, Experiment]) -> dict[str, object]:
    """Overrides ``{"exp.curve.key": value}`` that give every visible curve the published
    analysis' options :data:`PUBLISHED_VISIBLE` (docs/physics.md §10.3); curves with their own
    limit statistics keep them."""
    return {f"{name}.{c.name}.{k}": v for name, e in experiments.items() for c in e.curves
            if c.scenario == "visible" and c.statistics in (None, "fixed") for k, v in PUBLISHED_VISIBLE.items()}
