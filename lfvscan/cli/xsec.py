"""``lfvscan xsec``: the exact l_beam N -> l_final N X cross section of one cell (docs/physics.md §7).

The process is ``--beam`` / ``--final`` / ``--boson`` (:class:`lfvscan.physics.process.Process`,
default mu -> tau with a spin-0 boson).  Inputs must lie in their validity ranges (docs/physics.md
§7.11): energy in the process's range ([2, 1e7] GeV for a final tau, [0.2, 1e7] GeV for e -> mu and
mu -> e), mass [1e-6, 1e4] GeV and, for mu -> e, above m_mu - m_e, rel-err [1e-4, 0.5), n-xbins
[1, 1000].  Exit statuses:
:func:`lfvscan.errors.exit_statuses` of ``"xsec"`` (the end of ``--help``); a value outside its
range names the value and the range; a result short of the requested precision within the
evaluation budget is printed with its honest, larger error and a warning (JSON ``"converged": false``).
The JSON names the two parts of the process's boson family: ``sigma_scalar_pb``,
``sigma_pseudoscalar_pb``, ... or ``sigma_vector_pb``, ``sigma_axial_pb``, ``sigma_va_cov_pb2``, ...
(:func:`lfvscan.schema.family_name`).
"""

from __future__ import annotations

import json

from lfvscan.cli.process_args import add_process_arguments, process_of
from lfvscan.errors import EXIT_OK, EXIT_UNCONVERGED, UsageError
from lfvscan.physics.couplings import CONVENTIONS, DEFAULT_CONVENTION
from lfvscan.physics.presets import DEFAULT_PRESET, PRESETS
from lfvscan.physics.process import BOSON_FAMILIES
from lfvscan.physics.targets import TARGETS
from lfvscan.schema import PART_NAMES, family_name
from lfvscan.util.ranges import DEFAULT_N_XBINS, DEFAULT_REL_ERR, ENERGY_GEV, MASS_GEV, N_XBINS, REL_ERR

HELP = "cross section sigma(l_beam N -> l_final N X) for g = 1 at one (target, energy, mass), with vegas"


