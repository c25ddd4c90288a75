"""Publishing service: exactly one post per article x platform x account, within every quota.

One call of :meth:`Publisher.publish` takes a target from wherever it stands to its next resting
state, and is safe to repeat (a Temporal activity retries it; two workers may run it at once):

1. The ``posts`` row is created once (unique on article, platform, account; ``idempotency_key``)
   and claimed under a row lock; a row another worker is publishing (lease not expired) is left alone.
2. Quota is reserved in ``platform_quota_usage`` inside the same transaction, under a
   transaction-scoped advisory lock on (tenant, platform, account), so concurrent workers can never
   exceed a rolling-window count (Instagram 100/24 h, Threads 250/24 h, live figures from the
   platform when it reports them), the X monthly post cap or the tenant's monthly X budget in USD.
   No room: the post goes to ``waiting_quota`` with ``not_before`` = when the window reopens.
3. The post is sent. Failures: rate-limited → ``waiting_quota`` (Retry-After honoured), retryable →
   ``pending`` with a back-off, rejected → ``failed``, revoked token → ``needs_reauth`` (credential
   too; only this target stops), expired token → refreshed (X rotation) and sent again. Each of
   these releases the reservation.
4. Ambiguous (sent, no answer): the row becomes ``unknown`` and keeps its reservation; the account's
   recent posts are searched for the post's own reference (the marker its text ends with, made from
   the idempotency key: two articles with the same text are told apart) before anything is sent again.
5. Dry run: the text is rendered and stored exactly as it would be sent, status ``dry_run``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from icop.articles import repository as articles_repo
from icop.db import tenant_tx
from icop.events import hooks
from icop.insights.cadence import first_collection_s
from icop.observability.metrics import observe_post
from icop.settings import Settings
from icop.statuses import PostStatus

from . import repository as repo
from .clients import (
    GraphClientBase,
    MetaTokenExtender,
    OAuthTokens,
    PostRequest,
    PublishingLimit,
    PublishResult,
    SocialClient,
    XClient,
)
from .errors import ErrorKind, PlatformError
from .limits import AccountLimits, Platform, PlatformLimits
from .quota import Usage, Wait, crossings, decide, month_start, window_of
from .text import ArticleText, RenderedPost, post_marker, render
from .tokens import Credential, TokenStore

log = logging.getLogger(__name__)
OFFLINE_CONTENT = (
    "not published: the article holds text or images made by an offline provider (no provider key was "
    "set when it was written); write it again with the providers' keys set (docs/providers.md), or "
    "publish it as a dry run"
)


@dataclass(frozen=True)
class PublishTarget:
    tenant_id: UUID
    article_id: UUID
    platform: Platform
    account_id: str
    article: ArticleText
    media_urls: tuple[str, ...] = ()
    dry_run: bool = False
    link_in_text: bool | None = None
    """X: keep the link in the text (None: the account's setting). Without it the post is cheaper."""


@dataclass(frozen=True)
class PublishOutcome:
    post_id: UUID
    status: str
    """The ``posts.status`` it ended in."""
    platform_post_id: str | None = None
    not_before: datetime | None = None
    reason: str | None = None
    permalink: str | None = None

    @property
    def done(self) -> bool:
        return self.status in PostStatus.resting()

    @classmethod
    def of(cls, row: asyncpg.Record) -> PublishOutcome:
        return cls(
            row["id"], row["status"], row["platform_post_id"], row["not_before"], row["error"],
            row.get("permalink"),
        )  # fmt: skip


def idempotency_key(tenant_id: UUID, article_id: UUID, platform: str, account_id: str) -> str:
    raw = f"{tenant_id}|{article_id}|{platform}|{account_id}"
    return f"{platform}:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def _marker(t: PublishTarget) -> str:
    return post_marker(idempotency_key(t.tenant_id, t.article_id, t.platform, t.account_id))


def _not_due(row: asyncpg.Record, now: datetime) -> bool:
    """Waiting for a quota window, or scheduled for later: a publish call before then sends nothing."""
    waits = row["status"] in (PostStatus.WAITING_QUOTA, PostStatus.SCHEDULED)
    return waits and bool(row["not_before"]) and row["not_before"] > now


class Publisher:
    """Publishes targets; plain Python over asyncpg (a Temporal activity is a thin shell over it).

    Every step returns a value: the next thing it needs (a credential, a claimed row, a platform's
    answer), or the :class:`PublishOutcome` the call ends with.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: Settings,
        clients: Mapping[str, SocialClient],
        tokens: TokenStore,
    ) -> None:
        self.pool, self.s, self.clients, self.tokens = pool, settings, clients, tokens

    # ---- public API ----------------------------------------------------------------------------

    async def limits(self, tenant_id: UUID, platform: Platform, account_id: str) -> PlatformLimits:
        async with tenant_tx(self.pool, tenant_id) as conn:
            overrides = await repo.account_overrides(conn, tenant_id, platform, account_id)
        return AccountLimits(self.s, overrides).of(platform, account_id)

    async def preview(self, target: PublishTarget) -> RenderedPost:
        """The text and cost of a post before it is sent (the cost of a link on X included)."""
        lim = await self.limits(target.tenant_id, target.platform, target.account_id)
        return render(target.article, lim, link_in_text=target.link_in_text, marker=_marker(target))

    async def schedule(self, t: PublishTarget, at: datetime) -> PublishOutcome:
        """The target's post, created as ``scheduled`` for ``at`` (nothing is sent). Safe to repeat: a post
        that exists keeps its state and time (the API may have moved it since); only a fresh one is
        scheduled."""
        lim = await self.limits(t.tenant_id, t.platform, t.account_id)
        rendered = render(t.article, lim, link_in_text=t.link_in_text, marker=_marker(t))
        row = await self._ensure_row(t, rendered)
        if row["status"] != PostStatus.PENDING or row["attempts"] or row["reconcile_required"]:
            return PublishOutcome.of(row)
        async with tenant_tx(self.pool, t.tenant_id) as conn:
            row = await repo.schedule_post(conn, t.tenant_id, row["id"], at) or row
        return PublishOutcome.of(row)

    async def publish(self, t: PublishTarget) -> PublishOutcome:
        outcome = await self._publish(t)
        if not t.dry_run:
            observe_post(t.platform, outcome.status)
        return outcome

    async def _publish(self, t: PublishTarget) -> PublishOutcome:
        lim = await self.limits(t.tenant_id, t.platform, t.account_id)
        rendered = render(t.article, lim, link_in_text=t.link_in_text, marker=_marker(t))
        row = await self._ensure_row(t, rendered)
        if t.dry_run:
            return await self._dry_run(t, row, rendered)
        if row["status"] in (PostStatus.PUBLISHED, PostStatus.FAILED) or _not_due(row, datetime.now(UTC)):
            return PublishOutcome.of(row)  # done, or not due yet: no platform call at all
        async with tenant_tx(self.pool, t.tenant_id) as conn:
            offline = await articles_repo.offline_content(conn, t.tenant_id, t.article_id)
        if offline:  # placeholder text or images: never in front of real readers
            return await self._finish(
                t, row["id"], PostStatus.FAILED, reason=OFFLINE_CONTENT, code="post.offline_content",
                release=True,
            )  # fmt: skip

        cred = await self._credential(t, row["id"])
        if isinstance(cred, PublishOutcome):
            return cred
        client = self.clients[t.platform]
        live: PublishingLimit | None = None
        maybe_sent = row["reconcile_required"] or row["status"] in (PostStatus.UNKNOWN, PostStatus.PUBLISHING)
        if not maybe_sent and lim.posts_per_window is not None:
            reported = await self._live_limit(t, client, cred, row["id"])
            if isinstance(reported, PublishOutcome):
                return reported
            live = reported
        claim = await self._claim(t, rendered, lim, live)
        if isinstance(claim, PublishOutcome):
            return claim
        return await self._send(t, client, cred, claim, rendered)

    # ---- the flow ------------------------------------------------------------------------------

    async def _send(
        self,
        t: PublishTarget,
        client: SocialClient,
        cred: Credential,
        claim: asyncpg.Record,
        rendered: RenderedPost,
    ) -> PublishOutcome:
        post_id = claim["id"]
        marker = _marker(t)
        # a row sent before posts carried a reference is looked up by its text
        post = PostRequest(
            claim["text"], tuple(claim["media_urls"]), rendered.link,
            marker=marker if marker in claim["text"].split() else None,
        )  # fmt: skip
        since: datetime = claim["created_at"]
        reconcile_first = bool(claim["reconcile_required"])
        refreshed = False
        for _ in range(max(self.s.social_max_attempts, 1)):
            if reconcile_first:
                found = await self._reconcile(t, client, cred, post, since, post_id)
                if isinstance(found, PublishOutcome):
                    return found
                if found is not None:
                    return await self._published(t, post_id, found)
                await self._set(t, post_id, status=PostStatus.PUBLISHING, reconcile_required=False)
                reconcile_first = False  # confirmed absent: sending again is safe
            try:
                result = await client.publish(t.account_id, cred.access_token, post)
            except PlatformError as e:
                if e.kind is ErrorKind.AMBIGUOUS:
                    await self._set(
                        t, post_id, status=PostStatus.UNKNOWN, reconcile_required=True,
                        error=f"no answer after sending: {e.message}", error_code="post.no_answer",
                        error_params={"platform": t.platform, "account": t.account_id,
                                      "message": e.message[:500]},
                    )  # fmt: skip
                    reconcile_first = True
                    continue
                if e.kind is ErrorKind.AUTH_EXPIRED and not refreshed and self._refreshable(cred):
                    rotated = await self._rotate(cred, t, post_id)
                    if isinstance(rotated, PublishOutcome):
                        return rotated
                    cred, refreshed = rotated, True
                    continue
                return await self._failed_call(t, post_id, cred, e, attempts=claim["attempts"])
            return await self._published(t, post_id, result)
        if reconcile_first:  # the last send was ambiguous: one more look before giving up for now
            found = await self._reconcile(t, client, cred, post, since, post_id)
            if isinstance(found, PublishOutcome):
                return found
            if found is not None:
                return await self._published(t, post_id, found)
        return await self._finish(
            t, post_id, PostStatus.UNKNOWN,
            reason="no answer from the platform; will reconcile before sending again",
            code="post.no_answer",
            not_before=datetime.now(UTC) + timedelta(seconds=60), release=False,
        )  # fmt: skip

    async def _ensure_row(self, t: PublishTarget, r: RenderedPost) -> asyncpg.Record:
        key = idempotency_key(t.tenant_id, t.article_id, t.platform, t.account_id)
        async with tenant_tx(self.pool, t.tenant_id) as conn:
            return await repo.ensure_post(
                conn, t.tenant_id, t.article_id, t.platform, t.account_id, key, r.text,
                list(t.media_urls), r.cost_usd,
            )  # fmt: skip

    async def _dry_run(self, t: PublishTarget, row: asyncpg.Record, r: RenderedPost) -> PublishOutcome:
        rewritable = (
            PostStatus.PENDING, PostStatus.DRY_RUN, PostStatus.WAITING_QUOTA, PostStatus.FAILED,
            PostStatus.SCHEDULED,
        )  # fmt: skip
        if row["reconcile_required"] or row["status"] not in rewritable:
            return PublishOutcome.of(row)  # never overwrite what was (or may have been) sent
        async with tenant_tx(self.pool, t.tenant_id) as conn:
            row = await repo.update_post(
                conn, t.tenant_id, row["id"], status=PostStatus.DRY_RUN, text=r.text,
                media_urls=list(t.media_urls), cost_usd=r.cost_usd, error=None, error_code=None,
            )  # fmt: skip
        return PublishOutcome.of(row)

    async def _live_limit(
        self, t: PublishTarget, client: SocialClient, cred: Credential, post_id: UUID
    ) -> PublishingLimit | PublishOutcome | None:
        """The platform's own publishing cap, when it reports one."""
        try:
            return await client.publishing_limit(t.account_id, cred.access_token)
        except PlatformError as e:
            if e.kind in (ErrorKind.AUTH_EXPIRED, ErrorKind.AUTH_REVOKED):
                return await self._auth_failed(t, post_id, cred, e)
            log.warning("%s publishing limit unavailable (%s); using settings", t.platform, e.kind)
            return None

    async def _claim(
        self, t: PublishTarget, r: RenderedPost, lim: PlatformLimits, live: PublishingLimit | None
    ) -> asyncpg.Record | PublishOutcome:
        """Lock the row, decide, reserve quota, mark 'publishing' (a lease: another worker leaves the row
        alone until it runs out). The claimed row, or the outcome when nothing is to be sent now."""
        lease = timedelta(seconds=self.s.social_publish_lease_s)
        async with tenant_tx(self.pool, t.tenant_id) as conn:
            row = await repo.post(conn, t.tenant_id, t.article_id, t.platform, t.account_id, for_update=True)
            assert row is not None
            now: datetime = row["db_now"]
            status = row["status"]
            if status in (PostStatus.PUBLISHED, PostStatus.FAILED) or _not_due(row, now):
                return PublishOutcome.of(row)
            if status == PostStatus.PUBLISHING and row["updated_at"] > now - lease:
                return PublishOutcome(row["id"], status, reason="another worker is publishing this post")
            # A worker that died mid-call ('publishing' past its lease) may have posted.
            maybe_sent = row["reconcile_required"] or status in (PostStatus.UNKNOWN, PostStatus.PUBLISHING)
            wait = await self._reserve(conn, t, row["id"], r, lim, live, now)
            if wait is not None:
                row = await repo.update_post(
                    conn, t.tenant_id, row["id"], status=PostStatus.WAITING_QUOTA, not_before=wait.until,
                    error=wait.reason, error_code=wait.code, error_params=wait.params,
                )  # fmt: skip
                await hooks.post_status_changed(conn, t.tenant_id, row)
                return PublishOutcome.of(row)  # committed as the block ends
            if maybe_sent:
                text, media, cost = row["text"], row["media_urls"], row["cost_usd"]  # as possibly sent
            else:
                text, media, cost = r.text, list(t.media_urls), r.cost_usd
            return await repo.claim(conn, t.tenant_id, row["id"], text, media, cost, maybe_sent)

    async def _reserve(
        self,
        conn: asyncpg.Connection,
        t: PublishTarget,
        post_id: UUID,
        r: RenderedPost,
        lim: PlatformLimits,
        live: PublishingLimit | None,
        now: datetime,
    ) -> Wait | None:
        """Reserve quota for the post (a reservation it still holds is reused, never doubled), or say
        when to look again. The counts are read under the account's lock, so concurrent workers can never
        exceed a cap."""
        if await repo.holds_reservation(conn, t.tenant_id, post_id):
            return None
        await repo.lock_quota(conn, t.tenant_id, t.platform, t.account_id)
        window = window_of(lim, live)
        reserved = (
            await repo.reserved_since(conn, t.tenant_id, t.platform, t.account_id, now - window.length)
            if window.cap is not None
            else []
        )
        usage = Usage(reserved)
        if t.platform == "x":
            month = month_start(now)
            # The budget is per tenant: serialise all of the tenant's X reservations on one key.
            await repo.lock_quota(conn, t.tenant_id, "x-budget", "")
            usage = Usage(
                reserved,
                await repo.count_reserved_since(conn, t.tenant_id, "x", t.account_id, month),
                await repo.x_spent_since(conn, t.tenant_id, month),
            )
        recheck = timedelta(seconds=self.s.social_quota_recheck_s)
        wait = decide(t.platform, lim, window, live, usage, r.cost_usd, now, recheck)
        if wait is not None:
            return wait
        for mark in crossings(t.platform, lim, window, usage, r.cost_usd):
            await hooks.quota_nearly_exhausted(
                conn, t.tenant_id, t.platform, t.account_id, mark.used, mark.limit, mark.unit
            )
        await repo.reserve(conn, t.tenant_id, t.platform, t.account_id, post_id, r.cost_usd)
        return None

    # ---- tokens --------------------------------------------------------------------------------

    async def _credential(self, t: PublishTarget, post_id: UUID) -> Credential | PublishOutcome:
        """The account's token, refreshed or extended when it is close to expiry."""
        cred = await self.tokens.get(t.tenant_id, t.platform, t.account_id)
        if cred is None or cred.status != "active":
            reason = (cred and cred.status_reason) or f"no connected {t.platform} account {t.account_id}"
            return await self._finish(
                t, post_id, PostStatus.NEEDS_REAUTH, reason=f"sign in again: {reason}", code="post.reauth",
                release=True,
            )  # fmt: skip
        fresh = await self._fresh(cred, t, post_id)
        if isinstance(fresh, PublishOutcome):
            return fresh
        return await self._extend_meta(fresh, t, post_id)

    def _refreshable(self, cred: Credential) -> bool:
        return (
            cred.platform == "x" and bool(cred.refresh_token) and isinstance(self.clients.get("x"), XClient)
        )

    async def _fresh(self, cred: Credential, t: PublishTarget, post_id: UUID) -> Credential | PublishOutcome:
        margin = timedelta(seconds=self.s.social_token_refresh_margin_s)
        if cred.expires_at is None or cred.expires_at > datetime.now(UTC) + margin:
            return cred
        if self._refreshable(cred):
            return await self._rotate(cred, t, post_id)
        if cred.expires_at <= datetime.now(UTC):
            reason = f"the {t.platform} token expired on {cred.expires_at:%Y-%m-%d}; sign in again"
            await self.tokens.mark_needs_reauth(cred, reason)
            return await self._finish(
                t, post_id, PostStatus.NEEDS_REAUTH, reason=reason, code="post.token_expired", release=True
            )
        return cred

    async def _extend_meta(
        self, cred: Credential, t: PublishTarget, post_id: UUID
    ) -> Credential | PublishOutcome:
        """Renew a Meta long-lived token within ``social_meta_extend_before_s`` of its expiry."""
        before = timedelta(seconds=self.s.social_meta_extend_before_s)
        client = self.clients.get(t.platform)
        if (
            t.platform == "x"
            or cred.expires_at is None
            or cred.expires_at > datetime.now(UTC) + before
            or cred.expires_at <= datetime.now(UTC)
            or not isinstance(client, GraphClientBase)
        ):
            return cred
        ext = MetaTokenExtender(
            client, self.s.social_meta_app_id, self.s.social_meta_app_secret.get_secret_value()
        )

        async def refresh(current: Credential) -> OAuthTokens:
            return await ext.extend(current.access_token)

        try:
            return await self.tokens.rotate(cred, refresh)
        except PlatformError as e:
            if e.kind in (ErrorKind.AUTH_REVOKED, ErrorKind.AUTH_EXPIRED):
                return await self._auth_failed(t, post_id, cred, e)
            log.warning("%s token extension failed (%s); using the current token", t.platform, e.kind)
            return cred

    async def _rotate(self, cred: Credential, t: PublishTarget, post_id: UUID) -> Credential | PublishOutcome:
        x = self.clients["x"]
        assert isinstance(x, XClient)

        async def refresh(current: Credential) -> Any:
            return await x.refresh(current.refresh_token or "")

        try:
            return await self.tokens.rotate(cred, refresh)
        except PlatformError as e:
            if e.kind is ErrorKind.AUTH_REVOKED:
                return await self._auth_failed(t, post_id, cred, e)
            return await self._failed_call(t, post_id, cred, e)

    async def _auth_failed(
        self, t: PublishTarget, post_id: UUID, cred: Credential, e: PlatformError, release: bool = True
    ) -> PublishOutcome:
        reason = (
            f"{t.platform} access for account {t.account_id} was revoked or expired ({e.message}); "
            "sign in again"
        )
        await self.tokens.mark_needs_reauth(cred, reason)
        return await self._finish(
            t, post_id, PostStatus.NEEDS_REAUTH, reason=reason, code="post.reauth", message=e.message,
            release=release,
        )  # fmt: skip

    # ---- outcomes ------------------------------------------------------------------------------

    async def _reconcile(
        self,
        t: PublishTarget,
        client: SocialClient,
        cred: Credential,
        post: PostRequest,
        since: datetime,
        post_id: UUID,
    ) -> PublishResult | PublishOutcome | None:
        """The post if the platform has it, None if it does not, or the outcome when it cannot tell."""
        try:
            return await client.reconcile(t.account_id, cred.access_token, post, since)
        except PlatformError as e:
            if e.kind in (ErrorKind.AUTH_EXPIRED, ErrorKind.AUTH_REVOKED):
                # Keep the reservation: the post may exist. reconcile_required stays set.
                return await self._auth_failed(t, post_id, cred, e, release=False)
            # Cannot tell whether it exists: do not send again now; come back later.
            return await self._finish(
                t, post_id, PostStatus.UNKNOWN, reason=f"reconcile failed: {e.message}",
                code="post.reconcile_failed", message=e.message,
                not_before=datetime.now(UTC) + timedelta(seconds=max(e.retry_after or 0, 30)), release=False,
            )  # fmt: skip

    async def _failed_call(
        self, t: PublishTarget, post_id: UUID, cred: Credential, e: PlatformError, attempts: int = 0
    ) -> PublishOutcome:
        now = datetime.now(UTC)
        if e.kind is ErrorKind.MEDIA_UNAVAILABLE and attempts < self.s.social_media_fetch_attempts:
            # Nothing was posted. The next call signs the media URLs afresh (an expired presigned URL is
            # the usual cause), so the post goes out then, once.
            return await self._finish(
                t, post_id, PostStatus.PENDING,
                reason=f"the platform could not fetch the media ({e.message}); will send with fresh links",
                code="post.media_unreachable", message=e.message,
                not_before=now + timedelta(seconds=self.s.social_media_refetch_s), release=True,
            )  # fmt: skip
        if e.kind in (ErrorKind.AUTH_REVOKED, ErrorKind.AUTH_EXPIRED):
            return await self._auth_failed(t, post_id, cred, e)
        if e.kind is ErrorKind.RATE_LIMITED:
            wait_s = e.retry_after if e.retry_after is not None else self.s.social_quota_recheck_s
            return await self._finish(
                t, post_id, PostStatus.WAITING_QUOTA, reason=f"rate limited: {e.message}",
                code="post.rate_limited", message=e.message,
                not_before=now + timedelta(seconds=wait_s), release=True,
            )  # fmt: skip
        if e.kind is ErrorKind.RETRYABLE:
            wait_s = e.retry_after if e.retry_after is not None else 30
            return await self._finish(
                t, post_id, PostStatus.PENDING, reason=f"temporary failure: {e.message}",
                code="post.temporary_failure", message=e.message,
                not_before=now + timedelta(seconds=wait_s), release=True,
            )  # fmt: skip
        return await self._finish(
            t, post_id, PostStatus.FAILED, reason=f"refused by {t.platform}: {e.message}",
            code="post.refused", message=e.message, release=True,
        )  # fmt: skip

    async def _set(self, t: PublishTarget, post_id: UUID, **values: Any) -> None:
        async with tenant_tx(self.pool, t.tenant_id) as conn:
            await repo.update_post(conn, t.tenant_id, post_id, **values)

    async def _published(self, t: PublishTarget, post_id: UUID, res: PublishResult) -> PublishOutcome:
        async with tenant_tx(self.pool, t.tenant_id) as conn:
            row = await repo.mark_published(
                conn, t.tenant_id, post_id, res.post_id, res.permalink, first_collection_s(self.s)
            )
            await hooks.post_status_changed(conn, t.tenant_id, row)
        return PublishOutcome.of(row)

    async def _finish(
        self,
        t: PublishTarget,
        post_id: UUID,
        status: PostStatus,
        *,
        reason: str | None = None,
        code: str | None = None,
        message: str | None = None,
        not_before: datetime | None = None,
        release: bool,
    ) -> PublishOutcome:
        """The post's new state; ``reason`` in English, ``code`` (``post.…``) with the platform and the
        platform's own ``message`` as params, for a client's wording."""
        params: dict[str, str] = {"platform": t.platform, "account": t.account_id}
        if message:
            params["message"] = message[:500]
        async with tenant_tx(self.pool, t.tenant_id) as conn:
            if release:
                await repo.release(conn, t.tenant_id, post_id)
            row = await repo.update_post(
                conn, t.tenant_id, post_id, status=status, error=reason,
                error_code=code if reason else None, error_params=params if reason else {},
                not_before=not_before,
            )  # fmt: skip
            await hooks.post_status_changed(conn, t.tenant_id, row)
        return PublishOutcome.of(row)
