"""Rules: an article's detail carries its final Markdown (object store), the writers' drafts and the
editor's decision (from the stored graph state); images are served from the object store only under
the tenant's own keys; while an article awaits approval an editor may change its title, summary and text
or choose another writer's draft (the stored Markdown is rendered again at once, and the posts are made
from what is approved); a decision (approve/reject, with an optional publish time) is taken once, only
while the article awaits it, and reaches the article's workflow as its ``approve`` signal."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from temporalio.service import RPCError, RPCStatusCode

from icop.articles import repository as articles_repo
from icop.articles.fallbacks import fallback_message, fallbacks
from icop.articles.layout import title_and_body
from icop.articles.markdown import article_markdown, current_body
from icop.errors import Conflict, DomainError, InvalidRequest, NotFound
from icop.runs.service import EngineUnavailable
from icop.social import repository as social_repo
from icop.social.limits import AccountLimits, PlatformLimits, as_platform, limits_for
from icop.social.publisher import idempotency_key
from icop.social.schedule import publish_time
from icop.social.text import ArticleText, meta_length, post_marker, render, x_weighted_length
from icop.storage import ObjectNotFound, put_article_markdown
from workflows.types import Approval, article_workflow_id

from ..context import Tx
from ..pagination import decode_cursor, page_of
from .approvals import ApprovalSignaller
from .repository import ArticleRepository
from .schemas import (
    ArticleEdit,
    ArticleOut,
    ArticleSummary,
    DraftOut,
    EditorOut,
    FallbackOut,
    ImageOut,
    PlanSectionOut,
    PreviewOut,
    ResearchOut,
    SourceOut,
    WriterFailureOut,
)

log = logging.getLogger("icop.gateway")
repo = ArticleRepository()
WRITERS = ("gpt", "claude", "gemini")


class StorageUnavailable(DomainError):
    status, title = 503, "Storage unavailable"


async def list_page(
    tx: Tx,
    *,
    status: str | None,
    pipeline_id: UUID | None,
    run_id: UUID | None,
    language: str | None,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    rows = await repo.list(
        tx.conn,
        tx.tenant_id,
        status=status,
        pipeline_id=pipeline_id,
        run_id=run_id,
        language=language,
        after=decode_cursor(cursor),
        limit=limit,
    )
    return page_of(rows, limit, lambda r: ArticleSummary(**dict(r)))


def _own_key(tx: Tx, key: str | None) -> str | None:
    """Only keys under the tenant's own prefix are read (the database row is not the only wall)."""
    return key if key and key.startswith(f"tenants/{tx.tenant_id}/") else None


async def _read(tx: Tx, key: str | None) -> bytes | None:
    key = _own_key(tx, key)
    if key is None:
        return None
    try:
        return await asyncio.to_thread(tx.services.store.get, key)
    except (ObjectNotFound, ValueError):
        return None
    except OSError as e:
        log.warning("object store read failed: %s", type(e).__name__)
        return None


def _drafts(state: dict[str, Any]) -> list[DraftOut]:
    out = []
    for d in state.get("drafts") or []:
        if not isinstance(d, dict) or d.get("writer") not in WRITERS:
            continue
        text = str(d.get("text") or "")
        first = next((line for line in text.splitlines() if line.strip()), "")
        out.append(
            DraftOut(
                writer=d["writer"],
                model=str(d.get("model") or ""),
                title=first.strip().lstrip("#").strip(),
                markdown=text,
            )
        )
    order = {w: i for i, w in enumerate(WRITERS)}
    return sorted(out, key=lambda d: order[d.writer])


def _writer_failures(state: dict[str, Any]) -> list[WriterFailureOut]:
    return [
        WriterFailureOut(
            writer=f["writer"],
            kind=str(f.get("kind") or ""),
            message=str(f.get("message") or ""),
            code=f.get("code"),
            params={str(k): str(v) for k, v in (f.get("params") or {}).items()},
        )
        for f in state.get("writer_failures") or []
        if isinstance(f, dict) and f.get("writer") in WRITERS
    ]


