"""Physics presets: named, frozen sets of the constants and conventions of the production cross
section (docs/physics.md §1, §7.3, §14 item 29).

A :class:`PhysicsPreset` is passed explicitly (``physics=``) to :func:`lfvscan.xsec.compute_cell`
and :func:`lfvscan.xsec.integrand.cell_physics`; there is no global state.  Two presets exist:

* ``"pdg-2024"`` (default): PDG 2024 / CODATA 2018 constants of :mod:`lfvscan.physics.constants`,
  nucleus mass ``M = A u``, coherent charge ``Z``, ``mu_p = 2.79``, ``mu_n = -1.91`` (so
  ``mu_p^2 = 7.7841``, ``mu_n^2 = 3.6481``).  Results are bit-identical to lfvscan before presets.
* ``"thesis-2024"``: the constants and conventions of the thesis code (R. Marcarelli, public
  repository rmarcarelli/thesis) behind the curves of arXiv:2407.15942: m_e = 5.11e-4, m_mu = 0.106,
  m_tau = 1.77, alpha = 1/137.056, m_p = 0.938, m_n = 0.939 GeV, 1 GeV^-2 = 3.894e8 pb, nucleus
  mass ``Z m_p + (A - Z) m_n``, coherent charge ``Z - 1``, ``mu_p^2 = 7.78``, ``mu_n^2 = 3.65``.
  Together they move sigma by 0.5-1.5 % (docs/physics.md §14 item 29).

Where each value enters (docs/physics.md §7): ``m_e`` / ``m_mu`` / ``m_tau`` are the masses of the
:class:`~lfvscan.physics.leptons.LeptonPair` of a :class:`~lfvscan.physics.process.Process`
(:meth:`PhysicsPreset.lepton_pair`; the paper's: beam muon, final tau), which every function of a
lepton mass takes explicitly: the kinematics, the reach, Delta_m
of §7.4, the Eq. (2) couplings, the x_f grid, and downstream the ALP widths, g-2, dark matter
and the tau decay lengths of the yields; ``alpha`` and ``gev2_to_pb`` the prefactor
alpha^2/(32 pi M^2) of §7.6; the nucleus mass ``M`` the kinematics and the prefactor;
``coherent_charge`` Eq. (20); ``m_p``, ``mu_p_sq``, ``mu_n_sq`` Eq. (19).  The tau lifetime
(``CTAU_TAU_CM``) and the tau branching ratios are the PDG values in every preset.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lfvscan.physics.constants import ALPHA, AMU_GEV, CTAU_TAU_CM, GEV2_TO_PB, M_E, M_MU, M_N, M_P, M_TAU
from lfvscan.physics.formfactors import DEFAULT_FF, FormFactorParams
from lfvscan.physics.leptons import Lepton, LeptonPair
from lfvscan.physics.process import Process
from lfvscan.physics.targets import Target, get_target

#: nucleus-mass conventions: ``"A*u"`` (M = A u) or ``"Z*m_p+(A-Z)*m_n"`` (thesis code)
NUCLEUS_MASS_CONVENTIONS = ("A*u", "Z*m_p+(A-Z)*m_n")


@dataclass(frozen=True)
class PhysicsPreset:
    """Constants and conventions of the production cross section (docs/physics.md §14 item 29).

    Masses in GeV; ``gev2_to_pb``: 1 GeV^-2 in pb; ``mu_p_sq`` / ``mu_n_sq``: squared nucleon
    magnetic moments of Eq. (19) (``None``: the square of :class:`FormFactorParams`' ``mu_p`` /
    ``mu_n``, which keeps the default bit-identical); ``coherent_charge``: ``"Z"`` or ``"Z-1"`` in
    Eq. (20); ``nucleus_mass``: one of :data:`NUCLEUS_MASS_CONVENTIONS`; ``source``: where the
    values come from.
    """

    name: str
    alpha: float
    m_e_GeV: float
    m_mu_GeV: float
    m_tau_GeV: float
    m_p_GeV: float
    m_n_GeV: float
    gev2_to_pb: float
    nucleus_mass: str
    coherent_charge: str
    mu_p_sq: float | None
    mu_n_sq: float | None
    source: str = ""

    def __post_init__(self):
        if self.nucleus_mass not in NUCLEUS_MASS_CONVENTIONS:
            raise ValueError(f"nucleus_mass must be one of {', '.join(NUCLEUS_MASS_CONVENTIONS)}, "
                             f"got {self.nucleus_mass!r}")
        for key in ("alpha", "m_e_GeV", "m_mu_GeV", "m_tau_GeV", "m_p_GeV", "m_n_GeV", "gev2_to_pb"):
            v = getattr(self, key)
            if not (isinstance(v, (int, float)) and v > 0):
                raise ValueError(f"{key} must be positive, got {v!r}")

    def nucleus_mass_GeV(self, target: Target) -> float:
        """Nucleus mass [GeV]: ``A u`` or ``Z m_p + (A - Z) m_n`` (docs/physics.md §1)."""
        if self.nucleus_mass == "A*u":
            return target.A * AMU_GEV
        return target.Z * self.m_p_GeV + (target.A - target.Z) * self.m_n_GeV

    def target(self, target: str | Target) -> Target:
        """The target with this preset's nucleus mass (name, Z, A and bulk properties unchanged).

        A :class:`Target` instance with an explicit ``nucleus_mass_GeV`` different from ``A u``
        is returned unchanged under ``"A*u"`` (the user's override wins)."""
        tgt = get_target(target)
        if self.nucleus_mass == "A*u":
            return tgt
        return dataclasses.replace(tgt, nucleus_mass_GeV=self.nucleus_mass_GeV(tgt))

    def form_factors(self, base: FormFactorParams = DEFAULT_FF) -> FormFactorParams:
        """``base`` with this preset's coherent charge, m_p and magnetic moments (Eqs. (19)-(20)).

        Only the preset values that differ from :data:`DEFAULT_FF`'s are applied, so an explicit
        ``ff=`` (e.g. ``coherent_charge="Z-1"``) is kept as given under ``pdg-2024``, and
        ``pdg-2024`` with the default ``base`` gives ``DEFAULT_FF`` itself (bit-identical)."""
        wanted = {"coherent_charge": self.coherent_charge, "m_p_GeV": self.m_p_GeV,
                  "mu_p_sq": self.mu_p_sq, "mu_n_sq": self.mu_n_sq}
        changes = {k: v for k, v in wanted.items() if v != getattr(DEFAULT_FF, k)}
        return dataclasses.replace(base, **changes) if changes else base

    def lepton(self, name: str) -> Lepton:
        """The charged lepton ``"e"``, ``"mu"`` or ``"tau"`` with this preset's mass [GeV]; the tau
        with c tau = ``CTAU_TAU_CM``, electron and muon stable on the scale of the experiments."""
        if name == "e":
            return Lepton("e", self.m_e_GeV)
        if name == "mu":
            return Lepton("mu", self.m_mu_GeV)
        if name == "tau":
            return Lepton("tau", self.m_tau_GeV, ctau_cm=CTAU_TAU_CM)
        raise ValueError(f"unknown lepton {name!r} (known: 'e', 'mu', 'tau')")

    def lepton_pair(self, process: Process) -> LeptonPair:
        """The beam and final leptons of ``process`` with this preset's masses (docs/physics.md §1, §7)."""
        return LeptonPair(beam=self.lepton(process.beam), final=self.lepton(process.final))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PDG_2024 = PhysicsPreset(
    name="pdg-2024", alpha=ALPHA, m_e_GeV=M_E, m_mu_GeV=M_MU, m_tau_GeV=M_TAU, m_p_GeV=M_P, m_n_GeV=M_N,
    gev2_to_pb=GEV2_TO_PB, nucleus_mass="A*u", coherent_charge="Z", mu_p_sq=None, mu_n_sq=None,
    source="PDG 2024 / CODATA 2018 (docs/physics.md §1); paper's Eq. (20) with Z; mu_p = 2.79, mu_n = -1.91",
)

THESIS_2024 = PhysicsPreset(
    name="thesis-2024", alpha=1.0 / 137.056, m_e_GeV=5.11e-4, m_mu_GeV=0.106, m_tau_GeV=1.77, m_p_GeV=0.938, m_n_GeV=0.939,
    gev2_to_pb=3.894e8, nucleus_mass="Z*m_p+(A-Z)*m_n", coherent_charge="Z-1", mu_p_sq=7.78, mu_n_sq=3.65,
    source="thesis code of R. Marcarelli (github.com/rmarcarelli/thesis) used for arXiv:2407.15942",
)

#: presets by name
PRESETS: dict[str, PhysicsPreset] = {p.name: p for p in (PDG_2024, THESIS_2024)}
DEFAULT_PRESET = PDG_2024


def get_preset(preset: str | PhysicsPreset | None) -> PhysicsPreset:
    """A preset by name (``None``: the default ``pdg-2024``); ValueError naming the bad value."""
    if preset is None:
        return DEFAULT_PRESET
    if isinstance(preset, PhysicsPreset):
        return preset
    try:
        return PRESETS[str(preset)]
    except KeyError:
        raise ValueError(f"unknown physics preset {preset!r} (known: {', '.join(PRESETS)})") from None
