"""The quoted errors of a cell (docs/physics.md §7.12): one PDG scale factor on every error, the
convergence decided on the errors that are quoted, and an evaluation budget that grows with the
requested precision (or a request refused up front with the budget it would need)."""

import math

import pytest

from lfvscan import cli
from lfvscan.xsec.driver import compute_cell
from lfvscan.xsec.settings import DEFAULT_VEGAS, VegasSettings, budget_problem

#: a cheap cell whose final iterations scatter beyond their vegas errors at this seed (chi2/dof > 1)
SCATTERING = dict(target="Pb", energy_GeV=1000.0, mass_GeV=3.9685, rel_err=0.02, seed=13)


def test_one_bin_and_the_lowest_tail_quote_sigmas_error():
    """With one x_f bin, the bin times its width and the upper tail from the lowest edge are
    sigma_total itself, from the same samples: their quoted errors (and the parts' errors and S-P
    covariances) must be sigma's, scaled by the same factor."""
    r = compute_cell(**SCATTERING, n_xbins=1)
    assert r.meta["error_scale_factor"] > 1.1  # the case that matters: a scaled cell
    width = math.log(r.x_f_edges[1] / r.x_f_edges[0])
    assert r.dsigma_dlnx_f_pb[0] * width == pytest.approx(r.sigma_pb, rel=1e-12)
    assert r.dsigma_dlnx_f_err_pb[0] * width == pytest.approx(r.sigma_err_pb, rel=1e-9)
    assert r.sigma_above_x_err_pb[0] == pytest.approx(r.sigma_err_pb, rel=1e-9)
    for part in ("scalar", "pseudoscalar"):
        err = getattr(r, f"sigma_{part}_err_pb")
        assert getattr(r, f"dsigma_dlnx_f_{part}_err_pb")[0] * width == pytest.approx(err, rel=1e-9)
        assert getattr(r, f"sigma_above_x_{part}_err_pb")[0] == pytest.approx(err, rel=1e-9)
    assert r.dsigma_dlnx_f_sp_cov_pb2[0] * width**2 == pytest.approx(r.sigma_sp_cov_pb2, rel=1e-9)
    assert r.sigma_above_x_sp_cov_pb2[0] == pytest.approx(r.sigma_sp_cov_pb2, rel=1e-9)


@pytest.mark.parametrize("seed", [7, 10, 32])
def test_converged_means_the_quoted_errors_meet_the_targets(seed):
    """``converged`` holds only if sigma's quoted (scaled) error is within rel_err and every upper
    tail C >= tail_min_fraction sigma within tail_rel_factor x rel_err (seeds whose iterations scatter)."""
    rel = 0.01
    r = compute_cell("Pb", 1000.0, 3.9685, rel_err=rel, seed=seed, n_xbins=20)
    assert r.converged
    assert r.sigma_err_pb <= rel * r.sigma_pb
    width = math.log(r.x_f_edges[1] / r.x_f_edges[0])
    tails = width * r.dsigma_dlnx_f_pb[::-1].cumsum()[::-1]
    kept = tails >= DEFAULT_VEGAS.tail_min_fraction * r.sigma_pb
    assert kept.any()
    assert (r.sigma_above_x_err_pb[kept] <= DEFAULT_VEGAS.tail_rel_factor * rel * tails[kept]).all()


def test_the_budget_grows_with_the_requested_precision():
    """A budget of 15k evaluations set for rel_err 0.02 grows by (0.02 / 0.0025)^2 = 64 for a request
    of 0.0025, which then converges; the same 15k held fixed at 0.0025 do not reach it."""
    small = VegasSettings(max_neval_total=15_000, neval_max=5_000, budget_rel_err=0.02)
    grown = small.for_rel_err(0.0025)
    assert (grown.max_neval_total, grown.neval_max) == (960_000, 320_000)
    assert small.for_rel_err(0.05) == small  # a looser request keeps the budget
    cell = dict(target="W", energy_GeV=1000.0, mass_GeV=10.0, rel_err=0.0025, seed=3, n_xbins=4)
    r = compute_cell(**cell, settings=small)
    assert r.converged and r.neval > 15_000
    assert r.sigma_err_pb <= 0.0025 * r.sigma_pb
    fixed = compute_cell(**cell, settings=VegasSettings(max_neval_total=15_000, neval_max=5_000,
                                                        budget_rel_err=0.0025))
    assert not fixed.converged and fixed.neval <= 15_000


def test_the_default_budget_at_3e_4_and_its_ceiling():
    """(0.005 / 3e-4)^2 x 3e6 = 8.3e8 evaluations per cell at most, within the ceiling; a request whose
    budget would exceed the ceiling is refused with one line naming it and the budget it needs."""
    assert DEFAULT_VEGAS.for_rel_err(3e-4).max_neval_total == math.ceil(3e6 * (0.005 / 3e-4) ** 2)
    assert budget_problem(3e-4) is None
    problem = budget_problem(1.5e-4)
    assert "rel_err = 0.00015" in problem and "3.33e+09" in problem and "\n" not in problem
    with pytest.raises(ValueError, match="rel_err = 0.00015"):
        compute_cell("W", 1000.0, 10.0, rel_err=1.5e-4)


def test_scan_refuses_an_unaffordable_rel_err_up_front(tmp_path, capsys):
    """`lfvscan scan` refuses such a config before any cell (exit 2, one line, no store created)."""
    cfg = tmp_path / "c.toml"
    cfg.write_text('seed = 1\nrel_err = 1.5e-4\nmasses_GeV = [5.0]\n[[targets]]\nname = "W"\nenergies_GeV = [1000]\n')
    assert cli.main(["scan", str(cfg), "--store", str(tmp_path / "s.zarr"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "rel_err = 0.00015" in err
    assert not (tmp_path / "s.zarr").exists()


def test_vegas_settings_refuse_fewer_than_two_final_iterations():
    """chi2/dof of the final iterations needs two of them: n_final_min = 1 is refused with its value named."""
    with pytest.raises(ValueError, match="n_final_min must be an integer >= 2.*got 1"):
        VegasSettings(n_final_min=1, neval_pilot=2000)
    assert VegasSettings(n_final_min=2).n_final_min == 2
