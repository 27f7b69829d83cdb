"""Lepton-ion colliders (docs/physics.md §7.15): the boost, stripped-ion form factors, and the
collider cell as the fixed-target cell at the nucleus-frame energy."""

import dataclasses
import math

import numpy as np
import pytest

from lfvscan.physics.collider import boost, nucleus_frame_energy
from lfvscan.physics.constants import AMU_GEV
from lfvscan.physics.formfactors import DEFAULT_FF, f2_coherent, g_el_atom, g_el_nuc
from lfvscan.physics.presets import get_preset
from lfvscan.physics.process import Process
from lfvscan.physics.targets import GOLD
from lfvscan.schema import RESULT_FIELDS
from lfvscan.scan.cells import cell_engine
from lfvscan.xsec import compute_cell
from lfvscan.xsec.engine import using
from lfvscan.xsec.driver import VegasSettings

EIC_AU = dataclasses.replace(GOLD, nucleus_energy_per_nucleon_GeV=110.0)
FAST = VegasSettings(neval_adapt=500, neval_pilot=600, n_adapt_tail=1, neval_min=500, neval_max=2000, n_final_max=4)


def test_boost_against_invariant_s():
    """E = gamma (E_l + beta p_l) is (s - m_l^2 - M^2) / (2M) with s of the head-on beams (independent)."""
    pre = get_preset(None)
    for beam, E_l in (("e", 18.0), ("mu", 1000.0)):
        m = pre.lepton(beam).mass
        M = EIC_AU.M
        E_N = 197 * 110.0
        P_N = math.sqrt(E_N**2 - M**2)
        p_l = math.sqrt(E_l**2 - m**2)
        s = m**2 + M**2 + 2.0 * (E_l * E_N + p_l * P_N)
        assert nucleus_frame_energy(E_l, m, EIC_AU) == pytest.approx((s - m**2 - M**2) / (2.0 * M), rel=1e-12)
    gamma, beta = boost(EIC_AU)
    assert gamma == pytest.approx(110.0 / AMU_GEV, rel=1e-14)  # M = A u: gamma = E_per_nucleon / u
    assert boost(GOLD) == (1.0, 0.0) and nucleus_frame_energy(18.0, 0.1, GOLD) == 18.0


def test_boost_refuses_a_slow_beam():
    with pytest.raises(ValueError, match="nucleus_energy_per_nucleon_GeV = 0.5"):
        boost(dataclasses.replace(GOLD, nucleus_energy_per_nucleon_GeV=0.5))
    with pytest.raises(ValueError, match="positive finite"):
        dataclasses.replace(GOLD, nucleus_energy_per_nucleon_GeV=-1.0)


def test_stripped_ion_has_no_screening():
    t = np.geomspace(1e-12, 0.5, 7)
    ff = dataclasses.replace(DEFAULT_FF, atomic_screening=False)
    assert np.array_equal(f2_coherent(t, GOLD, ff), g_el_nuc(t, GOLD, ff))
    assert np.all(g_el_atom(t, GOLD) < 1.0)


def _fields_equal(a, b):
    for f in RESULT_FIELDS:
        if f.name in ("seconds",):
            continue
        x, y = np.asarray(getattr(a, f.name)), np.asarray(getattr(b, f.name))
        assert x.tobytes() == y.tobytes(), f.name
    assert np.asarray(a.x_f_edges).tobytes() == np.asarray(b.x_f_edges).tobytes()


@pytest.mark.parametrize("process, E_l, m", [(Process("mu", "tau", "scalar"), 1000.0, 20.0),
                                             (Process("e", "tau", "scalar"), 18.0, 5.0)])
def test_collider_cell_is_the_fixed_target_cell_at_the_nucleus_frame_energy(process, E_l, m):
    """Every stored array bit for bit: the collider cell and the fixed-target cell at E = gamma (E_l +
    beta p_l) with the screening off, at the same seed."""
    pre = get_preset(None)
    E = nucleus_frame_energy(E_l, pre.lepton(process.beam).mass, EIC_AU)
    ff = dataclasses.replace(DEFAULT_FF, atomic_screening=False)
    col = compute_cell(EIC_AU, E_l, m, rel_err=0.05, seed=3, settings=FAST, process=process)
    fix = compute_cell(GOLD, E, m, rel_err=0.05, seed=3, settings=FAST, process=process, ff=ff)
    assert col.energy_GeV == E_l and fix.energy_GeV == E
    assert col.sigma_pb > 0
    _fields_equal(col, fix)
    screened = compute_cell(GOLD, E, m, rel_err=0.05, seed=3, settings=FAST, process=process)
    assert screened.sigma_pb != col.sigma_pb


