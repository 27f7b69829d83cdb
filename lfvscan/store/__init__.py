"""Store layer: where scan results live and how they are read back.

``load_scan(store) -> ScanData`` is what post-processing reads; ``open_for_scan`` is what the scan
engine writes through; ``store_status`` is what ``lfvscan status`` prints.  Every store is a
:class:`~lfvscan.store.backend.ScanBackend` (a plain record API: results, attempt records, run
information, and their read side); crash attribution is the engine's
(:mod:`lfvscan.scan.attribution`).  Modules:

* :mod:`~lfvscan.store.backend`: the protocol; :mod:`~lfvscan.store.memory`: the in-memory backend;
* :mod:`~lfvscan.store.zarr_store`: :class:`ScanStore`, the zarr v3 backend, made of
  :mod:`~lfvscan.store.layout` (the zarr group and arrays, from :mod:`lfvscan.schema`),
  :mod:`~lfvscan.store.journal` (append-only log of finished cells; its codecs
  :mod:`~lfvscan.store.frames` and :mod:`~lfvscan.store.legacy_journal`),
  :mod:`~lfvscan.store.fold` (journal into row chunks), :mod:`~lfvscan.store.row_arrays`
  (reading rows, damage), :mod:`~lfvscan.store.chunks` (raw row-chunk files, written
  atomically), :mod:`~lfvscan.store.attempt_log` (attempt records, suspects),
  :mod:`~lfvscan.store.run_info`, :mod:`~lfvscan.store.lock` (the writer's ``flock``);
  :mod:`~lfvscan.store.opening`: :func:`open_for_scan`;
* :mod:`~lfvscan.store.records`: :class:`CellRecord`, :class:`RecordBatch`;
  :mod:`~lfvscan.store.cell_arrays`: records put into per-cell arrays;
* :mod:`~lfvscan.store.load` and :mod:`~lfvscan.store.scandata`: :func:`load_scan`,
  :class:`ScanData`;
* :mod:`~lfvscan.store.status`: :func:`store_status`.
"""

from lfvscan.store.load import load_scan
from lfvscan.store.opening import open_for_scan
from lfvscan.store.scandata import ScanData
from lfvscan.store.status import store_status
from lfvscan.store.zarr_store import ScanStore

__all__ = ["ScanData", "ScanStore", "load_scan", "open_for_scan", "store_status"]
