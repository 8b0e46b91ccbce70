"""What each frontend shows of the reports: nbconvert's HTML export, and VS Code's choice of MIME type.

A notebook with a crash and every notebook report runs on the prov kernel (nbclient); then:

- nbconvert ``--to html`` (``HTMLExporter``) must embed each report's ``text/html`` as is: tables,
  the inline ``<svg>`` graph and the diagnosis, never a JSON dump;
- VS Code must pick ``text/html``. Its rule, from microsoft/vscode's source: the user's
  ``notebook.displayOrder`` setting first, then ``NOTEBOOK_DISPLAY_ORDER`` (``application/json``,
  ``application/javascript``, ``text/html``, ``image/svg+xml``, ``text/latex``, ``text/markdown``,
  ``image/png``, ``image/jpeg``, ``text/plain``; ``src/vs/workbench/contrib/notebook/common/
  notebookCommon.ts``), where a type the list lacks sorts *first* (``MimeTypeDisplayOrder.sort``:
  index -1); then ``NotebookService.getOutputMimeTypeInfo`` (``browser/services/
  notebookServiceImpl.ts``) moves types no renderer claims to the end, and
  ``CellOutputViewModel.resolveMimeTypes`` (``browser/viewModel/cellOutputViewModel.ts``) shows
  the first one left with a renderer. No renderer claims ``application/vnd.provkernel.*+json``,
  so VS Code shows ``text/html`` — as long as a bundle never carries plain ``application/json``,
  which would come first.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

from provkernel.headless import execute_notebook
from tests.kernel.helpers import notebook

REPORTS = [
    "history",
    "env",
    "imports",
    "data",
    "values x",
    "diff 1 2",
    "outputs",
    "status",
    "crashes",
    "stale",
]
VSCODE_ORDER = [
    "application/json",
    "application/javascript",
    "text/html",
    "image/svg+xml",
    "text/latex",
    "text/markdown",
    "image/png",
    "image/jpeg",
    "text/plain",
]


def vscode_choice(bundle: dict) -> str:
    """The MIME type VS Code renders from a display bundle (default settings), per its source above."""
    ordered = sorted(bundle, key=lambda m: VSCODE_ORDER.index(m) if m in VSCODE_ORDER else -1)
    with_renderer = [m for m in ordered if m in VSCODE_ORDER]  # the built-in renderers' types
    return (with_renderer or ordered)[0]


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    work = tmp_path_factory.mktemp("frontends")
    nb = notebook(
        "import json\nx = len(json.dumps([1]))",
        "with open('numbers.txt', 'w') as fh:\n    fh.write(str(x))",
        "y = undefined_name + x",
        "%provgraph",
        *(f"%prov {r}" for r in REPORTS),
    )
    result = execute_notebook(nb, work / "frontends.ipynb", timeout=120, allow_errors=True)
    assert result.error is None, result.error
    return nb


class Tokens(HTMLParser):
    """Tags (attributes sorted), end tags and text, one token each."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tokens.append(f"<{tag} {sorted(attrs)}>")

    def handle_endtag(self, tag):
        self.tokens.append(f"</{tag}>")

    def handle_data(self, data):
        self.tokens.append(data)


def markup(html: str) -> str:
    """HTML as a comparable string: nbconvert re-serialises the outputs it embeds (attribute order,
    entities), so the same markup is compared token by token."""
    parser = Tokens()
    parser.feed(html)
    parser.close()
    return "\x00" + "\x00".join(parser.tokens) + "\x00"


def outputs_of(nb: nbformat.NotebookNode, prefix: str) -> list[dict]:
    (cell,) = [c for c in nb.cells if c.source.startswith(prefix)]
    return [o["data"] for o in cell.outputs if "data" in o]


def test_no_output_carries_plain_json_and_vscode_picks_the_html(executed):
    bundles = [o["data"] for c in executed.cells for o in c.outputs if "data" in o]
    assert len(bundles) == 2 + len(REPORTS)  # the diagnosis, the graph, the reports
    for bundle in bundles:
        assert "application/json" not in bundle
        assert any(m.startswith("application/vnd.provkernel.") for m in bundle), list(bundle)
        assert vscode_choice(bundle) == "text/html", list(bundle)
    # the rule really puts plain JSON first: the bundles of before this change showed a JSON tree
    assert vscode_choice({"application/json": {}, "text/html": "", "text/plain": ""}) == "application/json"


def test_nbconvert_html_shows_the_tables_the_graph_and_the_diagnosis(executed, tmp_path: Path):
    page, _ = HTMLExporter().from_notebook_node(executed)
    (tmp_path / "frontends.html").write_text(page)
    html = markup(page)
    for report in REPORTS:
        (bundle,) = outputs_of(executed, f"%prov {report}")
        kind = report.split()[0]
        assert markup(bundle["text/html"]) in html, kind  # embedded as is, not re-rendered from the JSON
        assert f"provkernel-{kind}" in bundle["text/html"]
        tables = bundle["text/html"].count("<table")
        assert tables >= (0 if kind in ("diff", "stale") else 1), kind
    (graph,) = outputs_of(executed, "%provgraph")
    assert markup(graph["text/html"]) in html and "<svg" in graph["text/html"]
    assert 'src="data:image/svg+xml' not in html  # inline, with hover titles, not an <img>
    assert "[3] y = undefined_name + x" in graph["text/html"]
    (diagnosis,) = outputs_of(executed, "y = undefined_name")
    assert markup(diagnosis["text/html"]) in html and "variable not found" in diagnosis["text/html"]
    assert '"executions": [' not in html  # no report's JSON reached the page
