"""Store layer: where scan results live (zarr v3 + journal on disk) and how they are read back.

``load_scan(path) -> ScanData`` is what post-processing reads; ``open_for_scan`` is what the scan
engine writes through; ``summarize`` is ``lfvscan status``.  Modules:

* :mod:`~lfvscan.store.layout`: the zarr group and arrays, created from :mod:`lfvscan.schema`;
* :mod:`~lfvscan.store.zarr_store`: :class:`ScanStore` (write protocol: journal, fold) and
  :func:`open_for_scan`;
* :mod:`~lfvscan.store.journal`: the append-only checksummed journal of finished cells;
* :mod:`~lfvscan.store.chunks`: raw row-chunk files, written atomically;
* :mod:`~lfvscan.store.lock`: the writer's ``flock``;
* :mod:`~lfvscan.store.load` and :mod:`~lfvscan.store.scandata`: :func:`load_scan`,
  :class:`ScanData`;
* :mod:`~lfvscan.store.status`: :func:`summarize`.
"""

from lfvscan.store.load import load_scan
from lfvscan.store.scandata import DONE, FAILED, PENDING, SKIPPED, STATUS_NAMES, ScanData
from lfvscan.store.status import summarize
from lfvscan.store.zarr_store import ScanStore, open_for_scan

__all__ = ["DONE", "FAILED", "PENDING", "SKIPPED", "STATUS_NAMES", "ScanData", "ScanStore", "load_scan",
           "open_for_scan", "summarize"]
