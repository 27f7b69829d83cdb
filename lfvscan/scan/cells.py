"""One cell of a scan: which function computes it, how it is called, what counts as a result.

* :func:`resolve_cell_fn`: the config's ``cell_function`` (``""``: the physics,
  :func:`lfvscan.xsec.compute_cell`; ``"module:function"``: a stand-in, the testing hook).
* :func:`compute_task`: calls the cell function with the task's seed on any rank, with the
  integrand engine of the job (:func:`cell_engine`).  Faults: an
  exception in a cell (or a malformed result, see :func:`_check_result`: wrong shapes or x_f
  grid, the result of another cell, a NaN/infinite/negative cross section or error) becomes a FAILED record with a one-line
  message, and the scan goes on.  A result that did not reach the requested precision
  (``converged`` False) is stored as DONE with that flag: ``lfvscan status`` counts such cells
  and ``lfvscan scan`` exits with status 3.
* ``SystemExit`` raised in a cell fails that cell like any exception (one line; the scan goes on).
* Wall limit (:func:`call_with_wall_limit`): a cell running longer than the config's
  ``cell_timeout_s`` is interrupted by SIGALRM in the computing (main) thread and becomes a FAILED
  record ("exceeded its wall limit"), retried by the next run while attempts < max_attempts; the
  cells queued behind it go on.  SIGALRM acts between Python bytecodes: a cell stuck inside one C
  call is not interrupted: on a worker rank 0 then sees the rank fall silent and ends the job
  (:mod:`lfvscan.scan.mpi`); rank 0's own cells, and every cell of a serial scan, run in a child
  process that is killed past the limit (:mod:`lfvscan.scan.cell_process`).
"""

from __future__ import annotations

import functools
import importlib
import signal
import threading
import time
from typing import Callable

import numpy as np

from lfvscan.errors import UsageError
from lfvscan.physics.presets import DEFAULT_PRESET
from lfvscan.physics.process import DEFAULT_PROCESS
from lfvscan.spec.config import ScanConfig
from lfvscan.scan.plan import Task
from lfvscan.schema import REQUIRED, RESULT_FIELDS
from lfvscan.store.records import CellRecord
from lfvscan.xsec.engine import engine_for_cells, using
from lfvscan.xsec.result import CellResult, x_f_edges

CellFn = Callable[..., CellResult]


def default_cell_fn() -> CellFn:
    """The physics: :func:`lfvscan.xsec.compute_cell`."""
    try:
        from lfvscan.xsec import compute_cell
    except ImportError as exc:
        raise UsageError(f"the cross-section module lfvscan.xsec is not available ({exc})") from None
    return compute_cell


def resolve_cell_fn(spec: str) -> CellFn:
    """``""`` -> the real compute_cell; ``"module:function"`` -> that callable (testing hook)."""
    if not spec:
        return default_cell_fn()
    mod_name, _, fn_name = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(mod_name), fn_name)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"cell_function {spec!r} cannot be imported: {exc}") from None
    if not callable(fn):
        raise UsageError(f"cell_function {spec!r} is not callable")
    return fn


def physics_kwargs(config: ScanConfig) -> dict:
    """The cell function's ``physics`` (preset name) and ``process``
    (:class:`~lfvscan.physics.process.Process`) keywords, each only when it differs from its default
    (cell functions without these keywords work on default configs)."""
    kw = {} if config.physics == DEFAULT_PRESET.name else {"physics": config.physics}
    if config.process != DEFAULT_PROCESS:
        kw["process"] = config.process
    return kw


def form_factor_kwargs(config: ScanConfig, target_name: str) -> dict:
    """The cell function's ``ff`` keyword (:class:`~lfvscan.physics.formfactors.FormFactorParams`) for
    the grid's target ``target_name``, only when its config sets form-factor keys (``incoherent``,
    ``t_cut_GeV2``; docs/physics.md §7.3), so cell functions without the keyword work on other configs."""
    spec = next(t for t in config.targets if t.name == target_name)
    return {"ff": spec.form_factor_params()} if spec.form_factors else {}


