"""The README's main job (`icop demo`) on the session stack: the whole product, end to end, through the
public API and Temporal, against the emulators."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from cluster.demo import PLATFORM_ACCOUNTS, run_demo
from cluster.stack import LocalStack

pytestmark = pytest.mark.slow


def test_demo_runs_the_whole_pipeline(stack: LocalStack) -> None:
    out = io.StringIO()
    report = run_demo(Console(file=out, width=160), str(stack.state_dir), want=2)
    text = out.getvalue()

    assert report.run_status == "completed", text[-4000:]
    # 4 valid rows (2 English, 2 Korean) and the 2 bad rows of examples/plan.csv skipped with a reason
    assert report.progress["rows_total"] == 4 and report.progress["rows_done"] == 4
    assert report.progress["rows_invalid"] == 2 and len(report.problems) == 2
    assert any("formula" in p for p in report.problems) and any("empty" in p for p in report.problems)
    assert report.articles >= 4 and report.progress["articles_failed"] == 0
    assert report.images == report.articles
    assert report.posts == report.articles * len(PLATFORM_ACCOUNTS)
    assert "sheet tab ContentPlan" in text and "sheet tab Subtopics" in text
