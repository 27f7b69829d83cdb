"""ALP decay widths, branching ratios and decay lengths (docs/physics.md §3, Eqs. (5)-(7)).

All functions are pure and vectorised (numpy broadcasting) over masses and couplings.  Units:
masses, energies and widths in GeV, ``ctau_m`` / ``lab_decay_length_m`` in metres.

Conventions
-----------
* The Yukawa Lagrangian is ``-i a tau_bar (g_S + g_P gamma5) mu + h.c.``; ``(g, theta,
  convention)`` map to ``(g_S, g_P)`` through :func:`lfvscan.physics.couplings.yukawas` (docs/physics.md §2.4).
* ``convention="eq3"`` (default) is the paper's Eq. (3) *with* m_mu -> 0 also in the phase space,
  i.e. Eq. (5): Gamma(a -> tau^- mu^+) = g^2 m_a (1 - m_tau^2/m_a^2)^2 / (8 pi) (this is the
  "Eq. (3)" column of docs/physics.md §13.2).  ``convention="eq2"`` keeps m_mu in the couplings and in
  the phase space (general formula of §3.1).
* A channel that is kinematically closed has width exactly 0 (never NaN).  The physical threshold
  m_a > m_tau + m_mu is enforced in *both* conventions (the m_mu -> 0 formula of Eq. (5) would
  otherwise open at m_a = m_tau).
* [U] docs/physics.md §3.2 / §14 item 3: the printed Eq. (5) most likely shows one charge channel.  The
  total tau-mu width used for lifetimes is the **sum of both charge channels**
  (``both_charges=True``); a given charge combination has BR = 1/2 in the visible scenario.
* [U] §14 item 17: the invisible branching ratio is 1 by default (``exact=False``); the exact
  value Gamma_chi / (Gamma_chi + Gamma_tau_mu) is available with ``exact=True``.
* Lepton masses: every function of the pair takes the
  :class:`~lfvscan.physics.leptons.LeptonPair` ``pair`` (the process's beam and final leptons,
  here mu and tau); m_tau / m_mu above are ``pair.heavy.mass`` / ``pair.light.mass``, and
  "m_mu -> 0" means the lighter mass -> 0.
"""

from __future__ import annotations

import math

import numpy as np

from lfvscan.physics.constants import HBARC_GEV_M
from lfvscan.physics.couplings import DEFAULT_CONVENTION, DEFAULT_THETA, check_convention, delta_m, yukawas
from lfvscan.physics.leptons import LeptonPair
from lfvscan.util.validate import positive

#: visible scenario: BR(a -> tau^- mu^+) = BR(a -> tau^+ mu^-) = 1/2 (docs/physics.md §3.5)
BR_VISIBLE_PER_CHARGE = 0.5
#: invisible scenario baseline BR(a -> chi chi) = 1 (docs/physics.md §3.5, [U] §14 item 17)
BR_INVISIBLE_BASELINE = 1.0
#: benchmark m_a / m_chi = 3 of the invisible scenario (docs/physics.md §5.3, [U] §14 item 14)
DEFAULT_MA_OVER_MCHI = 3.0
#: benchmark dark coupling g_chi = 1 (docs/physics.md §2.5, [U] §14 item 14)
DEFAULT_G_CHI = 1.0


def kallen(x, y, z):
    """Kallen function lambda(x, y, z) = x^2 + y^2 + z^2 - 2xy - 2yz - 2zx (docs/physics.md §3.1)."""
    x, y, z = (np.asarray(v, dtype=float) for v in (x, y, z))
    return x * x + y * y + z * z - 2.0 * (x * y + y * z + z * x)


def width_two_body(m_a, g_S, g_P, m_final: float, m_beam: float):
    """Width [GeV] of ONE charge channel a -> l_final^- l_beam^+ with lepton masses ``m_final``,
    ``m_beam`` [GeV] (docs/physics.md §3.1; symmetric in the two masses).

    Gamma = lambda^(1/2)(m_a^2, m_final^2, m_beam^2) / (8 pi m_a^3)
            * { g_S^2 [m_a^2 - (m_final+m_beam)^2] + g_P^2 [m_a^2 - (m_final-m_beam)^2] }.

    Exactly 0 where m_a <= m_final + m_beam (closed channel).  ``m_a`` > 0 [GeV] is required.
    """
    m_a = positive("m_a", m_a)
    g_S = np.asarray(g_S, dtype=float)
    g_P = np.asarray(g_P, dtype=float)
    open_ = m_a > m_final + m_beam
    ma2 = m_a * m_a
    lam = np.where(open_, kallen(ma2, m_final * m_final, m_beam * m_beam), 0.0)
    bracket = delta_m(m_a, g_S, g_P, m_final, m_beam)
    gamma = np.sqrt(np.maximum(lam, 0.0)) / (8.0 * math.pi * m_a**3) * bracket
    return np.where(open_, gamma, 0.0)


