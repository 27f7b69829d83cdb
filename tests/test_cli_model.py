"""``lfvscan model`` command: values, output formats, closed channels and bad input."""

import json
import math
import re
import subprocess
import sys

import pytest

from lfvscan.cli import main


def run_json(capsys, *args):
    rc = main(["model", *args, "--json"])
    out = capsys.readouterr().out
    assert rc == 0
    return json.loads(out)


def test_json_values_against_references(capsys):
    d = run_json(capsys, "--mass", "10", "--coupling", "0.01", "--theta", str(math.pi / 2))
    # docs/physics.md §13.2: per-charge width 3.731595e-1 g^2; c tau (tau mu only) 2.6440e-12 m at g = 1e-2
    assert d["width_tau_mu_per_charge_GeV"] == pytest.approx(3.731595e-5, abs=0.5e-11)
    assert d["width_tau_mu_GeV"] == pytest.approx(2 * 3.731595e-5, abs=1e-11)
    assert d["ctau_tau_mu_only_m"] == pytest.approx(2.6440e-12, abs=0.5e-16)
    # default m_chi = m_a/3, g_chi = 1: Gamma_chi = 0.2965677 GeV (§13.2), total width in c tau
    assert d["m_chi_GeV"] == pytest.approx(10 / 3)
    assert d["width_chi_chi_GeV"] == pytest.approx(0.2965677, abs=0.5e-7)
    assert d["ctau_m"] == pytest.approx(1.973269804e-16 / (0.2965677 + 2 * 3.731595e-5), rel=1e-6)
    assert d["br_invisible"] + 2 * d["br_tau_mu_per_charge"] == pytest.approx(1.0, rel=1e-12)
    # §13.3: Delta a_mu(10 GeV, pi/2, g=1) = 5.32213e-5; 2 sigma band [5.3617e-3, 8.0513e-3], central 6.8400e-3
    assert d["delta_amu"] == pytest.approx(5.32213e-9, abs=0.5e-14)
    b2 = d["g2_band_2sigma"]
    assert b2["g_lo"] == pytest.approx(5.3617e-3, abs=0.5e-7)
    assert b2["g_central"] == pytest.approx(6.8400e-3, abs=0.5e-7)
    assert b2["g_hi"] == pytest.approx(8.0513e-3, abs=0.5e-7)
    b1 = d["g2_band_1sigma"]
    assert b2["g_lo"] < b1["g_lo"] < b1["g_central"] == b2["g_central"] < b1["g_hi"] < b2["g_hi"]
    assert d["g2_measured_delta_amu"] == 249e-11 and d["g2_measured_sigma"] == 48e-11
    # §13.4: <sigma v>(g = 1) = 1.15436e-20 cm^3/s at m_a = 10, g_min = 1.9523e-3
    assert d["sigma_v_tau_mu_cm3_s"] == pytest.approx(1.15436e-24, abs=0.5e-29)
    assert d["sigma_v_tau_mu_GeVm2"] == pytest.approx(9.88892e-8, abs=0.5e-13)
    assert d["g_relic_min"] == pytest.approx(1.9523e-3, abs=0.5e-7)
    assert d["relic_sigma_v_cm3_s"] == 4.4e-26
    # with the ALP width (Gamma_a = Gamma_total): slightly smaller, 1 / (1 + m_a^2 Gamma^2 / (s - m_a^2)^2)
    s_, m2 = 4 * (10 / 3) ** 2, 100.0
    k = 1 / (1 + m2 * d["width_total_GeV"] ** 2 / (s_ - m2) ** 2)
    assert d["sigma_v_tau_mu_with_width_cm3_s"] == pytest.approx(k * d["sigma_v_tau_mu_cm3_s"], rel=1e-12)
    assert k < 0.998


