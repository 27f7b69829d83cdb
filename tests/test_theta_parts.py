"""Any theta from one scan: the stored scalar/pseudoscalar parts (docs/physics.md §7.12).

sigma(theta) = g_S^2 sigma_S + g_P^2 sigma_P has no S-P interference.  Checked against an
independent reference: direct compute_cell runs at the other theta / convention with another seed
(pulls), and exactly (linear algebra) on the stored numbers.
"""

from lfvscan.physics.process import DEFAULT_PROCESS
import math

import numpy as np
import pytest

from lfvscan.errors import UsageError
from lfvscan.pheno.theta import scan_at_theta
from lfvscan.schema import DONE, RESULT_FIELDS
from lfvscan.store.scandata import ScanData
from lfvscan.xsec import compute_cell
from lfvscan.xsec.integrand import part_weights
from lfvscan.physics.presets import PDG_2024

PAIR = PDG_2024.lepton_pair(DEFAULT_PROCESS)  # beam muon, final tau (PDG masses)

E, M_A, REL = 1000.0, 10.0, 0.01
THETAS = (0.0, 1.0, math.pi / 2)


@pytest.fixture(scope="module")
def parts_cell():
    return compute_cell("Pb", E, M_A, rel_err=REL, seed=5)  # theta = pi/4, eq3


def _tail(r, x_cut=0.4):
    """sigma(x_tau >= first edge >= x_cut) and its stored error [pb]."""
    k = int(np.searchsorted(r.x_f_edges, x_cut))
    dl = np.diff(np.log(r.x_f_edges))
    return float(np.sum(r.dsigma_dlnx_f_pb[k:] * dl[k:])), float(r.sigma_above_x_err_pb[k])


def _recombined(r, theta, convention):
    a, b = part_weights(theta, convention, pair=PAIR, boson="scalar")
    sig = a * r.sigma_scalar_pb + b * r.sigma_pseudoscalar_pb
    var = a * a * r.sigma_scalar_err_pb**2 + b * b * r.sigma_pseudoscalar_err_pb**2 + 2 * a * b * r.sigma_sp_cov_pb2
    k = int(np.searchsorted(r.x_f_edges, 0.4))
    dl = np.diff(np.log(r.x_f_edges))
    h = a * r.dsigma_dlnx_f_scalar_pb + b * r.dsigma_dlnx_f_pseudoscalar_pb
    tvar = (a * a * r.sigma_above_x_scalar_err_pb[k] ** 2 + b * b * r.sigma_above_x_pseudoscalar_err_pb[k] ** 2
            + 2 * a * b * r.sigma_above_x_sp_cov_pb2[k])
    return sig, math.sqrt(var), float(np.sum(h[k:] * dl[k:])), math.sqrt(tvar)


@pytest.mark.parametrize("convention", ["eq3", "eq2"])
@pytest.mark.parametrize("theta", THETAS)
def test_parts_recombined_equal_direct_computation(parts_cell, theta, convention):
    """Recombined sigma and 2 cm-like tail (x_tau >= 0.4) agree with a direct run within errors."""
    direct = compute_cell("Pb", E, M_A, rel_err=REL, theta=theta, convention=convention, seed=17)
    sig, err, tail, tail_err = _recombined(parts_cell, theta, convention)
    pull = (sig - direct.sigma_pb) / math.hypot(err, direct.sigma_err_pb)
    assert abs(pull) < 4, (sig, err, direct.sigma_pb, direct.sigma_err_pb)
    d_tail, d_tail_err = _tail(direct)
    pull_tail = (tail - d_tail) / math.hypot(tail_err, d_tail_err)
    assert abs(pull_tail) < 4, (tail, tail_err, d_tail, d_tail_err)


def test_stored_totals_are_the_recombined_parts(parts_cell):
    """At the cell's own theta the stored totals and their errors are the linear-algebra recombination."""
    r = parts_cell
    a, b = part_weights(math.pi / 4, "eq3", pair=PAIR, boson="scalar")
    assert math.isclose(r.sigma_pb, a * r.sigma_scalar_pb + b * r.sigma_pseudoscalar_pb, rel_tol=1e-13)
    var = a * a * r.sigma_scalar_err_pb**2 + b * b * r.sigma_pseudoscalar_err_pb**2 + 2 * a * b * r.sigma_sp_cov_pb2
    assert math.isclose(r.sigma_err_pb, math.sqrt(var), rel_tol=1e-12)
    for tot, s, p in (("sigma_coherent_pb", "sigma_coherent_scalar_pb", "sigma_coherent_pseudoscalar_pb"),
                      ("sigma_incoherent_pb", "sigma_incoherent_scalar_pb", "sigma_incoherent_pseudoscalar_pb")):
        assert math.isclose(getattr(r, tot), a * getattr(r, s) + b * getattr(r, p), rel_tol=1e-13)
    np.testing.assert_allclose(r.dsigma_dlnx_f_pb, a * r.dsigma_dlnx_f_scalar_pb
                               + b * r.dsigma_dlnx_f_pseudoscalar_pb, rtol=1e-13, atol=0)
    hvar = (a * a * r.dsigma_dlnx_f_scalar_err_pb**2 + b * b * r.dsigma_dlnx_f_pseudoscalar_err_pb**2
            + 2 * a * b * r.dsigma_dlnx_f_sp_cov_pb2)
    np.testing.assert_allclose(r.dsigma_dlnx_f_err_pb, np.sqrt(np.maximum(hvar, 0)), rtol=1e-10, atol=0)
    # S and P come from the same samples: strongly correlated
    rho = r.sigma_sp_cov_pb2 / (r.sigma_scalar_err_pb * r.sigma_pseudoscalar_err_pb)
    assert 0.9 < rho <= 1.0 + 1e-12


