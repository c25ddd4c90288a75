"""Fixtures for research: the session stack's emulators (search engines and the pages they point at),
settings pointing Tavily, Naver and the fetcher's development allow-list at them, and helpers that read
the emulators' request log."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from cluster.emulators import EmulatorsComponent
from cluster.stack import LocalStack
from emulators.client import EmulatorAdmin
from icop.db import tenant_tx
from icop.settings import Settings
from tests.graphs.conftest import emulator_settings

__all__ = ["emulator_settings"]


@pytest.fixture(scope="session")
def emulators(stack: LocalStack) -> EmulatorsComponent:
    return next(c for c in stack.components if isinstance(c, EmulatorsComponent))


@pytest.fixture(scope="session")
def emu_settings(emulators: EmulatorsComponent) -> Settings:
    return emulator_settings(emulators)


@pytest.fixture
def admin(emulators: EmulatorsComponent) -> Iterator[EmulatorAdmin]:
    a = EmulatorAdmin(emulators.address)
    a.reset()
    yield a
    a.reset()
    a.close()


def page_gets(admin: EmulatorAdmin, since: int = 0) -> list[dict[str, Any]]:
    """The emulated web's page requests (robots.txt left out)."""
    return [e for e in admin.requests("web", since) if e["path"] != "/robots.txt"]


def fetched_urls(admin: EmulatorAdmin, root: str, since: int = 0) -> set[str]:
    """Full URLs of the pages served whole (200) since ``since``."""
    return {root + e["path"] for e in page_gets(admin, since) if e["status"] == 200}


_EN_SYLLABLES = ["va", "lor", "quen", "tri", "mos", "bel", "dra", "cun", "sith", "par", "olo", "zen"]
_KO_SYLLABLES = "가나다라마바사아자차카타파하고노도로모보소오조호구누두루무부수우주후"


def unseen_topic(language: str) -> str:
    """A topic no code or test contains: built from a made-up word at run time."""
    rng = random.Random(uuid.uuid4().int)
    if language == "ko":
        word = "".join(rng.choice(_KO_SYLLABLES) for _ in range(3))
        return f"{word} 협동조합의 겨울철 운영 방법"
    word = "".join(rng.choice(_EN_SYLLABLES) for _ in range(3))
    return f"How {word} cooperatives plan for winter"


async def new_tenant(pool: Any) -> uuid.UUID:
    tid = uuid.uuid4()
    async with tenant_tx(pool, tid) as conn:
        await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, $2)", tid, f"research-{tid.hex[:8]}")
    return tid
