"""Dark-matter annihilation rates and the relic / indirect-detection helpers (docs/physics.md §5).

Invisible scenario: Dirac fermion chi coupled as ``-i g_chi a chibar g5 chi`` (Eq. (4)).

* :func:`sigma_v_tau_mu` - Eq. (13), <sigma v>(chi chibar -> a* -> tau mu), sum of both charge
  channels, s-wave, non-relativistic limit s = 4 m_chi^2.  [GeV^-2]; convert with
  :func:`to_cm3_per_s`.
* :func:`g_relic` - lower bound on g from <sigma v>_taumu = <sigma v>_0 (asymmetric DM, §5.3).
* :func:`r_infinity`, :func:`id_rescaling_factor` - residual antiparticle fraction and the factor
  rescaling published indirect-detection / CMB limits (§5.3).
* :func:`b_chichi_to_aa`, :func:`g_chi_relic_secluded` - Eq. (14) secluded p-wave annihilation and
  the relic recipe of §5.4.

Reconstructed ([U]) defaults, all keyword arguments (docs/physics.md §14 item 14): relic target
``sigma_v0_cm3_s = RELIC_SIGMA_V_CM3_S = 4.4e-26`` cm^3/s (Dirac, Steigman-Dasgupta-Beacom,
treated as mass independent), benchmark ``g_chi = 1`` and ``m_a = 3 m_chi`` (``m_a=None``), the
r_infinity approximation exp(-2 <sigma v>/<sigma v>_0), and ``x_F = 20`` for the secluded recipe.

Conventions as in :mod:`lfvscan.physics.decays`: ``convention="eq3"`` is Eq. (3) with m_mu -> 0
everywhere (the m_mu -> 0 form of Eq. (13), theta independent; the numbers of docs/physics.md §13.4),
``"eq2"`` keeps m_mu (general form with the Eq. (2) Yukawas).  The channel is closed (rate exactly
0) for 2 m_chi <= m_tau + m_mu in both conventions.  The lepton masses come from the
:class:`~lfvscan.physics.leptons.LeptonPair` ``pair`` as in :mod:`lfvscan.physics.decays` (m_tau,
m_mu: its heavier and lighter masses).
"""

from __future__ import annotations

import math

import numpy as np

from lfvscan.physics.constants import GEV2_TO_CM3_PER_S
from lfvscan.physics.couplings import DEFAULT_CONVENTION, DEFAULT_THETA, check_convention, delta_m, yukawas
from lfvscan.physics.decays import DEFAULT_G_CHI, DEFAULT_MA_OVER_MCHI, kallen
from lfvscan.physics.leptons import LeptonPair
from lfvscan.util.validate import positive

#: relic-density target <sigma v>_0 for Dirac DM [cm^3/s] (docs/physics.md §5.2, [U]/[L])
RELIC_SIGMA_V_CM3_S = 4.4e-26
#: freeze-out x_F = m_chi / T_F of the secluded relic recipe (docs/physics.md §5.4, [U]; 20-25)
DEFAULT_X_F = 20.0
#: ID limit normalisations understood by :func:`id_rescaling_factor`
ID_LIMIT_TYPES = ("majorana", "dirac")


def to_cm3_per_s(sigma_v_GeVm2):
    """Convert <sigma v> from GeV^-2 (times c) to cm^3/s (docs/physics.md §1)."""
    return np.asarray(sigma_v_GeVm2, dtype=float) * GEV2_TO_CM3_PER_S


def to_GeVm2(sigma_v_cm3_s):
    """Convert <sigma v> from cm^3/s to GeV^-2 (docs/physics.md §1)."""
    return np.asarray(sigma_v_cm3_s, dtype=float) / GEV2_TO_CM3_PER_S


def default_m_a(m_chi, m_a):
    """``m_a`` [GeV], or the benchmark m_a = DEFAULT_MA_OVER_MCHI * m_chi when it is None (§5.3)."""
    return np.asarray(m_chi, dtype=float) * DEFAULT_MA_OVER_MCHI if m_a is None else m_a


def annihilation_tau_mu_open(m_chi, *, pair: LeptonPair):
    """True where chi chibar -> tau mu is open at rest (s = 4 m_chi^2): 2 m_chi > m_tau + m_mu =
    ``pair.threshold_GeV`` (docs/physics.md §5.1)."""
    return 2.0 * np.asarray(m_chi) > pair.threshold_GeV


