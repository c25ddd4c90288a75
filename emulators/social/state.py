"""In-memory state of the social emulator: tokens, accounts, containers, posts and the fault knobs."""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

PLATFORMS = ("facebook", "instagram", "threads", "x")


@dataclass
class Token:
    token: str
    platform: str
    account_id: str
    expires_at: float | None = None  # epoch seconds; None: never
    revoked: bool = False
    refresh_token: str | None = None  # X: the refresh token that goes with this access token
    scopes: tuple[str, ...] = ()  # granted at the consent page (OAuth-issued tokens only)
    denied: set[str] = field(default_factory=set)  # permissions the user took back since (admin "deny")

    def allows(self, permission: str) -> bool:
        """Admin-registered tokens carry no scopes and hold every permission until one is denied."""
        return permission not in self.denied and (not self.scopes or permission in self.scopes)


@dataclass
class Container:
    id: str
    platform: str  # instagram | threads
    account_id: str
    media_type: str
    caption: str = ""
    image_url: str | None = None
    image_sha256: str | None = None  # of the bytes fetched from image_url when the container was made
    children: list[str] = field(default_factory=list)
    is_carousel_item: bool = False
    polls: int = 0
    published_id: str | None = None
    created_at: float = field(default_factory=time.time)


@dataclass
class Post:
    id: str
    platform: str
    account_id: str
    text: str
    created_at: float
    media_urls: list[str] = field(default_factory=list)
    media_sha256: list[str] = field(default_factory=list)  # of the bytes the platform fetched or was sent
    link: str | None = None
    kind: str = "post"
    container_id: str | None = None
    permalink: str = ""  # the post's page on this emulator (``GET /web/{platform}/{id}``)

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Knobs:
    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503  # 429 | 500 | 503
    error_next: int = 0  # the next N matching requests fail with error_status
    retry_after_s: int = 30
    lose_response_next: int = 0  # the next N publish calls are performed, then their response is lost
    lose_mode: str = "drop"  # drop: connection closed mid-response | hang: no answer for hang_s
    hang_s: float = 30.0
    platform: str | None = None  # restrict faults to one platform (None: all)
    container_in_progress_polls: int = 1  # polls answering IN_PROGRESS before FINISHED
    media_fetch_delay_s: float = 0.0  # the platform downloads image_url this long after the request
    ig_quota_total: int = 100
    ig_quota_duration_s: int = 86_400
    threads_quota_total: int = 250
    threads_quota_duration_s: int = 86_400
    threads_max_chars: int = 500
    ig_caption_max_chars: int = 2_200
    ig_max_hashtags: int = 30
    x_max_weighted_chars: int = 280
    x_monthly_cap: int = 0  # posts per calendar month over the whole app (0: none)
    x_access_token_ttl_s: int = 7_200
    oauth_code_ttl_s: float = 60.0  # authorization codes: single use, valid this long
    meta_calls_per_hour: int = 0  # Graph calls per account per rolling hour, all kinds (0: unlimited)
    x_lookup_per_15min: int = 5_000  # GET /2/tweets per user per 15-minute window


@dataclass
class OAuthApp:
    """A developer app registered with a platform: what the token endpoints authenticate."""

    client_id: str
    client_secret: str
    name: str = "ICOP"


# The apps the emulator knows out of the box. ICOP's settings carry the same values as their embedded
# defaults (icop.settings.EMULATOR_OAUTH_APPS); the emulator imports nothing of ICOP, hence the copy.
DEFAULT_OAUTH_APPS = {
    "meta": OAuthApp("icop-emulator-meta", "emulator-meta-secret"),  # Facebook Login: Pages + Instagram
    "threads": OAuthApp("icop-emulator-threads", "emulator-threads-secret"),
    "x": OAuthApp("icop-emulator-x", "emulator-x-secret"),
}


@dataclass
class OAuthIdentity:
    """The person signed in at the emulated consent pages, and what they own on each platform.

    The defaults are the demo's accounts (cluster/demo.py): one Facebook Page with a linked Instagram
    professional account, a Threads profile and an X account.
    """

    facebook_user_id: str = "1000100"
    facebook_user_name: str = "Demo Owner"
    pages: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "id": "1010001",
                "name": "Demo Coffee Co.",
                "instagram": {"id": "1780001", "username": "democoffee"},
            }
        ]
    )
    threads_user_id: str = "27000001"
    threads_username: str = "democoffee"
    x_user_id: str = "4400001"
    x_username: str = "democoffee"


class SocialState:
    """Everything the emulator knows; reset by ``POST /_admin/reset``."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.tokens: dict[str, Token] = {}
        self.x_refresh: dict[str, dict[str, Any]] = {}  # refresh token -> {account_id, client_id, used}
        self.containers: dict[str, Container] = {}
        self.x_media: dict[str, str] = {}  # uploaded media id -> account id
        self.x_media_sha256: dict[str, str] = {}  # uploaded media id -> sha256 of its bytes
        self.posts: dict[str, Post] = {}
        self.knobs = Knobs()
        self._ids = itertools.count(17_841_400_000_000_000)
        self.fetches: list[dict[str, Any]] = []  # image URLs the emulator fetched, and what they were
        self.oauth_apps: dict[str, OAuthApp] = {
            k: OAuthApp(**asdict(v)) for k, v in DEFAULT_OAUTH_APPS.items()
        }
        self.identity = OAuthIdentity()
        self.oauth_requests: dict[str, dict[str, Any]] = {}  # consent pages shown, not yet answered
        self.oauth_codes: dict[str, dict[str, Any]] = {}  # authorization codes issued
        self.page_instagram: dict[str, str] = {}  # page id -> linked Instagram account (page tokens publish)
        self.deleted_posts: dict[str, Post] = {}  # deleted on the platform (admin): gone from every answer
        self.appeal: dict[str, float] = {}  # hidden per-topic appeal: keyword -> factor (engagement model)
        self.calls: dict[str, list[float]] = {}  # "platform:account" -> times of rate-limited calls
        self.insights: dict[str, list[float]] = {}  # "platform:account" -> times of insights requests
        self.throttled: dict[str, int] = {}  # "platform:account" -> calls refused for a rate limit
        self.x_windows: dict[str, tuple[float, int]] = {}  # X user -> (window start, lookups in it)

    def next_id(self) -> str:
        return str(next(self._ids))

    def new_token(self) -> str:
        return secrets.token_urlsafe(24)

    def posts_of(self, platform: str, account_id: str) -> list[Post]:
        return sorted(
            (p for p in self.posts.values() if p.platform == platform and p.account_id == account_id),
            key=lambda p: p.created_at,
            reverse=True,
        )

    def published_in_window(self, platform: str, account_id: str, window_s: float) -> int:
        since = time.time() - window_s
        return sum(
            1 for p in self.posts_of(platform, account_id) if p.created_at > since and p.kind == "post"
        )
