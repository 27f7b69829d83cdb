"""Theory and dark-matter overlays drawn with the limits (docs/physics.md §4.5, §5.3, §5.4, §11).

* :func:`g2_bands` - g-2 preferred bands g in [g_lo, g_hi] for chosen theta (presets "paper-2023",
  "wp2025" of :mod:`lfvscan.physics.g2`); theta values with no positive shift are dropped.
* :func:`relic_line` - asymmetric-DM relic lower bound g_relic(m_chi, m_a) (§5.3); below it the
  symmetric component is over-abundant.
* :func:`id_excluded_upper_g` - indirect-detection / CMB exclusion of asymmetric DM: with
  s = <sigma v>(g) / <sigma v>_0 and r_inf = exp(-2 s) (§5.3), a published limit excludes g if
  <sigma v>(g) K(r_inf) > <sigma v>_lim, K = 2r/(1+r)^2 (limit quoted for self-conjugate DM) or
  4r/(1+r)^2 (symmetric Dirac).  Above the relic line (s >= 1) <sigma v> K decreases with g, so
  the excluded region is g_relic <= g < g_upper; the function returns g_upper (NaN: nothing
  excluded).
* :func:`cmb_sigma_v_limit` - Planck 2018 bound on p_ann = f_eff <sigma v> / m_chi
  < 3.2e-28 cm^3 s^-1 GeV^-1 (self-conjugate normalisation), i.e. <sigma v>_lim = p_ann m_chi / f_eff.
  ``f_eff`` is a user parameter, default 0.2 [U]: the efficiency for mu+mu- / tau+tau- final
  states at 5-50 GeV is of order 0.15-0.3 (Slatyer 2016); set it to the value appropriate for
  tau mu.
* :func:`load_id_curve` - user-supplied limit curves (Fermi-LAT dwarfs, AMS-02, ...), format::

      # label: Fermi-LAT dSph (McDaniel et al. 2024), tau+tau-
      # limit_type: majorana          (or: dirac = quoted for symmetric Dirac DM)
      # source: arXiv:xxxx.xxxxx, digitised from Fig. N
      m_chi_GeV,sigma_v_cm3_s
      5,1.2e-26
      ...

  interpolated log-log in m_chi, NaN outside the tabulated range.
* :func:`secluded_g_chi` - g_chi giving the relic density through chi chibar -> a a (§5.4, visible
  scenario; independent of g).

Benchmarks [U] (docs/physics.md §14 item 14): g_chi = 1, m_chi = m_a / 3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lfvscan.physics import darkmatter as dm
from lfvscan.physics import decays
from lfvscan.physics import g2
from lfvscan.physics.leptons import LeptonPair
from lfvscan.errors import UsageError
from lfvscan.util.textfile import read_text

#: theta values for the g-2 bands [rad] ([U], docs/physics.md §11: must include pi/2 and pi/4)
DEFAULT_THETAS = (math.pi / 2, 3 * math.pi / 8, math.pi / 3, math.pi / 4)
#: Planck 2018 bound on p_ann [cm^3 s^-1 GeV^-1] (Planck 2018 VI, self-conjugate normalisation)
PLANCK_P_ANN_MAX = 3.2e-28
#: CMB energy-deposition efficiency f_eff ([U], user parameter, see module docstring)
DEFAULT_F_EFF = 0.2
#: m_a / m_chi benchmark ([U], docs/physics.md §5.3; one definition, in lfvscan.physics.decays)
DEFAULT_MA_OVER_MCHI = decays.DEFAULT_MA_OVER_MCHI
#: factor by which future ID limits improve (docs/physics.md §5.3, [P]: "one order of magnitude")
FUTURE_ID_IMPROVEMENT = 10.0


def theta_label(theta: float) -> str:
    """Readable label for theta [rad] (multiples of pi/8, pi/3, pi/6 recognised)."""
    for den in (1, 2, 3, 4, 6, 8):
        num = theta * den / math.pi
        if abs(num - round(num)) < 1e-9 and round(num) != 0:
            n = int(round(num))
            top = "π" if n == 1 else f"{n}π"
            return top if den == 1 else f"{top}/{den}"
    return f"{theta:.3g}"


@dataclass(frozen=True)
class G2Band:
    """g-2 preferred band for one theta: arrays over ``masses_GeV`` (NaN where no band)."""

    theta: float
    preset: str
    nsigma: float
    masses_GeV: np.ndarray
    g_lo: np.ndarray
    g_central: np.ndarray
    g_hi: np.ndarray

    @property
    def label(self) -> str:
        return f"g−2 ({self.preset}, {self.nsigma:g}σ), θ = {theta_label(self.theta)}"


def check_g2_preset(preset) -> None:
    """UsageError naming an unknown g-2 preset name (a G2Measurement instance is accepted)."""
    if isinstance(preset, str) and preset not in g2.G2_PRESETS:
        raise UsageError(f"unknown g-2 preset {preset!r} (known: {', '.join(g2.G2_PRESETS)})")


def g2_bands(masses_GeV, thetas=DEFAULT_THETAS, preset: str = g2.DEFAULT_G2_PRESET,
             nsigma: float = g2.DEFAULT_NSIGMA, convention: str = "eq3", *, pair: LeptonPair) -> list[G2Band]:
    """Preferred bands (docs/physics.md §4.5) for each theta whose shift has the measured sign somewhere
    (external and loop leptons of ``pair``)."""
    check_g2_preset(preset)
    m = np.asarray(masses_GeV, dtype=float)
    out = []
    for th in thetas:
        lo, c, hi = g2.preferred_band(m, float(th), preset=preset, nsigma=nsigma, convention=convention, pair=pair)
        if np.all(np.isnan(hi)):
            continue
        out.append(G2Band(float(th), str(preset), float(nsigma), m, np.asarray(lo), np.asarray(c), np.asarray(hi)))
    return out


def relic_line(m_a_GeV, ma_over_mchi: float = DEFAULT_MA_OVER_MCHI, g_chi: float = 1.0, *, pair: LeptonPair):
    """g_relic(m_chi = m_a / ratio, m_a, g_chi) vs m_a (docs/physics.md §5.3) for the leptons of ``pair``."""
    m_a = np.asarray(m_a_GeV, dtype=float)
    return dm.g_relic(m_a / ma_over_mchi, m_a, g_chi=g_chi, pair=pair)


def _k_of_s(s, limit_type):
    """<sigma v> K(r_inf) / <sigma v>_0 as a function of s = <sigma v>/<sigma v>_0."""
    sv0 = dm.RELIC_SIGMA_V_CM3_S
    return s * dm.id_rescaling_factor(dm.r_infinity(s * sv0, sv0), limit_type)


def id_excluded_upper_g(m_chi_GeV, sigma_v_lim_cm3_s, limit_type: str = "majorana", m_a_GeV=None,
                        g_chi: float = 1.0, *, pair: LeptonPair):
    """Upper edge g_upper of the region g_relic <= g < g_upper excluded by an ID/CMB limit
    ``sigma_v_lim_cm3_s`` [cm^3/s] (docs/physics.md §5.3); NaN where nothing above the relic line is
    excluded (or the limit is NaN).  ``m_a_GeV`` None -> 3 m_chi; annihilation into the leptons of
    ``pair``."""
    m_chi = np.asarray(m_chi_GeV, dtype=float)
    m_a = np.asarray(dm.default_m_a(m_chi, m_a_GeV), dtype=float)
    lim = np.broadcast_to(np.asarray(sigma_v_lim_cm3_s, dtype=float), np.broadcast(m_chi, m_a).shape)
    sv0 = dm.RELIC_SIGMA_V_CM3_S
    target = lim / sv0
    # bisection in ln s on [0, ln 400]: _k_of_s decreasing for s >= 1
    lo = np.zeros_like(target)
    hi = np.full_like(target, math.log(400.0))
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        above = _k_of_s(np.exp(mid), limit_type) > target
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    s_hi = np.exp(0.5 * (lo + hi))
    excluded = _k_of_s(1.0, limit_type) > target
    sv1 = dm.to_cm3_per_s(dm.sigma_v_tau_mu(m_chi, m_a, 1.0, g_chi, pair=pair))
    with np.errstate(divide="ignore", invalid="ignore"):
        g_up = np.sqrt(s_hi * sv0 / sv1)
    return np.where(excluded & (sv1 > 0) & np.isfinite(target), g_up, np.nan)


def cmb_sigma_v_limit(m_chi_GeV, f_eff: float = DEFAULT_F_EFF, p_ann_max: float = PLANCK_P_ANN_MAX):
    """Planck 2018: <sigma v>_lim = p_ann_max m_chi / f_eff [cm^3/s] (self-conjugate normalisation)."""
    if not (f_eff > 0 and math.isfinite(f_eff)):
        raise UsageError(f"f_eff must be positive, got {f_eff!r}")
    return p_ann_max * np.asarray(m_chi_GeV, dtype=float) / f_eff


@dataclass(frozen=True)
class IDCurve:
    """A user-supplied <sigma v> limit curve (see module docstring for the file format)."""

    label: str
    limit_type: str
    m_chi_GeV: np.ndarray
    sigma_v_cm3_s: np.ndarray
    source: str = ""
    comments: tuple[str, ...] = ()

    def __call__(self, m_chi_GeV):
        """log-log interpolation; NaN outside the tabulated range."""
        x = np.log(np.asarray(m_chi_GeV, dtype=float))
        lx = np.log(self.m_chi_GeV)
        y = np.interp(x, lx, np.log(self.sigma_v_cm3_s))
        return np.where((x >= lx[0]) & (x <= lx[-1]), np.exp(y), np.nan)


def load_id_curve(path) -> IDCurve:
    """Read a two-column limit curve ``m_chi_GeV,sigma_v_cm3_s`` with ``# key: value`` header."""
    p = Path(path)
    text = read_text(p, "ID limit file")
    meta, comments, rows = {}, [], []
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            comments.append(s[1:].strip())
            if ":" in s:
                k, v = s[1:].split(":", 1)
                meta[k.strip().lower()] = v.strip()
            continue
        rows.append(s)
    if not rows or [c.strip() for c in rows[0].split(",")] != ["m_chi_GeV", "sigma_v_cm3_s"]:
        raise UsageError(f"ID limit file {str(p)!r}: first data line must be 'm_chi_GeV,sigma_v_cm3_s'")
    vals = []
    for i, r in enumerate(rows[1:], start=1):
        parts = r.split(",")
        try:
            a, b = (float(x) for x in parts)
        except ValueError:
            raise UsageError(f"ID limit file {str(p)!r}: row {i}: expected two numbers, got {r!r}") from None
        if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
            raise UsageError(f"ID limit file {str(p)!r}: row {i}: values must be positive and finite, got {r!r}")
        vals.append((a, b))
    if len(vals) < 2:
        raise UsageError(f"ID limit file {str(p)!r}: needs at least two rows")
    arr = np.array(vals)
    if np.any(np.diff(arr[:, 0]) <= 0):
        i = int(np.nonzero(np.diff(arr[:, 0]) <= 0)[0][0]) + 2
        raise UsageError(f"ID limit file {str(p)!r}: row {i}: m_chi_GeV must increase")
    lt = meta.get("limit_type", "majorana").lower()
    if lt not in dm.ID_LIMIT_TYPES:
        raise UsageError(f"ID limit file {str(p)!r}: limit_type must be one of {dm.ID_LIMIT_TYPES}, got {lt!r}")
    return IDCurve(meta.get("label", p.stem), lt, arr[:, 0], arr[:, 1], str(p), tuple(comments))


def secluded_g_chi(m_a_GeV, mchi_over_ma: float = 2.0, x_F: float = dm.DEFAULT_X_F):
    """g_chi giving the relic abundance via chi chibar -> a a (docs/physics.md §5.4) at m_chi =
    ``mchi_over_ma`` * m_a ([U] benchmark ratio 2); independent of g_tau_mu."""
    m_a = np.asarray(m_a_GeV, dtype=float)
    return dm.g_chi_relic_secluded(mchi_over_ma * m_a, m_a, x_F=x_F)
