"""The published analysis' visible-channel options (docs/physics.md §10.3): tau_2 resolved from its
mean lab energy E_a E*/m_a, its fraction of sigma multiplied with the tau_1 fraction as if
independent, N_req = 2.44; checked against hand formulas on the toy scan (flat in ln x_tau)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lfvscan.errors import UsageError
from lfvscan.pheno.experiments import N_REQ_PUBLISHED, load_experiments, published_visible_overrides
from lfvscan.pheno.limits import compute_limits
from lfvscan.pheno.store_limits import compute_limits_for_store
from lfvscan.pheno.yields import curve_yield

from _leptons import PAIR
from _toy_scan import CTAU, M_TAU, NL_PB2, c_of, toy_scan

M_MU = 0.1056583755


def e_cut(d):
    return math.sqrt((M_TAU * d / CTAU) ** 2 + M_TAU**2)


@pytest.mark.parametrize("curve,d", [("vis-2cm", 2.0), ("vis-2mm", 0.2)])
def test_mean_energy_factorised_yield_by_hand(curve, d):
    E, masses = 1000.0, [5.0, 10.0, 20.0]
    scan = toy_scan([E], masses, p=0.0, targets=("Pb",), nb=29)
    exp = load_experiments(overrides=published_visible_overrides(load_experiments()))["hemu"]
    sel = exp.curve(curve)
    assert sel.tau2_acceptance == "mean-energy" and sel.n_req == N_REQ_PUBLISHED
    y = curve_yield(scan, exp, sel)
    for k, m in enumerate(masses):
        x_max = 1 - m / E
        e_star = (m * m + M_TAU**2 - M_MU**2) / (2 * m)
        s0 = math.log(x_max / (M_TAU / E))  # in units of c(E, m): dsigma/dln x = c flat
        s1 = math.log(x_max / (e_cut(d) / E))
        x2 = min(1 - e_cut(d) * m / (e_star * E), x_max)  # tau_2 mean energy E_a E*/m_a > E_cut
        s2 = max(math.log(x2 / (M_TAU / E)), 0.0)
        hand = 1e16 * NL_PB2 * 0.5 * 0.152**2 * c_of(E, m) * s1 * s2 / s0
        assert y.n_hat[k] == pytest.approx(hand, rel=1e-9)
    lim = compute_limits([y], n_req=3.0)[0]
    assert lim.n_req == 2.44
    np.testing.assert_allclose(lim.g_lim, np.sqrt(2.44 / y.n_hat), rtol=1e-15)


def test_mean_energy_error_is_linear_propagation():
    """The error is the linear propagation of the per-bin errors through S_1 S_2 / S_0 with the
    tails linear between bin edges (the weights of acceptance_weights and mean_energy_tau2_weights):
    numerical derivative with respect to each bin, errors in quadrature."""
    import dataclasses

    from lfvscan.pheno.acceptance import acceptance_weights, mean_energy_tau2_weights, selected_xsec

    E = 1000.0
    scan = toy_scan([E], [10.0], p=0.3, targets=("Pb",), nb=12)
    sel = load_experiments(overrides={"hemu.vis-2cm.tau2_acceptance": "mean-energy"})["hemu"].curve("vis-2cm")
    _, err = selected_xsec(scan, 0, 0, sel)
    edges = scan.x_f_edges[0]
    a1 = acceptance_weights(edges, E, [10.0], dataclasses.replace(sel, res_tau2_cm=None), PAIR)[0]
    a0 = acceptance_weights(edges, E, [10.0], dataclasses.replace(sel, res_tau1_cm=None, res_tau2_cm=None), PAIR)[0]
    a2 = mean_energy_tau2_weights(edges, E, [10.0], sel.res_tau2_cm, PAIR)[0]

    def s_linear(h):
        return (h @ a1) * (h @ a2) / (h @ a0)

    h0 = scan.dsigma_dlnx_f_pb[0, 0, 0].copy()
    grads = []
    for i in range(h0.size):
        step = 1e-6 * max(h0[i], 1e-30)
        h = h0.copy()
        h[i] += step
        grads.append((s_linear(h) - s_linear(h0)) / step)
    hand = math.sqrt(sum((g * e) ** 2 for g, e in zip(grads, scan.dsigma_dlnx_f_err_pb[0, 0, 0])))
    assert err[0] == pytest.approx(hand, rel=1e-4)


def test_published_option_touches_only_visible_curves():
    scan = toy_scan([160.0, 1000.0], [5.0, 10.0], p=0.0, targets=("Pb",))
    exact = compute_limits_for_store(scan, experiments=["hemu", "na64mu"])
    pub = compute_limits_for_store(scan, experiments=["hemu", "na64mu"], visible_analysis="published")
    for a, b in zip(exact.limits, pub.limits):
        assert a.key == b.key
        if a.yields.scenario == "visible":
            assert b.n_req == 2.44 and a.n_req == 3.0
            if a.yields.curve != "vis-ultimate":
                assert not np.allclose(a.yields.n_hat, b.yields.n_hat)
            else:  # no tau_2 cut: only N_req changes
                np.testing.assert_array_equal(a.yields.n_hat, b.yields.n_hat)
        else:
            np.testing.assert_array_equal(a.g_lim, b.g_lim)
    assert pub.provenance["visible_analysis"] == "published"
    with pytest.raises(UsageError, match="'thesis'"):
        compute_limits_for_store(scan, experiments=["hemu"], visible_analysis="thesis")


def test_mean_energy_needs_visible_curve():
    with pytest.raises(UsageError, match="inv-2cm"):
        load_experiments(overrides={"hemu.inv-2cm.tau2_acceptance": "mean-energy"})
    with pytest.raises(UsageError, match="tau2_acceptance"):
        load_experiments(overrides={"hemu.vis-2cm.tau2_acceptance": "mean"})
