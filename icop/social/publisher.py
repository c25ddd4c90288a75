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
   recent posts are searched for the exact text before anything is sent again.
5. Dry run: the text is rendered and stored exactly as it would be sent, status ``dry_run``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from icop.db import tenant_tx
from icop.events import hooks
from icop.settings import Settings

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
from .limits import Platform, PlatformLimits, limits_for
from .text import ArticleText, RenderedPost, render
from .tokens import Credential, TokenStore

log = logging.getLogger(__name__)


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

    @property
    def done(self) -> bool:
        return self.status in ("published", "dry_run", "failed", "needs_reauth")


def idempotency_key(tenant_id: UUID, article_id: UUID, platform: str, account_id: str) -> str:
    raw = f"{tenant_id}|{article_id}|{platform}|{account_id}"
    return f"{platform}:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def _lock_key(tenant_id: UUID, platform: str, account_id: str) -> int:
    digest = hashlib.sha256(f"icop-quota|{tenant_id}|{platform}|{account_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _next_month(t: datetime) -> datetime:
    first = t.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


class _Stop(Exception):
    """Internal: the call ends with this outcome."""

    def __init__(self, outcome: PublishOutcome) -> None:
        super().__init__(outcome.status)
        self.outcome = outcome


class Publisher:
    """Publishes targets; plain Python over asyncpg (a Temporal activity is a thin shell over it)."""

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
            overrides = await conn.fetchval(
                "SELECT limits FROM social_account_limits"
                " WHERE tenant_id = $1 AND platform = $2 AND account_id = $3",
                tenant_id,
                platform,
                account_id,
            )
        return limits_for(platform, self.s, overrides)

    async def preview(self, target: PublishTarget) -> RenderedPost:
        """The text and cost of a post before it is sent (the cost of a link on X included)."""
        lim = await self.limits(target.tenant_id, target.platform, target.account_id)
        return render(target.article, lim, link_in_text=target.link_in_text)

    async def publish(self, target: PublishTarget) -> PublishOutcome:
        try:
            return await self._publish(target)
        except _Stop as stop:
            return stop.outcome

    # ---- the flow ------------------------------------------------------------------------------

    async def _publish(self, t: PublishTarget) -> PublishOutcome:
        lim = await self.limits(t.tenant_id, t.platform, t.account_id)
        rendered = render(t.article, lim, link_in_text=t.link_in_text)
        row = await self._ensure_row(t, rendered)
        if t.dry_run:
            return await self._dry_run(t, row, rendered)
        if row["status"] in ("published", "failed") or (
            row["status"] == "waiting_quota" and row["not_before"] and row["not_before"] > datetime.now(UTC)
        ):
            return self._outcome(row)  # done, or not due yet: no platform call at all

        cred = await self.tokens.get(t.tenant_id, t.platform, t.account_id)
        if cred is None or cred.status != "active":
            reason = (
                cred.status_reason if cred else None
            ) or f"no connected {t.platform} account {t.account_id}"
            return await self._finish(
                t, row["id"], "needs_reauth", reason=f"sign in again: {reason}", release=True
            )
        cred = await self._fresh(cred, t, row["id"])
        cred = await self._extend_meta(cred, t, row["id"])
        client = self.clients[t.platform]

        live: PublishingLimit | None = None
        maybe_sent = row["reconcile_required"] or row["status"] in ("unknown", "publishing")
        if not maybe_sent and lim.posts_per_window is not None:
            try:
                live = await client.publishing_limit(t.account_id, cred.access_token)
            except PlatformError as e:
                if e.kind in (ErrorKind.AUTH_EXPIRED, ErrorKind.AUTH_REVOKED):
                    return await self._auth_failed(t, row["id"], cred, e)
                log.warning("%s publishing limit unavailable (%s); using settings", t.platform, e.kind)

        claim = await self._claim(t, rendered, lim, live)
        post = PostRequest(claim["text"], tuple(claim["media_urls"]), rendered.link)
        since: datetime = claim["created_at"]
        reconcile_first = bool(claim["reconcile_required"])

        refreshed = False
        for _ in range(max(self.s.social_max_attempts, 1)):
            if reconcile_first:
                found = await self._reconcile(t, client, cred, post, since, claim["id"])
                if found is not None:
                    return await self._published(t, claim["id"], found)
                await self._mark_sending(t, claim["id"])  # confirmed absent: sending again is safe
                reconcile_first = False
            try:
                result = await client.publish(t.account_id, cred.access_token, post)
            except PlatformError as e:
                if e.kind is ErrorKind.AMBIGUOUS:
                    await self._mark_unknown(t, claim["id"], e.message)
                    reconcile_first = True
                    continue
                if e.kind is ErrorKind.AUTH_EXPIRED and not refreshed and self._refreshable(cred):
                    cred = await self._rotate(cred, t, claim["id"])
                    refreshed = True
                    continue
                return await self._failed_call(t, claim["id"], cred, e)
            return await self._published(t, claim["id"], result)
        if reconcile_first:  # the last send was ambiguous: one more look before giving up for now
            found = await self._reconcile(t, client, cred, post, since, claim["id"])
            if found is not None:
                return await self._published(t, claim["id"], found)
        nb = datetime.now(UTC) + timedelta(seconds=60)
        return await self._finish(
            t,
            claim["id"],
            "unknown",
            reason="no answer from the platform; will reconcile before sending again",
            not_before=nb,
            release=False,
        )

    async def _ensure_row(self, t: PublishTarget, r: RenderedPost) -> asyncpg.Record:
        key = idempotency_key(t.tenant_id, t.article_id, t.platform, t.account_id)
        # No conflict target: the key is a function of (article, platform, account), so a racing insert
        # conflicts on both unique indexes and a targeted ON CONFLICT would raise on the other one.
        async with tenant_tx(self.pool, t.tenant_id) as conn:
            await conn.execute(
                """INSERT INTO posts (tenant_id, article_id, platform, account_id, idempotency_key, text,
                                      media_urls,
                                      cost_usd)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                   ON CONFLICT DO NOTHING""",
                t.tenant_id,
                t.article_id,
                t.platform,
                t.account_id,
                key,
                r.text,
                list(t.media_urls),
                r.cost_usd,
            )
            return await conn.fetchrow(
                "SELECT * FROM posts"
                " WHERE tenant_id = $1 AND article_id = $2 AND platform = $3 AND account_id = $4",
                t.tenant_id,
                t.article_id,
                t.platform,
                t.account_id,
            )

    async def _dry_run(self, t: PublishTarget, row: asyncpg.Record, r: RenderedPost) -> PublishOutcome:
        if row["reconcile_required"] or row["status"] not in (
            "pending",
            "dry_run",
            "waiting_quota",
            "failed",
        ):
            return self._outcome(row)  # never overwrite what was (or may have been) sent
        async with tenant_tx(self.pool, t.tenant_id) as conn:
            row = await conn.fetchrow(
                """UPDATE posts SET status = 'dry_run', text = $2, media_urls = $3, cost_usd = $4,
                          error = NULL,
                          updated_at = now() WHERE id = $1 RETURNING *""",
                row["id"],
                r.text,
                list(t.media_urls),
                r.cost_usd,
            )
        return self._outcome(row)

    async def _claim(
        self, t: PublishTarget, r: RenderedPost, lim: PlatformLimits, live: PublishingLimit | None
    ) -> asyncpg.Record:
        """Lock the row, decide, reserve quota, mark 'publishing'. Raises _Stop when nothing is to be sent."""
        lease = timedelta(seconds=self.s.social_publish_lease_s)
        async with tenant_tx(self.pool, t.tenant_id) as conn:
            try:
                row = await conn.fetchrow(
                    "SELECT *, now() AS db_now FROM posts WHERE tenant_id = $1 AND article_id = $2 "
                    "AND platform = $3 AND account_id = $4 FOR UPDATE",
                    t.tenant_id,
                    t.article_id,
                    t.platform,
                    t.account_id,
                )
                now: datetime = row["db_now"]
                status = row["status"]
                if status in ("published", "failed"):
                    raise _Stop(self._outcome(row))
                if status == "publishing" and row["updated_at"] > now - lease:
                    raise _Stop(
                        PublishOutcome(
                            row["id"], "publishing", reason="another worker is publishing this post"
                        )
                    )
                # A worker that died mid-call ('publishing' past its lease) may have posted.
                maybe_sent = row["reconcile_required"] or status in ("unknown", "publishing")
                if status == "waiting_quota" and row["not_before"] and row["not_before"] > now:
                    raise _Stop(self._outcome(row))
                # Reserve (a reservation this post still holds is reused, never doubled).
                await self._reserve(conn, t, row["id"], r, lim, live, now)
                if maybe_sent:
                    text, media, cost = row["text"], row["media_urls"], row["cost_usd"]  # as possibly sent
                else:
                    text, media, cost = r.text, list(t.media_urls), r.cost_usd
                # 'publishing' is a lease: another worker leaves the row alone until it runs out.
                return await conn.fetchrow(
                    """UPDATE posts SET status = 'publishing', reconcile_required = $5, text = $2,
                              media_urls = $3, cost_usd = $4, attempts = attempts + 1, not_before = NULL,
                              updated_at = now() WHERE id = $1 RETURNING *""",
                    row["id"],
                    text,
                    media,
                    cost,
                    maybe_sent,
                )
            except _CommitAndStop as stop:
                waiting = stop.outcome  # leaving the block normally commits the waiting state
        raise _Stop(waiting)

    async def _reserve(
        self,
        conn: asyncpg.Connection,
        t: PublishTarget,
        post_id: UUID,
        r: RenderedPost,
        lim: PlatformLimits,
        live: PublishingLimit | None,
        now: datetime,
    ) -> None:
        held = await conn.fetchval(
            "SELECT 1 FROM platform_quota_usage"
            " WHERE tenant_id = $1 AND post_id = $2 AND released_at IS NULL",
            t.tenant_id,
            post_id,
        )
        if held:
            return
        await conn.execute(
            "SELECT pg_advisory_xact_lock($1)", _lock_key(t.tenant_id, t.platform, t.account_id)
        )
        cap, window = lim.posts_per_window, lim.window
        if live is not None:
            cap, window = live.quota_total, timedelta(seconds=live.quota_duration_s)
        if cap is not None:
            used = await conn.fetchval(
                """SELECT count(*) FROM platform_quota_usage WHERE tenant_id = $1 AND platform = $2
                   AND account_id = $3 AND released_at IS NULL AND reserved_at > $4""",
                t.tenant_id,
                t.platform,
                t.account_id,
                now - window,
            )
            if used >= cap:
                oldest = await conn.fetchval(
                    """SELECT reserved_at FROM platform_quota_usage WHERE tenant_id = $1 AND platform = $2
                       AND account_id = $3 AND released_at IS NULL AND reserved_at > $4
                       ORDER BY reserved_at OFFSET $5 LIMIT 1""",
                    t.tenant_id,
                    t.platform,
                    t.account_id,
                    now - window,
                    used - cap,
                )
                await self._wait(
                    conn,
                    post_id,
                    oldest + window,
                    f"{t.platform} limit of {cap} posts per {int(window.total_seconds() // 3600)} h reached",
                )
            if live is not None and live.quota_usage >= live.quota_total:
                await self._wait(
                    conn,
                    post_id,
                    now + timedelta(seconds=self.s.social_quota_recheck_s),
                    f"{t.platform} reports its publishing quota used up",
                )
        if t.platform == "x":
            month = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            if lim.monthly_post_cap is not None:
                used = await conn.fetchval(
                    """SELECT count(*) FROM platform_quota_usage WHERE tenant_id = $1 AND platform = 'x'
                       AND account_id = $2 AND released_at IS NULL AND reserved_at >= $3""",
                    t.tenant_id,
                    t.account_id,
                    month,
                )
                if used >= lim.monthly_post_cap:
                    await self._wait(
                        conn,
                        post_id,
                        _next_month(now),
                        f"X monthly cap of {lim.monthly_post_cap} posts reached",
                    )
            if lim.monthly_budget_usd is not None:
                # The budget is per tenant: serialise all of the tenant's X reservations on one key.
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(t.tenant_id, "x-budget", ""))
                spent = await conn.fetchval(
                    """SELECT coalesce(sum(cost_usd), 0) FROM platform_quota_usage WHERE tenant_id = $1
                       AND platform = 'x' AND released_at IS NULL AND reserved_at >= $2""",
                    t.tenant_id,
                    month,
                )
                if spent + r.cost_usd > Decimal(str(lim.monthly_budget_usd)):
                    await self._wait(
                        conn,
                        post_id,
                        _next_month(now),
                        f"monthly X budget of "
                        f"${lim.monthly_budget_usd:.2f} would be exceeded (spent ${spent:.3f}, "
                        f"this post ${r.cost_usd:.3f})",
                    )
        await self._announce_nearly_exhausted(conn, t, r, lim, cap, window, now)
        await conn.execute(
            """INSERT INTO platform_quota_usage (tenant_id, platform, account_id, post_id, cost_usd)
               VALUES ($1, $2, $3, $4, $5)""",
            t.tenant_id,
            t.platform,
            t.account_id,
            post_id,
            r.cost_usd,
        )

    async def _announce_nearly_exhausted(
        self,
        conn: asyncpg.Connection,
        t: PublishTarget,
        r: RenderedPost,
        lim: PlatformLimits,
        cap: int | None,
        window: timedelta,
        now: datetime,
    ) -> None:
        """``quota.nearly_exhausted`` when this reservation crosses 80 % of the account's posts per window
        (or, on X, of the tenant's monthly budget); same transaction as the reservation."""
        if cap is not None:
            used = await conn.fetchval(
                """SELECT count(*) FROM platform_quota_usage WHERE tenant_id = $1 AND platform = $2
                   AND account_id = $3 AND released_at IS NULL AND reserved_at > $4""",
                t.tenant_id,
                t.platform,
                t.account_id,
                now - window,
            )
            if hooks.crosses(used, 1, cap):
                hours = int(window.total_seconds() // 3600)
                await hooks.quota_nearly_exhausted(
                    conn, t.tenant_id, t.platform, t.account_id, used + 1, cap, f"posts per {hours} h"
                )
        budget = lim.monthly_budget_usd if t.platform == "x" else None
        if budget:
            month = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            spent = await conn.fetchval(
                """SELECT coalesce(sum(cost_usd), 0) FROM platform_quota_usage WHERE tenant_id = $1
                   AND platform = 'x' AND released_at IS NULL AND reserved_at >= $2""",
                t.tenant_id,
                month,
            )
            if hooks.crosses(float(spent), float(r.cost_usd), float(budget)):
                total = float(spent) + float(r.cost_usd)
                await hooks.quota_nearly_exhausted(
                    conn, t.tenant_id, "x", t.account_id, total, float(budget), "USD per month"
                )

    async def _wait(self, conn: asyncpg.Connection, post_id: UUID, until: datetime, reason: str) -> None:
        row = await conn.fetchrow(
            """UPDATE posts SET status = 'waiting_quota', not_before = $2, error = $3, updated_at = now()
               WHERE id = $1 RETURNING *""",
            post_id,
            until,
            reason,
        )
        await hooks.post_status_changed(conn, row["tenant_id"], row)
        # Commit this state (the raise would roll it back), then stop.
        raise _CommitAndStop(self._outcome(row))

    # ---- tokens --------------------------------------------------------------------------------

    def _refreshable(self, cred: Credential) -> bool:
        return (
            cred.platform == "x" and bool(cred.refresh_token) and isinstance(self.clients.get("x"), XClient)
        )

    async def _fresh(self, cred: Credential, t: PublishTarget, post_id: UUID) -> Credential:
        margin = timedelta(seconds=self.s.social_token_refresh_margin_s)
        if cred.expires_at is None or cred.expires_at > datetime.now(UTC) + margin:
            return cred
        if self._refreshable(cred):
            return await self._rotate(cred, t, post_id)
        if cred.expires_at <= datetime.now(UTC):
            reason = f"the {t.platform} token expired on {cred.expires_at:%Y-%m-%d}; sign in again"
            await self.tokens.mark_needs_reauth(cred, reason)
            raise _Stop(await self._finish(t, post_id, "needs_reauth", reason=reason, release=True))
        return cred

    async def _extend_meta(self, cred: Credential, t: PublishTarget, post_id: UUID) -> Credential:
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
                raise _Stop(await self._auth_failed(t, post_id, cred, e)) from None
            log.warning("%s token extension failed (%s); using the current token", t.platform, e.kind)
            return cred

    async def _rotate(self, cred: Credential, t: PublishTarget, post_id: UUID) -> Credential:
        x = self.clients["x"]
        assert isinstance(x, XClient)

        async def refresh(current: Credential) -> Any:
            return await x.refresh(current.refresh_token or "")

        try:
            return await self.tokens.rotate(cred, refresh)
        except PlatformError as e:
            if e.kind is ErrorKind.AUTH_REVOKED:
                raise _Stop(await self._auth_failed(t, post_id, cred, e)) from None
            raise _Stop(await self._failed_call(t, post_id, cred, e)) from None

    async def _auth_failed(
        self, t: PublishTarget, post_id: UUID, cred: Credential, e: PlatformError, release: bool = True
    ) -> PublishOutcome:
        reason = (
            f"{t.platform} access for account {t.account_id} was revoked or expired ({e.message}); "
            "sign in again"
        )
        await self.tokens.mark_needs_reauth(cred, reason)
        return await self._finish(t, post_id, "needs_reauth", reason=reason, release=release)

    # ---- outcomes ------------------------------------------------------------------------------

    async def _reconcile(
        self,
        t: PublishTarget,
        client: SocialClient,
        cred: Credential,
        post: PostRequest,
        since: datetime,
        post_id: UUID,
    ) -> PublishResult | None:
        try:
            return await client.reconcile(t.account_id, cred.access_token, post, since)
        except PlatformError as e:
            if e.kind in (ErrorKind.AUTH_EXPIRED, ErrorKind.AUTH_REVOKED):
                # Keep the reservation: the post may exist. reconcile_required stays set.
                raise _Stop(await self._auth_failed(t, post_id, cred, e, release=False)) from None
            # Cannot tell whether it exists: do not send again now; come back later.
            nb = datetime.now(UTC) + timedelta(seconds=max(e.retry_after or 0, 30))
            raise _Stop(
                await self._finish(
                    t,
                    post_id,
                    "unknown",
                    reason=f"reconcile failed: {e.message}",
                    not_before=nb,
                    release=False,
                )
            ) from None

    async def _failed_call(
        self, t: PublishTarget, post_id: UUID, cred: Credential, e: PlatformError
    ) -> PublishOutcome:
        now = datetime.now(UTC)
        if e.kind in (ErrorKind.AUTH_REVOKED, ErrorKind.AUTH_EXPIRED):
            return await self._auth_failed(t, post_id, cred, e)
        if e.kind is ErrorKind.RATE_LIMITED:
            nb = now + timedelta(
                seconds=e.retry_after if e.retry_after is not None else self.s.social_quota_recheck_s
            )
            return await self._finish(
                t, post_id, "waiting_quota", reason=f"rate limited: {e.message}", not_before=nb, release=True
            )
        if e.kind is ErrorKind.RETRYABLE:
            nb = now + timedelta(seconds=e.retry_after if e.retry_after is not None else 30)
            return await self._finish(
                t, post_id, "pending", reason=f"temporary failure: {e.message}", not_before=nb, release=True
            )
        return await self._finish(
            t, post_id, "failed", reason=f"refused by {t.platform}: {e.message}", release=True
        )

    async def _mark_sending(self, t: PublishTarget, post_id: UUID) -> None:
        async with tenant_tx(self.pool, t.tenant_id) as conn:
            await conn.execute(
                "UPDATE posts SET status = 'publishing', reconcile_required = false, updated_at = now()"
                " WHERE id = $1",
                post_id,
            )

    async def _mark_unknown(self, t: PublishTarget, post_id: UUID, message: str) -> None:
        async with tenant_tx(self.pool, t.tenant_id) as conn:
            await conn.execute(
                "UPDATE posts SET status = 'unknown', reconcile_required = true, error = $2,"
                " updated_at = now() WHERE id = $1",
                post_id,
                f"no answer after sending: {message}",
            )

    async def _published(self, t: PublishTarget, post_id: UUID, res: PublishResult) -> PublishOutcome:
        async with tenant_tx(self.pool, t.tenant_id) as conn:
            row = await conn.fetchrow(
                """UPDATE posts SET status = 'published', platform_post_id = $2, permalink = $3, error = NULL,
                          not_before = NULL, published_at = now(), updated_at = now(),
                          reconcile_required = false
                   WHERE id = $1 RETURNING *""",
                post_id,
                res.post_id,
                res.permalink,
            )
            await hooks.post_status_changed(conn, t.tenant_id, row)
        return self._outcome(row)

    async def _finish(
        self,
        t: PublishTarget,
        post_id: UUID,
        status: str,
        *,
        reason: str | None = None,
        not_before: datetime | None = None,
        release: bool,
    ) -> PublishOutcome:
        async with tenant_tx(self.pool, t.tenant_id) as conn:
            if release:
                await conn.execute(
                    "UPDATE platform_quota_usage SET released_at = now()"
                    " WHERE post_id = $1 AND released_at IS NULL",
                    post_id,
                )
            row = await conn.fetchrow(
                """UPDATE posts SET status = $2, error = $3, not_before = $4, updated_at = now()
                   WHERE id = $1 RETURNING *""",
                post_id,
                status,
                reason,
                not_before,
            )
            await hooks.post_status_changed(conn, t.tenant_id, row)
        return self._outcome(row)

    @staticmethod
    def _outcome(row: asyncpg.Record) -> PublishOutcome:
        return PublishOutcome(
            row["id"], row["status"], row["platform_post_id"], row["not_before"], row["error"]
        )


class _CommitAndStop(_Stop):
    """Raised inside :meth:`Publisher._claim`'s transaction when its writes must be kept."""
