"""Photon-nucleus form factors (docs/physics.md §7.3, Eqs. (16)-(20)).

F^2(t) = G_el^atom G_el^nuc + G_inel^atom G_inel^nuc, with a hard cut F^2 = 0 for t > t_cut.
All functions are vectorised over ``t`` [GeV^2] and pure.  The reconstructed ([U]) constants are
fields of :class:`FormFactorParams` with documented defaults:

* ``a_prime_coeff = 571.4`` (inelastic atomic screening, Eq. (18); Tsai's 724.2 and BEST's 773 are
  alternatives; numerically irrelevant here because 1/a'^2 ~ 3e-10 GeV^2 << t_min, §14 item 6);
* ``coherent_charge = "Z"`` (the thesis code uses Z - 1; the paper's formula has Z, §14 item 7);
* ``t_cut_GeV2 = 1.0`` (dipole form factors unreliable beyond, DIS not modelled, §7.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lfvscan.physics.constants import HBARC_GEV_FM, M_E, M_P
from lfvscan.physics.targets import Target


@dataclass(frozen=True)
class FormFactorParams:
    """Constants of Eqs. (17)-(20).  Lengths in fm, t in GeV^2."""

    a_coeff: float = 111.0  #: elastic atomic screening a = a_coeff Z^(-1/3) / m_e  (Eq. 17)
    a_prime_coeff: float = 571.4  #: inelastic atomic screening a' = a'_coeff Z^(-2/3) / m_e (Eq. 18) [U]
    t0_GeV2: float = 0.71  #: dipole scale of the nucleon form factors (Eq. 19)
    mu_p: float = 2.79  #: proton magnetic moment (Eq. 19)
    mu_n: float = -1.91  #: neutron magnetic moment (Eq. 19)
    r0_fm: float = 1.2  #: R_A = r0 A^(1/3) (Eq. 20)
    a0_fm: float = 0.79  #: Yukawa range of the Woods-Saxon approximation (Eq. 20)
    coherent_charge: str = "Z"  #: "Z" (paper) or "Z-1" (thesis code) in Eq. (20) [U]
    t_cut_GeV2: float = 1.0  #: hard cut: F^2 = 0 above (§7.3)
    m_p_GeV: float = M_P  #: proton mass in tau = t / (4 m_p^2) of Eq. (19) [GeV]
    mu_p_sq: float | None = None  #: mu_p^2 of Eq. (19); None: mu_p**2 (thesis code: 7.78)
    mu_n_sq: float | None = None  #: mu_n^2 of Eq. (19); None: mu_n**2 (thesis code: 3.65)
    #: atomic screening factors of Eqs. (17)-(18) on (a target at rest); False: a fully stripped ion
    #: (a nucleus beam at a collider, :mod:`lfvscan.physics.collider`), both factors 1
    atomic_screening: bool = True
    #: the incoherent (diffractive) term G_inel of Eq. (16); False: coherent scattering only, the
    #: nucleus stays intact (the thesis's EIC / MuSIC setting with t_cut = 0.01 GeV^2, §10.8)
    incoherent: bool = True

    def __post_init__(self):
        if self.coherent_charge not in ("Z", "Z-1"):
            raise ValueError(f"coherent_charge must be 'Z' or 'Z-1', got {self.coherent_charge!r}")
        if not self.t_cut_GeV2 > 0:
            raise ValueError(f"t_cut_GeV2 must be positive, got {self.t_cut_GeV2!r}")
        if not isinstance(self.incoherent, bool):
            raise ValueError(f"incoherent must be true or false, got {self.incoherent!r}")


DEFAULT_FF = FormFactorParams()


def screening_a(target: Target, p: FormFactorParams = DEFAULT_FF) -> float:
    """Elastic atomic screening length a = 111 Z^(-1/3)/m_e [GeV^-1] (Eq. 17)."""
    return p.a_coeff * target.Z ** (-1.0 / 3.0) / M_E


def screening_a_prime(target: Target, p: FormFactorParams = DEFAULT_FF) -> float:
    """Inelastic atomic screening length a' = 571.4 Z^(-2/3)/m_e [GeV^-1] (Eq. 18)."""
    return p.a_prime_coeff * target.Z ** (-2.0 / 3.0) / M_E


def nuclear_radius_GeVinv(target: Target, p: FormFactorParams = DEFAULT_FF) -> float:
    """R_A = r0 A^(1/3) converted to GeV^-1 (Eq. 20)."""
    return p.r0_fm * target.A ** (1.0 / 3.0) / HBARC_GEV_FM


