"""What a user sees in JupyterLab 4 and Notebook 7: every report and the graph drawn, never a JSON tree.

One notebook on "Python (prov)" runs in a real JupyterLab in headless Chromium: a print, a data
file written and read, a DataFrame shown, two crashes, ``%provgraph``, each ``%prov`` report and a
small ``%bugdoc``. The tests assert on the page itself (the DOM JupyterLab rendered), not on the
messages: JupyterLab picks what to draw from each bundle, and plain ``application/json`` would
have shown as a collapsible JSON tree (``.jp-RenderedJSON``).
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from provkernel.headless import execute_notebook
from tests.browser.lab import NotebookPage
from tests.kernel.helpers import notebook

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
REPORTS = [
    "%prov history",
    "%prov env",
    "%prov imports",
    "%prov data",
    "%prov values mean_fare",
    "%prov outputs",
    "%prov status",
    "%prov crashes",
    "%prov columns df",
    "%prov stale",
]
CELLS = [
    "print('hello from Python (prov)')",
    "# Parameters\nnumerator = 1\ndenominator = 0",
    (
        "import pandas as pd\n"
        "passengers = pd.DataFrame({'age': [22, 38, 26], 'fare': [7.25, 71.28, 7.92]})\n"
        "passengers.to_csv('passengers.csv', index=False)"
    ),
    "df = pd.read_csv('passengers.csv')\nmean_fare = float(df['fare'].mean())",
    "df.describe()",
    "survival_rate = survivors / len(df)",
    "ratio = numerator / denominator",
    "%provgraph",
    *REPORTS,
    "%prov diff 4 5",
    "%bugdoc -p denominator 1 -p denominator 2",
]
CRASHES = {5: ["raises-exception"], 6: ["raises-exception"]}  # Run All goes on past them


@pytest.fixture(scope="module")
def lab_notebook(lab, browser) -> NotebookPage:
    """The demo notebook opened in JupyterLab and run to the end (once for the module)."""
    nbformat.write(notebook(*CELLS, tags=CRASHES), lab.root / "demo.ipynb")
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    view = NotebookPage(page, lab, "/lab/tree/demo.ipynb")
    try:
        view.open()
        view.run_all()
    except Exception:
        path = lab.root.parent / "lab-setup-failure.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot of the page when the notebook did not run: {path}; server log: {lab.log}")
        raise
    return view


@pytest.fixture
def lab_page(lab_notebook: NotebookPage, shot_on_failure: list) -> NotebookPage:
    shot_on_failure.append(lab_notebook.page)
    return lab_notebook


def mimes_of(outputs) -> list[str]:
    return [outputs.nth(i).get_attribute("data-mime-type") for i in range(outputs.count())]


def test_the_kernel_is_python_prov_and_a_print_shows(lab_page: NotebookPage):
    page = lab_page.page
    assert page.locator(".jp-Toolbar-kernelName").first.inner_text().strip() == "Python (prov)"
    assert "Python (prov) | Idle" in page.locator(".jp-StatusBar-TextItem").all_inner_texts()
    outputs = lab_page.outputs("print(")
    assert outputs.count() == 1 and outputs.first.inner_text().strip() == "hello from Python (prov)"


def test_a_crash_shows_its_diagnosis_after_the_traceback(lab_page: NotebookPage):
    outputs = lab_page.outputs("survival_rate =")
    assert mimes_of(outputs) == ["application/vnd.jupyter.stderr", "text/html"]
    assert "NameError" in outputs.nth(0).inner_text()
    diagnosis = outputs.nth(1).locator(".provkernel-diagnosis")
    text = diagnosis.inner_text()
    assert text.startswith("variable not found") and "survivors" in text
    assert diagnosis.evaluate("e => getComputedStyle(e).borderLeftStyle") == "solid"


def test_the_graph_is_an_inline_svg_with_coloured_nodes_and_hover_text(lab_page: NotebookPage):
    (output,) = [lab_page.outputs("%provgraph").nth(0)]
    assert output.get_attribute("data-mime-type") == "text/html"  # chosen over image/svg+xml
    svg = output.locator(".provkernel-graph > svg")
    assert svg.count() == 1 and output.locator("img").count() == 0
    nodes = svg.locator("g.pk-node")
    classes = [nodes.nth(i).get_attribute("class") for i in range(nodes.count())]
    assert len(classes) == 7  # the seven cells before %provgraph
    assert classes.count("pk-node pk-error") == 2
    assert "pk-node pk-readsdata" in classes and "pk-node pk-output" in classes
    crashed = svg.locator("g.pk-error", has_text="ratio = numerator")
    hover = crashed.locator("title").first.text_content()
    assert "error" in hover.splitlines()[0] and "reads: denominator, numerator" in hover
    fill = crashed.locator("rect").first.evaluate("e => getComputedStyle(e).fill")
    assert fill == "rgb(255, 214, 214)"  # crashed is red
    # the drawing fits the output: no wider than the output area
    box, area = svg.bounding_box(), output.bounding_box()
    assert box["width"] <= area["width"] + 1 and box["height"] > 200
    assert not output.get_by_text("not trusted").is_visible()  # the hint for untrusted notebooks


@pytest.mark.parametrize("cell", [*REPORTS, "%prov diff 4 5"])
def test_each_report_is_html_not_a_json_tree(lab_page: NotebookPage, cell: str):
    outputs = lab_page.outputs(cell)
    assert mimes_of(outputs) == ["text/html"]
    kind = cell.split()[1]
    report = outputs.first.locator(f".provkernel-{kind}")
    assert report.count() == 1
    assert lab_page.cell(cell).locator(".jp-RenderedJSON").count() == 0
    if kind == "diff":
        assert "+df.describe()" in report.locator("pre").inner_text()
    elif kind == "stale":  # every cell ran after its inputs: one sentence, no table
        assert report.inner_text().startswith("no stale cells in epoch 1")
    else:
        table = report.locator("table").first
        assert table.locator("tr").count() >= 2 and table.is_visible()


def test_history_marks_the_crashes_in_words_and_colour(lab_page: NotebookPage):
    rows = lab_page.outputs("%prov history").first.locator("table").nth(1).locator("tbody tr")
    crashed = rows.filter(has_text="survival_rate")
    status = crashed.locator("td").nth(4)
    assert status.inner_text().strip() == "error NameError"
    assert status.locator("span").first.evaluate("e => getComputedStyle(e).color") == "rgb(211, 47, 47)"
    assert crashed.locator("td").nth(5).inner_text().strip() == "survival_rate = survivors / len(df)"
    # a cell's first line is shown, its whole code is on hover
    parameters = rows.filter(has_text="numerator = 1").locator("td").nth(5).locator("span[title]")
    assert parameters.get_attribute("title") == "# Parameters\nnumerator = 1\ndenominator = 0"


def test_bugdoc_shows_its_finding_and_instances_as_a_table(lab_page: NotebookPage):
    outputs = lab_page.outputs("%bugdoc")
    assert mimes_of(outputs) == ["text/html"]
    report = outputs.first.locator(".provkernel-bugdoc")
    assert "denominator = 0" in report.inner_text()
    rows = report.locator("table").last.locator("tbody tr")
    assert rows.count() >= 3
    assert lab_page.cell("%bugdoc").locator(".jp-RenderedJSON").count() == 0


def test_dark_theme_reports_and_graph_follow_the_theme(lab_page: NotebookPage, tmp_path: Path):
    page = lab_page.page
    lab_page.command("apputils:change-theme", {"theme": "JupyterLab Dark"})
    page.wait_for_function("document.body.dataset.jpThemeLight === 'false'")
    page.wait_for_timeout(500)
    try:
        canvas = lab_page.outputs("%provgraph").first.locator("svg > rect").first
        background = page.evaluate(
            "getComputedStyle(document.body).getPropertyValue('--jp-layout-color0').trim()"
        )
        assert canvas.evaluate("e => getComputedStyle(e).fill") == page.evaluate(
            "c => { const d = document.createElement('div'); d.style.color = c; document.body.append(d);"
            " const v = getComputedStyle(d).color; d.remove(); return v; }",
            background,
        )
        cell = lab_page.outputs("%prov env").first.locator("td").first
        colour = cell.evaluate("e => getComputedStyle(e).color")
        red, green, blue = map(int, re.findall(r"\d+", colour)[:3])
        assert min(red, green, blue) > 150  # light text on the dark background
        page.screenshot(path=str(tmp_path / "dark.png"))
    finally:
        lab_page.command("apputils:change-theme", {"theme": "JupyterLab Light"})
        page.wait_for_function("document.body.dataset.jpThemeLight === 'true'")


def test_every_output_drawn_in_light_and_dark(lab_page: NotebookPage, tmp_path: Path):
    """A picture of each report, the graph and the diagnosis in both themes (to look at: set
    ``PROVKERNEL_SCREENSHOTS=DIR`` to keep them)."""
    folder = Path(os.environ.get("PROVKERNEL_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    cells = ["survival_rate =", "%provgraph", *REPORTS, "%prov diff 4 5", "%bugdoc"]
    try:
        for theme in ("JupyterLab Light", "JupyterLab Dark"):
            lab_page.command("apputils:change-theme", {"theme": theme})
            light = "true" if theme.endswith("Light") else "false"
            lab_page.page.wait_for_function(f"document.body.dataset.jpThemeLight === '{light}'")
            lab_page.page.wait_for_timeout(300)
            for cell in cells:
                name = re.sub(r"\W+", "-", cell).strip("-")
                path = folder / f"{theme.split()[-1].lower()}-{name}.png"
                lab_page.cell(cell).screenshot(path=str(path))
                assert path.stat().st_size > 2_000, path
    finally:
        lab_page.command("apputils:change-theme", {"theme": "JupyterLab Light"})
        lab_page.page.wait_for_function("document.body.dataset.jpThemeLight === 'true'")


def readme_screenshot(view: NotebookPage, path: Path) -> Path:
    """JupyterLab with two crashes, their diagnoses and the graph: the picture in the README."""
    page = view.page
    view.command("application:toggle-left-area")  # the file browser: room for the notebook
    try:
        first, last = view.cell("survival_rate ="), view.cell("%provgraph")
        first.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(300)
        bottom = last.bounding_box()["y"] + last.bounding_box()["height"]
        page.screenshot(
            path=str(path), clip={"x": 0, "y": 0, "width": 1280, "height": min(1000, bottom + 12)}
        )
    finally:
        view.command("application:toggle-left-area")
    return path


def test_readme_screenshot(lab_page: NotebookPage, tmp_path: Path):
    """Takes the README's picture; ``PROVKERNEL_README_SCREENSHOT=1`` writes it to docs/jupyterlab.png."""
    target = ROOT / "docs" / "jupyterlab.png" if os.environ.get("PROVKERNEL_README_SCREENSHOT") else None
    path = readme_screenshot(lab_page, target or tmp_path / "jupyterlab.png")
    assert path.stat().st_size > 10_000
    print(f"README screenshot: {path}")


