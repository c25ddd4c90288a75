"""Logs: one JSON schema with the ids of the request, values of secret-named keys and of secret settings
never written, JSON by default in production. The gateway's access lines are read off a real request."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from icop.observability.logs import REDACTED, bind_ids, configure_logging, ids_of, ids_scope
from icop.settings import Settings
from workflows.types import PlanRowInput, RowSpec, RowStatusInput

from ..gateway.conftest import sign_up
from ..gateway.live import live_gateway


@pytest.fixture
def json_lines(settings: Settings) -> Iterator[io.StringIO]:
    """The process's logs as JSON lines into a buffer, for the test's duration."""
    root = logging.getLogger()
    level, out = root.level, io.StringIO()
    secret = settings.model_copy(update={"log_format": "json", "jwt_secret": SecretStr("jwt-" + "s" * 40)})
    handler = configure_logging(secret, "test", stream=out)
    root.setLevel(min(level, logging.INFO) or logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(out: io.StringIO) -> list[dict]:
    return [json.loads(x) for x in out.getvalue().splitlines() if x.strip()]


def test_one_json_schema_with_the_bound_ids(json_lines: io.StringIO) -> None:
    log = logging.getLogger("icop.test")
    tenant, run = uuid.uuid4(), uuid.uuid4()
    with ids_scope(tenant_id=tenant):
        bind_ids(run_id=run, article_id=None)
        log.info("row %d planned", 3, extra={"attempt": 2})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("it failed")
    log.warning("outside")
    first, failed, outside = lines(json_lines)
    assert {"ts", "level", "logger", "msg", "role"} <= first.keys()
    assert first["level"] == "info" and first["logger"] == "icop.test" and first["msg"] == "row 3 planned"
    assert first["tenant_id"] == str(tenant) and first["run_id"] == str(run) and "article_id" not in first
    assert first["attempt"] == 2 and first["role"] == "test" and first["ts"].endswith("+00:00")
    assert failed["level"] == "error" and "ValueError: boom" in failed["exc"]
    assert "tenant_id" not in outside  # the scope ended


def test_an_activitys_ids_name_the_row_by_its_number() -> None:
    """A plan row's topic is content: an activity's lines and span carry the row's number only."""
    tenant, run = str(uuid.uuid4()), str(uuid.uuid4())
    row = RowSpec(row_number=7, topic="Cold brew at home", notes="", language="en")
    ids = ids_of(PlanRowInput(tenant, str(uuid.uuid4()), run, row, want=3))
    assert ids["row"] == "7" and ids["tenant_id"] == tenant and ids["run_id"] == run
    assert not [v for v in ids.values() if "Cold brew" in v]
    status = RowStatusInput(tenant, run, row_number=7, topic=row.topic, language="en", status="done")
    assert ids_of(status) == {"tenant_id": tenant, "run_id": run, "row": "7"}


def test_secrets_never_reach_a_line(json_lines: io.StringIO) -> None:
    log = logging.getLogger("icop.test")
    bearer, password, key, token = (f"{p}-{uuid.uuid4().hex}" for p in ("eyJbearer", "pw", "sk", "EAAB"))
    log.info("calling with Authorization: Bearer %s", bearer)
    log.info("login password=%s ok", password)
    log.info("body %s", {"access_token": token, "prompt_tokens": 12, "name": "tea"})
    log.info("key given", extra={"api_key": key, "x_refresh_token": token})
    log.info('{"client_secret": "%s"}', password)
    log.info("the signing key is %s", "jwt-" + "s" * 40)  # a secret setting, whatever its context
    text = json_lines.getvalue()
    for secret in (bearer, password, key, token, "jwt-" + "s" * 40):
        assert secret not in text
    assert text.count(REDACTED) >= 7
    assert "'prompt_tokens': 12" in text and "'name': 'tea'" in text  # counts and plain fields stay


async def test_access_lines_carry_tenant_route_ids(api: httpx.AsyncClient, json_lines: io.StringIO) -> None:
    t = await sign_up(api)
    pipeline = uuid.uuid4()
    assert (await api.get(f"/v1/pipelines/{pipeline}", headers=t.h)).status_code == 404
    access = [x for x in lines(json_lines) if x["logger"] == "icop.gateway.access"]
    last = access[-1]
    assert last["msg"].startswith(f"GET /v1/pipelines/{pipeline} 404")
    assert last["tenant_id"] == t.tenant_id and last["pipeline_id"] == str(pipeline)
    assert t.access not in json_lines.getvalue() and t.password not in json_lines.getvalue()


def test_json_by_default_in_production_text_in_development() -> None:
    prod: dict[str, Any] = {"env": "production", "jwt_secret": "x" * 48, "vault_keys": "k9:" + "A" * 43 + "=",
            "database_url": "postgresql://icop_app:pw@db/icop"}  # fmt: skip
    assert Settings(**prod).log_format == "json" and Settings().log_format == "text"
    assert Settings(**prod, log_format="text").log_format == "text"  # asked for: kept


def test_the_gateway_process_writes_json_lines_and_serves_metrics(settings: Settings, tmp_path: Path) -> None:
    """``icop gateway serve`` with ICOP_LOG_FORMAT=json: every line of the process (uvicorn's own
    included) is one JSON object, and its /metrics counts what it answered."""
    log_path = tmp_path / "gateway.log"
    with live_gateway(settings.state_path, log_path, {"ICOP_LOG_FORMAT": "json"}) as base:
        assert httpx.get(f"{base}/v1/pipelines/{uuid.uuid4()}", timeout=10).status_code == 401
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
    assert (
        'icop_http_requests_total{method="GET",route="/v1/pipelines/{pipeline_id}",status="401"} 1.0'
        in metrics
    )
    records = [json.loads(x) for x in log_path.read_text().splitlines() if x.strip()]
    assert any(r["logger"] == "icop.gateway.access" and " 401 " in r["msg"] for r in records)
    assert any(r["logger"].startswith("uvicorn") for r in records)
    assert all(r["role"] == "gateway" for r in records)
