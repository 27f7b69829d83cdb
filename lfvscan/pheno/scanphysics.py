"""The physics a scan was computed with, for its post-processing (docs/physics.md §14 item 29).

Yields, theta recombination and figures use the lepton pair of the scan's own process and preset:
the store's config names the preset (key ``physics``) and the process (key ``process``,
:class:`lfvscan.physics.process.Process`); a key that is absent (a config of the default physics,
or a :class:`~lfvscan.store.scandata.ScanData` built without a config, in memory) means the default
(``pdg-2024``; mu -> tau with a spin-0 boson).
"""

from __future__ import annotations

from lfvscan.physics.leptons import LeptonPair
from lfvscan.physics.presets import PhysicsPreset, get_preset
from lfvscan.physics.process import Process, process_from_dict
from lfvscan.store.scandata import ScanData


def _config(scan: ScanData) -> dict:
    return scan.attrs.get("config") or {}


def scan_preset(scan: ScanData) -> PhysicsPreset:
    """The scan's physics preset: its config's ``physics`` key (the default preset when the scan
    has no config or the config does not name one)."""
    return get_preset(_config(scan).get("physics"))


def scan_process(scan: ScanData) -> Process:
    """The scan's process: its config's ``process`` table (the default process when absent)."""
    return process_from_dict(_config(scan).get("process"))


def scan_lepton_pair(scan: ScanData) -> LeptonPair:
    """The lepton pair of the scan's process with its preset's masses."""
    return scan_preset(scan).lepton_pair(scan_process(scan))


def scan_nucleus_beams(scan: ScanData) -> dict[str, float]:
    """{target: energy per nucleon [GeV]} of the scan's targets that are nucleus beams (colliders,
    docs/physics.md §7.15); empty for a fixed-target scan."""
    return dict(_config(scan).get("nucleus_energy_per_nucleon_GeV") or {})
