"""docs/physics.md stays in step with the code.

1. Every section reference ``physics.md §N`` / ``physics.md §N.M`` (or ``docs/physics.md §...``),
   including lists and ranges following it (``physics.md §7.1/§13.7``, ``§7.4, §7.9``,
   ``§13.5-13.8``), in the .py files of lfvscan/, tests/, analysis/, benchmarks/ (and the TOML
   configs) resolves to a numbered heading of docs/physics.md.
2. Bare ``§N.M`` references in those files (they all mean physics.md sections) resolve too,
   unless they directly follow another ``*.md`` file name.
3. ``§14 item K`` references name a row of the §14 table.
4. Every ``lfvscan.x.y.name`` written in backticks in docs/physics.md exists (module import, then
   getattr), so the write-up cannot drift from the code silently.
5. The section numbering of the original physics specification is kept (docstrings cite it).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "physics.md"
SCAN_DIRS = ("lfvscan", "tests", "analysis", "benchmarks")
TOML_DIRS = ("lfvscan/data", "configs")

_NUM = r"\d+(?:\.\d+)*"
#: "physics.md" (optionally "docs/physics.md") followed by a run of section numbers; in the run,
#: "," "/" ";" "and" separate "§N.M" items, "-" / "–" may also be followed by a bare number (range)
_RUN = re.compile(
    rf"(?:docs/)?physics\.md\s*(§\s?{_NUM}"
    rf"(?:\s*(?:,|/|;|\band\b|&)\s*§\s?{_NUM}|\s*[-–]\s*§?\s?{_NUM})*)"
)
_BARE = re.compile(rf"§\s?({_NUM})")
_OTHER_MD = re.compile(r"(?<!physics)\.md[\s`'\"]*$")
_ITEM = re.compile(r"§\s?14\s+items?\s+(\d+(?:\s*(?:-|–|,|and)\s*\d+)*)")
_HEADING = re.compile(rf"^#{{1,6}}\s+({_NUM})\.?\s", re.M)

#: section numbers of the physics specification the docstrings were written against (§0-§14)
SPEC_SECTIONS = (
    ["0", "1"] + [f"2.{i}" for i in range(1, 7)] + [f"3.{i}" for i in range(1, 6)]
    + [f"4.{i}" for i in range(1, 6)] + [f"5.{i}" for i in range(1, 5)] + ["6"]
    + [f"7.{i}" for i in range(1, 11)] + [f"8.{i}" for i in range(1, 6)]
    + [f"9.{i}" for i in range(1, 5)] + [f"10.{i}" for i in range(1, 6)] + ["11", "12"]
    + [f"13.{i}" for i in range(1, 9)] + ["14"]
    + [str(i) for i in range(2, 11)] + ["13"]
)


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def doc_sections(text: str | None = None) -> set[str]:
    return set(_HEADING.findall(doc_text() if text is None else text))


def doc_items(text: str | None = None) -> set[int]:
    """Row numbers of the §14 table ("| N | ..." lines after the §14 heading)."""
    text = doc_text() if text is None else text
    m = re.search(r"^##\s+14\.", text, re.M)
    assert m, "docs/physics.md has no §14 heading"
    return {int(n) for n in re.findall(r"^\|\s*(\d+)\s*\|", text[m.end():], re.M)}


def source_files():
    """The .py files of SCAN_DIRS and the .toml files of TOML_DIRS (skipping .venv and caches)."""
    for dirs, pat in ((SCAN_DIRS, "*.py"), (TOML_DIRS, "*.toml")):
        for d in dirs:
            for path in sorted((ROOT / d).rglob(pat)):
                if not any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(ROOT).parts):
                    yield path


def _norm(num: str) -> str:
    return num.rstrip(".")


def _lineno(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def physics_md_refs(text: str):
    """(position, section) for every section cited after a physics.md mention."""
    for m in _RUN.finditer(text):
        for n in re.finditer(_NUM, m.group(1)):
            yield m.start(1) + n.start(), _norm(n.group(0))


def bare_refs(text: str):
    """(position, section) for every "§N.M", except those right after another "*.md" name."""
    for m in _BARE.finditer(text):
        before = text[max(0, m.start() - 60):m.start()]
        if _OTHER_MD.search(before):
            continue
        yield m.start(), _norm(m.group(1))


def item_refs(text: str):
    for m in _ITEM.finditer(text):
        nums = [int(x) for x in re.findall(r"\d+", m.group(1))]
        if re.search(r"[-–]", m.group(1)) and len(nums) == 2:
            nums = list(range(nums[0], nums[1] + 1))
        for k in nums:
            yield m.start(), k


def _collect(finder, files):
    refs, bad = 0, []
    sections = doc_sections()
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for pos, sec in finder(text):
            refs += 1
            if sec not in sections:
                bad.append(f"{path.relative_to(ROOT)}:{_lineno(text, pos)}: §{sec}")
    return refs, bad


def test_doc_exists_and_has_numbered_headings():
    assert DOC.is_file()
    assert len(doc_sections()) > 60


def test_spec_section_numbering_is_kept():
    missing = [s for s in SPEC_SECTIONS if s not in doc_sections()]
    assert not missing, "docs/physics.md lost section heading(s): " + ", ".join(f"§{s}" for s in missing)


def test_physics_md_references_resolve():
    n, bad = _collect(physics_md_refs, source_files())
    print(f"{n} physics.md section references checked")
    assert n > 100, f"only {n} physics.md references found: is the regex broken?"
    assert not bad, "unresolved physics.md references (no such heading in docs/physics.md):\n" + "\n".join(bad)


def test_bare_section_references_resolve():
    n, bad = _collect(bare_refs, source_files())
    print(f"{n} bare § references checked")
    assert not bad, "unresolved § references (no such heading in docs/physics.md):\n" + "\n".join(bad)


def test_section_14_item_references_resolve():
    items = doc_items()
    assert set(range(1, 18)) <= items, "§14 must keep items 1-17 of the specification"
    bad = []
    for path in source_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for pos, k in item_refs(text):
            if k not in items:
                bad.append(f"{path.relative_to(ROOT)}:{_lineno(text, pos)}: §14 item {k}")
    assert not bad, "unresolved §14 item references:\n" + "\n".join(bad)


# ----------------------------------------------------------------------------- module paths

_SPAN = re.compile(r"`([^`\n]+)`")
_PATH = re.compile(r"(?<![\w/.])lfvscan(?:\.[A-Za-z_]\w*)+")


def doc_code_paths(text: str | None = None) -> list[str]:
    text = doc_text() if text is None else text
    out = []
    for span in _SPAN.findall(text):
        out += _PATH.findall(span)
    return sorted(set(out))


def resolve(path: str):
    """Import the longest importable module prefix of ``path`` and getattr the rest."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        try:
            obj = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise  # the module exists but one of its own imports is missing
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(path)


