"""The dashboard's build cache (cluster/dashboard.py) and where the app components run: ``npm ci`` only for
a missing ``node_modules`` or a changed lock, ``next build`` only for changed sources; the app processes
are part of ``icop stack up`` but not of a test session's stack. A stand-in ``npm`` on PATH records each
call, so these run in milliseconds without Node."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from cluster.dashboard import build_current, deps_current, ensure_built, source_hash
from cluster.processes import StackError
from cluster.stack import LocalStack
from icop.settings import Settings

FAKE_NPM = """#!/bin/sh
echo "$@" >> "$NPM_CALLS"
case "$1" in
  ci) mkdir -p node_modules/next && echo installed > node_modules/next/package.json ;;
  run) [ "$2" = build ] && mkdir -p .next && echo "b-$$" > .next/BUILD_ID && echo gen > next-env.d.ts ;;
esac
"""


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "dashboard"
    (root / "src" / "app").mkdir(parents=True)
    (root / "package.json").write_text('{"name": "x"}')
    (root / "package-lock.json").write_text('{"lockfileVersion": 3}')
    (root / "src" / "app" / "page.tsx").write_text("export default function P() { return null; }\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("npm", "node"):
        (bin_dir / name).write_text(FAKE_NPM)
        (bin_dir / name).chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("NPM_CALLS", str(tmp_path / "calls"))
    return root


def calls(app: Path) -> list[str]:
    f = app.parent / "calls"
    return f.read_text().splitlines() if f.exists() else []


def test_builds_once_and_again_only_for_changes(app: Path) -> None:
    log = app.parent / "build.log"
    first = ensure_built(log, app)
    assert first.installed and first.built and calls(app) == ["ci --no-audit --no-fund", "run build"]
    assert deps_current(app) and build_current(app)

    again = ensure_built(log, app)  # nothing changed (next-env.d.ts, written by the build, is not a source)
    assert not again.installed and not again.built and len(calls(app)) == 2

    (app / "src" / "app" / "page.tsx").write_text("export default function P() { return <p />; }\n")
    assert not build_current(app)
    changed = ensure_built(log, app)  # a source changed: build, no install
    assert not changed.installed and changed.built and calls(app)[2:] == ["run build"]

    (app / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    relocked = ensure_built(log, app)  # a new lock: install and build
    assert (
        relocked.installed and relocked.built and calls(app)[3:] == ["ci --no-audit --no-fund", "run build"]
    )

    shutil.rmtree(app / "node_modules")
    reinstalled = ensure_built(log, app)  # packages gone, sources unchanged: install only
    assert reinstalled.installed and not reinstalled.built


def test_hash_ignores_what_is_not_source(app: Path) -> None:
    before = source_hash(app)
    (app / "node_modules" / "pkg").mkdir(parents=True)
    (app / "node_modules" / "pkg" / "index.js").write_text("x")
    (app / ".next").mkdir()
    (app / ".next" / "BUILD_ID").write_text("abc")
    (app / "next-env.d.ts").write_text("/// generated")
    (app / "tsconfig.tsbuildinfo").write_text("{}")
    assert source_hash(app) == before
    (app / "src" / "app" / "new.tsx").write_text("export {};\n")
    assert source_hash(app) != before


def test_a_failed_build_says_where_to_look(app: Path) -> None:
    (app.parent / "bin" / "npm").write_text("#!/bin/sh\necho 'Type error: boom' >&2\nexit 1\n")
    with pytest.raises(StackError, match=r"(?s)npm ci failed.*boom"):
        ensure_built(app.parent / "build.log", app)
    assert not deps_current(app)


def test_test_sessions_do_not_run_the_apps(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    infra = ["postgres", "temporal", "ray", "emulators", "rabbitmq"]
    assert [c.name for c in LocalStack(settings).components] == infra
    assert [c.name for c in LocalStack(settings, apps=True).components] == [
        *infra,
        "gateway",
        "worker",
        "dashboard",
    ]
