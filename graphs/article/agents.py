"""The role-based agents (CrewAI) behind the graph's nodes.

``CrewAgents`` runs each role as a CrewAI agent on CrewAI's native provider for its vendor:
``crewai.LLM(model="openai/<model>")`` for GPT, ``crewai.LLM(model="gemini/<model>")`` (google-genai, the
Gemini API's ``generateContent``) for Gemini, pointed at the configured base URL (our emulator offline).
``LlmAgents`` runs the same roles as plain connector calls: used when the agents' provider has no key
(the in-process offline provider has no HTTP endpoint for CrewAI to call).
Call ``icop.offline.apply_offline_env()`` before building ``CrewAgents`` (it imports crewai).
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from typing import Any, Protocol

from icop.connectors.config import LlmName, llm_endpoint
from icop.connectors.llm import LLM, ChatRequest, make_llm
from icop.settings import Settings

from .prompts import ROLES, Role


@dataclass(frozen=True)
class AgentReply:
    role: str
    text: str
    provider: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    offline: bool = False
    """Made by the offline provider (placeholder text), not a model."""


class Agents(Protocol):
    """Runs one role on one prompt."""

    async def run(self, role: str, prompt: str) -> AgentReply: ...


def _system(role: Role) -> str:
    return f"You are {role.role}. {role.backstory} Your goal: {role.goal}."


class LlmAgents:
    """The roles as plain connector calls (system prompt = role, goal, backstory)."""

    def __init__(self, llm: LLM, max_tokens: int = 1800) -> None:
        self.llm = llm
        self.max_tokens = max_tokens

    async def run(self, role: str, prompt: str) -> AgentReply:
        spec = ROLES[role]
        res = await self.llm.complete(
            ChatRequest(
                messages=[{"role": "system", "content": _system(spec)}, {"role": "user", "content": prompt}],
                max_tokens=self.max_tokens,
                operation=f"agent:{role}",
            )
        )
        return AgentReply(
            role, res.text, res.provider, res.model, res.prompt_tokens, res.completion_tokens, res.offline
        )


class CrewAgents:
    """The roles as CrewAI agents, one ``Agent`` per role, built once and reused."""

    def __init__(
        self, provider: str, model: str, base_url: str, api_key: str, timeout_s: float = 60.0
    ) -> None:
        os.environ.setdefault("CREWAI_STORAGE_DIR", str(_storage_dir()))
        # its "approximate token count" warning fires on every call against OpenAI-compatible endpoints
        logging.getLogger("crewai.llms.base_llm").setLevel(logging.ERROR)
        from crewai import LLM as CrewLLM
        from crewai import Agent
        from crewai.events.event_listener import event_listener

        # CrewAI's global listener draws a console panel per agent start/finish whatever `verbose` says:
        # in a worker that is noise in the logs (our own logs and usage records say what ran).
        event_listener.formatter.verbose = False
        self.provider, self.model = provider, model
        self.llm = CrewLLM(**_crew_llm_args(provider, model, base_url, api_key, timeout_s))
        self._agents: dict[str, Any] = {}
        self._agent_cls = Agent

    def _agent(self, role: str) -> Any:
        if role not in self._agents:
            spec = ROLES[role]
            self._agents[role] = self._agent_cls(
                role=spec.role,
                goal=spec.goal,
                backstory=spec.backstory,
                llm=self.llm,
                verbose=False,
                allow_delegation=False,
                max_iter=1,
            )
        return self._agents[role]

    async def run(self, role: str, prompt: str) -> AgentReply:
        out = await self._agent(role).kickoff_async(prompt)
        usage = getattr(out, "usage_metrics", None) or {}
        return AgentReply(
            role,
            str(out.raw or ""),
            self.provider,
            self.model,
            int(usage.get("prompt_tokens", 0) or 0),
            int(usage.get("completion_tokens", 0) or 0),
        )


def _crew_llm_args(
    provider: str, model: str, base_url: str, api_key: str, timeout_s: float
) -> dict[str, Any]:
    """``crewai.LLM`` arguments for ``provider``'s native CrewAI provider."""
    if provider == "gemini":
        # google-genai takes its base URL and timeout (milliseconds) in http_options; three attempts in
        # all, as CrewAI's OpenAI provider makes
        http = {"base_url": base_url, "timeout": int(timeout_s * 1000), "retry_options": {"attempts": 3}}
        return {"model": f"gemini/{model}", "api_key": api_key, "client_params": {"http_options": http}}
    return {"model": f"openai/{model}", "base_url": base_url, "api_key": api_key, "timeout": timeout_s}


def _storage_dir() -> str:
    path = os.path.join(tempfile.gettempdir(), f"icop-crewai-{os.getuid()}")
    os.makedirs(path, exist_ok=True)
    return path


def make_agents(settings: Settings, provider: LlmName = "gpt", storage_dir: str | None = None) -> Agents:
    """CrewAI agents on ``provider``'s endpoint when it has a key, else the offline provider in-process."""
    ep = llm_endpoint(settings, provider)
    if not ep.api_key:
        return LlmAgents(make_llm(settings, provider))
    if storage_dir:
        os.environ["CREWAI_STORAGE_DIR"] = storage_dir
    else:
        os.environ.setdefault("CREWAI_STORAGE_DIR", str(settings.state_path / "crewai"))
    return CrewAgents(provider, ep.model, ep.base_url, ep.api_key, settings.provider_timeout_s)
