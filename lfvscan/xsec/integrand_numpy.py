"""The integrand in the vegas variables with numpy arrays: the numpy engine's half of
:mod:`lfvscan.xsec.kernel` (docs/physics.md §7.5-§7.8; engines: :mod:`lfvscan.xsec.engine`).

The same equations as the compiled :func:`lfvscan.xsec.kernel.integrand_kernel`, written with the
vectorised reference functions (:func:`lfvscan.physics.kinematics.alp_kinematics`, the t window and
the densities of §7.6 with the family's amplitude that :func:`lfvscan.xsec.integrand.d3sigma` uses): the
angular scale theta_s of :func:`theta_scale`, the t map of :func:`t_map`, the Jacobian ``w
sin(theta_a) theta_a dt/dr``.  The values agree with the kernel's to round-off (the kernel fuses
multiply-adds and takes ``sin theta_a`` from ``sin(theta_a / 2)``), so a cell computed with either
engine gives the same cross section within a tiny fraction of its error, not the same bits.  No
numba: a job too small to pay for loading the compiled kernels uses these.
"""

from __future__ import annotations

import math

import numpy as np

from lfvscan.physics import kinematics
from lfvscan.xsec import integrand
from lfvscan.xsec.cell_constants import P_TNUC


def theta_scale(u0, p, p_minus_k, k, m_a, m_final, t_cut):
    """Angular scale theta_s [rad] at arrays of ``u0``, ``|p|``, ``|p| - |k|``, ``|k|`` (theta_a = 0):
    :func:`lfvscan.xsec.kernel.theta_scale` (its docstring gives the two angles and the floors)."""
    pk4 = 4.0 * p * k  # 0 where the ALP is at rest (w at its upper end): theta_s = 2 there
    au0 = np.maximum(np.abs(u0), 1e-12 * (m_a * m_a + m_final * m_final))
    with np.errstate(divide="ignore", invalid="ignore"):
        s2_c = au0 / pk4
        s2_w = (2.0 * np.abs(p_minus_k) * math.sqrt(t_cut) - au0) / pk4
    s2 = np.minimum(s2_c, np.maximum(s2_w, 1e-4 * s2_c))
    return 2.0 * np.sqrt(np.minimum(s2, 1.0))


def min_theta_scale(u0, p, p_minus_k, k, m_a, m_final, t_cut) -> float:
    """Smallest :func:`theta_scale` over arrays of equal length (:func:`lfvscan.xsec.kernel.min_theta_scale`)."""
    return float(np.min(theta_scale(u0, p, p_minus_k, k, m_a, m_final, t_cut)))


def t_map(r, t_lo, t_up, t_nuc):
    """t(r) and dt/dr of the t map (:func:`lfvscan.xsec.kernel.t_map`, docs/physics.md §7.8):
    ``ln(1 + t_nuc / t)`` linear in ``h(r) = r^2 (3 - 2r)`` between its values at ``t_lo`` and ``t_up``."""
    z_lo = np.log1p(t_nuc / t_lo)
    z_up = np.log1p(t_nuc / t_up)
    t = t_nuc / np.expm1(z_lo + (z_up - z_lo) * r * r * (3.0 - 2.0 * r))
    return t, t * (1.0 + t / t_nuc) * (z_lo - z_up) * 6.0 * r * (1.0 - r)


def evaluate_cell(y, cp, rows):
    """``(coh, inc, e_f)`` at the vegas points ``y`` (N, 3) = (ln w, ln(theta_a / theta_s), r) for the
    coupling rows ``rows`` (k, :data:`~lfvscan.xsec.cell_constants.N_COUPLING`): ``coh``, ``inc`` (k, N) in
    pb per unit volume, zero outside the physical region, ``e_f`` (N) the exact final-lepton energy [GeV]
    (``E - E_a`` outside), as :func:`lfvscan.xsec.kernel.evaluate_cell`."""
    y = np.asarray(y, dtype=float)
    rows = np.asarray(rows, dtype=float)
    w = np.exp(y[:, 0])
    r = y[:, 2]
    k0 = kinematics.alp_kinematics(cp.E, w, 0.0, cp.m_a, m_beam=cp.m_beam, m_final=cp.m_final)
    th = theta_scale(k0.u, k0.p, k0.p_long, k0.k, cp.m_a, cp.m_final, cp.ff.t_cut_GeV2) * np.exp(y[:, 1])
    in_th = (th >= cp.theta_a_min) & (th <= math.pi)
    th = np.where(in_th, th, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        kin, t_lo, t_up = integrand._t_range(w, th, cp)
        ok = in_th & (t_up > t_lo)
        t, dtdr = t_map(r, np.where(ok, t_lo, 1.0), np.where(ok, t_up, 2.0), cp.constants[P_TNUC])
        coh, inc = integrand._densities(t, kin, cp, tuple(rows[:, j, None] for j in range(rows.shape[1])))
    jac = np.where(ok, w * np.sin(th) * th * dtdr, 0.0)
    W = cp.m_final + w
    return (np.where(ok, coh * jac, 0.0), np.where(ok, inc * jac, 0.0),
            np.where(ok, W - t / (2.0 * cp.M), W))
