"""Closed-form properties of the LFV ALP at one parameter point (docs/physics.md §3-§5), as one dict.

>>> from lfvscan.physics.summary import model_summary
>>> s = model_summary(10.0, coupling=0.01)
>>> round(s["width_tau_mu_GeV"], 10), s["g2_band_2sigma"]["g_central"] > 0
(7.46319e-05, True)

The ALP widths (tau mu per charge and summed, chi chibar), branching ratios, c*tau and (with
``energy_GeV``) the lab decay length (§3); Delta a_mu at the given coupling and the g-2 preferred
coupling band at 1 and 2 sigma for a measured-input preset (§4); the dark-matter annihilation rate
<sigma v>(chi chibar -> tau mu) with the relic lower bound on g (§5).  Every number comes from
:mod:`lfvscan.physics.decays`, :mod:`~lfvscan.physics.g2` and :mod:`~lfvscan.physics.darkmatter`;
this module only collects them and explains closed channels in ``notes``.

Keys carry their units (``width_tau_mu_GeV``, ``ctau_m``, ``sigma_v_tau_mu_cm3_s``; dimensionless
keys have none), and so do the parameters (``mass_GeV``, ``theta_rad``, ...), which come back
under the same keys.  Keys of a lepton channel name it heavier lepton first (:func:`channel_name`:
``tau_mu`` for mu -> tau, ``tau_e`` for e -> tau, ``mu_e`` for mu -> e and e -> mu).  Closed channels give exactly 0 (infinite c*tau / relic bound give ``inf``)
and a note; invalid values (non-positive or NaN mass, negative coupling, ...) raise ``ValueError``
naming the parameter.  ``lfvscan model`` prints this dict as a table or as JSON.

The lepton pair is the process's (``process=``, :class:`~lfvscan.physics.process.Process`, default
mu -> tau) with the masses of the physics preset (``physics=``, default ``"pdg-2024"``), both chosen
once in :func:`model_summary`.  The boson couples to that one lepton pair (and to dark matter), so its
visible width is the width to that pair.  The g-2 is that of the lepton concerned
(:func:`g2_lepton_pair`): Delta a_mu when the pair has a muon (mu -> tau, mu -> e), Delta a_e for
e -> tau (key ``delta_ae``); the preferred band needs a measured anomaly, which the g-2 presets give
for the muon only.  These are the spin-0 family's closed forms; a ``"vector"`` process is refused here
(its widths, c*tau and g-2 are :mod:`lfvscan.physics.vector_model`'s, docs/physics.md §7.14).
"""

from __future__ import annotations

import math

from lfvscan.physics import darkmatter, decays, g2
from lfvscan.physics.couplings import DEFAULT_CONVENTION, DEFAULT_THETA, yukawas
from lfvscan.physics.leptons import LeptonPair
from lfvscan.physics.presets import PhysicsPreset, get_preset
from lfvscan.physics.process import DEFAULT_PROCESS, Process

#: default LFV coupling g_taumu of the summary (``lfvscan model --coupling``)
DEFAULT_COUPLING = 1e-2


def channel_name(pair: LeptonPair) -> str:
    """The pair's channel in summary keys, heavier lepton first: ``"tau_mu"``, ``"tau_e"``, ``"mu_e"``."""
    return f"{pair.heavy.name}_{pair.light.name}"


def g2_lepton_pair(pair: LeptonPair) -> LeptonPair:
    """(external, loop) leptons of the g-2 of the lepton concerned (docs/physics.md §4): the muon when
    the pair has one, else the electron, with the pair's other lepton in the loop."""
    for lepton, other in ((pair.beam, pair.final), (pair.final, pair.beam)):
        if lepton.name == "mu":
            return LeptonPair(beam=lepton, final=other)
    return LeptonPair(beam=pair.light, final=pair.heavy)


def tau_mu_open(m_a: float, pair: LeptonPair) -> bool:
    """a -> tau mu is open (:func:`lfvscan.physics.decays.tau_mu_open`, the predicate the width uses)."""
    return bool(decays.tau_mu_open(m_a, pair=pair))


def chi_chi_open(m_a: float, m_chi: float) -> bool:
    """a -> chi chibar is open (:func:`lfvscan.physics.decays.chi_chi_open`)."""
    return bool(decays.chi_chi_open(m_a, m_chi))


def annihilation_tau_mu_open(m_chi: float, pair: LeptonPair) -> bool:
    """chi chibar -> tau mu is open at rest (:func:`lfvscan.physics.darkmatter.annihilation_tau_mu_open`)."""
    return bool(darkmatter.annihilation_tau_mu_open(m_chi, pair=pair))


def _check(name: str, value, *, allow_zero: bool = False) -> None:
    if value is None:
        return
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        need = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {need}, got {value!r}")


