"""The dashboard's TypeScript type check (``tsc --noEmit``, strict, against the types generated from the
gateway's OpenAPI schema) and its linter (ESLint with eslint-config-next, zero warnings) run clean; both
are part of the README's test command through this file."""

from __future__ import annotations

import json
import re
import subprocess
import time

import pytest

from cluster.dashboard import DASHBOARD_DIR, BuildResult, node_env

from .conftest import record

pytestmark = pytest.mark.slow


def _npm(script: str) -> subprocess.CompletedProcess[str]:
    t0 = time.monotonic()
    r = subprocess.run(
        ["npm", "run", "--silent", script],
        cwd=DASHBOARD_DIR,
        env=node_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    record(f"npm run {script}", time.monotonic() - t0)
    return r


def test_scripts_are_the_contract() -> None:
    scripts = json.loads((DASHBOARD_DIR / "package.json").read_text())["scripts"]
    assert "tsc --noEmit" in scripts["typecheck"]
    assert "eslint" in scripts["lint"] and re.search(r"--max-warnings[ =]0\b", scripts["lint"])


def test_typecheck_is_clean(dashboard_build: BuildResult) -> None:
    r = _npm("typecheck")
    assert r.returncode == 0, (r.stdout + r.stderr)[-6000:]


def test_lint_is_clean(dashboard_build: BuildResult) -> None:
    r = _npm("lint")
    assert r.returncode == 0, (r.stdout + r.stderr)[-6000:]


def test_the_committed_api_schema_is_the_gateways() -> None:
    """The dashboard's types are generated from ``dashboard/openapi.json``: that file must be what the
    gateway serves now, or the type check would pass against an old API (`npm run gen:api` refreshes it)."""
    from gateway.app import create_app
    from icop.settings import Settings

    committed = json.loads((DASHBOARD_DIR / "openapi.json").read_text())
    assert create_app(Settings(env="development")).openapi() == committed, (
        "run `npm run gen:api` in dashboard/"
    )
