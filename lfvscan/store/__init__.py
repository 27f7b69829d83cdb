"""Store layer: where scan results live (zarr v3 + journal on disk) and how they are read back.

``load_scan(path) -> ScanData`` is what post-processing reads; ``open_for_scan`` is what the scan
engine writes through; ``summarize`` is ``lfvscan status``.
"""

from lfvscan.store.scandata import DONE, FAILED, PENDING, SKIPPED, STATUS_NAMES, ScanData
from lfvscan.store.zarr_store import ScanStore, load_scan, open_for_scan, summarize

__all__ = ["DONE", "FAILED", "PENDING", "SKIPPED", "STATUS_NAMES", "ScanData", "ScanStore", "load_scan",
           "open_for_scan", "summarize"]