def width_tau_mu(m_a, g=1.0, theta=DEFAULT_THETA, convention: str = DEFAULT_CONVENTION, both_charges: bool = True,
                 *, pair: LeptonPair):
    """Width [GeV] of a -> tau mu (docs/physics.md §3.2, Eq. (5)).

    Parameters
    ----------
    m_a : ALP mass [GeV], > 0.
    g, theta : coupling g_taumu and angle [rad] of Eq. (3) (docs/physics.md §2.3).
    convention : ``"eq3"`` (m_mu -> 0 in couplings and phase space, Eq. (5); default) or
        ``"eq2"`` (exact masses, §3.1 with the Eq. (2) Yukawas).
    both_charges : True (default) -> sum of tau^- mu^+ and tau^+ mu^- (used for the lifetime,
        [U] §3.2); False -> one charge channel (the numbers of docs/physics.md §13.2).
    pair : the lepton pair (:class:`~lfvscan.physics.leptons.LeptonPair`); m_tau, m_mu are its
        heavier and lighter masses [GeV].

    Exactly 0 below the physical threshold m_a <= ``pair.threshold_GeV``.
    """
    check_convention(convention)
    m_a = positive("m_a", m_a)
    g_S, g_P = yukawas(g, theta, convention, pair=pair)
    m_light = 0.0 if convention == "eq3" else pair.light.mass
    gamma = width_two_body(m_a, g_S, g_P, pair.heavy.mass, m_light)
    gamma = np.where(tau_mu_open(m_a, pair=pair), gamma, 0.0)
    return 2.0 * gamma if both_charges else gamma


def tau_mu_open(m_a, *, pair: LeptonPair):
    """True where a -> tau mu is open: m_a > m_tau + m_mu = ``pair.threshold_GeV`` (docs/physics.md
    §3.1), both conventions."""
    return np.asarray(m_a) > pair.threshold_GeV


def chi_chi_open(m_a, m_chi):
    """True where a -> chi chibar is open: m_a > 2 m_chi (docs/physics.md §3.4)."""
    return np.asarray(m_a) > 2.0 * np.asarray(m_chi)


def width_chi_chi(m_a, m_chi, g_chi=DEFAULT_G_CHI):
    """Width [GeV] of a -> chi chibar (docs/physics.md §3.4, Eq. (7)).

    Gamma = g_chi^2 m_a / (8 pi) sqrt(1 - 4 m_chi^2 / m_a^2); exactly 0 where m_a <= 2 m_chi.
    """
    m_a = positive("m_a", m_a)
    m_chi = positive("m_chi", m_chi)
    g_chi = np.asarray(g_chi, dtype=float)
    open_ = chi_chi_open(m_a, m_chi)
    beta2 = np.where(open_, 1.0 - 4.0 * m_chi**2 / m_a**2, 0.0)
    return np.where(open_, g_chi**2 * m_a / (8.0 * math.pi) * np.sqrt(beta2), 0.0)


def total_width(m_a, g=1.0, theta=DEFAULT_THETA, convention: str = DEFAULT_CONVENTION, m_chi=None, g_chi=DEFAULT_G_CHI,
                *, pair: LeptonPair):
    """Total ALP width [GeV]: Gamma_taumu (both charges) + Gamma_chichi (docs/physics.md §3).

    ``m_chi=None`` means no dark fermion (visible scenario): only a -> tau mu.  a -> gamma gamma is
    neglected (docs/physics.md §3.5).  ``pair``: the lepton pair, see :func:`width_tau_mu`.
    """
    gamma = width_tau_mu(m_a, g, theta, convention, both_charges=True, pair=pair)
    if m_chi is not None:
        gamma = gamma + width_chi_chi(m_a, m_chi, g_chi)
    return gamma