def cell_engine(config: ScanConfig) -> str:
    """The integrand engine of the scan's cells (:func:`lfvscan.xsec.engine.engine_for_cells`) by the
    grid's requested cells: a function of the hashed config, the same on every rank, for any rank
    count and in every resumed run, so results stay bit-identical between them."""
    return engine_for_cells(sum(len(t.energies_GeV) for t in config.targets) * len(config.masses_GeV))


class CellTimeout(BaseException):
    """A cell exceeded its wall limit (a BaseException, so a cell's own ``except Exception``
    cannot swallow it)."""

    def __init__(self, limit_s: float):
        super().__init__(f"cell exceeded its wall limit of {limit_s:g} s (cell_timeout_s); it is computed again "
                         "by the next run while attempts < max_attempts")


def call_with_wall_limit(fn: Callable[[], CellResult], limit_s: float) -> CellResult:
    """``fn()``, interrupted by :class:`CellTimeout` after ``limit_s`` seconds of wall time
    (SIGALRM; only in the main thread, elsewhere and for ``limit_s`` <= 0 no limit)."""
    if limit_s <= 0 or threading.current_thread() is not threading.main_thread():
        return fn()

    def on_alarm(signum, frame):
        raise CellTimeout(limit_s)

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def compute_task(cell_fn: CellFn, config: ScanConfig, task: Task, rank: int) -> CellRecord:
    """Run one cell within the config's wall limit; an exception, a malformed result or the wall
    limit becomes a FAILED record."""
    t0 = time.perf_counter()

    def call() -> CellResult:
        return cell_fn(
            config.cell_target(task.target),
            task.energy_GeV,
            task.mass_GeV,
            rel_err=config.rel_err,
            theta=config.theta,
            convention=config.convention,
            seed=task.seed,
            n_xbins=config.n_xbins,
            **physics_kwargs(config),
            **form_factor_kwargs(config, task.target),
        )

    try:
        with using(cell_engine(config)):
            res = call_with_wall_limit(call, config.cell_timeout_s)
        _check_result(res, config, task)
        error = ""
    except (Exception, CellTimeout) as exc:  # noqa: BLE001 - any failure of a cell is recorded, the scan goes on
        res, error = None, _one_line(exc)
    except SystemExit as exc:  # a cell function calling sys.exit: that cell fails, not the scan
        res, error = None, f"SystemExit: the cell function called sys.exit({exc.code!r}); a cell must return a result or raise"
    return CellRecord(task.index, res, error, time.perf_counter() - t0, rank, task.attempt)


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ").strip()
    return text[:500]


#: result fields holding one histogram per cell (their shape is checked)
PER_BIN = tuple(f.name for f in RESULT_FIELDS if f.per_bin)


def _check_result(res, config: ScanConfig, task: Task) -> None:
    if not isinstance(res, CellResult):
        raise TypeError(f"cell function returned {type(res).__name__}, expected CellResult")
    nb = config.n_xbins
    for name in PER_BIN:
        if np.shape(getattr(res, name)) != (nb,):
            raise ValueError(f"{name} has shape {np.shape(getattr(res, name))}, expected ({nb},)")
    _check_cell(res, config, task)
    m_final = config.lepton_pair().final.mass
    if np.shape(res.x_f_edges) != (nb + 1,) or not _edges_match(res.x_f_edges, _edge_energy(config, task), nb,
                                                                  m_final):
        raise ValueError("x_f_edges differ from lfvscan.xsec.result.x_f_edges(E, n_xbins, m_final of the "
                         "process and preset)")
    _check_values(res)


def _same_value(a, b) -> bool:
    """``a`` and ``b`` equal to 1e-12 relative (coordinates returned by a cell function)."""
    try:
        return abs(float(a) - float(b)) <= 1e-12 * abs(float(b))
    except (TypeError, ValueError):
        return False


