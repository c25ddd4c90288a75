"""The emulators as a stack component: ``python -m emulators`` on loopback, ports from settings.

``provider_env`` gives the ``ICOP_*`` variables that point every connector at these emulators
(the embedded default); the real services are the same variables with real URLs and keys.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx
from pydantic import SecretStr

from icop.offline import apply_offline_env
from icop.settings import EMULATOR_KEY, Settings, emulator_provider_settings

from .processes import Port, StackError, alive, require_free, spawn, stop_session, wait_for_port


def cert_dir(settings: Settings) -> Path:
    return settings.state_path / "emulators"


def provider_env(settings: Settings) -> dict[str, str]:
    """The ``ICOP_*`` variables that point every connector at the emulators of this stack."""
    env = {}
    for values in emulator_provider_settings(settings).values():
        for name, value in values.items():
            env[f"ICOP_{name.upper()}"] = (
                value.get_secret_value() if isinstance(value, SecretStr) else str(value)
            )
    return env


class EmulatorsComponent:
    name = "emulators"

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.dir = cert_dir(settings)

    @property
    def address(self) -> str:
        return f"http://{self.s.bind_host}:{self.s.emulator_port}"

    def ports(self) -> list[Port]:
        host = self.s.bind_host
        return [
            (host, self.s.emulator_port, "The emulators", "ICOP_EMULATOR_PORT"),
            (host, self.s.fal_emulator_port, "The fal emulator", "ICOP_FAL_EMULATOR_PORT"),
            (host, self.s.social_emulator_port, "The social emulator", "ICOP_SOCIAL_EMULATOR_PORT"),
        ]

    def start(self) -> int:
        host = self.s.bind_host
        for port in self.ports():
            require_free(*port)
        self.dir.mkdir(parents=True, exist_ok=True)
        root = Path(__file__).resolve().parent.parent
        argv = [
            sys.executable, "-m", "emulators", "--host", host, "--port", str(self.s.emulator_port),
            "--fal-port", str(self.s.fal_emulator_port), "--social-port", str(self.s.social_emulator_port),
            "--cert-dir", str(self.dir), "--llm-key", EMULATOR_KEY,
        ]  # fmt: skip
        proc = spawn(argv, self.dir / "emulators.log", env=apply_offline_env(dict(os.environ)), cwd=root)
        ok = (
            wait_for_port(host, self.s.emulator_port, 30, proc)
            and wait_for_port(host, self.s.fal_emulator_port, 10, proc)
            and wait_for_port(host, self.s.social_emulator_port, 30, proc)
        )
        if not ok or not self._healthy():
            stop_session(proc.pid)
            raise StackError(f"The emulators did not start; see {self.dir / 'emulators.log'}")
        return proc.pid

    def _healthy(self) -> bool:
        try:
            with httpx.Client(trust_env=False, timeout=2) as c:
                social = f"http://{self.s.bind_host}:{self.s.social_emulator_port}/_admin/health"
                return all(c.get(u).status_code == 200 for u in (f"{self.address}/_admin/health", social))
        except httpx.HTTPError:
            return False

    def stop(self, sid: int) -> None:
        stop_session(sid, grace=5)

    def status(self, sid: int | None):
        from .stack import ComponentStatus

        running = alive(sid)
        healthy = running and self._healthy()
        detail = (
            f"fal (TLS) on {self.s.bind_host}:{self.s.fal_emulator_port}, "
            f"social on {self.s.bind_host}:{self.s.social_emulator_port}"
        )
        return ComponentStatus(self.name, self.address, running, healthy, sid, detail)
