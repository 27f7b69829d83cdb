"""Physical constants and unit conversions (docs/physics.md §1).

All values in natural units (hbar = c = 1) with energies in GeV, unless the name carries
another unit.  PDG / CODATA values ([L] in docs/physics.md).
"""

ALPHA = 1.0 / 137.035999  #: fine-structure constant
M_E = 0.51099895e-3  #: electron mass [GeV]
M_MU = 0.1056583755  #: muon mass [GeV]
M_TAU = 1.77686  #: tau mass [GeV]
CTAU_TAU_CM = 87.03e-4  #: tau c*lifetime [cm] (87.03 um)
M_P = 0.93827209  #: proton mass [GeV]
M_N = 0.93956542  #: neutron mass [GeV]
AMU_GEV = 0.93149410  #: atomic mass unit [GeV]
HBARC_GEV_FM = 0.1973269804  #: hbar*c [GeV fm]
HBARC_GEV_M = HBARC_GEV_FM * 1e-15  #: hbar*c [GeV m]
GEV2_TO_PB = 0.3893794e9  #: 1 GeV^-2 in pb
GEV2_TO_CM3_PER_S = 1.16733e-17  #: 1 GeV^-2 times c in cm^3/s (docs/physics.md §1, [D])
N_AVOGADRO = 6.02214076e23  #: Avogadro's number [1/mol]

BR_TAU_TO_MU = 0.174  #: BR(tau -> mu nu nu), PDG 17.39 % (docs/physics.md §1)
BR_TAU_3PRONG = 0.152  #: BR(tau -> 3 charged hadrons + X), PDG 15.2 % (docs/physics.md §1)
