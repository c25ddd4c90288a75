"""The login page's ``next`` parameter (where to go after logging in): only a path of this site, never a
way off it (``/\\t/evil.example`` is ``//evil.example`` to a browser), never a 500 (control characters,
non-ASCII). The validator is the dashboard's own TypeScript, compiled by its TypeScript and run by Node."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cluster.dashboard import DASHBOARD_DIR, install_deps, node_env

CASES = {
    # off-site, in every spelling a browser would follow
    "//evil.example": "/",
    "/\t/evil.example": "/",
    "/%09/evil.example": "/%09/evil.example",  # stays encoded: a path on this site, not a host
    "/\\evil.example": "/",
    "/\\\\evil.example": "/",
    "/\n/evil.example": "/",
    "/\r\n/evil.example": "/",
    " //evil.example": "/",
    "https://evil.example/": "/",
    "javascript:alert(1)": "/",
    "http:/evil.example": "/",
    "": "/",
    "evil.example": "/",
    "/.//evil.example": "/",  # a browser resolves it to //evil.example
    "/a/..//evil.example": "/",  # ... and this one too
    # on-site: kept, non-ASCII encoded so a Location header can carry it
    "/": "/",
    "/pipelines/123?tab=runs": "/pipelines/123?tab=runs",
    "/articles?q=한": "/articles?q=%ED%95%9C",
    "/runs/1#live": "/runs/1#live",
}


@pytest.fixture(scope="module")
def safe_next(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("next-path")
    install_deps(out / "npm.log", DASHBOARD_DIR)
    tsc = DASHBOARD_DIR / "node_modules" / "typescript" / "bin" / "tsc"
    src = DASHBOARD_DIR / "src" / "lib" / "next-path.ts"
    r = subprocess.run(
        ["node", str(tsc), "--module", "commonjs", "--target", "es2022", "--outDir", str(out), str(src)],
        capture_output=True, text=True, env=node_env(), timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    return out / "next-path.js"


def test_next_parameter_stays_on_this_site(safe_next: Path) -> None:
    script = (
        f"const {{ safeNext }} = require({json.dumps(str(safe_next))});"
        "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(cases.map((c) => safeNext(c))));"
    )
    r = subprocess.run(["node", "-e", script], input=json.dumps(list(CASES)), capture_output=True,
                       text=True, env=node_env(), timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    got = dict(zip(CASES, json.loads(r.stdout), strict=True))
    assert got == CASES
    for value in got.values():  # what a Location header may carry, and a browser reads as a path here
        assert value.startswith("/") and not value.startswith(("//", "/\\")) and value.isascii()
        assert all(0x20 < ord(ch) < 0x7F for ch in value)


def test_dashboard_sends_security_headers_on_every_page() -> None:
    """next.config.ts: a CSP that allows only this origin and no framing, with the usual companions."""
    config = (DASHBOARD_DIR / "next.config.ts").read_text()
    needed = ['source: "/:path*"', "Content-Security-Policy", "default-src 'self'", "object-src 'none'",
              "frame-ancestors 'none'", "base-uri 'self'", '"X-Content-Type-Options", value: "nosniff"',
              '"X-Frame-Options", value: "DENY"', "Referrer-Policy", "Strict-Transport-Security"]  # fmt: skip
    for header in needed:
        assert header in config, header
