"""Closed-form properties of a spin-1 LFV boson X (docs/physics.md §7.14): its two-body widths, c*tau and
the one-loop g-2 of the lepton concerned.

Lagrangian ``L = g X_mu lbar_f gamma^mu (g_V + g_A gamma5) l_i + h.c.`` with ``(g_V, g_A) = (sin theta,
cos theta)`` (:func:`lfvscan.physics.couplings.vector_axial`).

* Width (§7.14, "Widths of X"): per charge channel, ``Gamma(X -> l_f- l_i+) = g^2 lambda^(1/2)(m_X^2,
  m_f^2, m_i^2) [g_V^2 Delta_V + g_A^2 Delta_A] / (24 pi m_X^3)`` with the brackets of
  :func:`lfvscan.physics.amplitude_vector.width_bracket_vector`; both charges (X -> l_f- l_i+ and
  l_i- l_f+) give twice that.  Equal masses: the textbook ``Gamma(Z' -> f fbar) = g^2 m_X beta
  (g_V^2 (1 + 2 m^2/m_X^2) + g_A^2 beta^2) / (12 pi)``.
* :func:`vector_summary`: the rows of ``lfvscan model --boson vector``.
* g-2 (§7.14, "g-2"): the one-loop vertex of a neutral vector with couplings ``C_V``, ``C_A`` between the
  external lepton l (mass m) and a lepton F (mass m_F) in the loop (Leveille, Nucl. Phys. B137 (1978) 63;
  in the notation of Lindner, Platscher, Queiroz, Phys. Rept. 731 (2018) 1, arXiv:1610.06587, §4, and
  Jegerlehner, Nyffeler, Phys. Rept. 477 (2009) 1):
  ``Delta a = m^2 / (8 pi^2 m_X^2) int_0^1 dx [C_V^2 P_V(x) + C_A^2 P_A(x)] / D(x)``,
  ``P_V = 2 x (1 - x)(x - 2 (1 - eps)) + lambda^2 (1 - eps)^2 x^2 (1 + eps - x)``, ``P_A = P_V(eps -> -eps)``,
  ``D = (1 - x)(1 - lambda^2 x) + eps^2 lambda^2 x``, ``eps = m_F / m``, ``lambda = m / m_X``.
  Limits (tests): ``eps = 1``, ``C_A = 0``: ``g^2 / (8 pi^2)`` (Schwinger's ``alpha'/2pi``) for
  ``m_X -> 0`` and ``g^2 m^2 / (12 pi^2 m_X^2)`` for ``m_X >> m``; axial ``-5 g^2 m^2 / (12 pi^2 m_X^2)``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate

from lfvscan.physics.amplitude_vector import width_bracket_vector
from lfvscan.physics.constants import HBARC_GEV_M
from lfvscan.physics.couplings import vector_axial
from lfvscan.physics.decays import kallen
from lfvscan.physics.leptons import LeptonPair

def width_vector(m_X, g, theta, *, pair: LeptonPair, both_charges: bool):
    """Gamma(X -> l_f l_i) [GeV] at boson mass ``m_X`` [GeV] (module docstring), 0 below threshold;
    ``both_charges``: the sum of X -> l_f- l_i+ and l_i- l_f+ (else one of them)."""
    m_X = np.asarray(m_X, dtype=float)
    g_V, g_A = vector_axial(g, theta)
    m_f, m_i = pair.final.mass, pair.beam.mass
    open_ = m_X > m_f + m_i
    mX = np.where(open_, m_X, 1.0)
    dV, dA = width_bracket_vector(mX, m_f, m_i)
    lam = np.sqrt(np.maximum(kallen(mX**2, m_f**2, m_i**2), 0.0))
    w = lam * (g_V**2 * dV + g_A**2 * dA) / (24.0 * math.pi * mX**3)
    return np.where(open_, w, 0.0) * (2.0 if both_charges else 1.0)


def delta_a_vector(m_X: float, C_V: float, C_A: float, *, pair: LeptonPair) -> float:
    """One-loop Delta a of the lepton ``pair.beam`` (mass m) with ``pair.final`` (m_F) in the loop and a
    vector of mass ``m_X`` [GeV], couplings ``C_V``, ``C_A`` (module docstring; Leveille 1978).
    ValueError naming ``m_X`` where the loop has an on-shell cut (m_X <= m - m_F: l -> F X is open)."""
    m, m_F = pair.beam.mass, pair.final.mass
    if not m_X > m - m_F:
        raise ValueError(f"m_X = {m_X!r} GeV is not above m_{pair.beam.name} - m_{pair.final.name} = {m - m_F:.6g} GeV: "
                         "the g-2 loop has an on-shell cut there")
    eps, lam2 = m_F / m, (m / m_X) ** 2

    def integrand(x):
        p_v = 2.0 * x * (1.0 - x) * (x - 2.0 * (1.0 - eps)) + lam2 * (1.0 - eps) ** 2 * x * x * (1.0 + eps - x)
        p_a = 2.0 * x * (1.0 - x) * (x - 2.0 * (1.0 + eps)) + lam2 * (1.0 + eps) ** 2 * x * x * (1.0 - eps - x)
        d = (1.0 - x) * (1.0 - lam2 * x) + eps * eps * lam2 * x
        return (C_V**2 * p_v + C_A**2 * p_a) / d

    # a light vector: the integrand varies on x ~ 1 / lambda (eps = 1) or 1 / (lambda^2 |eps^2 - 1|); a light
    # internal lepton: near x = 1 on 1 - x ~ lambda^2 eps^2 / |1 - lambda^2|
    scales = [1.0 / math.sqrt(lam2), 1.0 / lam2] + ([1.0 / (lam2 * abs(eps * eps - 1.0))] if eps != 1.0 else [])
    points = {min(f * x, 0.5) for x in scales for f in (1.0, 10.0, 100.0)}
    if lam2 != 1.0:
        d1 = lam2 * eps * eps / abs(1.0 - lam2)
        points |= {max(1.0 - f * d1, 0.5) for f in (1.0, 10.0, 100.0)}
    points = sorted(points)
    val, _ = integrate.quad(integrand, 0.0, 1.0, points=points, epsabs=0.0, epsrel=1e-11, limit=400)
    return m * m / (8.0 * math.pi**2 * m_X**2) * val


def ctau_vector_m(m_X, g, theta, *, pair: LeptonPair):
    """c tau [m] of X decaying to the lepton pair only (both charges); inf where closed."""
    w = width_vector(m_X, g, theta, pair=pair, both_charges=True)
    with np.errstate(divide="ignore"):
        return np.where(w > 0, HBARC_GEV_M / np.where(w > 0, w, 1.0), math.inf)


def vector_summary(mass_GeV: float, coupling: float, theta_rad: float, energy_GeV: float | None, *,
                   pair: LeptonPair, g2_pair: LeptonPair, process_label: str) -> dict:
    """The rows of ``lfvscan model --boson vector`` (keys with units as in
    :func:`lfvscan.physics.summary.model_summary`): couplings, widths per charge and both charges,
    c*tau, the lab decay length at ``energy_GeV`` (when given), Delta a of ``g2_pair.beam`` with
    ``g2_pair.final`` in the loop (:func:`delta_a_vector`; absent, with a note, where its loop has an
    on-shell cut), ``notes``.  ``channel``: heavier lepton first (``tau_mu``)."""
    g_V, g_A = (float(v) for v in vector_axial(coupling, theta_rad))
    ch = f"{pair.heavy.name}_{pair.light.name}"
    w_one = float(width_vector(mass_GeV, coupling, theta_rad, pair=pair, both_charges=False))
    ctau = float(ctau_vector_m(mass_GeV, coupling, theta_rad, pair=pair))
    out = {"mass_GeV": mass_GeV, "coupling": coupling, "theta_rad": theta_rad, "process": process_label,
           "g_V": g_V, "g_A": g_A, f"width_{ch}_per_charge_GeV": w_one, f"width_{ch}_GeV": 2.0 * w_one,
           "ctau_m": ctau}
    notes = ["spin-1 boson X: widths to the lepton pair only (no invisible channel in this model)"]
    if w_one == 0.0:
        notes.append(f"X -> {pair.heavy.name} {pair.light.name} closed: m_X <= {pair.threshold_GeV:.4f} GeV "
                     "(width 0, c*tau infinite)")
    if energy_GeV is not None:
        gamma_beta = math.sqrt(max(energy_GeV**2 - mass_GeV**2, 0.0)) / mass_GeV
        out["energy_GeV"] = energy_GeV
        out["lab_decay_length_m"] = gamma_beta * ctau
    key = f"delta_a{g2_pair.beam.name}"
    try:
        out[key] = delta_a_vector(mass_GeV, g_V, g_A, pair=g2_pair)
    except ValueError as exc:
        notes.append(f"g-2: {exc}")
    else:
        notes.append(f"g-2: one-loop Delta a_{g2_pair.beam.name} with the {g2_pair.final.name} in the loop "
                     "(Leveille 1978; docs/physics.md §7.14)")
    out["notes"] = notes
    return out
