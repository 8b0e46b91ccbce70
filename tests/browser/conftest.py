"""Fixtures for browser tests: JupyterLab once per module, Chromium, a screenshot when a test fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.lab import CHROMIUM_ARGS, LabServer, chromium_path, lab_environment, start_lab


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab on a free loopback port, a temporary root and this module's provenance database."""
    pytest.importorskip("jupyterlab", reason="needs JupyterLab: pip install -e '.[test]'")
    base = tmp_path_factory.mktemp("lab")
    root, state = base / "root", base / "state"
    root.mkdir()
    state.mkdir()
    server = start_lab(root, state, lab_environment(base / "prov.sqlite"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium from the distribution (skips where none is installed)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright: pip install -e '.[test]'")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium: install it with 'apt-get install -y chromium' (.ci/run does)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def shot_on_failure(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list]:
    """Tests append the pages they look at; a failing test leaves a full-page screenshot of each."""
    pages: list = []
    yield pages
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for i, page in enumerate(pages):
            path = tmp_path / f"failure-{i}.png"
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot of the page when {request.node.name} failed: {path}")
