"""The graph's nodes: thin async functions over the agents, the writers and the rules below.

The Editor's scores, the Merger's plan, the SEO fields and the image prompts are structured answers
(``outputs.py``), asked for through each vendor's native mechanism and repaired when broken
(``icop.connectors.structured.ask_structured``). When no valid answer comes, a rule below stands in (rubric
scores, derived SEO fields, a plan from the drafts' headings, prompts from the article's headings), and
the article records it as a fallback (``structured``): never silently.

The rules that do not need a model (those fallbacks, SEO limits, slugs, the English-only guard on image
prompts, the Markdown layout) are plain functions here so that they are tested without a graph.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from uuid import UUID

from langgraph.runtime import Runtime
from pydantic import BaseModel

from icop.articles.citations import strip_markers
from icop.articles.fallbacks import StructuredNode, StructuredRecord
from icop.articles.layout import render_markdown, title_and_body
from icop.connectors.errors import ProviderError
from icop.connectors.llm import Message
from icop.connectors.structured import ask_structured
from icop.connectors.usage import UsageEvent, UsageSink
from icop.keywords import keywords as extract_keywords
from icop.modelkeys.rules import SKIPPED_KIND, KeyUnavailable, pause_for
from icop.modelkeys.secret import ModelKey
from icop.research.service import ResearchRequest, ResearchResult
from icop.research.types import FailurePolicy, ResearchReport, failure_policy, provider_choice

from .agents import AgentReply, Agents
from .outputs import (
    MAX_HASHTAGS,
    MAX_KEYWORDS,
    MAX_SECTIONS,
    ImagePrompts,
    SeoFields,
    editor_scores_model,
    merge_plan_model,
    plan_of,
    scores_of,
)
from .prompts import (
    IMAGE_PROMPTS,
    SEO_META_MAX,
    SEO_TITLE_MAX,
    editor_edit_prompt,
    editor_score_prompt,
    merge_plan_prompt,
    merger_prompt,
    research_prompt,
    seo_prompt,
    translate_prompt,
    visual_prompt,
)
from .state import ArticleContext, ArticleState, Draft, ResearchNote, Seo, UsageEntry, WriterFailure
from .writers import WriterCall, WriteRequest, WriterError

log = logging.getLogger("icop.graph")
M = TypeVar("M", bound=BaseModel)

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LATIN = re.compile(r"[A-Za-z]")
_NON_LATIN_RUN = re.compile(r"[^\x00-\x7F\u00C0-\u024F]+")  # anything outside ASCII / Latin-1 / Latin Ext.
_HEADING = re.compile(r"^\s{0,3}#{2,6}\s+(.+?)\s*#*\s*$")


class ResearchFailed(RuntimeError):
    """Research found no source and the pipeline asks to fail such articles; the message says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"research found no source: {reason}")
        self.reason = reason


class AllWritersFailed(RuntimeError):
    """No writer produced a draft: the article cannot be written now."""

    def __init__(self, failures: list[WriterFailure]) -> None:
        why = "; ".join(f"{f['writer']}: {f['kind']}: {f['message']}" for f in failures) or "no writer ran"
        super().__init__(f"all writers failed, no draft to edit ({why})")
        self.failures = failures


# -- rules ------------------------------------------------------------------------------------------
def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z]{3,}|[\uac00-\ud7a3]{2,}", text)}


def rubric_scores(
    topic: str, language: str, research: list[ResearchNote], drafts: dict[str, str]
) -> dict[str, dict[str, float]]:
    """Scores 0–10 on EDITOR_CRITERIA computed from the text (the fallback when no valid Editor's answer
    came)."""
    topic_terms = _words(topic)
    research_terms = _words(" ".join(n["claim"] for n in research))
    out: dict[str, dict[str, float]] = {}
    for writer, text in drafts.items():
        terms = _words(text)
        paras = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
        sentences = [s for s in re.split(r"(?<=[.!?。])\s+", text) if s.strip()]
        avg_len = sum(len(s.split()) for s in sentences) / max(1, len(sentences))
        hangul, latin = len(_HANGUL.findall(text)), len(_LATIN.findall(text))
        script = hangul / max(1, hangul + latin) if language == "ko" else latin / max(1, hangul + latin)
        s = {
            "relevance": 10 * len(topic_terms & terms) / max(1, len(topic_terms)),
            "grounding": min(10.0, 30 * len(research_terms & terms) / max(1, len(research_terms))),
            "structure": min(10.0, 2.0 * len(paras)),
            "readability": max(0.0, min(10.0, 10 - max(0.0, avg_len - 20) / 2)),
            "language": 10 * script,
        }
        s = {k: round(v, 2) for k, v in s.items()}
        s["total"] = round(sum(s.values()) / len(s), 2)
        out[writer] = s
    return out


