"""A target's form-factor keys (docs/physics.md §7.3, §7.15, §10.8): ``incoherent = false`` drops the
incoherent term G_inel, ``t_cut_GeV2`` moves the hard cut; both engines, the config, its hash and
the scan."""

import dataclasses

import numpy as np
import pytest

from lfvscan.errors import UsageError
from lfvscan.physics.collider import nucleus_frame_energy
from lfvscan.physics.formfactors import DEFAULT_FF, FormFactorParams, f2_coherent, f2_incoherent
from lfvscan.physics.presets import get_preset
from lfvscan.physics.process import Process
from lfvscan.physics.targets import GOLD
from lfvscan.spec.config import check_same_physics, config_from_dict, parse_config, physics_diff
from lfvscan.xsec import compute_cell
from lfvscan.xsec.engine import using
from lfvscan.xsec.integrand import cell_physics
from tests._quadrature import abar_scalar, reference

EIC_AU = dataclasses.replace(GOLD, nucleus_energy_per_nucleon_GeV=110.0)
E_TAU = Process("e", "tau", "scalar")
#: the thesis's EIC / MuSIC form factors (§10.8): coherent only, t < 0.01 GeV^2
COHERENT_ONLY = dataclasses.replace(DEFAULT_FF, incoherent=False, t_cut_GeV2=0.01)


def _quadrature(t_cut: float, part: str = "coherent") -> float:
    """The independent quadrature (tests/_quadrature.py) of the ``part`` of the EIC cell (18 GeV e on
    Au at 110 GeV/nucleon, m_a = 5 GeV) with the cut ``t_cut`` and the incoherent term kept in the
    form factors (the coherent part does not read the ``incoherent`` flag) [pb]."""
    pre = get_preset(None)
    E = nucleus_frame_energy(18.0, pre.lepton("e").mass, EIC_AU)
    ff = dataclasses.replace(DEFAULT_FF, atomic_screening=False, t_cut_GeV2=t_cut)
    cp = cell_physics(GOLD, E, 5.0, physics=pre, pair=pre.lepton_pair(E_TAU), boson="scalar", ff=ff)
    return reference(cp, abar_scalar, part=part)


def test_incoherent_flag_drops_g_inel_only():
    t = np.geomspace(1e-6, 0.9, 9)
    off = dataclasses.replace(DEFAULT_FF, incoherent=False)
    assert np.all(f2_incoherent(t, GOLD, off) == 0.0) and np.all(f2_incoherent(t, GOLD) > 0.0)
    assert np.array_equal(f2_coherent(t, GOLD, off), f2_coherent(t, GOLD))
    with pytest.raises(ValueError, match="incoherent must be true or false, got 'no'"):
        FormFactorParams(incoherent="no")


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_coherent_only_cell_is_the_coherent_quadrature(engine):
    """incoherent = false, t_cut = 0.01 GeV^2: sigma_incoherent is exactly 0, sigma is sigma_coherent,
    and it agrees with the independent quadrature of the coherent part below the same cut."""
    with using(engine):
        cell = compute_cell(EIC_AU, 18.0, 5.0, rel_err=0.02, seed=3, process=E_TAU, ff=COHERENT_ONLY)
    assert cell.sigma_incoherent_pb == 0.0 and cell.sigma_incoherent_err_pb == 0.0
    assert cell.sigma_pb == cell.sigma_coherent_pb
    ref = _quadrature(0.01)
    assert abs(cell.sigma_pb - ref) < 4.0 * cell.sigma_err_pb, (cell.sigma_pb, cell.sigma_err_pb, ref)
    assert cell.lab.lepton_pb.sum() == pytest.approx(cell.sigma_pb, rel=1e-9)


