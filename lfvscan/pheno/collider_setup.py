"""Lepton-ion collider experiments (EIC, MuSIC) as data: the detector acceptance, the luminosity and the
efficiencies of signal and background (docs/physics.md §10.8).

A collider experiment (``beam = "collider"`` in the experiments TOML) observes the cells of a scan whose
target is a nucleus beam at ``nucleus_energy_per_nucleon_GeV`` (docs/physics.md §7.15).  Its yield per
selection curve is (docs/physics.md §10.8)::

    N_hat = L x sigma_acc x eps_sig,     L = luminosity_fb_per_nucleon / A  [fb^-1]

with ``sigma_acc`` the cross section with the ``accepted_particle``'s lab |eta| < ``eta_max`` and lab
energy > ``energy_min_GeV`` from the stored lab-frame histograms (:mod:`lfvscan.pheno.collider_acceptance`),
and the background (the SM ditau pairs with a lost or charge-misidentified lepton)::

    N_bg = background_pb x L x eps_bg,   eps_bg = eps_tau [misid (2 - r) + loss r]

with ``r = B(tau -> l nu nu)`` of the beam lepton's flavour and ``eps_tau`` the curve's tau identification
efficiency.  The signal efficiency (the ALP decays to tau l):

* ``"published"`` (the thesis code's ``EIC_limit`` / ``MuSIC_limit``): ``2 eps_tau (1 - r) B(a -> tau l)``:
  either tau identified, the tau decaying to the beam flavour vetoed; ``B(a -> tau l) = 1`` in the
  tau-l-only model here (the code's democratic couplings are not reproduced);
* ``"text"`` (thesis ch. 5): ``eps_tau / 2`` (the charge combination a -> l+ tau- only).
"""

from __future__ import annotations

from dataclasses import dataclass

from lfvscan.errors import UsageError
from lfvscan.util.validate import one_of

#: signal efficiency conventions (module docstring)
SIGNAL_EFFICIENCIES = ("published", "text")
#: particles whose lab acceptance the histograms give
ACCEPTED_PARTICLES = ("boson", "lepton")
#: experiment keys of a collider experiment (beam = "collider")
COLLIDER_KEYS = {
    "nucleus_energy_per_nucleon_GeV", "luminosity_fb_per_nucleon", "eta_max", "accepted_particle",
    "energy_min_GeV", "lepton_loss_rate", "misid_rate", "tau_to_lepton_br", "signal_efficiency",
}


@dataclass(frozen=True)
class ColliderSetup:
    """The collider part of an experiment (module docstring): ``nucleus_energy_per_nucleon_GeV`` [GeV],
    ``luminosity_fb`` [fb^-1] (lepton-nucleus: ``luminosity_fb_per_nucleon / A``), ``eta_max``,
    ``accepted_particle`` ("boson" / "lepton"), ``energy_min_GeV`` [GeV], ``lepton_loss_rate``,
    ``misid_rate`` (l- -> l+ charge mis-identification), ``tau_to_lepton_br`` (r), ``signal_efficiency``
    (one of :data:`SIGNAL_EFFICIENCIES`)."""

    nucleus_energy_per_nucleon_GeV: float
    luminosity_fb_per_nucleon: float
    luminosity_fb: float
    eta_max: float
    accepted_particle: str
    energy_min_GeV: float
    lepton_loss_rate: float
    misid_rate: float
    tau_to_lepton_br: float
    signal_efficiency: str

    def signal_factor(self, tau_id: float) -> float:
        """eps_sig at tau identification efficiency ``tau_id`` (module docstring)."""
        if self.signal_efficiency == "text":
            return 0.5 * tau_id
        return 2.0 * tau_id * (1.0 - self.tau_to_lepton_br)

    def background_factor(self, tau_id: float) -> float:
        """eps_bg = eps_tau [misid (2 - r) + loss r] (module docstring)."""
        r = self.tau_to_lepton_br
        return tau_id * (self.misid_rate * (2.0 - r) + self.lepton_loss_rate * r)