def _clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"


def slugify(text: str, max_len: int = 80) -> str:
    """Lower-case ASCII letters, digits and Hangul joined by hyphens (URLs carry Hangul percent-encoded)."""
    text = unicodedata.normalize("NFKC", text).lower()
    slug = re.sub(r"[^a-z0-9\uac00-\ud7a3]+", "-", text).strip("-")
    return slug[:max_len].rstrip("-")


def _seo(topic: str, title: str, meta: str, slug: str, keywords: list[str], tags: list[str]) -> Seo:
    """The SEO fields with every limit enforced: lengths, counts, hashtags as ``#word``, a slug."""
    seo_title = _clip(title or topic, SEO_TITLE_MAX)
    kws = list(dict.fromkeys(k.strip() for k in keywords if k.strip()))[:MAX_KEYWORDS]
    hashtags = _hashtags(tags) or _hashtags(kws)
    return Seo(
        title=seo_title,
        meta_description=_clip(meta or topic, SEO_META_MAX),
        slug=slugify(slug or seo_title) or slugify(topic) or "article",
        keywords=kws,
        hashtags=hashtags[:MAX_HASHTAGS],
    )


def _hashtags(terms: list[str]) -> list[str]:
    return list(dict.fromkeys(f"#{w}" for t in terms if (w := re.sub(r"[^\w]", "", t.lstrip("#")))))


def seo_from(fields: SeoFields, topic: str) -> Seo:
    """The SEO agent's validated fields, normalised (slug, hashtags, counts)."""
    return _seo(topic, fields.title, fields.meta_description, fields.slug, fields.keywords, fields.hashtags)


def derived_seo(topic: str, article: str) -> Seo:
    """SEO fields derived from the article: its heading, its first paragraphs, its keywords (the fallback
    when no valid SEO answer came)."""
    title, body = title_and_body(strip_markers(article))
    paras = [p for p in re.split(r"\n\s*\n", body) if p.strip() and not p.strip().startswith("(")]
    meta = " ".join(paras[:2]) or body or topic
    kws = extract_keywords(f"{topic}\n{topic}\n{body}", 6)
    return _seo(topic, title, meta, "", kws, kws[:5])


def _headings(text: str) -> list[str]:
    return [m.group(1) for line in text.splitlines() if (m := _HEADING.match(line))]


def derived_plan(topic: str, drafts: Mapping[str, str]) -> dict[str, Any]:
    """A plan from the drafts' own section headings, each section taking from every draft that has it
    (the fallback when no valid plan came); without two such headings, one section per draft."""
    sections: dict[str, dict[str, Any]] = {}
    for writer, text in drafts.items():
        for heading in _headings(text):
            key = heading.casefold()
            if key not in sections and len(sections) < MAX_SECTIONS:
                sections[key] = {"heading": heading, "covers": heading, "takes_from": []}
            if key in sections and writer not in sections[key]["takes_from"]:
                sections[key]["takes_from"].append(writer)
    if len(sections) < 2:
        sections = {
            w: {"heading": title_and_body(t)[0] or topic, "covers": f"what draft {w} says", "takes_from": [w]}
            for w, t in drafts.items()
        }
    first = next(iter(drafts.values()), "")
    return {"title": title_and_body(first)[0] or topic, "sections": list(sections.values())}


def derived_prompts(topic: str, article: str, n: int = IMAGE_PROMPTS) -> list[str]:
    """Image prompts from the article's section headings (the fallback when no valid prompts came); they
    may be in the article's language, and are translated like the agent's."""
    title, body = title_and_body(strip_markers(article))
    scenes = _headings(body) or [title or topic]
    return [f"Editorial photograph illustrating {scenes[i % len(scenes)]}, scene {i + 1}" for i in range(n)]


def english_only(prompt: str, index: int, topic_hint: str = "") -> str:
    """Image models are briefed in English: any fragment still in another script is dropped.

    A model that translated properly leaves nothing to drop; this guards against a partial answer.
    """
    cleaned = re.sub(r"\s+", " ", _NON_LATIN_RUN.sub(" ", prompt))
    cleaned = re.sub(r"\s+([,.:;!?])", r"\1", cleaned).strip(" ,.:;-")
    cleaned = re.sub(r"\b(to|of|with|for|and|about|in)\s*([,.:;]|$)", r"\2", cleaned).strip(" ,.:;-")
    if len(re.findall(r"[A-Za-z]{3,}", cleaned)) < 3:
        about = f" on {topic_hint}" if topic_hint else ""
        cleaned = f"Editorial photograph for an article{about}, scene {index + 1}"
    return cleaned


