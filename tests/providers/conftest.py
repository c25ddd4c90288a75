"""Fixtures for the provider tests: the session stack's emulator process (started by the same
component as `icop stack up`), settings that point every connector at it, and its admin client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cluster.emulators import EmulatorsComponent, provider_env
from cluster.stack import LocalStack, StackState
from emulators.client import EmulatorAdmin
from icop.settings import Settings

from .netaudit import AUDIT

AUDIT.install()


@pytest.fixture(scope="session")
def emulators(stack: LocalStack) -> tuple[EmulatorsComponent, int]:
    """The session stack's emulators (the component `icop stack up` starts).

    One emulator process per test session: fal-client fixes its host for the whole process when it
    is first imported, so every test in a session must talk to the same fal emulator.
    """
    comp = next(c for c in stack.components if isinstance(c, EmulatorsComponent))
    sid = StackState.load(stack.state_file).sessions["emulators"]
    AUDIT.watch(sid)
    return comp, sid


def emulator_settings(comp: EmulatorsComponent, **overrides: Any) -> Settings:
    """Settings with every provider pointed at the emulators (``ICOP_*`` names, lower-cased)."""
    env = {k.removeprefix("ICOP_").lower(): v for k, v in provider_env(comp.s).items()}
    base: dict[str, Any] = {
        "state_dir": comp.s.state_dir,
        "emulator_port": comp.s.emulator_port,
        "fal_emulator_port": comp.s.fal_emulator_port,
        "provider_timeout_s": 10.0,
        "provider_max_attempts": 3,
    }
    return Settings(**{**base, **env, **overrides})


@pytest.fixture(scope="session")
def emu_settings(emulators: tuple[EmulatorsComponent, int]) -> Settings:
    return emulator_settings(emulators[0])


@pytest.fixture
def admin(emulators: tuple[EmulatorsComponent, int]) -> Iterator[EmulatorAdmin]:
    """The admin client, with knobs, log and state reset before each test."""
    a = EmulatorAdmin(emulators[0].address)
    a.reset()
    yield a
    a.reset()
    a.close()


@pytest.fixture(scope="session")
def cert_dir(emulators: tuple[EmulatorsComponent, int]) -> Path:
    return emulators[0].dir


async def new_tenant(pool, name: str):
    """A tenant row, created the only way the app role can: inside its own tenant transaction."""
    import uuid

    from icop.db import tenant_tx

    tid = uuid.uuid4()
    async with tenant_tx(pool, tid) as conn:
        await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, $2)", tid, name)
    return tid


async def usage_rows(pool, tenant_id, columns: str):
    from icop.db import tenant_tx

    async with tenant_tx(pool, tenant_id) as conn:
        return await conn.fetch(f"SELECT {columns} FROM usage_records ORDER BY id")
