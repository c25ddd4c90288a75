"""The embedded Prometheus (``icop stack up --with-metrics``): the real server scrapes our endpoints and
answers PromQL over them, with the repository's alert rules loaded; the rules and the Grafana dashboard
name only metrics the processes export."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

import httpx
import pytest

from cluster.metrics_server import ALERT_RULES, GRAFANA_DASHBOARD, PrometheusComponent, scrape_targets
from icop.observability import metrics
from icop.settings import Settings

pytestmark = pytest.mark.skipif(shutil.which("prometheus") is None, reason="needs Debian's prometheus")


def exported_names() -> set[str]:
    from prometheus_client import REGISTRY

    families = list(REGISTRY.collect())
    return {s.name for f in families for s in f.samples} | {f.name for f in families}


def test_alert_rules_and_the_dashboard_name_only_metrics_we_export() -> None:
    # every metric exists once something was observed: touch each labelled family
    metrics.observe_request("GET", "/healthz", 200, 0.001)
    metrics.observe_activity("read_plan", True, 0.01)
    metrics.observe_provider_call("gpt", "ok", 0.01)
    metrics.observe_post("x", "published")
    checked = subprocess.run(["promtool", "check", "rules", str(ALERT_RULES)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    dashboard = json.loads(GRAFANA_DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set(re.findall(r"\bicop_[a-z_]+", ALERT_RULES.read_text() + "\n".join(exprs)))
    assert used and used <= exported_names(), used - exported_names()


def test_the_embedded_prometheus_answers_promql_over_our_metrics(settings: Settings) -> None:
    served = metrics.serve_metrics(settings.metrics_host, settings.worker_metrics_port)
    assert (
        served
        or httpx.get(f"http://{settings.metrics_host}:{settings.worker_metrics_port}/metrics").is_success
    )
    metrics.observe_activity("write_sheet", True, 0.02)
    prom = PrometheusComponent(settings, interval_s=1)
    assert "icop-worker" in scrape_targets(settings)
    sid = prom.start()
    try:
        api = f"{prom.address}/api/v1"
        found: list[dict[str, object]] = []
        deadline = time.monotonic() + 60
        while not found and time.monotonic() < deadline:
            r = httpx.get(
                f"{api}/query",
                params={"query": 'icop_activities_total{job="icop-worker",activity="write_sheet"}'},
            )
            found = r.json()["data"]["result"] if r.is_success else []
            time.sleep(0.5)
        assert found and float(found[0]["value"][1]) >= 1, found  # type: ignore[index]
        up = httpx.get(f"{api}/query", params={"query": 'up{job="icop-worker"}'}).json()["data"]["result"]
        assert up and up[0]["value"][1] == "1"
        groups = httpx.get(f"{api}/rules").json()["data"]["groups"]
        assert {r["name"] for g in groups for r in g["rules"]} >= {"ProviderErrorRateHigh", "OutboxLagging"}
        assert prom.status(sid).healthy
    finally:
        prom.stop(sid)
