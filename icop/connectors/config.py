"""Where each provider lives and which key it uses, from settings only.

An unset base URL means the real service; an unset key means the offline provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from icop.settings import Settings

from .errors import RetryPolicy

LlmName = Literal["gpt", "claude", "gemini"]
LLM_NAMES: tuple[LlmName, ...] = ("gpt", "claude", "gemini")

REAL_BASE_URLS: dict[str, str] = {
    "gpt": "https://api.openai.com/v1",
    "claude": "https://api.anthropic.com",  # the anthropic SDK adds /v1/messages
    "gemini": "https://generativelanguage.googleapis.com/",  # google-genai adds the API version
    "sheets": "https://sheets.googleapis.com/",
    # Drive's discovery document joins its root URL and service path; an endpoint replaces both
    "drive": "https://www.googleapis.com/drive/v3/",
    "fal": "fal.run",
}


@dataclass(frozen=True)
class Endpoint:
    name: str
    base_url: str
    api_key: str | None  # None: no key configured -> offline provider
    model: str

    @property
    def configured(self) -> bool:
        return bool(self.api_key)


def _secret(value: object) -> str | None:
    if value is None:
        return None
    raw = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    return raw or None


def llm_endpoint(settings: Settings, name: LlmName) -> Endpoint:
    prefix = {"gpt": "openai", "claude": "anthropic", "gemini": "gemini"}[name]
    return Endpoint(
        name,
        getattr(settings, f"{prefix}_base_url") or REAL_BASE_URLS[name],
        _secret(getattr(settings, f"{prefix}_api_key")),
        getattr(settings, f"{prefix}_chat_model"),
    )


def dalle_endpoint(settings: Settings) -> Endpoint:
    return Endpoint(
        "dall-e",
        settings.openai_base_url or REAL_BASE_URLS["gpt"],
        _secret(settings.openai_api_key),
        settings.openai_image_model,
    )


def fal_endpoint(settings: Settings) -> Endpoint:
    return Endpoint(
        "flux", settings.fal_host or REAL_BASE_URLS["fal"], _secret(settings.fal_key), settings.fal_flux_model
    )


def sheets_endpoint(settings: Settings) -> Endpoint:
    """The Sheets API; its "key" is the server's Google OAuth client secret (each tenant's own tokens come
    from the vault, see :mod:`icop.google.access`)."""
    return Endpoint(
        "sheets",
        settings.sheets_api_endpoint or REAL_BASE_URLS["sheets"],
        _secret(settings.google_client_secret) if settings.google_client_id else None,
        "v4",
    )


def drive_endpoint(settings: Settings) -> Endpoint:
    """Drive v3, for a tenant's list of spreadsheets, reached with the tenant's own tokens like Sheets."""
    return Endpoint(
        "drive",
        settings.drive_api_endpoint or REAL_BASE_URLS["drive"],
        _secret(settings.google_client_secret) if settings.google_client_id else None,
        "v3",
    )


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=max(1, settings.provider_max_attempts),
        max_retry_after_s=settings.provider_max_retry_after_s,
    )
