"""Muon anomalous magnetic moment from the LFV ALP (docs/physics.md §4, Eqs. (8)-(12)).

Contents
--------
* :func:`delta_amu_yukawa` - exact one-loop result (§4.1) for ``-i a tau_bar (g_S + g_P g5) mu``,
  evaluated by fixed-order Gauss-Legendre quadrature on geometrically graded panels (pure numpy,
  vectorised over m_a and the couplings; reproduces docs/physics.md §13.3 to better than 1e-7).
* :func:`loop_F`, :func:`loop_G` - Eq. (9), with a Taylor series around x = 1 (removable
  singularity) and the exact limits at x = 0; :func:`delta_amu_closed_yukawa` - Eq. (8).
* :func:`delta_amu_lowmass` - Eq. (10), m_a << m_tau.
* :func:`delta_amu` - convenience front end in terms of (g, theta, convention).
* :class:`G2Measurement`, :data:`G2_PRESETS`, :func:`get_g2_measurement` - measured Delta a_mu.
* :func:`preferred_band` - the g-2 preferred coupling band drawn in Figs. 6-7 (§4.5).

Reconstructed ([U]) choices, all configurable (docs/physics.md §14 items 2 and 5): the coupling
convention (``convention="eq3"`` default, Eq. (3) Yukawas inside the exact loop), the sigma level
of the band (``nsigma=2`` default) and the theta values (always an explicit argument).

Lepton masses come from the :class:`~lfvscan.physics.leptons.LeptonPair` ``pair`` every function of
them takes: the external lepton whose anomalous moment is computed is ``pair.beam`` (mass m_beam,
m_mu in docs/physics.md) and the lepton in the loop ``pair.final`` (m_final, m_tau).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lfvscan.physics.couplings import DEFAULT_CONVENTION, yukawas
from lfvscan.physics.leptons import LeptonPair
from lfvscan.util.validate import nonnegative, positive

# --------------------------------------------------------------------------------------------
# exact one-loop integral (§4.1)
# --------------------------------------------------------------------------------------------

#: Gauss-Legendre order per panel of the exact loop integral
GL_ORDER = 24
#: panel edges on each half of [0, 1] (distance from the nearer end point): 0, 1e-16 .. 1e-1, 0.5
_EDGES = np.concatenate(([0.0], 10.0 ** np.arange(-16, 0), [0.5]))


def _graded_nodes(order: int = GL_ORDER):
    """Nodes/weights on [0, 1] graded geometrically towards both ends.

    Returns (x, u, w) with u = 1 - x computed without cancellation at either end.
    """
    t, wt = np.polynomial.legendre.leggauss(order)
    lo, hi = _EDGES[:-1], _EDGES[1:]
    half = 0.5 * (hi - lo)
    d = (lo[:, None] + half[:, None] * (t[None, :] + 1.0)).ravel()  # distance from the end
    w = (half[:, None] * wt[None, :]).ravel()
    x = np.concatenate((d, 1.0 - d))
    u = np.concatenate((1.0 - d, d))
    return x, u, np.concatenate((w, w))


_X, _U, _W = _graded_nodes()


def delta_amu_yukawa(m_a, g_S, g_P, *, pair: LeptonPair):
    """Exact one-loop Delta a_mu (docs/physics.md §4.1) for Yukawas (g_S, g_P); dimensionless.

    ::

        Delta a_mu = m_mu^2 / (8 pi^2 m_a^2) int_0^1 dx
                     [g_S^2 x^2 (1 + eps - x) + g_P^2 x^2 (1 - eps - x)]
                     / [(1 - x)(1 - lam^2 x) + eps^2 lam^2 x],
        eps = m_f / m_mu,  lam = m_mu / m_a,

    with m_mu = ``pair.beam.mass`` [GeV] the external lepton and m_f = ``pair.final.mass`` [GeV] the
    internal one (a pair of one flavour gives the flavour-diagonal textbook case).
    ``m_a`` [GeV] > 0 (array).  Broadcasts over ``m_a``, ``g_S``, ``g_P``.
    """
    m_beam, m_final = pair.beam.mass, pair.final.mass
    m_a = positive("m_a", m_a)
    g_S, g_P = np.asarray(g_S, dtype=float), np.asarray(g_P, dtype=float)
    eps = m_final / m_beam
    lam2 = (m_beam / m_a)[..., None] ** 2
    x, u = _X, _U
    den = u * (1.0 - lam2 * x) + eps**2 * lam2 * x
    i_s = np.sum(_W * x * x * (u + eps) / den, axis=-1)  # coefficient of g_S^2
    i_p = np.sum(_W * x * x * (u - eps) / den, axis=-1)  # coefficient of g_P^2
    pref = m_beam**2 / (8.0 * math.pi**2 * m_a**2)
    return pref * (g_S**2 * i_s + g_P**2 * i_p)


# --------------------------------------------------------------------------------------------
# closed forms (§4.2, §4.3)
# --------------------------------------------------------------------------------------------

#: |x - 1| below which F, G are evaluated from their Taylor series around x = 1
SERIES_RADIUS = 0.1
_NSER = 24
_K = np.arange(_NSER)
#: F(1 + d) = sum_k (-1)^k 4 / ((k+1)(k+2)(k+3)) d^k ;  G(1 + d) = sum_k (-1)^k 4 / ((k+2)(k+3)(k+4)) d^k
_F_SER = (-1.0) ** _K * 4.0 / ((_K + 1) * (_K + 2) * (_K + 3))
_G_SER = (-1.0) ** _K * 4.0 / ((_K + 2) * (_K + 3) * (_K + 4))


def _x_array(x) -> np.ndarray:
    return nonnegative("x = m_a^2/m_tau^2", x)


def _x2logx(x):
    """x^2 ln x with the limit 0 at x = 0."""
    safe = np.where(x > 0, x, 1.0)
    return np.where(x > 0, safe**2 * np.log(safe), 0.0)


def loop_F(x):
    """F(x) = (1 - 3x)/(x - 1)^2 + 2 x^2 ln x / (x - 1)^3  (docs/physics.md §4.2, Eq. (9)).

    x = m_a^2 / m_tau^2 >= 0.  F(0) = 1, F(1) = 2/3 (series used for |x - 1| < SERIES_RADIUS).
    """
    x = _x_array(x)
    d = x - 1.0
    near = np.abs(d) < SERIES_RADIUS
    dd = np.where(near, 1.0, d)
    direct = (1.0 - 3.0 * x) / dd**2 + 2.0 * _x2logx(x) / dd**3
    series = np.polynomial.polynomial.polyval(np.where(near, d, 0.0), _F_SER)
    return np.where(near, series, direct)


def loop_G(x):
    """G(x) = (2x^2 + 5x - 1)/(3 (x - 1)^3) - 2 x^2 ln x / (x - 1)^4  (docs/physics.md §4.2, Eq. (9)).

    x = m_a^2 / m_tau^2 >= 0.  G(0) = 1/3, G(1) = 1/6 (series used for |x - 1| < SERIES_RADIUS).
    """
    x = _x_array(x)
    d = x - 1.0
    near = np.abs(d) < SERIES_RADIUS
    dd = np.where(near, 1.0, d)
    direct = (2.0 * x * x + 5.0 * x - 1.0) / (3.0 * dd**3) - 2.0 * _x2logx(x) / dd**4
    series = np.polynomial.polynomial.polyval(np.where(near, d, 0.0), _G_SER)
    return np.where(near, series, direct)


def delta_amu_closed_yukawa(m_a, g_S, g_P, *, pair: LeptonPair):
    """Closed form Eq. (8) for m_mu << m_tau, m_a (docs/physics.md §4.2); dimensionless.

    Delta a_mu = [ (g_S^2 - g_P^2) (m_mu/m_tau) F(x) + (g_S^2 + g_P^2) (m_mu/m_tau)^2 G(x) ] / (16 pi^2),
    x = m_a^2 / m_tau^2, with m_mu = ``pair.beam.mass`` and m_tau = ``pair.final.mass`` [GeV].
    Relative accuracy vs the exact integral <= 5e-4 for m_a >= 2 GeV.
    """
    m_beam, m_final = pair.beam.mass, pair.final.mass
    m_a = positive("m_a", m_a)
    x = (m_a / m_final) ** 2
    g_S, g_P = np.asarray(g_S, dtype=float), np.asarray(g_P, dtype=float)
    r = m_beam / m_final
    return ((g_S**2 - g_P**2) * r * loop_F(x) + (g_S**2 + g_P**2) * r * r * loop_G(x)) / (16.0 * math.pi**2)


def delta_amu_lowmass(g=1.0, theta=math.pi / 2, convention: str = DEFAULT_CONVENTION, *, pair: LeptonPair):
    """Low-mass limit Eq. (10), m_a << m_tau (docs/physics.md §4.3); dimensionless, m_a independent.

    Delta a_mu = (g_S^2 - g_P^2) m_mu / (16 pi^2 m_tau)  (= -g^2 cos(2 theta) * 3.766e-4 in the
    Eq. (3) convention), with m_mu = ``pair.beam.mass`` and m_tau = ``pair.final.mass`` [GeV].
    """
    g_S, g_P = yukawas(g, theta, convention, pair=pair)
    return (g_S**2 - g_P**2) * (pair.beam.mass / pair.final.mass) / (16.0 * math.pi**2)


METHODS = ("exact", "closed", "lowmass")


def delta_amu(m_a, theta, g=1.0, convention: str = DEFAULT_CONVENTION, method: str = "exact", *,
              pair: LeptonPair):
    """Delta a_mu of the ALP at mass ``m_a`` [GeV], angle ``theta`` [rad], coupling ``g``.

    ``method``: ``"exact"`` (§4.1, default), ``"closed"`` (Eq. (8)-(9)) or ``"lowmass"`` (Eq. (10)).
    ``convention``: coupling convention of docs/physics.md §2.4 (``"eq3"`` default, [U] §14 item 2).
    ``pair``: external (``pair.beam``) and loop (``pair.final``) leptons.
    Broadcasts over ``m_a``, ``theta`` and ``g``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown g-2 method {method!r} (known: {', '.join(METHODS)})")
    g_S, g_P = yukawas(g, theta, convention, pair=pair)
    if method == "exact":
        return delta_amu_yukawa(m_a, g_S, g_P, pair=pair)
    if method == "closed":
        return delta_amu_closed_yukawa(m_a, g_S, g_P, pair=pair)
    m_a = np.asarray(m_a, dtype=float)
    low = delta_amu_lowmass(g, theta, convention, pair=pair)
    return np.broadcast_to(low, np.broadcast_shapes(m_a.shape, np.shape(g_S))).copy()


