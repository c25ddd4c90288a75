"""httpx clients for Facebook Pages, Instagram, Threads and X API v2, following each documented flow.

Why not SDKs: Meta publishes no maintained official Python SDK that covers Pages, Instagram content
publishing and Threads (``facebook-sdk`` is unmaintained; ``facebook_business`` targets the Marketing
API), and for X the one call we make (``POST /2/tweets``) plus the OAuth 2.0 refresh grant are small
enough that a client library would add nothing but hide the timeouts and error bodies this module
must classify. So: plain ``httpx``, base URLs from settings (emulators in development and tests).

Every failure is raised as :class:`~icop.social.errors.PlatformError` with a kind: retryable,
rate-limited (with ``retry_after``), auth-expired, auth-revoked, rejected, or ambiguous (the
publishing request was sent and no answer came back). After an ambiguous failure the caller asks
:meth:`reconcile`, which looks the post up among the account's recent posts by its reference (the
marker its text ends with, :func:`icop.social.text.post_marker`), or by its exact text for a post
without one.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx
from opentelemetry.trace import SpanKind

from icop.observability.metrics import provider_call
from icop.observability.tracing import span
from icop.settings import Settings

from .errors import ErrorKind, PlatformError
from .text import normalize_for_match

log = logging.getLogger(__name__)
_URL = re.compile(r"https?://\S+")
_JPEG_MAGIC = b"\xff\xd8\xff"
# Graph API error codes (https://developers.facebook.com/docs/graph-api/guides/error-handling)
_GRAPH_RATE_CODES = {4, 17, 32, 613, 80001, 80002, 80004, 80005, 80006, 80008}
_GRAPH_EXPIRED_SUBCODES = {463, 467}
_GRAPH_RETRYABLE_CODES = {1, 2}
_GRAPH_PERMISSION_CODES = {10, *range(200, 300)}  # (#10) and (#200)-(#299): a permission is missing


@dataclass(frozen=True)
class PostRequest:
    """What to publish: the exact text, images (public URLs) and a link sent beside the text."""

    text: str
    media_urls: tuple[str, ...] = ()
    link: str | None = None
    marker: str | None = None
    """The post's reference (the last line of ``text``): what reconciling looks for, when set."""


def same_post(candidate: str, post: PostRequest) -> bool:
    """Whether a post found on the platform is ``post``: by its reference when it has one (two posts
    with the same text are told apart), else by its text."""
    if post.marker:
        return post.marker in candidate.split()
    return match_key(candidate) == match_key(post.text)


@dataclass(frozen=True)
class PublishResult:
    post_id: str
    permalink: str | None = None


@dataclass(frozen=True)
class PublishingLimit:
    """A platform's own report of its publishing cap for an account."""

    quota_total: int
    quota_duration_s: int
    quota_usage: int


@dataclass(frozen=True)
class OAuthTokens:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scopes: tuple[str, ...] = field(default_factory=tuple)


class SocialClient(Protocol):
    platform: str

    async def publish(self, account_id: str, token: str, post: PostRequest) -> PublishResult: ...

    async def reconcile(
        self, account_id: str, token: str, post: PostRequest, since: datetime
    ) -> PublishResult | None: ...

    async def publishing_limit(self, account_id: str, token: str) -> PublishingLimit | None: ...


def match_key(text: str) -> str:
    """Text as compared when reconciling: platforms rewrite links (t.co) and fold whitespace."""
    return normalize_for_match(_URL.sub("<url>", text))


def _retry_after(resp: httpx.Response) -> float | None:
    ra = resp.headers.get("retry-after")
    if ra:
        try:
            return max(float(ra), 0.0)
        except ValueError:
            try:
                return max((parsedate_to_datetime(ra) - datetime.now(UTC)).total_seconds(), 0.0)
            except (TypeError, ValueError):
                pass
    reset = resp.headers.get("x-rate-limit-reset")
    if reset and reset.isdigit():
        return max(int(reset) - time.time(), 0.0)
    return None