def _editor(state: dict[str, Any], mode: str, drafts: list[DraftOut]) -> EditorOut | None:
    """The recorded decision; the graph stores scores and the chosen writer, and the rationale is worded
    from them (the Editor's prose is not kept)."""
    if not state or not drafts:
        return None
    names = ", ".join(d.writer for d in drafts)
    if mode == "merge":
        plan = _plan(state)
        along = f", following a plan of {len(plan)} section{'s' * (len(plan) != 1)}" if plan else ""
        return EditorOut(
            mode="merge",
            winner=None,
            scores={},
            plan=plan,
            rationale=f"The Merger combined the drafts of {names} into one article{along}.",
        )
    raw = state.get("scores") or {}
    criteria = {
        w: {k: float(v) for k, v in s.items() if isinstance(v, int | float)}
        for w, s in raw.items()
        if isinstance(s, dict)
    }
    totals = {w: s.get("total", 0.0) for w, s in criteria.items()}
    winner = state.get("chosen_writer")
    winner = winner if winner in WRITERS else None
    source = state.get("score_source") if state.get("score_source") in ("editor", "rubric") else None
    if winner is None:
        rationale = "No draft was chosen."
    else:
        ranked = ", ".join(f"{w} {totals[w]:.1f}" for w in sorted(totals, key=lambda w: -totals[w]))
        by = (
            "the Editor agent's scores"
            if source == "editor"
            else "a rubric computed from the text (the Editor's scores were unusable)"
        )
        rationale = (
            f"{winner}'s draft scored highest by {by} (total out of 10: {ranked}); the Editor then edited "
            "that draft into the article."
        )
    found = state.get("score_reasons")
    reasons = {w: str(r) for w, r in found.items() if w in WRITERS} if isinstance(found, dict) else {}
    return EditorOut(
        mode="compare",
        winner=winner,
        scores=totals,
        criteria=criteria,
        score_source=source,
        reasons=reasons,
        rationale=rationale,
    )


def _fallbacks(state: dict[str, Any]) -> list[FallbackOut]:
    return [
        FallbackOut(
            node=r["node"],
            reason=r["reason"],
            attempts=r["attempts"],
            message=fallback_message(r["node"], r["reason"], r["attempts"]),
            problem=r["problems"][-1] if r["problems"] and r["reason"] == "invalid_answer" else None,
        )
        for r in fallbacks(state)
    ]


def _plan(state: dict[str, Any]) -> list[PlanSectionOut]:
    plan = state.get("merge_plan")
    sections = plan.get("sections") if isinstance(plan, dict) else None
    out = []
    for s in sections if isinstance(sections, list) else []:
        if isinstance(s, dict) and isinstance(s.get("heading"), str):
            writers = [w for w in s.get("takes_from") or [] if w in WRITERS]
            covers = str(s.get("covers") or "")
            out.append(PlanSectionOut(heading=s["heading"], covers=covers, takes_from=writers))
    return out


def _sources(state: dict[str, Any]) -> list[SourceOut]:
    out = []
    for s in state.get("sources") or []:
        if not isinstance(s, dict) or not isinstance(s.get("n"), int) or not isinstance(s.get("url"), str):
            continue
        found = s.get("passages")
        passages: list[Any] = found if isinstance(found, list) else []
        out.append(
            SourceOut(
                n=s["n"],
                url=s["url"],
                title=str(s.get("title") or s["url"]),
                site=str(s.get("site") or ""),
                published=str(s["published"]) if s.get("published") else None,
                passages=[str(p) for p in passages],
                provider=str(s.get("provider") or ""),
            )
        )
    return out


