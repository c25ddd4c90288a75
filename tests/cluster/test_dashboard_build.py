"""The dashboard's build cache (cluster/dashboard.py) and where the app components run: ``npm ci`` only for
a missing ``node_modules`` or a changed lock, ``next build`` only for changed sources; the app processes
are part of ``icop stack up`` but not of a test session's stack. A stand-in ``npm`` on the PATH given to the
build records each call, so these run in milliseconds without Node. (The stand-in's PATH is passed, never
set in ``os.environ``: the session's real dashboard build may be running in a thread of this process.)"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from cluster.dashboard import BuildResult, build_current, deps_current, ensure_built, source_hash
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


@dataclass(frozen=True)
class App:
    root: Path
    env: dict[str, str]  # PATH with the stand-in npm first, and where it records its calls

    def build(self) -> BuildResult:
        return ensure_built(self.root.parent / "build.log", self.root, env=self.env)

    def calls(self) -> list[str]:
        f = self.root.parent / "calls"
        return f.read_text().splitlines() if f.exists() else []


@pytest.fixture
def app(tmp_path: Path) -> App:
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
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "NPM_CALLS": str(tmp_path / "calls")}
    return App(root, env)


def test_builds_once_and_again_only_for_changes(app: App) -> None:
    first = app.build()
    assert first.installed and first.built and app.calls() == ["ci --no-audit --no-fund", "run build"]
    assert deps_current(app.root) and build_current(app.root)

    again = app.build()  # nothing changed (next-env.d.ts, written by the build, is not a source)
    assert not again.installed and not again.built and len(app.calls()) == 2

    (app.root / "src" / "app" / "page.tsx").write_text("export default function P() { return <p />; }\n")
    assert not build_current(app.root)
    changed = app.build()  # a source changed: build, no install
    assert not changed.installed and changed.built and app.calls()[2:] == ["run build"]

    (app.root / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    relocked = app.build()  # a new lock: install and build
    assert (
        relocked.installed and relocked.built and app.calls()[3:] == ["ci --no-audit --no-fund", "run build"]
    )

    shutil.rmtree(app.root / "node_modules")
    reinstalled = app.build()  # packages gone, sources unchanged: install only
    assert reinstalled.installed and not reinstalled.built


def test_hash_ignores_what_is_not_source(app: App) -> None:
    root = app.root
    before = source_hash(root)
    (root / "node_modules" / "pkg").mkdir(parents=True)
    (root / "node_modules" / "pkg" / "index.js").write_text("x")
    (root / ".next").mkdir()
    (root / ".next" / "BUILD_ID").write_text("abc")
    (root / "next-env.d.ts").write_text("/// generated")
    (root / "tsconfig.tsbuildinfo").write_text("{}")
    assert source_hash(root) == before
    (root / "src" / "app" / "new.tsx").write_text("export {};\n")
    assert source_hash(root) != before


def test_a_failed_build_says_where_to_look(app: App) -> None:
    (app.root.parent / "bin" / "npm").write_text("#!/bin/sh\necho 'Type error: boom' >&2\nexit 1\n")
    with pytest.raises(StackError, match=r"(?s)npm ci failed.*boom"):
        app.build()
    assert not deps_current(app.root)


def test_test_sessions_do_not_run_the_apps(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    infra = ["postgres", "temporal", "ray", "emulators", "rabbitmq", "s3"]
    assert [c.name for c in LocalStack(settings).components] == infra
    assert [c.name for c in LocalStack(settings, apps=True).components] == [
        *infra,
        "gateway",
        "worker",
        "dashboard",
    ]
