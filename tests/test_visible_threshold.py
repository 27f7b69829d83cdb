"""A visible ALP (a -> tau mu) selects nothing below the decay threshold m_a <= m_tau + m_mu (docs/physics.md §3.2).

Below m_tau - m_mu the Kallen function lambda(m_a^2, m_tau^2, m_mu^2) is positive again, so a momentum
built from it alone would be real there; the reference is the threshold typed in by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from lfvscan.pheno.store_limits import compute_limits_for_store
from lfvscan.physics.presets import PDG_2024
from lfvscan.physics.process import Process
from lfvscan.physics.taudecay import tau2_rest_frame

from _toy_scan import toy_scan

THRESHOLD = 1.77686 + 0.1056583755  # GeV, PDG 2024
PAIR = PDG_2024.lepton_pair(Process("mu", "tau", "scalar"))


def test_tau2_momentum_is_zero_below_threshold():
    _, p = tau2_rest_frame(np.array([1.0, 1.5, 1.8, 2.5]), pair=PAIR)
    assert np.all(p[:3] == 0.0)
    assert p[3] > 0


@pytest.mark.parametrize("experiment", ["hemu", "mubed"])
def test_visible_curves_empty_below_threshold(experiment):
    masses = np.array([1.0, 1.5, THRESHOLD - 1e-3, 2.5])
    res = compute_limits_for_store(toy_scan([160.0, 1000.0], masses, targets=("Pb",)), experiments=[experiment])
    visible = [lim for lim in res.limits if lim.yields.scenario == "visible"]
    assert visible
    for lim in visible:
        assert np.all(lim.yields.n_hat[:3] == 0.0), lim.key
        assert np.all(np.isinf(lim.g_lim[:3])), lim.key
        assert lim.yields.n_hat[3] > 0, lim.key
    for lim in res.limits:
        if lim.yields.scenario == "invisible":
            assert np.all(lim.yields.n_hat > 0), lim.key
