"""Integrand of the exact 2 -> 3 cross section mu N -> tau N a (docs/physics.md §7).

Physics (g = 1, so sigma = g^2 sigma_hat, §7.6):

    d sigma / dE_a dcos(theta_a) = alpha^2 / (32 pi M^2) |k| / (|p| V)
                                   * int_{t_lo}^{t_up} dt F^2(t) / t^2 Abar(t; E_a, theta_a)

with the closed-form phi_q average ``Abar`` (:func:`lfvscan.physics.amplitude.amplitude_phi_avg`),
the exact bounds of §7.7 and ``t_up = min(t_hi, t_cut, 2 M (E - E_a - m_final))``
(:mod:`lfvscan.physics.kinematics`).  ``F^2 = G_el + G_inel`` is split into its coherent and
incoherent parts (:mod:`lfvscan.physics.formfactors`).  The beam / final lepton masses
``m_beam`` / ``m_final`` (docs/physics.md's m_mu / m_tau), from the
:class:`~lfvscan.physics.leptons.LeptonPair` given to :func:`cell_physics`, are fields of
:class:`CellPhysics`.

Integration variables (all smooth maps, §7.8):

* ``y0 = ln w`` with ``w = E - E_a - m_final`` in ``[t_min / (2M), E - m_a - m_final]``; the lower end
  is exact: ``t >= t_lo >= t_min`` (forward threshold kinematics,
  :func:`lfvscan.physics.kinematics.t_min_exact`) and ``t <= 2 M w``, so nothing is cut.  Soft taus
  (heavy ALPs) keep their digits.
* ``y1 = ln(theta_a / theta_s)`` in ``[-LN_BELOW_THETA_S, ln(2 pi / theta_s_min)]``, with the angular
  scale ``theta_s(E_a)`` of :func:`lfvscan.xsec.kernel.theta_scale` (the smaller of the
  characteristic angle theta_c, ``sin^2(theta_c/2) = |u_0| / 4|p||k|``, and the angle where the t
  window closes).  In this variable the integrand's profile is nearly the same at every ALP energy
  (it rises like ``(theta_a/theta_s)^2`` below 1 and dies within a few e-folds above), so vegas'
  product map fits it.  The upper end reaches theta_a = pi at every E_a (``theta_s_min``: the
  smallest theta_s over the w range, halved); points above pi or below ``theta_a_min`` (default
  :func:`default_theta_a_min`: :data:`THETA_A_MIN` = 1e-8 rad for a final lepton of 1 GeV or more,
  times (m_final / 1 GeV)^2 below) are zero.  The only approximations are the lower ends:
  theta_a >= theta_s e^-10 neglects ~ e^-20 = 2e-9 of the integrand, theta_a >= theta_a_min
  ~ (theta_a_min/theta_c)^2 < 1e-8 for a final tau at E <= 1e4 GeV (checked in the tests by moving it
  to 1e-10 rad).  theta_c scales with the final lepton's mass (soft final leptons, ``|u_0| ~
  m_final^2``): with 1e-8 rad a final electron lost 0.4 % at 1e4 GeV and 53 % at 1e6 GeV (mu -> e,
  0.2 GeV), hence the lighter cut-off (docs/physics.md §7.17).
* ``r`` in [0, 1] is mapped to t in the exact window by :func:`lfvscan.xsec.kernel.t_map`: flat in
  ln t below ``t_nuc = 5 / R_A^2`` (where the coherent form factor starts to fall) and ``1/t^2``
  above, with ``h(r) = r^2 (3 - 2r)`` clustering points at both ends (``h' = 6 r (1 - r)`` removes
  the square-root end-point behaviour of ``I1, I2``).

The exact reach :func:`max_mass_exact_GeV` and :func:`is_open` live in :mod:`lfvscan.physics.reach`
(re-exported here for :mod:`lfvscan.xsec`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from lfvscan.physics import kinematics
from lfvscan.physics.amplitude import amplitude_phi_avg
from lfvscan.physics.amplitude_vector import (
    VectorCoefficients,
    amplitude_vector_phi_avg,
    part_coefficients_vector,
    vector_coefficients,
)
from lfvscan.physics.couplings import (
    DEFAULT_CONVENTION,
    DEFAULT_THETA,
    check_convention,
    check_family_convention,
    delta_m,
    g_eff_sq,
    vector_part_weights,
    yukawas,
)
from lfvscan.physics.formfactors import DEFAULT_FF, FormFactorParams, f2_coherent, f2_incoherent
from lfvscan.physics.leptons import LeptonPair
from lfvscan.physics.presets import PhysicsPreset, get_preset
from lfvscan.physics.reach import is_open
from lfvscan.physics.targets import Target
from lfvscan.xsec import cell_constants, engine

#: lower cut-off of the boson polar angle [rad] for a final lepton of 1 GeV or more (module docstring)
THETA_A_MIN = 1e-8


def default_theta_a_min(m_final: float) -> float:
    """Default lower cut-off of the boson polar angle [rad] for a final lepton of mass ``m_final`` [GeV]:
    :data:`THETA_A_MIN` times ``min(1, m_final / 1 GeV)^2`` (exactly THETA_A_MIN for a final tau; 2.6e-15
    rad for an electron, 1.1e-10 rad for a muon).  The characteristic angle of soft final leptons scales
    like m_final / E, so a fixed cut-off removes a growing part of sigma at high energy for a light one
    (module docstring, docs/physics.md §7.17); the square keeps a margin over that scaling."""
    return THETA_A_MIN * min(1.0, float(m_final)) ** 2
#: lower end of the vegas variable ln(theta_a / theta_s): the integrand below falls like
#: (theta_a / theta_s)^2, so ~ e^-20 of it is neglected (module docstring)
LN_BELOW_THETA_S = 10.0

def _abar_scalar(s0, s1, kin, t, cp, row):
    """Spin-0 Abar (§7.6) for the coupling row ``(g_eff^2, Delta_m, 0)`` (entries broadcast)."""
    return amplitude_phi_avg(s0, s1, kin.u, t, cp.E, kin.E_a, cp.M, row[0], row[1], E_minus_Ea=kin.E_minus_Ea)


def _abar_vector(s0, s1, kin, t, cp, row):
    """Spin-1 Abar_1 (§7.14) for the coupling row ``(g2, d, delta)`` of :class:`VectorCoefficients`."""
    c = VectorCoefficients(cp.m_a, row[0], row[1], row[2])
    return amplitude_vector_phi_avg(s0, s1, kin.u, t, cp.E, kin.E_a, cp.M, c, E_minus_Ea=kin.E_minus_Ea)


#: the phi_q-averaged amplitude of each boson family (docs/physics.md §7.6, §7.14), called by
#: :func:`_densities` with a coupling row (:data:`lfvscan.xsec.cell_constants.N_COUPLING` numbers): the one
#: place where the family of :attr:`CellPhysics.boson` selects the numpy amplitude (the compiled
#: kernel selects it by ``lfvscan.xsec.cell_constants.FAMILY_CODES``)
PHI_AVERAGED_AMPLITUDES = {"scalar": _abar_scalar, "vector": _abar_vector}


def check_boson_family(boson: str) -> None:
    """ValueError naming ``boson`` unless its amplitude is implemented (:data:`PHI_AVERAGED_AMPLITUDES`)."""
    if boson not in PHI_AVERAGED_AMPLITUDES:
        raise ValueError(f"boson {boson!r}: the cross section of this boson family is not implemented "
                         f"(implemented: {', '.join(map(repr, PHI_AVERAGED_AMPLITUDES))})")


# ----------------------------------------------------------------------------------- validation

# ------------------------------------------------------------------------------------ integrand

@dataclass(frozen=True)
class CellPhysics:
    """Everything the integrand needs for one cell (g = 1); build it with :func:`cell_physics`.

    ``m_beam`` / ``m_final`` are the beam / final lepton masses [GeV] of the cell's
    :class:`~lfvscan.physics.leptons.LeptonPair`; the kinematics, the reach and the t window below
    all use them (the couplings must have been computed for the same pair, as :func:`cell_physics`
    does).  ``boson``: the boson family of the process (:class:`~lfvscan.physics.process.Process`),
    which selects the amplitude (:data:`PHI_AVERAGED_AMPLITUDES`) and the couplings that enter it
    (:attr:`coupling_row`): ``g_eff2``, ``dm`` for the scalar family (NaN for the vector family),
    ``vector`` (:class:`~lfvscan.physics.amplitude_vector.VectorCoefficients` at the cell's theta)
    for the vector family (None for the scalar family).
    """

    target: Target
    E: float  #: beam energy [GeV]
    m_a: float  #: ALP mass [GeV]
    g_eff2: float  #: scalar family: g_S^2 + g_P^2 for g = 1
    dm: float  #: scalar family: Delta_m [GeV^2] for g = 1 (§7.4)
    ff: FormFactorParams
    m_beam: float  #: beam (incoming) lepton mass [GeV]
    m_final: float  #: final (outgoing) lepton mass [GeV]
    alpha: float  #: fine-structure constant of the prefactor (§7.6; preset)
    gev2_to_pb: float  #: 1 GeV^-2 in pb (preset)
    boson: str  #: boson family, a key of PHI_AVERAGED_AMPLITUDES
    theta_a_min: float = THETA_A_MIN
    vector: VectorCoefficients | None = None  #: vector family: (m_X, g2, d, delta) for g = 1 (§7.14)

    @property
    def coupling_row(self) -> tuple[float, float, float]:
        """The cell's couplings as one row of the kernel's coupling matrix
        (:data:`lfvscan.xsec.cell_constants.N_COUPLING`): ``(g_eff^2, Delta_m, 0)`` (scalar family, §7.4) or
        ``(g2, d, delta)`` (vector family, §7.14)."""
        if self.boson == "vector":
            return (float(self.vector.g2), float(self.vector.d), float(self.vector.delta))
        return (self.g_eff2, self.dm, 0.0)

    @property
    def M(self) -> float:
        """Nucleus mass [GeV]."""
        return self.target.M

    @property
    def w_bounds(self) -> tuple[float, float]:
        """Exact range of w = E - E_a - m_final [GeV]: [t_min_exact(E, m_a + m_final) / (2M), E - m_a - m_final]
        (see module docstring)."""
        tmin = float(kinematics.t_min_exact(self.E, self.m_a + self.m_final, self.M, m_beam=self.m_beam))
        return tmin / (2.0 * self.M), self.E - self.m_a - self.m_final

    @functools.cached_property
    def theta_s_min(self) -> float:
        """Smallest angular scale theta_s [rad] (:func:`lfvscan.xsec.kernel.theta_scale`) on 257
        log-spaced points of the w range."""
        wlo, whi = self.w_bounds
        kin = kinematics.alp_kinematics(self.E, np.geomspace(wlo, whi, 257), 0.0, self.m_a, m_beam=self.m_beam,
                                        m_final=self.m_final)
        # at theta_a = 0, p_long = |p| - |k| in its cancellation-free form
        u0, p, p_minus_k, k = (np.ascontiguousarray(a, dtype=float) for a in
                               np.broadcast_arrays(kin.u, kin.p, kin.p_long, kin.k))
        return float(engine.current().min_theta_scale(u0, p, p_minus_k, k, self.m_a, self.m_final,
                                                      self.ff.t_cut_GeV2))

    @property
    def bounds(self) -> list[list[float]]:
        """vegas integration box in (ln w, ln(theta_a / theta_s), r) (module docstring)."""
        wlo, whi = self.w_bounds
        return [[math.log(wlo), math.log(whi)], [-LN_BELOW_THETA_S, math.log(2.0 * math.pi / self.theta_s_min)],
                [0.0, 1.0]]

    @functools.cached_property
    def constants(self) -> np.ndarray:
        """The cell's constants as the compiled integrand reads them (:func:`lfvscan.xsec.cell_constants.cell_constants`)."""
        return cell_constants.cell_constants(self)


def cell_physics(target, energy_GeV, mass_GeV, *, physics: str | PhysicsPreset, pair: LeptonPair, boson: str,
                 theta=DEFAULT_THETA, convention=DEFAULT_CONVENTION, ff=DEFAULT_FF,
                 theta_a_min: float | None = None) -> CellPhysics:
    """Build the :class:`CellPhysics` for g = 1 and the Yukawas of (theta, convention) (§2.4).

    ``g_eff^2 = g_S^2 + g_P^2`` and ``Delta_m = g_S^2 [m_a^2 - (m_final + m_beam)^2] + g_P^2 [m_a^2 -
    (m_final - m_beam)^2]`` (§7.4) for the leptons of ``pair`` (the preset's own is
    ``physics.lepton_pair(process)``); the ``"eq2"`` ratio r is lighter over heavier of the two.
    ``physics``: a :class:`~lfvscan.physics.presets.PhysicsPreset` or its name; it sets alpha,
    1 GeV^-2 in pb, the nucleus mass and the form-factor conventions (docs/physics.md §14 item 29).
    ``boson``: the boson family of the process (ValueError naming it if its amplitude is not
    implemented, :func:`check_boson_family`).  The vector family has one coupling convention,
    ``(g_V, g_A) = (sin theta, cos theta)`` (:func:`lfvscan.physics.couplings.vector_axial`; a
    non-default ``convention`` is refused), and its :class:`VectorCoefficients` (§7.14) replace
    ``g_eff^2``, ``Delta_m``.  ``theta_a_min`` [rad]: the lower cut-off of the boson angle, None for
    :func:`default_theta_a_min` of the pair's final lepton.
    """
    check_convention(convention)
    check_boson_family(boson)
    check_family_convention(boson, convention)
    pre = get_preset(physics)
    m_beam, m_final = float(pair.beam.mass), float(pair.final.mass)
    if theta_a_min is None:
        theta_a_min = default_theta_a_min(m_final)
    if boson == "vector":
        g_V2, g_A2 = vector_part_weights(theta)
        vc = VectorCoefficients(*(float(x) for x in vector_coefficients(mass_GeV, g_V2, g_A2, m_final, m_beam)))
        return CellPhysics(pre.target(target), float(energy_GeV), float(mass_GeV), math.nan, math.nan,
                           pre.form_factors(ff), m_beam, m_final, float(pre.alpha), float(pre.gev2_to_pb), boson,
                           float(theta_a_min), vc)
    g_S, g_P = yukawas(1.0, theta, convention, pair=pair)
    g_S, g_P = float(g_S), float(g_P)
    return CellPhysics(pre.target(target), float(energy_GeV), float(mass_GeV), float(g_eff_sq(g_S, g_P)),
                       float(delta_m(mass_GeV, g_S, g_P, m_final, m_beam)), pre.form_factors(ff),
                       m_beam, m_final, float(pre.alpha), float(pre.gev2_to_pb), boson, float(theta_a_min))


def _t_range(w, theta_a, cp: CellPhysics):
    """(kinematics, t_lo, t_up) at (w, theta_a): the exact t window of §7.7 with the form-factor cut
    and E_out >= m_final, ``t_up = min(t_hi, t_cut, 2 M w)`` [GeV^2] (nan where unphysical)."""
    kin = kinematics.alp_kinematics(cp.E, w, theta_a, cp.m_a, m_beam=cp.m_beam, m_final=cp.m_final)
    t_lo, t_hi = kinematics.t_bounds(kin.E_minus_Ea, kin.V, kin.u, cp.M)
    return kin, t_lo, kinematics.t_upper(t_hi, w, cp.M, cp.ff.t_cut_GeV2)


def d3sigma(w, theta_a, t, cp: CellPhysics):
    """Fully differential d sigma / (dE_a dcos theta_a dt) [pb / GeV^3], coherent and incoherent.

    Arguments broadcast: ``w = E - E_a - m_final`` [GeV], ``theta_a`` [rad], ``t`` [GeV^2].  Returns
    ``(coh, inc, t_lo, t_up, kin)``; the densities are zero outside ``t_lo <= t <= t_up``.  §7.6.
    """
    kin, t_lo, t_up = _t_range(w, theta_a, cp)
    t = np.asarray(t, dtype=float)
    inside = (t >= t_lo) & (t <= t_up)
    ts = np.where(inside, t, np.where(np.isfinite(t_lo), t_lo, 1.0))
    coh, inc = _densities(ts, kin, cp)
    return np.where(inside, coh, 0.0), np.where(inside, inc, 0.0), t_lo, t_up, kin


def _densities(t, kin, cp: CellPhysics, row=None):
    """alpha^2/(32 pi M^2) |k|/(|p|V) F^2/t^2 Abar in pb/GeV^3 for coherent and incoherent F^2, with
    the cell's couplings, or with the coupling ``row`` given (:attr:`CellPhysics.coupling_row`; its
    entries may be arrays that broadcast, e.g. (k, 1) for k coupling sets)."""
    row = cp.coupling_row if row is None else row
    s0, s1 = kinematics.s_coefficients(t, kin, cp.M)
    abar = PHI_AVERAGED_AMPLITUDES[cp.boson](s0, s1, kin, t, cp, row)
    pref = (cp.alpha**2 / (32.0 * math.pi * cp.M**2) * cp.gev2_to_pb) * kin.k / (kin.p * kin.V) * abar / (t * t)
    return pref * f2_coherent(t, cp.target, cp.ff), pref * f2_incoherent(t, cp.target, cp.ff)


def _t_map(r, t_lo, t_up):
    """t = t_lo exp(L h(r)), h = r^2 (3 - 2r); returns (t, dt/dr)."""
    L = np.log(t_up / t_lo)
    h = r * r * (3.0 - 2.0 * r)
    t = t_lo * np.exp(L * h)
    return t, t * L * 6.0 * r * (1.0 - r)


def integrand_points(y, cp: CellPhysics):
    """Integrand in the vegas variables ``y[:, 0:3] = (ln w, ln(theta_a / theta_s), r)`` (pb, per unit volume;
    module docstring).

    Returns ``(coh, inc, E_f)``: the coherent and incoherent contributions (zero outside the
    physical region) and the exact final-lepton energy ``E_f = (E - E_a) - t/(2M)`` [GeV] of each point.
    ``r`` is mapped to t by :func:`lfvscan.xsec.kernel.t_map`; the selected engine
    (:mod:`lfvscan.xsec.engine`: the compiled :func:`lfvscan.xsec.kernel.integrand_kernel` or
    :func:`lfvscan.xsec.integrand_numpy.evaluate_cell`) evaluates the equations of :func:`d3sigma`.
    """
    coh, inc, e_f = _integrand(y, cp, np.array([cp.coupling_row]))
    return coh[0], inc[0], e_f


def _integrand(y, cp: CellPhysics, rows):
    """The integrand of the selected engine (:mod:`lfvscan.xsec.engine`: compiled or numpy) for the coupling
    rows ``rows`` (k, :data:`~lfvscan.xsec.cell_constants.N_COUPLING`): ``coh``, ``inc`` of shape (k, N),
    ``E_f`` (N)."""
    return engine.current().evaluate(y, cp, rows)


def part_weights(theta, convention: str, *, pair: LeptonPair, boson: str):
    """The coefficients of the two parts at ``theta`` [rad] for g = 1: scalar family (g_S^2, g_P^2) of
    ``convention`` (§2.4), sigma(theta) = g_S^2 sigma_S + g_P^2 sigma_P (docs/physics.md §7.12);
    vector family (g_V^2, g_A^2) = (sin^2 theta, cos^2 theta), sigma = g_V^2 sigma_V + g_A^2 sigma_A
    (§7.14; :func:`~lfvscan.physics.couplings.check_family_convention` refuses another convention).
    ``pair``: the lepton pair whose mass ratio enters the ``"eq2"`` couplings."""
    check_convention(convention)
    check_family_convention(boson, convention)
    if boson == "vector":
        return vector_part_weights(theta)
    g_S, g_P = yukawas(1.0, theta, convention, pair=pair)
    return float(g_S) ** 2, float(g_P) ** 2


def part_delta_m(cp: CellPhysics) -> tuple[float, float]:
    """Delta_m [GeV^2] of the pure scalar (g_S, g_P) = (1, 0) and pure pseudoscalar (0, 1) couplings (§7.4)."""
    return (float(delta_m(cp.m_a, 1.0, 0.0, cp.m_final, cp.m_beam)),
            float(delta_m(cp.m_a, 0.0, 1.0, cp.m_final, cp.m_beam)))


def part_rows(cp: CellPhysics) -> np.ndarray:
    """Coupling rows (2, :data:`~lfvscan.xsec.cell_constants.N_COUPLING`) of the cell's two parts: scalar family
    ``(1, d_S, 0)``, ``(1, d_P, 0)`` (:func:`part_delta_m`, §7.12); vector family ``(1, d_V, Delta_V)``,
    ``(1, d_A, Delta_A)`` (:func:`~lfvscan.physics.amplitude_vector.part_coefficients_vector`, §7.14)."""
    if cp.boson == "vector":
        c = part_coefficients_vector(cp.m_a, cp.m_final, cp.m_beam)
        return np.column_stack([np.ravel(c.g2), np.ravel(c.d), np.ravel(c.delta)]).astype(float)
    d_s, d_p = part_delta_m(cp)
    return np.array([[1.0, d_s, 0.0], [1.0, d_p, 0.0]])


def integrand_parts(y, cp: CellPhysics):
    """The two parts of :func:`integrand_points`: scalar and pseudoscalar (docs/physics.md §7.12), or
    vector and axial for the vector family (§7.14: ``A_1 = g_V^2 A_V + g_A^2 A_A``, no V-A
    interference), rows of :func:`part_rows`.

    The amplitude (§7.4, §7.6) is ``g_eff^2 X + Delta_m Y`` with ``g_eff^2 = g_S^2 + g_P^2`` and
    ``Delta_m = g_S^2 d_S + g_P^2 d_P`` (d_S = m_a^2 - (m_final + m_beam)^2, d_P = m_a^2 - (m_final - m_beam)^2), so
    ``A = g_S^2 (X + d_S Y) + g_P^2 (X + d_P Y)``: no S-P interference.  Returns ``(coh, inc, E_f)`` with
    ``coh``, ``inc`` of shape (2, N): row 0 for (g_S, g_P) = (1, 0), row 1 for (0, 1), in the units of
    :func:`integrand_points`; the kinematics and X, Y are computed once for both rows.
    """
    return _integrand(y, cp, part_rows(cp))


def dsigma_dw_dcos(w, theta_a, cp: CellPhysics, *, n_t: int = 48, part: str = "total"):
    """d sigma / dE_a dcos(theta_a) [pb/GeV] for g = 1 at arrays of (w, theta_a) (§7.6), with
    ``w = E - E_a - m_final`` [GeV] (keeps digits for soft taus).

    Deterministic: the t integral uses ``n_t``-point Gauss-Legendre in the mapped variable ``r``
    of :func:`_t_map` (the map removes the end-point square roots, so it converges quickly).
    ``part`` is "total", "coherent" or "incoherent".  Zero outside the physical region.
    """
    if part not in ("total", "coherent", "incoherent"):
        raise ValueError(f"part must be 'total', 'coherent' or 'incoherent', got {part!r}")
    w, theta_a = np.broadcast_arrays(np.asarray(w, dtype=float), np.asarray(theta_a, dtype=float))
    shape = w.shape
    w, theta_a = w.ravel(), theta_a.ravel()
    xg, wg = np.polynomial.legendre.leggauss(n_t)
    r = 0.5 * (xg + 1.0)
    wr = 0.5 * wg
    good = (w > 0) & (cp.E - cp.m_a - cp.m_final - w > 0)
    ws = np.where(good, w, 1.0)
    kin, t_lo, t_up = _t_range(ws[:, None], theta_a[:, None], cp)
    ok = (t_up > t_lo) & good[:, None]
    t, dtdr = _t_map(r[None, :], np.where(ok, t_lo, 1.0), np.where(ok, t_up, 1.0))
    coh, inc = _densities(t, kin, cp)
    f = {"total": coh + inc, "coherent": coh, "incoherent": inc}[part]
    val = np.where(ok, f * dtdr, 0.0) @ wr
    return val.reshape(shape)
