"""Sphinx configuration of the lfvscan documentation site.

Build (from the repository root, with ``pip install -e '.[docs]'``)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

``-W`` makes every warning an error, so the pages, the docstrings and the tutorial notebook (which
is executed during the build) are checked on every CI run.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the package is installed into the venv; the path keeps a plain checkout buildable too
sys.path.insert(0, str(ROOT))

import lfvscan  # noqa: E402

project = "lfvscan"
author = "the lfvscan authors"
copyright = "lfvscan authors"
release = version = lfvscan.__version__

extensions = [
    "myst_nb",  # Markdown pages (myst-parser) and the executed notebook
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "jupyter_execute"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"

# ---------------------------------------------------------------------------- Markdown (MyST)
myst_enable_extensions = [
    "dollarmath",  # $...$ and $$...$$ in docs/physics.md
    "amsmath",  # \begin{align} ... environments written without $$
    "colon_fence",
]
# "## 7.6 Exact differential cross section" gets the anchor physics.md#76-exact-..., so that links
# between the pages can point at a numbered section
myst_heading_anchors = 3
# "$$...$$" written inside a paragraph (physics.md §10.1) is display math, not two empty "$"
myst_dmath_double_inline = True

# ---------------------------------------------------------------------------- API reference
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {
    "members": True,
    # each object is documented once, on the page of the module that defines it: a package's
    # __all__ re-exports its modules' names (lfvscan.ScanData is lfvscan.store.scandata.ScanData),
    # and documenting them again would give two targets for one object
    "ignore-module-all": True,
    "member-order": "bysource",
    "show-inheritance": True,
}
# the docstrings describe arguments in prose; the signature's annotations go into a list below it
autodoc_typehints = "description"
autodoc_typehints_description_target = "all"
autodoc_preserve_defaults = True
# the docstrings name types and modules in prose (``ScanData``, ``np.ndarray``); a reference that
# does not resolve stays plain text instead of a warning
nitpicky = False
add_module_names = False

# the curated top-level API (``lfvscan.__all__``) for the table on the ``lfvscan`` page
# (_templates/autosummary/module.rst), each name where its module defines it, relative to the
# package (the table stands inside ``.. automodule:: lfvscan``): "xsec.driver.compute_cell".
# Computed here, so an export that is added or moved needs no edit of the docs.
autosummary_context = {
    "public_api": [
        f"{obj.__module__}.{obj.__qualname__}".removeprefix("lfvscan.")
        for obj in (getattr(lfvscan, name) for name in lfvscan.__all__ if name != "__version__")
    ],
}

# The docstrings are plain text with reStructuredText markup where it helps (``literals``,
# :func:`roles`, "::" blocks).  Two habits of plain text mean something else to RST, and are
# translated before a docstring is parsed (autodoc-process-docstring):
#
# * formulas: ``|p|`` (a momentum's magnitude) and a word-final "_" (``t_``, ``E_-``) would be a
#   substitution and a hyperlink reference, which do not exist.  In running text "|" and a
#   word-final "_" are escaped, so the formula shows as written; ``literals``, `roles`, literal
#   blocks after "::", directive bodies and >>> examples are left alone.
# * a "Parameters" heading underlined with dashes, followed by "name : description" lines (the
#   shape of numpy-style sections, but with the description after the colon where numpydoc puts
#   a type).  RST allows no section title inside a docstring; the heading becomes a rubric and
#   each "name : description" a definition-list item (name, then the description indented).
#   The list ends at the first paragraph that is not such an item.
_LITERAL_SPAN = re.compile(r"(``.+?``|(?::[\w:.+-]+:)?`[^`]+`_{0,2})")
_BAR = re.compile(r"(?<!\\)\|")
_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)_(?=$|[\s.,;:!?)\]}'\"/+*-])")
_HEADING = re.compile(r"^(\s*)([A-Z][A-Za-z ]*\w)\s*$")
_ITEM = re.compile(r"^(\s*)(\*{0,2}\w[\w, *]*?) : (.*)$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _escape_running_text(text: str) -> str:
    parts = _LITERAL_SPAN.split(text)
    for i in range(0, len(parts), 2):  # even parts lie outside literals and roles
        parts[i] = _TRAILING_UNDERSCORE.sub(r"\\_", _BAR.sub(r"\\|", parts[i]))
    return "".join(parts)


def _sections_to_rubrics(lines: list[str]) -> list[str]:
    """'Heading' + '-------' -> '.. rubric:: Heading'; its 'name : text' lines -> definition list."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        head = _HEADING.match(lines[i])
        under = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if not (head and len(under) >= len(head.group(2)) and set(under) == {"-"}):
            out.append(lines[i])
            i += 1
            continue
        indent = head.group(1)
        out += [f"{indent}.. rubric:: {head.group(2)}", ""]
        i += 2
        in_list = True
        while i < len(lines) and in_list:
            line = lines[i]
            item = _ITEM.match(line)
            if item and item.group(1) == indent:
                out += [f"{indent}{item.group(2)}", f"{indent}    {item.group(3)}"]
            elif line.strip() and _indent(line) > len(indent):
                out.append(line)  # a description's continuation line, already indented
            elif not line.strip():
                out.append(line)
                nxt = next((x for x in lines[i + 1:] if x.strip()), "")
                in_list = bool(_ITEM.match(nxt)) and _indent(nxt) == len(indent)
            else:
                out.append(line)
                in_list = False
            i += 1
    return out


def plain_text_to_rst(app, what, name, obj, options, lines):
    """autodoc-process-docstring: the translations described above, in place."""
    lines[:] = _sections_to_rubrics(lines)
    verbatim_indent = None  # set inside a literal block or directive: its opening line's indent
    doctest = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if verbatim_indent is not None:
            if not stripped or _indent(line) > verbatim_indent:
                continue
            verbatim_indent = None
        if doctest:
            if stripped:
                continue
            doctest = False
        if stripped.startswith(">>>"):
            doctest = True
            continue
        if stripped.startswith(".. "):
            verbatim_indent = _indent(line)
            continue
        lines[i] = _escape_running_text(line)
        if stripped.endswith("::"):
            verbatim_indent = _indent(line)


def setup(app):
    app.connect("autodoc-process-docstring", plain_text_to_rst)


# ---------------------------------------------------------------------------- notebook
# docs/tutorial.ipynb is stored without outputs and executed on every build; an exception in a
# cell fails the build
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 300
nb_merge_streams = True
# Markdown that a cell displays (the tutorial's table of limits) is parsed as MyST, which has tables
nb_render_markdown_format = "myst"

# ---------------------------------------------------------------------------- HTML
html_theme = "furo"
html_title = f"lfvscan {release}"
html_static_path: list[str] = []
