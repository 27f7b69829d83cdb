"""The spin-1 boson through the production path (docs/physics.md §7.14): the compiled kernel against the
numpy reference, vegas against the independent quadrature of tests/_quadrature.py (vector and axial parts),
the parts' recombination at any theta, the one convention of the family, and a small vector scan through
the engine and the store (interrupted, resumed, recombined, its limits computed).

The quadrature shares with vegas only the kinematics and the amplitude functions (themselves checked
against explicit traces and 50-digit arithmetic in tests/test_amplitude_vector.py); its integration
variables, maps and rules are its own.
"""

import json
import math

import numpy as np
import pytest

import _quadrature as Q
from _leptons import ELECTRON, PAIR
from lfvscan.errors import UsageError
from lfvscan.physics.leptons import LeptonPair
from lfvscan.physics.presets import PDG_2024
from lfvscan.physics.process import Process
from lfvscan.physics.reach import max_mass_exact_GeV
from lfvscan.physics.targets import get_target
from lfvscan.xsec import cell_physics, compute_cell

MU_TAU_V = Process("mu", "tau", "vector")
E_TAU_V = Process("e", "tau", "vector")
PAIRS = {MU_TAU_V: PAIR, E_TAU_V: LeptonPair(ELECTRON, PAIR.final)}


def _edge_mass(target, E, process, frac):
    """``frac`` of the exact reach m_X^max [GeV] of the cell (heavy-mass corner)."""
    return frac * float(max_mass_exact_GeV(E, get_target(target), pair=PAIRS[process]))


def _vegas_vs_quadrature(target, E, m_X, process, rel_err):
    """vegas' vector and axial parts against the quadrature: |diff| <= 0.3 % ref + 3 sigma (+ the
    quadrature's own 2e-4 agreement between its refinement levels)."""
    r = compute_cell(target, E, m_X, rel_err=rel_err, theta=0.7, process=process, n_xbins=8, physics="pdg-2024")
    assert not r.closed and r.converged
    cp = cell_physics(target, E, m_X, physics=PDG_2024, pair=PAIRS[process], boson="vector", theta=0.7)
    for got, err, (g_V2, g_A2) in ((r.sigma_scalar_pb, r.sigma_scalar_err_pb, (1.0, 0.0)),
                                   (r.sigma_pseudoscalar_pb, r.sigma_pseudoscalar_err_pb, (0.0, 1.0))):
        ref = Q.reference(cp, Q.abar_vector(g_V2, g_A2), rel=5e-4)
        print(f"{process.label()} {target} {E:g} GeV m_X={m_X:.6g}: ({g_V2:g}, {g_A2:g}) vegas {got:.6g} +- {err:.2g}, "
              f"quadrature {ref:.6g} ({(got / ref - 1) * 100:+.3f} %)")
        assert abs(got - ref) <= 3e-3 * abs(ref) + 3.0 * err, (g_V2, g_A2, got, err, ref)


def test_vegas_agrees_with_quadrature_fast():
    """One cell in the fast suite (both parts)."""
    _vegas_vs_quadrature("Pb", 1000.0, 5.0, MU_TAU_V, 2e-3)


MU_TAU_CELLS = [
    ("Pb", 1000.0, 20.0), ("W", 160.0, 5.0), ("Pb", 3000.0, 40.0), ("Pb", 100.0, 0.1),  # light boson
    ("W", 1000.0, 1.0), ("Pb", 300.0, 10.0), ("Pb", 5.0, 0.5),  # near the energy threshold of the tau
    ("W", 10.0, 1.5), ("Pb", 1000.0, "edge"), ("W", 100.0, "edge"),  # heavy-mass corners: 0.9 m_X^max
]
E_TAU_CELLS = [("Pb", 100.0, 2.0), ("Pb", 1000.0, 10.0), ("W", 30.0, 1.0), ("Pb", 5.0, 0.5),
               ("Pb", 1000.0, "edge"), ("W", 100.0, "edge")]


@pytest.mark.slow
@pytest.mark.parametrize("process, target, E, m_X", [(MU_TAU_V, *c) for c in MU_TAU_CELLS]
                         + [(E_TAU_V, *c) for c in E_TAU_CELLS])
def test_vegas_agrees_with_quadrature(process, target, E, m_X):
    m = _edge_mass(target, E, process, 0.9) if m_X == "edge" else m_X
    _vegas_vs_quadrature(target, E, m, process, 1e-3)


@pytest.mark.parametrize("process", [MU_TAU_V, E_TAU_V])
def test_parts_recombine_to_the_total_at_theta(process):
    """sigma(theta) = sin^2 theta sigma_V + cos^2 theta sigma_A for every stored quantity (§7.14), and a
    cell computed at theta = 0.7 agrees within errors with the recombination of a cell at another
    theta and seed."""
    a, b = math.sin(0.7) ** 2, math.cos(0.7) ** 2
    r = compute_cell("Pb", 300.0, 4.0, rel_err=5e-3, theta=0.7, process=process, n_xbins=6, seed=1)
    assert r.sigma_pb == pytest.approx(a * r.sigma_scalar_pb + b * r.sigma_pseudoscalar_pb, rel=1e-12)
    np.testing.assert_allclose(r.dsigma_dlnx_f_pb,
                               a * r.dsigma_dlnx_f_scalar_pb + b * r.dsigma_dlnx_f_pseudoscalar_pb, rtol=1e-12)
    o = compute_cell("Pb", 300.0, 4.0, rel_err=5e-3, theta=0.2, process=process, n_xbins=6, seed=2)
    rec = a * o.sigma_scalar_pb + b * o.sigma_pseudoscalar_pb
    rec_err = math.sqrt(a * a * o.sigma_scalar_err_pb**2 + b * b * o.sigma_pseudoscalar_err_pb**2
                        + 2 * a * b * o.sigma_sp_cov_pb2)
    assert abs(rec - r.sigma_pb) <= 4.0 * math.hypot(rec_err, r.sigma_err_pb)
    assert r.named_parts("vector")["sigma_vector_pb"] == r.sigma_scalar_pb
    assert r.named_parts("vector")["sigma_va_cov_pb2"] == r.sigma_sp_cov_pb2


