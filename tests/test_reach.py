"""Approximate kinematic reach (physics.md §7.1) against §13.6 t_min and §13.7 max masses."""

import numpy as np
import pytest

from lfvscan.physics import reach
from _refs import assert_printed




@pytest.mark.parametrize("E,m_a,ref", [(160, 2, "1.984009e-3"), (160, 10, "1.878227e-1"),
                                       (1000, 10, "4.808262e-3"), (1000, 40, "7.615135e-1")])
def test_t_min(E, m_a, ref):
    assert_printed(reach.t_min_GeV2(E, m_a), ref)


@pytest.mark.parametrize("E,ref", [(160, "16.112"), (1000, "42.945"), (1500, "52.995"), (4000, "87.666")])
def test_max_mass(E, ref):
    assert_printed(reach.max_mass_approx_GeV(E), ref)


def test_threshold_and_round_trips():
    # E_thr ~ 69 GeV for m_a = 10 GeV (§7.1)
    assert reach.threshold_energy_GeV(10.0) == pytest.approx(69.0, abs=0.5)
    E = np.array([100.0, 160.0, 1000.0, 4000.0])
    for t_cut in (1.0, 0.5):
        m = reach.max_mass_approx_GeV(E, t_cut)
        np.testing.assert_allclose(reach.t_min_GeV2(E, m), t_cut, rtol=1e-12)
        np.testing.assert_allclose(reach.threshold_energy_GeV(m, t_cut), E, rtol=1e-12)
    # a smaller t_cut lowers the reach
    assert np.all(reach.max_mass_approx_GeV(E, 0.5) < reach.max_mass_approx_GeV(E))


@pytest.mark.parametrize("call", [lambda: reach.t_min_GeV2(-1.0, 5.0), lambda: reach.t_min_GeV2(100.0, 0.0),
                                  lambda: reach.max_mass_approx_GeV(float("nan")), lambda: reach.threshold_energy_GeV(5.0, -1.0)])
def test_bad_inputs(call):
    with pytest.raises(ValueError, match="must be finite and > 0"):
        call()
