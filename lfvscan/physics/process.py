"""The process l_beam N -> l_final N X as one value (docs/physics.md §7, §7.11).

A :class:`Process` names the beam lepton (``"e"`` or ``"mu"``), the final lepton (``"e"``, ``"mu"``
or ``"tau"``) and the boson family (``"scalar"``: the scalar/pseudoscalar family of Eq. (3);
``"vector"``: vector/axial-vector).  It carries no masses: the physics preset gives them
(:meth:`lfvscan.physics.presets.PhysicsPreset.lepton_pair`).  :data:`DEFAULT_PROCESS` is
mu N -> tau N a with a spin-0 boson, the process of the paper; a scan config without a
``[process]`` table, ``lfvscan xsec`` without ``--beam/--final/--boson`` and
:func:`lfvscan.xsec.compute_cell` without ``process=`` compute it.

Validity of a cell of a process (docs/physics.md §7.11), for the pair's masses:

* :func:`energy_range`: beam energies [E_lo, 1e7] GeV, E_lo the first 1-2-5 number above the
  largest of m_beam, m_final and the threshold energy of the lightest boson the process admits
  (:func:`lfvscan.physics.reach.threshold_energy_GeV` at the hard t cut).  For mu -> tau this is
  2 GeV (m_tau = 1.777 GeV), for e -> tau 2 GeV, for e -> mu and mu -> e 0.2 GeV.
* :func:`mass_range`: boson masses [1e-6, 1e4] GeV, and for a heavier beam lepton
  (m_beam > m_final, mu -> e) masses above m_beam - m_final only: below it the boson comes from the
  beam lepton's own decay (mu -> e X), the s- and u-channel propagators go on shell inside the
  physical region, and the 2 -> 3 cross section has no finite value (it is the decay rate times the
  time spent in the target).  :func:`cell_problem` says why a cell is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lfvscan.physics.leptons import LeptonPair
from lfvscan.physics.reach import DEFAULT_T_CUT_GEV2, threshold_energy_GeV
from lfvscan.util.ranges import ENERGY_GEV, MASS_GEV, Range

#: beam leptons a process may have
BEAM_LEPTONS = ("e", "mu")
#: final leptons a process may have
FINAL_LEPTONS = ("e", "mu", "tau")
#: boson families: spin 0 (scalar / pseudoscalar parts) and spin 1 (vector / axial-vector parts)
BOSON_FAMILIES = ("scalar", "vector")
#: the keys of a process (config table ``[process]``, store attrs, ``to_dict``)
PROCESS_KEYS = ("beam", "final", "boson")


@dataclass(frozen=True)
class Process:
    """l_beam N -> l_final N X: beam and final lepton names, boson family (module docstring).

    Construction validates every field (ValueError naming the bad value and the allowed ones)."""

    beam: str
    final: str
    boson: str

    def __post_init__(self):
        for key, allowed in (("beam", BEAM_LEPTONS), ("final", FINAL_LEPTONS), ("boson", BOSON_FAMILIES)):
            value = getattr(self, key)
            if value not in allowed:
                raise ValueError(f"process {key} must be one of {', '.join(map(repr, allowed))}, got {value!r}")

    @property
    def flavour_conserving(self) -> bool:
        """True for beam == final (e -> e, mu -> mu): a check of the formula, no LFV."""
        return self.beam == self.final

    def label(self) -> str:
        """``"mu -> tau (scalar)"``."""
        return f"{self.beam} -> {self.final} ({self.boson})"

    def to_dict(self) -> dict:
        """``{"beam": ..., "final": ..., "boson": ...}`` (JSON-able; the config's ``[process]`` table)."""
        return {key: getattr(self, key) for key in PROCESS_KEYS}


#: the paper's process: mu N -> tau N a, spin-0 boson
DEFAULT_PROCESS = Process(beam="mu", final="tau", boson="scalar")


def process_from_dict(d: dict | None) -> Process:
    """A :class:`Process` from a ``[process]`` table / stored dict; absent keys (or ``None``) take
    :data:`DEFAULT_PROCESS`'s values.  ValueError naming an unknown key or a bad value."""
    d = {} if d is None else d
    if not isinstance(d, dict):
        raise ValueError(f"process must be a table with keys {', '.join(PROCESS_KEYS)}, got {d!r}")
    unknown = sorted(set(d) - set(PROCESS_KEYS))
    if unknown:
        raise ValueError(f"process: unknown key(s) {', '.join(map(repr, unknown))} (allowed: {', '.join(PROCESS_KEYS)})")
    return Process(**{**DEFAULT_PROCESS.to_dict(), **d})


def _first_125_above(x: float) -> float:
    """The smallest number 1, 2 or 5 x 10^k strictly above ``x`` > 0."""
    k = math.floor(math.log10(x))
    for step in (1.0, 2.0, 5.0, 10.0):
        v = float(f"{step}e{k}")
        if v > x:
            return v
    return float(f"1e{k + 1}")  # pragma: no cover - 10 x 10^k > x always


def lightest_mass_GeV(pair: LeptonPair) -> float:
    """Lower bound of the boson mass [GeV]: :data:`~lfvscan.util.ranges.MASS_GEV`'s, or m_beam - m_final
    (excluded) for a heavier beam lepton (module docstring)."""
    return max(MASS_GEV.lo, pair.beam.mass - pair.final.mass)


def energy_range(pair: LeptonPair) -> Range:
    """Valid beam energies [GeV] of the process of ``pair`` (module docstring): [E_lo, 1e7]."""
    e_thr = float(threshold_energy_GeV(lightest_mass_GeV(pair), DEFAULT_T_CUT_GEV2, pair=pair))
    lo = _first_125_above(max(pair.beam.mass, pair.final.mass, e_thr))
    return Range("energy_GeV", lo, ENERGY_GEV.hi, "GeV")


def mass_range(pair: LeptonPair) -> Range:
    """Valid boson masses [GeV] of the process of ``pair``: :data:`MASS_GEV`, or
    (m_beam - m_final, 1e4] when the beam lepton is the heavier (module docstring)."""
    return Range("mass_GeV", lightest_mass_GeV(pair), MASS_GEV.hi, "GeV")


def decay_pole_problem(pair: LeptonPair, mass_GeV: float, label: str = "mass_GeV") -> str | None:
    """None, or why ``mass_GeV`` is refused for a heavier beam lepton: m_X <= m_beam - m_final."""
    gap = pair.beam.mass - pair.final.mass
    if gap > 0 and float(mass_GeV) <= gap:
        b, f = pair.beam.name, pair.final.name
        return (f"{label} = {mass_GeV!r} GeV is not above m_{b} - m_{f} = {gap:.6g} GeV: for {b} -> {f} the boson "
                f"then comes from the beam {b}'s own decay ({b} -> {f} X), the propagators go on shell and the "
                f"2 -> 3 cross section has no finite value (docs/physics.md §7.11)")
    return None


def cell_problem(pair: LeptonPair, energy_GeV, mass_GeV, where: str = "") -> str | None:
    """None if (energy, mass) is a valid cell of the process of ``pair``, else one line naming the
    value and the reason (validity ranges and the decay pole, module docstring)."""
    prefix = f"{where} " if where else ""
    e_problem = energy_range(pair).problem(energy_GeV, label=f"{prefix}energy_GeV")
    if e_problem:
        return f"{e_problem} for {pair.label()}"
    pole = decay_pole_problem(pair, mass_GeV, label=f"{prefix}mass_GeV")
    if pole:
        return pole
    return MASS_GEV.problem(mass_GeV, label=f"{prefix}mass_GeV")


def check_cell(pair: LeptonPair, energy_GeV, mass_GeV) -> None:
    """ValueError with :func:`cell_problem`'s line if the cell is not valid for the process."""
    msg = cell_problem(pair, energy_GeV, mass_GeV)
    if msg:
        raise ValueError(msg)