def test_the_vector_family_has_one_convention_at_config_cli_and_compute_cell(capsys):
    from lfvscan.cli.main import main
    from lfvscan.spec.config import parse_config

    with pytest.raises(ValueError, match="convention 'eq2'.*scalar family's"):
        compute_cell("Pb", 100.0, 2.0, convention="eq2", process=MU_TAU_V)
    with pytest.raises(UsageError, match="convention 'eq2'.*scalar family's"):
        parse_config({"masses_GeV": [2.0], "targets": [{"name": "Pb", "energies_GeV": [100.0]}],
                      "convention": "eq2", "process": {"boson": "vector"}})
    assert main(["xsec", "--target", "Pb", "--energy", "100", "--mass", "2", "--boson", "vector",
                 "--convention", "eq2"]) == 2
    err = capsys.readouterr().err
    assert "convention 'eq2'" in err and len(err.strip().splitlines()) == 1


def test_cli_xsec_json_names_the_vector_and_axial_parts(capsys):
    from lfvscan.cli.main import main

    assert main(["xsec", "--target", "Pb", "--energy", "100", "--mass", "2", "--beam", "e", "--boson", "vector",
                 "--theta", "0", "--rel-err", "0.05", "--n-xbins", "4", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["process"] == {"beam": "e", "final": "tau", "boson": "vector"}
    assert not any("scalar" in k for k in d)
    assert d["sigma_pb"] == d["sigma_axial_pb"]  # theta = 0: pure axial
    for key in ("sigma_err_pb", "sigma_coherent_pb", "sigma_incoherent_pb", "sigma_vector_pb", "sigma_vector_err_pb",
                "sigma_axial_err_pb", "sigma_va_cov_pb2", "dsigma_dlnx_f_vector_pb"):
        assert key in d


VECTOR_SCAN = {"seed": 3, "rel_err": 0.02, "n_xbins": 8, "theta": 0.7, "masses_GeV": [2.0, 8.0, 60.0],
               "targets": [{"name": "Pb", "energies_GeV": [100.0, 1000.0]}], "process": {"boson": "vector"}}


def test_a_vector_scan_resumes_recombines_and_gives_limits(tmp_path, capsys):
    """Interrupted after two cells and resumed: bit-identical to an uninterrupted scan; the store's part
    arrays say what they hold; recombination at theta = pi/2 gives the vector part; limits are computed."""
    import zarr

    from _scan_util import read_results
    from lfvscan.cli.main import main
    from lfvscan.pheno.theta import scan_at_theta
    from lfvscan.scan.engine import run_scan
    from _call_log import CallLog, sigterm_drains
    from lfvscan.scan.signals import StopFlag
    from lfvscan.spec.config import parse_config
    from lfvscan.store import load_scan
    from lfvscan.xsec import compute_cell as cell

    cfg = parse_config(dict(VECTOR_SCAN))
    whole = str(tmp_path / "whole.zarr")
    assert run_scan(cfg, whole, quiet=True).exit_code == 0
    parts = str(tmp_path / "parts.zarr")
    stop = StopFlag()
    with sigterm_drains(stop):
        assert run_scan(cfg, parts, cell_fn=CallLog(cell, stop_at=2), quiet=True, stop=stop).exit_code == 143
    out = run_scan(cfg, parts, quiet=True)
    assert out.exit_code == 0 and out.computed_this_run > 0
    a, b = read_results(whole), read_results(parts)
    assert all(a[k].tobytes() == b[k].tobytes() for k in a if k != "attempts")

    g = zarr.open_group(parts, mode="r")
    assert g["sigma_scalar_pb"].attrs["quantity"] == "sigma_vector_pb"
    assert g["sigma_pseudoscalar_pb"].attrs["description"].startswith("axial part sigma_A")
    assert "quantity" not in g["sigma_pb"].attrs

    scan = load_scan(parts)
    ok = np.isfinite(scan["sigma_pb"]) & (scan["sigma_pb"] > 0)
    assert np.count_nonzero(ok) >= 4
    v = scan_at_theta(scan, math.pi / 2)
    np.testing.assert_allclose(v["sigma_pb"][ok], scan["sigma_scalar_pb"][ok], rtol=1e-12)
    with pytest.raises(UsageError, match="convention 'eq2'"):
        scan_at_theta(scan, 0.3, "eq2")

    assert main(["limits", parts, "--out", str(tmp_path / "lim"), "--json"]) == 0
    assert (tmp_path / "lim" / "limits.csv").stat().st_size > 0
