"""Checking a tenant's key before it is stored: one short call (at most 16 output tokens, the least OpenAI's
Responses API lets a request ask for) to the model the writer uses, through the same connector the writer
uses (``make_llm``, whatever SDK stands behind it).

Why a short call rather than the vendors' free "list models" endpoints: it proves what the writer needs
— that this key may call this model now, quota and billing included — in the same way for all three vendors,
for about ten input tokens and a few output tokens (a fraction of a cent at every vendor's prices). It is not
metered to the tenant (the vendor bills the tenant's own account for it).
"""

from __future__ import annotations

from icop.connectors.config import LlmName
from icop.connectors.errors import ProviderError
from icop.connectors.llm import ChatRequest, make_llm
from icop.errors import DomainError, InvalidRequest
from icop.settings import Settings

from .rules import TITLES, VENDORS
from .secret import ModelKey

CHECK_PROMPT = "Reply with the single word OK."


class VendorUnreachable(DomainError):
    status, title, code = 502, "Vendor unreachable", "model_key.unchecked"


async def check_key(settings: Settings, provider: LlmName, key: ModelKey) -> None:
    """Return when ``provider``'s vendor accepts a call with ``key``; raise a domain error that says what to
    do otherwise (nothing is stored then)."""
    quick = settings.model_copy(
        update={"provider_timeout_s": settings.model_key_check_timeout_s, "provider_max_attempts": 1}
    )
    llm = make_llm(quick, provider, api_key=key)
    title, vendor = TITLES[provider], VENDORS[provider]
    try:
        await llm.complete(
            ChatRequest([{"role": "user", "content": CHECK_PROMPT}], max_tokens=16, operation="key_check")
        )
    except ProviderError as e:
        params = {"provider": provider, "message": e.message[:300]}
        if e.kind in ("auth", "not_found", "bad_request", "content_policy"):
            raise InvalidRequest(
                f"{vendor} refused this {title} key ({e.message[:200]}): check that it is copied whole, "
                f"active, and allowed to use {llm.model}",
                code="model_key.refused",
                params=params,
            ) from None
        if e.kind == "quota_exhausted":
            raise InvalidRequest(
                f"{vendor} accepted this {title} key but its account is out of quota or credits: add credits "
                f"at {vendor}, then save the key again",
                code="model_key.no_quota",
                params=params,
            ) from None
        raise VendorUnreachable(
            f"{vendor} could not be asked about this {title} key now ({e.kind}): try again, or save it "
            "without the check (verify: false)",
            params=params,
        ) from None
