"""Production refuses what would hurt: the one start-up check of every process that serves or works.

In development a provider without a key falls back to its offline provider (or, on the embedded stack, to
its emulator), runs may be only recorded, and objects may get ``file://`` URLs. With ``ICOP_ENV=production``
none of that may happen, ever: offline placeholder text could be published, a run never started, an image
URL never fetched. So the gateway, the Temporal workers, the events worker and the Serve applications'
builders call :func:`require_production_ready` before they serve or work, and it lists everything to set.
In development it checks nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from icop.connectors.config import (
    Endpoint,
    dalle_endpoint,
    drive_endpoint,
    fal_endpoint,
    llm_endpoint,
    sheets_endpoint,
)
from icop.settings import EMULATOR_KEY, EMULATOR_OAUTH_APPS, Settings

DOCS = "docs/providers.md (Production)"


class ProductionConfigError(RuntimeError):
    """The configuration would make a production process degrade; the message lists what to set."""


def production_problems(settings: Settings, listen_hosts: Iterable[str] = ()) -> list[str]:
    """What ``settings`` would do wrong in production, one actionable line each (none in development).

    ``listen_hosts``: the addresses this process is about to listen on (the gateway's bind host).
    """
    if settings.env != "production":
        return []
    return [
        *_provider_problems(settings),
        *_social_problems(settings),
        *_storage_problems(settings),
        *_engine_problems(settings),
        *_listen_problems(settings, listen_hosts),
    ]


def require_production_ready(settings: Settings, listen_hosts: Iterable[str] = ()) -> None:
    """Raise :class:`ProductionConfigError` listing every problem, if there is any."""
    problems = production_problems(settings, listen_hosts)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ProductionConfigError(
            f"ICOP_ENV=production refuses to start with this configuration:\n{lines}\n"
            f"Production has no offline providers, emulators or fallbacks; see {DOCS}."
        )


def is_loopback_host(host: str | None) -> bool:
    """``localhost`` or an address in 127.0.0.0/8 or ::1 (a host name other than localhost is not)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host(url: str) -> str | None:
    """The host of a URL, or of a bare ``host[:port]`` (ICOP_FAL_HOST)."""
    return urlsplit(url if "//" in url else f"//{url}").hostname


# (what, the endpoint, its key variable, its base URL variable, what happens without a key)
def _providers(s: Settings) -> list[tuple[str, Endpoint, str, str, str]]:
    text, images = (
        "would write offline placeholder text instead",
        "would draw offline placeholder images instead",
    )
    openai, anthropic, gemini = "ICOP_OPENAI", "ICOP_ANTHROPIC", "ICOP_GEMINI"
    return [
        ("GPT writer", llm_endpoint(s, "gpt"), f"{openai}_API_KEY", f"{openai}_BASE_URL", text),
        ("Claude writer", llm_endpoint(s, "claude"), f"{anthropic}_API_KEY", f"{anthropic}_BASE_URL", text),
        ("Gemini writer", llm_endpoint(s, "gemini"), f"{gemini}_API_KEY", f"{gemini}_BASE_URL", text),
        ("DALL-E 3 images", dalle_endpoint(s), f"{openai}_API_KEY", f"{openai}_BASE_URL", images),
        ("FLUX images", fal_endpoint(s), "ICOP_FAL_KEY", "ICOP_FAL_HOST", images),
        ("Google Sheets", sheets_endpoint(s), "ICOP_GOOGLE_CLIENT_ID and ICOP_GOOGLE_CLIENT_SECRET",
         "ICOP_SHEETS_API_ENDPOINT", "could not connect any tenant's Google account to read its plan"),
    ]  # fmt: skip


def _provider_problems(s: Settings) -> list[str]:
    out = []
    for what, ep, key_var, url_var, without in _providers(s):
        if not ep.configured:
            out.append(f"{what}: no key, so it {without}; set {key_var}")
        elif ep.api_key == EMULATOR_KEY:
            out.append(f"{what}: {key_var} is the emulators' key; set the provider's own key")
        if is_loopback_host(_host(ep.base_url)):
            out.append(
                f"{what}: {url_var}={ep.base_url} is a loopback address (an emulator); "
                "unset it for the real service"
            )
    drive = drive_endpoint(s)  # Google's key is judged once, above; Drive shares it
    if is_loopback_host(_host(drive.base_url)):
        out.append(
            f"Google Drive: ICOP_DRIVE_API_ENDPOINT={drive.base_url} is a loopback address (an emulator); "
            "unset it for the real service"
        )
    return out


def _social_problems(s: Settings) -> list[str]:
    urls = ("social_graph_base_url", "social_threads_base_url", "social_x_base_url",
            "social_facebook_dialog_url", "social_threads_authorize_url", "social_threads_oauth_base_url",
            "social_x_authorize_url")  # fmt: skip
    out = []
    for name in urls:
        value = str(getattr(s, name))
        if is_loopback_host(_host(value)):
            default = Settings.model_fields[name].default
            out.append(
                f"social platforms: ICOP_{name.upper()}={value} is a loopback address (the social emulator); "
                f"unset it for the platform ({default})"
            )
    for name, emulated in EMULATOR_OAUTH_APPS.items():
        value = getattr(s, name)
        if _plain(value) == _plain(emulated):
            out.append(
                f"social platforms: ICOP_{name.upper()} is the social emulator's app; set your own app's"
            )
    return out


def _plain(value: object) -> str:
    return str(value.get_secret_value() if hasattr(value, "get_secret_value") else value)


def _storage_problems(s: Settings) -> list[str]:
    """Platforms fetch media by URL: a store must never hand out a URL they cannot reach."""
    base = s.storage_public_base_url
    if base:
        if base.lower().startswith("file:") or is_loopback_host(_host(base)):
            return [
                f"object storage: ICOP_STORAGE_PUBLIC_BASE_URL={base} cannot be fetched by the platforms; "
                "set the public (https) URL the objects are served under"
            ]
        return []
    if s.storage_backend == "local":
        return [
            "object storage: ICOP_STORAGE_BACKEND=local without ICOP_STORAGE_PUBLIC_BASE_URL hands out "
            "file:// URLs, which no platform can fetch; set ICOP_STORAGE_BACKEND=s3 (with ICOP_S3_BUCKET "
            "and, for private buckets, ICOP_S3_PRESIGN=true) or a public base URL"
        ]
    if s.s3_endpoint_url and is_loopback_host(_host(s.s3_endpoint_url)):
        return [
            f"object storage: ICOP_S3_ENDPOINT_URL={s.s3_endpoint_url} is a loopback address, so object "
            "URLs cannot be fetched by the platforms; set the bucket's public endpoint or "
            "ICOP_STORAGE_PUBLIC_BASE_URL"
        ]
    return []


def _engine_problems(s: Settings) -> list[str]:
    if s.workflow_engine == "none":
        return [
            "workflow engine: ICOP_WORKFLOW_ENGINE=none records runs but never starts them; unset it "
            "(production defaults to temporal) and set ICOP_TEMPORAL_ADDRESS"
        ]
    return []


def _listen_problems(s: Settings, listen_hosts: Iterable[str]) -> list[str]:
    out = []
    if bool(s.tls_cert_file) != bool(s.tls_key_file):
        out.append("TLS: set both ICOP_TLS_CERT_FILE and ICOP_TLS_KEY_FILE, or neither")
    missing = [str(p) for p in (s.tls_cert_file, s.tls_key_file) if p is not None and not p.is_file()]
    if missing:
        out.append(f"TLS: no such file: {', '.join(missing)}")
    tls = bool(s.tls_cert_file and s.tls_key_file) or s.tls_offloaded
    for host in listen_hosts:
        if not tls and not is_loopback_host(host):
            out.append(
                f"listening on {host}, a non-loopback address, without TLS: set ICOP_TLS_CERT_FILE and "
                "ICOP_TLS_KEY_FILE, or ICOP_TLS_OFFLOADED=true if a proxy in front terminates TLS (and "
                "only it can reach this port)"
            )
    return out
