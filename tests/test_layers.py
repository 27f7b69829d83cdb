"""The package's layers import only downwards (docs/architecture.md).

Every ``import`` statement of every module of ``lfvscan`` (top level and inside functions) is read
from its syntax tree, so a lazy import inside a function cannot hide an upward dependency.
"""

import ast
from pathlib import Path

import pytest

import lfvscan

PACKAGE = Path(lfvscan.__file__).parent

_LEAVES = {"errors", "schema", "util"}
#: layer -> the layers it may import (besides itself and the leaf modules)
ALLOWED = {
    "errors": set(),
    "schema": set(),
    "util": {"errors"},
    "physics": set(),
    "xsec": {"physics"},
    "spec": {"physics"},
    "store": {"spec", "xsec", "physics"},
    "scan": {"store", "spec", "xsec", "physics"},
    "pheno": {"store", "spec", "xsec", "physics"},
    "plots": {"pheno", "store", "spec", "xsec", "physics"},
    "workflow": {"scan", "plots", "pheno", "store", "spec", "xsec", "physics"},
    "cli": {"workflow", "scan", "plots", "pheno", "store", "spec", "xsec", "physics"},
}


def _layer(module_path: Path) -> str:
    rel = module_path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imported_layers(source: str):
    """(line, layer) of every lfvscan layer that the module source imports."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "lfvscan":
                # `from lfvscan import X`: X is a layer (or the version string)
                names = [f"lfvscan.{a.name}" for a in node.names]
            else:
                names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "lfvscan" and len(parts) > 1:
                yield node.lineno, parts[1]


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py" and p.parent != PACKAGE
                  or p.parent == PACKAGE and p.stem in _LEAVES)


def test_every_package_is_a_known_layer():
    layers = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    layers |= {p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")}
    assert layers <= set(ALLOWED), f"layers missing from ALLOWED: {sorted(layers - set(ALLOWED))}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_upward_import(path):
    layer = _layer(path)
    allowed = ALLOWED[layer] | _LEAVES | {layer, "__version__"}
    bad = [f"line {line}: imports lfvscan.{target}" for line, target in _imported_layers(path.read_text(encoding="utf-8"))
           if target not in allowed]
    assert not bad, f"{path.relative_to(PACKAGE)} (layer {layer}) " + "; ".join(bad)


def test_the_walker_sees_an_upward_import():
    """The check itself can fail: a function-level upward import and a `from lfvscan import` are seen."""
    src = "import numpy\ndef f():\n    from lfvscan.scan.engine import main_scan\n    from lfvscan import plots\n"
    assert list(_imported_layers(src)) == [(3, "scan"), (4, "plots")]
    assert "scan" not in ALLOWED["store"] and "plots" not in ALLOWED["pheno"]
