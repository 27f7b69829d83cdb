"""ROOT histograms -> flux CSV (lfvscan.pheno.flux.flux_from_root, ``lfvscan flux``), with uproot.

The ROOT files are written here with uproot from known arrays; the expected CSV values are the
hand-computed conversions (units, scale, bin widths, charge split).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from lfvscan import cli
from lfvscan.errors import UsageError
from lfvscan.pheno.flux import flux_from_root, load_flux, write_flux_csv

uproot = pytest.importorskip("uproot")  # in the test extra, so this runs in CI

EDGES_TEV = np.array([0.01, 0.1, 1.0, 5.0])
PLUS = np.array([3.0, 2.0, 0.5])
MINUS = np.array([4.0, 3.0, 1.5])


@pytest.fixture
def root_file(tmp_path):
    p = tmp_path / "fluka.root"
    with uproot.recreate(p) as f:
        f["mu_plus"] = (PLUS, EDGES_TEV)
        f["charge/mu_minus"] = (MINUS, EDGES_TEV)
        f["other_binning"] = (MINUS, EDGES_TEV * 2)
        f["negative"] = (np.array([1.0, -2.0, 1.0]), EDGES_TEV)
        f["map2d"] = (np.ones((2, 2)), np.array([0.0, 1, 2]), np.array([0.0, 1, 2]))
    return p


def test_two_charges_units_scale_and_round_trip(root_file, tmp_path):
    flux, warns = flux_from_root(root_file, mu_plus="mu_plus", mu_minus="charge/mu_minus", scale=1600.0,
                                 energy_unit="TeV")
    assert warns == []
    np.testing.assert_allclose(flux.edges_GeV, [10.0, 100.0, 1000.0, 5000.0], rtol=1e-15)
    np.testing.assert_allclose(flux.mu_plus_per_fb, [4800.0, 3200.0, 800.0], rtol=1e-15)
    np.testing.assert_allclose(flux.mu_minus_per_fb, [6400.0, 4800.0, 2400.0], rtol=1e-15)
    out = write_flux_csv(flux, tmp_path / "flux.csv")
    back = load_flux(out)
    for name in ("E_low_GeV", "E_high_GeV", "mu_plus_per_fb", "mu_minus_per_fb"):
        assert np.array_equal(getattr(back, name), getattr(flux, name)), name
    text = "\n".join(back.comments)
    assert "sha256" in text and "'charge/mu_minus'" in text and "x axis in TeV" in text and "1600.0" in text


def test_density_histogram_and_total_split(root_file):
    flux, _ = flux_from_root(root_file, total="mu_plus", energy_unit="TeV", per_bin_width=True)
    widths_TeV = np.diff(EDGES_TEV)
    np.testing.assert_allclose(flux.total_per_fb, PLUS * widths_TeV, rtol=1e-15)
    np.testing.assert_allclose(flux.mu_plus_per_fb, flux.mu_minus_per_fb, rtol=0)


def test_flow_bins_are_reported(tmp_path):
    p = tmp_path / "flow.root"
    edges = np.array([10.0, 20.0, 40.0, 80.0])
    with_flow = np.array([0.0, 1.0, 2.0, 3.0, 7.0])  # underflow, 3 bins, overflow
    axis = uproot.writing.identify.to_TAxis("xaxis", "", 3, 10.0, 80.0, fXbins=edges)
    h = uproot.writing.identify.to_TH1x("h", "", with_flow, fEntries=13.0, fTsumw=13.0, fTsumw2=13.0,
                                        fTsumwx=0.0, fTsumwx2=0.0, fSumw2=with_flow, fXaxis=axis)
    with uproot.recreate(p) as f:
        f["h"] = h
    flux, warns = flux_from_root(p, total="h")
    np.testing.assert_allclose(flux.total_per_fb, [1.0, 2.0, 3.0])
    assert len(warns) == 1 and "overflow 7" in warns[0]


@pytest.mark.parametrize(
    "kw, msg",
    [
        (dict(mu_plus="mu_plus", mu_minus="nope"), r"no histogram 'nope' \(1-D histograms in the file: .*charge/mu_minus"),
        (dict(mu_plus="mu_plus", mu_minus="other_binning"), "different binnings"),
        (dict(total="negative"), r"row 2: mu_plus_per_fb = -1.0 is negative"),
        (dict(total="map2d"), r"'map2d' is a TH2D, not a 1-D histogram"),
        (dict(mu_plus="mu_plus"), "--mu-plus NAME --mu-minus NAME, or as --total NAME"),
        (dict(total="mu_plus", mu_plus="mu_plus", mu_minus="charge/mu_minus"), "or as --total"),
        (dict(total="mu_plus", scale=-1.0), "scale must be a positive"),
        (dict(total="mu_plus", energy_unit="eV"), "energy unit 'eV' unknown"),
    ],
)
def test_bad_input(root_file, kw, msg):
    with pytest.raises(UsageError, match=msg) as ei:
        flux_from_root(root_file, **kw)
    assert "\n" not in str(ei.value)


def test_not_a_root_file(tmp_path):
    p = tmp_path / "x.root"
    p.write_text("not root")
    with pytest.raises(UsageError, match="cannot open"):
        flux_from_root(p, total="h")
    with pytest.raises(UsageError, match="not found"):
        flux_from_root(tmp_path / "missing.root", total="h")


def test_cli_converts_and_never_overwrites(root_file, tmp_path, capsys):
    out = tmp_path / "flux.csv"
    argv = ["flux", str(root_file), "--mu-plus", "mu_plus", "--mu-minus", "charge/mu_minus",
            "--energy-unit", "TeV", "--out", str(out), "--json"]
    assert cli.main(argv) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["n_bins"] == 3 and s["E_min_GeV"] == pytest.approx(10.0) and s["E_max_GeV"] == pytest.approx(5000.0)
    assert s["mu_plus_per_fb"] == pytest.approx(5.5) and s["mu_minus_per_fb"] == pytest.approx(8.5)
    before = out.read_bytes()
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "exists" in err and "--force" in err and len(err.strip().splitlines()) == 1
    assert out.read_bytes() == before
    assert cli.main(argv + ["--force"]) == 0
    capsys.readouterr()
    # the converted file is what `lfvscan flux` (and the limits) read
    assert cli.main(["flux", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mu_minus_per_fb"] == pytest.approx(8.5)


def test_cli_root_options_on_csv_refused(tmp_path, capsys):
    assert cli.main(["flux", str(tmp_path / "f.csv"), "--total", "h"]) == 2
    assert "--total apply to ROOT files only" in capsys.readouterr().err