# --------------------------------------------------------------------------------------------
# measured input (§4.5) and preferred band
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class G2Measurement:
    """A measured discrepancy Delta a_mu = a_mu^exp - a_mu^SM with its 1-sigma error (both dimensionless)."""

    name: str
    delta_amu: float
    sigma: float
    description: str = ""
    lepton: str = "mu"  #: the lepton whose anomalous moment was measured ("mu" or "e")

    def __post_init__(self):
        if not math.isfinite(self.delta_amu):
            raise ValueError(f"delta_amu must be finite, got {self.delta_amu!r}")
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"sigma must be finite and > 0, got {self.sigma!r}")


#: named presets.  ``paper-2023`` is what the paper used (Eqs. (11)-(12)); ``wp2025`` is today's
#: situation (2025 world average vs 2025 Theory Initiative white paper), where the lower 2-sigma
#: edge is negative so the "band" degenerates to an upper limit on g.
G2_PRESETS: dict[str, G2Measurement] = {
    "paper-2023": G2Measurement(
        "paper-2023", 249e-11, 48e-11,
        "world average 2023 a_mu^exp = 116592059(22)e-11 minus Theory Initiative WP2020 "
        "a_mu^SM = 116591810(43)e-11: 249(48)e-11, 5.1 sigma (docs/physics.md §4.5, Eqs. (11)-(12))",
    ),
    "wp2025": G2Measurement(
        "wp2025", 38e-11, 63e-11,
        "world average 2025 (final Fermilab) minus Theory Initiative WP2025 SM (lattice HVP): "
        "38(63)e-11, consistent with zero",
    ),
    "electron-rb-2023": G2Measurement(
        "electron-rb-2023", 3.4e-13, 1.6e-13,
        "Delta a_e = a_e^exp (Fan et al., PRL 130 (2023) 071801) minus a_e^SM with alpha from Rb (Morel et al., "
        "Nature 588 (2020) 61): +3.4(1.6)e-13, as the thesis code's anomalies['e Rb'] = (34e-14, 16e-14) "
        "(rmarcarelli/thesis, thesis_code/lfv_lepton_observables/limits.py)", lepton="e",
    ),
    "electron-cs-2023": G2Measurement(
        "electron-cs-2023", -10.1e-13, 2.7e-13,
        "Delta a_e = a_e^exp (Fan et al. 2023) minus a_e^SM with alpha from Cs (Parker et al., Science 360 (2018) "
        "191): -10.1(2.7)e-13, the thesis code's anomalies['e Cs'] = (-101e-14, 27e-14) (rmarcarelli/thesis, "
        "thesis_code/lfv_lepton_observables/limits.py)", lepton="e",
    ),
}
DEFAULT_G2_PRESET = "paper-2023"
#: the default preset of each measured lepton's g-2 (figures of e -> tau draw the Delta a_e band)
DEFAULT_G2_PRESETS = {"mu": DEFAULT_G2_PRESET, "e": "electron-rb-2023"}
#: sigma level of the drawn band ([U] docs/physics.md §14 item 5)
DEFAULT_NSIGMA = 2.0


