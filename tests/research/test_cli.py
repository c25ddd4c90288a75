"""``icop graph run --topic "<anything>"`` prints the article with its sources (the stack's emulators
stand in for the search engines, the web and the models)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cluster.stack import LocalStack
from icop.offline import apply_offline_env

from .conftest import unseen_topic

ICOP = str(Path(sys.executable).parent / "icop")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("language", "heading"), [("en", "## Sources"), ("ko", "## 출처")])
def test_graph_run_prints_the_article_with_its_sources(
    stack: LocalStack, language: str, heading: str
) -> None:
    env = apply_offline_env(dict(os.environ))
    env.update(ICOP_STATE_DIR=str(stack.state_dir), PYTHONPATH=str(ROOT))
    topic = unseen_topic(language)
    run = subprocess.run(
        [ICOP, "graph", "run", "--topic", topic, "--language", language],
        env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    assert out.startswith("---\ntitle: ") and "sourced: true" in out
    front, body = out.split("\n---\n", 1)
    urls = re.findall(r'"(http://[^"]+)"', front.split("sources: ", 1)[1].splitlines()[0])
    assert len(urls) >= 3
    section = body.split(heading, 1)[1]
    for n, url in enumerate(urls, 1):
        assert f"[^{n}]: [" in section and f"]({url})" in section
    assert len(set(re.findall(r"\[\^(\d+)\](?!:)", body))) >= 3  # cited in the text
    provider = "naver" if language == "ko" else "tavily"
    assert re.search(rf"research: \d+ sources via {provider}", run.stderr)
