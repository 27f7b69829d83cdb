"""``lfvscan model``: closed-form properties of the LFV ALP at one parameter point.

Prints the ALP widths (tau mu per charge and summed, chi chibar), branching ratios, c*tau and
(with ``--energy``) the lab decay length (physics.md §3), Delta a_mu at the given coupling and the
g-2 preferred coupling band at 1 and 2 sigma for a measured-input preset (§4), and the dark-matter
annihilation rate <sigma v>(chi chibar -> tau mu) with the relic lower bound on g (§5).

Closed channels are reported as exactly 0 with a note; invalid values (non-positive or NaN mass,
negative coupling, ...) raise :class:`lfvscan.errors.UsageError` (one stderr line, exit 2).
``--json`` prints one JSON object whose keys carry their units (``width_tau_mu_GeV``, ``ctau_m``,
``sigma_v_tau_mu_cm3_s``; dimensionless keys have no suffix); non-finite numbers become ``null``.
"""

from __future__ import annotations

import json
import math

from lfvscan.physics import darkmatter
from lfvscan.physics import decays
from lfvscan.physics import g2
from lfvscan.physics.constants import M_MU, M_TAU
from lfvscan.physics.couplings import CONVENTIONS, DEFAULT_CONVENTION, DEFAULT_THETA, yukawas
from lfvscan.errors import UsageError

DEFAULT_COUPLING = 1e-2


def add_parser(subparsers):
    p = subparsers.add_parser(
        "model",
        help="widths, lifetimes, g-2 and dark-matter numbers of the ALP at one mass (closed forms)",
        description="Closed-form properties of the LFV tau-mu ALP at one parameter point "
                    "(physics.md §3-§5): decay widths and BRs, c*tau, Delta a_mu and the g-2 "
                    "preferred coupling band, DM annihilation rate and relic bound.",
    )
    p.add_argument("--mass", type=float, required=True, metavar="GEV", help="ALP mass m_a [GeV]")
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


def _check(name: str, value, *, allow_zero: bool = False):
    if value is None:
        return
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        need = ">= 0" if allow_zero else "> 0"
        raise UsageError(f"{name} must be a finite number {need}, got {value!r}")


def model_summary(mass, coupling=DEFAULT_COUPLING, theta=DEFAULT_THETA, convention=DEFAULT_CONVENTION,
                  m_chi=None, g_chi=decays.DEFAULT_G_CHI, g2_preset=g2.DEFAULT_G2_PRESET, energy=None) -> dict:
    """All numbers printed by ``lfvscan model`` as a dict (keys carry units; physics.md §3-§5)."""
    _check("--mass", mass)
    _check("--coupling", coupling, allow_zero=True)
    if not math.isfinite(theta):
        raise UsageError(f"--theta must be a finite angle in rad, got {theta!r}")
    _check("--m-chi", m_chi)
    _check("--g-chi", g_chi, allow_zero=True)
    _check("--energy", energy)
    if energy is not None and energy < mass:
        raise UsageError(f"--energy must be >= --mass (ALP lab energy), got {energy!r} GeV < {mass!r} GeV")
    try:
        meas = g2.get_g2_measurement(g2_preset)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    notes: list[str] = []
    m_chi_v = mass / decays.DEFAULT_MA_OVER_MCHI if m_chi is None else m_chi
    g_S, g_P = (float(v) for v in yukawas(coupling, theta, convention))

    w_one = float(decays.width_tau_mu(mass, coupling, theta, convention, both_charges=False))
    w_tm = 2.0 * w_one
    w_chi = float(decays.width_chi_chi(mass, m_chi_v, g_chi))
    w_tot = w_tm + w_chi
    if mass <= M_TAU + M_MU:
        notes.append(f"a -> tau mu closed: m_a = {mass:g} GeV <= m_tau + m_mu = {M_TAU + M_MU:.4f} GeV (width 0)")
    if mass <= 2.0 * m_chi_v:
        notes.append(f"a -> chi chibar closed: m_chi = {m_chi_v:g} GeV >= m_a/2 (width 0; visible scenario)")
    ctau = float(decays.ctau_m(mass, coupling, theta, convention, m_chi_v, g_chi))
    ctau_tm = float(decays.ctau_m(mass, coupling, theta, convention))
    if w_tot == 0:
        notes.append("all channels closed: the ALP is stable (c*tau infinite)")
    out = {
        "mass_GeV": mass, "coupling": coupling, "theta_rad": theta, "convention": convention,
        "g_S": g_S, "g_P": g_P, "m_chi_GeV": m_chi_v, "g_chi": g_chi,
        "width_tau_mu_per_charge_GeV": w_one,
        "width_tau_mu_GeV": w_tm,
        "width_chi_chi_GeV": w_chi,
        "width_total_GeV": w_tot,
        "br_tau_mu_per_charge": float(decays.br_tau_mu_per_charge(mass, coupling, m_chi_v, g_chi, theta, convention)),
        "br_invisible": float(decays.br_invisible(mass, coupling, m_chi_v, g_chi, theta, convention, exact=True)),
        "ctau_m": ctau,
        "ctau_tau_mu_only_m": ctau_tm,
    }
    if energy is not None:
        out["energy_GeV"] = energy
        out["lab_decay_length_m"] = float(decays.lab_decay_length_m(energy, mass, coupling, theta, convention, m_chi_v, g_chi))
        out["lab_decay_length_tau_mu_only_m"] = float(decays.lab_decay_length_m(energy, mass, coupling, theta, convention))

    damu = float(g2.delta_amu(mass, theta, coupling, convention))
    out["delta_amu"] = damu
    out["delta_amu_closed_form"] = float(g2.delta_amu(mass, theta, coupling, convention, method="closed"))
    out["g2_preset"] = meas.name
    out["g2_measured_delta_amu"] = meas.delta_amu
    out["g2_measured_sigma"] = meas.sigma
    out["g2_preset_description"] = meas.description
    out["g2_pull_sigma"] = (damu - meas.delta_amu) / meas.sigma
    for ns in (1, 2):
        lo, c, hi = (float(v) for v in g2.preferred_band(mass, theta, meas, ns, convention))
        out[f"g2_band_{ns}sigma"] = {"g_lo": lo, "g_central": c, "g_hi": hi}
    if math.isnan(out["g2_band_2sigma"]["g_hi"]):  # preferred_band: NaN iff Delta a_mu(g = 1) <= 0
        notes.append("no g-2 band: Delta a_mu(g=1) <= 0 at this theta/convention (needs theta > ~pi/4)")
    else:
        for ns in (1, 2):
            if meas.delta_amu - ns * meas.sigma <= 0:
                notes.append(f"g-2 ({meas.name}): lower {ns}-sigma edge <= 0, so the {ns}-sigma band is "
                             "only an upper limit g <= g_hi (g_lo = 0)")

    sv = float(darkmatter.sigma_v_tau_mu(m_chi_v, mass, coupling, g_chi, theta, convention))
    out["sigma_v_tau_mu_GeVm2"] = sv
    out["sigma_v_tau_mu_cm3_s"] = float(darkmatter.to_cm3_per_s(sv))
    sv_w = float(darkmatter.sigma_v_tau_mu(m_chi_v, mass, coupling, g_chi, theta, convention, width_a=w_tot))
    out["sigma_v_tau_mu_with_width_cm3_s"] = float(darkmatter.to_cm3_per_s(sv_w))
    out["relic_sigma_v_cm3_s"] = darkmatter.RELIC_SIGMA_V_CM3_S
    out["g_relic_min"] = float(darkmatter.g_relic(m_chi_v, mass, g_chi, theta, convention))
    out["r_infinity"] = float(darkmatter.r_infinity(out["sigma_v_tau_mu_cm3_s"]))
    if 2.0 * m_chi_v <= M_TAU + M_MU:
        notes.append("chi chibar -> tau mu closed: 2 m_chi <= m_tau + m_mu (rate 0, no relic bound)")
    if not math.isfinite(sv):
        notes.append("on the s-channel pole m_a = 2 m_chi: <sigma v> without the ALP width is infinite")
    notes.append("DM <sigma v>: s-wave, s = 4 m_chi^2; ALP width neglected except in the 'with width' row "
                 "(Gamma_a = Gamma_total at this coupling); g_min and r_inf use the width-free rate")
    out["notes"] = notes
    return out


