"""Overlays: g-2 bands (§4.5, §13.3), relic line and ID/CMB exclusion (§5.3, §13.4), secluded DM (§5.4)."""

from __future__ import annotations

from lfvscan.physics.process import DEFAULT_PROCESS
import math

import numpy as np
import pytest

from lfvscan.errors import UsageError
from lfvscan.pheno.overlays import (
    DEFAULT_THETAS,
    cmb_sigma_v_limit,
    g2_bands,
    id_excluded_upper_g,
    load_id_curve,
    relic_line,
    secluded_g_chi,
    theta_label,
)
from lfvscan.physics.presets import PDG_2024

PAIR = PDG_2024.lepton_pair(DEFAULT_PROCESS)  # beam muon, final tau (PDG masses)


def test_g2_band_theta_pi_2_reference_values():
    b = g2_bands([2.0, 5.0, 10.0, 20.0, 40.0], thetas=[math.pi / 2], pair=PAIR)[0]
    ref = [(3.2253e-3, 2.5282e-3, 3.7965e-3), (4.6088e-3, 3.6127e-3, 5.4250e-3), (6.8400e-3, 5.3617e-3, 8.0513e-3),
           (1.1008e-2, 8.6290e-3, 1.2958e-2), (1.8723e-2, 1.4677e-2, 2.2039e-2)]
    for k, (c, lo, hi) in enumerate(ref):
        assert b.g_central[k] == pytest.approx(c, rel=2e-4)
        assert b.g_lo[k] == pytest.approx(lo, rel=2e-4)
        assert b.g_hi[k] == pytest.approx(hi, rel=2e-4)
    assert b.label == "g−2 (paper-2023, 2σ), θ = π/2"


def test_g2_bands_other_thetas_at_10_GeV():
    bands = {theta_label(b.theta): b for b in g2_bands([10.0], pair=PAIR)}
    assert bands["3π/8"].g_central[0] == pytest.approx(8.1221e-3, rel=2e-4)
    assert bands["3π/8"].g_lo[0] == pytest.approx(6.3667e-3, rel=2e-4)
    assert bands["π/3"].g_hi[0] == pytest.approx(1.1345e-2, rel=2e-4)
    assert bands["π/4"].g_central[0] == pytest.approx(8.0498e-2, rel=2e-4)
    assert len(bands) == len(DEFAULT_THETAS)


def test_negative_shift_theta_dropped_and_bad_preset():
    assert g2_bands([10.0], thetas=[0.0, math.pi / 2], pair=PAIR)[0].theta == math.pi / 2
    assert len(g2_bands([10.0], thetas=[0.0], pair=PAIR)) == 0
    with pytest.raises(UsageError, match="unknown g-2 preset 'x'"):
        g2_bands([10.0], preset="x", pair=PAIR)
    # wp2025 38(63)e-11: lower 2 sigma edge negative -> band is an upper limit (g_lo = 0)
    wp = g2_bands([10.0], thetas=[math.pi / 2], preset="wp2025", pair=PAIR)[0]
    assert wp.g_lo[0] == 0 and wp.g_hi[0] == pytest.approx(math.sqrt((38 + 126) * 1e-11 / 5.32213e-5), rel=1e-4)


def test_relic_line_reference():
    np.testing.assert_allclose(relic_line([5.0, 10.0, 20.0], pair=PAIR), [1.2668e-3, 1.9523e-3, 3.6929e-3], rtol=2e-4)


def test_id_exclusion_by_hand():
    """Hand: s = g^2 sv_hat / sv0, r = exp(-2s), Majorana-normalised rate sv * 2r/(1+r)^2 equals the limit."""
    m_chi = 2.0
    sv0 = 4.4e-26
    lim = float(cmb_sigma_v_limit(m_chi, f_eff=0.2))
    assert lim == pytest.approx(3.2e-28 * 2.0 / 0.2)
    g_up = float(id_excluded_upper_g(m_chi, lim, pair=PAIR))
    g_rel = float(relic_line(3 * m_chi, pair=PAIR))
    assert g_up > g_rel
    s = (g_up / g_rel) ** 2  # sv(g) / sv0 since sv(g_rel) = sv0
    r = math.exp(-2 * s)
    assert sv0 * s * 2 * r / (1 + r) ** 2 == pytest.approx(lim, rel=1e-9)
    # a weak limit excludes nothing above the relic line; Dirac normalisation excludes more
    assert np.isnan(id_excluded_upper_g(m_chi, 1e-20, pair=PAIR))
    assert id_excluded_upper_g(m_chi, lim, "dirac", pair=PAIR) > g_up


def test_user_id_curve(tmp_path):
    p = tmp_path / "fermi.csv"
    p.write_text("# label: toy dSph, tau tau\n# limit_type: majorana\n# source: made up for a test\n"
                 "m_chi_GeV,sigma_v_cm3_s\n1,1e-27\n100,1e-25\n")
    c = load_id_curve(p)
    assert c.label == "toy dSph, tau tau" and c.limit_type == "majorana"
    assert c(10.0) == pytest.approx(1e-26, rel=1e-12) and np.isnan(c(200.0))
    p.write_text("m_chi_GeV,sigma_v_cm3_s\n1,1e-27\n1,-1\n")
    with pytest.raises(UsageError, match="row 2: values must be positive"):
        load_id_curve(p)
    p.write_text("mass,sv\n1,1\n")
    with pytest.raises(UsageError, match="first data line"):
        load_id_curve(p)


def test_secluded_g_chi_reference():
    # docs/physics.md §13.4: (m_chi, m_a) = (20, 10) -> 0.3476, (10, 5) -> 0.2458 at x_F = 20
    np.testing.assert_allclose(secluded_g_chi([10.0, 5.0]), [0.3476, 0.2458], rtol=3e-4)