def made_offline(state: Mapping[str, Any]) -> bool:
    """Whether any text of the article came from an offline provider (placeholder text, in development without
    a provider key): such an article is marked and never published for real."""
    return any(u.get("offline", False) for u in state.get("usage", []))


# -- nodes ------------------------------------------------------------------------------------------
class StyleSource(Protocol):
    """A tenant's brand-voice samples closest to a topic (``icop.brandvoice.BrandVoice``)."""

    async def style_samples(
        self, tenant_id: str, article_id: str | None, topic: str, language: str
    ) -> list[str]: ...


class ResearchSource(Protocol):
    """Search, fetch and extract for one article (``icop.research.service.Researcher``)."""

    @property
    def failure_policy(self) -> FailurePolicy: ...

    async def research(self, req: ResearchRequest) -> ResearchResult: ...


class NoResearch:
    """A graph built without a researcher: every article is unsourced, and says so."""

    failure_policy: FailurePolicy = "continue"

    async def research(self, req: ResearchRequest) -> ResearchResult:
        report = ResearchReport(
            status="unsourced",
            provider=None,
            reason="this graph was built without a researcher (no search provider)",
            searches=[],
            pages=[],
        )
        return ResearchResult([], report)


class CallUsage(Protocol):
    """What one model call used (``AgentReply``, ``WriteResult``)."""

    @property
    def model(self) -> str: ...
    @property
    def prompt_tokens(self) -> int: ...
    @property
    def completion_tokens(self) -> int: ...
    @property
    def offline(self) -> bool: ...
    @property
    def cache_read_tokens(self) -> int: ...
    @property
    def cache_write_tokens(self) -> int: ...


class WriterNode(Protocol):
    """A writer's node as ``add_node`` types it: the state, and the run's context as ``runtime``."""

    async def __call__(self, state: ArticleState, runtime: Runtime[ArticleContext]) -> dict[str, Any]: ...


class KeyPauses(Protocol):
    """Where a tenant key its vendor refused is paused (``icop.modelkeys.service.TenantModelKeys``)."""

    async def pause(self, tenant_id: str, provider: str, why: KeyUnavailable, key: ModelKey) -> bool: ...


