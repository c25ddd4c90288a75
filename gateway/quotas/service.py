from __future__ import annotations

from ..context import Tx
from .repository import QuotaRepository
from .schemas import AccountQuota

repo = QuotaRepository()


async def account_quotas(tx: Tx) -> list[AccountQuota]:
    caps = tx.services.config.platform_quotas
    rows = await repo.usage(tx.conn, tx.tenant_id, {p: hours for p, (_, hours) in caps.items()})
    return [
        AccountQuota(
            platform=r["platform"],
            account_id=r["account_id"],
            used=r["used"],
            limit=caps[r["platform"]][0] if r["platform"] in caps else None,
            window_hours=r["window_hours"],
            resets_at=r["resets_at"],
            cost_usd_month=r["cost"],
        )
        for r in rows
    ]
