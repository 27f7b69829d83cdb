"""Which implementation evaluates the integrand and the iteration sums: the compiled engine (numba,
:mod:`lfvscan.xsec.kernel`, :mod:`lfvscan.xsec.sums_compiled`) or the numpy engine
(:mod:`lfvscan.xsec.integrand_numpy`, :mod:`lfvscan.xsec.sums_numpy`).

Both compute the same equations (docs/physics.md §7.5-§7.8, §7.12); a cell gives the same cross
section with either within a tiny fraction of its error, not the same bits.  The compiled engine
computes a cell in about half the time, but a process pays once for importing numba and loading
the cached machine code: 0.4 s on a bare install, ~1 s when scipy and numba extensions (awkward)
are installed, which numba's first call imports (docs/scaling.md).  A job of a few cells is over before
that pays, so the engine follows the job's size:

* :data:`COMPILED_MIN_CELLS`: a job of at least this many cells uses the compiled engine;
  :func:`engine_for_cells` is the choice.  A scan counts its grid's requested cells (a function
  of the hashed config, so every rank, every rank count and every resumed run of a store choose
  the same engine, and 1 and N ranks stay bit-identical); ``lfvscan xsec`` counts its one cell.
* :func:`using` selects the engine for a block (the CLI's ``xsec`` and ``scan`` run in one; a
  forked cell process inherits it); outside any, :data:`DEFAULT_ENGINE`, the compiled one (the
  library's: a Python session, the tests and the benchmarks compute many cells).

Nothing here imports numba: the compiled modules are imported on the first evaluation.
"""

from __future__ import annotations

import contextlib
import importlib
from types import SimpleNamespace

#: engine name -> (module of the integrand's ``evaluate`` and ``min_theta_scale``, module of the sums)
ENGINES = {"compiled": ("lfvscan.xsec.kernel", "lfvscan.xsec.sums_compiled"),
           "numpy": ("lfvscan.xsec.integrand_numpy", "lfvscan.xsec.sums_numpy")}
#: jobs of at least this many cells use the compiled engine, smaller ones numpy: the compiled engine
#: saves ~15 ms of CPU per open cell at 0.5 % and costs 0.4-1 s once per process (docs/scaling.md),
#: so it is ahead from ~30-60 open cells per rank; a grid of this many requested cells (~57 % open
#: in the paper config) breaks even on 2 ranks, and a smaller one loses at most a few seconds with numpy
COMPILED_MIN_CELLS = 200
#: the engine outside any :func:`using` block
DEFAULT_ENGINE = "compiled"

_selected = {"name": DEFAULT_ENGINE}
_loaded: dict[str, SimpleNamespace] = {}


def engine_for_cells(n_cells: int) -> str:
    """The engine of a job of ``n_cells`` cells: ``"compiled"`` from :data:`COMPILED_MIN_CELLS` on,
    else ``"numpy"``."""
    return "compiled" if n_cells >= COMPILED_MIN_CELLS else "numpy"


@contextlib.contextmanager
def using(name: str):
    """Within the block, this process uses the engine ``name`` (a key of :data:`ENGINES`; ValueError
    naming it otherwise); the previous one afterwards.  A process forked inside the block (a scan's
    cell process) inherits it."""
    if name not in ENGINES:
        raise ValueError(f"engine {name!r}: the engines are {', '.join(map(repr, ENGINES))}")
    previous = _selected["name"]
    _selected["name"] = name
    try:
        yield
    finally:
        _selected["name"] = previous


def engine_name() -> str:
    """The engine this process uses now (:func:`using`, else :data:`DEFAULT_ENGINE`)."""
    return _selected["name"]


def current() -> SimpleNamespace:
    """The selected engine's functions: ``evaluate(y, cp, rows)`` (``evaluate_cell`` of its integrand module), ``min_theta_scale(u0, p, p_minus_k, k,
    m_a, m_final, t_cut)``, ``bin_indices(e_f, E, lnx0, dlnx, nb)`` and ``accumulate(...)``
    (:mod:`lfvscan.xsec.accumulate`); its modules are imported on the first call."""
    name = _selected["name"]
    eng = _loaded.get(name)
    if eng is None:
        integrand_mod, sums_mod = (importlib.import_module(m) for m in ENGINES[name])
        eng = SimpleNamespace(name=name, evaluate=integrand_mod.evaluate_cell,
                              min_theta_scale=integrand_mod.min_theta_scale, bin_indices=sums_mod.bin_indices,
                              accumulate=sums_mod.accumulate)
        _loaded[name] = eng
    return eng