class _HttpBase:
    platform = ""

    def __init__(
        self, base_url: str, *, timeout: float = 20.0, http: httpx.AsyncClient | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._own = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout, trust_env=False)

    async def aclose(self) -> None:
        if self._own:
            await self._http.aclose()

    async def _send(self, method: str, path: str, *, publishing: bool = False, **kw: Any) -> httpx.Response:
        """Send one request; classify transport failures (ambiguous only for a publishing call). Counted
        and timed per platform (``icop_provider_calls``)."""
        attrs = {"platform": self.platform, "http.request.method": method}
        with provider_call(self.platform), span(f"{self.platform} {method}", SpanKind.CLIENT, **attrs):
            try:
                resp = await self._http.request(method, self.base_url + path, **kw)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
                raise PlatformError(
                    self.platform, ErrorKind.RETRYABLE, f"not sent: {type(e).__name__}"
                ) from None
            except httpx.TransportError as e:  # read/write timeout, connection dropped mid-answer
                kind = ErrorKind.AMBIGUOUS if publishing else ErrorKind.RETRYABLE
                raise PlatformError(self.platform, kind, f"no complete answer: {type(e).__name__}") from None
            if resp.status_code >= 400:
                raise self._classify(resp)
            return resp

    def _classify(self, resp: httpx.Response) -> PlatformError:  # pragma: no cover - overridden
        raise NotImplementedError


class GraphClientBase(_HttpBase):
    """Graph API conventions shared by Facebook, Instagram and Threads."""

    def _classify(self, resp: httpx.Response) -> PlatformError:
        try:
            err = resp.json().get("error", {})
        except ValueError:
            err = {}
        code, sub = err.get("code"), err.get("error_subcode")
        msg = str(err.get("error_user_msg") or err.get("message") or resp.reason_phrase)
        args = {"status": resp.status_code, "code": code, "subcode": sub, "retry_after": _retry_after(resp)}
        if code == 190 or resp.status_code == 401:
            kind = ErrorKind.AUTH_EXPIRED if sub in _GRAPH_EXPIRED_SUBCODES else ErrorKind.AUTH_REVOKED
        elif resp.status_code == 429 or code in _GRAPH_RATE_CODES or (code == 9 and sub == 2207042):
            kind = ErrorKind.RATE_LIMITED
        elif resp.status_code >= 500 or code in _GRAPH_RETRYABLE_CODES or err.get("is_transient") is True:
            kind = ErrorKind.RETRYABLE
        elif code == 9007 and sub == 2207027:  # container not ready yet
            kind = ErrorKind.RETRYABLE
        elif (code == 9004 and sub == 2207052) or code == 324:  # the platform could not download the media
            kind = ErrorKind.MEDIA_UNAVAILABLE
        elif code == 100 and sub == 33:  # the object does not exist (deleted), or cannot be seen
            kind = ErrorKind.NOT_FOUND
        elif code in _GRAPH_PERMISSION_CODES:
            kind = ErrorKind.PERMISSION_DENIED
        else:
            kind = ErrorKind.REJECTED
        return PlatformError(self.platform, kind, msg, **args)

    @staticmethod
    def _auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    permalink_field = "permalink"

    async def _with_permalink(self, result: PublishResult, token: str) -> PublishResult:
        """The published post's permalink (``GET /{id}?fields=permalink``); a post that went out stays
        published when this look-up fails, only without its link."""
        try:
            fields = {"fields": self.permalink_field}
            resp = await self._send("GET", f"/{result.post_id}", params=fields, headers=self._auth(token))
            link = resp.json().get(self.permalink_field)
        except (PlatformError, ValueError) as e:
            log.warning("%s post %s: no permalink (%s)", self.platform, result.post_id, e)
            return result
        return PublishResult(result.post_id, str(link)) if link else result

    async def _recent(self, path: str, token: str, text_field: str) -> list[dict[str, Any]]:
        resp = await self._send(
            "GET",
            path,
            params={"fields": f"id,{text_field},timestamp,created_time,permalink,permalink_url", "limit": 50},
            headers=self._auth(token),
        )
        return list(resp.json().get("data", []))

    @staticmethod
    def _match(
        items: list[dict[str, Any]], text_field: str, post: PostRequest, since: datetime
    ) -> PublishResult | None:
        floor = since - timedelta(minutes=5)  # clock skew between us and the platform
        for item in items:
            stamp = item.get("timestamp") or item.get("created_time")
            if stamp:
                at = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z")
                if at < floor:
                    continue
            if same_post(str(item.get(text_field, "")), post):
                return PublishResult(str(item["id"]), item.get("permalink") or item.get("permalink_url"))
        return None