def get_g2_measurement(preset: str | G2Measurement = DEFAULT_G2_PRESET) -> G2Measurement:
    """Return the :class:`G2Measurement` for a preset name (or the instance itself)."""
    if isinstance(preset, G2Measurement):
        return preset
    try:
        return G2_PRESETS[preset]
    except (KeyError, TypeError):
        raise ValueError(f"unknown g-2 preset {preset!r} (known: {', '.join(G2_PRESETS)})") from None


def g_for_delta_amu(value, delta_amu_hat):
    """Coupling g with g^2 * delta_amu_hat = value: sqrt(value / delta_amu_hat).

    NaN where ``delta_amu_hat <= 0`` (no positive contribution); 0 where ``value <= 0``.
    """
    value = np.asarray(value, dtype=float)
    hat = np.asarray(delta_amu_hat, dtype=float)
    ok = hat > 0
    ratio = np.divide(value, hat, out=np.zeros(np.broadcast_shapes(value.shape, hat.shape)), where=ok)
    return np.where(ok, np.sqrt(np.maximum(ratio, 0.0)), np.nan)


def preferred_band(m_a, theta, preset: str | G2Measurement = DEFAULT_G2_PRESET, nsigma: float = DEFAULT_NSIGMA,
                   convention: str = DEFAULT_CONVENTION, method: str = "exact", *, pair: LeptonPair):
    """g-2 preferred coupling band (docs/physics.md §4.5): returns ``(g_lo, g_central, g_hi)`` arrays.

    The band is the set of g with  D - nsigma*sigma <= g^2 Delta_a_hat(m_a, theta) <= D + nsigma*sigma,
    where (D, sigma) is the measurement ``preset`` (name from :data:`G2_PRESETS` or a
    :class:`G2Measurement`) and Delta_a_hat = Delta a_mu(g = 1) from :func:`delta_amu`.  Hence
    ``g_edge = sqrt(edge / Delta_a_hat)``.  Vectorised over ``m_a`` [GeV] and ``theta`` [rad].

    Degenerate cases (documented behaviour):

    * ``Delta_a_hat < 0`` (e.g. theta < pi/4 in Eq. (3)): the band of g with
      -D - nsigma*sigma <= g^2 |Delta_a_hat| <= -D + nsigma*sigma, the band of a negative measurement
      (``electron-cs-2023``: the thesis's Theta < pi/4 for Delta a_e(Cs)).
    * no band (all three NaN) where ``Delta_a_hat = 0`` or no g gives a shift inside the measured band (its
      upper edge, sign-adjusted as above, <= 0: e.g. the positive ``paper-2023`` at theta < pi/4 in Eq. (3),
      or theta = pi/4 with Eq. (2) couplings; the negative ``electron-cs-2023`` at theta > pi/4).
    * lower edge (sign-adjusted) <= 0: ``g_lo = 0``, i.e. the band becomes an upper limit
      g <= g_hi (the situation of the ``wp2025`` preset at 1 and 2 sigma).
    * central value of the other sign than the shift: ``g_central = 0``.

    ``nsigma`` (default 2) and ``theta`` are [U] choices (docs/physics.md §14 item 5).  ``pair``:
    external and loop leptons, see :func:`delta_amu`.
    """
    meas = get_g2_measurement(preset)
    positive("nsigma", nsigma)
    hat = delta_amu(m_a, theta, 1.0, convention, method, pair=pair)
    # where the ALP's shift is negative, D - n sigma <= g^2 hat <= D + n sigma reads
    # -D - n sigma <= g^2 |hat| <= -D + n sigma: the band of a negative measurement (Delta a_e with alpha(Cs))
    sign = np.where(hat < 0, -1.0, 1.0)
    lo = g_for_delta_amu(sign * meas.delta_amu - nsigma * meas.sigma, sign * hat)
    central = g_for_delta_amu(sign * meas.delta_amu, sign * hat)
    hi = g_for_delta_amu(sign * meas.delta_amu + nsigma * meas.sigma, sign * hat)
    empty = ~(hi > 0)  # hat = 0, or no g with a shift inside the band: no band
    return tuple(np.where(empty, np.nan, v) for v in (lo, central, hi))
