"""Reading a user's text file (TOML, CSV) as UTF-8, with one-line errors naming the file.

:func:`read_text` is what every command uses for the text files a user hands it (experiments
config, flux and limit CSVs, indirect-detection curves): a missing or unreadable file, or bytes
that are not UTF-8, raise :class:`lfvscan.errors.UsageError` naming the file (and the first bad
byte and its offset), never a traceback.  A UTF-8 byte-order mark at the start (as spreadsheet
programs write) is accepted and dropped.
"""

from __future__ import annotations

from pathlib import Path

from lfvscan.errors import UsageError


def read_text(path: str | Path, what: str) -> str:
    """The text of the file ``path`` (UTF-8, an initial byte-order mark dropped); ``what`` names
    the file's role in messages, e.g. ``"experiments config"`` or ``"--limits"``."""
    return read_text_and_bytes(path, what)[0]


def read_text_and_bytes(path: str | Path, what: str) -> tuple[str, bytes]:
    """:func:`read_text`'s text and the file's bytes (for a provenance hash of exactly what was read)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{what} {str(p)!r} not found") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {str(p)!r} is a directory, not a file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {str(p)!r}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig"), raw
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {str(p)!r} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                         f"{exc.start}); save it as UTF-8") from None
