"""lfvscan: discovery reach of TeV muon beams for a lepton-flavour-violating ALP.

Reproduces and extends B. Batell, H. Davoudiasl, R. Marcarelli, E. T. Neil, S. Trojanowski,
*Lepton-Flavor-Violating ALP Signals with TeV-Scale Muon Beams*, PRD 110 (2024) 075039,
arXiv:2407.15942.  Units: GeV (energies, masses), GeV^2 (t), pb (cross sections), cm (lengths)
unless a name says otherwise.  Section numbers in docstrings ("physics.md §7.6") refer to the
physics specification shipped with the project's development material.
"""

__version__ = "0.1.0"
