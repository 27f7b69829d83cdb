"""Target materials (docs/physics.md §1, §13.1).

A :class:`Target` holds the nuclear and bulk properties of a target element.  The nucleus mass
used in the production kinematics is ``M = A u`` (docs/physics.md §1, [U] item 7: the thesis code uses
``Z m_p + (A - Z) m_n``; the difference is << 1 % in sigma).  It is a field, so a user can
override it with :func:`dataclasses.replace`.

Built-in targets (:data:`TARGETS`).  ``A`` is the mass number of the most abundant isotope (it sets
the nuclear radius R_A = r0 A^(1/3) of Eq. (20), the nucleus mass and the neutron number of
Eq. (19), docs/physics.md §7.3): 208Pb, 184W, 197Au, 27Al, 63Cu, 56Fe, 12C.  Aluminium is
A = 27 (natural Al is 100 % 27Al); the thesis code's E137 card uses 26, which is the
radioactive isotope.  Densities [g/cm^3], molar masses (standard atomic weights) [g/mol] and
radiation lengths [g/cm^2] are those of the PDG "Atomic and nuclear properties of materials"
tables (pdg.lbl.gov/AtomicNuclearProperties); carbon is graphite at the PDG density 2.210 g/cm^3.
The form-factor parameters of every target follow from (Z, A) alone (docs/physics.md §7.3), as for
Pb and W.  A scan config may define its own targets (``[[targets]]`` with ``Z``, ``A``,
``density_g_cm3``, ``molar_mass_g_mol``); :class:`Target` validates every field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from lfvscan.physics.constants import AMU_GEV, N_AVOGADRO

#: largest mass number accepted for a target (the heaviest known nuclei have A < 300)
MAX_MASS_NUMBER = 300


@dataclass(frozen=True)
class Target:
    """A target element.

    Attributes: ``name``; ``Z``; ``A`` (mass number used in the form factors); ``molar_mass_g_mol``
    [g/mol]; ``density_g_cm3`` [g/cm^3]; ``X0_g_cm2`` radiation length [g/cm^2] (None if not
    tabulated); ``nucleus_mass_GeV`` (default ``A * u``); ``nucleus_energy_per_nucleon_GeV`` [GeV]:
    None for a fixed target, the beam energy per nucleon of a nucleus beam at a collider
    (:mod:`lfvscan.physics.collider`).
    """

    name: str
    Z: int
    A: int
    molar_mass_g_mol: float
    density_g_cm3: float
    X0_g_cm2: float | None = None
    nucleus_mass_GeV: float = field(default=-1.0)
    nucleus_energy_per_nucleon_GeV: float | None = None

    def __post_init__(self):
        for key in ("Z", "A"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"target {self.name!r}: {key} must be a positive integer, got {v!r}")
        if self.Z > self.A:
            raise ValueError(f"target {self.name!r}: Z = {self.Z!r} exceeds the mass number A = {self.A!r}")
        if self.A > MAX_MASS_NUMBER:
            raise ValueError(f"target {self.name!r}: A = {self.A!r} exceeds {MAX_MASS_NUMBER} (no such nucleus)")
        for key in ("molar_mass_g_mol", "density_g_cm3"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ValueError(f"target {self.name!r}: {key} must be a positive finite number, got {v!r}")
        e = self.nucleus_energy_per_nucleon_GeV
        if e is not None and (isinstance(e, bool) or not isinstance(e, (int, float)) or not math.isfinite(e) or e <= 0):
            raise ValueError(f"target {self.name!r}: nucleus_energy_per_nucleon_GeV must be a positive finite number "
                             f"(GeV), got {e!r}")
        if self.nucleus_mass_GeV <= 0:
            object.__setattr__(self, "nucleus_mass_GeV", self.A * AMU_GEV)

    @property
    def M(self) -> float:
        """Nucleus mass [GeV]."""
        return self.nucleus_mass_GeV

    @property
    def number_density_cm3(self) -> float:
        """Atoms per cm^3, n_T = rho N_A / A_mol (docs/physics.md §1)."""
        return self.density_g_cm3 * N_AVOGADRO / self.molar_mass_g_mol

    @property
    def X0_cm(self) -> float:
        """Radiation length [cm]."""
        if self.X0_g_cm2 is None:
            raise ValueError(f"no radiation length tabulated for target {self.name!r}")
        return self.X0_g_cm2 / self.density_g_cm3

    def column_density_cm2(self, length_cm: float) -> float:
        """Atoms per cm^2 for a slab of ``length_cm`` (n_T L)."""
        return self.number_density_cm3 * length_cm

    def column_density_per_pb(self, length_cm: float) -> float:
        """n_T L in pb^-1 (1 pb = 1e-36 cm^2), so that N = N_mu * n_T L * sigma[pb]."""
        return self.column_density_cm2(length_cm) * 1e-36


LEAD = Target("Pb", Z=82, A=208, molar_mass_g_mol=207.2, density_g_cm3=11.35, X0_g_cm2=6.37)
TUNGSTEN = Target("W", Z=74, A=184, molar_mass_g_mol=183.84, density_g_cm3=19.3, X0_g_cm2=None)

GOLD = Target("Au", Z=79, A=197, molar_mass_g_mol=196.966570, density_g_cm3=19.32, X0_g_cm2=6.46)
ALUMINIUM = Target("Al", Z=13, A=27, molar_mass_g_mol=26.9815385, density_g_cm3=2.699, X0_g_cm2=24.01)
COPPER = Target("Cu", Z=29, A=63, molar_mass_g_mol=63.546, density_g_cm3=8.960, X0_g_cm2=12.86)
IRON = Target("Fe", Z=26, A=56, molar_mass_g_mol=55.845, density_g_cm3=7.874, X0_g_cm2=13.84)
CARBON = Target("C", Z=6, A=12, molar_mass_g_mol=12.0107, density_g_cm3=2.210, X0_g_cm2=42.70)

#: targets by element symbol (the user-facing name accepted by :func:`get_target`)
TARGETS: dict[str, Target] = {t.name: t for t in (LEAD, TUNGSTEN, GOLD, ALUMINIUM, COPPER, IRON, CARBON)}


def get_target(name: str | Target) -> Target:
    """Look up a target by name (case-insensitive); raise ``ValueError`` naming the bad value."""
    if isinstance(name, Target):
        return name
    for key, tgt in TARGETS.items():
        if str(name).lower() == key.lower():
            return tgt
    raise ValueError(f"unknown target {name!r} (known: {', '.join(TARGETS)})")
