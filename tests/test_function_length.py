"""No function of the package is longer than MAX_LINES lines unless its docstring says why.

A long function usually holds several jobs; one that must stay long (a state machine read top
to bottom, say) carries the sentence "Long because ..." in its docstring.
"""

import ast
from pathlib import Path

import lfvscan

MAX_LINES = 80
PACKAGE = Path(lfvscan.__file__).parent


def long_functions(source: str, max_lines: int = MAX_LINES):
    """(line, name, length) of every function in ``source`` longer than ``max_lines`` whose
    docstring does not say "Long because"."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > max_lines and "Long because" not in (ast.get_docstring(node) or ""):
                yield node.lineno, node.name, length


def test_no_function_over_the_limit_without_a_reason():
    found = [f"{p.relative_to(PACKAGE)}:{line} {name} ({n} lines)"
             for p in sorted(PACKAGE.rglob("*.py"))
             for line, name, n in long_functions(p.read_text(encoding="utf-8"))]
    assert not found, "functions over 80 lines without 'Long because' in the docstring: " + "; ".join(found)


def test_the_check_sees_a_long_function_and_accepts_a_reason():
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_LINES))
    plain = "def f():\n" + body
    reasoned = 'def g():\n    """Long because it is a table."""\n' + body
    assert [name for _, name, _ in long_functions(plain)] == ["f"]
    assert list(long_functions(reasoned)) == []
