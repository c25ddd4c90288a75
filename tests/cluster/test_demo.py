"""The README's main job (`icop demo`) on the session stack: the whole product, end to end, through the
public API, Temporal and the Serve applications of cluster/serve_config.yaml, against the emulators."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from cluster.demo import PLATFORM_ACCOUNTS, run_demo
from cluster.serve_apps import load_config, status
from cluster.stack import LocalStack
from icop.settings import Settings

pytestmark = pytest.mark.slow


def test_demo_runs_the_whole_pipeline(stack: LocalStack, settings: Settings, ray_session: None) -> None:
    from deployments.ledger import served_totals

    names = [a.name for a in load_config(settings).applications]
    before = served_totals()
    out = io.StringIO()
    report = run_demo(Console(file=out, width=160), str(stack.state_dir), want=1)
    text = out.getvalue()
    served = {k: v - before.get(k, 0) for k, v in served_totals().items()}

    assert report.run_status == "completed", text[-4000:]
    # 4 valid rows (2 English, 2 Korean) and the 2 bad rows of examples/plan.csv skipped with a reason
    assert report.progress["rows_total"] == 4 and report.progress["rows_done"] == 4
    assert report.progress["rows_invalid"] == 2 and len(report.problems) == 2
    assert any("formula" in p for p in report.problems) and any("empty" in p for p in report.problems)
    assert report.articles >= 4 and report.progress["articles_failed"] == 0
    assert report.images == report.articles
    # what it cost, priced from the run's usage: three writers' tokens and one DALL-E 3 image per article
    assert float(report.cost_usd) >= 0.04 * report.images and "Cost of the run" in text, report.cost_usd
    assert report.posts == report.articles * len(PLATFORM_ACCOUNTS)
    # published for real: every article on every platform, counted in the emulator's own state, each post
    # listed with its platform id and permalink
    assert not report.dry_run
    assert report.published == dict.fromkeys(PLATFORM_ACCOUNTS, report.articles), text[-4000:]
    assert "posts (sent to the emulated platforms" in text
    social = f"http://{settings.bind_host}:{settings.social_emulator_port}"
    assert len(report.post_links) == report.posts
    assert all(link == f"{social}/web/{p}/{pid}" for p, pid, link in report.post_links), report.post_links
    assert "connected Google as demo-" in text and "owned by demo-" in text  # the way a user connects
    assert "sheet tab ContentPlan" in text and "sheet tab Subtopics" in text
    # every application of the Serve config ran, with at least one replica per deployment
    apps = {s.name: s for s in status(settings, names)}
    assert set(apps) == set(names)
    assert all(s.status == "RUNNING" and min(s.replicas.values()) >= 1 for s in apps.values())
    # ... and the run's work went through them: counted by the replicas themselves
    assert served.get("topics/TopicClusterer", 0) >= report.progress["rows_done"], served
    for writer in ("writer-gpt/Writer_gpt", "writer-claude/Writer_claude", "writer-gemini/Writer_gemini"):
        assert served.get(writer) == report.articles, (writer, served)
    assert served.get("images/ImageGenerator") == report.images, served
    assert served.get("images/JpegConverterDeployment") == report.images, served
