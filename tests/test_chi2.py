"""Closed-form chi^2 survival (lfvscan.xsec.chi2) against scipy's incomplete gamma function."""

import math

import numpy as np
import pytest
from scipy.special import chdtrc

from lfvscan.xsec.chi2 import chi2_survival


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 5, 8, 13, 30, 59, 120])
def test_matches_scipy(dof):
    for x in np.concatenate([[0.0], np.logspace(-4, 3.2, 60)]):
        ref = chdtrc(dof, x)
        got = chi2_survival(dof, x)
        if ref > 1e-290:
            assert got == pytest.approx(ref, rel=1e-11, abs=0), (dof, x)
        else:
            assert got < 1e-280


def test_known_values():
    assert chi2_survival(1, 3.841458820694124) == pytest.approx(0.05, rel=1e-12)  # 95 % point, 1 dof
    assert chi2_survival(2, 2.0) == pytest.approx(math.exp(-1.0), rel=1e-15)
    assert chi2_survival(4, 0.0) == 1.0


@pytest.mark.parametrize("dof, x", [(0, 1.0), (2.5, 1.0), (True, 1.0), (2, -1.0), (2, float("nan"))])
def test_bad_input(dof, x):
    with pytest.raises(ValueError):
        chi2_survival(dof, x)