def test_doc_names_code_paths():
    assert len(doc_code_paths()) > 80


@pytest.mark.parametrize("path", doc_code_paths())
def test_documented_code_path_exists(path):
    try:
        resolve(path)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"docs/physics.md names `{path}`, which does not exist ({exc.__class__.__name__}: {exc})")


# ----------------------------------------------------------------------------- the checkers


def test_reference_regex_examples():
    text = ("x (physics.md §7.1/§13.7) y docs/physics.md §3-§5; physics.md §13.5-13.8 and "
            "physics.md §14 item 1-2, physics.md §7.4, §7.9, §7.10. physics.md §13.")
    assert [s for _, s in physics_md_refs(text)] == ["7.1", "13.7", "3", "5", "13.5", "13.8", "14",
                                                       "7.4", "7.9", "7.10", "13"]
    assert [k for _, k in item_refs(text)] == [1, 2]
    assert [s for _, s in bare_refs("see architecture.md §3, and §7.2")] == ["7.2"]


def test_a_bad_reference_would_fail():
    sections = doc_sections()
    assert "7.99" not in sections and "7.1" in sections
    bad_text = "physics.md §7.1, §" + "7.99"  # split so that this file itself stays clean
    refs = [s for _, s in physics_md_refs(bad_text)]
    assert [s for s in refs if s not in sections] == ["7.99"]
    with pytest.raises(AttributeError):
        resolve("lfvscan.physics.formfactors.no_such_function")