def _research(state: dict[str, Any]) -> ResearchOut | None:
    report = state.get("research_report")
    if not isinstance(report, dict) or report.get("status") not in ("sourced", "unsourced"):
        return None
    pages = [p for p in report.get("pages") or [] if isinstance(p, dict)]
    return ResearchOut(
        status=report["status"],
        provider=str(report["provider"]) if report.get("provider") else None,
        reason=str(report["reason"]) if report.get("reason") else None,
        searches=len(report.get("searches") or []),
        pages_fetched=sum(p.get("outcome") in ("fetched", "cached", "revalidated") for p in pages),
    )


async def get(tx: Tx, article_id: UUID) -> ArticleOut:
    row = await repo.get(tx.conn, tx.tenant_id, article_id)
    if row is None:
        raise NotFound("no such article")
    images = [ImageOut(**dict(i)) for i in await repo.images(tx.conn, tx.tenant_id, article_id)]
    data = dict(row)
    state = data.pop("graph_state") or {}
    edited_body = data.pop("edited_body")
    md = await _read(tx, data["markdown_key"])
    drafts = _drafts(state)
    return ArticleOut(
        **data,
        body=current_body(state, edited_body) if state.get("article") or edited_body is not None else None,
        images=images,
        markdown=md.decode("utf-8", "replace") if md is not None else None,
        drafts=drafts,
        writer_failures=_writer_failures(state),
        editor=_editor(state, data["mode"], drafts),
        sources=_sources(state),
        research=_research(state),
        fallbacks=_fallbacks(state),
    )


async def image_bytes(tx: Tx, article_id: UUID, position: int) -> bytes:
    row = await repo.image(tx.conn, tx.tenant_id, article_id, position)
    data = await _read(tx, row["storage_key"] if row else None)
    if data is None:
        raise NotFound("no such image")
    return data


# ---- approval ----------------------------------------------------------------------------------------


# ---- editing before approval -------------------------------------------------------------------------


async def _editable(tx: Tx, article_id: UUID) -> asyncpg.Record:
    row = await repo.lock_for_edit(tx.conn, tx.tenant_id, article_id)  # serialised with decisions
    if row is None:
        raise NotFound("no such article")
    if row["status"] != "awaiting_approval":
        raise Conflict(
            f"the article is {row['status']}; it can be edited only while it awaits approval (what was "
            "approved is what gets published)"
        )
    if not (row["graph_state"] or {}).get("seo"):
        raise Conflict("the article has no text yet; wait until it is written")
    return row


async def _save(
    tx: Tx,
    row: asyncpg.Record,
    *,
    title: str,
    summary: str,
    body: str,
    draft_writer: str | None,
    detail: dict[str, Any],
) -> ArticleOut:
    """The person's version stored, the article's Markdown rendered again from it (same layout as the
    workflow's), and an audit entry."""
    article_id: UUID = row["id"]
    await repo.save_edit(
        tx.conn, tx.tenant_id, article_id, title=title, summary=summary, body=body, draft_writer=draft_writer
    )
    seo = {**(row["seo"] or {}), "title": title, "meta_description": summary}
    urls = await articles_repo.image_urls(tx.conn, tx.tenant_id, article_id)
    markdown = article_markdown(row["graph_state"], title=title, seo=seo, edited_body=body, image_urls=urls)
    try:
        stored = await asyncio.to_thread(
            put_article_markdown, tx.services.store, tx.tenant_id, article_id, markdown
        )
    except OSError as e:  # nothing is recorded: the transaction rolls back with this error
        log.warning("object store write failed: %s", type(e).__name__)
        raise StorageUnavailable("the article's Markdown could not be stored; try again") from None
    await articles_repo.set_markdown_location(tx.conn, tx.tenant_id, article_id, stored.key, stored.url)
    await repo.audit(
        tx.conn, tx.tenant_id, tx.who.actor_id, tx.who.actor_kind, "article.edited", article_id, detail
    )
    return await get(tx, article_id)


