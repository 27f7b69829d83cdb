"""ROOT histograms -> flux CSV (lfvscan.pheno.flux_root.flux_from_root, ``lfvscan flux``), with uproot.

The ROOT files are written here with uproot from known arrays; the expected CSV values are the
hand-computed conversions (units, scale, bin widths, charge split).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lfvscan import cli
from lfvscan.errors import UsageError
from lfvscan.pheno.flux import load_flux, write_flux_csv
from lfvscan.pheno.flux_root import flux_from_root

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
        (dict(mu_plus="mu_plus"), r"--mu-plus NAME\.\.\. --mu-minus NAME\.\.\., or as --total NAME"),
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


# ------------------------------------------------------------------ the FPF simulation's layout
#: FPFSim backgrounds/muons/: 20 GeV bins 0 - 4500 GeV, muons GeV^-1 cm^-2 s^-1 at L = 5e34 cm^-2 s^-1
FPF_EDGES = np.arange(0.0, 4500.0 + 1e-9, 20.0)
FPF_SLICES = ("h_-200_-100", "h_-100_0", "h_0_100", "h_100_200")
FPF_LUMI = 5e34  # cm^-2 s^-1


def fpf_density(charge: str, k: int) -> np.ndarray:
    """A falling spectrum per slice (different per charge and slice), muons GeV^-1 cm^-2 s^-1."""
    centre = 0.5 * (FPF_EDGES[1:] + FPF_EDGES[:-1])
    return (2e-7 if charge == "mu_plus" else 5e-7) * (1.0 + 0.1 * k) * np.exp(-centre / (300.0 + 50.0 * k))


@pytest.fixture
def fpf_root(tmp_path):
    p = tmp_path / "fpf_muons.root"
    with uproot.recreate(p) as f:
        for charge in ("mu_plus", "mu_minus"):
            for k, name in enumerate(FPF_SLICES):
                f[f"{charge}/{name}"] = (fpf_density(charge, k), FPF_EDGES)
    return p


def test_fpf_slices_to_muons_per_fb(fpf_root, tmp_path, capsys):
    """One command converts the FPF layout: the bin from 0 GeV kept, the two central slices averaged,
    densities per GeV and cm^2 at 5e34 cm^-2 s^-1 turned into muons per fb^-1 through 1600 cm^2."""
    out = tmp_path / "fpf.csv"
    argv = ["flux", str(fpf_root), "--mu-plus", "mu_plus/h_-100_0", "mu_plus/h_0_100",
            "--mu-minus", "mu_minus/h_-100_0", "mu_minus/h_0_100", "--per-bin-width", "--per-cm2", "1600",
            "--per-second-at", "5e34", "--out", str(out), "--json"]
    assert cli.main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    # by hand: 1 fb^-1 = 1e39 cm^-2 takes 1e39 / 5e34 = 2e4 s at 5e34 cm^-2 s^-1, so a density d
    # [GeV^-1 cm^-2 s^-1] gives d * 20 GeV * 1600 cm^2 * 2e4 s muons per fb^-1 in a 20 GeV bin
    seconds_per_fb = 2.0e4
    expect = {c: 0.5 * (fpf_density(c, 1) + fpf_density(c, 2)) * 20.0 * 1600.0 * seconds_per_fb
              for c in ("mu_plus", "mu_minus")}
    flux = load_flux(out)
    assert flux.E_low_GeV[0] == 0.0 and flux.E_high_GeV[-1] == 4500.0 and len(flux.E_low_GeV) == 225
    np.testing.assert_allclose(flux.mu_plus_per_fb, expect["mu_plus"], rtol=1e-12)
    np.testing.assert_allclose(flux.mu_minus_per_fb, expect["mu_minus"], rtol=1e-12)
    # totals: the first bin alone, by hand (1.1 and 1.2 are the slices' amplitudes, exp(-10/350), exp(-10/400))
    first_plus = 0.5 * 2e-7 * (1.1 * math.exp(-10 / 350) + 1.2 * math.exp(-10 / 400)) * 20 * 1600 * 2e4
    assert flux.mu_plus_per_fb[0] == pytest.approx(first_plus, rel=1e-12)
    assert summary["mu_plus_per_fb"] == pytest.approx(expect["mu_plus"].sum(), rel=1e-12)
    assert summary["mu_minus_per_fb"] == pytest.approx(expect["mu_minus"].sum(), rel=1e-12)
    text = "\n".join(flux.comments)
    assert "averaged" not in text and "combined by their average" in text
    assert "face area 1600.0 cm^2" in text and "20000.0 s per fb^-1 at L = 5e+34" in text and "per GeV" in text


def test_fpf_slices_summed_and_scale_kept(fpf_root):
    """--combine sum adds the slices; --scale multiplies on top of the unit factors."""
    names = {c: [f"{c}/{n}" for n in FPF_SLICES] for c in ("mu_plus", "mu_minus")}
    summed, _ = flux_from_root(fpf_root, mu_plus=names["mu_plus"], mu_minus=names["mu_minus"], combine="sum",
                               per_bin_width=True, per_cm2=1.0, per_second_at=FPF_LUMI, scale=3.0)
    by_hand = sum(fpf_density("mu_minus", k) for k in range(4)) * 20.0 * 1.0 * (1e39 / FPF_LUMI) * 3.0
    np.testing.assert_allclose(summed.mu_minus_per_fb, by_hand, rtol=1e-12)
    one, _ = flux_from_root(fpf_root, mu_plus="mu_plus/h_0_100", mu_minus="mu_minus/h_0_100", scale=2.0)
    np.testing.assert_allclose(one.mu_plus_per_fb, 2.0 * fpf_density("mu_plus", 2), rtol=1e-15)


def test_fpf_flux_folds_with_muons_below_the_scan_unused(fpf_root):
    """The bin from 0 GeV is folded uniform in E: with the scan starting at 10 GeV half of its muons
    are below the scan and reported unused."""
    from lfvscan.pheno.folding import muons_outside_grid

    flux, _ = flux_from_root(fpf_root, mu_plus="mu_plus/h_0_100", mu_minus="mu_minus/h_0_100",
                             per_bin_width=True, per_cm2=1600.0, per_second_at=FPF_LUMI)
    below, above = muons_outside_grid(flux, [10.0, 100.0, 5000.0])
    assert below == pytest.approx(0.5 * flux.total_per_fb[0], rel=1e-12) and above == 0.0


@pytest.mark.parametrize("kw, msg", [
    (dict(per_cm2=-1600.0), r"per_cm2 \(face area in cm\^2\) must be a positive finite number, got -1600.0"),
    (dict(per_second_at=0.0), r"per_second_at \(luminosity in cm\^-2 s\^-1\) must be a positive"),
    (dict(combine="median"), "combine 'median' unknown"),
    (dict(mu_minus=["mu_minus/h_0_100", "mu_minus/h_0_200"]), r"no histogram 'mu_minus/h_0_200'"),
])
def test_fpf_bad_options(fpf_root, kw, msg):
    args = dict(mu_plus="mu_plus/h_0_100", mu_minus="mu_minus/h_0_100") | kw
    with pytest.raises(UsageError, match=msg):
        flux_from_root(fpf_root, **args)
