"""The physics preset a scan was computed with, for its post-processing (docs/physics.md §14 item 29).

Yields, theta recombination and figures use the lepton masses of the scan's own preset
(:meth:`lfvscan.physics.presets.PhysicsPreset.lepton_pair`): the store's config names it (key
``physics``); a :class:`~lfvscan.store.scandata.ScanData` built without a config (in memory) has
the default preset.
"""

from __future__ import annotations

from lfvscan.physics.leptons import LeptonPair
from lfvscan.physics.presets import PhysicsPreset, get_preset
from lfvscan.store.scandata import ScanData


def scan_preset(scan: ScanData) -> PhysicsPreset:
    """The scan's physics preset: its config's ``physics`` key (the default preset when the scan
    has no config or the config does not name one)."""
    config = scan.attrs.get("config") or {}
    return get_preset(config.get("physics"))


def scan_lepton_pair(scan: ScanData) -> LeptonPair:
    """The lepton pair (beam muon, final tau) of the scan's physics preset."""
    return scan_preset(scan).lepton_pair()
