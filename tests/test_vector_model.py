"""Widths, c*tau and g-2 of the spin-1 boson (lfvscan.physics.vector_model, docs/physics.md §7.14).

References: the width from an explicit numerical Dirac trace with the massive-vector polarisation sum in
the X rest frame (two-body phase space is a constant |p| / (8 pi m_X^2)), the textbook equal-mass
widths; the g-2 loop against its known limits (Schwinger's alpha'/2pi for a light vector coupling to
one lepton; the heavy-vector forms g^2 m^2 / (12 pi^2 m_X^2) and -5 g^2 m^2 / (12 pi^2 m_X^2)) and
against an independent evaluation of the Feynman-parameter integral (mpmath).
"""

import json
import math

import numpy as np
import pytest

from _crosscheck import _gamma_matrices
from _leptons import ELECTRON, PAIR, pair_of
from lfvscan.cli import main
from lfvscan.physics.constants import M_E, M_MU, M_TAU
from lfvscan.physics.leptons import LeptonPair
from lfvscan.physics.vector_model import ctau_vector_m, delta_a_vector, width_vector

METRIC = np.diag([1.0, -1.0, -1.0, -1.0])


def _width_trace(m_X, g_V, g_A, m_f, m_i):
    """Gamma(X -> f- i+) [GeV] for L = X_mu fbar gamma^mu (g_V + g_A gamma5) i from the trace
    sum |M|^2 = Tr[(pf + m_f) G^mu (pi - m_i) Gbar^nu] (-g_mu nu + k_mu k_nu / m_X^2), averaged over
    the three polarisations of X."""
    g, g5 = _gamma_matrices()
    one = np.eye(4)
    lam = m_X**4 + m_f**4 + m_i**4 - 2 * (m_X**2 * m_f**2 + m_f**2 * m_i**2 + m_i**2 * m_X**2)
    p = math.sqrt(lam) / (2 * m_X)
    n = np.array([0.3, -0.5, 0.8]) / math.sqrt(0.98)  # any direction: the polarisation-summed |M|^2 is isotropic
    pf = np.array([math.sqrt(m_f**2 + p * p), *(p * n)])
    pi = np.array([math.sqrt(m_i**2 + p * p), *(-p * n)])
    k = np.array([m_X, 0.0, 0.0, 0.0])

    def slash(a):
        return sum(METRIC[mu, mu] * a[mu] * g[mu] for mu in range(4))

    vert = [g[mu] @ (g_V * one + g_A * g5) for mu in range(4)]
    vbar = [g[0] @ v.conj().T @ g[0] for v in vert]
    k_low = METRIC @ k
    total = 0.0
    for mu in range(4):
        for nu in range(4):
            pol = -METRIC[mu, nu] + k_low[mu] * k_low[nu] / m_X**2
            if pol != 0.0:
                total += pol * np.trace((slash(pf) + m_f * one) @ vert[mu] @ (slash(pi) - m_i * one) @ vbar[nu]).real
    return p / (8 * math.pi * m_X**2) * total / 3.0


@pytest.mark.parametrize("m_X, m_f, m_i", [(10.0, M_TAU, M_MU), (2.0, M_TAU, M_MU), (1.9, M_TAU, M_E),
                                           (0.2, M_MU, M_E), (5.0, M_TAU, M_TAU)])
@pytest.mark.parametrize("theta", [math.pi / 2, 0.0, 0.6])
def test_width_is_the_dirac_trace(m_X, m_f, m_i, theta):
    g = 0.37
    pair = pair_of(m_i, m_f)
    ref = _width_trace(m_X, g * math.sin(theta), g * math.cos(theta), m_f, m_i)
    assert float(width_vector(m_X, g, theta, pair=pair, both_charges=False)) == pytest.approx(ref, rel=1e-12)
    assert float(width_vector(m_X, g, theta, pair=pair, both_charges=True)) == pytest.approx(2 * ref, rel=1e-12)


def test_width_equal_masses_textbook_and_closed_channel():
    """Gamma(Z' -> f fbar) = g^2 m_X beta (g_V^2 (1 + 2 m^2/m_X^2) + g_A^2 beta^2) / (12 pi)."""
    m_X, m = 5.0, M_TAU
    pair = pair_of(m, m)
    beta = math.sqrt(1 - 4 * m * m / m_X**2)
    for theta, (gv2, ga2) in ((math.pi / 2, (1, 0)), (0.0, (0, 1))):
        ref = m_X * beta * (gv2 * (1 + 2 * m * m / m_X**2) + ga2 * beta**2) / (12 * math.pi)
        assert float(width_vector(m_X, 1.0, theta, pair=pair, both_charges=False)) == pytest.approx(ref, rel=1e-12)
    assert float(width_vector(M_TAU + M_MU - 1e-6, 1.0, 0.3, pair=PAIR, both_charges=True)) == 0.0
    assert math.isinf(float(ctau_vector_m(1.0, 1.0, 0.3, pair=PAIR)))
    w = float(width_vector(10.0, 0.01, 0.3, pair=PAIR, both_charges=True))
    assert float(ctau_vector_m(10.0, 0.01, 0.3, pair=PAIR)) == pytest.approx(1.973269804e-16 / w, rel=1e-12)