def test_lower_t_cut_lowers_sigma():
    """t_cut = 0.01 GeV^2 cuts most of the incoherent part (dipole scale 0.71 GeV^2) and a little of the
    coherent one (its form factor falls at t ~ 5 / R_A^2 = 4.6e-3 GeV^2)."""
    cut = dataclasses.replace(DEFAULT_FF, t_cut_GeV2=0.01)
    low = compute_cell(EIC_AU, 18.0, 5.0, rel_err=0.02, seed=3, process=E_TAU, ff=cut)
    full = compute_cell(EIC_AU, 18.0, 5.0, rel_err=0.02, seed=3, process=E_TAU)
    assert low.sigma_pb < full.sigma_pb
    assert 0.0 < low.sigma_incoherent_pb < 0.5 * full.sigma_incoherent_pb
    assert 0.9 < _quadrature(0.01) / _quadrature(1.0) < 1.0
    assert _quadrature(0.01, "total") < 0.97 * _quadrature(1.0, "total")


# ------------------------------------------------------------------------------- config and scan

_EIC = {"seed": 1, "rel_err": 0.05, "masses_GeV": [5.0], "process": {"beam": "e", "final": "tau"},
        "targets": [{"name": "Au", "nucleus_energy_per_nucleon_GeV": 110, "energies_GeV": [18]}]}


def _with(**keys):
    return {**_EIC, "targets": [{**_EIC["targets"][0], **keys}]}


def test_form_factor_keys_are_hashed_only_when_they_differ_from_the_default():
    plain = parse_config(_EIC)
    assert parse_config(_with(incoherent=True, t_cut_GeV2=1.0)).config_hash() == plain.config_hash()
    coh = parse_config(_with(incoherent=False, t_cut_GeV2=0.01))
    assert coh.physics_dict()["form_factors"] == {"Au": {"incoherent": False, "t_cut_GeV2": 0.01}}
    assert "form_factors" not in plain.physics_dict() and coh.config_hash() != plain.config_hash()
    assert physics_diff(plain.physics_dict(), coh.physics_dict()) == ["form_factors.Au"]
    assert config_from_dict(coh.to_dict()).physics_dict() == coh.physics_dict()
    assert coh.targets[0].form_factor_params() == COHERENT_ONLY
    with pytest.raises(UsageError, match=r"differs in: form_factors.Au"):
        check_same_physics(coh, parse_config(_with(incoherent=False)), "s.zarr")


@pytest.mark.parametrize("keys, message", [
    ({"incoherent": "no"}, r"targets\[0\] \(Au\): incoherent must be true or false, got 'no'"),
    ({"incoherent": 0}, r"incoherent must be true or false, got 0"),
    ({"t_cut_GeV2": -0.01}, r"targets\[0\] \(Au\): t_cut_GeV2 must be a positive finite number \(GeV\^2\), got -0.01"),
    ({"t_cut_GeV2": True}, r"t_cut_GeV2 must be a positive finite number \(GeV\^2\), got True"),
    ({"t_cut_GeV2": float("inf")}, r"t_cut_GeV2 must be a positive finite number \(GeV\^2\), got inf"),
])
def test_form_factor_keys_are_validated(keys, message):
    with pytest.raises(UsageError, match=message):
        parse_config(_with(**keys))


@pytest.mark.skipif(__import__("tests._scan_util", fromlist=["UNDER_MPI"]).UNDER_MPI, reason="serial scan")
def test_scan_carries_the_form_factor_keys_into_the_cells(tmp_path):
    from lfvscan.scan.engine import run_scan
    from lfvscan.store import load_scan

    cfg = parse_config(_with(incoherent=False, t_cut_GeV2=0.01))
    run_scan(cfg, str(tmp_path / "eic.zarr"), quiet=True)
    scan = load_scan(tmp_path / "eic.zarr")
    assert int(scan.status[0, 0, 0]) == 1 and scan.sigma_pb[0, 0, 0] > 0
    assert scan.sigma_incoherent_pb[0, 0, 0] == 0.0
    assert scan.sigma_pb[0, 0, 0] == scan.sigma_coherent_pb[0, 0, 0]
    with pytest.raises(UsageError, match="form_factors.Au"):
        run_scan(parse_config(_EIC), str(tmp_path / "eic.zarr"), quiet=True)
