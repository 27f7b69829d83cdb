"""The process as a value (lfvscan.physics.process): validation, validity ranges per process, the
config's [process] table and user-defined targets, the store's identity, the command line."""

import json
import math

import pytest

from lfvscan.cli import main
from lfvscan.errors import UsageError
from lfvscan.physics.constants import M_E, M_MU, M_TAU
from lfvscan.physics.presets import PDG_2024, THESIS_2024
from lfvscan.physics.process import (
    DEFAULT_PROCESS,
    Process,
    cell_problem,
    energy_range,
    mass_range,
    process_from_dict,
)
from lfvscan.physics.targets import TARGETS, get_target
from lfvscan.spec.config import config_from_dict, parse_config
from lfvscan.util.ranges import ENERGY_GEV
from lfvscan.xsec import compute_cell

E_TAU = Process("e", "tau", "scalar")
MU_E = Process("mu", "e", "scalar")
E_MU = Process("e", "mu", "scalar")


# ------------------------------------------------------------------------------ the value

@pytest.mark.parametrize("kw, word", [({"beam": "tau"}, "'tau'"), ({"final": "nu"}, "'nu'"),
                                      ({"boson": "tensor"}, "'tensor'")])
def test_a_process_names_its_bad_value(kw, word):
    with pytest.raises(ValueError, match=f"process {next(iter(kw))} must be one of .*got {word}"):
        Process(**{**DEFAULT_PROCESS.to_dict(), **kw})


def test_process_from_dict_defaults_and_unknown_keys():
    assert process_from_dict(None) == DEFAULT_PROCESS == Process("mu", "tau", "scalar")
    assert process_from_dict({"beam": "e"}) == E_TAU
    with pytest.raises(ValueError, match="unknown key.*'spin'"):
        process_from_dict({"spin": 1})


def test_presets_give_the_electron_mass():
    """m_e: PDG 0.51099895e-3 GeV; the thesis code's 5.11e-4 GeV (thesis_code/phys/constants.py)."""
    assert PDG_2024.lepton_pair(E_TAU).beam.mass == 0.51099895e-3
    assert THESIS_2024.lepton_pair(MU_E).final.mass == 5.11e-4
    pair = PDG_2024.lepton_pair(E_TAU)
    assert (pair.beam.name, pair.final.name, pair.final.mass) == ("e", "tau", M_TAU)
    assert THESIS_2024.lepton_pair(DEFAULT_PROCESS) == THESIS_2024.lepton_pair(Process("mu", "tau", "vector"))


# ------------------------------------------------------------------------------ validity

@pytest.mark.parametrize("process, lo", [(DEFAULT_PROCESS, 2.0), (E_TAU, 2.0), (E_MU, 0.2), (MU_E, 0.2),
                                         (Process("e", "e", "scalar"), 1e-3)])
def test_energy_range_per_process(process, lo):
    """The lower bound is the first 1-2-5 number above max(m_beam, m_final, E_thr at the lightest mass);
    the paper's process keeps util.ranges' 2 GeV."""
    rng = energy_range(PDG_2024.lepton_pair(process))
    assert (rng.lo, rng.hi) == (lo, ENERGY_GEV.hi)
    pair = PDG_2024.lepton_pair(process)
    assert lo > max(pair.beam.mass, pair.final.mass)


def test_mu_to_e_below_the_decay_pole_is_refused_with_the_reason():
    pair = PDG_2024.lepton_pair(MU_E)
    assert mass_range(pair).lo == pytest.approx(M_MU - M_E, rel=1e-15)
    for m in (0.05, M_MU - M_E):
        msg = cell_problem(pair, 100.0, m)
        assert msg and repr(m) in msg and "own decay" in msg and "no finite value" in msg
    assert cell_problem(pair, 100.0, 0.11) is None
    with pytest.raises(ValueError, match=r"mass_GeV = 0\.1 GeV .*own decay"):
        compute_cell("Pb", 100.0, 0.1, process=MU_E)


def test_compute_cell_refuses_energies_below_the_process_range():
    with pytest.raises(ValueError, match=r"energy_GeV = 1\.5 GeV .* for e -> tau"):
        compute_cell("Pb", 1.5, 0.5, process=E_TAU)
    with pytest.raises(ValueError, match=r"energy_GeV = 0\.15 GeV .* for mu -> e"):
        compute_cell("Pb", 0.15, 0.2, process=MU_E)


def test_compute_cell_refuses_the_scalar_familys_conventions_for_the_vector_family():
    with pytest.raises(ValueError, match="convention 'eq2': the eq2/eq3 coupling conventions are the scalar family's"):
        compute_cell("Pb", 100.0, 2.0, convention="eq2", process=Process("e", "tau", "vector"))


