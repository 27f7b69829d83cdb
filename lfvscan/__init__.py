"""lfvscan: discovery reach of TeV muon beams for a lepton-flavour-violating ALP.

Reproduces and extends B. Batell, H. Davoudiasl, R. Marcarelli, E. T. Neil, S. Trojanowski,
*Lepton-Flavor-Violating ALP Signals with TeV-Scale Muon Beams*, PRD 110 (2024) 075039,
arXiv:2407.15942.  Units: GeV (energies, masses), GeV^2 (t), pb (cross sections), cm (lengths)
unless a name says otherwise.  Section numbers in docstrings ("docs/physics.md §7.6") refer to
``docs/physics.md``, the project's physics write-up in the repository (formulas, provenance, choices).

A typical session: one cross section, a scan into a store, limits from it, the ALP's properties::

    >>> import lfvscan
    >>> cell = lfvscan.compute_cell("Pb", 1000.0, 10.0, rel_err=0.01, seed=1)  # sigma [pb] for g = 1
    >>> cell.sigma_pb > 0 and not cell.closed  # also: coherent/incoherent parts, dsigma/dln x_f
    True
    >>> cfg = lfvscan.load_config("configs/demo.toml")
    >>> lfvscan.run_scan(cfg, "demo.zarr", quiet=True).exit_code  # or: mpiexec -n 2 lfvscan scan ...
    0
    >>> scan = lfvscan.load_scan("demo.zarr")
    >>> res = lfvscan.compute_limits_for_store(scan, n_req=3.0)  # every experiment the scan covers
    >>> lim = res.limits[0]
    >>> lim.key, float(lim.masses_GeV[0]), bool(lim.g_lim[0] < 1)  # g_lim = sqrt(N_req / N_hat)
    ('na64mu/projected', 2.0, True)
    >>> for w in res.warnings:  # returned, not printed  # doctest: +ELLIPSIS
    ...     print("warning:", w)
    warning: skipping na64e: experiment 'na64e' observes e -> tau, the scan computed mu -> tau
    warning: skipping eic: experiment 'eic' observes e -> tau, the scan computed mu -> tau
    warning: skipping music: target 'Au' not in scan (has: Pb, W)
    warning: fasernu2/reconstructed: 0.715 of the muons lie below 300 GeV and are not used
    ...
    >>> info = lfvscan.model_summary(10.0, coupling=0.01)  # widths, c*tau, g-2, DM; keys carry units
    >>> info["ctau_m"] < 1e-12
    True

The steps one at a time: ``load_experiments`` (experiments TOML, ``--set`` overrides),
``load_flux`` (muon flux CSV), ``compute_yields(scan, experiments)`` (N_hat per curve),
``compute_limits(yields, n_req)``.  The command line (``lfvscan --help``) runs the same calls.

Importing ``lfvscan`` is cheap: the names below are loaded on first use (PEP 562), so that the MPI
ranks, which all import :mod:`lfvscan.cli`, and ``lfvscan status`` import neither vegas nor
matplotlib.
"""

import importlib

__version__ = "0.1.0"

#: public name -> module defining it (imported on first access)
_EXPORTS = {
    "compute_cell": "lfvscan.xsec",
    "CellResult": "lfvscan.xsec",
    "load_config": "lfvscan.spec.config",
    "ScanConfig": "lfvscan.spec.config",
    "run_scan": "lfvscan.scan.engine",
    "load_scan": "lfvscan.store",
    "ScanData": "lfvscan.store",
    "load_experiments": "lfvscan.pheno.experiments",
    "load_flux": "lfvscan.pheno.flux",
    "compute_yields": "lfvscan.pheno.yields",
    "compute_limits": "lfvscan.pheno.limits",
    "compute_limits_for_store": "lfvscan.pheno.store_limits",
    "LimitsResult": "lfvscan.pheno.store_limits",
    "model_summary": "lfvscan.physics.summary",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lfvscan' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
