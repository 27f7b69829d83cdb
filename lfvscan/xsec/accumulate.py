"""Sums of one frozen-map iteration (docs/physics.md §7.12): vegas' stratified estimate of sigma
(total, coherent, incoherent), of d sigma / d ln x_f per bin and of the upper tails, for the
scalar and pseudoscalar parts with their covariances, by the selected engine
(:mod:`lfvscan.xsec.engine`: :mod:`lfvscan.xsec.sums_compiled` or :mod:`lfvscan.xsec.sums_numpy`).

The estimator is the one described in :func:`lfvscan.xsec.driver._frozen_iteration`: per hypercube h
with n_h points and values ``v_i = w_i f_i``, ``mean = sum_h (S_h + D_h)`` and ``var = sum_h (n_h
sum_i d_i^2 - D_h^2) / (n_h - 1)`` with ``S_h = sum_i v_i``, ``d_i = v_i - S_h / n_h``, ``D_h = sum_i
d_i`` (covariances with ``d_i d'_i`` and ``D_h D'_h``).  A bin component is ``v_i / dlnx`` for the
points in the bin and 0 for the others (``n_h - n_hb`` points with ``d = -m``, summed in closed
form); an upper tail sums the raw moments of the bins above it, ``(n_h Q_hk - S_hk S'_hk) / (n_h -
1)``.
"""

from __future__ import annotations

from lfvscan.xsec import engine


def bin_indices(e_f, E, lnx0, dlnx, nb):
    """Bin (int64) of ``ln(e_f / E)`` on the grid ``lnx0 + k dlnx``, clipped into [0, nb - 1] (nan -> 0:
    such points carry zero weight)."""
    return engine.current().bin_indices(e_f, E, lnx0, dlnx, nb)


def accumulate(coh, inc, wgt, hcube, bins, dlnx, cell_mean, cell_var, bin_mean, bin_var, tail_diff):
    """Add one batch of a frozen-map iteration to the sums (in place; module docstring).

    ``coh``, ``inc`` (2, N): the integrand's scalar / pseudoscalar parts; ``wgt`` (N) vegas' weights;
    ``hcube`` (N) the hypercubes (each one's points contiguous); ``bins`` (N) the x_f bins.
    ``cell_mean`` (3, 2), ``cell_var`` (3, 3), ``bin_mean`` (2, nb), ``bin_var`` (3, nb) as in
    :func:`lfvscan.xsec.driver._frozen_iteration`; ``tail_diff`` (3, nb): per-bin increments of the
    upper-tail variances of ``v / dlnx`` (the tail of bin k is the sum over bins >= k; the caller
    takes the reversed cumulative sum and multiplies by ``dlnx^2``).
    """
    engine.current().accumulate(coh, inc, wgt, hcube, bins, dlnx, cell_mean, cell_var, bin_mean, bin_var,
                                tail_diff)
