"""The lepton pair of the process: the beam (incoming) lepton and the final (outgoing) one
(docs/physics.md §2, §7).

mu N -> tau N a has the muon as beam lepton and the tau as final lepton; the same pair couples to
the ALP (a -> tau mu, §3), runs in the g-2 loop (external beam lepton, final lepton in the loop,
§4) and is produced in dark-matter annihilation (§5); the tau decay lengths and spectra (§8) are
those of the final lepton.  A :class:`LeptonPair` is one value built by the physics preset
(:meth:`lfvscan.physics.presets.PhysicsPreset.lepton_pair`) and passed explicitly to every
function that needs a lepton mass; pure vectorised kernels take the floats ``m_beam`` /
``m_final`` [GeV] instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Lepton:
    """A charged lepton: ``name``, ``mass`` [GeV] and ``ctau_cm``, c times its lifetime [cm]
    (``inf``: stable on the scale of the experiments)."""

    name: str
    mass: float
    ctau_cm: float = math.inf

    def __post_init__(self):
        if not (isinstance(self.mass, (int, float)) and math.isfinite(self.mass) and self.mass > 0):
            raise ValueError(f"mass of lepton {self.name!r} must be a positive finite number [GeV], got {self.mass!r}")
        if not (isinstance(self.ctau_cm, (int, float)) and self.ctau_cm > 0):
            raise ValueError(f"ctau_cm of lepton {self.name!r} must be positive [cm], got {self.ctau_cm!r}")


@dataclass(frozen=True)
class LeptonPair:
    """The beam (incoming) and final (outgoing) lepton of l_beam N -> l_final N a (docs/physics.md §7).

    ``light`` / ``heavy``: the lighter / heavier of the two (the Eq. (2) ratio ``r`` is light over
    heavy, docs/physics.md §2.4; the "m_mu -> 0" limit of Eq. (3) sets the light mass to 0);
    ``threshold_GeV``: m_heavy + m_light, the threshold of a -> l l' (§3.1) and of chi chibar -> l l' (§5.1).
    """

    beam: Lepton
    final: Lepton

    @property
    def light(self) -> Lepton:
        """The lighter lepton of the pair (the beam one when the masses are equal)."""
        return self.beam if self.beam.mass <= self.final.mass else self.final

    @property
    def heavy(self) -> Lepton:
        """The heavier lepton of the pair (the final one when the masses are equal)."""
        return self.final if self.beam.mass <= self.final.mass else self.beam

    @property
    def r(self) -> float:
        """m_light / m_heavy, the mass ratio of the Eq. (2) Yukawas (docs/physics.md §2.4)."""
        return self.light.mass / self.heavy.mass

    @property
    def threshold_GeV(self) -> float:
        """m_heavy + m_light [GeV] (docs/physics.md §3.1, §5.1)."""
        return self.heavy.mass + self.light.mass

    def label(self) -> str:
        """``"mu -> tau"``: beam -> final."""
        return f"{self.beam.name} -> {self.final.name}"
