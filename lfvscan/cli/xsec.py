"""``lfvscan xsec``: the exact mu N -> tau N a cross section of one cell (docs/physics.md §7).

Inputs must lie in their validity ranges (docs/physics.md §7.11): energy [2, 1e7] GeV, mass
[1e-6, 1e4] GeV, rel-err [1e-4, 0.5), n-xbins [1, 1000].  Exit status: 0 result at the requested
precision; 2 usage error (a value outside its range names the value and the range); 3 the result
did not reach the requested precision within the evaluation budget (printed with its honest,
larger error and a warning; JSON ``"converged": false``).
"""

from __future__ import annotations

import json

from lfvscan.errors import EXIT_UNCONVERGED, UsageError

HELP = "cross section sigma(mu N -> tau N a) for g = 1 at one (target, energy, mass), with vegas"


def add_parser(sub):
    p = sub.add_parser("xsec", help=HELP, description=HELP,
                       epilog="exit status: 0 converged, 2 usage error (value outside its validity range), "
                              "3 requested precision not reached (result printed with its larger error)")
    p.add_argument("--target", required=True, metavar="NAME", help="target nucleus: Pb or W")
    p.add_argument("--energy", required=True, type=float, metavar="GEV", help="muon beam energy [GeV], in [2, 1e7]")
    p.add_argument("--mass", required=True, type=float, metavar="GEV", help="ALP mass [GeV], in [1e-6, 1e4]")
    p.add_argument("--rel-err", type=float, default=0.005, metavar="R",
                   help="target relative error on sigma_total, in [1e-4, 0.5) (default 0.005)")
    p.add_argument("--theta", type=float, default=None, metavar="RAD",
                   help="coupling angle theta of Eq. (3) [rad] (default pi/4)")
    p.add_argument("--convention", default="eq3", choices=("eq3", "eq2"),
                   help="coupling convention (default eq3, docs/physics.md §2.4)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    p.add_argument("--n-xbins", type=int, default=60, metavar="N",
                   help="bins of the x_tau distribution, in [1, 1000] (default 60)")
    p.add_argument("--physics", default="pdg-2024", choices=("pdg-2024", "thesis-2024"),
                   help="physics preset: constants and conventions (default pdg-2024; thesis-2024 = the "
                        "thesis code behind arXiv:2407.15942, docs/physics.md §14 item 29)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    return p


def run(args) -> int:
    from lfvscan.physics.couplings import DEFAULT_THETA
    from lfvscan.util.ranges import REL_ERR
    from lfvscan.xsec import compute_cell

    theta = DEFAULT_THETA if args.theta is None else args.theta
    if (problem := REL_ERR.problem(args.rel_err)) is not None:
        raise UsageError(problem)
    if args.seed < 0:
        raise UsageError(f"--seed {args.seed}: the seed must be an integer >= 0")
    try:
        r = compute_cell(args.target, args.energy, args.mass, rel_err=args.rel_err, theta=theta,
                         convention=args.convention, seed=args.seed, n_xbins=args.n_xbins,
                         physics=args.physics)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    code = 0 if r.converged else EXIT_UNCONVERGED
    warning = "" if r.converged else (
        f"NOT CONVERGED: relative error {r.sigma_err_pb / abs(r.sigma_pb) if r.sigma_pb else float('inf'):.2e} > "
        f"requested {args.rel_err:g} after {r.neval} evaluations (the evaluation budget); the error quoted is honest")
    if args.json:
        d = r.to_dict()
        d["requested_rel_err"] = args.rel_err
        if warning:
            d["warning"] = warning
        print(json.dumps(d))
        return code
    if r.closed:
        print(f"{r.target} E={r.energy_GeV:g} GeV m_a={r.mass_GeV:g} GeV: kinematically closed, sigma = 0")
        return 0
    print(f"{r.target} E={r.energy_GeV:g} GeV m_a={r.mass_GeV:g} GeV theta={r.theta:.6g} ({r.convention}), "
          f"physics {args.physics}, g = 1:")
    print(f"  sigma_total      = {r.sigma_pb:.6e} +- {r.sigma_err_pb:.2e} pb")
    print(f"  sigma_coherent   = {r.sigma_coherent_pb:.6e} +- {r.sigma_coherent_err_pb:.2e} pb")
    print(f"  sigma_incoherent = {r.sigma_incoherent_pb:.6e} +- {r.sigma_incoherent_err_pb:.2e} pb")
    print(f"  chi2/dof = {r.chi2_dof:.2f} (Q = {r.Q:.2f}), {r.neval} evaluations, {r.seconds:.3f} s")
    if warning:
        print(f"  {warning}")
    return code
