"""Quotas as enforced: each account's limits come from ``icop.social.limits.AccountLimits``, the same
function the publisher reserves against (settings' defaults plus the account's overrides)."""

from __future__ import annotations

from icop.social import repository as social_repo
from icop.social.limits import AccountLimits

from ..context import Tx
from .repository import QuotaRepository
from .schemas import AccountQuota

repo = QuotaRepository()


async def account_quotas(tx: Tx) -> list[AccountQuota]:
    limits = AccountLimits(tx.services.settings, await social_repo.account_overrides(tx.conn, tx.tenant_id))
    accounts = [(r["platform"], r["account_id"]) for r in await repo.accounts(tx.conn, tx.tenant_id)]
    per_account = {(p, a): limits.of(p, a) for p, a in accounts}
    windows = [(p, a, int(lim.window.total_seconds())) for (p, a), lim in per_account.items()]
    out = []
    for r in await repo.usage(tx.conn, tx.tenant_id, windows):
        lim = per_account[(r["platform"], r["account_id"])]
        out.append(
            AccountQuota(
                platform=r["platform"],
                account_id=r["account_id"],
                used=r["used"],
                limit=lim.posts_per_window,
                window_hours=int(lim.window.total_seconds() // 3600),
                resets_at=r["resets_at"],
                monthly_post_cap=lim.monthly_post_cap,
                monthly_budget_usd=lim.monthly_budget_usd if r["platform"] == "x" else None,
                cost_usd_month=r["cost"],
            )
        )
    return out