def _delta_a_mp(m_X, C_V, C_A, m, m_F):
    """The Feynman-parameter integral of docs/physics.md §7.14 written from the formula, by mpmath's
    tanh-sinh quadrature at 30 digits (it resolves the peak of width ~ lambda^2 eps^2 at x -> 1 of a
    light internal lepton and the one at x ~ 1/lambda of a light vector)."""
    import mpmath as mp

    with mp.workdps(30):
        e, l2 = mp.mpf(m_F) / m, (mp.mpf(m) / m_X) ** 2

        def f(x):
            pv = 2 * x * (1 - x) * (x - 2 * (1 - e)) + l2 * (1 - e) ** 2 * x**2 * (1 + e - x)
            pa = 2 * x * (1 - x) * (x - 2 * (1 + e)) + l2 * (1 + e) ** 2 * x**2 * (1 - e - x)
            return (C_V**2 * pv + C_A**2 * pa) / ((1 - x) * (1 - l2 * x) + e * e * l2 * x)

        return float(mp.mpf(m) ** 2 / (8 * mp.pi**2 * m_X**2) * mp.quad(f, [0, 0.5, 1]))


def test_g2_known_limits():
    """Flavour-conserving loop (F = l): Schwinger g^2/(8 pi^2) for m_X -> 0; heavy vector
    g^2 m^2/(12 pi^2 m_X^2), heavy axial -5 g^2 m^2/(12 pi^2 m_X^2)."""
    mumu = pair_of(M_MU, M_MU)
    g = 0.1
    for m_X in (1e-5, 1e-6, 1e-7):  # approached linearly, ~ (1 - pi m_X / m)
        assert delta_a_vector(m_X, g, 0.0, pair=mumu) == pytest.approx(g * g / (8 * math.pi**2), rel=4 * m_X / M_MU)
    m_X = 1e3
    assert delta_a_vector(m_X, g, 0.0, pair=mumu) == pytest.approx(g * g * M_MU**2 / (12 * math.pi**2 * m_X**2), rel=1e-6)
    assert delta_a_vector(m_X, 0.0, g, pair=mumu) == pytest.approx(-5 * g * g * M_MU**2 / (12 * math.pi**2 * m_X**2),
                                                                   rel=1e-6)


@pytest.mark.parametrize("m_X, m, m_F", [(10.0, M_MU, M_TAU), (1.0, M_MU, M_TAU), (0.3, M_MU, M_E), (5.0, M_E, M_TAU)])
def test_g2_flavour_violating_against_mpmath(m_X, m, m_F):
    pair = pair_of(m, m_F)
    for C_V, C_A in ((1.0, 0.0), (0.0, 1.0), (0.4, 0.7)):
        assert delta_a_vector(m_X, C_V, C_A, pair=pair) == pytest.approx(_delta_a_mp(m_X, C_V, C_A, m, m_F), rel=1e-9)
    # heavy internal lepton: chirally enhanced by m_F / m, vector positive, axial negative
    if m_F > m:
        assert delta_a_vector(m_X, 1.0, 0.0, pair=pair) > 0 > delta_a_vector(m_X, 0.0, 1.0, pair=pair)


def test_g2_refused_at_the_on_shell_cut():
    with pytest.raises(ValueError, match=r"m_X = 0.1 GeV is not above m_beam - m_final = 0.105147 GeV"):
        delta_a_vector(0.1, 1.0, 0.0, pair=pair_of(M_MU, M_E))


@pytest.mark.parametrize("beam, final, channel, g2_key", [("mu", "tau", "tau_mu", "delta_amu"),
                                                          ("e", "tau", "tau_e", "delta_ae"),
                                                          ("mu", "e", "mu_e", "delta_amu")])
def test_cli_model_vector(capsys, beam, final, channel, g2_key):
    assert main(["model", "--mass", "10", "--boson", "vector", "--beam", beam, "--final", final, "--theta", "0.6",
                 "--energy", "100", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    pair = LeptonPair(*(ELECTRON if n == "e" else PAIR.beam if n == "mu" else PAIR.final for n in (beam, final)))
    w = float(width_vector(10.0, 1e-2, 0.6, pair=pair, both_charges=True))
    assert d[f"width_{channel}_GeV"] == pytest.approx(w, rel=1e-12)
    assert d["ctau_m"] == pytest.approx(1.973269804e-16 / w, rel=1e-12)
    assert d["lab_decay_length_m"] == pytest.approx(math.sqrt(100**2 - 10**2) / 10 * d["ctau_m"], rel=1e-12)
    loop = pair_of(pair.beam.mass, pair.final.mass) if g2_key == "delta_ae" or beam == "mu" else None
    assert d[g2_key] == pytest.approx(delta_a_vector(10.0, 1e-2 * math.sin(0.6), 1e-2 * math.cos(0.6), pair=loop),
                                      rel=1e-12)


def test_cli_model_vector_refuses_scalar_options_with_one_line(capsys):
    assert main(["model", "--mass", "1", "--boson", "vector", "--m-chi", "0.1"]) == 2
    err = capsys.readouterr().err
    assert "--m-chi" in err and len(err.strip().splitlines()) == 1
