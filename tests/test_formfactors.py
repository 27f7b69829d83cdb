"""Form factors and target bookkeeping against docs/physics.md §13.1 and §13.5 reference tables."""

import numpy as np
import pytest

from lfvscan.physics import formfactors as ff
from lfvscan.physics.targets import LEAD, TUNGSTEN, get_target

T = np.array([1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 0.1, 0.5, 1.0])
# columns: G_el^atom, G_el^nuc, G_inel^atom, G_inel^nuc, F^2  (docs/physics.md §13.5)
REF = {
    "Pb": np.array([
        [9.245546e-1, 6.723980e3, 9.453634e-1, 8.200000e1, 6.294207e3],
        [9.992005e-1, 6.722039e3, 9.994304e-1, 8.199983e1, 6.798617e3],
        [9.999920e-1, 6.530388e3, 9.999943e-1, 8.198265e1, 6.612318e3],
        [9.999992e-1, 4.998896e3, 9.999994e-1, 8.182646e1, 5.080718e3],
        [9.999999e-1, 1.588470e2, 9.999999e-1, 8.025886e1, 2.391059e2],
        [1.0, 1.165767e-1, 1.0, 6.496802e1, 6.508459e1],
        [1.0, 1.521020e-3, 1.0, 2.469558e1, 2.469710e1],
        [1.0, 5.899298e-7, 1.0, 9.115089e0, 9.115089e0],
    ]),
    "W": np.array([
        [9.292770e-1, 5.475985e3, 9.520992e-1, 7.400000e1, 5.159163e3],
        [9.992533e-1, 5.474514e3, 9.995033e-1, 7.399984e1, 5.544390e3],
        [9.999925e-1, 5.329211e3, 9.999950e-1, 7.398396e1, 5.403155e3],
        [9.999993e-1, 4.158093e3, 9.999995e-1, 7.383957e1, 4.231929e3],
        [9.999999e-1, 1.891173e2, 1.0, 7.239251e1, 2.615098e2],
        [1.0, 5.749480e-4, 1.0, 5.840921e1, 5.840978e1],
        [1.0, 1.102137e-3, 1.0, 2.208691e1, 2.208801e1],
        [1.0, 1.184224e-4, 1.0, 8.136912e0, 8.137030e0],
    ]),
}


@pytest.mark.parametrize("name", ["Pb", "W"])
def test_form_factor_table(name):
    tgt = get_target(name)
    got = np.column_stack([
        ff.g_el_atom(T, tgt), ff.g_el_nuc(T, tgt), ff.g_inel_atom(T, tgt), ff.g_inel_nuc(T, tgt), ff.f2_total(T, tgt),
    ])
    # the table has 7 significant digits: 1e-6 relative (plus rounding of the printed 1.0)
    np.testing.assert_allclose(got, REF[name], rtol=1.5e-6)


@pytest.mark.parametrize("tgt,a,ap,ra_fm", [(LEAD, 49999.43, 59243.99, 7.1100), (TUNGSTEN, 51739.92, 63440.38, 6.8253)])
def test_screening_constants(tgt, a, ap, ra_fm):
    assert ff.screening_a(tgt) == pytest.approx(a, rel=2e-7)
    assert ff.screening_a_prime(tgt) == pytest.approx(ap, rel=2e-7)
    assert ff.nuclear_radius_GeVinv(tgt) * 0.1973269804 == pytest.approx(ra_fm, abs=6e-5)
    p773 = ff.FormFactorParams(a_prime_coeff=773.0)
    ref773 = {"Pb": 80146.32, "W": 85823.26}[tgt.name]
    assert ff.screening_a_prime(tgt, p773) == pytest.approx(ref773, rel=2e-7)


def test_limits_and_cut():
    # t -> 0 of the nuclear parts: Z^2 and Z; above t_cut everything vanishes
    assert ff.g_el_nuc(1e-14, LEAD) == pytest.approx(82**2, rel=1e-9)
    assert ff.g_inel_nuc(1e-14, LEAD) == pytest.approx(82, rel=1e-9)
    assert ff.f2_total(1.0 + 1e-12, LEAD) == 0.0
    assert ff.f2_total(2.0, TUNGSTEN) == 0.0
    # series branch joins the exact expression continuously at x = 0.1
    x = np.array([0.1 * (1 - 1e-12), 0.1 * (1 + 1e-12)])
    v = ff._sphere_ff(x)
    assert abs(v[0] - v[1]) < 1e-13
    # thesis variant Z-1 reduces the coherent part by ((Z-1)/Z)^2
    p = ff.FormFactorParams(coherent_charge="Z-1")
    assert ff.g_el_nuc(1e-3, LEAD, p) / ff.g_el_nuc(1e-3, LEAD) == pytest.approx((81 / 82) ** 2, rel=1e-12)
    with pytest.raises(ValueError, match="Z-2"):
        ff.FormFactorParams(coherent_charge="Z-2")


def test_target_bookkeeping():
    # docs/physics.md §13.1
    assert LEAD.number_density_cm3 == pytest.approx(3.2988e22, rel=2e-5)
    assert TUNGSTEN.number_density_cm3 == pytest.approx(6.3222e22, rel=2e-5)
    assert LEAD.column_density_cm2(2.0) == pytest.approx(6.5976e22, rel=2e-5)
    assert LEAD.column_density_cm2(40 * LEAD.X0_cm) == pytest.approx(7.4056e23, rel=2e-5)
    assert TUNGSTEN.column_density_per_pb(660.0) == pytest.approx(4.1727e-11, rel=2e-5)
    ratio = TUNGSTEN.column_density_cm2(660) * 74**2 / (LEAD.column_density_cm2(2) * 82**2)
    assert ratio == pytest.approx(515.06, rel=2e-5)
    assert LEAD.M == pytest.approx(193.7508, abs=1e-4)
    assert TUNGSTEN.M == pytest.approx(171.3949, abs=1e-4)
    with pytest.raises(ValueError, match="'Xe'"):
        get_target("Xe")


def test_targets_are_looked_up_by_element_symbol():
    """User input names the element ("Pb", "W", any case); the module constants are LEAD / TUNGSTEN."""
    assert get_target("Pb") is LEAD and get_target("pb") is LEAD and get_target(LEAD) is LEAD
    assert get_target("W") is TUNGSTEN and get_target("w") is TUNGSTEN
    assert (LEAD.name, TUNGSTEN.name) == ("Pb", "W")
