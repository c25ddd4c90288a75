"""Collecting one connected account's due posts: read their metrics from the platform inside its limits,
store them, move each post to its next collection, and say when a post reached a tenant's threshold.

One call of :meth:`InsightsCollector.collect` (a Temporal activity is a thin shell over it, run by the
account's schedule) does, for one account:

1. takes the posts whose collection is due (``metrics_state = 'collecting'``, ``metrics_next_at <= now``);
2. reserves the requests it is about to make under the account's lock (``insights_requests``), inside the
   platform's rate limit (counted with publishing's calls where the platform counts them together) and, on
   X, the tenant's monthly budget, which pays for reads and posts alike (:mod:`icop.insights.budget`); what
   does not fit waits for the window (or the month) to free up;
3. reads them (:mod:`icop.insights.clients`), refreshing an X token once if it expired;
4. per post: stores a ``post_metrics`` row and the latest figures, and the next due time from the cadence
   (:mod:`icop.insights.cadence`; after the last age the post is ``done``); a deleted post stops with
   ``insights.post_deleted``, a permission taken back stops the account's posts with
   ``insights.permission_lost`` (until the account is connected again); an account that must sign in again,
   a rate limit or a temporary failure leaves the posts waiting with the reason recorded; the other posts
   go on either way;
5. fires ``post.engagement_threshold`` once per post and threshold, in the transaction that stores the
   figures that reached it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from icop.db import tenant_tx
from icop.events import hooks
from icop.settings import Settings
from icop.social import repository as social_repo
from icop.social.clients import SocialClient, XClient
from icop.social.errors import ErrorKind, PlatformError
from icop.social.limits import AccountLimits, PlatformLimits
from icop.social.quota import month_start
from icop.social.tokens import Credential, TokenStore

from . import repository as repo
from .budget import Reads, plan_reads
from .cadence import next_due
from .clients import InsightsClient, Metrics, Outcome, insights_clients

log = logging.getLogger(__name__)

POST_DELETED = "insights.post_deleted"
PERMISSION_LOST = "insights.permission_lost"
NEEDS_REAUTH = "insights.account_needs_reauth"
RATE_LIMITED = "insights.rate_limited"
TEMPORARY = "insights.temporary_failure"
REFUSED = "insights.refused"


@dataclass(frozen=True)
class Collected:
    """What one collection of one account did."""

    due: int = 0
    read: int = 0
    """Posts whose metrics were stored."""
    requests: int = 0
    """Requests reserved (and sent at most) for them."""
    stopped: dict[str, int] = field(default_factory=dict)
    """Posts whose collection ended, by reason code."""
    waiting: dict[str, int] = field(default_factory=dict)
    """Posts left for later, by reason code (``window``: the rate limit's window is full)."""
    thresholds_hit: int = 0


class InsightsCollector:
    """Plain Python over asyncpg and the platform clients; one account per call."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: Settings,
        clients: Mapping[str, SocialClient],
        tokens: TokenStore,
    ) -> None:
        self.pool, self.s, self.tokens = pool, settings, tokens
        self.x = clients.get("x")
        self.readers: dict[str, InsightsClient] = insights_clients(
            clients, settings.insights_x_ids_per_request
        )

    async def accounts(self, tenant_id: UUID) -> list[tuple[str, str]]:
        """The tenant's connected accounts with posts to collect (what needs a schedule)."""
        async with tenant_tx(self.pool, tenant_id) as conn:
            return await repo.collecting_accounts(conn, tenant_id)

    async def collect(self, tenant_id: UUID, platform: str, account_id: str) -> Collected:
        reader = self.readers.get(platform)
        if reader is None:
            raise ValueError(f"no insights reader for {platform!r}")
        async with tenant_tx(self.pool, tenant_id) as conn:
            due = await repo.due_posts(conn, tenant_id, platform, account_id, self.s.insights_posts_per_run)
            overrides = await social_repo.account_overrides(conn, tenant_id, platform, account_id)
        if not due:
            return Collected()
        now: datetime = due[0]["db_now"]
        params = {"platform": platform, "account": account_id}
        cred = await self._credential(tenant_id, platform, account_id)
        if cred is None:
            later = now + timedelta(seconds=self.s.insights_reauth_recheck_s)
            await self._postpone(tenant_id, due, later, NEEDS_REAUTH, params)
            return Collected(due=len(due), waiting={NEEDS_REAUTH: len(due)})
        lim = AccountLimits(self.s, overrides).of(platform, account_id)
        reads = await self._reserve(tenant_id, platform, account_id, lim, len(due), now)
        if reads.posts == 0:
            assert reads.wait_until is not None
            code = reads.code or "window"
            await self._postpone(tenant_id, due, reads.wait_until, reads.code, params)
            return Collected(due=len(due), waiting={code: len(due)})
        take = due[: reads.posts]
        results = await self._read(reader, cred, [r["platform_post_id"] for r in take])
        return await self._apply(tenant_id, take, results, reads, len(due), now, cred)

    # ---- steps -----------------------------------------------------------------------------------

    async def _credential(self, tenant_id: UUID, platform: str, account_id: str) -> Credential | None:
        """The account's active credential (an X token close to expiry refreshed first), or None."""
        cred = await self.tokens.get(tenant_id, platform, account_id)
        if cred is None or cred.status != "active":
            return None
        if cred.expires_at is None:
            return cred
        now = datetime.now(UTC)
        if cred.expires_at <= now + timedelta(seconds=self.s.social_token_refresh_margin_s):
            fresh = await self._refresh(cred)
            if fresh is not None:
                return fresh
        return cred if cred.expires_at > now else None

    async def _refresh(self, cred: Credential) -> Credential | None:
        """X's rotation (the only platform whose tokens the collector renews; publishing extends Meta's)."""
        x = self.x
        if cred.platform != "x" or not cred.refresh_token or not isinstance(x, XClient):
            return None

        async def refresh(current: Credential) -> Any:
            return await x.refresh(current.refresh_token or "")

        try:
            return await self.tokens.rotate(cred, refresh)
        except PlatformError as e:
            if e.kind is ErrorKind.AUTH_REVOKED:
                await self.tokens.mark_needs_reauth(cred, f"X refused the refresh token ({e.message})")
                return None
            raise

    async def _reserve(
        self, tenant_id: UUID, platform: str, account_id: str, lim: PlatformLimits, due: int, now: datetime
    ) -> Reads:
        """Under the account's insights lock: what fits now, recorded before anything is sent, so that
        concurrent collections (or a retried activity) can never exceed a limit together."""
        async with tenant_tx(self.pool, tenant_id) as conn:
            await social_repo.lock_quota(conn, tenant_id, f"{platform}-insights", account_id)
            since = now - lim.read_window
            calls = await repo.calls_since(conn, tenant_id, platform, account_id, since)
            publishes = (
                await repo.publishes_since(conn, tenant_id, platform, account_id, since)
                if lim.calls_per_post
                else []
            )
            spent = Decimal(0)
            if lim.read_cost_usd:
                await social_repo.lock_quota(conn, tenant_id, "x-budget", "")  # the budget publishing uses
                spent = await social_repo.x_spent_since(conn, tenant_id, month_start(now))
            reads = plan_reads(lim, due, now, calls, publishes, spent)
            if reads.posts:
                await repo.record_requests(
                    conn, tenant_id, platform, account_id, reads.calls, reads.posts, reads.cost_usd
                )
        return reads

    async def _read(self, reader: InsightsClient, cred: Credential, ids: list[str]) -> dict[str, Outcome]:
        results = await reader.metrics(cred.access_token, ids)
        expired = [
            i for i, r in results.items() if isinstance(r, PlatformError) and r.kind is ErrorKind.AUTH_EXPIRED
        ]
        if expired and cred.platform == "x" and cred.refresh_token:
            fresh = await self._refresh(cred)
            if fresh is not None:  # the same requests again, with the rotated token (already reserved)
                retried = await reader.metrics(
                    fresh.access_token, [i for i in ids if i not in results or i in expired]
                )
                results.update(retried)
        return results

    async def _apply(
        self,
        tenant_id: UUID,
        take: list[asyncpg.Record],
        results: Mapping[str, Outcome],
        reads: Reads,
        due: int,
        now: datetime,
        cred: Credential,
    ) -> Collected:
        platform, account = cred.platform, cred.account_id
        params = {"platform": platform, "account": account}
        stopped: Counter[str] = Counter()
        waiting: Counter[str] = Counter()
        read = hits = 0
        reauth: PlatformError | None = None
        async with tenant_tx(self.pool, tenant_id) as conn:
            thresholds = await repo.thresholds(conn, tenant_id, platform)
            for row in take:
                got = results.get(row["platform_post_id"])
                if isinstance(got, Metrics):
                    hits += await self._store(conn, tenant_id, row, got, thresholds, now)
                    read += 1
                    continue
                if got is None:  # not attempted (the call ended on an account-wide answer): next run
                    waiting["not_attempted"] += 1
                    continue
                action = self._on_error(got, now)
                if action[0] == "stop":
                    code = action[1]
                    await repo.stop(
                        conn, tenant_id, [row["id"]], code, {**params, "message": got.message[:300]}
                    )
                    stopped[code] += 1
                else:
                    _, code, at = action
                    await repo.postpone(conn, tenant_id, [row["id"]], at, code, params)
                    waiting[code] += 1
                    if code == NEEDS_REAUTH:
                        reauth = got
        if reauth is not None:
            await self.tokens.mark_needs_reauth(
                cred, f"{platform} access for account {account} was revoked or expired ({reauth.message})"
            )
        if stopped or waiting:
            log.info("insights %s/%s: read %d, stopped %s, waiting %s", platform, account, read,
                     dict(stopped), dict(waiting))  # fmt: skip
        return Collected(due, read, reads.calls, dict(stopped), dict(waiting), hits)

    def _on_error(self, e: PlatformError, now: datetime) -> tuple[str, str, datetime]:
        """("stop", code, now) or ("wait", code, when)."""
        if e.kind is ErrorKind.NOT_FOUND:
            return ("stop", POST_DELETED, now)
        if e.kind is ErrorKind.PERMISSION_DENIED:
            return ("stop", PERMISSION_LOST, now)
        if e.kind in (ErrorKind.AUTH_REVOKED, ErrorKind.AUTH_EXPIRED):
            return ("wait", NEEDS_REAUTH, now + timedelta(seconds=self.s.insights_reauth_recheck_s))
        if e.kind is ErrorKind.RATE_LIMITED:
            wait = e.retry_after if e.retry_after is not None else float(self.s.insights_retry_s)
            return ("wait", RATE_LIMITED, now + timedelta(seconds=max(wait, 1.0)))
        if e.kind is ErrorKind.REJECTED:
            return ("stop", REFUSED, now)
        return ("wait", TEMPORARY, now + timedelta(seconds=self.s.insights_retry_s))

    async def _store(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        row: asyncpg.Record,
        m: Metrics,
        thresholds: list[asyncpg.Record],
        now: datetime,
    ) -> int:
        published: datetime = row["published_at"] or now
        age_s = int((now - published).total_seconds())
        await repo.store_metrics(conn, tenant_id, row["id"], age_s, m)
        post = await repo.collected(
            conn, tenant_id, row["id"], m, next_due(published, now, self.s.insights_ages_s)
        )
        hits = 0
        for t in thresholds:
            value = m.value(t["metric"])
            if value >= t["value"] and await repo.record_hit(conn, tenant_id, t["id"], row["id"], value):
                await hooks.engagement_threshold(
                    conn, tenant_id, post, t["id"], t["metric"], t["value"], value
                )
                hits += 1
        return hits

    async def _postpone(
        self,
        tenant_id: UUID,
        rows: list[asyncpg.Record],
        at: datetime,
        code: str | None,
        params: Mapping[str, str],
    ) -> None:
        async with tenant_tx(self.pool, tenant_id) as conn:
            await repo.postpone(conn, tenant_id, [r["id"] for r in rows], at, code, params)
