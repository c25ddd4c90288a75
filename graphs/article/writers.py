"""The writers: one plain LLM call per provider through ``icop.connectors.llm``.

``ArticleWriter`` is the core class the Ray Serve Writer deployment wraps; the graph only sees a
``WriterCall`` (an async function from ``WriteRequest`` to ``WriteResult``), so tests can hand it
in-process writers and production hands it deployment handles (``deployments.writers.writer_call``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from icop.connectors.config import LlmName
from icop.connectors.llm import LLM, ChatRequest, make_llm
from icop.connectors.usage import Metering
from icop.modelkeys.clients import KeyedLLMs
from icop.modelkeys.secret import ModelKey
from icop.settings import Settings

from .prompts import CITE_RULE, NO_SOURCES_RULE, language_name, source_listing

WRITER_MARK = "You are WriterAgent_"  # how a writer's request is recognised in logs (tests, audits)
STYLE_MARK = "Brand voice samples"  # heads the style section (absent when the tenant has no samples)


@dataclass
class WriteRequest:
    """What a writer needs: plain data only (it crosses Ray Serve handles)."""

    topic: str
    language: str
    notes: str = ""
    research_summary: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)
    """The numbered sources (``icop.research.types.Source``) the article may cite as [n]."""
    style_samples: list[str] = field(default_factory=list)
    tenant_id: str | None = None
    article_id: str | None = None
    prompt_caching: bool = True
    """Mark the prompt's shared prefix as a cache breakpoint (``Settings.prompt_caching``)."""
    api_key: ModelKey | None = None
    """The tenant's own key for this writer's provider (masked in any repr); None: the platform's key."""


@dataclass
class WriteResult:
    writer: str
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    offline: bool = False  # made by the offline provider (placeholder text), not a model
    cache_read_tokens: int = 0  # of prompt_tokens: read from the vendor's prompt cache
    cache_write_tokens: int = 0  # of prompt_tokens: written to it


WriterCall = Callable[[WriteRequest], Awaitable[WriteResult]]


class WriterError(Exception):
    """A writer's failure in a form that crosses process boundaries (Ray pickles exceptions by their
    ``args``; ``ProviderError`` needs keyword arguments and does not survive the trip)."""

    def __init__(self, writer: str, kind: str, message: str) -> None:
        super().__init__(writer, kind, message)
        self.writer, self.kind, self.message = writer, kind, message

    def __str__(self) -> str:
        return f"{self.writer}: {self.kind}: {self.message}"


def writer_instructions(name: str) -> str:
    """What a writer is told for every article of every tenant (nothing here may depend on the article: it
    opens the prompt prefix the vendors cache)."""
    return (
        f"{WRITER_MARK}{name.upper()}, a professional feature writer. Use a title line, an introduction, "
        "three or four sections and a conclusion. Write the whole article in the language the task names; "
        "the task also says how to use the sources."
    )


def style_section(samples: list[str]) -> str:
    """The tenant's brand-voice samples as style guidance ("" without samples); the same samples give the
    same text, so articles that get them share the cached prefix."""
    texts = "\n".join(f"<sample>\n{s.strip()}\n</sample>" for s in samples if s.strip())
    if not texts:
        return ""
    return (
        f"{STYLE_MARK} (style guidance only): match their tone, style, sentence rhythm and vocabulary level. "
        "Do not copy their facts, figures, names or sentences; the facts come from the research brief and "
        f"the sources.\n{texts}"
    )


def writer_messages(name: str, req: WriteRequest) -> list[dict[str, Any]]:
    """The writer's prompt, laid out for prompt caching (vendors cache a prompt's longest repeated prefix):
    first what every call of this writer shares (its instructions), then the tenant's brand voice, the
    two marked as one cached prefix (a cache breakpoint ends it); then what belongs to this article (its
    topic, research brief and sources) and last the task. Without ``req.prompt_caching`` the same prompt
    carries no breakpoint."""
    lang = language_name(req.language)
    shared: list[dict[str, Any]] = [{"type": "text", "text": writer_instructions(name)}]
    style = style_section(req.style_samples)
    if style:
        shared.append({"type": "text", "text": style})
    if req.prompt_caching:
        shared[-1] = {**shared[-1], "cache": True}
    article = f"Topic: {req.topic}"
    if req.research_summary:
        article += f"\nResearch brief:\n{req.research_summary}"
    if req.sources:
        article += f"\nSources (cite by number):\n{source_listing(req.sources)}"
    task = f"Write an article in {lang} about {req.topic}. {CITE_RULE if req.sources else NO_SOURCES_RULE}"
    if req.notes:
        task += f"\nEditorial notes: {req.notes}"
    return [{"role": "system", "content": shared}, {"role": "user", "content": f"{article}\n\n{task}"}]


class ArticleWriter:
    """One provider's writer. Retries and error classification are the connector's. ``keyed``: clients for
    tenants' own keys (a request that carries a key is written with it, or not at all)."""

    def __init__(self, llm: LLM, max_tokens: int = 1800, keyed: KeyedLLMs | None = None) -> None:
        self.llm = llm
        self.max_tokens = max_tokens
        self.keyed = keyed

    @classmethod
    def from_settings(
        cls, settings: Settings, provider: LlmName, metering: Metering | None = None
    ) -> ArticleWriter:
        keyed = KeyedLLMs.from_settings(settings, provider, metering)
        return cls(make_llm(settings, provider, metering), keyed=keyed)

    @property
    def name(self) -> str:
        return self.llm.name

    def _llm(self, req: WriteRequest) -> LLM:
        if req.api_key is None:
            return self.llm
        if self.keyed is None:  # never the platform's key in place of the tenant's
            raise WriterError(self.llm.name, "key_unsupported", "this writer cannot use a tenant's own key")
        return self.keyed.get(req.api_key)

    async def write(self, req: WriteRequest) -> WriteResult:
        t0 = time.monotonic()
        llm = self._llm(req)
        res = await llm.complete(
            ChatRequest(
                messages=writer_messages(llm.name, req),
                max_tokens=self.max_tokens,
                tenant_id=req.tenant_id,
                article_id=UUID(req.article_id) if req.article_id else None,
                operation="writer",
            )
        )
        return WriteResult(
            llm.name,
            res.text,
            res.model,
            res.prompt_tokens,
            res.completion_tokens,
            time.monotonic() - t0,
            res.offline,
            res.cache_read_tokens,
            res.cache_write_tokens,
        )
