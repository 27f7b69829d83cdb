"""Experiments as data (docs/physics.md §9, §10.2, §10.3, §13.1)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from lfvscan.errors import UsageError
from lfvscan.pheno.experiments import config_hash, default_experiments_path, load_experiments, select

REPO = Path(__file__).resolve().parents[1]


def test_column_densities_match_physics_md_13_1():
    e = load_experiments()
    assert e["hemu"].column_density_per_pb == pytest.approx(6.5976e-14, rel=2e-5)
    assert e["na64mu"].column_density_per_pb == pytest.approx(7.4056e-13, rel=2e-5)
    assert e["na64mu"].length_cm == pytest.approx(40 * 0.5612, rel=1e-3)
    assert e["fasernu2"].column_density_per_pb == pytest.approx(4.1727e-11, rel=2e-5)


def test_selection_factors_from_branching_ratios():
    e = load_experiments()
    assert e["na64mu"].curve("projected").factor == pytest.approx(0.174)
    assert e["fasernu2"].curve("ultimate").factor == 1.0
    assert e["hemu"].curve("inv-2cm").factor == pytest.approx(0.152)
    assert e["hemu"].curve("vis-2mm").factor == pytest.approx(0.5 * 0.152**2)
    assert e["hemu"].curve("vis-ultimate").factor == pytest.approx(0.5)
    assert e["hemu"].curve("vis-2cm").res_tau2_cm == 2.0 and e["hemu"].curve("inv-2mm").res_tau2_cm is None
    assert e["na64mu"].n_mu_for(e["na64mu"].curve("current")) == 1.98e10
    assert e["na64mu"].n_mu_for(e["na64mu"].curve("projected")) == 1e13
    assert e["fasernu2"].luminosity_fb == 3000 and e["fasernu2"].flux_path().name == "fpf_muon_flux_fluka_v2_slices.csv"
    assert e["fasernu2"].flux_path().exists()


def test_repo_config_equals_packaged_defaults():
    a = tomllib.loads((REPO / "configs" / "experiments.toml").read_text())
    b = tomllib.loads(default_experiments_path().read_text())
    assert a == b
    assert config_hash(load_experiments(REPO / "configs" / "experiments.toml")) == config_hash(load_experiments())


def test_overrides():
    e = load_experiments(overrides={"na64mu.n_mu": "1e12", "hemu.inv-2mm.res_tau1_cm": 0.1, "hemu.length_cm": 4})
    assert e["na64mu"].n_mu == 1e12
    assert e["hemu"].curve("inv-2mm").res_tau1_cm == 0.1
    assert e["hemu"].column_density_per_pb == pytest.approx(2 * 6.5976e-14, rel=2e-5)
    e = load_experiments(overrides={"na64mu.length_cm": 10.0})  # replaces length_X0
    assert e["na64mu"].length_cm == 10.0


@pytest.mark.parametrize(
    "over,msg",
    [
        ({"nope.n_mu": 1}, "unknown experiment 'nope'"),
        ({"hemu.xyz.res_tau1_cm": 1}, "unknown curve 'xyz'"),
        ({"hemu.n_mu": -1}, "n_mu must be positive"),
        ({"hemu.target": "Xe"}, "unknown target 'Xe'"),
        ({"hemu.inv-2cm.tau_mode": "e"}, "tau_mode must be one of"),
        ({"hemu.inv-2cm.res_tau2_cm": 1.0}, "res_tau2_cm only applies to the visible"),
        ({"hemu.bogus": 1}, "unknown key"),
        ({"hemu.inv-2cm.acceptance": "gauss"}, "acceptance must be one of"),
        ({"hemu.inv-2cm.muon_energy_max_GeV": 80}, "muon_energy_max_GeV needs tau_mode = 'mu'"),
        ({"fasernu2.length_X0": 3}, "length_X0 given but no radiation length"),
    ],
)
def test_bad_config_one_line_errors(over, msg):
    with pytest.raises(UsageError, match=msg) as ei:
        load_experiments(overrides=over)
    assert "\n" not in str(ei.value)


def test_select_unknown_experiment():
    with pytest.raises(UsageError, match="unknown experiment 'faser'"):
        select(load_experiments(), ["hemu", "faser"])


def test_user_file_and_relative_flux(tmp_path):
    (tmp_path / "myflux.csv").write_text("E_low_GeV,E_high_GeV,mu_plus_per_fb,mu_minus_per_fb\n10,20,1,2\n")
    (tmp_path / "e.toml").write_text(
        '[x]\ntarget="W"\nlength_cm=100\nbeam="flux"\nflux_file="myflux.csv"\nluminosity_fb=300\n'
        '[[x.curves]]\nname="u"\nscenario="invisible"\n'
    )
    e = load_experiments(tmp_path / "e.toml")
    assert e["x"].flux_path() == tmp_path / "myflux.csv"
    assert e["x"].curve("u").factor == 1.0
    with pytest.raises(UsageError, match="not found"):
        load_experiments(tmp_path / "missing.toml")