#: (key, label, unit) rows of the human-readable table
_ROWS = [
    ("mass_GeV", "m_a", "GeV"), ("coupling", "g", ""), ("theta_rad", "theta", "rad"),
    ("convention", "convention", ""), ("g_S", "g_S", ""), ("g_P", "g_P", ""),
    ("width_tau_mu_per_charge_GeV", "Gamma(a -> tau- mu+)", "GeV"),
    ("width_tau_mu_GeV", "Gamma(a -> tau mu), both charges", "GeV"),
    ("m_chi_GeV", "m_chi", "GeV"), ("g_chi", "g_chi", ""),
    ("width_chi_chi_GeV", "Gamma(a -> chi chibar)", "GeV"),
    ("width_total_GeV", "Gamma_total", "GeV"),
    ("br_tau_mu_per_charge", "BR(a -> tau- mu+)", ""),
    ("br_invisible", "BR(a -> chi chibar)", ""),
    ("ctau_m", "c tau (all channels)", "m"),
    ("ctau_tau_mu_only_m", "c tau (tau mu only)", "m"),
    ("energy_GeV", "E_a (lab)", "GeV"),
    ("lab_decay_length_m", "lab decay length (all channels)", "m"),
    ("lab_decay_length_tau_mu_only_m", "lab decay length (tau mu only)", "m"),
    ("delta_amu", "Delta a_mu (exact loop)", ""),
    ("delta_amu_closed_form", "Delta a_mu (Eq. 8 closed form)", ""),
    ("g2_preset", "g-2 preset", ""),
    ("g2_measured_delta_amu", "measured Delta a_mu", ""),
    ("g2_measured_sigma", "measured sigma", ""),
    ("g2_pull_sigma", "(ALP - measured)/sigma", ""),
    ("g2_band_1sigma", "g-2 preferred g, 1 sigma", ""),
    ("g2_band_2sigma", "g-2 preferred g, 2 sigma", ""),
    ("sigma_v_tau_mu_GeVm2", "<sigma v>(chi chibar -> tau mu)", "GeV^-2"),
    ("sigma_v_tau_mu_cm3_s", "<sigma v>(chi chibar -> tau mu)", "cm^3/s"),
    ("sigma_v_tau_mu_with_width_cm3_s", "<sigma v>(chi chibar -> tau mu), with width", "cm^3/s"),
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


def format_table(summary: dict) -> str:
    """Aligned two-column table with units (one quantity per line), followed by the notes."""
    rows = [(label, _fmt(summary[key]), unit) for key, label, unit in _ROWS if key in summary]
    w1 = max(len(r[0]) for r in rows)
    lines = [f"{label:<{w1}}  {val} {unit}".rstrip() for label, val, unit in rows]
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


def run(args) -> int:
    summary = model_summary(args.mass, args.coupling, args.theta, args.convention, args.m_chi, args.g_chi,
                            args.g2_preset, args.energy)
    if args.json:
        print(json.dumps(_json_safe(summary), indent=2, allow_nan=False))
    else:
        print(format_table(summary))
    return 0
