"""The embedded Prometheus of ``icop stack up --with-metrics``: Debian's ``prometheus`` on loopback
(``ICOP_PROMETHEUS_PORT``), scraping every process of the stack, with the repository's alert rules.

Scraped (job names as the alert rules and the Grafana dashboard use them): ``icop-gateway`` (the API's
``/metrics``), ``icop-worker`` and ``icop-events`` (their metrics ports), ``temporal``, ``ray`` and
``seaweedfs`` (their own exporters). The configuration is written to ``<state>/prometheus/prometheus.yml``
at each start, its data kept under ``<state>/prometheus/data`` for ``ICOP_PROMETHEUS_RETENTION``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import yaml

from icop.settings import Settings

from .processes import Port, StackError, alive, require_free, spawn, stop_session, wait_for_port

ROOT = Path(__file__).resolve().parent
ALERT_RULES = ROOT / "prometheus" / "alerts.yml"
GRAFANA_DASHBOARD = ROOT / "grafana" / "icop.json"


def scrape_targets(s: Settings) -> dict[str, str]:
    """Job name → ``host:port`` of each /metrics endpoint of the stack (a port of 0 has none)."""
    targets = {
        "icop-gateway": (s.bind_host, s.gateway_port),
        "icop-worker": (s.metrics_host, s.worker_metrics_port),
        "icop-events": (s.metrics_host, s.events_metrics_port),
        "temporal": (s.bind_host, s.temporal_metrics_port),
        "ray": (s.ray_node_ip, s.ray_metrics_port),
        "seaweedfs": (s.bind_host, s.seaweed_metrics_port),
    }
    return {job: f"{host}:{port}" for job, (host, port) in targets.items() if port}


def config(s: Settings, interval_s: float) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": f"{interval_s:g}s", "evaluation_interval": f"{interval_s:g}s"},
        "rule_files": [str(ALERT_RULES)],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [target]}]}
            for job, target in scrape_targets(s).items()
        ],
    }


class PrometheusComponent:
    name = "prometheus"

    def __init__(self, settings: Settings, interval_s: float = 15.0) -> None:
        self.s, self.interval_s = settings, interval_s
        self.dir = settings.state_path / "prometheus"

    @property
    def address(self) -> str:
        return f"http://{self.s.bind_host}:{self.s.prometheus_port}"

    def ports(self) -> list[Port]:
        return [(self.s.bind_host, self.s.prometheus_port, "Prometheus", "ICOP_PROMETHEUS_PORT")]

    def start(self) -> int:
        binary = shutil.which("prometheus")
        if binary is None:
            raise StackError("prometheus is not installed: run scripts/install.sh (apt prometheus)")
        for port in self.ports():
            require_free(*port)
        self.dir.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "prometheus.yml"
        conf.write_text(yaml.safe_dump(config(self.s, self.interval_s), sort_keys=False))
        argv = [
            binary,
            f"--config.file={conf}",
            f"--storage.tsdb.path={self.dir / 'data'}",
            f"--storage.tsdb.retention.time={self.s.prometheus_retention}",
            f"--web.listen-address={self.s.bind_host}:{self.s.prometheus_port}",
            "--log.level=warn",
        ]
        log = self.dir / "prometheus.log"
        proc = spawn(argv, log, cwd=self.dir)
        if not wait_for_port(self.s.bind_host, self.s.prometheus_port, 30, proc) or not self._ready(30):
            stop_session(proc.pid)
            tail = log.read_text()[-800:] if log.exists() else ""
            raise StackError(f"Prometheus did not start; see {log}:\n{tail}")
        return proc.pid

    def _ready(self, timeout: float) -> bool:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.address}/-/ready", timeout=2, trust_env=False).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        return False

    def stop(self, sid: int) -> None:
        stop_session(sid, grace=10)

    def status(self, sid: int | None):
        from .stack import ComponentStatus

        running = alive(sid)
        healthy = running and self._ready(2)
        return ComponentStatus(self.name, self.address, running, healthy, sid, "Prometheus (metrics)")
