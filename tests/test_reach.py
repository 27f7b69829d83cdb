"""Approximate kinematic reach (docs/physics.md §7.1) against §13.6 t_min and §13.7 max masses."""

import numpy as np
import pytest

from lfvscan.physics import reach
from lfvscan.physics.constants import M_E, M_MU, M_TAU
from _refs import assert_printed
from _leptons import PAIR, pair_of


@pytest.mark.parametrize("E,m_a,ref", [(160, 2, "1.984009e-3"), (160, 10, "1.878227e-1"),
                                       (1000, 10, "4.808262e-3"), (1000, 40, "7.615135e-1")])
def test_t_min(E, m_a, ref):
    assert_printed(reach.t_min_GeV2(E, m_a, pair=PAIR), ref)


@pytest.mark.parametrize("E,ref", [(160, "16.112"), (1000, "42.945"), (1500, "52.995"), (4000, "87.666")])
def test_max_mass(E, ref):
    assert_printed(reach.max_mass_approx_GeV(E, pair=PAIR), ref)


def test_threshold_and_round_trips():
    # E_thr ~ 69 GeV for m_a = 10 GeV (§7.1)
    assert reach.threshold_energy_GeV(10.0, pair=PAIR) == pytest.approx(69.0, abs=0.5)
    E = np.array([100.0, 160.0, 1000.0, 4000.0])
    for t_cut in (1.0, 0.5):
        m = reach.max_mass_approx_GeV(E, t_cut, pair=PAIR)
        np.testing.assert_allclose(reach.t_min_GeV2(E, m, pair=PAIR), t_cut, rtol=1e-12)
        np.testing.assert_allclose(reach.threshold_energy_GeV(m, t_cut, pair=PAIR), E, rtol=1e-12)
    # a smaller t_cut lowers the reach
    assert np.all(reach.max_mass_approx_GeV(E, 0.5, pair=PAIR) < reach.max_mass_approx_GeV(E, pair=PAIR))


@pytest.mark.parametrize("call", [lambda: reach.t_min_GeV2(-1.0, 5.0, pair=PAIR), lambda: reach.t_min_GeV2(100.0, 0.0, pair=PAIR),
                                  lambda: reach.max_mass_approx_GeV(float("nan"), pair=PAIR), lambda: reach.threshold_energy_GeV(5.0, -1.0, pair=PAIR)])
def test_bad_inputs(call):
    with pytest.raises(ValueError, match="must be finite and > 0"):
        call()


# ------------------------------------------------------------- other lepton pairs (m_beam, m_final)
# References from the §7.1 formulas evaluated by hand (30-digit arithmetic) with the PDG masses
# m_e = 0.51099895e-3, m_mu = 0.1056583755, m_tau = 1.77686 GeV, t_cut = 1 GeV^2 unless given:
#   t_min = [((m_a + m_final)^2 - m_beam^2) / (2E)]^2,  m_max = sqrt(2E sqrt(t_cut) + m_beam^2) - m_final,
#   E_thr = [(m_a + m_final)^2 - m_beam^2] / (2 sqrt(t_cut)).
E_TAU, TAU_MU, MU_E = (M_E, M_TAU), (M_TAU, M_MU), (M_MU, M_E)


@pytest.mark.parametrize("pair, E, m_a, ref", [(E_TAU, 1000, 10, 4.80903631137e-3),   # e -> tau
                                                (TAU_MU, 1000, 10, 2.44862170787e-3),  # tau -> mu (swapped)
                                                (MU_E, 160, 2, 1.55538356259e-4)])     # mu -> e
def test_t_min_other_pairs(pair, E, m_a, ref):
    pair = pair_of(*pair)
    assert reach.t_min_GeV2(E, m_a, pair=pair) == pytest.approx(ref, rel=1e-11)


@pytest.mark.parametrize("pair, E, ref", [(E_TAU, 160, 16.1116838273), (TAU_MU, 160, 17.8709161441),
                                          (MU_E, 1000, 44.7209733647)])
def test_max_mass_approx_other_pairs(pair, E, ref):
    pair = pair_of(*pair)
    assert reach.max_mass_approx_GeV(E, pair=pair) == pytest.approx(ref, rel=1e-11)


@pytest.mark.parametrize("pair, m_a, t_cut, ref", [(E_TAU, 10, 1.0, 69.3472155992), (TAU_MU, 10, 1.0, 49.4835498714),
                                                   (MU_E, 10, 0.5, 70.7100109972)])
def test_threshold_energy_other_pairs(pair, m_a, t_cut, ref):
    pair = pair_of(*pair)
    assert reach.threshold_energy_GeV(m_a, t_cut, pair=pair) == pytest.approx(ref, rel=1e-11)


@pytest.mark.parametrize("pair", [E_TAU, TAU_MU, MU_E])
def test_round_trips_other_pairs(pair):
    """The three §7.1 formulas invert each other for any lepton pair."""
    pair = pair_of(*pair)
    E = np.array([100.0, 160.0, 1000.0, 4000.0])
    m = reach.max_mass_approx_GeV(E, 0.5, pair=pair)
    np.testing.assert_allclose(reach.t_min_GeV2(E, m, pair=pair), 0.5, rtol=1e-12)
    np.testing.assert_allclose(reach.threshold_energy_GeV(m, 0.5, pair=pair), E, rtol=1e-12)