class MetaTokenExtender:
    """Renews a Meta long-lived (60-day) token before it expires.

    Facebook Login tokens (Pages, Instagram) use ``GET /oauth/access_token?grant_type=fb_exchange_token``
    with the app id and secret; Threads uses ``GET /refresh_access_token?grant_type=th_refresh_token``.
    A Page token derived from a long-lived user token does not expire and needs none of this.
    """

    def __init__(self, client: GraphClientBase, app_id: str = "", app_secret: str = "") -> None:
        self.client, self.app_id, self.app_secret = client, app_id, app_secret

    async def extend(self, token: str) -> OAuthTokens:
        c = self.client
        if c.platform == "threads":
            params = {"grant_type": "th_refresh_token", "access_token": token}
            path = "/refresh_access_token"
        else:
            params = {
                "grant_type": "fb_exchange_token",
                "client_id": self.app_id,
                "client_secret": self.app_secret,
                "fb_exchange_token": token,
            }
            path = "/oauth/access_token"
        resp = await c._send("GET", path, params=params)
        body = resp.json()
        expires = datetime.now(UTC) + timedelta(seconds=int(body.get("expires_in", 60 * 86_400)))
        return OAuthTokens(str(body["access_token"]), None, expires)


class FacebookClient(GraphClientBase):
    """Facebook Pages: ``POST /{page-id}/feed`` (text and link) or ``/{page-id}/photos`` (image + caption)."""

    platform = "facebook"
    permalink_field = "permalink_url"

    async def publish(self, account_id: str, token: str, post: PostRequest) -> PublishResult:
        if post.media_urls:
            data = {"url": post.media_urls[0], "caption": post.text}
            resp = await self._send(
                "POST", f"/{account_id}/photos", data=data, headers=self._auth(token), publishing=True
            )
            body = resp.json()
            return await self._with_permalink(PublishResult(str(body.get("post_id") or body["id"])), token)
        data = {"message": post.text}
        if post.link:
            data["link"] = post.link
        resp = await self._send(
            "POST", f"/{account_id}/feed", data=data, headers=self._auth(token), publishing=True
        )
        return await self._with_permalink(PublishResult(str(resp.json()["id"])), token)

    async def reconcile(
        self, account_id: str, token: str, post: PostRequest, since: datetime
    ) -> PublishResult | None:
        items = await self._recent(f"/{account_id}/feed", token, "message")
        return self._match(items, "message", post, since)

    async def publishing_limit(self, account_id: str, token: str) -> PublishingLimit | None:
        return None