def _check_cell(res: CellResult, config: ScanConfig, task: Task) -> None:
    """The result is the requested cell's: its target, energy, mass, theta and coupling
    convention are the task's (a cell function returning another cell's result would otherwise
    be stored under the requested coordinates).  A NaN theta (a cell function that does not
    report it) is not compared."""
    target = getattr(res.target, "name", res.target)
    got = {"target": target, "energy_GeV": res.energy_GeV, "mass_GeV": res.mass_GeV, "convention": res.convention}
    want = {"target": task.target, "energy_GeV": task.energy_GeV, "mass_GeV": task.mass_GeV,
            "convention": config.convention}
    if not (isinstance(res.theta, (float, int, np.floating)) and np.isnan(res.theta)):
        got["theta"], want["theta"] = res.theta, config.theta
    for key, value in want.items():
        same = _same_value(got[key], value) if isinstance(value, float) else got[key] == value
        if not same:
            raise ValueError(f"cell function returned the result of another cell: {key} = {got[key]!r}, "
                             f"expected {value!r} (target {task.target}, E = {task.energy_GeV:g} GeV, "
                             f"m_a = {task.mass_GeV:g} GeV)")


#: cross sections [pb] and their errors: every one must be finite and >= 0 (every
#: result field of the schema in pb), in the order _check_values concatenates them: scalars first
CHECKED_VALUES = tuple(f.name for f in sorted((f for f in RESULT_FIELDS if f.unit == "pb"), key=lambda f: f.per_bin))
_N_SCALARS = sum(1 for f in RESULT_FIELDS if f.unit == "pb" and not f.per_bin)
#: optional ones (schema default not REQUIRED, e.g. the scalar/pseudoscalar parts): all-NaN = not provided
OPTIONAL_VALUES = frozenset(f.name for f in RESULT_FIELDS if f.unit == "pb" and f.default is not REQUIRED)
_OPTIONAL_MASK = np.array([name in OPTIONAL_VALUES for name in CHECKED_VALUES])


def _check_values(res: CellResult) -> None:
    """Validate a result on arrival: cross sections and errors finite and >= 0 [pb], ``converged``
    a bool.  A violation raises ValueError naming the quantity and value; the cell becomes FAILED
    with that message instead of being stored as a good number.

    One vectorised test over all the values, per-field verdicts by ``reduceat`` (a loop of numpy
    calls per field would cost ~90 us per cell)."""
    scalars = np.array([getattr(res, name) for name in CHECKED_VALUES[:_N_SCALARS]], dtype=float)
    hists = [getattr(res, name) for name in CHECKED_VALUES[_N_SCALARS:]]  # shapes checked: (n_xbins,) each
    flat = np.concatenate([scalars, *hists]).astype(float, copy=False)
    bad = ~(np.isfinite(flat) & (flat >= 0))
    if bad.any():
        nb = len(hists[0]) if hists else 0
        starts = np.concatenate([np.arange(_N_SCALARS), _N_SCALARS + nb * np.arange(len(hists))]).astype(np.intp)
        unprovided = _OPTIONAL_MASK & np.logical_and.reduceat(np.isnan(flat), starts)  # all NaN: not provided
        wrong = np.logical_or.reduceat(bad, starts) & ~unprovided
        if wrong.any():
            f = int(np.argmax(wrong))
            v = flat[starts[f]:starts[f] + (1 if f < _N_SCALARS else nb)]
            raise ValueError(f"cell function returned {CHECKED_VALUES[f]} = {float(v[~(np.isfinite(v) & (v >= 0))][0])!r}; "
                             f"cross sections and errors must be finite and >= 0 pb")
    if not isinstance(res.converged, (bool, np.bool_)):
        raise TypeError(f"cell function returned converged = {res.converged!r}, expected a bool")


def _edge_energy(config: ScanConfig, task: Task) -> float:
    """The energy [GeV] of a cell's x grid (:meth:`lfvscan.spec.config.ScanConfig.x_edge_energy`)."""
    return config.x_edge_energy(task.target, task.energy_GeV)


@functools.lru_cache(maxsize=4096)
def _reference_edges(energy_GeV: float, nb: int, m_final: float) -> np.ndarray:
    return x_f_edges(energy_GeV, nb, m_final)


def _edges_match(edges, energy_GeV: float, nb: int, m_final: float) -> bool:
    """Edges equal to :func:`x_f_edges` (to 1e-12 relative)."""
    ref = _reference_edges(float(energy_GeV), nb, float(m_final))
    return bool(np.all(np.abs(np.asarray(edges, dtype=float) - ref) <= 1e-12 * np.abs(ref)))
