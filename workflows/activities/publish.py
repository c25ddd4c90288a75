"""Publishing activity: one target (article × platform × account) through the quota-safe publisher."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import cast
from uuid import UUID

from temporalio import activity
from temporalio.exceptions import ApplicationError

from icop.db import tenant_tx
from icop.planning import hours
from icop.planning import repository as planning_repo
from icop.social import repository as social_repo
from icop.social.limits import Platform
from icop.social.publisher import Publisher, PublishTarget
from icop.social.text import ArticleText
from icop.storage import ObjectStore

from ..types import PostRef, PublishInput, PublishResult, ScheduledPost, ScheduleInput
from .errors import mapped_errors

FINAL = {"published", "dry_run", "failed", "needs_reauth"}


class PublishActivities:
    def __init__(self, publisher: Publisher, store: ObjectStore | None = None) -> None:
        """``store``: where the article and its images live; links to them are signed at each call, so
        that a platform gets a URL valid for its whole fetch window however long the approval took."""
        self.publisher = publisher
        self.store = store

    def _links(self, inp: PublishInput) -> tuple[str | None, tuple[str, ...]]:
        if self.store is None:
            return inp.url, tuple(inp.media_urls)
        url = self.store.url_for(inp.markdown_key) if inp.markdown_key else inp.url
        media = [self.store.url_for(k) for k in inp.media_keys] if inp.media_keys else inp.media_urls
        return url, tuple(media)

    def _target(self, inp: PublishInput) -> PublishTarget:
        url, media = self._links(inp)
        return PublishTarget(
            UUID(inp.tenant_id),
            UUID(inp.article_id),
            cast(Platform, inp.platform),  # a plain str on the wire; the API accepts only known platforms
            inp.account_id,
            ArticleText(inp.title, inp.summary, url=url, hashtags=inp.hashtags, language=inp.language),
            media_urls=media,
            dry_run=inp.dry_run,
        )

    @activity.defn(name="schedule_post")
    async def schedule_post(self, inp: ScheduleInput) -> ScheduledPost:
        """The target's post as ``scheduled`` for its publish time (sent later by ``publish``). Safe to
        repeat: a post that exists keeps its state and time."""
        with mapped_errors():
            at = datetime.fromisoformat(inp.publish_at)
            out = await self.publisher.schedule(self._target(inp.post), at)
        return ScheduledPost(
            str(out.post_id), out.status, out.not_before.isoformat() if out.not_before else None
        )

    @activity.defn(name="schedule_at_best_hour")
    async def schedule_at_best_hour(self, inp: PublishInput) -> ScheduledPost | None:
        """The target's post as ``scheduled`` for the next of the tenant's best hours on its platform, with
        why (``posts.time_choice``); None (nothing made: the post goes out at once) without enough of the
        tenant's engagement on that platform, or within one of those hours. Safe to repeat."""
        tenant = UUID(inp.tenant_id)
        with mapped_errors():
            async with tenant_tx(self.publisher.pool, tenant) as conn:
                choice = await hours.learned_time(conn, tenant, inp.platform, datetime.now(UTC))
            if choice is None:
                return None
            out = await self.publisher.schedule(self._target(inp), choice.at)
            if out.status == "scheduled":
                async with tenant_tx(self.publisher.pool, tenant) as conn:
                    await planning_repo.set_time_choice(conn, tenant, out.post_id, choice.as_json())
        return ScheduledPost(
            str(out.post_id), out.status, out.not_before.isoformat() if out.not_before else None
        )

    @activity.defn(name="publish")
    async def publish(self, inp: PublishInput) -> PublishResult:
        """Safe to repeat: the publisher keeps one post row per target and reconciles ambiguous sends.
        A post that must wait (quota window, back-off, another worker's lease, a publish time not yet
        reached) comes back with ``retry_in_s`` and the workflow sleeps durably before calling again."""
        with mapped_errors():
            out = await self.publisher.publish(self._target(inp))
        retry = None
        if out.status not in FINAL:
            retry = 30.0
            if out.not_before is not None:
                retry = max(1.0, (out.not_before - datetime.now(UTC)).total_seconds())
        return PublishResult(
            str(out.post_id), out.status, out.platform_post_id, out.reason, retry, out.permalink
        )

    @activity.defn(name="post_input")
    async def post_input(self, ref: PostRef) -> PublishInput:
        """What one post is made from, read again from the article it belongs to (a retried post)."""
        tenant = UUID(ref.tenant_id)
        with mapped_errors():
            async with tenant_tx(self.publisher.pool, tenant) as conn:
                m = await social_repo.post_material(conn, tenant, UUID(ref.post_id))
        if m is None:
            raise ApplicationError(f"post {ref.post_id} does not exist", type="NotFound", non_retryable=True)
        if m["status"] in social_repo.RETRYABLE:  # the API's reopening has not committed yet: try again
            raise ApplicationError(f"post {ref.post_id} is still {m['status']}", type="NotReopened")
        seo = m["seo"] or {}
        return PublishInput(
            ref.tenant_id,
            str(m["article_id"]),
            m["platform"],
            m["account_id"],
            m["title"] or "",
            str(seo.get("meta_description") or ""),
            m["markdown_url"],
            [str(h) for h in seo.get("hashtags") or []],
            m["language"],
            [],
            False,
            media_keys=list(m["media_keys"]),
            markdown_key=m["markdown_key"] or "",
        )

    def all(self) -> list[Callable[..., object]]:
        return [self.publish, self.post_input, self.schedule_post, self.schedule_at_best_hour]
