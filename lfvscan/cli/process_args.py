"""The process options of the commands that compute for one process (``lfvscan xsec``, ``lfvscan model``):
``--beam``, ``--final``, ``--boson`` (:class:`lfvscan.physics.process.Process`)."""

from __future__ import annotations

from lfvscan.errors import UsageError
from lfvscan.physics.process import BEAM_LEPTONS, DEFAULT_PROCESS, FINAL_LEPTONS, Process


def add_process_arguments(p, bosons) -> None:
    """``--beam``, ``--final``, ``--boson`` (choices ``bosons``) of a :class:`Process`; defaults: the
    default process's (mu -> tau, scalar)."""
    p.add_argument("--beam", choices=BEAM_LEPTONS, default=DEFAULT_PROCESS.beam,
                   help=f"beam lepton (default {DEFAULT_PROCESS.beam})")
    p.add_argument("--final", choices=FINAL_LEPTONS, default=DEFAULT_PROCESS.final,
                   help=f"final lepton (default {DEFAULT_PROCESS.final})")
    p.add_argument("--boson", choices=bosons, default=DEFAULT_PROCESS.boson,
                   help=f"boson family (default {DEFAULT_PROCESS.boson})")


def process_of(args) -> Process:
    """The :class:`Process` of ``--beam``, ``--final``, ``--boson`` (UsageError naming a bad value)."""
    try:
        return Process(beam=args.beam, final=args.final, boson=args.boson)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
