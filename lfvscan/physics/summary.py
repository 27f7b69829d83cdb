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
under the same keys.  Closed channels give exactly 0 (infinite c*tau / relic bound give ``inf``)
and a note; invalid values (non-positive or NaN mass, negative coupling, ...) raise ``ValueError``
naming the parameter.  ``lfvscan model`` prints this dict as a table or as JSON.
"""

from __future__ import annotations

import math

from lfvscan.physics import darkmatter, decays, g2
from lfvscan.physics.constants import M_MU, M_TAU
from lfvscan.physics.couplings import DEFAULT_CONVENTION, DEFAULT_THETA, yukawas

#: default LFV coupling g_taumu of the summary (``lfvscan model --coupling``)
DEFAULT_COUPLING = 1e-2

#: m_tau + m_mu [GeV]: threshold of a -> tau mu and of chi chibar -> tau mu (docs/physics.md §3.1, §5.1)
TAU_MU_THRESHOLD_GeV = M_TAU + M_MU


def tau_mu_open(m_a: float) -> bool:
    """a -> tau mu is open (:func:`lfvscan.physics.decays.tau_mu_open`, the predicate the width uses)."""
    return bool(decays.tau_mu_open(m_a))


def chi_chi_open(m_a: float, m_chi: float) -> bool:
    """a -> chi chibar is open (:func:`lfvscan.physics.decays.chi_chi_open`)."""
    return bool(decays.chi_chi_open(m_a, m_chi))


def annihilation_tau_mu_open(m_chi: float) -> bool:
    """chi chibar -> tau mu is open at rest (:func:`lfvscan.physics.darkmatter.annihilation_tau_mu_open`)."""
    return bool(darkmatter.annihilation_tau_mu_open(m_chi))


def _check(name: str, value, *, allow_zero: bool = False) -> None:
    if value is None:
        return
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        need = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {need}, got {value!r}")


def model_summary(mass_GeV: float, coupling: float = DEFAULT_COUPLING, theta_rad: float = DEFAULT_THETA,
                  convention: str = DEFAULT_CONVENTION, m_chi_GeV: float | None = None,
                  g_chi: float = decays.DEFAULT_G_CHI, g2_preset: str = g2.DEFAULT_G2_PRESET,
                  energy_GeV: float | None = None) -> dict:
    """Widths, BRs, decay lengths, g-2 and dark-matter numbers of the ALP (see the module docstring).

    ``m_chi_GeV=None``: the benchmark m_chi = m_a / 3; ``g2_preset``: a name of
    :data:`lfvscan.physics.g2.G2_PRESETS`; ``energy_GeV``: ALP lab energy (>= ``mass_GeV``) for the
    lab decay length (omitted from the dict when None).  ``notes``: list of explanations (closed
    channels, degenerate g-2 band, DM conventions).
    """
    mass = mass_GeV
    _check("mass_GeV", mass)
    _check("coupling", coupling, allow_zero=True)
    if not math.isfinite(theta_rad):
        raise ValueError(f"theta_rad must be a finite angle in rad, got {theta_rad!r}")
    _check("m_chi_GeV", m_chi_GeV)
    _check("g_chi", g_chi, allow_zero=True)
    _check("energy_GeV", energy_GeV)
    if energy_GeV is not None and energy_GeV < mass:
        raise ValueError(f"energy_GeV must be >= mass_GeV (ALP lab energy), got {energy_GeV!r} GeV < {mass!r} GeV")
    meas = g2.get_g2_measurement(g2_preset)
    theta, energy = theta_rad, energy_GeV
    notes: list[str] = []
    m_chi = mass / decays.DEFAULT_MA_OVER_MCHI if m_chi_GeV is None else m_chi_GeV
    g_S, g_P = (float(v) for v in yukawas(coupling, theta, convention))

    # ALP decays (§3)
    w_one = float(decays.width_tau_mu(mass, coupling, theta, convention, both_charges=False))
    w_tm = 2.0 * w_one
    w_chi = float(decays.width_chi_chi(mass, m_chi, g_chi))
    w_tot = w_tm + w_chi
    if not tau_mu_open(mass):
        notes.append(f"a -> tau mu closed: m_a = {mass:g} GeV <= m_tau + m_mu = {TAU_MU_THRESHOLD_GeV:.4f} GeV (width 0)")
    if not chi_chi_open(mass, m_chi):
        notes.append(f"a -> chi chibar closed: m_chi = {m_chi:g} GeV >= m_a/2 (width 0; visible scenario)")
    ctau = float(decays.ctau_m(mass, coupling, theta, convention, m_chi, g_chi))
    ctau_tm = float(decays.ctau_m(mass, coupling, theta, convention))
    if w_tot == 0:
        notes.append("all channels closed: the ALP is stable (c*tau infinite)")
    out = {
        "mass_GeV": mass, "coupling": coupling, "theta_rad": theta, "convention": convention,
        "g_S": g_S, "g_P": g_P, "m_chi_GeV": m_chi, "g_chi": g_chi,
        "width_tau_mu_per_charge_GeV": w_one,
        "width_tau_mu_GeV": w_tm,
        "width_chi_chi_GeV": w_chi,
        "width_total_GeV": w_tot,
        "br_tau_mu_per_charge": float(decays.br_tau_mu_per_charge(mass, coupling, m_chi, g_chi, theta, convention)),
        "br_invisible": float(decays.br_invisible(mass, coupling, m_chi, g_chi, theta, convention, exact=True)),
        "ctau_m": ctau,
        "ctau_tau_mu_only_m": ctau_tm,
    }
    if energy is not None:
        out["energy_GeV"] = energy
        out["lab_decay_length_m"] = float(decays.lab_decay_length_m(energy, mass, coupling, theta, convention, m_chi, g_chi))
        out["lab_decay_length_tau_mu_only_m"] = float(decays.lab_decay_length_m(energy, mass, coupling, theta, convention))

    # muon g-2 (§4)
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

    # dark matter (§5)
    sv = float(darkmatter.sigma_v_tau_mu(m_chi, mass, coupling, g_chi, theta, convention))
    out["sigma_v_tau_mu_GeVm2"] = sv
    out["sigma_v_tau_mu_cm3_s"] = float(darkmatter.to_cm3_per_s(sv))
    sv_w = float(darkmatter.sigma_v_tau_mu(m_chi, mass, coupling, g_chi, theta, convention, width_a=w_tot))
    out["sigma_v_tau_mu_with_width_cm3_s"] = float(darkmatter.to_cm3_per_s(sv_w))
    out["relic_sigma_v_cm3_s"] = darkmatter.RELIC_SIGMA_V_CM3_S
    out["g_relic_min"] = float(darkmatter.g_relic(m_chi, mass, g_chi, theta, convention))
    out["r_infinity"] = float(darkmatter.r_infinity(out["sigma_v_tau_mu_cm3_s"]))
    if not annihilation_tau_mu_open(m_chi):
        notes.append("chi chibar -> tau mu closed: 2 m_chi <= m_tau + m_mu (rate 0, no relic bound)")
    if not math.isfinite(sv):
        notes.append("on the s-channel pole m_a = 2 m_chi: <sigma v> without the ALP width is infinite")
    notes.append("DM <sigma v>: s-wave, s = 4 m_chi^2; ALP width neglected except in the 'with width' row "
                 "(Gamma_a = Gamma_total at this coupling); g_min and r_inf use the width-free rate")
    out["notes"] = notes
    return out
