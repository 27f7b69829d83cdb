"""Which cells a yield needs and whether the scan has them (docs/physics.md §10.1).

An experiment needs its target (and, for a monochromatic beam, its beam energy) in the scan
(:func:`coverage_problem`).  A yield point whose cells are not all DONE is NaN, never built from
missing cells taken as zero: :func:`missing_cells` lists them and :func:`warn_missing` turns them
into one :class:`IncompleteScanWarning` per curve.
"""

from __future__ import annotations

import warnings

from lfvscan.errors import UsageError
from lfvscan.pheno.experiments import Experiment
from lfvscan.schema import DONE, STATUS_NAMES
from lfvscan.store.scandata import ScanData


class IncompleteScanWarning(UserWarning):
    """Cells needed for a yield are not DONE; the affected masses are NaN."""


class FluxRangeWarning(UserWarning):
    """Part of the muon flux lies outside the scanned energies and is not used."""


def process_problem(scan: ScanData, exp: Experiment) -> str:
    """"" if the scan computed the process ``exp`` observes, else one line saying both."""
    from lfvscan.pheno.scanphysics import scan_process

    proc = scan_process(scan)
    if (proc.beam, proc.final) == tuple(exp.process):
        return ""
    return f"experiment {exp.name!r} observes {exp.process_label}, the scan computed {proc.beam} -> {proc.final}"


def collider_problem(scan: ScanData, exp: Experiment) -> str:
    """"" if ``exp`` and its target in ``scan`` agree on being a collider (docs/physics.md §7.15, §10.8),
    else one line: a fixed-target experiment on a nucleus beam (its yields would read the nucleus-frame
    x grid as the lab's), or a collider experiment on a fixed target, on a nucleus beam of another
    energy per nucleon, or on a store without lab-frame histograms."""
    from lfvscan.pheno.scanphysics import scan_nucleus_beams

    beams = scan_nucleus_beams(scan)
    name, tgt = exp.name, exp.target.name
    if exp.collider is None:
        if tgt not in beams:
            return ""
        return (f"experiment {name!r}: target {tgt!r} is a nucleus beam in this scan ({beams[tgt]:g} GeV per "
                "nucleon); a fixed-target experiment needs it at rest")
    want = exp.collider.nucleus_energy_per_nucleon_GeV
    if tgt not in beams:
        if tgt not in scan.targets:
            return ""
        return (f"experiment {name!r} is a collider ({tgt} beam at {want:g} GeV per nucleon); the scan's {tgt!r} "
                "is a fixed target without lab-frame distributions")
    if abs(beams[tgt] - want) > 1e-9 * want:
        return (f"experiment {name!r} needs the {tgt} beam at {want:g} GeV per nucleon, the scan's is at "
                f"{beams[tgt]:g} GeV per nucleon")
    if "lab_boson_pb" not in scan:
        return f"experiment {name!r}: the store has no lab-frame distributions (docs/physics.md §7.16)"
    return ""


def coverage_problem(scan: ScanData, exp: Experiment) -> str:
    """Why ``scan`` cannot give yields for ``exp`` ("" if it can): another process, a collider
    target (:func:`collider_problem`), target or beam energy missing."""
    wrong = process_problem(scan, exp) or collider_problem(scan, exp)
    if wrong:
        return wrong
    try:
        scan.target_index(exp.target.name)
        if exp.beam in ("mono", "collider"):
            scan.energy_index(exp.beam_energy_GeV)
    except ValueError as exc:
        return str(exc)
    return ""


def covered_experiments(scan: ScanData, experiments: dict[str, Experiment]):
    """(experiments the scan covers, {name: reason} of those it does not)."""
    usable, skipped = {}, {}
    for name, exp in experiments.items():
        reason = coverage_problem(scan, exp)
        if reason:
            skipped[name] = reason
        else:
            usable[name] = exp
    return usable, skipped


def target_index(scan: ScanData, exp: Experiment) -> int:
    """Index of ``exp``'s target in ``scan`` (UsageError naming the scan's targets if absent, the
    two processes if the scan computed another one, or the collider target)."""
    wrong = process_problem(scan, exp) or collider_problem(scan, exp)
    if wrong:
        raise UsageError(wrong)
    try:
        return scan.target_index(exp.target.name)
    except ValueError:
        raise UsageError(
            f"experiment {exp.name!r} needs target {exp.target.name!r}, scan has {', '.join(scan.targets)}"
        ) from None


def missing_cells(scan: ScanData, t: int, js) -> list[tuple[str, float, float, str]]:
    """(target, energy_GeV, mass_GeV, status name) of every cell not DONE at target ``t`` and energies ``js``."""
    out = []
    for j in js:
        for k, m in enumerate(scan.masses_GeV):
            st = int(scan.status[t, j, k])
            if st != DONE:
                out.append((scan.targets[t], float(scan.energies_GeV[j]), float(m), STATUS_NAMES.get(st, str(st))))
    return out


def warn_missing(key: str, missing, masses_nan) -> None:
    """One :class:`IncompleteScanWarning` for curve ``key``: the ``missing`` cells (first 20) and the
    masses ``masses_nan`` [GeV] whose yield is NaN because of them."""
    if not missing:
        return
    shown = "; ".join(f"{t} E={e:g} GeV m_a={m:g} GeV ({s})" for t, e, m, s in missing[:20])
    more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
    warnings.warn(
        IncompleteScanWarning(
            f"{key}: {len(missing)} needed cell(s) not done: {shown}{more}; "
            f"N_hat set to NaN at m_a = {', '.join(f'{m:g}' for m in masses_nan)} GeV"
        ),
        stacklevel=3,
    )

