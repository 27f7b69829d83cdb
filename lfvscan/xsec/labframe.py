"""Lab-frame distributions of a collider cell (docs/physics.md §7.16): the final lepton's and the
boson's lab pseudorapidity and energy, as 2-D histograms filled from the vegas points of the cell.

A collider cell is integrated in the nucleus rest frame (§7.15); the lab frame moves along +z
relative to it (the nucleus beam moves along -z in the lab), so a particle of rapidity ``y*`` in the
nucleus frame has the lab rapidity ``y = y* - Y`` with ``Y = acosh(gamma)`` of the nucleus beam, the
same transverse momentum ``p_T`` and transverse mass ``m_T``, the lab energy ``m_T cosh y`` and the lab
pseudorapidity ``asinh(m_T sinh(y) / p_T)`` (cancellation-free at any boost).

The boson's direction is a vegas variable (theta_a, with E_a), so each point goes into one bin of
the boson histogram.  The final lepton's direction also depends on the azimuth phi_q of the
photon around ``V = p - k``, which the integrand averages in closed form (§7.6): each point's weight
is therefore split over ``N_PHI_SEGMENTS`` azimuth segments, in proportion to the exact integral of
the unaveraged amplitude over each segment, and each segment's share goes into the bin of the lepton
at the segment's middle.  The amplitude is ``a_0 + a_1 s + a_-1 / s + a_-2 / s^2`` in ``s = s0 + s1
cos(phi)`` for both boson families, so the closed-form average of §7.6/§7.14 is linear in the four
moments ``<1>, <s>, <1/s>, <1/s^2>``; over a segment these moments have closed forms in the variable
``tau`` with ``tan(phi/2) = tan(tau) sqrt((s0 + s1)/(s0 - s1))`` (``dphi / s`` is flat in tau, so the
segments, equal in tau, follow the 1/s peak of the amplitude).  The shares of a point add up to its
weight (to rounding), so each histogram integrates to the cell's sigma_total; only the placement of a
share within its segment is approximate (the lepton's azimuth spread inside a segment).

Grids (fixed, the same for every cell): :data:`LAB_ETA_EDGES` in pseudorapidity (positive along the
lepton beam; first and last bins are under/overflow) and :data:`LAB_X_EDGES` in the lab energy as a
fraction of the lepton beam's lab energy (first bin from 0, last to infinity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


#: pseudorapidity bin edges of the lab histograms (24 bins; +-3.5 and +-6 are edges, so the EIC
#: (|eta| < 3.5) and MuSIC (|eta| < 6) acceptances are sums of whole bins)
LAB_ETA_EDGES = np.array([-np.inf, -10.0, -8.0, -7.0, -6.0, -5.0, -4.0, -3.5, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0,
                          3.5, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 12.0, 15.0, np.inf])
#: lab-energy bin edges as fractions of the lepton beam's lab energy (12 bins: quarter decades from
#: 0.01 to 10^0.5, below 0.01 and above 10^0.5)
LAB_X_EDGES = np.concatenate([[0.0], 10.0 ** np.linspace(-2.0, 0.5, 11), [np.inf]])
#: azimuth segments per point for the lepton's direction (module docstring)
N_PHI_SEGMENTS = 8
#: bins of one 2-D histogram (pseudorapidity-major: bin = i_eta * n_x + i_x)
N_LAB_BINS = (len(LAB_ETA_EDGES) - 1) * (len(LAB_X_EDGES) - 1)
#: the |eta| cuts the grid resolves (an edge whose negative is an edge too; infinity: no cut)
ACC_ETA_CUTS = np.array([e for e in LAB_ETA_EDGES if e > 0 and -e in LAB_ETA_EDGES])
#: acceptance sets {|eta| < cut, E >= lower edge of an energy bin} whose MC variances are accumulated
#: exactly (cut-major: set = i_cut * n_x + i_x)
N_LAB_ACC = len(ACC_ETA_CUTS) * (len(LAB_X_EDGES) - 1)


def _bin_set_indices() -> tuple[np.ndarray, np.ndarray]:
    """Per 2-D bin: the smallest cut index whose |eta| < cut contains the bin, and its energy index."""
    lo, hi = LAB_ETA_EDGES[:-1], LAB_ETA_EDGES[1:]
    need = np.maximum(np.abs(lo), np.abs(hi))
    c_eta = np.array([int(np.searchsorted(ACC_ETA_CUTS, v)) for v in need], dtype=np.int64)
    nx = len(LAB_X_EDGES) - 1
    return np.repeat(c_eta, nx), np.tile(np.arange(nx, dtype=np.int64), len(c_eta))


BIN_CUT_INDEX, BIN_X_INDEX = _bin_set_indices()


def _segment_constants(n: int) -> np.ndarray:
    """(8, n) per tau segment of [0, pi/2]: lower edge, width, ``int 2 sin^2(tau) dtau`` over it
    (= width - cos(a + b) sin(b - a), no cancellation at small tau), middle, and the cosine and sine of
    the middle and of the upper edge (the kernel's trigonometry of tau, computed once)."""
    edges = np.linspace(0.0, 0.5 * math.pi, n + 1)
    a, b = edges[:-1], edges[1:]
    width = b - a
    g = width - np.cos(a + b) * np.sin(width)
    mid = 0.5 * (a + b)
    return np.array([a, width, g, mid, np.cos(mid), np.sin(mid), np.cos(b), np.sin(b)])


SEGMENTS = _segment_constants(N_PHI_SEGMENTS)


@dataclass(frozen=True)
class LabFrame:
    """What the lab histograms of one collider cell need: the rapidity ``Y = acosh(gamma)`` of the
    nucleus beam [1] and the lepton beam's lab energy [GeV] (the unit of the energy axis)."""

    rapidity: float
    beam_energy_GeV: float


def acceptance_variances(corner: np.ndarray) -> np.ndarray:
    """(3, :data:`N_LAB_ACC`) variances (S, P) and covariance of the acceptance sets, cut-major, from the
    corners of :func:`lfvscan.xsec.lab_kernel.accumulate_lab`: the sum over I <= cut index and J >= energy index."""
    c = np.cumsum(corner, axis=1)
    c = np.cumsum(c[:, :, ::-1], axis=2)[:, :, ::-1]
    return c.reshape(3, -1)


def lab_deposits(y, cp, rows, lab: LabFrame):
    """(boson bins (N, 1), boson shares (k, N, 1), lepton bins (N, n_seg), lepton shares (k, N, n_seg))
    at the vegas points ``y`` of the cell ``cp`` (:class:`~lfvscan.xsec.integrand.CellPhysics`) for the
    coupling rows ``rows`` (k, 3) (:func:`lfvscan.xsec.lab_kernel.lab_kernel`; imported here, so that
    numba loads only when a collider cell is integrated)."""
    from lfvscan.xsec.lab_kernel import lab_kernel

    y = np.ascontiguousarray(y, dtype=np.float64)
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    n, k = y.shape[0], rows.shape[0]
    lep_bin = np.empty((n, N_PHI_SEGMENTS), dtype=np.int64)
    lep_frac = np.empty((k, n, N_PHI_SEGMENTS))
    bos_bin = np.empty(n, dtype=np.int64)
    lab_kernel(y, cp.constants, rows, SEGMENTS, math.exp(-lab.rapidity), lab.beam_energy_GeV, LAB_ETA_EDGES, LAB_X_EDGES,
               lep_bin, lep_frac, bos_bin)
    return bos_bin[:, None], np.ones((k, n, 1)), lep_bin, lep_frac


def fill_lab(x, wgt, hcube, f, cp, rows, lab: LabFrame, sums: dict) -> None:
    """Add one batch of a frozen-map iteration (points ``x``, weights, hypercubes, the integrand's two
    parts ``f`` (2, N)) to the lab histograms in ``sums`` (:func:`empty_lab_sums`)."""
    from lfvscan.xsec.lab_kernel import accumulate_lab

    bb, bf, lb, lf = lab_deposits(x, cp, rows, lab)
    f = np.ascontiguousarray(f, dtype=np.float64)
    for p, bins, frac in (("lepton", lb, lf), ("boson", bb, bf)):
        accumulate_lab(f, wgt, hcube, bins, frac, sums[f"lab_{p}_mean"], sums[f"lab_{p}_var"], BIN_CUT_INDEX,
                       BIN_X_INDEX, sums[f"lab_{p}_acc_var"])


def empty_lab_sums() -> dict:
    """Zeroed sums of :func:`fill_lab` (``*_acc_var``: the corners of :func:`lfvscan.xsec.lab_kernel.accumulate_lab`)."""
    corner = (3, len(ACC_ETA_CUTS), len(LAB_X_EDGES) - 1)
    out = {}
    for p in ("lepton", "boson"):
        out.update({f"lab_{p}_mean": np.zeros((2, N_LAB_BINS)), f"lab_{p}_var": np.zeros((3, N_LAB_BINS)),
                    f"lab_{p}_acc_var": np.zeros(corner)})
    return out


#: the two lab histograms of a cell: the final lepton's and the boson's
LAB_PARTICLES = ("lepton", "boson")


@dataclass(frozen=True)
class LabDistributions:
    """The lab-frame histograms of one collider cell (module docstring), for g = 1.

    For each particle of :data:`LAB_PARTICLES`: ``<particle>_pb`` (:data:`N_LAB_BINS`,) the cross
    section in each (pseudorapidity, energy) bin [pb] at the cell's couplings (not a density: a sum of
    bins is a cross section, and all bins add up to sigma_total), ``<particle>_err_pb`` its MC error,
    ``<particle>_parts_pb`` (2, N_LAB_BINS) the two parts (scalar and pseudoscalar, or vector and
    axial; docs/physics.md §7.12, §7.14) and ``<particle>_parts_var_pb2`` (3, N_LAB_BINS) their
    variances and covariance.  Bins are pseudorapidity-major over :data:`LAB_ETA_EDGES` x
    :data:`LAB_X_EDGES` (:meth:`grid`); ``beam_energy_GeV``: the lepton beam's lab energy, the unit of
    the energy axis.  ``<particle>_accepted_err_pb`` (:data:`N_LAB_ACC`,) is the MC error of the cross
    section of each acceptance set {|eta| < cut, E >= lower edge of an energy bin} (:data:`ACC_ETA_CUTS`
    x energy bins, cut-major; the cross section itself is the sum of its bins), and
    ``<particle>_accepted_parts_var_pb2`` (3, N_LAB_ACC) the parts' variances and covariance: bins of
    one cell share points, so these are not sums of the bins' variances (:func:`lfvscan.xsec.lab_kernel.accumulate_lab`).
    """

    beam_energy_GeV: float
    lepton_pb: np.ndarray
    lepton_err_pb: np.ndarray
    lepton_parts_pb: np.ndarray
    lepton_parts_var_pb2: np.ndarray
    boson_pb: np.ndarray
    boson_err_pb: np.ndarray
    boson_parts_pb: np.ndarray
    boson_parts_var_pb2: np.ndarray
    lepton_accepted_err_pb: np.ndarray
    lepton_accepted_parts_var_pb2: np.ndarray
    boson_accepted_err_pb: np.ndarray
    boson_accepted_parts_var_pb2: np.ndarray

    eta_edges = LAB_ETA_EDGES
    x_edges = LAB_X_EDGES

    def grid(self, name: str) -> np.ndarray:
        """Array ``name`` (e.g. ``"lepton_pb"``) as (..., n_eta, n_x)."""
        v = getattr(self, name)
        return v.reshape(v.shape[:-1] + (len(LAB_ETA_EDGES) - 1, len(LAB_X_EDGES) - 1))

    def energy_edges_GeV(self) -> np.ndarray:
        """The energy-axis edges in GeV (``LAB_X_EDGES`` times the lepton beam's lab energy)."""
        return LAB_X_EDGES * self.beam_energy_GeV

    def to_dict(self) -> dict:
        """JSON-ready dict (arrays as lists, the grid's edges included; an infinite edge, the open end of
        an end bin, is None: standard JSON has no infinity)."""
        d = {"beam_energy_GeV": self.beam_energy_GeV,
             "eta_edges": [e if math.isfinite(e) else None for e in LAB_ETA_EDGES.tolist()],
             "x_edges": [e if math.isfinite(e) else None for e in LAB_X_EDGES.tolist()]}
        for p in LAB_PARTICLES:
            for suffix in ("pb", "err_pb", "parts_pb", "parts_var_pb2", "accepted_err_pb", "accepted_parts_var_pb2"):
                d[f"{p}_{suffix}"] = getattr(self, f"{p}_{suffix}").tolist()
        return d


def lab_distributions(avg: dict | None, ab: tuple[float, float] | None, lab: LabFrame,
                      error_scale: float) -> LabDistributions:
    """The :class:`LabDistributions` of a cell from the averaged frozen-map sums ``avg`` (keys of
    :func:`empty_lab_sums`) at the couplings ``ab`` = (weight of the first part, of the second):
    totals ``a S + b P`` with variance ``a^2 var_S + b^2 var_P + 2 a b cov`` (§7.12), every variance
    and covariance times ``error_scale``^2, the PDG factor the cell's other errors carry (§7.12).
    ``avg`` None: a closed cell (all zero)."""
    if avg is None:
        avg, ab = empty_lab_sums(), (1.0, 1.0)
    a, b = ab
    s2 = error_scale * error_scale
    out = {}
    for p in LAB_PARTICLES:
        mean, var = avg[f"lab_{p}_mean"], s2 * avg[f"lab_{p}_var"]
        tot_var = a * a * var[0] + b * b * var[1] + 2.0 * a * b * var[2]
        out[f"{p}_pb"] = a * mean[0] + b * mean[1]
        out[f"{p}_err_pb"] = np.sqrt(np.maximum(tot_var, 0.0))
        out[f"{p}_parts_pb"] = mean.copy()
        out[f"{p}_parts_var_pb2"] = var.copy()
        acc = s2 * acceptance_variances(avg[f"lab_{p}_acc_var"])
        out[f"{p}_accepted_err_pb"] = np.sqrt(np.maximum(a * a * acc[0] + b * b * acc[1] + 2.0 * a * b * acc[2], 0.0))
        out[f"{p}_accepted_parts_var_pb2"] = acc
    return LabDistributions(beam_energy_GeV=lab.beam_energy_GeV, **out)


def _lab_suffixes():
    """(schema array suffix, LabDistributions attribute, index into it or None, square root?) of the
    eleven arrays of one lab histogram (:data:`lfvscan.schema.LAB_FIELDS`)."""
    return (("pb", "pb", None, False), ("err_pb", "err_pb", None, False), ("scalar_pb", "parts_pb", 0, False),
            ("pseudoscalar_pb", "parts_pb", 1, False), ("scalar_err_pb", "parts_var_pb2", 0, True),
            ("pseudoscalar_err_pb", "parts_var_pb2", 1, True), ("sp_cov_pb2", "parts_var_pb2", 2, False),
            ("accepted_err_pb", "accepted_err_pb", None, False),
            ("accepted_scalar_err_pb", "accepted_parts_var_pb2", 0, True),
            ("accepted_pseudoscalar_err_pb", "accepted_parts_var_pb2", 1, True),
            ("accepted_sp_cov_pb2", "accepted_parts_var_pb2", 2, False))


def lab_field_values(lab: LabDistributions) -> dict[str, np.ndarray]:
    """The store arrays (:data:`lfvscan.schema.LAB_FIELDS`, one row each) of a cell's lab histograms."""
    out = {}
    for p in LAB_PARTICLES:
        for suffix, attr, index, root in _lab_suffixes():
            v = getattr(lab, f"{p}_{attr}")
            v = v if index is None else v[index]
            out[f"lab_{p}_{suffix}"] = np.sqrt(np.maximum(v, 0.0)) if root else v
    return out


def lab_from_field_values(values: dict, beam_energy_GeV: float) -> LabDistributions | None:
    """The :class:`LabDistributions` of one cell from its rows of the store arrays (inverse of
    :func:`lab_field_values`); None if they hold the fill value (a fixed-target cell)."""
    if np.all(np.isnan(values["lab_lepton_pb"])):
        return None
    kw = {}
    for p in LAB_PARTICLES:
        g = {s: np.asarray(values[f"lab_{p}_{s}"], dtype=float) for s, *_ in _lab_suffixes()}
        kw.update({f"{p}_pb": g["pb"], f"{p}_err_pb": g["err_pb"],
                   f"{p}_parts_pb": np.array([g["scalar_pb"], g["pseudoscalar_pb"]]),
                   f"{p}_parts_var_pb2": np.array([g["scalar_err_pb"] ** 2, g["pseudoscalar_err_pb"] ** 2,
                                                   g["sp_cov_pb2"]]),
                   f"{p}_accepted_err_pb": g["accepted_err_pb"],
                   f"{p}_accepted_parts_var_pb2": np.array([g["accepted_scalar_err_pb"] ** 2,
                                                            g["accepted_pseudoscalar_err_pb"] ** 2,
                                                            g["accepted_sp_cov_pb2"]])})
    return LabDistributions(beam_energy_GeV=float(beam_energy_GeV), **kw)
