"""The cell constants of the integrand as one float64 vector (docs/physics.md §7.3, §7.6, §7.8), read by
the compiled kernel (:mod:`lfvscan.xsec.kernel`) and by the numpy engine (:mod:`lfvscan.xsec.integrand_numpy`).

Kept apart from the kernel so that the numpy engine, and whatever only needs the constants, does not
import numba (:mod:`lfvscan.xsec.engine`).
"""

from __future__ import annotations

import math

import numpy as np

from lfvscan.physics.constants import HBARC_GEV_FM, M_E

# indices into the cell-constant vector of :func:`cell_constants`
(P_E, P_MA, P_M, P_MBEAM, P_MFINAL, P_TCUT, P_PREF, P_A2, P_AP2, P_RA, P_A02, P_ZC, P_Z, P_A, P_INV4MP2,
 P_MUP2, P_MUN2, P_T0, P_TNUC, P_THMIN, P_SCREEN, P_FAMILY, P_INCOH, N_CONST) = range(24)

#: the boson family's code in ``c[P_FAMILY]``: which amplitude the kernel evaluates (§7.6, §7.14)
FAMILY_CODES = {"scalar": 0.0, "vector": 1.0}
#: columns of a coupling row (:func:`lfvscan.xsec.kernel.integrand_kernel`'s ``cpl``): scalar family (g_eff^2, Delta_m, 0),
#: vector family (g2, d, delta) of :class:`lfvscan.physics.amplitude_vector.VectorCoefficients`
N_COUPLING = 3
#: the t map's scale t_nuc = T_NUC_RA2 / R_A^2: where the coherent form factor starts to fall (§7.3:
#: G_el^nuc ~ Z^2 (1 - R_A^2 t / 5) at small t)
T_NUC_RA2 = 5.0


def cell_constants(cp) -> np.ndarray:
    """The float64 vector of a :class:`~lfvscan.xsec.integrand.CellPhysics` the kernel reads.

    Prefactor ``alpha^2 / (32 pi M^2)`` in pb GeV^2 (§7.6); form-factor constants of Eqs. (17)-(20):
    ``a^2``, ``a'^2`` [GeV^-2], ``R_A`` [GeV^-1], ``a0^2`` [GeV^-2], the coherent charge, Z, A,
    ``1/(4 m_p^2)``, ``mu_p^2``, ``mu_n^2``, ``t0`` (§7.3); ``t_nuc = 5 / R_A^2`` [GeV^2], the scale of
    the t map (:func:`lfvscan.xsec.kernel.t_map`); ``theta_a_min`` [rad]; 1 with atomic screening, 0 without (a beam ion);
    the boson family's code (:data:`FAMILY_CODES`); 1 with the incoherent term G_inel, 0 for coherent
    scattering only (``ff.incoherent``).  ``t_cut`` [GeV^2] is ``ff.t_cut_GeV2``.
    """
    tg, ff = cp.target, cp.ff
    c = np.zeros(N_CONST)
    c[P_E], c[P_MA], c[P_M], c[P_MBEAM], c[P_MFINAL] = cp.E, cp.m_a, cp.M, cp.m_beam, cp.m_final
    c[P_TCUT] = ff.t_cut_GeV2
    c[P_PREF] = cp.alpha**2 / (32.0 * math.pi * cp.M**2) * cp.gev2_to_pb
    c[P_A2] = (ff.a_coeff * tg.Z ** (-1.0 / 3.0) / M_E) ** 2
    c[P_AP2] = (ff.a_prime_coeff * tg.Z ** (-2.0 / 3.0) / M_E) ** 2
    c[P_RA] = ff.r0_fm * tg.A ** (1.0 / 3.0) / HBARC_GEV_FM
    c[P_A02] = (ff.a0_fm / HBARC_GEV_FM) ** 2
    c[P_ZC] = tg.Z if ff.coherent_charge == "Z" else tg.Z - 1
    c[P_Z], c[P_A] = tg.Z, tg.A
    c[P_INV4MP2] = 1.0 / (4.0 * ff.m_p_GeV**2)
    c[P_MUP2] = ff.mu_p**2 if ff.mu_p_sq is None else ff.mu_p_sq
    c[P_MUN2] = ff.mu_n**2 if ff.mu_n_sq is None else ff.mu_n_sq
    c[P_T0] = ff.t0_GeV2
    c[P_TNUC] = T_NUC_RA2 / c[P_RA] ** 2
    c[P_THMIN] = cp.theta_a_min
    c[P_SCREEN] = 1.0 if ff.atomic_screening else 0.0
    c[P_FAMILY] = FAMILY_CODES[cp.boson]
    c[P_INCOH] = 1.0 if ff.incoherent else 0.0
    return c
