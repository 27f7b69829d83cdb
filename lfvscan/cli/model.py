"""``lfvscan model``: closed-form properties of the LFV boson at one parameter point.

Prints :func:`lfvscan.physics.summary.model_summary` (widths, branching ratios, decay lengths,
Delta a_mu (Delta a_e for e -> tau) and the g-2 band, DM annihilation rate and relic bound;
docs/physics.md §3-§5) for the lepton pair of ``--beam`` / ``--final`` (default mu -> tau) as an
aligned table with units, or with ``--json`` as one JSON object whose keys carry their units
(``width_tau_mu_GeV``, ``ctau_m``, ``sigma_v_tau_mu_cm3_s``; the channel is named heavier lepton
first, ``tau_e``, ``mu_e``; dimensionless keys have no suffix);
non-finite numbers become ``null``.  ``--boson vector``: the spin-1 boson's rows
(:func:`lfvscan.physics.vector_model.vector_summary`: g_V, g_A, widths, c*tau, lab decay length and
the one-loop g-2, docs/physics.md §7.14); the options of the scalar family's dark-matter and g-2 band
rows (``--convention`` other than eq3, ``--m-chi``, ``--g-chi``) are refused there.  Invalid values (non-positive or NaN mass, negative coupling,
...) are one stderr line, a usage error (:data:`lfvscan.errors.EXIT_USAGE`).
"""

from __future__ import annotations

import json
import math
import re

from lfvscan.errors import UsageError
from lfvscan.physics import decays, g2
from lfvscan.physics.couplings import CONVENTIONS, DEFAULT_CONVENTION, DEFAULT_THETA
from lfvscan.physics.presets import DEFAULT_PRESET
from lfvscan.cli.process_args import add_process_arguments, process_of
from lfvscan.physics.process import BOSON_FAMILIES, DEFAULT_PROCESS, Process
from lfvscan.physics.summary import DEFAULT_COUPLING, channel_name, g2_lepton_pair, model_summary


def add_parser(subparsers):
    p = subparsers.add_parser(
        "model",
        help="widths, lifetimes, g-2 and dark-matter numbers of the ALP at one mass (closed forms)",
        description="Closed-form properties of the LFV tau-mu ALP at one parameter point "
                    "(docs/physics.md §3-§5): decay widths and BRs, c*tau, Delta a_mu and the g-2 "
                    "preferred coupling band, DM annihilation rate and relic bound.",
    )
    p.add_argument("--mass", type=float, required=True, metavar="GEV", help="ALP mass m_a [GeV]")
    add_process_arguments(p, bosons=BOSON_FAMILIES)
    p.add_argument("--coupling", type=float, default=DEFAULT_COUPLING, metavar="G",
                   help=f"LFV coupling g_taumu (default {DEFAULT_COUPLING:g})")
    p.add_argument("--theta", type=float, default=DEFAULT_THETA, metavar="RAD",
                   help="coupling angle theta [rad]: 0 pseudoscalar, pi/2 scalar (default pi/4)")
    p.add_argument("--convention", choices=CONVENTIONS, default=DEFAULT_CONVENTION,
                   help="coupling convention: eq3 (m_mu -> 0, default) or eq2 (exact masses)")
    p.add_argument("--m-chi", dest="m_chi", type=float, default=None, metavar="GEV",
                   help="dark-matter mass [GeV] (default m_a/3)")
    p.add_argument("--g-chi", dest="g_chi", type=float, default=decays.DEFAULT_G_CHI, metavar="G",
                   help="ALP-dark matter coupling g_chi (default 1)")
    p.add_argument("--g2-preset", dest="g2_preset", choices=tuple(g2.G2_PRESETS), default=g2.DEFAULT_G2_PRESET,
                   help="measured Delta a_mu: paper-2023 = 249(48)e-11 (default), wp2025 = 38(63)e-11")
    p.add_argument("--energy", type=float, default=None, metavar="GEV",
                   help="ALP lab energy [GeV] for the lab decay length")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    return p


#: model_summary parameter -> command-line option (for error messages)
_OPTIONS = {"mass_GeV": "--mass", "coupling": "--coupling", "theta_rad": "--theta", "m_chi_GeV": "--m-chi",
            "g_chi": "--g-chi", "energy_GeV": "--energy"}

def _vector_rows(ch: str, h: str, l: str, a: str) -> list[tuple[str, str, str]]:
    """(key, label, unit) rows of the vector family's table."""
    return [
        ("mass_GeV", "m_X", "GeV"), ("coupling", "g", ""), ("theta_rad", "theta", "rad"), ("process", "process", ""),
        ("g_V", "g_V", ""), ("g_A", "g_A", ""),
        (f"width_{ch}_per_charge_GeV", f"Gamma(X -> {h}- {l}+)", "GeV"),
        (f"width_{ch}_GeV", f"Gamma(X -> {h} {l}), both charges", "GeV"),
        ("ctau_m", "c tau", "m"), ("energy_GeV", "E_X (lab)", "GeV"), ("lab_decay_length_m", "lab decay length", "m"),
        (f"delta_a{a}", f"Delta a_{a} (one loop)", ""),
    ]


