"""Build the dashboard (``dashboard/``, Next.js) once and keep it: ``npm ci`` only when ``node_modules`` is
missing or ``package-lock.json`` changed, ``next build`` only when the dashboard's sources changed.

Both steps leave a stamp with the hash they were made from: ``node_modules/.icop-lock.sha256`` (the lock
file's hash) and ``.next/.icop-build.sha256`` (a hash over every source file: the lock, the configs,
``src/``, ``public/``, …; ``node_modules``, ``.next`` and generated files excluded). A stamp that matches
means the step is skipped. Builds of one checkout are serialised with a lock file, so the stack and a test
session cannot run ``next build`` over each other.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import StackError  # standard library only: the install script runs this module early

# ICOP_DASHBOARD_DIR: another checkout of dashboard/ to build and serve (e.g. a copy being worked on)
DASHBOARD_DIR = Path(
    os.environ.get("ICOP_DASHBOARD_DIR") or Path(__file__).resolve().parent.parent / "dashboard"
).resolve()
LOCK_STAMP = ".icop-lock.sha256"
BUILD_STAMP = ".icop-build.sha256"
# Not sources: installed packages, build output, caches and files a build or an editor writes itself.
SKIP_DIRS = {"node_modules", ".next", "out", ".turbo", ".swc", "coverage", "test-results", ".git"}
SKIP_FILES = {"next-env.d.ts", ".DS_Store"}
SKIP_SUFFIXES = (".tsbuildinfo", ".log")


def node_env(extra: dict[str, str] | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for npm and Next (``base``, default this process's): telemetry off, no update checks,
    no funding/audit chatter."""
    return {
        **(os.environ if base is None else base),
        "NEXT_TELEMETRY_DISABLED": "1",
        "NPM_CONFIG_UPDATE_NOTIFIER": "false",
        "NPM_CONFIG_FUND": "false",
        "NPM_CONFIG_AUDIT": "false",
        **(extra or {}),
    }


def require_node(env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """Paths of ``node`` and ``npm`` on ``env``'s PATH (default this process's), or a StackError that says
    what to install."""
    path = (os.environ if env is None else env).get("PATH")
    node, npm = shutil.which("node", path=path), shutil.which("npm", path=path)
    if not node or not npm:
        raise StackError(
            "the dashboard needs Node.js 20 and npm on PATH (e.g. Debian's nodejs and npm packages)"
        )
    return node, npm


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_files(root: Path = DASHBOARD_DIR) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            if name in SKIP_FILES or name.endswith(SKIP_SUFFIXES):
                continue
            yield Path(dirpath) / name


def source_hash(root: Path = DASHBOARD_DIR) -> str:
    """One hash over every source file's path and bytes (what ``next build`` reads)."""
    h = hashlib.sha256()
    for path in source_files(root):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(_sha256(path).encode() + b"\n")
    return h.hexdigest()


def _stamp(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


@contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """One build of a checkout at a time (the stack's and a test session's)."""
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    with open(f"/tmp/icop-dashboard-{key}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@dataclass(frozen=True)
class BuildResult:
    installed: bool  # npm ci ran
    built: bool  # next build ran
    install_s: float
    build_s: float
    build_hash: str


def _run(argv: list[str], root: Path, log: Path, what: str, env: Mapping[str, str]) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        # a build is background work: at a lower priority it leaves the CPU to the services (and, in the
        # test suite, to Ray nodes starting beside it, whose agents have 15 s to come up)
        nice = ["nice", "-n", "10"] if shutil.which("nice") else []
        r = subprocess.run(
            [*nice, *argv], cwd=root, env=node_env(base=env), stdout=out, stderr=subprocess.STDOUT
        )
    if r.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise StackError(f"{what} failed (exit {r.returncode}); see {log}:\n{tail}")


def deps_current(root: Path = DASHBOARD_DIR) -> bool:
    lock = root / "package-lock.json"
    return (root / "node_modules").is_dir() and _stamp(root / "node_modules" / LOCK_STAMP) == _sha256(lock)


def build_current(root: Path = DASHBOARD_DIR) -> bool:
    next_dir = root / ".next"
    return (next_dir / "BUILD_ID").is_file() and _stamp(next_dir / BUILD_STAMP) == source_hash(root)


def ensure_built(
    log: Path,
    root: Path = DASHBOARD_DIR,
    progress: Callable[[str], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> BuildResult:
    """``npm ci`` and ``next build`` as needed (see the module doc); returns what ran and how long it took.

    ``env`` is the environment npm runs in, taken once (default: a copy of this process's now), so a build
    in a background thread is not changed by what the rest of the process later does to ``os.environ``.
    """
    env = dict(os.environ if env is None else env)
    _, npm = require_node(env)
    lock = root / "package-lock.json"
    if not (root / "package.json").is_file() or not lock.is_file():
        raise StackError(f"{root} has no package.json and package-lock.json: is the dashboard checked out?")
    with build_lock(root):
        installed, t_install = _install_deps(npm, lock, root, log, progress, env)
        built, t_build = False, 0.0
        digest = source_hash(root)
        next_dir = root / ".next"
        # the lock file is one of the sources: new packages mean a new build
        if not ((next_dir / "BUILD_ID").is_file() and _stamp(next_dir / BUILD_STAMP) == digest):
            if progress:
                progress("dashboard: next build")
            t0 = time.monotonic()
            _run([npm, "run", "build"], root, log, "next build", env)
            (next_dir / BUILD_STAMP).write_text(digest + "\n")
            built, t_build = True, time.monotonic() - t0
        return BuildResult(installed, built, t_install, t_build, digest)


def _install_deps(
    npm: str,
    lock: Path,
    root: Path,
    log: Path,
    progress: Callable[[str], None] | None,
    env: Mapping[str, str],
) -> tuple[bool, float]:
    """``npm ci`` unless node_modules already matches the lock; (ran, seconds)."""
    if deps_current(root):
        return False, 0.0
    if progress:
        progress("dashboard: npm ci")
    t0 = time.monotonic()
    _run([npm, "ci", "--no-audit", "--no-fund"], root, log, "npm ci", env)
    (root / "node_modules" / LOCK_STAMP).write_text(_sha256(lock) + "\n")
    return True, time.monotonic() - t0


def install_deps(log: Path, root: Path = DASHBOARD_DIR) -> bool:
    """Only the packages (the install step runs this, so that tests and the stack need no registry)."""
    env = dict(os.environ)
    _, npm = require_node(env)
    with build_lock(root):
        return _install_deps(npm, root / "package-lock.json", root, log, print, env)[0]


def main() -> None:
    """``python -m cluster.dashboard deps|build``: the packages, or the packages and the build."""
    import sys

    log = Path(tempfile.gettempdir()) / "icop-dashboard-install.log"
    what = sys.argv[1] if len(sys.argv) > 1 else "deps"
    try:
        install_deps(log) if what == "deps" else ensure_built(log, progress=print)
    except StackError as e:
        raise SystemExit(f"dashboard: {e} (log: {log})") from None


def next_bin(root: Path = DASHBOARD_DIR) -> Path:
    return root / "node_modules" / "next" / "dist" / "bin" / "next"


if __name__ == "__main__":
    main()