def add_parser(sub):
    p = sub.add_parser("xsec", help=HELP, description=HELP)
    p.add_argument("--target", required=True, metavar="NAME",
                   help=f"target nucleus: {', '.join(TARGETS)}")
    p.add_argument("--energy", required=True, type=float, metavar="GEV",
                   help=f"beam energy [GeV], in the process's range ({ENERGY_GEV.describe()} for a final tau); "
                        "with --nucleus-energy-per-nucleon the lepton beam's lab energy, the range then applying "
                        "to its nucleus-frame energy")
    p.add_argument("--nucleus-energy-per-nucleon", type=float, default=None, metavar="GEV",
                   help="a collider cell: the target is a nucleus beam of this energy per nucleon [GeV] meeting the "
                        "lepton beam head on (docs/physics.md §7.15; no atomic screening)")
    p.add_argument("--mass", required=True, type=float, metavar="GEV",
                   help=f"boson mass [GeV], in {MASS_GEV.describe()}")
    p.add_argument("--rel-err", type=float, default=DEFAULT_REL_ERR, metavar="R",
                   help=f"target relative error on sigma_total, in {REL_ERR.describe()} (default {DEFAULT_REL_ERR:g})")
    p.add_argument("--theta", type=float, default=None, metavar="RAD",
                   help="coupling angle theta [rad]: 0 pseudoscalar, pi/2 scalar (Eq. (3)); for --boson vector 0 axial, "
                        "pi/2 vector (docs/physics.md §7.14) (default pi/4)")
    add_process_arguments(p, bosons=BOSON_FAMILIES)
    p.add_argument("--convention", default=DEFAULT_CONVENTION, choices=CONVENTIONS,
                   help=f"coupling convention of the scalar family (default {DEFAULT_CONVENTION}, docs/physics.md §2.4; "
                        "the vector family has only the default)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    p.add_argument("--n-xbins", type=int, default=DEFAULT_N_XBINS, metavar="N",
                   help=f"bins of the final lepton's x distribution, in {N_XBINS.describe()} (default {DEFAULT_N_XBINS})")
    p.add_argument("--physics", default=DEFAULT_PRESET.name, choices=tuple(PRESETS),
                   help=f"physics preset: constants and conventions (default {DEFAULT_PRESET.name}; thesis-2024 = the "
                        "thesis code behind arXiv:2407.15942, docs/physics.md §14 item 29)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    return p


def run(args) -> int:
    from lfvscan.physics.couplings import DEFAULT_THETA
    from lfvscan.util.ranges import REL_ERR
    from lfvscan.xsec import compute_cell
    from lfvscan.xsec.engine import engine_for_cells, using

    theta = DEFAULT_THETA if args.theta is None else args.theta
    if (problem := REL_ERR.problem(args.rel_err)) is not None:
        raise UsageError(problem)
    if args.seed < 0:
        raise UsageError(f"--seed {args.seed}: the seed must be an integer >= 0")
    process = process_of(args)
    try:
        target = _target(args.target, args.nucleus_energy_per_nucleon)
        with using(engine_for_cells(1)):  # one cell: not worth loading the compiled kernels
            r = compute_cell(target, args.energy, args.mass, rel_err=args.rel_err, theta=theta,
                             convention=args.convention, seed=args.seed, n_xbins=args.n_xbins,
                             physics=args.physics, process=process)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    code = EXIT_OK if r.converged else EXIT_UNCONVERGED
    warning = "" if r.converged else (
        f"NOT CONVERGED: relative error {r.sigma_err_pb / abs(r.sigma_pb) if r.sigma_pb else float('inf'):.2e} > "
        f"requested {args.rel_err:g} after {r.neval} evaluations (the evaluation budget); the error quoted is honest")
    if args.json:
        d = r.to_dict()
        # the part slots under the family's names: sigma_vector_pb, sigma_axial_pb, ... (docs/physics.md §7.14)
        d = {family_name(k, process.boson): v for k, v in d.items()}
        d["requested_rel_err"] = args.rel_err
        d["process"] = process.to_dict()
        if args.nucleus_energy_per_nucleon is not None:
            d["nucleus_energy_per_nucleon_GeV"] = args.nucleus_energy_per_nucleon
            d["nucleus_frame_energy_GeV"] = _nucleus_frame_energy(target, args)
        if warning:
            d["warning"] = warning
        print(json.dumps(d))
        return code
    if r.closed:
        print(f"{r.target} E={r.energy_GeV:g} GeV m_a={r.mass_GeV:g} GeV: kinematically closed, sigma = 0")
        return 0
    print(f"{process.label()}: {r.target} E={r.energy_GeV:g} GeV m_a={r.mass_GeV:g} GeV theta={r.theta:.6g} "
          f"({r.convention}), physics {args.physics}, g = 1:")
    if args.nucleus_energy_per_nucleon is not None:
        print(f"  collider: {r.target} beam at {args.nucleus_energy_per_nucleon:g} GeV/nucleon, lepton lab energy "
              f"{r.energy_GeV:g} GeV, nucleus-frame energy {_nucleus_frame_energy(target, args):.6g} GeV")
    print(f"  sigma_total      = {r.sigma_pb:.6e} +- {r.sigma_err_pb:.2e} pb")
    print(f"  sigma_coherent   = {r.sigma_coherent_pb:.6e} +- {r.sigma_coherent_err_pb:.2e} pb")
    print(f"  sigma_incoherent = {r.sigma_incoherent_pb:.6e} +- {r.sigma_incoherent_err_pb:.2e} pb")
    first, second, _ = PART_NAMES[process.boson]
    print(f"  parts: {first} {r.sigma_scalar_pb:.6e} +- {r.sigma_scalar_err_pb:.2e} pb, {second} "
          f"{r.sigma_pseudoscalar_pb:.6e} +- {r.sigma_pseudoscalar_err_pb:.2e} pb (g = 1)")
    print(f"  chi2/dof = {r.chi2_dof:.2f} (Q = {r.Q:.2f}), {r.neval} evaluations, {r.seconds:.3f} s")
    if warning:
        print(f"  {warning}")
    return code


def _target(name: str, per_nucleon):
    """The target argument of compute_cell: the name, or with ``per_nucleon`` [GeV] the nucleus beam."""
    if per_nucleon is None:
        return name
    import dataclasses

    from lfvscan.physics.targets import get_target
    return dataclasses.replace(get_target(name), nucleus_energy_per_nucleon_GeV=per_nucleon)


def _nucleus_frame_energy(target, args) -> float:
    """The lepton's nucleus-frame energy [GeV] of the cell (the preset's nucleus mass in the boost)."""
    from lfvscan.physics.collider import nucleus_frame_energy
    from lfvscan.physics.presets import get_preset

    pre = get_preset(args.physics)
    return nucleus_frame_energy(args.energy, pre.lepton_pair(process_of(args)).beam.mass, pre.target(target))