def table_rows(process: Process) -> list[tuple[str, str, str]]:
    """(key, label, unit) rows of the human-readable table for the lepton pair of ``process``."""
    pair = DEFAULT_PRESET.lepton_pair(process)  # names only: the keys do not depend on the masses
    ch, h, l = channel_name(pair), pair.heavy.name, pair.light.name
    a = g2_lepton_pair(pair).beam.name
    if process.boson == "vector":
        return _vector_rows(ch, h, l, a)
    return [
        ("mass_GeV", "m_a", "GeV"), ("coupling", "g", ""), ("theta_rad", "theta", "rad"),
        ("convention", "convention", ""), ("process", "process", ""), ("g_S", "g_S", ""), ("g_P", "g_P", ""),
        (f"width_{ch}_per_charge_GeV", f"Gamma(a -> {h}- {l}+)", "GeV"),
        (f"width_{ch}_GeV", f"Gamma(a -> {h} {l}), both charges", "GeV"),
        ("m_chi_GeV", "m_chi", "GeV"), ("g_chi", "g_chi", ""),
        ("width_chi_chi_GeV", "Gamma(a -> chi chibar)", "GeV"),
        ("width_total_GeV", "Gamma_total", "GeV"),
        (f"br_{ch}_per_charge", f"BR(a -> {h}- {l}+)", ""),
        ("br_invisible", "BR(a -> chi chibar)", ""),
        ("ctau_m", "c tau (all channels)", "m"),
        (f"ctau_{ch}_only_m", f"c tau ({h} {l} only)", "m"),
        ("energy_GeV", "E_a (lab)", "GeV"),
        ("lab_decay_length_m", "lab decay length (all channels)", "m"),
        (f"lab_decay_length_{ch}_only_m", f"lab decay length ({h} {l} only)", "m"),
        (f"delta_a{a}", f"Delta a_{a} (exact loop)", ""),
        (f"delta_a{a}_closed_form", f"Delta a_{a} (Eq. 8 closed form)", ""),
        ("g2_preset", "g-2 preset", ""),
        ("g2_measured_delta_amu", "measured Delta a_mu", ""),
        ("g2_measured_sigma", "measured sigma", ""),
        ("g2_pull_sigma", "(ALP - measured)/sigma", ""),
        ("g2_band_1sigma", "g-2 preferred g, 1 sigma", ""),
        ("g2_band_2sigma", "g-2 preferred g, 2 sigma", ""),
        (f"sigma_v_{ch}_GeVm2", f"<sigma v>(chi chibar -> {h} {l})", "GeV^-2"),
        (f"sigma_v_{ch}_cm3_s", f"<sigma v>(chi chibar -> {h} {l})", "cm^3/s"),
        (f"sigma_v_{ch}_with_width_cm3_s", f"<sigma v>(chi chibar -> {h} {l}), with width", "cm^3/s"),
        ("relic_sigma_v_cm3_s", "relic target <sigma v>_0", "cm^3/s"),
        ("g_relic_min", "relic lower bound g_min", ""),
        ("r_infinity", "antiparticle fraction r_inf", ""),
    ]


def _fmt(v) -> str:
    if isinstance(v, dict):
        lo, c, hi = v["g_lo"], v["g_central"], v["g_hi"]
        if math.isnan(c):
            return "none (Delta a_mu(g=1) <= 0)"
        return f"[{lo:.5g}, {hi:.5g}]  central {c:.5g}"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def format_table(summary: dict, process: Process = DEFAULT_PROCESS) -> str:
    """Aligned two-column table with units (one quantity per line), followed by the notes."""
    rows = [(label, _fmt(summary[key]), unit) for key, label, unit in table_rows(process) if key in summary]
    w1 = max(len(r[0]) for r in rows)
    lines = [f"{label:<{w1}}  {val} {unit}".rstrip() for label, val, unit in rows]
    if "g2_preset_description" in summary:
        lines.append(f"g-2 preset: {summary['g2_preset_description']}")
    lines += [f"note: {n}" for n in summary["notes"]]
    return "\n".join(lines)


def _json_safe(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_safe(x) for x in v]
    return v


def _vector_summary(args, process: Process) -> dict:
    """The vector family's summary (module docstring); UsageError for an option of the scalar family."""
    from lfvscan.physics.summary import _check_inputs
    from lfvscan.physics.vector_model import vector_summary

    for option, given in (("--convention", args.convention != DEFAULT_CONVENTION), ("--m-chi", args.m_chi is not None),
                          ("--g-chi", args.g_chi != decays.DEFAULT_G_CHI)):
        if given:
            raise UsageError(f"{option}: an option of the scalar family's model; the vector family has one "
                             "convention and no dark-matter channel (docs/physics.md §7.14)")
    _check_inputs(args.mass, args.coupling, args.theta, None, 1.0, args.energy)
    if process.flavour_conserving:
        raise UsageError(f"process {process.label()} is flavour-conserving: the closed forms here are those of a "
                         "flavour-violating vertex")
    pair = DEFAULT_PRESET.lepton_pair(process)
    return vector_summary(args.mass, args.coupling, args.theta, args.energy, pair=pair, g2_pair=g2_lepton_pair(pair),
                          process_label=process.label())


def run(args) -> int:
    process = process_of(args)
    try:
        if process.boson == "vector":
            summary = _vector_summary(args, process)
        else:
                summary = model_summary(args.mass, args.coupling, args.theta, args.convention, args.m_chi, args.g_chi,
                                    args.g2_preset, args.energy, process=process)
    except ValueError as exc:  # the library names its parameters; say which option was bad
        message = str(exc)
        for name, option in _OPTIONS.items():
            message = re.sub(rf"\b{name}\b", option, message)
        raise UsageError(message) from None
    if args.json:
        print(json.dumps(_json_safe(summary), indent=2, allow_nan=False))
    else:
        print(format_table(summary, process))
    return 0
