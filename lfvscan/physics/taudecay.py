"""Downstream tau kinematics: decay lengths and selection fractions (docs/physics.md §8).

* :func:`decay_length_tau_cm` - mean lab decay length lambda_tau(E_tau) (§8.1).
* :func:`e_cut_GeV` - tau energy above which lambda_tau > d (§8.5).
* :func:`resolved_fraction` - acceptance of one tau of energy E_tau for resolution d (§8.5):
  ``mode="mean"`` (baseline, step function on the mean decay length) or ``"exponential"``
  (survival probability exp(-d/lambda)).  [U] docs/physics.md §14 item 11.
* :func:`tau2_energy_bounds`, :func:`p2_pass_fraction` - the tau from a -> tau mu has a flat lab
  energy distribution on [E_-, E_+] (§8.3); fraction passing the decay-length cut.
* :func:`tau_to_mu_cdf`, :func:`p_muon_energy_below` - tau -> mu nu nu spectrum (§8.4).

Energies in GeV, lengths in cm.  All functions are vectorised over their array arguments.  The
tau is an explicit :class:`~lfvscan.physics.leptons.Lepton` ``tau`` (``tau.mass`` [GeV],
``tau.ctau_cm`` [cm]; the final lepton of the preset's pair, ``preset.lepton_pair(process).final``); the
functions of a -> tau mu take the :class:`~lfvscan.physics.leptons.LeptonPair` ``pair`` (the tau is
``pair.final``, the other lepton ``pair.beam``).
"""

from __future__ import annotations

import math

import numpy as np

from lfvscan.physics.decays import kallen
from lfvscan.physics.leptons import Lepton, LeptonPair
from lfvscan.util.validate import nonnegative

#: acceptance modes of :func:`resolved_fraction` / :func:`p2_pass_fraction` ([U] §14 item 11)
ACCEPTANCE_MODES = ("mean", "exponential")
DEFAULT_ACCEPTANCE_MODE = "mean"
#: Gauss-Legendre order for the exponential-survival average over the flat tau_2 spectrum
_GL_T, _GL_W = np.polynomial.legendre.leggauss(64)


def _check_mode(mode: str) -> str:
    if mode not in ACCEPTANCE_MODES:
        raise ValueError(f"unknown acceptance mode {mode!r} (known: {', '.join(ACCEPTANCE_MODES)})")
    return mode


def _tau_energy(E_tau, m_tau: float) -> np.ndarray:
    """E_tau as array; values below m_tau by more than 1e-9 (relative) raise, rounding is clipped."""
    E = np.asarray(E_tau, dtype=float)
    bad = ~(np.isfinite(E) & (E >= m_tau * (1.0 - 1e-9)))
    if np.any(bad):
        raise ValueError(f"E_tau must be finite and >= m_tau = {m_tau} GeV, got {E[bad].ravel()[0]!r}")
    return np.maximum(E, m_tau)


def beta_gamma_tau(E_tau, *, tau: Lepton):
    """beta*gamma = sqrt(E_tau^2 - m_tau^2) / m_tau of a tau of lab energy ``E_tau`` [GeV] (docs/physics.md §8.1)."""
    m_tau = tau.mass
    E = _tau_energy(E_tau, m_tau)
    return np.sqrt(E * E - m_tau**2) / m_tau


def decay_length_tau_cm(E_tau, *, tau: Lepton):
    """Mean lab decay length lambda_tau = beta gamma c tau_tau [cm] of a tau of energy ``E_tau`` [GeV] (§8.1)."""
    return beta_gamma_tau(E_tau, tau=tau) * tau.ctau_cm


def e_cut_GeV(d_cm, *, tau: Lepton):
    """Tau energy [GeV] with lambda_tau(E) = d [cm]:  sqrt((m_tau d / c tau_tau)^2 + m_tau^2) (§8.5)."""
    d = nonnegative("d_cm", d_cm, "cm")
    m_tau = tau.mass
    return np.sqrt((m_tau * d / tau.ctau_cm) ** 2 + m_tau**2)