class _ContainerFlow(GraphClientBase):
    """Create container(s), wait until ready, publish: Instagram and Threads share this shape."""

    status_field = "status_code"
    publish_edge = ""
    limit_edge = ""
    list_edge = ""
    text_field = ""

    def __init__(
        self, base_url: str, *, poll_s: float = 2.0, ready_timeout_s: float = 300.0, **kw: Any
    ) -> None:
        super().__init__(base_url, **kw)
        self.poll_s, self.ready_timeout_s = poll_s, ready_timeout_s

    async def _create(self, account_id: str, token: str, data: dict[str, str]) -> str:
        try:
            resp = await self._send(
                "POST",
                f"/{account_id}/{self.list_edge}",
                data=data,
                headers=self._auth(token),
                publishing=True,
            )
        except PlatformError as e:
            if e.kind is ErrorKind.AMBIGUOUS:  # an unpublished container is harmless: make another
                raise PlatformError(
                    self.platform, ErrorKind.RETRYABLE, "container creation: " + e.message
                ) from None
            raise
        return str(resp.json()["id"])

    async def _wait_ready(self, container_id: str, token: str) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        while True:
            resp = await self._send(
                "GET", f"/{container_id}", params={"fields": self.status_field}, headers=self._auth(token)
            )
            status = str(resp.json().get(self.status_field, ""))
            if status in ("FINISHED", "PUBLISHED"):
                return
            if status == "ERROR":
                raise PlatformError(
                    self.platform, ErrorKind.REJECTED, f"container {container_id} failed processing"
                )
            if status == "EXPIRED":
                raise PlatformError(self.platform, ErrorKind.RETRYABLE, f"container {container_id} expired")
            if time.monotonic() > deadline:
                raise PlatformError(
                    self.platform, ErrorKind.RETRYABLE, f"container {container_id} not ready in time"
                )
            await asyncio.sleep(self.poll_s)

    async def _publish_container(self, account_id: str, token: str, container_id: str) -> PublishResult:
        resp = await self._send(
            "POST",
            f"/{account_id}/{self.publish_edge}",
            data={"creation_id": container_id},
            headers=self._auth(token),
            publishing=True,
        )
        return await self._with_permalink(PublishResult(str(resp.json()["id"])), token)

    async def reconcile(
        self, account_id: str, token: str, post: PostRequest, since: datetime
    ) -> PublishResult | None:
        items = await self._recent(f"/{account_id}/{self.list_edge}", token, self.text_field)
        return self._match(items, self.text_field, post, since)

    async def publishing_limit(self, account_id: str, token: str) -> PublishingLimit | None:
        resp = await self._send(
            "GET",
            f"/{account_id}/{self.limit_edge}",
            params={"fields": "config,quota_usage"},
            headers=self._auth(token),
        )
        data = resp.json().get("data") or [{}]
        cfg = data[0].get("config") or {}
        if "quota_total" not in cfg:
            return None
        return PublishingLimit(
            int(cfg["quota_total"]),
            int(cfg.get("quota_duration", 86_400)),
            int(data[0].get("quota_usage", 0)),
        )


class InstagramClient(_ContainerFlow):
    """Instagram Graph API content publishing: feed images and carousels, JPEG only.

    Flow: ``POST /{ig-user-id}/media`` (``image_url`` must be a public JPEG) → poll
    ``GET /{container-id}?fields=status_code`` until ``FINISHED`` → ``POST /{ig-user-id}/media_publish``.
    Each image is checked to be a JPEG before any container is created, so a non-JPEG is never sent.
    """

    platform = "instagram"
    status_field = "status_code"
    publish_edge = "media_publish"
    limit_edge = "content_publishing_limit"
    list_edge = "media"
    text_field = "caption"
    carousel_max = 10

    async def ensure_jpeg(self, url: str) -> None:
        """Refuse (REJECTED) an image that is not a JPEG, before the platform ever sees its URL."""
        try:
            async with self._http.stream("GET", url) as resp:
                if resp.status_code >= 400:
                    raise PlatformError(
                        self.platform,
                        ErrorKind.MEDIA_UNAVAILABLE,
                        f"image not fetchable ({resp.status_code})",
                    )
                head = b""
                async for chunk in resp.aiter_bytes():
                    head += chunk
                    if len(head) >= 3:
                        break
        except httpx.TransportError as e:
            raise PlatformError(
                self.platform, ErrorKind.RETRYABLE, f"image check failed: {type(e).__name__}"
            ) from None
        if head[:3] != _JPEG_MAGIC:
            raise PlatformError(
                self.platform, ErrorKind.REJECTED, f"Instagram accepts JPEG images only: {url}"
            )

    async def publish(self, account_id: str, token: str, post: PostRequest) -> PublishResult:
        urls = list(post.media_urls)
        if not urls:
            raise PlatformError(
                self.platform, ErrorKind.REJECTED, "an Instagram feed post needs at least one image"
            )
        if len(urls) > self.carousel_max:
            raise PlatformError(
                self.platform, ErrorKind.REJECTED, f"a carousel holds at most {self.carousel_max}"
            )
        for url in urls:
            await self.ensure_jpeg(url)
        if len(urls) == 1:
            container = await self._create(account_id, token, {"image_url": urls[0], "caption": post.text})
        else:
            children = [
                await self._create(account_id, token, {"image_url": u, "is_carousel_item": "true"})
                for u in urls
            ]
            for child in children:
                await self._wait_ready(child, token)
            container = await self._create(
                account_id,
                token,
                {"media_type": "CAROUSEL", "children": ",".join(children), "caption": post.text},
            )
        await self._wait_ready(container, token)
        return await self._publish_container(account_id, token, container)


