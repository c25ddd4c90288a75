"""The rules of tenant model keys, without I/O: which key a pipeline's writer uses, which failures of a
tenant key pause it, and the reasons (each with a stable code the dashboard words in the user's language;
the English text is for API consumers and logs).

A rate limit, a timeout or an outage is the connector's to retry and never pauses a key: only a refusal of
the key itself (401/403) or of its account (quota or credits used up), which no retry mends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from icop.connectors.config import LLM_NAMES

from .secret import ModelKey

KeySource = Literal["platform", "tenant"]
KEY_SOURCES: tuple[KeySource, ...] = get_args(KeySource)

TITLES = {"gpt": "GPT", "claude": "Claude", "gemini": "Gemini"}
VENDORS = {"gpt": "OpenAI", "claude": "Anthropic", "gemini": "Google"}

REJECTED = "model_key.rejected"
NO_QUOTA = "model_key.quota"
PAUSE_CODES = frozenset({REJECTED, NO_QUOTA})
SKIPPED_KIND = "key_unavailable"
"""The writer failure's ``kind`` when a writer was not called because the tenant's key cannot be used."""


@dataclass(frozen=True)
class KeyUnavailable:
    """Why a tenant key is not used: its writer is skipped with this reason, and nothing else writes in its
    place with the platform's key."""

    code: str
    reason: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def pauses(self) -> bool:
        """A refusal by the vendor: the tenant's use of the provider stops until replaced or resumed."""
        return self.code in PAUSE_CODES


ResolvedKey = ModelKey | KeyUnavailable
"""For a provider whose writer uses the tenant's own key: the key, or why it cannot be used now."""


def own_key_providers(choice: dict[str, str] | None) -> list[str]:
    """The providers a pipeline's ``model_keys`` sends to the tenant's own key (the rest: the platform's)."""
    return [p for p in LLM_NAMES if (choice or {}).get(p) == "tenant"]


def _until(provider: str) -> str:
    return f"until then your articles are written without {TITLES[provider]}"


def pause_for(provider: str, kind: str, message: str) -> KeyUnavailable | None:
    """The pause a tenant key's failure calls for (``kind``: ``icop.connectors.errors.ErrorKind``), or None
    when the failure says nothing about the key (retried or reported as any writer failure)."""
    title, vendor = TITLES[provider], VENDORS[provider]
    params = {"provider": provider, "message": message[:300]}
    if kind == "auth":
        reason = (
            f"{vendor} refused your {title} key (it is wrong, revoked, or may not use the model): replace it "
            f"under Model keys, or resume once it is fixed at {vendor}; {_until(provider)}"
        )
        return KeyUnavailable(REJECTED, reason[:500], params)
    if kind == "quota_exhausted":
        reason = (
            f"The {vendor} account of your {title} key is out of quota or credits: add credits or raise its "
            f"limit at {vendor}, then resume {title} under Model keys; {_until(provider)}"
        )
        return KeyUnavailable(NO_QUOTA, reason[:500], params)
    return None


def missing(provider: str) -> KeyUnavailable:
    """The pipeline uses the tenant's own key for ``provider`` but none is stored."""
    title = TITLES[provider]
    reason = (
        f"This pipeline writes with your own {title} key, but none is set: add it under Model keys, or "
        f"switch the pipeline to the platform's key; {_until(provider)}"
    )
    return KeyUnavailable("model_key.missing", reason, {"provider": provider})


def unreadable(provider: str) -> KeyUnavailable:
    """The stored key does not decrypt (the platform's vault keys changed without it, or tampering)."""
    title = TITLES[provider]
    reason = f"Your {title} key can no longer be read: set it again under Model keys; {_until(provider)}"
    return KeyUnavailable("model_key.unreadable", reason, {"provider": provider})