def _check_inputs(mass, coupling, theta_rad, m_chi_GeV, g_chi, energy_GeV) -> None:
    """ValueError naming the first invalid parameter of :func:`model_summary`."""
    _check("mass_GeV", mass)
    _check("coupling", coupling, allow_zero=True)
    if not math.isfinite(theta_rad):
        raise ValueError(f"theta_rad must be a finite angle in rad, got {theta_rad!r}")
    _check("m_chi_GeV", m_chi_GeV)
    _check("g_chi", g_chi, allow_zero=True)
    _check("energy_GeV", energy_GeV)
    if energy_GeV is not None and energy_GeV < mass:
        raise ValueError(f"energy_GeV must be >= mass_GeV (ALP lab energy), got {energy_GeV!r} GeV < {mass!r} GeV")


def _decay_rows(out: dict, notes: list, pair: LeptonPair, energy: float | None) -> None:
    """Widths, branching ratios, c*tau and the lab decay length at ALP energy ``energy`` [GeV]
    (docs/physics.md §3) into ``out``."""
    mass, coupling, theta, convention = out["mass_GeV"], out["coupling"], out["theta_rad"], out["convention"]
    m_chi, g_chi = out["m_chi_GeV"], out["g_chi"]
    ch, h, l = channel_name(pair), pair.heavy.name, pair.light.name
    w_one = float(decays.width_tau_mu(mass, coupling, theta, convention, both_charges=False, pair=pair))
    w_tm = 2.0 * w_one
    w_chi = float(decays.width_chi_chi(mass, m_chi, g_chi))
    w_tot = w_tm + w_chi
    if not tau_mu_open(mass, pair):
        notes.append(f"a -> {h} {l} closed: m_a = {mass:g} GeV <= m_{h} + m_{l} = {pair.threshold_GeV:.4f} GeV "
                     "(width 0)")
    if not chi_chi_open(mass, m_chi):
        notes.append(f"a -> chi chibar closed: m_chi = {m_chi:g} GeV >= m_a/2 (width 0; visible scenario)")
    ctau = float(decays.ctau_m(mass, coupling, theta, convention, m_chi, g_chi, pair=pair))
    ctau_tm = float(decays.ctau_m(mass, coupling, theta, convention, pair=pair))
    if w_tot == 0:
        notes.append("all channels closed: the ALP is stable (c*tau infinite)")
    out.update({
        f"width_{ch}_per_charge_GeV": w_one,
        f"width_{ch}_GeV": w_tm,
        "width_chi_chi_GeV": w_chi,
        "width_total_GeV": w_tot,
        f"br_{ch}_per_charge": float(decays.br_tau_mu_per_charge(mass, coupling, m_chi, g_chi, theta, convention,
                                                                  pair=pair)),
        "br_invisible": float(decays.br_invisible(mass, coupling, m_chi, g_chi, theta, convention, exact=True,
                                                  pair=pair)),
        "ctau_m": ctau,
        f"ctau_{ch}_only_m": ctau_tm,
    })
    if energy is not None:
        out["energy_GeV"] = energy
        out["lab_decay_length_m"] = float(decays.lab_decay_length_m(energy, mass, coupling, theta, convention, m_chi,
                                                                    g_chi, pair=pair))
        out[f"lab_decay_length_{ch}_only_m"] = float(decays.lab_decay_length_m(energy, mass, coupling, theta,
                                                                                convention, pair=pair))


def _g2_rows(out: dict, notes: list, meas: g2.G2Measurement, pair: LeptonPair) -> None:
    """Delta a of the lepton concerned (:func:`g2_lepton_pair`) and, for the muon, the g-2 preferred
    bands at 1 and 2 sigma (docs/physics.md §4) into ``out``."""
    mass, coupling, theta, convention = out["mass_GeV"], out["coupling"], out["theta_rad"], out["convention"]
    pair = g2_lepton_pair(pair)
    key = f"delta_a{pair.beam.name}"
    damu = float(g2.delta_amu(mass, theta, coupling, convention, pair=pair))
    out[key] = damu
    out[f"{key}_closed_form"] = float(g2.delta_amu(mass, theta, coupling, convention, method="closed", pair=pair))
    if pair.beam.name != "mu":
        notes.append(f"g-2: Delta a_{pair.beam.name} with the {pair.final.name} in the loop; no preferred band "
                     "(the g-2 presets are measured Delta a_mu)")
        return
    out["g2_preset"] = meas.name
    out["g2_measured_delta_amu"] = meas.delta_amu
    out["g2_measured_sigma"] = meas.sigma
    out["g2_preset_description"] = meas.description
    out["g2_pull_sigma"] = (damu - meas.delta_amu) / meas.sigma
    for ns in (1, 2):
        lo, c, hi = (float(v) for v in g2.preferred_band(mass, theta, meas, ns, convention, pair=pair))
        out[f"g2_band_{ns}sigma"] = {"g_lo": lo, "g_central": c, "g_hi": hi}
    if math.isnan(out["g2_band_2sigma"]["g_hi"]):  # preferred_band: NaN iff no g gives a shift in the band
        notes.append("no g-2 band: Delta a_mu(g=1) has the wrong sign at this theta/convention (needs theta > ~pi/4)")
    else:
        for ns in (1, 2):
            if meas.delta_amu - ns * meas.sigma <= 0:
                notes.append(f"g-2 ({meas.name}): lower {ns}-sigma edge <= 0, so the {ns}-sigma band is "
                             "only an upper limit g <= g_hi (g_lo = 0)")


