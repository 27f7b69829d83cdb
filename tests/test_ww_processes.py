"""The exact cross section of e -> tau and mu -> e against the Weizsaecker-Williams approximation of
docs/physics.md §7.10 at 10 GeV - 10 TeV (docs/physics.md §7.17): e -> tau approaches WW from above
(+27 % at 10 GeV, within 0.1 % from 100 GeV on at m = 1 GeV); with a final electron WW overestimates and
does not approach the exact result (exact/WW = 0.80 at m = 0.2 GeV from 100 GeV to 10 TeV), and the ratio
is that of e -> e: it is set by the final lepton.

WW (tests/_crosscheck.py) re-implements the kinematics and uses the real-photon 2 -> 2 amplitude; the exact
value is vegas (checked against the independent quadrature in tests/test_xsec_processes_quadrature.py).
"""

import math
import warnings

import pytest

import _crosscheck as cc
from lfvscan.physics.presets import PDG_2024
from lfvscan.physics.process import Process
from lfvscan.xsec import compute_cell


def _exact_over_ww(beam, final, E, m):
    """(exact / WW, its relative error) for Pb at beam energy ``E`` [GeV] and boson mass ``m`` [GeV], spin 0
    at the default theta and convention (both sides)."""
    process = Process(beam, final, "scalar")
    pair = PDG_2024.lepton_pair(process)
    r = compute_cell("Pb", E, m, rel_err=1e-3, seed=1, n_xbins=4, process=process)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ww = cc.sigma_ww_pb("Pb", E, m, m_beam=pair.beam.mass, m_final=pair.final.mass, n_E=(12, 8),
                            n_theta=(10, 8), n_t=(8, 8))
    ratio = r.sigma_pb / ww
    print(f"{process.label()} Pb {E:g} GeV m={m:g}: exact/WW = {ratio:.4f} +- {r.sigma_err_pb / r.sigma_pb:.1e}")
    return ratio, r.sigma_err_pb / r.sigma_pb


def test_e_to_tau_approaches_ww_at_high_energy():
    """m = 1 GeV: exact/WW = 1.27 at 10 GeV, then within 2e-3 (+ 3 sigma) of 1 at 100 GeV and 1 TeV."""
    r10, _ = _exact_over_ww("e", "tau", 10.0, 1.0)
    assert 1.2 < r10 < 1.35
    for E in (100.0, 1000.0):
        ratio, rel = _exact_over_ww("e", "tau", E, 1.0)
        assert abs(ratio - 1.0) <= 2e-3 + 3.0 * rel, (E, ratio)


def test_mu_to_e_stays_below_ww_like_e_to_e():
    """m = 0.2 GeV: exact/WW levels off at 0.80 (100 GeV - 10 TeV), it does not approach 1; at m = 1 GeV,
    1 TeV, mu -> e and e -> e have the same ratio (0.89) within 0.5 %."""
    for E in (100.0, 1000.0, 10000.0):
        ratio, _ = _exact_over_ww("mu", "e", E, 0.2)
        assert 0.78 < ratio < 0.83, (E, ratio)
    mu_e, rel_a = _exact_over_ww("mu", "e", 1000.0, 1.0)
    e_e, rel_b = _exact_over_ww("e", "e", 1000.0, 1.0)
    assert 0.85 < mu_e < 0.93
    assert abs(mu_e / e_e - 1.0) <= 5e-3 + 3.0 * math.hypot(rel_a, rel_b), (mu_e, e_e)


@pytest.mark.slow
def test_mu_to_e_ratio_falls_with_energy_at_1GeV():
    """m = 1 GeV: exact/WW = 1.13 (10 GeV), 0.98 (100 GeV), 0.89 (1 TeV), 0.85 (10 TeV): monotonic."""
    ratios = [_exact_over_ww("mu", "e", E, 1.0)[0] for E in (10.0, 100.0, 1000.0, 10000.0)]
    assert all(a > b for a, b in zip(ratios, ratios[1:])), ratios
    assert ratios[0] > 1.08 and ratios[-1] < 0.88


def test_a_light_final_lepton_keeps_its_small_angles_at_high_energy():
    """The default cut-off of the boson angle scales with the final lepton (``default_theta_a_min``): with
    a fixed 1e-8 rad, mu -> e (0.2 GeV) gave exact/WW = 0.38 at 1e6 GeV and e -> mu (1 GeV) 0.77 at
    1e7 GeV; the ratios stay at their 1e4 GeV values (0.80, 1.00)."""
    ratio, rel = _exact_over_ww("mu", "e", 1e6, 0.2)
    assert 0.78 < ratio < 0.83, ratio
    ratio, rel = _exact_over_ww("e", "mu", 1e7, 1.0)
    assert abs(ratio - 1.0) <= 5e-3 + 3.0 * rel, ratio


def test_the_cut_off_of_a_final_tau_is_theta_a_min():
    from lfvscan.xsec.integrand import THETA_A_MIN, default_theta_a_min

    for preset in ("pdg-2024", "thesis-2024"):
        from lfvscan.physics.presets import get_preset

        m_tau = get_preset(preset).lepton_pair(Process("mu", "tau", "scalar")).final.mass
        assert default_theta_a_min(m_tau) == THETA_A_MIN
