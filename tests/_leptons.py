"""Lepton pairs of the tests: the PDG pair of the default preset and pairs of other masses."""

from lfvscan.physics.process import DEFAULT_PROCESS
from lfvscan.physics.constants import M_E
from lfvscan.physics.leptons import Lepton, LeptonPair
from lfvscan.physics.presets import PDG_2024

#: beam muon, final tau with the PDG masses (the default preset's pair)
PAIR = PDG_2024.lepton_pair(DEFAULT_PROCESS)
ELECTRON = Lepton("e", M_E)


def pair_of(m_beam: float, m_final: float) -> LeptonPair:
    """A pair of two leptons of the given masses [GeV] (the final one has the tau's lifetime)."""
    return LeptonPair(Lepton("beam", m_beam), Lepton("final", m_final, ctau_cm=PAIR.final.ctau_cm))