def test_collider_validity_names_both_energies():
    # 1 GeV electrons on a slow ion: below the e -> tau range in the nucleus frame as well
    slow = dataclasses.replace(GOLD, nucleus_energy_per_nucleon_GeV=1.0)
    with pytest.raises(ValueError, match=r"lab lepton energy 0.5 GeV \(nucleus-frame E = "):
        compute_cell(slow, 0.5, 1.0, process=Process("e", "tau", "scalar"))


# ------------------------------------------------------------------------------- config and scan

from lfvscan.errors import UsageError  # noqa: E402
from lfvscan.spec.config import config_from_dict, parse_config, physics_diff  # noqa: E402

_EIC = {"seed": 1, "rel_err": 0.05, "masses_GeV": [5.0], "process": {"beam": "e", "final": "tau"},
        "targets": [{"name": "Au", "nucleus_energy_per_nucleon_GeV": 110, "energies_GeV": [18]}]}


def test_config_nucleus_beam_is_hashed_only_when_present():
    col = parse_config(_EIC)
    fixed = parse_config({**_EIC, "targets": [{"name": "Au", "energies_GeV": [18]}]})
    assert "nucleus_energy_per_nucleon_GeV" not in fixed.physics_dict()
    assert col.physics_dict()["nucleus_energy_per_nucleon_GeV"] == {"Au": 110.0}
    assert col.config_hash() != fixed.config_hash()
    assert physics_diff(fixed.physics_dict(), col.physics_dict()) == ["nucleus_energy_per_nucleon_GeV.Au"]
    assert config_from_dict(col.to_dict()).physics_dict() == col.physics_dict()
    target = col.cell_target("Au")
    assert target.nucleus_energy_per_nucleon_GeV == 110.0 and fixed.cell_target("Au") == "Au"


def test_config_validity_on_the_nucleus_frame_energy():
    bad = {**_EIC, "targets": [{"name": "Au", "nucleus_energy_per_nucleon_GeV": 1.0, "energies_GeV": [0.5]}]}
    with pytest.raises(UsageError, match=r"value 0.5: nucleus-frame energy = 0.732.*lab lepton energy 0.5 GeV"):
        parse_config(bad)
    slow = {**_EIC, "targets": [{"name": "Au", "nucleus_energy_per_nucleon_GeV": 0.1, "energies_GeV": [18]}]}
    with pytest.raises(UsageError, match="below its mass"):
        parse_config(slow)


@pytest.mark.skipif(__import__("tests._scan_util", fromlist=["UNDER_MPI"]).UNDER_MPI, reason="serial scan")
def test_collider_scan_through_engine_and_store(tmp_path):
    """An EIC cell through the engine and the store equals compute_cell of the same cell."""
    from lfvscan.scan.engine import run_scan
    from lfvscan.store import load_scan

    cfg = parse_config(_EIC)
    run_scan(cfg, str(tmp_path / "eic.zarr"), quiet=True)
    scan = load_scan(tmp_path / "eic.zarr")
    assert int(scan.status[0, 0, 0]) == 1
    with using(cell_engine(cfg)):  # the scan's integrand engine (lfvscan.xsec.engine)
        direct = compute_cell(cfg.cell_target("Au"), 18.0, 5.0, rel_err=0.05, seed=int(_seed(cfg)),
                              process=cfg.process)
    assert scan.sigma_pb[0, 0, 0] == direct.sigma_pb


def _seed(cfg):
    from lfvscan.scan.plan import cell_seed
    return cell_seed(cfg.seed, 0)


def test_fixed_target_experiments_refuse_a_collider_target():
    """A store whose Pb is a nucleus beam: a fixed-target experiment on Pb is skipped (covered
    experiments) or refused (named explicitly) with one line, never folded with the wrong x grid."""
    from _toy_scan import toy_scan

    from lfvscan.errors import UsageError
    from lfvscan.pheno.coverage import covered_experiments, target_index
    from lfvscan.pheno.experiments import load_experiments

    scan = toy_scan([160.0, 1000.0], [2.0, 5.0])
    scan.attrs["config"] = {"nucleus_energy_per_nucleon_GeV": {"Pb": 110.0}}
    exps = {k: v for k, v in load_experiments().items() if k in ("na64mu", "hemu")}
    usable, skipped = covered_experiments(scan, exps)
    assert not usable and all("nucleus beam" in why for why in skipped.values())
    with pytest.raises(UsageError, match="target 'Pb' is a nucleus beam in this scan"):
        target_index(scan, exps["hemu"])
