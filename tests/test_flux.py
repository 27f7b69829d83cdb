"""Muon flux file reading and validation (docs/physics.md §9.2)."""

from __future__ import annotations

import numpy as np
import pytest

from lfvscan.errors import UsageError
from lfvscan.pheno.flux import load_flux

HEADER = "E_low_GeV,E_high_GeV,mu_plus_per_fb,mu_minus_per_fb\n"


def test_stand_in_flux_totals():
    f = load_flux("stand-in-2024")
    assert len(f.E_low_GeV) == 25
    assert f.E_low_GeV[0] == 10 and f.E_high_GeV[-1] == pytest.approx(5000, rel=1e-3)
    # documented totals in fpf_muon_flux_stand_in_2024.md: 1.07e7 mu+, 1.33e7 mu-, 2.40e7 per fb
    assert f.mu_plus_per_fb.sum() == pytest.approx(1.07e7, rel=5e-3)
    assert f.mu_minus_per_fb.sum() == pytest.approx(1.33e7, rel=5e-3)
    assert np.allclose(f.total_per_fb, f.mu_plus_per_fb + f.mu_minus_per_fb)


def test_comments_kept_as_provenance(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text("# FLUKA STI 2023, FASERnu2 face, per fb^-1\n" + HEADER + "10,20,1,2\n20,40,3,4\n")
    f = load_flux(p)
    assert f.comments == ("FLUKA STI 2023, FASERnu2 face, per fb^-1",)
    assert list(f.edges_GeV) == [10, 20, 40]


@pytest.mark.parametrize(
    "body,msg",
    [
        ("10,20,1,2\n25,40,3,4\n", r"row 2: E_low_GeV = 25.0 does not continue row 1's E_high_GeV = 20.0 \(gap"),
        ("10,20,1,2\n15,40,3,4\n", r"row 2: .*\(overlap"),
        ("10,20,1,2\n20,40,-3,4\n", r"row 2: mu_plus_per_fb = -3.0 is negative"),
        ("10,20,1,nan\n", r"row 1: mu_minus_per_fb = nan is not a finite number"),
        ("10,20,1,2\n20,20,3,4\n", r"row 2: E_high_GeV = 20.0 is not above E_low_GeV = 20.0"),
        ("10,20,1,abc\n", r"row 1: mu_minus_per_fb = 'abc' is not a number"),
        ("10,20,1\n", r"row 1: expected 4 values"),
        ("", r"no data rows"),
    ],
)
def test_bad_flux_files(tmp_path, body, msg):
    p = tmp_path / "f.csv"
    p.write_text(HEADER + body)
    with pytest.raises(UsageError, match=msg) as ei:
        load_flux(p)
    assert "\n" not in str(ei.value)


def test_wrong_columns_and_missing(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text("E_low,E_high,mu_plus,mu_minus\n10,20,1,2\n")
    with pytest.raises(UsageError, match="is not the header 'E_low_GeV,E_high_GeV"):
        load_flux(p)
    with pytest.raises(UsageError, match="not found"):
        load_flux(tmp_path / "none.csv")


def test_first_bin_may_start_at_zero(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text(HEADER + "0,20,1,2\n20,40,3,4\n")
    assert list(load_flux(p).edges_GeV) == [0, 20, 40]
    p.write_text(HEADER + "-5,20,1,2\n")
    with pytest.raises(UsageError, match=r"row 1: E_low_GeV = -5.0 must be >= 0"):
        load_flux(p)


def test_flux_models_by_name():
    """The default model is the FLUKA-v2 one; both named models load, an unknown name is refused."""
    from lfvscan.pheno.flux import DEFAULT_FLUX_MODEL, FLUX_MODELS, flux_model_path

    assert DEFAULT_FLUX_MODEL == "fluka-v2-slices" and load_flux().source == load_flux("fluka-v2-slices").source
    for name in FLUX_MODELS:
        assert flux_model_path(name).exists() and flux_model_path(name).with_suffix(".md").exists()
    with pytest.raises(UsageError, match="unknown flux model 'fluka' .known: fluka-v2-slices, stand-in-2024"):
        flux_model_path("fluka")


# the FLUKA v2 figures (FPFSim backgrounds/muons/): fraction of each charge per bin, |x| < 100 cm
FLUKA_EDGES = [0, 20, 40, 60, 100, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 4500]
FLUKA_PLUS = [0.1540, 0.0970, 0.0727, 0.1002, 0.1538, 0.0829, 0.0871, 0.0454, 0.0504, 0.0585, 0.0391, 0.0521, 0.0068]
FLUKA_MINUS = [0.1640, 0.1042, 0.0787, 0.1134, 0.1799, 0.0950, 0.1191, 0.0507, 0.0405, 0.0384, 0.0112, 0.0043, 0.0007]


def test_default_flux_reproduces_the_fluka_figures():
    """Fluence 2.70e3 (mu+) and 7.14e3 (mu-) per cm^2 per fb^-1 over 1600 cm^2; the bin fractions
    to their printed 4 digits; 15.7 % of mu+ and 5.5 % of mu- above 1 TeV (the printed 0.05 % plus
    the rounding of four fractions); mean energies within
    1.5 % of 452 and 254 GeV with the fold's within-bin distribution (fpf_muon_flux_fluka_v2_slices.md)."""
    from lfvscan.pheno.flux import bin_mean_energies_GeV

    f = load_flux()
    assert list(f.edges_GeV) == FLUKA_EDGES
    assert f.mu_plus_per_fb.sum() / 1600 == pytest.approx(2.70e3, rel=1e-6)
    assert f.mu_minus_per_fb.sum() / 1600 == pytest.approx(7.14e3, rel=1e-6)
    for counts, fractions in ((f.mu_plus_per_fb, FLUKA_PLUS), (f.mu_minus_per_fb, FLUKA_MINUS)):
        np.testing.assert_allclose(counts / counts.sum(), fractions, atol=0.6e-4)
    above = f.E_low_GeV >= 1000
    assert f.mu_plus_per_fb[above].sum() / f.mu_plus_per_fb.sum() == pytest.approx(0.157, abs=7e-4)
    assert f.mu_minus_per_fb[above].sum() / f.mu_minus_per_fb.sum() == pytest.approx(0.055, abs=7e-4)
    mean = bin_mean_energies_GeV(f)
    assert (mean * f.mu_plus_per_fb).sum() / f.mu_plus_per_fb.sum() == pytest.approx(452, rel=0.015)
    assert (mean * f.mu_minus_per_fb).sum() / f.mu_minus_per_fb.sum() == pytest.approx(254, rel=0.015)