def g_el_atom(t, target: Target, p: FormFactorParams = DEFAULT_FF):
    """Elastic atomic screening factor (a^2 t / (1 + a^2 t))^2 (Eq. 17); dimensionless."""
    x = screening_a(target, p) ** 2 * np.asarray(t, dtype=float)
    if not p.atomic_screening:
        return np.ones_like(x)
    return (x / (1.0 + x)) ** 2


def g_inel_atom(t, target: Target, p: FormFactorParams = DEFAULT_FF):
    """Inelastic atomic screening factor (a'^2 t / (1 + a'^2 t))^2 (Eq. 18); dimensionless."""
    x = screening_a_prime(target, p) ** 2 * np.asarray(t, dtype=float)
    if not p.atomic_screening:
        return np.ones_like(x)
    return (x / (1.0 + x)) ** 2


def _sphere_ff(x):
    """3 (sin x - x cos x) / x^3, with its Taylor series below x = 0.1 (no cancellation).

    Below 0.1 the closed form loses ~eps/x^2 to cancellation; the series to x^8 is exact there to
    x^10/1.7e8 < 1e-18.
    """
    x = np.asarray(x, dtype=float)
    small = x < 0.1
    xs = np.where(small, 1.0, x)
    exact = 3.0 * (np.sin(xs) - xs * np.cos(xs)) / xs**3
    x2 = x * x
    series = 1.0 + x2 * (-1.0 / 10.0 + x2 * (1.0 / 280.0 + x2 * (-1.0 / 15120.0 + x2 / 1330560.0)))
    return np.where(small, series, exact)


def g_el_nuc(t, target: Target, p: FormFactorParams = DEFAULT_FF):
    """Coherent nuclear form factor squared, Klein-Nystrand Woods-Saxon approximation (Eq. 20).

    [3 Zc (sin(R q) - R q cos(R q)) / ((R q)^3 (1 + a0^2 t))]^2 with q = sqrt(t), Zc = Z (default)
    or Z - 1.  Tends to Z^2 as t -> 0.
    """
    t = np.asarray(t, dtype=float)
    zc = target.Z if p.coherent_charge == "Z" else target.Z - 1
    a0 = p.a0_fm / HBARC_GEV_FM
    x = nuclear_radius_GeVinv(target, p) * np.sqrt(t)
    return (zc * _sphere_ff(x) / (1.0 + a0 * a0 * t)) ** 2


def g_inel_nuc(t, target: Target, p: FormFactorParams = DEFAULT_FF):
    """Incoherent (quasi-elastic on nucleons) form factor, dipole nucleons (Eq. 19).

    [Z (1 + mu_p^2 tau) + (A - Z) mu_n^2 tau] / [(1 + t/t0)^4 (1 + tau)],  tau = t / (4 m_p^2).
    Tends to Z as t -> 0.  ``m_p``, ``mu_p^2``, ``mu_n^2`` are fields of ``p`` (the thesis-2024
    preset sets 0.938 GeV, 7.78, 3.65; :mod:`lfvscan.physics.presets`).
    """
    t = np.asarray(t, dtype=float)
    tau = t / (4.0 * p.m_p_GeV * p.m_p_GeV)
    mu_p_sq = p.mu_p**2 if p.mu_p_sq is None else p.mu_p_sq
    mu_n_sq = p.mu_n**2 if p.mu_n_sq is None else p.mu_n_sq
    num = target.Z * (1.0 + mu_p_sq * tau) + (target.A - target.Z) * mu_n_sq * tau
    return num / ((1.0 + t / p.t0_GeV2) ** 4 * (1.0 + tau))


def f2_coherent(t, target: Target, p: FormFactorParams = DEFAULT_FF):
    """Coherent (elastic) part G_el = G_el^atom G_el^nuc, zero above t_cut (Eq. 16)."""
    t = np.asarray(t, dtype=float)
    return np.where(t <= p.t_cut_GeV2, g_el_atom(t, target, p) * g_el_nuc(t, target, p), 0.0)


def f2_incoherent(t, target: Target, p: FormFactorParams = DEFAULT_FF):
    """Incoherent (diffractive) part G_inel = G_inel^atom G_inel^nuc, zero above t_cut (Eq. 16), and
    zero everywhere without the incoherent term (``p.incoherent`` false)."""
    t = np.asarray(t, dtype=float)
    if not p.incoherent:
        return np.zeros_like(t)
    return np.where(t <= p.t_cut_GeV2, g_inel_atom(t, target, p) * g_inel_nuc(t, target, p), 0.0)


def f2_total(t, target: Target, p: FormFactorParams = DEFAULT_FF):
    """F^2(t) = G_el + G_inel (Eq. 16), zero above t_cut."""
    return f2_coherent(t, target, p) + f2_incoherent(t, target, p)
