"""Fixtures for the agent graph: the session stack's emulators, settings pointing the three LLM
providers at them, the admin client (knobs, request log), and helpers to read the log."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from cluster.emulators import EmulatorsComponent, provider_env
from cluster.stack import LocalStack
from emulators.client import EmulatorAdmin
from graphs.article.writers import WRITER_MARK
from icop.db import tenant_tx
from icop.settings import Settings

LLM_SERVICES = ("gpt", "claude", "gemini")


def emulator_settings(comp: EmulatorsComponent, **overrides: Any) -> Settings:
    env = {k.removeprefix("ICOP_").lower(): v for k, v in provider_env(comp.s).items()}
    base: dict[str, Any] = {
        "state_dir": comp.s.state_dir,
        "emulator_port": comp.s.emulator_port,
        "fal_emulator_port": comp.s.fal_emulator_port,
        "provider_timeout_s": 10.0,
        "provider_max_attempts": 2,
    }
    return Settings(**{**base, **env, **overrides})


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


def body_text(entry: dict[str, Any]) -> str:
    """A logged LLM request's prompt: the system prompt (Anthropic's top-level ``system`` too) and the turns,
    or Gemini's system instruction and contents."""
    body = entry.get("body") or {}
    if not isinstance(body, dict):
        return ""
    if "contents" in body:  # Gemini
        turns = [body.get("systemInstruction") or {}, *body["contents"]]
        return "\n".join(str(p.get("text", "")) for t in turns for p in t.get("parts") or [])
    system = body.get("system")
    parts = [system] if isinstance(system, str) else [str(b.get("text", "")) for b in system or []]
    parts += [str(body["instructions"])] if body.get("instructions") else []  # OpenAI's Responses API
    turns = body.get("input") or body.get("messages") or []
    parts += [str(m.get("content", "")) for m in turns if isinstance(m, dict)]
    return "\n".join(parts)


def llm_requests(admin: EmulatorAdmin, since: int = 0) -> list[dict[str, Any]]:
    return [e for s in LLM_SERVICES for e in admin.requests(s, since)]


def writer_requests(admin: EmulatorAdmin, since: int = 0) -> list[dict[str, Any]]:
    return [e for e in llm_requests(admin, since) if WRITER_MARK in body_text(e)]


def agent_requests(admin: EmulatorAdmin, role: str, since: int = 0) -> list[dict[str, Any]]:
    """Requests made by the CrewAI agent with that role (its system prompt starts "You are <role>.")."""
    return [e for e in admin.requests("gpt", since) if body_text(e).startswith(f"You are {role}.")]


async def new_tenant_with_article(pool: Any) -> tuple[uuid.UUID, uuid.UUID]:
    tid, aid = uuid.uuid4(), uuid.uuid4()
    async with tenant_tx(pool, tid) as conn:
        await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, $2)", tid, f"graph-{tid.hex[:8]}")
        await conn.execute(
            "INSERT INTO generated_articles (id, tenant_id, language, mode) VALUES ($1, $2, 'en', 'compare')",
            aid,
            tid,
        )
    return tid, aid