def _scan_of(results):
    r0 = results[0]
    kw = {f.name: np.array([[[getattr(r, f.name) for r in results]]]) for f in RESULT_FIELDS}
    return ScanData(("Pb",), np.array([E]), np.array([r.mass_GeV for r in results]), r0.x_f_edges[None, :],
                    np.full((1, 1, len(results)), DONE, np.int8), theta=r0.theta, convention=r0.convention, **kw)


def test_scan_at_theta_is_the_linear_combination(parts_cell):
    scan = _scan_of([parts_cell])
    same = scan_at_theta(scan, math.pi / 4, "eq3")
    for name in ("sigma_pb", "sigma_err_pb", "dsigma_dlnx_f_pb", "dsigma_dlnx_f_err_pb", "sigma_above_x_err_pb"):
        np.testing.assert_allclose(same[name], scan[name], rtol=1e-10, atol=0, err_msg=name)
    for theta, conv in ((0.0, "eq3"), (math.pi / 2, "eq2")):
        other = scan_at_theta(scan, theta, conv)
        sig, err, _, _ = _recombined(parts_cell, theta, conv)
        assert other.sigma_pb[0, 0, 0] == pytest.approx(sig, rel=1e-14)
        assert other.sigma_err_pb[0, 0, 0] == pytest.approx(err, rel=1e-12)
        assert other.theta == theta and other.convention == conv


def test_scan_at_theta_needs_the_parts(parts_cell):
    scan = _scan_of([parts_cell])
    scan.sigma_scalar_pb = np.full_like(scan.sigma_scalar_pb, np.nan)  # a store written before the parts
    with pytest.raises(UsageError, match="scalar/pseudoscalar"):
        scan_at_theta(scan, 0.3)
    with pytest.raises(UsageError, match="convention"):
        scan_at_theta(_scan_of([parts_cell]), 0.3, "eq9")


def test_limits_at_several_thetas_carry_theta(parts_cell):
    """compute_limits_for_store(thetas=...) gives one curve set per theta; limits.json keeps its curve
    fields and adds theta/convention; at the scan's own theta the limits equal the default ones."""
    import json

    from lfvscan.cli.limits import parse_thetas
    from lfvscan.pheno.limits import limits_json
    from lfvscan.pheno.store_limits import compute_limits_for_store

    scan = _scan_of([parts_cell])
    thetas = parse_thetas(["0", "pi/2", "pi/4"])
    assert thetas == (0.0, math.pi / 2, math.pi / 4)
    res = compute_limits_for_store(scan, experiments=["hemu"], thetas=thetas)
    base = compute_limits_for_store(scan, experiments=["hemu"])
    assert len(res.limits) == 3 * len(base.limits)
    own = [lim for lim in res.limits if lim.yields.theta == math.pi / 4]
    for a, b in zip(own, base.limits):
        np.testing.assert_allclose(a.g_lim, b.g_lim, rtol=1e-12)
    doc = json.loads(limits_json(res.limits, res.provenance))
    for c in doc["curves"]:
        assert {"experiment", "curve", "mass_GeV", "g_lim", "g_lim_err", "n_hat", "n_hat_err", "theta"} <= set(c)
    assert sorted({c["theta"] for c in doc["curves"]}) == sorted(thetas)
    assert "theta" not in json.loads(limits_json(base.limits, base.provenance))["curves"][0]
    with pytest.raises(UsageError, match="--theta"):
        parse_thetas(["pi/x"])


def test_recombined_fields_follow_the_schema_relations():
    """The fields scan_at_theta recombines are derived from the schema's declarations: every total
    with scalar/pseudoscalar parts, the errors propagated from the parts' errors and covariance, and
    the errors without stored parts (coherent, incoherent) set to NaN."""
    from lfvscan.pheno.theta import recombined_fields

    values, errors = recombined_fields()
    assert [f.name for f in values] == ["sigma_pb", "sigma_coherent_pb", "sigma_incoherent_pb", "dsigma_dlnx_f_pb"]
    assert {f.name: (f.parts, f.cov) for f in errors} == {
        "sigma_err_pb": (("sigma_scalar_err_pb", "sigma_pseudoscalar_err_pb"), "sigma_sp_cov_pb2"),
        "sigma_coherent_err_pb": (None, None),
        "sigma_incoherent_err_pb": (None, None),
        "dsigma_dlnx_f_err_pb": (("dsigma_dlnx_f_scalar_err_pb", "dsigma_dlnx_f_pseudoscalar_err_pb"),
                                   "dsigma_dlnx_f_sp_cov_pb2"),
        "sigma_above_x_err_pb": (("sigma_above_x_scalar_err_pb", "sigma_above_x_pseudoscalar_err_pb"),
                                 "sigma_above_x_sp_cov_pb2"),
    }
    for f in values:
        assert all(p.endswith(("scalar_pb",)) for p in f.parts)
