"""lfvscan.physics.summary.model_summary as a library call: the numbers ``lfvscan model --json``
prints, thresholds that agree with the physics modules, notes and ValueError on bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lfvscan.cli import main
from lfvscan.physics import darkmatter, decays
from lfvscan.physics.constants import M_MU, M_TAU
from lfvscan.physics.summary import (
    DEFAULT_COUPLING,
    annihilation_tau_mu_open,
    chi_chi_open,
    model_summary,
    tau_mu_open,
)
from _leptons import PAIR

TAU_MU_THRESHOLD_GeV = PAIR.threshold_GeV


def _json_null(v):
    """The CLI's JSON form: non-finite floats become null (None)."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _json_null(x) for k, x in v.items()}
    return v


@pytest.mark.parametrize("cli,kw", [
    (["--mass", "10"], {}),
    (["--mass", "1.85", "--theta", "0"], {"theta_rad": 0.0}),
    (["--mass", "2", "--coupling", "1e-4", "--m-chi", "5", "--energy", "1000"],
     {"coupling": 1e-4, "m_chi_GeV": 5.0, "energy_GeV": 1000.0}),
    (["--mass", "10", "--theta", "1.5708", "--convention", "eq2", "--g2-preset", "wp2025"],
     {"theta_rad": 1.5708, "convention": "eq2", "g2_preset": "wp2025"}),
    (["--mass", "10", "--m-chi", "5"], {"m_chi_GeV": 5.0}),
])
def test_library_dict_is_what_the_cli_prints(capsys, cli, kw):
    assert main(["model", *cli, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    s = model_summary(float(cli[1]), **kw)
    assert list(s) == list(printed)
    assert {k: _json_null(v) for k, v in s.items()} == printed


def test_defaults_and_parameters_come_back_under_their_keys():
    s = model_summary(10.0)
    assert s["coupling"] == DEFAULT_COUPLING == 1e-2
    assert s["theta_rad"] == pytest.approx(math.pi / 4) and s["convention"] == "eq3"
    assert s["m_chi_GeV"] == pytest.approx(10 / 3) and s["g_chi"] == 1.0 and s["g2_preset"] == "paper-2023"
    assert "energy_GeV" not in s and "lab_decay_length_m" not in s
    # keys name their units; parameters round-trip
    again = model_summary(**{k: s[k] for k in ("mass_GeV", "coupling", "theta_rad", "convention", "m_chi_GeV",
                                                 "g_chi", "g2_preset")})
    assert again == s
    # §13.2: per-charge width 3.731595e-1 g^2 at theta = pi/2
    s = model_summary(10.0, 0.01, math.pi / 2)
    assert s["width_tau_mu_per_charge_GeV"] == pytest.approx(3.731595e-5, abs=0.5e-11)
    assert s["ctau_tau_mu_only_m"] == pytest.approx(2.6440e-12, abs=0.5e-16)


def _edges(x):
    """Around a threshold x (one ulp above it the phase space rounds to 0 with exact masses)."""
    return [x * (1 - 1e-9), np.nextafter(x, 0), x, x * (1 + 1e-9)]


@pytest.mark.parametrize("convention", ["eq3", "eq2"])
@pytest.mark.parametrize("theta", [0.0, math.pi / 4, math.pi / 2])
def test_thresholds_agree_with_the_physics_modules(convention, theta):
    """The named thresholds open exactly where the physics modules' widths and rates (g = 1) do."""
    assert TAU_MU_THRESHOLD_GeV == M_TAU + M_MU
    for m_a in [0.5, 1.7, 1.77686, 1.85] + _edges(TAU_MU_THRESHOLD_GeV) + [2.5, 40.0]:
        w = float(decays.width_tau_mu(m_a, 1.0, theta, convention, pair=PAIR))
        assert tau_mu_open(m_a, pair=PAIR) == (w > 0), m_a
    for m_chi in [0.1, 0.9] + _edges(TAU_MU_THRESHOLD_GeV / 2) + [1.0, 5.0]:
        sv = float(darkmatter.sigma_v_tau_mu(m_chi, 3.0 * m_chi + 0.1, 1.0, 1.0, theta, convention, pair=PAIR))
        assert annihilation_tau_mu_open(m_chi, pair=PAIR) == (sv > 0), m_chi
    for m_a, m_chi in [(1.0, 0.4), (1.0, 0.5), (1.0, np.nextafter(0.5, 0)), (1.0, 0.6), (10.0, 10 / 3)]:
        assert chi_chi_open(m_a, m_chi) == (float(decays.width_chi_chi(m_a, m_chi, 1.0)) > 0)


def test_closed_channels_are_zero_with_notes():
    s = model_summary(1.0, m_chi_GeV=0.6)  # every channel closed
    assert s["width_total_GeV"] == 0.0 and s["ctau_m"] == math.inf
    assert s["sigma_v_tau_mu_cm3_s"] == 0.0 and s["g_relic_min"] == math.inf
    notes = "\n".join(s["notes"])
    assert f"m_tau + m_mu = {TAU_MU_THRESHOLD_GeV:.4f} GeV" in notes
    for text in ("a -> tau mu closed", "a -> chi chibar closed", "the ALP is stable", "chi chibar -> tau mu closed"):
        assert text in notes
    s = model_summary(40.0, m_chi_GeV=5.0)  # every channel open
    assert not any("closed" in n for n in s["notes"])


@pytest.mark.parametrize("kw,msg", [
    ({"mass_GeV": -1.0}, "mass_GeV must be a finite number > 0, got -1.0"),
    ({"mass_GeV": math.nan}, "mass_GeV must be a finite number > 0, got nan"),
    ({"mass_GeV": 5.0, "coupling": -0.1}, "coupling must be a finite number >= 0"),
    ({"mass_GeV": 5.0, "theta_rad": math.inf}, "theta_rad must be a finite angle"),
    ({"mass_GeV": 5.0, "m_chi_GeV": 0.0}, "m_chi_GeV must be a finite number > 0"),
    ({"mass_GeV": 5.0, "g_chi": math.inf}, "g_chi must be a finite number >= 0"),
    ({"mass_GeV": 5.0, "energy_GeV": 3.0}, "energy_GeV must be >= mass_GeV"),
    ({"mass_GeV": 5.0, "g2_preset": "bnl2006"}, "unknown g-2 preset 'bnl2006'"),
])
def test_bad_values_raise_value_error_naming_the_parameter(kw, msg):
    with pytest.raises(ValueError, match=msg.replace("(", r"\(")):
        model_summary(**kw)


@pytest.mark.parametrize("argv,msg", [
    (["--mass", "5", "--energy", "3"], "--energy must be >= --mass (ALP lab energy), got 3.0 GeV < 5.0 GeV"),
    (["--mass", "5", "--m-chi", "0"], "--m-chi must be a finite number > 0, got 0.0"),
    (["--mass", "5", "--theta", "inf"], "--theta must be a finite angle in rad, got inf"),
])
def test_cli_errors_name_the_option(capsys, argv, msg):
    assert main(["model", *argv]) == 2
    assert capsys.readouterr().err == f"lfvscan model: error: {msg}\n"
