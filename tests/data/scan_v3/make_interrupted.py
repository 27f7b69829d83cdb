"""Make an lfvscan-scan/3 store interrupted mid-scan (run with lfvscan at 724102b):
cells 0..2 folded into the arrays, cells 3..4 only in the journal as binary frames, cell 5 only
in a JSON-line journal log (the reader's other format, written by tests/_legacy_journal.py), the
rest pending.  Usage: PYTHONPATH=OLD:OLD/tests python make_interrupted.py CONFIG STORE"""
import os, sys
import numpy as np
from lfvscan.spec.config import load_config
from lfvscan.store.zarr_store import ScanStore
from lfvscan.scan.plan import plan_tasks
from lfvscan.scan.cells import compute_task, default_cell_fn

cfg_path, store_path = sys.argv[1:3]
config = load_config(cfg_path)
text = open(cfg_path).read()
store = ScanStore.create(store_path, config, text)
store.sync_interval_s = 1e9
status, attempts = store.cell_state()
tasks = sorted(plan_tasks(config, status, attempts, config.max_attempts), key=lambda t: t.index)
fn = default_cell_fn()
recs = [compute_task(fn, config, t, 0) for t in tasks[:6]]
store.write_cells(recs[:3])
store.sync()
store.write_cells(recs[3:5])
from _legacy_journal import encode_record
(store.journal.dir / "99999999999999999999-0.log").write_bytes(encode_record(recs[5]))
print("journal:", sorted(p.name for p in store.journal.dir.iterdir()))
os._exit(0)  # the kill: no close, no fold