def br_invisible(m_a, g=1.0, m_chi=None, g_chi=DEFAULT_G_CHI, theta=DEFAULT_THETA,
                 convention: str = DEFAULT_CONVENTION, exact: bool = False, *, pair: LeptonPair):
    """BR(a -> chi chibar) (docs/physics.md §3.5).

    ``exact=False`` (default, [U] §14 item 17): the baseline 1 wherever a -> chi chibar is open
    (0 where m_a <= 2 m_chi).  ``exact=True``: Gamma_chi / (Gamma_chi + Gamma_taumu), 0 where both
    channels are closed.  ``m_chi=None`` uses the benchmark m_chi = m_a / 3 (§5.3, [U]).
    ``pair``: the lepton pair of Gamma_taumu, see :func:`width_tau_mu`.
    """
    m_a = positive("m_a", m_a)
    if m_chi is None:
        m_chi = m_a / DEFAULT_MA_OVER_MCHI
    g_chi_w = width_chi_chi(m_a, m_chi, g_chi)
    if not exact:
        return np.where(g_chi_w > 0, BR_INVISIBLE_BASELINE, 0.0)
    tot = g_chi_w + width_tau_mu(m_a, g, theta, convention, both_charges=True, pair=pair)
    return np.divide(g_chi_w, tot, out=np.zeros_like(tot), where=tot > 0)


def br_tau_mu_per_charge(m_a, g=1.0, m_chi=None, g_chi=DEFAULT_G_CHI, theta=DEFAULT_THETA,
                         convention: str = DEFAULT_CONVENTION, *, pair: LeptonPair):
    """BR(a -> tau^- mu^+) = BR(a -> tau^+ mu^-) [one charge combination] (docs/physics.md §3.5).

    ``m_chi=None`` (visible scenario, no open dark channel): 1/2 wherever a -> tau mu is open,
    0 below threshold.  With ``m_chi`` given: Gamma(one charge) / Gamma_tot (0 if all closed).
    ``pair``: the lepton pair, see :func:`width_tau_mu`.
    """
    one = width_tau_mu(m_a, g, theta, convention, both_charges=False, pair=pair)
    if m_chi is None:
        return np.where(one > 0, BR_VISIBLE_PER_CHARGE, 0.0)
    tot = total_width(m_a, g, theta, convention, m_chi, g_chi, pair=pair)
    return np.divide(one, tot, out=np.zeros_like(tot), where=tot > 0)


def ctau_m(m_a, g=1.0, theta=DEFAULT_THETA, convention: str = DEFAULT_CONVENTION, m_chi=None, g_chi=DEFAULT_G_CHI,
           *, pair: LeptonPair):
    """ALP proper decay length c*tau = hbar c / Gamma_tot [m] (docs/physics.md §3.3, Eq. (6)).

    Gamma_tot from :func:`total_width` (both tau-mu charges, plus chi chibar if ``m_chi`` given;
    lepton pair ``pair``).  ``inf`` where every channel is closed (stable ALP).
    """
    gamma = total_width(m_a, g, theta, convention, m_chi, g_chi, pair=pair)
    return np.divide(HBARC_GEV_M, gamma, out=np.full_like(gamma, np.inf), where=gamma > 0)


def lab_decay_length_m(E_a, m_a, g=1.0, theta=DEFAULT_THETA, convention: str = DEFAULT_CONVENTION,
                       m_chi=None, g_chi=DEFAULT_G_CHI, *, pair: LeptonPair):
    """Mean lab decay length of an ALP of lab energy ``E_a`` [GeV]: (|k|/m_a) c*tau  [m] (§3.3).

    c*tau from :func:`ctau_m` (lepton pair ``pair``).  Requires E_a >= m_a
    (ValueError naming the value otherwise).  ``inf`` for a stable ALP.
    """
    E_a = positive("E_a", E_a)
    m_a = positive("m_a", m_a)
    if np.any(E_a < m_a):
        bad = np.broadcast_arrays(E_a, m_a)
        i = np.argmax(bad[0] < bad[1])
        raise ValueError(f"E_a must be >= m_a, got E_a={bad[0].ravel()[i]!r} GeV < m_a={bad[1].ravel()[i]!r} GeV")
    bg = np.sqrt(E_a**2 - m_a**2) / m_a
    ct = ctau_m(m_a, g, theta, convention, m_chi, g_chi, pair=pair)
    return bg * np.where(bg > 0, ct, 0.0)  # ALP at rest: 0 (never 0 * inf = NaN)
