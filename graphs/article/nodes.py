"""The graph's nodes: thin async functions over the agents, the writers and the rules below.

The rules that do not need a model (rubric scores when the Editor's answer is not valid JSON, SEO
limits, slugs, the English-only guard on image prompts, the Markdown layout) are plain functions here
so that they are tested without a graph.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from langgraph.runtime import Runtime

from icop.articles.citations import strip_markers
from icop.articles.layout import render_markdown, title_and_body
from icop.connectors.errors import ProviderError
from icop.connectors.placeholder import OFFLINE_MARK
from icop.connectors.usage import UsageEvent, UsageSink
from icop.keywords import keywords as extract_keywords
from icop.modelkeys.rules import SKIPPED_KIND, KeyUnavailable, pause_for
from icop.modelkeys.secret import ModelKey
from icop.research.service import ResearchRequest, ResearchResult
from icop.research.types import FailurePolicy, ResearchReport, failure_policy, provider_choice

from .agents import AgentReply, Agents
from .prompts import (
    EDITOR_CRITERIA,
    IMAGE_PROMPTS,
    SEO_META_MAX,
    SEO_TITLE_MAX,
    editor_edit_prompt,
    editor_score_prompt,
    merger_prompt,
    parse_json_object,
    research_prompt,
    seo_prompt,
    translate_prompt,
    visual_prompt,
)
from .state import ArticleContext, ArticleState, Draft, ResearchNote, Seo, UsageEntry, WriterFailure
from .writers import WriterCall, WriteRequest, WriterError

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LATIN = re.compile(r"[A-Za-z]")
_NON_LATIN_RUN = re.compile(r"[^\x00-\x7F\u00C0-\u024F]+")  # anything outside ASCII / Latin-1 / Latin Ext.
_NUMBERED = re.compile(r"^\s*\d+\s*[.)]\s*(.+?)\s*$")


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
    """Scores 0–10 on EDITOR_CRITERIA computed from the text (used when the Editor's JSON is unusable)."""
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


def editor_scores(reply: str, writers: list[str]) -> dict[str, dict[str, float]] | None:
    """The Editor's JSON scores if they cover every draft and criterion with numbers, else None."""
    data = parse_json_object(reply)
    scores = data.get("scores") if data else None
    if not isinstance(scores, dict):
        return None
    out: dict[str, dict[str, float]] = {}
    for w in writers:
        per = scores.get(w)
        if not isinstance(per, dict):
            return None
        try:
            s = {c: max(0.0, min(10.0, float(per[c]))) for c in EDITOR_CRITERIA}
        except (KeyError, TypeError, ValueError):
            return None
        s["total"] = round(sum(s.values()) / len(s), 2)
        out[w] = s
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


def finalize_seo(topic: str, article: str, reply: str) -> Seo:
    """The SEO agent's JSON where usable, derived from the article otherwise; limits always enforced."""
    data = parse_json_object(reply) or {}
    title, body = title_and_body(strip_markers(article))
    seo_title = data.get("title") if isinstance(data.get("title"), str) and data["title"].strip() else title
    seo_title = _clip(seo_title or topic, SEO_TITLE_MAX)
    meta = data.get("meta_description")
    if not isinstance(meta, str) or not meta.strip():
        paras = [p for p in re.split(r"\n\s*\n", body) if p.strip() and not p.strip().startswith("(")]
        meta = " ".join(paras[:2]) or body or topic
    kws = data.get("keywords")
    if not (isinstance(kws, list) and all(isinstance(k, str) for k in kws) and kws):
        kws = extract_keywords(f"{topic}\n{topic}\n{body}", 6)
    kws = list(dict.fromkeys(k.strip() for k in kws if k.strip()))[:8]
    tags = data.get("hashtags")
    if not (isinstance(tags, list) and all(isinstance(t, str) for t in tags) and tags):
        tags = kws[:5]
    hashtags = [
        h for h in dict.fromkeys("#" + re.sub(r"[^\w]", "", t.lstrip("#")) for t in tags) if len(h) > 1
    ]
    slug = data.get("slug") if isinstance(data.get("slug"), str) else ""
    slug = slugify(slug or seo_title) or slugify(topic) or "article"
    return Seo(
        title=seo_title,
        meta_description=_clip(meta, SEO_META_MAX),
        slug=slug,
        keywords=kws,
        hashtags=hashtags[:6],
    )


def parse_items(text: str, n: int) -> list[str]:
    """Up to ``n`` items from a numbered list (or, failing that, from non-empty lines)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    items = [m.group(1) for ln in lines if (m := _NUMBERED.match(ln))]
    if not items:
        items = [ln.strip(" -*") for ln in lines]
    return [i for i in items if i][:n]


def translated_items(answer: str, originals: list[str]) -> list[str]:
    """The translator's answer as one item per original, or the originals when the answer is no
    translation: an offline provider's placeholder (it cannot translate) or a list of another length."""
    if answer.lstrip().startswith(OFFLINE_MARK):
        return originals
    items = parse_items(answer, len(originals))
    return items if len(items) == len(originals) else originals


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


class WriterNode(Protocol):
    """A writer's node as ``add_node`` types it: the state, and the run's context as ``runtime``."""

    async def __call__(self, state: ArticleState, runtime: Runtime[ArticleContext]) -> dict[str, Any]: ...


class KeyPauses(Protocol):
    """Where a tenant key its vendor refused is paused (``icop.modelkeys.service.TenantModelKeys``)."""

    async def pause(self, tenant_id: str, provider: str, why: KeyUnavailable, key: ModelKey) -> bool: ...


@dataclass
class ArticleNodes:
    """The nodes' dependencies: the agents, the researcher, where usage is recorded, where the brand voice
    comes from and where a refused tenant key is paused."""

    agents: Agents
    researcher: ResearchSource
    usage_sink: UsageSink | None = None
    voice: StyleSource | None = None
    key_pauses: KeyPauses | None = None

    async def _usage(
        self, state: ArticleState, agent: str, provider: str, model: str, pt: int, ct: int, offline: bool
    ) -> UsageEntry:
        entry = UsageEntry(
            agent=agent,
            provider=provider,
            model=model,
            prompt_tokens=pt,
            completion_tokens=ct,
            offline=offline,
        )
        tenant = state.get("tenant_id")
        if self.usage_sink is not None and tenant:
            article = state.get("article_id")
            await self.usage_sink.record(
                tenant,
                UsageEvent(
                    "llm", provider, model, agent, pt, ct, article_id=UUID(article) if article else None
                ),
            )
        return entry

    async def _ask(self, state: ArticleState, role: str, prompt: str) -> tuple[AgentReply, UsageEntry]:
        reply = await self.agents.run(role, prompt)
        usage = await self._usage(
            state,
            role,
            reply.provider,
            reply.model,
            reply.prompt_tokens,
            reply.completion_tokens,
            reply.offline,
        )
        return reply, usage

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
            usage = await self._usage(
                state,
                f"writer:{name}",
                name,
                res.model,
                res.prompt_tokens,
                res.completion_tokens,
                res.offline,
            )
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
        scored, u1 = await self._ask(state, "editor", editor_score_prompt(topic, lang, drafts))
        scores = editor_scores(scored.text, list(drafts))
        source = "editor"
        if scores is None:
            scores, source = rubric_scores(topic, lang, state.get("research", []), drafts), "rubric"
        best = max(drafts, key=lambda w: (scores[w]["total"], -list(drafts).index(w)))
        edited, u2 = await self._ask(state, "editor", editor_edit_prompt(topic, lang, drafts[best]))
        return {
            "scores": scores,
            "score_source": source,
            "chosen_writer": best,
            "article": edited.text.strip() or drafts[best],
            "usage": [u1, u2],
        }

    async def merger(self, state: ArticleState) -> dict[str, Any]:
        drafts = {d["writer"]: d["text"] for d in state["drafts"]}
        merged, usage = await self._ask(
            state, "merger", merger_prompt(state["topic"], state["language"], drafts)
        )
        return {
            "article": merged.text.strip() or next(iter(drafts.values())),
            "chosen_writer": None,
            "usage": [usage],
        }

    async def seo(self, state: ArticleState) -> dict[str, Any]:
        reply, usage = await self._ask(
            state, "seo", seo_prompt(state["topic"], state["language"], state["article"])
        )
        return {"seo": finalize_seo(state["topic"], state["article"], reply.text), "usage": [usage]}

    async def visual_director(self, state: ArticleState) -> dict[str, Any]:
        reply, u1 = await self._ask(
            state, "visual_director", visual_prompt(state["topic"], state["language"], state["article"])
        )
        prompts = parse_items(reply.text, IMAGE_PROMPTS)
        usage, original = [u1], list(prompts)
        if state["language"] != "en" or any(_NON_LATIN_RUN.search(p) for p in prompts):
            translated, u2 = await self._ask(
                state, "translator", translate_prompt(prompts, state["language"])
            )
            usage.append(u2)
            prompts = translated_items(translated.text, prompts)
        hint = " ".join(k for k in state.get("seo", {}).get("keywords", []) if k.isascii())[:60]
        english = [english_only(p, i, hint) for i, p in enumerate(prompts)]
        return {"image_prompts": english, "image_prompts_original": original, "usage": usage}

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