async def edit(tx: Tx, article_id: UUID, change: ArticleEdit) -> ArticleOut:
    """A person's changes to an article awaiting approval (409 once it no longer awaits it)."""
    row = await _editable(tx, article_id)
    seo = row["seo"] or {}
    return await _save(
        tx,
        row,
        title=change.title if change.title is not None else row["title"],
        summary=change.summary if change.summary is not None else str(seo.get("meta_description") or ""),
        body=change.body if change.body is not None else current_body(row["graph_state"], row["edited_body"]),
        draft_writer=None,
        detail={"fields": [f for f in ("title", "summary", "body") if getattr(change, f) is not None]},
    )


async def choose_draft(tx: Tx, article_id: UUID, writer: str) -> ArticleOut:
    """Another writer's draft becomes the article (its heading the title; the summary stays)."""
    row = await _editable(tx, article_id)
    draft = next((d for d in _drafts(row["graph_state"]) if d.writer == writer), None)
    if draft is None:
        raise InvalidRequest(f"the article has no draft by {writer}; choose one of its drafts")
    heading, body = title_and_body(draft.markdown)
    return await _save(
        tx,
        row,
        title=heading[:200] or row["title"],
        summary=str((row["seo"] or {}).get("meta_description") or ""),
        body=body,
        draft_writer=writer,
        detail={"draft": writer},
    )


# ---- approval ----------------------------------------------------------------------------------------


async def _waiting(tx: Tx, article_id: UUID) -> asyncpg.Record:
    """The article, locked (two decisions serialise), when it awaits a decision from a run's workflow."""
    row = await repo.lock_for_decision(tx.conn, tx.tenant_id, article_id)
    if row is None:
        raise NotFound("no such article")
    if row["status"] != "awaiting_approval":
        raise Conflict(
            f"the article is {row['status']}; only an article awaiting approval can be approved, rejected "
            "or written again",
            code="article.not_awaiting_approval",
            params={"status": row["status"]},
        )
    if row["run_id"] is None or row["subtopic_id"] is None:
        raise Conflict(
            "this article was not written by a pipeline run, so no workflow waits for a decision",
            code="article.no_workflow",
        )
    return row


def _signaller(tx: Tx) -> ApprovalSignaller:
    signaller = tx.services.engine.approvals
    if signaller is None:
        raise EngineUnavailable(
            "approvals reach the article's workflow, and this gateway runs without a workflow engine "
            "(ICOP_WORKFLOW_ENGINE=none)"
        )
    return signaller


async def _deliver(signal: Awaitable[None]) -> None:
    """A decision's signal, its failures as the caller's problems (the transaction then rolls back)."""
    try:
        await signal
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise Conflict(
                "the article's workflow is no longer running (cancelled or timed out); nothing was changed",
                code="article.workflow_gone",
            ) from None
        raise EngineUnavailable(f"the decision could not be delivered ({e.status.name}); try again") from None
    except (OSError, RuntimeError) as e:  # connection refused, timeouts
        raise EngineUnavailable(
            f"the decision could not be delivered ({type(e).__name__}); try again"
        ) from None


async def decide(
    tx: Tx, article_id: UUID, approved: bool, reason: str = "", publish_at: datetime | None = None
) -> ArticleOut:
    """Record the decision and signal the article's workflow, in one transaction: if the signal cannot be
    delivered, nothing is recorded. ``publish_at``: when its posts go out (else at once)."""
    row = await _waiting(tx, article_id)
    at = publish_time(publish_at, datetime.now(UTC)) if publish_at is not None and approved else None
    signaller = _signaller(tx)
    status = "approved" if approved else "rejected"
    await repo.set_decision(tx.conn, tx.tenant_id, article_id, status, None if approved else reason)
    detail: dict[str, Any] = {"reason": reason} if reason else {}
    if at is not None:
        detail["publish_at"] = at.isoformat()
    await repo.audit(
        tx.conn, tx.tenant_id, tx.who.actor_id, tx.who.actor_kind, f"article.{status}", article_id, detail
    )
    wid = article_workflow_id(str(row["run_id"]), str(row["subtopic_id"]))
    await _deliver(signaller.send(wid, Approval(approved, reason, at.isoformat() if at else None)))
    return await get(tx, article_id)