def _fraction(where: str, key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise UsageError(f"{where}: {key} must be a number in [0, 1], got {value!r}")
    return float(value)


def _positive(where: str, key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < float(value) < float("inf"):
        raise UsageError(f"{where}: {key} must be positive and finite, got {value!r}")
    return float(value)


def build_collider(where: str, raw: dict, mass_number: int) -> ColliderSetup:
    """The :class:`ColliderSetup` of an experiment's raw TOML table (UsageError naming the bad key)."""
    from lfvscan.pheno.collider_acceptance import ETA_CUTS

    for key in ("nucleus_energy_per_nucleon_GeV", "luminosity_fb_per_nucleon", "eta_max", "tau_to_lepton_br"):
        if key not in raw:
            raise UsageError(f"{where}: beam = 'collider' needs {key}")
    eta_max = raw["eta_max"]
    if isinstance(eta_max, bool) or not isinstance(eta_max, (int, float)) or float(eta_max) not in ETA_CUTS:
        raise UsageError(f"{where}: eta_max must be one of {', '.join(f'{e:g}' for e in ETA_CUTS)}, got {eta_max!r}")
    particle = one_of(where, "accepted_particle", raw.get("accepted_particle", "boson"), ACCEPTED_PARTICLES, UsageError)
    sig = one_of(where, "signal_efficiency", raw.get("signal_efficiency", "published"), SIGNAL_EFFICIENCIES, UsageError)
    e_min = raw.get("energy_min_GeV", 0.0)
    if isinstance(e_min, bool) or not isinstance(e_min, (int, float)) or not 0.0 <= float(e_min) < float("inf"):
        raise UsageError(f"{where}: energy_min_GeV must be finite and >= 0, got {e_min!r}")
    per_nucleon = _positive(where, "luminosity_fb_per_nucleon", raw["luminosity_fb_per_nucleon"])
    return ColliderSetup(
        nucleus_energy_per_nucleon_GeV=_positive(where, "nucleus_energy_per_nucleon_GeV",
                                                 raw["nucleus_energy_per_nucleon_GeV"]),
        luminosity_fb_per_nucleon=per_nucleon,
        luminosity_fb=per_nucleon / mass_number,
        eta_max=float(eta_max),
        accepted_particle=particle,
        energy_min_GeV=float(e_min),
        lepton_loss_rate=_fraction(where, "lepton_loss_rate", raw.get("lepton_loss_rate", 0.0)),
        misid_rate=_fraction(where, "misid_rate", raw.get("misid_rate", 0.0)),
        tau_to_lepton_br=_fraction(where, "tau_to_lepton_br", raw["tau_to_lepton_br"]),
        signal_efficiency=sig,
    )


def collider_curve(where: str, curve: dict, setup: ColliderSetup, background_pb: float) -> dict:
    """The raw curve table with the efficiencies derived from its ``tau_id_efficiency`` (module
    docstring): ``efficiency`` = eps_sig, ``background_pb`` (the experiment's unless the curve sets its
    own) and ``background_efficiency`` = eps_bg.  UsageError if the curve sets either efficiency itself."""
    if "tau_id_efficiency" not in curve:
        raise UsageError(f"{where}: a collider curve needs tau_id_efficiency")
    for key in ("efficiency", "background_efficiency"):
        if key in curve:
            raise UsageError(f"{where}: {key} of a collider curve follows from tau_id_efficiency; set that instead")
    eps = _fraction(where, "tau_id_efficiency", curve["tau_id_efficiency"])
    if eps == 0.0:
        raise UsageError(f"{where}: tau_id_efficiency must be positive, got {curve['tau_id_efficiency']!r}")
    out = {**curve, "efficiency": setup.signal_factor(eps)}
    out.setdefault("background_pb", background_pb)
    if out["background_pb"]:
        out["background_efficiency"] = setup.background_factor(eps)
    out.setdefault("scenario", "visible")
    out.setdefault("tau_mode", "all")
    out.setdefault("n_tau_tagged", 1)
    return out