@dataclass
class ArticleNodes:
    """The nodes' dependencies: the agents, the researcher, where usage is recorded, where the brand
    voice comes from, whether the writers' prompts carry cache breakpoints (``Settings.prompt_caching``)
    and where a refused tenant key is paused."""

    agents: Agents
    researcher: ResearchSource
    usage_sink: UsageSink | None = None
    voice: StyleSource | None = None
    prompt_caching: bool = True
    key_pauses: KeyPauses | None = None

    async def _usage(self, state: ArticleState, agent: str, provider: str, used: CallUsage) -> UsageEntry:
        entry = UsageEntry(
            agent=agent,
            provider=provider,
            model=used.model,
            prompt_tokens=used.prompt_tokens,
            completion_tokens=used.completion_tokens,
            offline=used.offline,
            cache_read_tokens=used.cache_read_tokens,
            cache_write_tokens=used.cache_write_tokens,
        )
        tenant = state.get("tenant_id")
        if self.usage_sink is not None and tenant:
            article = state.get("article_id")
            await self.usage_sink.record(
                tenant,
                UsageEvent(
                    "llm",
                    provider,
                    used.model,
                    agent,
                    used.prompt_tokens,
                    used.completion_tokens,
                    article_id=UUID(article) if article else None,
                    cache_read_tokens=used.cache_read_tokens,
                    cache_write_tokens=used.cache_write_tokens,
                ),
            )
        return entry

    async def _reply_usage(self, state: ArticleState, role: str, reply: AgentReply) -> UsageEntry:
        return await self._usage(state, role, reply.provider, reply)

    async def _ask(self, state: ArticleState, role: str, prompt: str) -> tuple[AgentReply, UsageEntry]:
        reply = await self.agents.run(role, prompt)
        return reply, await self._reply_usage(state, role, reply)

    async def _structured(
        self, state: ArticleState, node: StructuredNode, prompt: str, model: type[M]
    ) -> tuple[M | None, list[UsageEntry], StructuredRecord]:
        """Ask the role ``node`` for a ``model`` answer, repairing a broken one; every attempt's usage is
        recorded, and the record says whether the caller must fall back (``value`` None)."""

        async def ask(messages: list[Message]) -> AgentReply:
            return await self.agents.run(node, messages, model)

        got = await ask_structured(
            ask, model, [{"role": "user", "content": prompt}], max_attempts=self.agents.structured_attempts
        )
        usage = [await self._reply_usage(state, node, r) for r in got.replies]
        record = StructuredRecord(
            node=node,
            schema=model.__name__,
            attempts=got.attempts,
            outcome="fallback" if got.value is None else "repaired" if got.repaired else "valid",
            problems=got.problems,
        )
        if got.value is None:
            record["reason"] = "offline" if got.offline else "invalid_answer"
            log.warning(
                "structured answer unusable, rule-based fallback recorded",
                extra={"node": node, "schema": model.__name__, "attempts": got.attempts},
            )
        return got.value, usage, record

    async def voice_samples(self, state: ArticleState) -> dict[str, Any]:
        """The brand-voice samples for this article, looked up once (a resumed graph keeps them)."""
        tenant = state.get("tenant_id")
        if "style_samples" in state or self.voice is None or not tenant:
            return {} if "style_samples" in state else {"style_samples": []}
        samples = await self.voice.style_samples(
            tenant, state.get("article_id"), state["topic"], state["language"]
        )
        return {"style_samples": samples}

    async def research(self, state: ArticleState) -> dict[str, Any]:
        """Search, fetch, extract: the numbered sources. Its own node, so that what it paid for (search
        calls, fetches) is checkpointed before any model is asked about it."""
        choice = provider_choice(state.get("search_provider"))
        result = await self.researcher.research(
            ResearchRequest(state["topic"], state["language"], state.get("tenant_id"), choice)
        )
        policy = failure_policy(state.get("on_research_failure")) or self.researcher.failure_policy
        if not result.sourced and policy == "fail":
            raise ResearchFailed(result.report["reason"] or "no source")
        notes = [
            ResearchNote(claim=p, source_url=src["url"], source_title=src["title"], source=src["n"])
            for src in result.sources
            for p in src["passages"]
        ]
        return {"sources": result.sources, "research_report": result.report, "research": notes}

    async def brief(self, state: ArticleState) -> dict[str, Any]:
        """The Researcher agent's brief to the writers, from the sources."""
        reply, usage = await self._ask(
            state, "researcher", research_prompt(state["topic"], state["language"], state.get("sources", []))
        )
        return {"research_summary": reply.text, "usage": [usage]}

    def writer(self, name: str, call: WriterCall) -> WriterNode:
        """The node for one writer: a failure after its retries is recorded, not raised. With the tenant's
        own key (the run's context) the call carries it; a key that cannot be used skips the writer with
        the reason, and a key its vendor refuses is paused for the tenant (never the platform's key in its
        place)."""

        async def node(state: ArticleState, runtime: Runtime[ArticleContext]) -> dict[str, Any]:
            context = runtime.context or ArticleContext()
            key = context.model_keys.get(name)
            if isinstance(key, KeyUnavailable):
                return {"writer_failures": [_key_failure(name, SKIPPED_KIND, key)]}
            req = WriteRequest(
                topic=state["topic"],
                language=state["language"],
                notes=state.get("notes", ""),
                research_summary=state.get("research_summary", ""),
                sources=[dict(src) for src in state.get("sources", [])],
                style_samples=list(state.get("style_samples") or []),
                tenant_id=state.get("tenant_id"),
                article_id=state.get("article_id"),
                prompt_caching=self.prompt_caching,
                api_key=key,
            )
            started = time.time()
            try:
                res = await call(req)
            except Exception as exc:  # noqa: BLE001 - the article goes on with the other drafts
                cause = _root_cause(exc)
                kind = cause.kind if isinstance(cause, ProviderError | WriterError) else type(cause).__name__
                message = cause.message if isinstance(cause, ProviderError | WriterError) else str(cause)
                paused = pause_for(name, kind, message) if key is not None else None
                if paused is None:
                    return {"writer_failures": [WriterFailure(writer=name, kind=kind, message=message[:500])]}
                tenant = state.get("tenant_id")
                if self.key_pauses is not None and key is not None and tenant:
                    await self.key_pauses.pause(tenant, name, paused, key)
                return {"writer_failures": [_key_failure(name, kind, paused)]}
            usage = await self._usage(state, f"writer:{name}", name, res)
            draft = Draft(
                writer=name,
                text=res.text,
                model=res.model,
                prompt_tokens=res.prompt_tokens,
                completion_tokens=res.completion_tokens,
                started=started,
                finished=time.time(),
            )
            return {"drafts": [draft], "usage": [usage]}

        node.__name__ = f"writer_{name}"
        return node

    async def gather(self, state: ArticleState) -> dict[str, Any]:
        if not state.get("drafts"):
            raise AllWritersFailed(list(state.get("writer_failures", [])))
        return {}

    async def editor(self, state: ArticleState) -> dict[str, Any]:
        drafts = {d["writer"]: d["text"] for d in state["drafts"]}
        topic, lang = state["topic"], state["language"]
        model = editor_scores_model(tuple(drafts))
        answer, usage, record = await self._structured(
            state, "editor", editor_score_prompt(topic, lang, drafts), model
        )
        if answer is not None:
            (scores, reasons), source = scores_of(answer), "editor"
        else:
            scores, reasons = rubric_scores(topic, lang, state.get("research", []), drafts), {}
            source = "rubric"
        best = max(drafts, key=lambda w: (scores[w]["total"], -list(drafts).index(w)))
        edited, u2 = await self._ask(state, "editor", editor_edit_prompt(topic, lang, drafts[best]))
        return {
            "scores": scores,
            "score_source": source,
            "score_reasons": reasons,
            "chosen_writer": best,
            "article": edited.text.strip() or drafts[best],
            "usage": [*usage, u2],
            "structured": [record],
        }

    async def merger(self, state: ArticleState) -> dict[str, Any]:
        """Plan first (a structured outline: which draft each section takes from), then write the article
        from the plan as prose. The plan is data the article keeps; the prose stays out of JSON, where a
        long Markdown text would be escaped and, cut at the token limit, lost whole."""
        drafts = {d["writer"]: d["text"] for d in state["drafts"]}
        topic, lang = state["topic"], state["language"]
        model = merge_plan_model(tuple(drafts))
        answer, usage, record = await self._structured(
            state, "merger", merge_plan_prompt(topic, lang, drafts), model
        )
        plan = plan_of(answer) if answer is not None else derived_plan(topic, drafts)
        merged, u2 = await self._ask(state, "merger", merger_prompt(topic, lang, drafts, plan))
        return {
            "article": merged.text.strip() or next(iter(drafts.values())),
            "chosen_writer": None,
            "merge_plan": plan,
            "usage": [*usage, u2],
            "structured": [record],
        }

    async def seo(self, state: ArticleState) -> dict[str, Any]:
        topic, article = state["topic"], state["article"]
        answer, usage, record = await self._structured(
            state, "seo", seo_prompt(topic, state["language"], article), SeoFields
        )
        seo = seo_from(answer, topic) if answer is not None else derived_seo(topic, article)
        return {"seo": seo, "usage": usage, "structured": [record]}

    async def visual_director(self, state: ArticleState) -> dict[str, Any]:
        topic, lang, article = state["topic"], state["language"], state["article"]
        answer, usage, record = await self._structured(
            state, "visual_director", visual_prompt(topic, lang, article), ImagePrompts
        )
        prompts = answer.prompts if answer is not None else derived_prompts(topic, article)
        records, original = [record], list(prompts)
        if lang != "en" or any(_NON_LATIN_RUN.search(p) for p in prompts):
            translated, more, rec = await self._structured(
                state, "translator", translate_prompt(prompts, lang), ImagePrompts
            )
            usage, records = [*usage, *more], [*records, rec]
            prompts = translated.prompts if translated is not None else prompts
        hint = " ".join(k for k in state.get("seo", {}).get("keywords", []) if k.isascii())[:60]
        english = [english_only(p, i, hint) for i, p in enumerate(prompts)]
        return {
            "image_prompts": english,
            "image_prompts_original": original,
            "usage": usage,
            "structured": records,
        }

    async def formatter(self, state: ArticleState) -> dict[str, Any]:
        return {"markdown": render_markdown(state)}


def _key_failure(writer: str, kind: str, why: KeyUnavailable) -> WriterFailure:
    return WriterFailure(writer=writer, kind=kind, message=why.reason, code=why.code, params=dict(why.params))


def _root_cause(exc: BaseException) -> BaseException:
    """The provider's error inside wrappers (a Ray task error carries it as ``cause``)."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ProviderError | WriterError):
            return exc
        nxt = getattr(exc, "cause", None) or exc.__cause__
        if not isinstance(nxt, BaseException):
            break
        exc = nxt
    return exc