def _dark_matter_rows(out: dict, notes: list, pair: LeptonPair) -> None:
    """<sigma v>(chi chibar -> tau mu), the relic bound and r_infinity (docs/physics.md §5) into ``out``."""
    mass, coupling, theta, convention = out["mass_GeV"], out["coupling"], out["theta_rad"], out["convention"]
    m_chi, g_chi = out["m_chi_GeV"], out["g_chi"]
    ch, h, l = channel_name(pair), pair.heavy.name, pair.light.name
    sv = float(darkmatter.sigma_v_tau_mu(m_chi, mass, coupling, g_chi, theta, convention, pair=pair))
    out[f"sigma_v_{ch}_GeVm2"] = sv
    out[f"sigma_v_{ch}_cm3_s"] = float(darkmatter.to_cm3_per_s(sv))
    sv_w = float(darkmatter.sigma_v_tau_mu(m_chi, mass, coupling, g_chi, theta, convention,
                                           width_a=out["width_total_GeV"], pair=pair))
    out[f"sigma_v_{ch}_with_width_cm3_s"] = float(darkmatter.to_cm3_per_s(sv_w))
    out["relic_sigma_v_cm3_s"] = darkmatter.RELIC_SIGMA_V_CM3_S
    out["g_relic_min"] = float(darkmatter.g_relic(m_chi, mass, g_chi, theta, convention, pair=pair))
    out["r_infinity"] = float(darkmatter.r_infinity(out[f"sigma_v_{ch}_cm3_s"]))
    if not annihilation_tau_mu_open(m_chi, pair):
        notes.append(f"chi chibar -> {h} {l} closed: 2 m_chi <= m_{h} + m_{l} (rate 0, no relic bound)")
    if not math.isfinite(sv):
        notes.append("on the s-channel pole m_a = 2 m_chi: <sigma v> without the ALP width is infinite")
    notes.append("DM <sigma v>: s-wave, s = 4 m_chi^2; ALP width neglected except in the 'with width' row "
                 "(Gamma_a = Gamma_total at this coupling); g_min and r_inf use the width-free rate")


def model_summary(mass_GeV: float, coupling: float = DEFAULT_COUPLING, theta_rad: float = DEFAULT_THETA,
                  convention: str = DEFAULT_CONVENTION, m_chi_GeV: float | None = None,
                  g_chi: float = decays.DEFAULT_G_CHI, g2_preset: str = g2.DEFAULT_G2_PRESET,
                  energy_GeV: float | None = None, *, physics: str | PhysicsPreset | None = None,
                  process: Process | None = None) -> dict:
    """Widths, BRs, decay lengths, g-2 and dark-matter numbers of the ALP (see the module docstring).

    ``m_chi_GeV=None``: the benchmark m_chi = m_a / 3; ``g2_preset``: a name of
    :data:`lfvscan.physics.g2.G2_PRESETS`; ``energy_GeV``: ALP lab energy (>= ``mass_GeV``) for the
    lab decay length (omitted from the dict when None); ``physics``: the physics preset (name or
    :class:`~lfvscan.physics.presets.PhysicsPreset`, default ``"pdg-2024"``) that gives the lepton
    masses; ``process``: the :class:`~lfvscan.physics.process.Process` whose lepton pair the boson
    couples to (default mu -> tau; a ``"vector"`` boson is refused, module docstring).  ``notes``:
    list of explanations (closed channels, degenerate g-2 band, DM conventions).
    """
    _check_inputs(mass_GeV, coupling, theta_rad, m_chi_GeV, g_chi, energy_GeV)
    process = DEFAULT_PROCESS if process is None else process
    if process.boson != "scalar":
        raise ValueError(f"boson {process.boson!r}: the widths, g-2 and dark-matter closed forms are those of "
                         "the spin-0 family ('scalar') only")
    if process.flavour_conserving:
        raise ValueError(f"process {process.label()} is flavour-conserving: the closed forms here are those of "
                         "a flavour-violating vertex (two charge channels, a loop of the other lepton); its "
                         "cross section is a check of the production formula only")
    pair = get_preset(physics).lepton_pair(process)
    meas = g2.get_g2_measurement(g2_preset)
    notes: list[str] = []
    m_chi = mass_GeV / decays.DEFAULT_MA_OVER_MCHI if m_chi_GeV is None else m_chi_GeV
    g_S, g_P = (float(v) for v in yukawas(coupling, theta_rad, convention, pair=pair))
    out = {"mass_GeV": mass_GeV, "coupling": coupling, "theta_rad": theta_rad, "convention": convention,
           "process": process.label(), "g_S": g_S, "g_P": g_P, "m_chi_GeV": m_chi, "g_chi": g_chi}
    _decay_rows(out, notes, pair, energy_GeV)
    _g2_rows(out, notes, meas, pair)
    _dark_matter_rows(out, notes, pair)
    out["notes"] = notes
    return out
