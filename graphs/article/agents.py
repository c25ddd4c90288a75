"""The role-based agents (CrewAI) behind the graph's nodes.

``CrewAgents`` runs each role as a CrewAI agent on CrewAI's native provider for its vendor
(``crew_llm_args``): ``crewai.LLM(model="openai/<model>", api="responses")`` for GPT (the Responses API),
``"anthropic/<model>"`` (the ``anthropic`` SDK, Messages API) for Claude, ``"gemini/<model>"``
(google-genai, ``generateContent``) for Gemini, pointed at the configured base URL (our emulators offline).
``LlmAgents`` runs the same roles as plain connector calls: used when the agents' provider has no key
(the in-process offline provider has no HTTP endpoint for CrewAI to call).
Call ``icop.offline.apply_offline_env()`` before building ``CrewAgents`` (it imports crewai).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, Protocol, Self

from pydantic import BaseModel

from icop.connectors.config import LlmName, llm_endpoint
from icop.connectors.llm import LLM, ChatRequest, Message, make_llm
from icop.connectors.structured import output_schema
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
    cache_read_tokens: int = 0
    """Of ``prompt_tokens``: read from the vendor's prompt cache."""
    cache_write_tokens: int = 0
    """Of ``prompt_tokens``: written to it."""


Prompt = str | list[Message]
"""One user prompt, or a conversation after it (a repair turn: the answer given, then what was wrong)."""


class Agents(Protocol):
    """Runs one role on one prompt; with ``schema`` the answer is asked for as JSON following that model's
    strict schema through the vendor's native mechanism (``AgentReply.text`` is then that JSON, which
    the caller validates: ``icop.connectors.structured.ask_structured``)."""

    structured_attempts: int
    """How many answers a structured question may take (the first and its repairs)."""

    async def run(self, role: str, prompt: Prompt, schema: type[BaseModel] | None = None) -> AgentReply: ...


def _system(role: Role) -> str:
    return f"You are {role.role}. {role.backstory} Your goal: {role.goal}."


def _turns(prompt: Prompt) -> list[Message]:
    return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)


class LlmAgents:
    """The roles as plain connector calls (system prompt = role, goal, backstory)."""

    def __init__(self, llm: LLM, max_tokens: int = 1800, *, structured_attempts: int) -> None:
        self.llm = llm
        self.max_tokens = max_tokens
        self.structured_attempts = structured_attempts

    async def run(self, role: str, prompt: Prompt, schema: type[BaseModel] | None = None) -> AgentReply:
        spec = ROLES[role]
        res = await self.llm.complete(
            ChatRequest(
                messages=[{"role": "system", "content": _system(spec)}, *_turns(prompt)],
                max_tokens=self.max_tokens,
                operation=f"agent:{role}",
                schema=output_schema(schema) if schema is not None else None,
            )
        )
        return AgentReply(
            role,
            res.text,
            res.provider,
            res.model,
            res.prompt_tokens,
            res.completion_tokens,
            res.offline,
            res.cache_read_tokens,
            res.cache_write_tokens,
        )


class CrewAgents:
    """The roles as CrewAI agents, one ``Agent`` per role, built once and reused."""

    def __init__(
        self,
        provider: str,
        model: str,
        base_url: str,
        api_key: str,
        timeout_s: float = 60.0,
        *,
        structured_attempts: int,
    ) -> None:
        self.structured_attempts = structured_attempts
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
        self.llm = CrewLLM(**crew_llm_args(provider, model, base_url, api_key, timeout_s))
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

    async def run(self, role: str, prompt: Prompt, schema: type[BaseModel] | None = None) -> AgentReply:
        fmt = as_answered(schema) if schema is not None else None
        out = await self._agent(role).kickoff_async(prompt, response_format=fmt)
        usage = getattr(out, "usage_metrics", None) or {}
        return AgentReply(  # CrewAI counts the cache's tokens within prompt_tokens, as we do
            role,
            str(out.raw or ""),
            self.provider,
            self.model,
            int(usage.get("prompt_tokens", 0) or 0),
            int(usage.get("completion_tokens", 0) or 0),
            cache_read_tokens=int(usage.get("cached_prompt_tokens", 0) or 0),
            cache_write_tokens=int(usage.get("cache_creation_tokens", 0) or 0),
        )