def test_an_untrusted_notebook_says_why_its_graph_is_missing(lab, browser, shot_on_failure: list):
    """A notebook run headless is not signed, so JupyterLab sanitizes its HTML (no <svg>): the graph
    leaves one sentence saying what to do, not its labels as loose text; the tables stay."""
    nb = notebook("x = 1", "y = x + 1", "%provgraph", "%prov history")
    with ThreadPoolExecutor(1) as pool:  # nbclient's event loop, apart from Playwright's
        result = pool.submit(execute_notebook, nb, lab.root / "headless.ipynb", timeout=120).result()
    assert result.error is None, result.error
    nbformat.write(nb, lab.root / "headless.ipynb")
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    shot_on_failure.append(page)
    view = NotebookPage(page, lab, "/lab/tree/headless.ipynb")
    view.open()
    graph = view.outputs("%provgraph").first
    graph.get_by_text("not trusted").wait_for()
    assert graph.locator("svg").count() == 0 and graph.bounding_box()["height"] < 80
    assert "File ▸ Trust Notebook" in graph.inner_text()
    assert view.outputs("%prov history").first.locator("table").count() == 2
    page.close()


def test_notebook_7_draws_the_same(lab, browser, shot_on_failure: list):
    nbformat.write(
        notebook("x = 1", "y = x / 0", "%provgraph", "%prov history", tags={1: ["raises-exception"]}),
        lab.root / "classic.ipynb",
    )
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    shot_on_failure.append(page)
    view = NotebookPage(page, lab, "/notebooks/classic.ipynb")
    view.open()
    view.run_all()
    assert "ZeroDivisionError" in view.outputs("y = x / 0").nth(0).inner_text()
    assert view.outputs("y = x / 0").nth(1).locator(".provkernel-diagnosis").count() == 1
    assert view.outputs("%provgraph").first.locator("svg g.pk-node").count() == 2
    assert view.outputs("%prov history").first.locator("table").count() == 2
    assert page.locator(".jp-RenderedJSON").count() == 0
    page.close()
