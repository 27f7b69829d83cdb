"""Progress of ``lfvscan run`` as a whole: which stage (scan, limits, figures), how far, ETA.

On a terminal: readable lines (``[2/3] limits: stale (store content changed) -> computing``) and,
during the figures stage, one line updated in place (``figures 3/7 | ETA 4s``).  Otherwise (batch
logs): one ``key=value`` line per event, timestamped, easy to grep or parse::

    2026-12-02T01:00:00Z lfvscan-run stage=limits step=2/3 event=start reason="store content changed"
    2026-12-02T01:00:01Z lfvscan-run stage=limits step=2/3 event=done state=built seconds=0.8 files=results/limits.csv

The scan stage prints its own progress (cells done, rate, ETA: :mod:`lfvscan.scan.progress`) in
between.  Stream, terminal detection and clock are injectable for tests.
"""

from __future__ import annotations

import shlex
import sys
import time
from datetime import datetime, timezone
from typing import Callable, TextIO

from lfvscan.scan.progress import format_duration

STAGES = ("scan", "limits", "figures")


def _kv(value) -> str:
    """A value for a key=value line: quoted when it holds spaces or quotes."""
    text = str(value)
    return shlex.quote(text) if (not text or any(c in text for c in " \t\"'=")) else text


class RunProgress:
    """Events of one ``lfvscan run`` on ``stream`` (default stderr)."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None, enabled: bool = True,
                 clock: Callable[[], float] = time.monotonic):
        self.stream = sys.stderr if stream is None else stream
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) if tty is None else tty
        self.enabled = enabled
        self.clock = clock
        self._t_stage: dict[str, float] = {}
        self._inline = False

    def _step(self, stage: str) -> str:
        return f"{STAGES.index(stage) + 1}/{len(STAGES)}"

    def _event(self, stage: str, event: str, human: str, **fields) -> None:
        if not self.enabled:
            return
        if self.tty:
            self._end_inline()
            self.stream.write(f"lfvscan run [{self._step(stage)}] {stage}: {human}\n")
        else:
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            kv = " ".join(f"{k}={_kv(v)}" for k, v in fields.items() if v is not None and v != "")
            self.stream.write(f"{stamp} lfvscan-run stage={stage} step={self._step(stage)} event={event} {kv}".rstrip()
                              + "\n")
        self.stream.flush()

    def _end_inline(self) -> None:
        if self._inline:
            self.stream.write("\n")
            self._inline = False

    def start(self, stage: str, reason: str = "") -> None:
        """Stage begins (``reason``: why it runs, e.g. what made it stale)."""
        self._t_stage[stage] = self.clock()
        self._event(stage, "start", f"{reason} -> running" if reason else "running", reason=reason)

    def item(self, stage: str, k: int, n: int, name: str = "") -> None:
        """``k`` of ``n`` items of a stage done (the last one: ``name``), with the ETA from the mean so far."""
        if not self.enabled:
            return
        now = self.clock()
        elapsed = now - self._t_stage.get(stage, now)
        eta = elapsed / k * (n - k) if k > 0 else None
        if self.tty:
            self.stream.write(f"\r\x1b[2Klfvscan run [{self._step(stage)}] {stage}: {k}/{n} ({name}) | "
                              f"ETA {format_duration(eta)}")
            self.stream.flush()
            self._inline = True
        else:
            self._event(stage, "progress", "", done=k, total=n, item=name,
                        eta_s=None if eta is None else f"{eta:.0f}")

    def done(self, stage: str, state: str, detail: str = "", files: str = "") -> float:
        """Stage ends in ``state`` ("built", "up to date", "skipped", "failed"); returns its seconds."""
        now = self.clock()
        seconds = now - self._t_stage.get(stage, now)
        human = (state + (f" in {seconds:.1f} s" if state == "built" else "") + (f" ({detail})" if detail else "")
                 + (f" -> {files}" if files else ""))
        self._event(stage, "done", human, state=state.replace(" ", "-"), seconds=f"{seconds:.1f}",
                    detail=detail, files=files)
        return seconds

    def message(self, text: str) -> None:
        """A plain line (warnings, the final summary)."""
        if not self.enabled:
            return
        self._end_inline()
        self.stream.write(text + "\n")
        self.stream.flush()
