"""Toy scan built in memory for the yield and limit tests (test_yields.py, test_limits.py).

Toy cross section: dsigma/dln x_tau = c(E) x_tau^p on the physical range m_tau/E <= x_tau <= 1 - m_a/E,
c(E) = C0 (E / 100 GeV)^q (m_a / 10 GeV)^-2.  The stored histogram holds exact bin averages.
The constants are typed in independently of lfvscan.physics.constants (hand-calculation inputs).
"""

from __future__ import annotations

import math

import numpy as np

from lfvscan.xsec.result import x_f_edges
from lfvscan.store.scandata import ScanData
from lfvscan.schema import DONE, SKIPPED

M_TAU = 1.77686
CTAU = 87.03e-4
N_A = 6.02214076e23
C0, Q = 2.0, 0.5
REL_ERR = 0.1


def nl_pb(rho, molar, L):
    """n_T L [pb^-1] by hand."""
    return rho * N_A / molar * L * 1e-36


NL_PB2 = nl_pb(11.35, 207.2, 2.0)
NL_W = nl_pb(19.3, 183.84, 660.0)


def c_of(E, m):
    return C0 * (E / 100.0) ** Q * (m / 10.0) ** -2


def toy_hist(edges, E, m, p):
    """Exact bin averages of c x^p over the physical part of each bin, per full ln-width."""
    x_max = 1 - m / E
    lo, hi = edges[:-1], np.minimum(edges[1:], x_max)
    if p == 0:
        integ = np.log(np.clip(hi / lo, 1, None))
    else:
        integ = np.where(hi > lo, (hi**p - lo**p) / p, 0.0)
    return c_of(E, m) * integ / np.log(edges[1:] / edges[:-1])


def toy_scan(energies, masses, p=0.0, targets=("Pb", "W"), nb=40, edges_fn=None, skipped=()):
    energies = np.asarray(energies, float)
    masses = np.asarray(masses, float)
    nT, nE, nM = len(targets), len(energies), len(masses)
    edges = np.array([edges_fn(E) if edges_fn else x_f_edges(E, nb, M_TAU) for E in energies])
    nb = edges.shape[1] - 1
    h = np.zeros((nT, nE, nM, nb))
    closed = np.zeros((nT, nE, nM), bool)
    for j, E in enumerate(energies):
        for k, m in enumerate(masses):
            if m + M_TAU >= E:
                closed[:, j, k] = True
                continue
            h[:, j, k] = toy_hist(edges[j], E, m, p)
    status = np.full((nT, nE, nM), DONE, np.int8)
    for t, j in skipped:
        status[t, j] = SKIPPED
    sig = np.sum(h * np.log(edges[None, :, None, 1:] / edges[None, :, None, :-1]), axis=-1)
    return ScanData(
        targets=tuple(targets), energies_GeV=energies, masses_GeV=masses, x_f_edges=edges,
        status=status, sigma_pb=sig, sigma_err_pb=REL_ERR * sig, sigma_coherent_pb=0.9 * sig,
        sigma_incoherent_pb=0.1 * sig, dsigma_dlnx_f_pb=h, dsigma_dlnx_f_err_pb=REL_ERR * h,
        closed=closed, theta=math.pi / 4, convention="eq3", attrs={"config_hash": "toy"},
    )
