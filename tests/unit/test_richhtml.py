"""The notebook HTML of rich renderables: real tables, theme colours, nothing that leaks into the page."""

from __future__ import annotations

from html.parser import HTMLParser

from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from provkernel.render import Report, mime_bundle, vendor_mime
from provkernel.richhtml import Snippet, to_html

VOID = {"br", "img", "hr", "input", "meta", "link"}


class Checker(HTMLParser):
    """Collects tags and attributes; fails on unbalanced markup."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()


def parse(html: str) -> Checker:
    checker = Checker()
    checker.feed(html)
    checker.close()
    assert not checker.stack, checker.stack
    return checker


def sample_table() -> Table:
    table = Table(title="executions of epoch 2", caption="3 earlier executions not shown")
    table.add_column("run", no_wrap=True)
    table.add_column("took")
    table.add_column("status")
    table.add_column("first line", no_wrap=True, overflow="ellipsis", max_width=20)
    table.add_row("2:[1]", "0.42 s", Text("ok", style="green"), "import pandas as pd")
    table.add_row(
        "2:[2]",
        "12.0 s",
        Text("error KeyError", style="bold red"),
        "df = pd.read_csv('<train>.csv', sep=';')",
    )
    return table


def test_a_table_becomes_a_real_table_with_numbers_right_and_text_left():
    html = to_html(sample_table(), "history")
    tags = parse(html).tags
    assert [t for t, _ in tags].count("table") == 1 and [t for t, _ in tags].count("tr") == 3
    cells = [attrs["style"] for t, attrs in tags if t in ("th", "td")]
    # columns: run, took, status, first line; "took" holds numbers with units
    assert [c.split(";")[0] for c in cells[:4]] == [
        "text-align:left",
        "text-align:right",
        "text-align:left",
        "text-align:left",
    ]
    assert "executions of epoch 2" in html and "3 earlier executions not shown" in html
    assert "<pre" not in html and "<style" not in html


def test_long_code_is_cut_with_the_full_text_in_a_title_and_escaped():
    html = to_html(sample_table())
    titles = [attrs["title"] for t, attrs in parse(html).tags if "title" in attrs]
    assert titles == ["df = pd.read_csv('<train>.csv', sep=';')"]  # unescaped by the parser: it was escaped
    assert "&lt;train&gt;" in html and "<train>" not in html.replace('title="', "")


def test_status_colours_are_theme_variables_beside_the_words():
    html = to_html(sample_table())
    assert 'color:var(--jp-error-color1,#d32f2f);font-weight:600">error KeyError' in html
    assert 'color:var(--jp-success-color1,#388e3c)">ok' in html
    assert "color:#ff8700" in to_html(Text("stale", style="dark_orange"))  # a 256-colour: as it is
    assert "color:" not in to_html(Text("plain", style="white"))  # the theme's text colour
    base = to_html(Text("no changes between epochs", style="green"))
    assert "var(--jp-success-color1" in base and "no changes between epochs" in base


def test_snippet_keeps_the_whole_code_for_hover():
    code = "model = RandomForestClassifier(n_estimators=500, max_depth=None, random_state=0)\nmodel.fit(X, y)"
    html = to_html(Snippet(code.splitlines()[0], code, limit=30))
    (span,) = [attrs for t, attrs in parse(html).tags if t == "span" and "title" in attrs]
    assert span["title"] == code and "font-family:var(--jp-code-font-family" in span["style"]
    assert "model = RandomForestClassifie…" in html


def test_a_diff_is_coloured_by_line_and_keeps_its_signs():
    html = to_html(Syntax("--- a\n+++ b\n@@ -1 +1 @@\n-x = 1\n+x = 2", "diff"))
    parse(html)
    assert "var(--jp-error-color1,#d32f2f)" in html and "-x = 1" in html
    assert "var(--jp-success-color1,#388e3c)" in html and "+x = 2" in html


def test_other_renderables_fall_back_to_a_preformatted_block():
    html = to_html(Panel("boxed <text>"))
    parse(html)
    assert "<pre" in html and "boxed &lt;text&gt;" in html


class Tiny(Report):
    kind = "tiny"

    def renderables(self):
        yield Text("two lines", style="bold")
        yield sample_table()

    def to_json(self):
        return {"rows": 2}


def test_a_report_bundle_has_html_text_and_vendor_json_but_never_plain_json():
    bundle = Tiny()._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", vendor_mime("tiny")}
    assert bundle[vendor_mime("tiny")] == {"rows": 2}
    assert "provkernel-tiny" in bundle["text/html"] and "<table" in bundle["text/html"]
    assert "executions of epoch 2" in bundle["text/plain"] and "<table" not in bundle["text/plain"]
    assert "application/json" not in mime_bundle(Text("x"), {"a": 1})


def test_every_report_names_its_own_json_type():
    import importlib
    import inspect

    from provkernel.reports import REPORTS

    for name, module_name in REPORTS.items():
        module = importlib.import_module(module_name)
        classes = [
            c
            for c in vars(module).values()
            if inspect.isclass(c) and issubclass(c, Report) and c.__module__ == module_name
        ]
        assert all(c.kind == name for c in classes), (name, [(c.__name__, c.kind) for c in classes])
