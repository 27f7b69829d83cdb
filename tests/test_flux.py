"""Muon flux file reading and validation (docs/physics.md §9.2)."""

from __future__ import annotations

import numpy as np
import pytest

from lfvscan.errors import UsageError
from lfvscan.pheno.flux import load_flux

HEADER = "E_low_GeV,E_high_GeV,mu_plus_per_fb,mu_minus_per_fb\n"


def test_default_flux_totals():
    f = load_flux()
    assert len(f.E_low_GeV) == 25
    assert f.E_low_GeV[0] == 10 and f.E_high_GeV[-1] == pytest.approx(5000, rel=1e-3)
    # documented totals in fpf_muon_flux_default.md: 1.07e7 mu+, 1.33e7 mu-, 2.40e7 per fb
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