def test_flavour_conserving_pairs_are_computed_as_a_check():
    r = compute_cell("Pb", 100.0, 1.0, rel_err=0.05, n_xbins=3, process=Process("mu", "mu", "scalar"))
    assert not r.closed and r.sigma_pb > 0 and r.x_f_edges[0] == pytest.approx(M_MU / 100.0, rel=1e-15)


# ------------------------------------------------------------------------------ the config

BASE = {"seed": 1, "masses_GeV": [2.0], "targets": [{"name": "Pb", "energies_GeV": [100.0]}]}


def test_absent_or_default_process_keeps_the_hash():
    plain = parse_config(dict(BASE))
    named = parse_config(dict(BASE, process={"beam": "mu", "final": "tau", "boson": "scalar"}))
    assert named.process == DEFAULT_PROCESS and named.config_hash() == plain.config_hash()
    assert "process" not in plain.physics_dict()
    other = parse_config(dict(BASE, process={"beam": "e"}))
    assert other.config_hash() != plain.config_hash()
    assert other.physics_dict()["process"] == {"beam": "e", "final": "tau", "boson": "scalar"}
    back = config_from_dict(other.to_dict())
    assert back.process == E_TAU and back.config_hash() == other.config_hash()


@pytest.mark.parametrize("over, needle", [
    ({"process": {"beam": "tau"}}, "process beam must be one of 'e', 'mu', got 'tau'"),
    ({"process": {"beam": "e", "colour": 1}}, "unknown key(s) 'colour'"),
    ({"process": {"beam": "mu", "final": "e"}, "masses_GeV": [0.1]}, "masses_GeV value = 0.1 GeV is not above m_mu - m_e"),
    ({"process": {"beam": "e"}, "targets": [{"name": "Pb", "energies_GeV": [1.5]}]},
     "targets[0] (Pb).energies_GeV value = 1.5 GeV is outside the validity range: must be in [2, 1e+07] GeV"),
    ({"targets": [{"name": "Ta", "Z": 73, "energies_GeV": [100.0]}]},
     "targets[0] (Ta): a user-defined target needs Z, A, density_g_cm3, molar_mass_g_mol; missing A"),
    ({"targets": [{"name": "pb", "Z": 82, "A": 207, "density_g_cm3": 11.0, "molar_mass_g_mol": 207.0,
                   "energies_GeV": [100.0]}]}, "'pb' is a built-in target"),
    ({"targets": [{"name": "X", "Z": 90, "A": 80, "density_g_cm3": 11.0, "molar_mass_g_mol": 80.0,
                   "energies_GeV": [100.0]}]}, "Z = 90 exceeds the mass number A = 80"),
    ({"targets": [{"name": "X", "Z": 9, "A": 18.5, "density_g_cm3": 11.0, "molar_mass_g_mol": 18.0,
                   "energies_GeV": [100.0]}]}, "A must be a positive integer, got 18.5"),
    ({"targets": [{"name": "X", "Z": 9, "A": 18, "density_g_cm3": -2.0, "molar_mass_g_mol": 18.0,
                   "energies_GeV": [100.0]}]}, "density_g_cm3 must be a positive finite number, got -2.0"),
    ({"targets": [{"name": "X", "Z": 9, "A": 18, "density_g_cm3": 2.0, "molar_mass_g_mol": "18",
                   "energies_GeV": [100.0]}]}, "molar_mass_g_mol must be a positive finite number, got '18'"),
])
def test_invalid_process_and_target_tables_name_the_bad_value(over, needle):
    with pytest.raises(UsageError) as info:
        parse_config(dict(BASE, **over))
    assert needle in str(info.value)


def test_user_defined_target_round_trips_and_is_hashed():
    ta = {"name": "Ta", "Z": 73, "A": 181, "density_g_cm3": 16.65, "molar_mass_g_mol": 180.95,
          "energies_GeV": [100.0]}
    cfg = parse_config(dict(BASE, targets=[*BASE["targets"], ta]))
    tgt = cfg.cell_target("Ta")
    assert (tgt.Z, tgt.A, tgt.density_g_cm3, tgt.molar_mass_g_mol) == (73, 181, 16.65, 180.95)
    assert cfg.cell_target("Pb") == "Pb"
    assert cfg.physics_dict()["target_definitions"] == {"Ta": {k: ta[k] for k in ("Z", "A", "density_g_cm3",
                                                                                 "molar_mass_g_mol")}}
    back = config_from_dict(cfg.to_dict())
    assert back.cell_target("Ta") == tgt and back.config_hash() == cfg.config_hash()
    heavier = parse_config(dict(BASE, targets=[*BASE["targets"], dict(ta, A=182)]))
    assert heavier.config_hash() != cfg.config_hash()


