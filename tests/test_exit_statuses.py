"""The exit statuses are one table (lfvscan.errors.EXIT_STATUSES): the README's list, every
``--help`` epilog, the scan engine's constants and the job scripts' case statement agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lfvscan import errors
from lfvscan.cli.main import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[1]


def _readme_statuses() -> list[tuple[str, str]]:
    """(code, text) of each bullet of the README's "Exit statuses" section, continuation lines joined."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Exit statuses", 1)[1].split("\n## ", 1)[0]
    bullets = re.findall(r"^\* `([^`]+)`: (.*?)(?=^\* |^\s*$)", section, flags=re.M | re.S)
    return [(code, " ".join(body.split())) for code, body in bullets]


def test_readme_lists_the_table_in_order_with_its_meanings():
    readme = _readme_statuses()
    assert [code for code, _ in readme] == [s.code for s in errors.EXIT_STATUSES]
    for (code, body), status in zip(readme, errors.EXIT_STATUSES):
        assert body.startswith(status.meaning + "."), (code, body)


def _help(argv: list[str]) -> str:
    parser = build_parser()
    if not argv:
        return parser.format_help()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sub.choices[argv[0]].format_help()


def test_main_help_lists_every_status():
    text = _help([])
    for s in errors.EXIT_STATUSES:
        assert re.search(rf"^  {re.escape(s.code)}\s+{re.escape(s.meaning)}$", text, flags=re.M), s.code


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_lists_its_statuses(command):
    text = " ".join(_help([command]).split())
    wanted = errors.exit_statuses(command)
    expected = "exit status: " + "; ".join(f"{s.code} {s.meaning}" for s in wanted)
    assert expected in text
    assert text.count("exit status:") == 1


def test_scan_statuses_and_commands():
    assert [s.code for s in errors.exit_statuses("scan")] == ["0", "1", "2", "3", "74", "75", "128+signal"]
    assert [s.code for s in errors.exit_statuses("xsec")] == ["0", "2", "3", "74", "128+signal"]
    every = {c for s in errors.EXIT_STATUSES if s.commands for c in s.commands}
    assert every <= set(COMMANDS)


def test_engine_uses_the_table_constants():
    from lfvscan.scan import engine

    assert (engine.EXIT_OK, engine.EXIT_FAILED_CELLS, engine.EXIT_RANK_LOST) == (
        errors.EXIT_OK, errors.EXIT_FAILED_CELLS, errors.EXIT_RANK_LOST)
    codes = {s.code for s in errors.EXIT_STATUSES}
    for name in ("EXIT_OK", "EXIT_FAILED_CELLS", "EXIT_USAGE", "EXIT_UNCONVERGED", "EXIT_IO", "EXIT_RANK_LOST"):
        assert str(getattr(errors, name)) in codes


def test_no_other_module_defines_an_exit_status():
    pattern = re.compile(r"^\s*EXIT_[A-Z_]+\s*(,\s*EXIT_[A-Z_]+\s*)*=", re.M)
    defining = [p.relative_to(ROOT).as_posix() for p in (ROOT / "lfvscan").rglob("*.py")
                if pattern.search(p.read_text())]
    assert defining == ["lfvscan/errors.py"]


def test_job_script_handles_only_statuses_of_the_table():
    script = (ROOT / "jobs" / "_resubmit.sh").read_text()
    case = script.split('case "$rc" in', 1)[1].split("esac", 1)[0]
    handled = re.findall(r"^\s*(\d+)\)", case, flags=re.M)
    assert handled and set(handled) <= {s.code for s in errors.EXIT_STATUSES}