def test_energy_and_presets(capsys):
    d = run_json(capsys, "--mass", "2", "--coupling", "1e-4", "--m-chi", "5", "--energy", "1000")
    # visible scenario (chi channel closed): §3.3 c tau = 2.8 um, lab 1.4 mm at 1 TeV
    assert d["width_chi_chi_GeV"] == 0.0
    assert d["br_tau_mu_per_charge"] == 0.5
    assert d["ctau_m"] == pytest.approx(2.8e-6, abs=0.05e-6)
    assert d["lab_decay_length_m"] == pytest.approx(1.4e-3, abs=0.05e-3)
    assert any("chi chibar closed" in n for n in d["notes"])
    d = run_json(capsys, "--mass", "10", "--theta", "1.5708", "--g2-preset", "wp2025")
    assert d["g2_preset"] == "wp2025" and d["g2_band_2sigma"]["g_lo"] == 0.0
    assert d["g2_band_1sigma"]["g_lo"] == 0.0
    assert any("upper limit" in n for n in d["notes"])
    # on the s-channel pole only the width-regulated rate is finite
    d = run_json(capsys, "--mass", "10", "--m-chi", "5")
    assert d["sigma_v_tau_mu_cm3_s"] is None and d["sigma_v_tau_mu_with_width_cm3_s"] > 0
    assert any("pole" in n for n in d["notes"])
    d2 = run_json(capsys, "--mass", "10", "--theta", "1.5708", "--convention", "eq2")
    assert d2["g2_band_2sigma"]["g_central"] == pytest.approx(7.2725e-3, abs=0.5e-7)


def test_g2_band_note_does_not_depend_on_the_coupling(capsys):
    """The band is a property of (m_a, theta); a coupling whose square underflows must not change
    the 'no g-2 band' note (it used to divide by g^2)."""
    ref = run_json(capsys, "--mass", "5", "--theta", "1.5708")
    d = run_json(capsys, "--mass", "5", "--theta", "1.5708", "--coupling", "1e-200")
    assert d["g2_band_2sigma"] == ref["g2_band_2sigma"] and d["g2_band_2sigma"]["g_hi"] > 0
    assert not any("no g-2 band" in n for n in d["notes"])
    d = run_json(capsys, "--mass", "5", "--theta", "0", "--coupling", "1e-200")
    assert any("no g-2 band" in n for n in d["notes"])


def test_closed_tau_mu_channel_is_zero_with_note(capsys):
    d = run_json(capsys, "--mass", "1.85", "--theta", "0")
    assert d["width_tau_mu_GeV"] == 0.0 and d["width_tau_mu_per_charge_GeV"] == 0.0
    assert d["ctau_tau_mu_only_m"] is None  # infinite -> null
    assert d["br_invisible"] == 1.0
    assert d["sigma_v_tau_mu_cm3_s"] == 0.0 and d["g_relic_min"] is None
    assert d["g2_band_2sigma"] == {"g_lo": None, "g_central": None, "g_hi": None}  # theta = 0: no band
    assert any("a -> tau mu closed" in n for n in d["notes"])


def test_table_output(capsys):
    assert main(["model", "--mass", "10"]) == 0
    out = capsys.readouterr().out
    assert "Gamma(a -> tau mu), both charges" in out and "7.46319e-05 GeV" in out
    assert "cm^3/s" in out and "c tau (all channels)" in out
    assert "g-2 preferred g, 2 sigma" in out
    # values start in one column (labels contain single spaces only)
    starts = {re.search(r"\S  +(\S)", line).start(1) for line in out.splitlines()
              if not line.startswith(("note:", "g-2 preset:"))}
    assert len(starts) == 1


def call(argv):
    """Exit status of ``lfvscan <argv>`` whether returned by main() or raised by argparse."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.mark.parametrize("args,bad", [
    (["--mass", "-1"], "-1"), (["--mass", "0"], "0"), (["--mass", "nan"], "nan"),
    (["--mass", "5", "--coupling", "-0.1"], "-0.1"), (["--mass", "5", "--m-chi", "-2"], "-2"),
    (["--mass", "5", "--energy", "3"], "3"), (["--mass", "5", "--g-chi", "inf"], "inf"),
    (["--mass", "5", "--g2-preset", "bnl2006"], "bnl2006"), (["--mass", "abc"], "abc"),
    (["--mass", "5", "--convention", "eq4"], "eq4"),
])
def test_bad_values_exit_2_with_one_line(capsys, args, bad):
    rc = call(["model", *args])
    cap = capsys.readouterr()
    assert rc == 2
    assert cap.out == ""
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and bad in lines[0]


def test_subprocess_json_and_exit_codes():
    cmd = [sys.executable, "-m", "lfvscan", "model"]
    ok = subprocess.run(cmd + ["--mass", "10", "--coupling", "0.01", "--theta", "1.5708", "--json"],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    d = json.loads(ok.stdout)
    assert d["mass_GeV"] == 10.0 and d["theta_rad"] == 1.5708
    bad = subprocess.run(cmd + ["--mass", "-3"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1 and "-3" in bad.stderr