class AsAnswered(BaseModel):
    """The response format CrewAI's native providers are given for a structured answer.

    Its JSON Schema is the wanted model's strict schema, so each provider asks its vendor natively
    (OpenAI ``text.format`` json_schema, Anthropic structured outputs or its forced tool, Gemini
    ``response_json_schema``); but it takes the answer as the vendor gave it. CrewAI's providers validate
    the answer with the response format and raise on a broken one, before its text is kept or (OpenAI's
    parse path) its usage counted; the graph's own validation judges it instead, in the same repair loop
    as every other agent (``icop.connectors.structured.ask_structured``).
    """

    text: str
    wanted: ClassVar[type[BaseModel]]

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return output_schema(cls.wanted).schema

    @classmethod
    def model_validate_json(cls, *args: Any, **kwargs: Any) -> Self:
        data = args[0] if args else kwargs["json_data"]
        return cls(text=data if isinstance(data, str) else bytes(data).decode("utf-8", "replace"))

    @classmethod
    def model_validate(cls, *args: Any, **kwargs: Any) -> Self:
        obj = args[0] if args else kwargs["obj"]
        if isinstance(obj, cls):
            return obj
        return cls(text=obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False))

    def model_dump_json(self, *args: Any, **kwargs: Any) -> str:
        return self.text


@lru_cache(maxsize=64)
def as_answered(model: type[BaseModel]) -> type[AsAnswered]:
    """``model``'s response format for CrewAI, named as the model (the vendor sees that name)."""
    namespace = {"wanted": model, "__doc__": model.__doc__, "__module__": __name__}
    return type(model.__name__, (AsAnswered,), namespace)


def crew_llm_args(provider: str, model: str, base_url: str, api_key: str, timeout_s: float) -> dict[str, Any]:
    """``crewai.LLM`` arguments for ``provider``'s native CrewAI provider."""
    if provider == "gemini":
        # google-genai takes its base URL and timeout (milliseconds) in http_options; three attempts in
        # all, as CrewAI's OpenAI provider makes
        http = {"base_url": base_url, "timeout": int(timeout_s * 1000), "retry_options": {"attempts": 3}}
        return {"model": f"gemini/{model}", "api_key": api_key, "client_params": {"http_options": http}}
    if provider == "claude":
        return {"model": f"anthropic/{model}", "base_url": base_url, "api_key": api_key, "timeout": timeout_s}
    # GPT on the Responses API, as the SDK recommends; nothing kept at OpenAI after the answer (store)
    args = {"model": f"openai/{model}", "base_url": base_url, "api_key": api_key, "timeout": timeout_s}
    return {**args, "api": "responses", "store": False}


def _storage_dir() -> str:
    path = os.path.join(tempfile.gettempdir(), f"icop-crewai-{os.getuid()}")
    os.makedirs(path, exist_ok=True)
    return path


def make_agents(settings: Settings, provider: LlmName = "gpt", storage_dir: str | None = None) -> Agents:
    """CrewAI agents on ``provider``'s endpoint when it has a key, else the offline provider in-process."""
    ep = llm_endpoint(settings, provider)
    if not ep.api_key:
        return LlmAgents(make_llm(settings, provider), structured_attempts=settings.structured_max_attempts)
    if storage_dir:
        os.environ["CREWAI_STORAGE_DIR"] = storage_dir
    else:
        os.environ.setdefault("CREWAI_STORAGE_DIR", str(settings.state_path / "crewai"))
    return CrewAgents(
        provider,
        ep.model,
        ep.base_url,
        ep.api_key,
        settings.provider_timeout_s,
        structured_attempts=settings.structured_max_attempts,
    )
