"""Argument checks shared by the physics functions: clear errors that name the bad value."""

from __future__ import annotations

import numpy as np


def as_float_array(name: str, value) -> np.ndarray:
    """``value`` as a float array; ``ValueError`` naming ``name`` if it is not numeric."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None


def positive(name: str, value, unit: str = "") -> np.ndarray:
    """``value`` as a float array; ``ValueError`` naming the first bad entry unless all are finite and > 0."""
    arr = as_float_array(name, value)
    bad = ~(np.isfinite(arr) & (arr > 0))
    if np.any(bad):
        raise ValueError(f"{name} must be finite and > 0{(' ' + unit) if unit else ''}, got {arr[bad].ravel()[0].item()!r}")
    return arr


def nonnegative(name: str, value, unit: str = "") -> np.ndarray:
    """``value`` as a float array; ``ValueError`` naming the first bad entry unless all are finite and >= 0."""
    arr = as_float_array(name, value)
    bad = ~(np.isfinite(arr) & (arr >= 0))
    if np.any(bad):
        raise ValueError(f"{name} must be finite and >= 0{(' ' + unit) if unit else ''}, got {arr[bad].ravel()[0].item()!r}")
    return arr


def one_of(where: str, key: str, value, options, error=ValueError):
    """``value`` if it is one of ``options``, else ``error`` (an exception class) naming ``where``, the
    ``key``, the allowed values and the bad one."""
    if value not in options:
        raise error(f"{where}: {key} must be one of {tuple(options)}, got {value!r}")
    return value