class ThreadsClient(_ContainerFlow):
    """Threads API: ``POST /{user}/threads`` (TEXT, IMAGE or CAROUSEL of up to 20) → ``threads_publish``."""

    platform = "threads"
    status_field = "status"
    publish_edge = "threads_publish"
    limit_edge = "threads_publishing_limit"
    list_edge = "threads"
    text_field = "text"
    carousel_max = 20

    async def publish(self, account_id: str, token: str, post: PostRequest) -> PublishResult:
        urls = list(post.media_urls)
        if len(urls) > self.carousel_max:
            raise PlatformError(
                self.platform, ErrorKind.REJECTED, f"a carousel holds at most {self.carousel_max}"
            )
        if not urls:
            container = await self._create(account_id, token, {"media_type": "TEXT", "text": post.text})
        elif len(urls) == 1:
            container = await self._create(
                account_id, token, {"media_type": "IMAGE", "image_url": urls[0], "text": post.text}
            )
            await self._wait_ready(container, token)
        else:
            children = [
                await self._create(
                    account_id, token, {"media_type": "IMAGE", "image_url": u, "is_carousel_item": "true"}
                )
                for u in urls
            ]
            container = await self._create(
                account_id,
                token,
                {"media_type": "CAROUSEL", "children": ",".join(children), "text": post.text},
            )
            await self._wait_ready(container, token)
        return await self._publish_container(account_id, token, container)