async def regenerate(tx: Tx, article_id: UUID) -> ArticleOut:
    """Have the article written again from the start (research, three drafts, the editor's choice), then
    wait for a decision again: an editor's changes are dropped. Recorded and signalled in one
    transaction."""
    row = await _waiting(tx, article_id)
    signaller = _signaller(tx)
    await repo.set_regenerating(tx.conn, tx.tenant_id, article_id)
    await repo.audit(
        tx.conn, tx.tenant_id, tx.who.actor_id, tx.who.actor_kind, "article.regenerated", article_id, {}
    )
    wid = article_workflow_id(str(row["run_id"]), str(row["subtopic_id"]))
    await _deliver(signaller.regenerate(wid))
    return await get(tx, article_id)


# ---- previews ----------------------------------------------------------------------------------------


def _measure(text: str, lim: PlatformLimits) -> int:
    return x_weighted_length(text, lim.url_weight) if lim.platform == "x" else meta_length(text)


async def previews(tx: Tx, article_id: UUID) -> list[PreviewOut]:
    """Each target's post: the stored text when the post exists, else the text the publisher will compose
    (same composer and limits, per-account overrides included)."""
    row = await repo.get(tx.conn, tx.tenant_id, article_id)
    if row is None:
        raise NotFound("no such article")
    s = tx.services.settings
    account_limits = AccountLimits(s, await social_repo.account_overrides(tx.conn, tx.tenant_id))

    def limits(platform: str, account_id: str) -> PlatformLimits:
        try:
            return account_limits.of(platform, account_id)
        except ValueError:  # an override the publisher would refuse too: show the defaults' count
            return limits_for(as_platform(platform), s)

    out: list[PreviewOut] = []
    seen: set[tuple[str, str]] = set()
    for p in await repo.posts(tx.conn, tx.tenant_id, article_id):
        lim = limits(p["platform"], p["account_id"])
        n = _measure(p["text"], lim)
        out.append(
            PreviewOut(
                platform=p["platform"],
                account_id=p["account_id"],
                text=p["text"],
                length=n,
                limit=lim.max_chars,
                counted_as="weighted" if lim.platform == "x" else "characters",
                within_limit=n <= lim.max_chars,
                source="post",
                post_status=p["status"],
                link=row["markdown_url"] if p["platform"] == "facebook" else None,
                cost_usd=p["cost_usd"],
            )
        )
        seen.add((p["platform"], p["account_id"]))
    seo = row["seo"] or {}
    if row["pipeline_id"] is None or not row["title"] or row["status"] in ("pending", "writing", "failed"):
        return out  # nothing to compose from yet (or ever)
    article = ArticleText(
        row["title"],
        str(seo.get("meta_description") or ""),
        url=row["markdown_url"],
        hashtags=[str(h) for h in seo.get("hashtags") or []],
        language=row["language"],
    )
    for t in await repo.pipeline_targets(tx.conn, tx.tenant_id, row["pipeline_id"]):
        key = (str(t.get("platform")), str(t.get("account_id")))
        if key in seen or key[0] not in ("facebook", "instagram", "threads", "x"):
            continue
        seen.add(key)
        lim = limits(*key)
        try:
            # with the reference the sent post will end with
            r = render(article, lim, marker=post_marker(idempotency_key(tx.tenant_id, article_id, *key)))
        except ValueError as e:  # e.g. more hashtags in the body than Instagram allows
            log.info("preview not composed: %s", e)
            continue
        out.append(
            PreviewOut(
                platform=key[0],
                account_id=key[1],
                text=r.text,
                length=r.length,
                limit=lim.max_chars,
                counted_as="weighted" if lim.platform == "x" else "characters",
                within_limit=r.length <= lim.max_chars,
                source="composed",
                link=r.link,
                cost_usd=Decimal(r.cost_usd),
            )
        )
    return out
