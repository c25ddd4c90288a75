"""Schemathesis against the live gateway's OpenAPI schema: no 5xx, responses as documented."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from icop.settings import Settings

from .conftest import LOG_FILES, remember, sheet
from .live import live_gateway

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    ]
)


@pytest.mark.slow
def test_schemathesis_live_schema(settings: Settings, tmp_path: Path) -> None:
    log_path = tmp_path / "gateway.log"
    LOG_FILES.append(log_path)
    with live_gateway(settings.state_path, log_path) as base:
        # Fuzz a gateway that is ready (its brand-voice model warmed up): until then /readyz says 503 on
        # purpose, which the no-5xx check would count against the schema.
        deadline = time.monotonic() + 180
        while httpx.get(f"{base}/readyz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "the gateway never became ready"
            time.sleep(0.5)
        email, password = f"st-{uuid.uuid4().hex[:8]}@example.test", f"pw-{uuid.uuid4().hex}"
        r = httpx.post(
            f"{base}/v1/auth/signup", json={"company_name": "Fuzz", "email": email, "password": password}
        )
        assert r.status_code == 202, r.text
        r = httpx.post(f"{base}/v1/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        remember(password, token, r.json()["refresh_token"])
        h = {"Authorization": f"Bearer {token}"}
        httpx.post(f"{base}/v1/pipelines", headers=h, json={"name": "seed", "sheet_id": sheet()})
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                f"{base}/openapi.json",
                "-H",
                f"Authorization: Bearer {token}",
                "--checks",
                CHECKS,
                "--max-examples",
                "10",
                "--seed",
                "1",
                "--phases",
                "examples,coverage,fuzzing",
                # One worker: two threads describing Hypothesis strategies parse source with `ast` at
                # once, which CPython 3.11 reports as "AST constructor recursion depth mismatch".
                "--workers",
                "1",
                "--request-timeout",
                "10",
                "--no-shrink",
                "--max-time",
                "45",  # every operation's examples and coverage phases fit; fuzzing gets what is left
                "--output-sanitize",
                "true",
                "--suppress-health-check",
                "all",
            ],
            capture_output=True,
            text=True,
            timeout=240,
        )
        (tmp_path / "schemathesis.out").write_text(run.stdout + run.stderr)
    errors = run.stdout.split("= ERRORS =", 1)[-1][:4000] if "= ERRORS =" in run.stdout else ""
    assert run.returncode == 0, errors + run.stdout[-4000:] + run.stderr[-2000:]