class XClient(_HttpBase):
    """X API v2: ``POST /2/tweets`` with an OAuth 2.0 user token; ``POST /2/oauth2/token`` to refresh.

    Refresh tokens rotate: each one works once, so the caller must store the new pair before
    anything else (see :class:`icop.social.tokens.TokenStore`). Images are uploaded first
    (``POST /2/media/upload``, simple upload) and attached by media id.
    """

    platform = "x"

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str = "",
        client_secret: str = "",
        permalink_url: str = "https://x.com/i/web/status/{id}",
        **kw: Any,
    ) -> None:
        super().__init__(base_url, **kw)
        self.client_id, self.client_secret = client_id, client_secret
        self.permalink_url = permalink_url  # X's API names no permalink: its web address, from the id

    def _classify(self, resp: httpx.Response) -> PlatformError:
        try:
            body = resp.json()
        except ValueError:
            body = {}
        detail = str(
            body.get("detail") or body.get("error_description") or body.get("title") or resp.reason_phrase
        )
        args: dict[str, Any] = {"status": resp.status_code, "retry_after": _retry_after(resp)}
        if resp.status_code == 401:
            return PlatformError(self.platform, ErrorKind.AUTH_EXPIRED, detail, **args)
        if resp.status_code == 429:
            if body.get("title") == "UsageCapExceeded":  # monthly cap: wait for the next month
                now = datetime.now(UTC)
                nxt = (
                    now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)
                ).replace(day=1)
                args["retry_after"] = (nxt - now).total_seconds()
            return PlatformError(self.platform, ErrorKind.RATE_LIMITED, detail, **args)
        if resp.status_code >= 500:
            return PlatformError(self.platform, ErrorKind.RETRYABLE, detail, **args)
        return PlatformError(self.platform, ErrorKind.REJECTED, detail, **args)

    async def upload_media(self, token: str, url: str) -> str:
        """Fetch an image and upload it (``POST /2/media/upload``); an orphan upload is harmless."""
        try:
            img = await self._http.get(url)
            img.raise_for_status()
        except httpx.HTTPError as e:
            raise PlatformError(
                self.platform, ErrorKind.MEDIA_UNAVAILABLE, f"image not fetchable: {type(e).__name__}"
            ) from None
        try:
            resp = await self._send(
                "POST",
                "/2/media/upload",
                files={"media": ("image", img.content)},
                data={"media_category": "tweet_image"},
                headers={"Authorization": f"Bearer {token}"},
                publishing=True,
            )
        except PlatformError as e:
            if e.kind is ErrorKind.AMBIGUOUS:  # nothing is posted by an upload: just try again later
                raise PlatformError(
                    self.platform, ErrorKind.RETRYABLE, "media upload: " + e.message
                ) from None
            raise
        return str(resp.json()["data"]["id"])

    async def publish(self, account_id: str, token: str, post: PostRequest) -> PublishResult:
        body: dict[str, Any] = {"text": post.text}
        if post.media_urls:
            if len(post.media_urls) > 4:
                raise PlatformError(self.platform, ErrorKind.REJECTED, "X takes at most 4 images per post")
            body["media"] = {"media_ids": [await self.upload_media(token, u) for u in post.media_urls]}
        resp = await self._send(
            "POST",
            "/2/tweets",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            publishing=True,
        )
        data = resp.json()["data"]
        return PublishResult(str(data["id"]), self.permalink_url.format(id=data["id"]))

    async def reconcile(
        self, account_id: str, token: str, post: PostRequest, since: datetime
    ) -> PublishResult | None:
        start = (since - timedelta(minutes=5)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        resp = await self._send(
            "GET",
            f"/2/users/{account_id}/tweets",
            params={"start_time": start, "max_results": 100, "tweet.fields": "created_at"},
            headers={"Authorization": f"Bearer {token}"},
        )
        for item in resp.json().get("data", []):
            if same_post(str(item.get("text", "")), post):
                return PublishResult(str(item["id"]), self.permalink_url.format(id=item["id"]))
        return None

    async def publishing_limit(self, account_id: str, token: str) -> PublishingLimit | None:
        return None  # X reports no publishing cap through the API; the plan's cap lives in settings

    async def refresh(self, refresh_token: str) -> OAuthTokens:
        """The refresh-token grant. The old refresh token stops working once this succeeds."""
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self.client_id}
        auth = (self.client_id, self.client_secret) if self.client_secret else None
        try:
            resp = await self._http.post(self.base_url + "/2/oauth2/token", data=data, auth=auth)  # type: ignore[arg-type]  # httpx reads None as no auth; its hints omit it
        except httpx.TransportError as e:
            raise PlatformError(
                self.platform, ErrorKind.RETRYABLE, f"token refresh: {type(e).__name__}"
            ) from None
        if resp.status_code in (400, 401):  # invalid_request / invalid_grant: the grant is gone
            raise PlatformError(
                self.platform,
                ErrorKind.AUTH_REVOKED,
                "refresh token refused by X; the account must be connected again",
                status=resp.status_code,
            )
        if resp.status_code >= 400:
            raise self._classify(resp)
        body = resp.json()
        expires = datetime.now(UTC) + timedelta(seconds=int(body.get("expires_in", 7200)))
        return OAuthTokens(
            body["access_token"],
            body.get("refresh_token") or refresh_token,
            expires,
            tuple(str(body.get("scope", "")).split()),
        )


def build_clients(s: Settings, http: httpx.AsyncClient | None = None) -> dict[str, SocialClient]:
    """One client per platform, base URLs and timeouts from settings."""
    kw: dict[str, Any] = {"timeout": s.social_http_timeout_s, "http": http}
    return {
        "facebook": FacebookClient(s.social_graph_base_url, **kw),
        "instagram": InstagramClient(
            s.social_graph_base_url,
            poll_s=s.social_instagram_container_poll_s,
            ready_timeout_s=s.social_instagram_container_timeout_s,
            **kw,
        ),
        "threads": ThreadsClient(
            s.social_threads_base_url,
            poll_s=s.social_instagram_container_poll_s,
            ready_timeout_s=s.social_instagram_container_timeout_s,
            **kw,
        ),
        "x": XClient(
            s.social_x_base_url,
            client_id=s.social_x_client_id,
            client_secret=s.social_x_client_secret.get_secret_value(),
            permalink_url=s.social_x_permalink_url,
            **kw,
        ),
    }