def sigma_v_tau_mu_yukawa(m_chi, m_a, g_S, g_P, g_chi=DEFAULT_G_CHI, width_a=0.0, *, pair: LeptonPair,
                          light_massless: bool = False):
    """General form of Eq. (13) (docs/physics.md §5.1): <sigma v>_taumu [GeV^-2], both charges::

        <sigma v> = g_chi^2 lambda^(1/2)(s, m_tau^2, m_mu^2) {g_S^2 [s - (m_tau+m_mu)^2]
                    + g_P^2 [s - (m_tau-m_mu)^2]} / (16 pi m_chi^2 [(s - m_a^2)^2 + m_a^2 Gamma_a^2]),

    s = 4 m_chi^2, with m_tau = ``pair.heavy.mass`` and m_mu = ``pair.light.mass`` [GeV], or
    m_mu = 0 in the formula with ``light_massless`` (the m_mu -> 0 form).  ``width_a`` = Gamma_a
    [GeV] (0 = neglected; matters only near m_a = 2 m_chi).  Exactly 0 below the physical
    threshold 2 m_chi <= ``pair.threshold_GeV`` (the true lighter mass, whatever
    ``light_massless``).  On the pole (m_a = 2 m_chi) with ``width_a = 0`` the result is ``inf``.
    """
    m_chi = positive("m_chi", m_chi)
    m_a = positive("m_a", m_a)
    g_S, g_P = np.asarray(g_S, dtype=float), np.asarray(g_P, dtype=float)
    g_chi = np.asarray(g_chi, dtype=float)
    width_a = np.asarray(width_a, dtype=float)
    s = 4.0 * m_chi**2
    m_heavy = pair.heavy.mass
    m_light = 0.0 if light_massless else pair.light.mass
    open_ = annihilation_tau_mu_open(m_chi, pair=pair)
    lam = np.where(open_, kallen(s, m_heavy**2, m_light**2), 0.0)
    num = g_chi**2 * np.sqrt(np.maximum(lam, 0.0)) * delta_m(2.0 * m_chi, g_S, g_P, m_heavy, m_light)  # s = (2 m_chi)^2
    den = 16.0 * math.pi * m_chi**2 * ((s - m_a**2) ** 2 + m_a**2 * width_a**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(open_, num / den, 0.0)


def sigma_v_tau_mu(m_chi, m_a=None, g=1.0, g_chi=DEFAULT_G_CHI, theta=DEFAULT_THETA,
                   convention: str = DEFAULT_CONVENTION, width_a=0.0, *, pair: LeptonPair):
    """Eq. (13): <sigma v>(chi chibar -> tau^+- mu^-+) [GeV^-2] (docs/physics.md §5.1).

    Parameters
    ----------
    m_chi : DM mass [GeV] (> 0).  m_a : ALP mass [GeV]; ``None`` -> benchmark 3 m_chi ([U]).
    g, theta, convention : LFV coupling (docs/physics.md §2.4).  With ``"eq3"`` (default) the
        m_mu -> 0 form  g_chi^2 g^2 (4 m_chi^2 - m_tau^2)^2 / (16 pi m_chi^2 [(4 m_chi^2 - m_a^2)^2
        + m_a^2 Gamma_a^2])  is used (theta independent); ``"eq2"`` uses the general form.
    g_chi : dark coupling (default 1, [U]).  width_a : Gamma_a [GeV] (default 0 = neglected).
    pair : the lepton pair (:class:`~lfvscan.physics.leptons.LeptonPair`); its lighter mass is
        set to 0 in the ``"eq3"`` formula but kept in the threshold.

    Proportional to g^2 when ``width_a`` is fixed.  Multiply by :func:`to_cm3_per_s` for cm^3/s.
    """
    check_convention(convention)
    m_a = default_m_a(m_chi, m_a)
    g_S, g_P = yukawas(g, theta, convention, pair=pair)
    return sigma_v_tau_mu_yukawa(m_chi, m_a, g_S, g_P, g_chi, width_a, pair=pair,
                                 light_massless=convention == "eq3")


def g_relic(m_chi, m_a=None, g_chi=DEFAULT_G_CHI, theta=DEFAULT_THETA, convention: str = DEFAULT_CONVENTION,
            sigma_v0_cm3_s: float = RELIC_SIGMA_V_CM3_S, width_a=0.0, *, pair: LeptonPair):
    """Relic lower bound on g (asymmetric Dirac DM, docs/physics.md §5.3): dimensionless.

    g_min = sqrt(<sigma v>_0 / <sigma v>_taumu(g = 1)) at fixed g_chi and m_a (``None`` ->
    3 m_chi).  Below g_min the symmetric component is not depleted.  ``inf`` where the tau-mu
    channel is closed (2 m_chi <= m_tau + m_mu).  ``width_a`` is held fixed (default 0).  Lepton
    pair ``pair`` as in :func:`sigma_v_tau_mu`.
    """
    positive("sigma_v0_cm3_s", sigma_v0_cm3_s, "cm^3/s")
    sv1 = to_cm3_per_s(sigma_v_tau_mu(m_chi, m_a, 1.0, g_chi, theta, convention, width_a, pair=pair))
    return np.sqrt(np.divide(sigma_v0_cm3_s, sv1, out=np.full_like(sv1, np.inf), where=sv1 > 0))


def r_infinity(sigma_v_cm3_s, sigma_v0_cm3_s: float = RELIC_SIGMA_V_CM3_S):
    """Residual antiparticle fraction r_inf = n_chibar / n_chi ~ exp(-2 <sigma v>/<sigma v>_0).

    Standard approximation for asymmetric DM (Graesser-Shoemaker-Vecchi 2011; docs/physics.md §5.3,
    [U]).  ``sigma_v_cm3_s`` is <sigma v> [cm^3/s], e.g. ``to_cm3_per_s(sigma_v_tau_mu(...))``.
    """
    sv = np.asarray(sigma_v_cm3_s, dtype=float)
    if np.any(sv < 0):
        raise ValueError(f"sigma_v_cm3_s must be >= 0, got {sv[sv < 0].ravel()[0]!r}")
    return np.exp(-2.0 * sv / sigma_v0_cm3_s)


def id_rescaling_factor(r, limit_type: str = "majorana"):
    """Factor multiplying <sigma v> before comparing to a published ID/CMB limit (docs/physics.md §5.3).

    Today's annihilation rate density is <sigma v> (rho/m_chi)^2 r/(1+r)^2.  A limit quoted for
    self-conjugate (``"majorana"``) DM excludes the point if <sigma v> * 2r/(1+r)^2 > limit; for a
    limit quoted for symmetric Dirac DM (``"dirac"``) the factor is 4r/(1+r)^2.
    """
    r = np.asarray(r, dtype=float)
    if limit_type == "majorana":
        k = 2.0
    elif limit_type == "dirac":
        k = 4.0
    else:
        raise ValueError(f"unknown limit_type {limit_type!r} (known: {', '.join(ID_LIMIT_TYPES)})")
    return k * r / (1.0 + r) ** 2


def b_chichi_to_aa(m_chi, m_a, g_chi=DEFAULT_G_CHI):
    """Eq. (14): coefficient b [GeV^-2] of sigma v = b v^2 for chi chibar -> a a (docs/physics.md §5.4).

    b = g_chi^4 m_chi (m_chi^2 - m_a^2)^(5/2) / (24 pi (2 m_chi^2 - m_a^2)^4)  (v = relative velocity,
    identical-particle factor 1/2 included).  Exactly 0 where m_a >= m_chi (closed).
    """
    m_chi = positive("m_chi", m_chi)
    m_a = positive("m_a", m_a)
    g_chi = np.asarray(g_chi, dtype=float)
    open_ = m_a < m_chi
    d = np.where(open_, m_chi**2 - m_a**2, 0.0)
    return np.where(open_, g_chi**4 * m_chi * d**2.5 / (24.0 * math.pi * (2.0 * m_chi**2 - m_a**2) ** 4), 0.0)


def g_chi_relic_secluded(m_chi, m_a, x_F: float = DEFAULT_X_F, sigma_v0_cm3_s: float = RELIC_SIGMA_V_CM3_S):
    """g_chi giving the relic density through chi chibar -> a a alone (docs/physics.md §5.4, [U] recipe).

    Solves 3 b(g_chi) / x_F = <sigma v>_0 with <v^2> = 6/x:  g_chi = (<sigma v>_0 x_F / (3 b(1)))^(1/4).
    ``inf`` where the channel is closed (m_a >= m_chi).
    """
    positive("x_F", x_F)
    b1 = b_chichi_to_aa(m_chi, m_a, 1.0)
    sv0 = float(to_GeVm2(sigma_v0_cm3_s))
    ratio = np.divide(sv0 * x_F, 3.0 * b1, out=np.full_like(b1, np.inf), where=b1 > 0)
    return ratio**0.25