def test_a_store_keeps_its_process_and_refuses_another(tmp_path):
    """[process] goes into the store's attrs with the config; post-processing reads it back; a
    resume with another process is refused naming the differing keys.  (Cells above the reach:
    closed, nothing is integrated.)"""
    from lfvscan.pheno.scanphysics import scan_lepton_pair, scan_process
    from lfvscan.scan.engine import run_scan
    from lfvscan.store import load_scan

    cfg = parse_config(dict(BASE, masses_GeV=[60.0], process={"beam": "e"}))
    path = str(tmp_path / "etau.zarr")
    assert run_scan(cfg, path, quiet=True).exit_code == 0
    scan = load_scan(path)
    assert scan_process(scan) == E_TAU and scan_lepton_pair(scan) == PDG_2024.lepton_pair(E_TAU)
    assert scan.x_f_edges[0][0] == pytest.approx(M_TAU / 100.0, rel=1e-15)
    with pytest.raises(UsageError, match=r"differs in: process\.beam"):
        run_scan(parse_config(dict(BASE, masses_GeV=[60.0])), path, quiet=True)
    with pytest.raises(UsageError, match=r"differs in: process\.final"):
        run_scan(parse_config(dict(BASE, masses_GeV=[60.0], process={"beam": "e", "final": "mu"})), path, quiet=True)


# ------------------------------------------------------------------------------ targets

@pytest.mark.parametrize("name, Z, A, rho, molar", [("Au", 79, 197, 19.32, 196.966570), ("Al", 13, 27, 2.699, 26.9815385),
                                                     ("Cu", 29, 63, 8.960, 63.546), ("Fe", 26, 56, 7.874, 55.845),
                                                     ("C", 6, 12, 2.210, 12.0107)])
def test_built_in_targets_have_the_pdg_values(name, Z, A, rho, molar):
    t = get_target(name.lower())
    assert (t.name, t.Z, t.A, t.density_g_cm3, t.molar_mass_g_mol) == (name, Z, A, rho, molar)
    assert t.number_density_cm3 == pytest.approx(rho * 6.02214076e23 / molar, rel=1e-12)
    assert name in TARGETS


def test_a_cell_on_a_new_target_is_computed():
    r = compute_cell("Al", 100.0, 2.0, rel_err=0.05, n_xbins=3, process=E_TAU)
    assert r.target == "Al" and not r.closed and r.sigma_pb > 0


# ------------------------------------------------------------------------------ command line

def test_cli_xsec_for_an_electron_beam(capsys):
    rc = main(["xsec", "--target", "Pb", "--energy", "100", "--mass", "2", "--beam", "e", "--final", "tau",
               "--boson", "scalar", "--theta", "0", "--rel-err", "0.05", "--n-xbins", "4", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0 and d["process"] == {"beam": "e", "final": "tau", "boson": "scalar"}
    assert d["sigma_pb"] > 0 and d["sigma_err_pb"] > 0
    assert d["sigma_pb"] == pytest.approx(d["sigma_coherent_pb"] + d["sigma_incoherent_pb"], rel=1e-12)
    assert d["x_f_edges"][0] == pytest.approx(M_TAU / 100.0, rel=1e-15)


@pytest.mark.parametrize("args, word", [(["--boson", "vector", "--convention", "eq2"], "convention 'eq2'"),
                                        (["--beam", "mu", "--final", "e", "--mass", "0.1"], "0.1 GeV is not above"),
                                        (["--beam", "e", "--energy", "1.5"], "energy_GeV = 1.5 GeV")])
def test_cli_xsec_refuses_with_one_line(capsys, args, word):
    base = {"--target": "Pb", "--energy": "100", "--mass": "2"}
    over = dict(zip(args[::2], args[1::2]))
    argv = ["xsec"] + [x for k, v in {**base, **over}.items() for x in (k, v)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert word in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("beam, final, channel, g2_key", [("mu", "tau", "tau_mu", "delta_amu"),
                                                          ("e", "tau", "tau_e", "delta_ae"),
                                                          ("mu", "e", "mu_e", "delta_amu")])
def test_cli_model_for_any_pair(capsys, beam, final, channel, g2_key):
    """Widths to the pair, c tau and the g-2 of the lepton concerned against the closed forms (two charge
    channels of Gamma = g^2 m_a / (8 pi) (1 - m_h^2/m_a^2)^2 at theta = pi/4 in eq3, docs/physics.md §3.2)."""
    assert main(["model", "--mass", "10", "--beam", beam, "--final", final, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    m_h = {"tau_mu": M_TAU, "tau_e": M_TAU, "mu_e": M_MU}[channel]
    width = 2 * 1e-4 * 10.0 / (8 * math.pi) * (1 - m_h**2 / 100.0) ** 2
    assert d[f"width_{channel}_GeV"] == pytest.approx(width, rel=1e-12)
    assert d[f"ctau_{channel}_only_m"] == pytest.approx(1.973269804e-16 / width, rel=1e-8)
    assert d[g2_key] > 0 and ("g2_band_2sigma" in d) == (g2_key == "delta_amu")
