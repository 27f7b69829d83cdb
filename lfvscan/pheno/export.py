"""A scan store (and its limits) as one HDF5 file, for tools that read HDF5 and not zarr
(scripts, Mathematica, ROOT-side tools): ``lfvscan export STORE --to FILE.h5``.

Layout (every name as in the store, :mod:`lfvscan.schema`)::

    /                      attrs: format, provenance (config_toml, config_hash, created_utc,
                           lfvscan/vegas/numpy/zarr/h5py versions, store, status_codes, theta, convention)
    /target, /energy_GeV, /mass_GeV, /x_f_edges            coordinates
    /sigma_pb, /sigma_err_pb, ..., /dsigma_dlnx_f_pb, ...   every result array
    /status, /attempts, /error, ...                           bookkeeping
    /limits/<experiment>/<curve>/{mass_GeV,n_hat,n_hat_err,g_lim,g_lim_err}   when a limits CSV is given

Each dataset carries ``units`` ("1": dimensionless, "": text), ``description`` and ``dims`` (its
dimension names, e.g. ["target", "energy_GeV", "mass_GeV"]) as attributes; text arrays are
UTF-8 strings.  A store of the vector boson family is written with its parts' names
(``/sigma_vector_pb``, ``/sigma_axial_pb``, ``/sigma_va_cov_pb2``, ...; :func:`lfvscan.schema.family_name`,
docs/physics.md §7.14) and the root attribute ``process`` (JSON) says which process the file holds.  Values are copied bit for bit (NaN fill of cells not computed included).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path

import numpy as np

from lfvscan import __version__
from lfvscan.errors import UsageError
from lfvscan.pheno.limits import CSV_COLUMNS, NUMERIC_COLUMNS, read_limits_csv, read_limits_header
from lfvscan.schema import CELL_FIELDS, COORDINATES, LAB_COORDINATES, LAB_FIELDS, STATUS_NAMES, family_description, family_name

EXPORT_FORMAT = "lfvscan-export/1"
#: numeric limit columns written per curve, with their units (those of the limits CSV)
LIMIT_COLUMNS = tuple((c, u) for c, u in CSV_COLUMNS if c in NUMERIC_COLUMNS)


def _versions() -> dict[str, str]:
    import h5py
    import vegas
    import zarr

    return {"lfvscan_version": __version__, "vegas_version": vegas.__version__, "numpy_version": np.__version__,
            "zarr_version": zarr.__version__, "h5py_version": h5py.__version__}


def _write(h5, name: str, values: np.ndarray, field, boson: str) -> None:
    import h5py

    if field.dtype == "str":
        data = np.array([str(v) for v in np.asarray(values).ravel()], dtype=object).reshape(np.shape(values))
        ds = h5.create_dataset(name, data=data, dtype=h5py.string_dtype("utf-8"))
    else:
        ds = h5.create_dataset(name, data=np.asarray(values))
    ds.attrs["units"] = field.unit
    ds.attrs["description"] = family_description(field, boson)
    ds.attrs["dims"] = list(field.dims)


def read_limits_file(path: str | Path) -> tuple[dict, dict[tuple[str, str], dict]]:
    """(provenance, {(experiment, curve): columns}) of a limits CSV (:func:`read_limits_csv`,
    :func:`read_limits_header`); UsageError naming ``--limits`` if it cannot be read."""
    try:
        curves = read_limits_csv(path)
        prov = read_limits_header(path)
    except OSError as exc:
        raise UsageError(f"--limits: cannot read {str(path)!r}: {exc.strerror}") from None
    except UsageError as exc:
        raise UsageError(f"--limits: {exc}") from None
    return prov, {tuple(k.split("/", 1)): d for k, d in curves.items()}


def export_hdf5(store: str | Path, to: str | Path, *, limits_csv: str | Path | None = None) -> dict:
    """Write the store ``store`` (and the limits CSV ``limits_csv``) to the HDF5 file ``to``
    (replaced atomically).  Returns {"arrays": names written, "limits": curve keys}."""
    import h5py

    from lfvscan.store.load import open_backend, warn_damaged

    if not Path(store).is_dir():
        raise UsageError(f"store {str(store)!r} not found")
    limits = read_limits_file(limits_csv) if limits_csv is not None else None
    st = open_backend(store)
    warn_damaged(st)  # damaged rows are exported as not computed
    st_attrs = st.read_attrs()
    to = Path(to)
    to.parent.mkdir(parents=True, exist_ok=True)
    tmp = to.with_name(to.name + f".partial.{os.getpid()}")
    written: list[str] = []
    try:
        with h5py.File(tmp, "w") as h5:
            attrs = {
                "format": EXPORT_FORMAT,
                "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "store": str(store),
                "config_toml": str(st_attrs.get("config_toml", "")),
                "config_hash": str(st_attrs.get("config_hash", "")),
                "store_lfvscan_version": str(st_attrs.get("lfvscan_version", "")),
                "store_created_unix": str(st_attrs.get("created_unix", "")),
                "status_codes": json.dumps({str(k): v for k, v in STATUS_NAMES.items()}),
                "theta": float(st.config.theta),
                "convention": str(st.config.convention),
                "process": json.dumps(st.config.process.to_dict()),
                **_versions(),
            }
            h5.attrs.update(attrs)
            arrays = {**st.read_coordinates(), **st.read_cells()}
            for f in COORDINATES + LAB_COORDINATES + CELL_FIELDS + LAB_FIELDS:
                if f.name in arrays:
                    name = family_name(f.name, st.config.process.boson)
                    _write(h5, name, arrays[f.name], f, st.config.process.boson)
                    written.append(name)
            if limits is not None:
                prov, curves = limits
                g = h5.create_group("limits")
                g.attrs["source"] = str(limits_csv)
                g.attrs["meaning"] = "g_lim(m_a) = sqrt(N_req / N_hat), zero background (docs/physics.md §10.4)"
                for k, v in prov.items():
                    g.attrs[k] = v
                for (exp, curve), d in curves.items():
                    c = g.require_group(exp).create_group(curve)
                    c.attrs["scenario"] = d["scenario"][0]
                    for col, unit in LIMIT_COLUMNS:
                        ds = c.create_dataset(col, data=d[col])
                        ds.attrs["units"] = unit
                        ds.attrs["dims"] = ["mass_GeV"]
                    if "quality" in d:
                        ds = c.create_dataset("quality", data=np.array(d["quality"], dtype=object),
                                              dtype=h5py.string_dtype())
                        ds.attrs["dims"] = ["mass_GeV"]
                        ds.attrs["description"] = ("quality flag of the point: ok, or failed, missing, unconverged, low_Q, "
                                                        "x_interp, flux_interp joined by '+'")
        os.replace(tmp, to)
    finally:
        tmp.unlink(missing_ok=True)
    return {"arrays": written, "limits": [f"{e}/{c}" for e, c in (limits[1] if limits else {})]}
