"""Target materials (docs/physics.md §1, §13.1).

A :class:`Target` holds the nuclear and bulk properties of a target element.  The nucleus mass
used in the production kinematics is ``M = A u`` (docs/physics.md §1, [U] item 7: the thesis code uses
``Z m_p + (A - Z) m_n``; the difference is << 1 % in sigma).  It is a field, so a user can
override it with :func:`dataclasses.replace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lfvscan.physics.constants import AMU_GEV, N_AVOGADRO


@dataclass(frozen=True)
class Target:
    """A target element.

    Attributes: ``name``; ``Z``; ``A`` (mass number used in the form factors); ``molar_mass_g_mol``
    [g/mol]; ``density_g_cm3`` [g/cm^3]; ``X0_g_cm2`` radiation length [g/cm^2] (None if not
    tabulated); ``nucleus_mass_GeV`` (default ``A * u``).
    """

    name: str
    Z: int
    A: int
    molar_mass_g_mol: float
    density_g_cm3: float
    X0_g_cm2: float | None = None
    nucleus_mass_GeV: float = field(default=-1.0)

    def __post_init__(self):
        try:
            valid = float(self.Z).is_integer() and float(self.A).is_integer() and 1 <= self.Z <= self.A
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise ValueError(f"target {self.name!r}: Z = {self.Z!r}, A = {self.A!r}: need integers with 1 <= Z <= A")
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

#: targets by element symbol (the user-facing name accepted by :func:`get_target`)
TARGETS: dict[str, Target] = {"Pb": LEAD, "W": TUNGSTEN}


def get_target(name: str | Target) -> Target:
    """Look up a target by name (case-insensitive); raise ``ValueError`` naming the bad value."""
    if isinstance(name, Target):
        return name
    for key, tgt in TARGETS.items():
        if str(name).lower() == key.lower():
            return tgt
    raise ValueError(f"unknown target {name!r} (known: {', '.join(TARGETS)})")