def resolved_fraction(E_tau, d_cm, mode: str = DEFAULT_ACCEPTANCE_MODE, *, tau: Lepton):
    """Probability that a tau of energy ``E_tau`` [GeV] is resolved with resolution ``d_cm`` (§8.5).

    ``mode="mean"`` (baseline): 1 if lambda_tau(E_tau) > d else 0.
    ``mode="exponential"``: exp(-d / lambda_tau) (0 for a tau at rest).
    lambda_tau from :func:`decay_length_tau_cm` of ``tau``.
    """
    _check_mode(mode)
    lam = decay_length_tau_cm(E_tau, tau=tau)
    d = nonnegative("d_cm", d_cm, "cm")
    if mode == "mean":
        return np.where(lam > d, 1.0, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(lam > 0, np.exp(-d / np.where(lam > 0, lam, 1.0)), np.where(d > 0, 0.0, 1.0))


def tau2_rest_frame(m_a, *, pair: LeptonPair):
    """(E*, p*) [GeV] of the tau in the ALP rest frame for a -> tau mu (docs/physics.md §8.3):
    E* = (m_a^2 + m_tau^2 - m_mu^2)/(2 m_a), p* = lambda^(1/2)(m_a^2, m_tau^2, m_mu^2)/(2 m_a)
    (p* = 0 below threshold, m_a <= m_tau + m_mu, where the Kallen function is positive again for
    m_a < m_tau - m_mu); ``m_a`` [GeV]; m_tau = ``pair.final.mass``, m_mu = ``pair.beam.mass``."""
    m_tau, m_light = pair.final.mass, pair.beam.mass
    m_a = np.asarray(m_a, dtype=float)
    e_star = (m_a**2 + m_tau**2 - m_light**2) / (2.0 * m_a)
    open_ = m_a > m_tau + m_light
    p_star = np.where(open_, np.sqrt(np.maximum(kallen(m_a**2, m_tau**2, m_light**2), 0.0)), 0.0) / (2.0 * m_a)
    return e_star, p_star


def tau2_energy_bounds(E_a, m_a, *, pair: LeptonPair):
    """Lab energy range [E_-, E_+] [GeV] of the tau from a -> tau mu (docs/physics.md §8.3).

    E_+- = gamma_a (E* +- beta_a p*),  E* = (m_a^2 + m_tau^2 - m_mu^2)/(2 m_a),
    p* = lambda^(1/2)(m_a^2, m_tau^2, m_mu^2)/(2 m_a), with m_tau = ``pair.final.mass`` and m_mu =
    ``pair.beam.mass``.  The distribution is flat on [E_-, E_+].  NaN where the decay is impossible
    (m_a <= m_tau + m_mu or E_a < m_a).
    """
    m_tau, m_light = pair.final.mass, pair.beam.mass
    E_a = np.asarray(E_a, dtype=float)
    m_a = np.asarray(m_a, dtype=float)
    ok = (m_a > m_tau + m_light) & (E_a >= m_a)
    ma = np.where(ok, m_a, 10.0)
    Ea = np.where(ok, E_a, 10.0)
    e_star, p_star = tau2_rest_frame(ma, pair=pair)
    gamma = Ea / ma
    beta = np.sqrt(np.maximum(1.0 - 1.0 / gamma**2, 0.0))
    e_minus = np.maximum(gamma * (e_star - beta * p_star), m_tau)
    e_plus = gamma * (e_star + beta * p_star)
    return np.where(ok, e_minus, np.nan), np.where(ok, e_plus, np.nan)


def p2_pass_fraction(E_a, m_a, d_cm, mode: str = DEFAULT_ACCEPTANCE_MODE, *, pair: LeptonPair):
    """Fraction of taus from a -> tau mu (ALP lab energy ``E_a``) resolved with resolution ``d_cm``.

    docs/physics.md §8.5.  ``mode="mean"`` (baseline): clip((E_+ - max(E_cut, E_-)) / (E_+ - E_-), 0, 1).
    ``mode="exponential"``: average of exp(-d/lambda_tau(E)) over the flat spectrum (64-point
    Gauss-Legendre).  Exactly 0 where the decay is impossible (m_a <= m_tau + m_mu or E_a < m_a).
    For an ALP at rest (E_+ = E_-) the fraction is that of the single tau energy.  The tau is
    ``pair.final`` (mass, c tau), the other lepton ``pair.beam``.
    """
    _check_mode(mode)
    tau = pair.final
    m_tau = tau.mass
    d = nonnegative("d_cm", d_cm, "cm")
    e_minus, e_plus = tau2_energy_bounds(E_a, m_a, pair=pair)
    ok = np.isfinite(e_minus)
    em = np.where(ok, e_minus, m_tau)
    ep = np.where(ok, e_plus, m_tau)
    width = ep - em
    if mode == "mean":
        ecut = e_cut_GeV(d, tau=tau)
        wide = width > 0
        frac = np.where(wide, (ep - np.maximum(ecut, em)) / np.where(wide, width, 1.0),
                        np.where(ep > ecut, 1.0, 0.0))
    else:
        nodes = 0.5 * (em + ep)[..., None] + 0.5 * width[..., None] * _GL_T
        frac = 0.5 * np.sum(_GL_W * resolved_fraction(nodes, d[..., None], "exponential", tau=tau), axis=-1)
    return np.where(ok, np.clip(frac, 0.0, 1.0), 0.0)


def tau_to_mu_cdf(y_c):
    """P(y < y_c) for y = E_mu / E_tau in tau -> mu nu nu (docs/physics.md §8.4).

    Unpolarised ultra-relativistic tau, massless mu: dN/dy = 5/3 - 3y^2 + 4/3 y^3 on [0, 1],
    P = 5/3 y_c - y_c^3 + y_c^4 / 3  (y_c clipped to [0, 1]).
    """
    y = np.clip(np.asarray(y_c, dtype=float), 0.0, 1.0)
    return 5.0 / 3.0 * y - y**3 + y**4 / 3.0


def p_muon_energy_below(E_tau, E_max, *, tau: Lepton):
    """Probability that the muon from tau -> mu nu nu has E_mu < ``E_max`` [GeV] (§8.4, NA64 cut).

    = tau_to_mu_cdf(E_max / E_tau); ``E_tau`` [GeV] must be >= ``tau.mass`` [GeV].
    """
    E = _tau_energy(E_tau, tau.mass)
    return tau_to_mu_cdf(np.asarray(E_max, dtype=float) / E)


def tau2_lambda_distribution(energy_GeV: float, mass_GeV: float, x_tau_edges, dsigma_dlnx_tau, lam_edges_cm,
                             n_sub: int = 16, *, pair: LeptonPair):
    """(1/sigma) dsigma/dln lambda of the tau from a -> tau mu (docs/physics.md §8.3) for a beam of
    ``energy_GeV`` and an ALP of ``mass_GeV``, from the conversion tau's distribution
    ``dsigma_dlnx_tau`` [any unit] on ``x_tau_edges``: each x_tau bin (E_a = E (1 - x_tau)) is split
    into ``n_sub`` log sub-bins; the tau (``pair.final``) energy is flat on [E_-, E_+] and
    lambda = beta gamma c tau.
    Returns values per ln-lambda bin of ``lam_edges_cm`` [cm]."""
    E = float(energy_GeV)
    m = float(mass_GeV)
    edges = np.asarray(x_tau_edges, dtype=float)
    h = np.asarray(dsigma_dlnx_tau, dtype=float)
    u = np.log(edges)
    u_max = math.log(1 - m / E)
    lo, hi = u[:-1], np.minimum(u[1:], u_max)
    ok = hi > lo
    w_bin = h * np.diff(u)  # sigma per bin, spread over its physical part
    frac = (np.arange(n_sub) + 0.5) / n_sub
    us = lo[ok, None] + (hi - lo)[ok, None] * frac
    ws = np.repeat(w_bin[ok, None] / n_sub, n_sub, axis=1)
    E_a = E * (1 - np.exp(us))
    e_lo, e_hi = tau2_energy_bounds(E_a.ravel(), m, pair=pair)
    lam_edges = np.asarray(lam_edges_cm, float)
    E_edges = e_cut_GeV(lam_edges, tau=pair.final)  # tau energy whose mean decay length is the edge
    width = (e_hi - e_lo)[:, None]
    ov_ = np.clip(np.minimum(e_hi[:, None], E_edges[None, 1:]) - np.maximum(e_lo[:, None], E_edges[None, :-1]), 0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(width > 0, ov_ / width, 0.0)
    f = np.nan_to_num(f)
    content = np.sum(ws.ravel()[:, None] * f, axis=0)
    total = np.sum(ws)
    return content / total / np.diff(np.log(lam_edges))
