"""The live crash stories (``crash_stories.py``): each crash in a real prov kernel gets the expected root cause,
crash type, library and decisive evidence (issue 13, Build 5)."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from tests.kernel.crash_stories import STORIES, Outcome, run_stories

HAS_TORCH = importlib.util.find_spec("torch") is not None
GROUPS = ("tabular", "sessions", "torch") if HAS_TORCH else ("tabular", "sessions")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    work: Path = tmp_path_factory.mktemp("stories")
    return {o.story.name: o for o in run_stories(work, groups=GROUPS)}


def test_at_least_five_stories_per_root_cause():
    counts = Counter(s.root_cause for s in STORIES)
    assert len(counts) == 8 and min(counts.values()) >= 5, counts


@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
def test_story(outcomes, story):
    if story.group not in GROUPS:
        pytest.skip("torch is not installed")
    outcome = outcomes[story.name]
    assert outcome.diagnosis is not None, f"no diagnosis under the {outcome.ename} traceback"
    d = outcome.diagnosis
    assert (d["root_cause"], d["crash_type"], d["library"]) == (
        story.root_cause,
        story.crash_type,
        story.library,
    )
    if story.detail:
        assert d["root_cause_detail"] == story.detail
    for words in story.evidence:
        assert words in outcome.evidence
