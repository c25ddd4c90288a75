"""The embedded RabbitMQ node: Debian's ``rabbitmq-server``, run as the ``rabbitmq`` OS user, on loopback.

Everything the node binds is on 127.0.0.1 and on ports from settings: AMQP (``ICOP_RABBITMQ_PORT``),
Erlang distribution (``ICOP_RABBITMQ_DIST_PORT``) and its own epmd (``ICOP_RABBITMQ_EPMD_PORT``),
started in the same session so that stopping the stack stops it too. Data and logs live under
``<state>/rabbitmq``. In production ``ICOP_RABBITMQ_URL`` points at a real broker instead.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import time
from pathlib import Path

from icop.settings import Settings

from .processes import Port, StackError, alive, require_free, spawn, stop_session, wait_for_port

RABBITMQ_OS_USER = "rabbitmq"
SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
NODE_NAME = "icop@localhost"
AMQP_HEADER = b"AMQP\x00\x00\x09\x01"


def amqp_ready(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when the broker answers the AMQP 0-9-1 protocol header with a Connection.Start frame."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(AMQP_HEADER)
            head = s.recv(7)
            return len(head) == 7 and head[0] == 1  # frame type 1: a method frame (Connection.Start)
    except OSError:
        return False


class RabbitMQComponent:
    name = "rabbitmq"

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.dir = settings.state_path / "rabbitmq"

    @property
    def address(self) -> str:
        return f"amqp://{self.s.bind_host}:{self.s.rabbitmq_port}"

    def _as_user(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        try:
            pwd.getpwnam(RABBITMQ_OS_USER)
        except KeyError as e:
            raise StackError("the rabbitmq OS user is missing: run scripts/install.sh") from e
        return ["runuser", "-u", RABBITMQ_OS_USER, "--"]

    def _prepare(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)
        plugins = self.dir / "enabled_plugins"
        if not plugins.exists():
            plugins.write_text("[].\n")  # no plugins: no management listener, nothing else to bind
        for sub in ("mnesia", "log"):
            (self.dir / sub).mkdir(exist_ok=True)
        if os.geteuid() == 0:
            ent = pwd.getpwnam(RABBITMQ_OS_USER)
            for path in (self.dir, plugins, self.dir / "mnesia", self.dir / "log"):
                os.chown(path, ent.pw_uid, ent.pw_gid)

    def env(self) -> dict[str, str]:
        host, d = self.s.bind_host, self.dir
        return {
            "HOME": str(d),  # the Erlang cookie goes here
            "RABBITMQ_NODENAME": NODE_NAME,
            "RABBITMQ_NODE_IP_ADDRESS": host,
            "RABBITMQ_NODE_PORT": str(self.s.rabbitmq_port),
            "RABBITMQ_DIST_PORT": str(self.s.rabbitmq_dist_port),
            "ERL_EPMD_ADDRESS": host,
            "ERL_EPMD_PORT": str(self.s.rabbitmq_epmd_port),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            # Every other Erlang VM the scripts start (the CLI nodes they run on the side) listens for
            # distribution too, on a random port of every interface unless told otherwise.
            "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(d / "rabbitmq-env.conf"),  # not /etc/rabbitmq
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(d / "advanced.config"),
            "RABBITMQ_PID_FILE": str(d / "rabbitmq.pid"),
        }

    def ports(self) -> list[Port]:
        host = self.s.bind_host
        return [
            (host, self.s.rabbitmq_port, "RabbitMQ", "ICOP_RABBITMQ_PORT"),
            (host, self.s.rabbitmq_dist_port, "RabbitMQ (distribution)", "ICOP_RABBITMQ_DIST_PORT"),
            (host, self.s.rabbitmq_epmd_port, "RabbitMQ's epmd", "ICOP_RABBITMQ_EPMD_PORT"),
        ]

    def start(self) -> int:
        if not Path(SERVER).exists() or not shutil.which("epmd"):
            raise StackError("rabbitmq-server is not installed: run scripts/install.sh (apt rabbitmq-server)")
        host = self.s.bind_host
        for port in self.ports():
            require_free(*port)
        self._prepare()
        env_args = [f"{k}={v}" for k, v in self.env().items()]
        epmd = f"epmd -port {self.s.rabbitmq_epmd_port} -address {host}"
        # epmd runs in the foreground of this session (not -daemon): stopping the session stops it too.
        script = f"{epmd} & exec {SERVER}"
        argv = [*self._as_user(), "env", *env_args, "sh", "-c", script]
        log = self.dir / "rabbitmq.log"
        proc = spawn(argv, log, cwd=self.dir)
        if not wait_for_port(host, self.s.rabbitmq_port, 60, proc) or not self._ready(30):
            stop_session(proc.pid)
            tail = log.read_text()[-800:] if log.exists() else ""
            raise StackError(f"RabbitMQ did not start; see {log} and {self.dir / 'log'}:\n{tail}")
        return proc.pid

    def _ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if amqp_ready(self.s.bind_host, self.s.rabbitmq_port):
                return True
            time.sleep(0.1)
        return False

    def stop(self, sid: int) -> None:
        stop_session(sid, grace=15)  # SIGTERM: the node shuts down cleanly, then its epmd

    def status(self, sid: int | None):
        from .stack import ComponentStatus

        running = alive(sid)
        healthy = running and amqp_ready(self.s.bind_host, self.s.rabbitmq_port)
        return ComponentStatus(self.name, self.address, running, healthy, sid, "RabbitMQ (events)")
