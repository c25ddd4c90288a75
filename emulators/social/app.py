"""An ASGI emulator of the social platforms' publishing APIs, for tests and the embedded demo.

Speaks, on one port:

* Graph API (any ``/vNN.N`` prefix or none) for Facebook Pages (``POST /{page}/feed``,
  ``/{page}/photos``), Instagram (``POST /{ig}/media`` with a fetched, JPEG-checked ``image_url``,
  ``GET /{container}?fields=status_code``, ``POST /{ig}/media_publish``, carousels,
  ``GET /{ig}/content_publishing_limit``, ``GET /{ig}/media``) and Threads (``POST /{user}/threads``,
  ``/{user}/threads_publish``, ``GET /{user}/threads_publishing_limit``, ``GET /{user}/threads``),
  with Graph-style errors ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``.
* X API v2: ``POST /2/tweets`` (OAuth 2.0 user bearer token, 280 weighted characters, duplicate
  content refused, monthly cap), ``GET /2/tweets/{id}``, ``GET /2/users/{id}/tweets``,
  ``GET /2/users/me``, ``POST /2/oauth2/token`` (refresh-token grant, rotated on every use).
* OAuth connect (see :mod:`emulators.social.oauth`): the consent pages (Facebook Login dialog, Threads
  and X authorize, HTML with "Allow" and "Cancel") and the code exchanges, issuing tokens the endpoints
  above accept; ``/me`` and ``/me/accounts`` (Pages with their tokens and Instagram accounts).
* Media: Instagram, Threads and Facebook photo posts download ``image_url``/``url`` over HTTP when the
  container (or photo) is made, as the platforms do: unreachable, refused (an expired presigned URL's
  403) or of the wrong format (Instagram: JPEG only) fails with the platform's error. X takes images only
  through ``POST /2/media/upload``. Every post keeps the sha256 of its media bytes.
* Posts: each one is kept in this emulator's state (id, account, text, media hashes, created time) and has
  a permalink page, ``GET /web/{platform}/{id}`` (HTML), which the API's ``permalink``/``permalink_url``
  fields name; ``GET /_admin/posts`` (filters ``platform``, ``account_id``) and ``/_admin/posts/{id}``
  list them as JSON.
* Insights (see :mod:`emulators.social.engagement`): ``GET /{post-id}/insights`` for Facebook Page posts,
  Instagram and Threads media, and ``GET /2/tweets?ids=…&tweet.fields=public_metrics`` on X, with each
  platform's permissions, errors for deleted posts and rate limits (Meta: ``meta_calls_per_hour`` per
  account, all calls counted; X: ``x_lookup_per_15min`` per user, ``x-rate-limit-*`` headers).
* Admin: ``/_admin/knobs`` (latency, error rate/kind, "post made but response lost"),
  ``/_admin/reset``, ``/_admin/tokens`` (register, expire, revoke),
  ``/_admin/oauth`` (the registered apps and the signed-in identity),
  ``/_admin/requests`` (what clients sent), ``/_admin/health``; for insights ``POST /_admin/appeal``
  (a keyword's hidden appeal), ``POST /_admin/posts`` (a post made at a given time),
  ``POST /_admin/posts/{id}`` (a post made through the API, moved to a given time: it ages),
  ``DELETE /_admin/posts/{id}`` (deleted on the platform), ``/_admin/tokens`` actions ``deny``/``grant``
  (one permission), ``GET /_admin/insights`` (requests counted per account) and
  ``GET /_admin/engagement/{id}``.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import io
import json
import random
import re
import time
import warnings
from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.types import Receive, Scope, Send

from . import engagement as eng
from .errors import ApiError, graph_error, x_error
from .oauth import OAuthEmulator
from .state import Container, Post, SocialState, Token

with warnings.catch_warnings():  # twitter-text-parser imports pkg_resources
    warnings.simplefilter("ignore")
    from twitter_text import parse_tweet

_VERSION = re.compile(r"^v\d+(\.\d+)?$")
_HASHTAG = re.compile(r"(?<![\w#])#\w+")
FB_EDGES = {"feed", "photos", "posts"}
IG_EDGES = {"media", "media_publish", "content_publishing_limit"}
TH_EDGES = {"threads", "threads_publish", "threads_publishing_limit"}


def graph_time(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def x_time(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(t * 1000) % 1000:03d}Z"


class _Lost(Exception):
    """The operation was performed; the response must be lost."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__("lost")
        self.status, self.body = status, body


class SocialEmulator:
    """The ASGI application; ``state`` is public so in-process users can inspect it."""

    def __init__(self, state: SocialState | None = None) -> None:
        self.state = state or SocialState()
        self.oauth = OAuthEmulator(self.state)
        self._http: httpx.AsyncClient | None = None
        self.requests: list[dict[str, Any]] = []
        self.root = ""  # this emulator's own origin, as its clients reach it (permalinks point there)

    # ---- ASGI plumbing -------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    if self._http:
                        await self._http.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        self.root = str(request.base_url).rstrip("/")
        if request.url.path.startswith("/web/"):
            await self._permalink_page(request)(scope, receive, send)
            return
        page = await self.oauth.page(request)  # the HTML consent pages (and the user's answer)
        if page is not None:
            await page(scope, receive, send)
            return
        lost: _Lost | None = None
        try:
            status, body, headers = await self._handle(request)
        except ApiError as e:
            status, body, headers = e.status, e.body, e.headers
        except _Lost as e:
            lost = e
        if lost is not None:
            await self._lose(lost, scope, receive, send)
            return
        await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)

    async def _lose(self, lost: _Lost, scope: Scope, receive: Receive, send: Send) -> None:
        k = self.state.knobs
        if k.lose_mode == "hang":
            await asyncio.sleep(k.hang_s)  # the client times out first
            await JSONResponse(lost.body, status_code=lost.status)(scope, receive, send)
            return
        payload = json.dumps(lost.body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": lost.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload[: len(payload) // 3], "more_body": True})
        # Raising mid-body makes the server close the connection: the client sees a broken response.
        raise ConnectionAbortedError("social emulator: response deliberately lost")

    async def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query_params)
        if request.method in ("POST", "PUT"):
            ctype = request.headers.get("content-type", "")
            if "application/json" in ctype:
                raw = await request.body()
                if raw:
                    data = json.loads(raw)
                    if isinstance(data, dict):
                        params.update(data)
            elif "form" in ctype:
                form = await request.form()
                for key, value in form.items():
                    params[key] = value if isinstance(value, str) else await value.read()
        return params

    async def _handle(self, request: Request) -> tuple[int, dict[str, Any], dict[str, str]]:
        segs = [s for s in request.url.path.split("/") if s]
        if segs and segs[0] == "_admin":
            return await self._admin(request, segs[1:])
        if segs and _VERSION.match(segs[0]):
            segs = segs[1:]
        params = await self._params(request)
        platform = self._platform_of(segs)
        self.requests.append(
            {"method": request.method, "path": "/" + "/".join(segs), "platform": platform, "at": time.time()}
        )
        await self._faults(platform)
        if segs and segs[0] == "2":
            return await self._x(request, segs[1:], params)
        return await self._graph(request, segs, params)

    def _platform_of(self, segs: list[str]) -> str | None:
        if segs and segs[0] == "2":
            return "x"
        if len(segs) == 2 and segs[1] == "insights":
            post = self.state.posts.get(segs[0]) or self.state.deleted_posts.get(segs[0])
            return post.platform if post else None
        if len(segs) >= 2:
            edge = segs[1]
            if edge in FB_EDGES:
                return "facebook"
            if edge in IG_EDGES:
                return "instagram"
            if edge in TH_EDGES:
                return "threads"
        if len(segs) == 1:
            obj = self.state.containers.get(segs[0]) or self.state.posts.get(segs[0])
            return obj.platform if obj else None
        return None

    async def _faults(self, platform: str | None) -> None:
        k = self.state.knobs
        if k.latency_ms:
            await asyncio.sleep(k.latency_ms / 1000)
        if k.platform and platform != k.platform:
            return
        fail = False
        if k.error_next > 0:
            k.error_next -= 1
            fail = True
        elif k.error_rate and random.random() < k.error_rate:
            fail = True
        if not fail:
            return
        status = k.error_status
        headers = {"retry-after": str(k.retry_after_s)} if status in (429, 503) else {}
        if platform == "x":
            headers["x-rate-limit-reset"] = str(int(time.time()) + k.retry_after_s)
            titles = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
            e = x_error(status, titles.get(status, "Error"), titles.get(status, "Error"))
        else:
            codes = {
                429: (4, "(#4) Application request limit reached"),
                500: (1, "An unknown error has occurred."),
                503: (2, "An unexpected error has occurred. Please retry your request later."),
            }
            code, msg = codes.get(status, (1, "An unknown error has occurred."))
            e = graph_error(status, msg, code, is_transient=True, type_="OAuthException")
        e.headers.update(headers)
        raise e

    def _maybe_lose(self, platform: str, status: int, body: dict[str, Any]) -> None:
        """Called after a publish was performed: lose the response if the knob says so."""
        k = self.state.knobs
        if k.lose_response_next > 0 and (k.platform is None or k.platform == platform):
            k.lose_response_next -= 1
            raise _Lost(status, body)

    # ---- tokens --------------------------------------------------------------------------------

    def _token_of(self, request: Request, params: dict[str, Any]) -> str | None:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        tok = params.get("access_token")
        return str(tok) if tok else None

    def _graph_auth(
        self, request: Request, params: dict[str, Any], platform: str, account_id: str | None
    ) -> Token:
        raw = self._token_of(request, params)
        if not raw:
            raise graph_error(
                400, "An active access token must be used to query information about the current user.", 2500
            )
        tok = self.state.tokens.get(raw)
        if tok is None or tok.platform not in (platform, "facebook" if platform == "instagram" else platform):
            raise graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190)
        if tok.revoked:
            raise graph_error(
                400,
                "Error validating access token: The user has not authorized application 1234567890.",
                190,
                458,
            )
        if tok.expires_at is not None and tok.expires_at <= time.time():
            when = datetime.fromtimestamp(tok.expires_at, UTC).strftime("%A, %d-%b-%y %H:%M:%S UTC")
            now = datetime.now(UTC).strftime("%A, %d-%b-%y %H:%M:%S UTC")
            raise graph_error(
                400,
                f"Error validating access token: Session has expired on {when}. The current time is {now}.",
                190,
                463,
            )
        if (
            account_id is not None
            and tok.account_id != account_id
            and not self._page_for(tok, platform, account_id)
        ):
            raise graph_error(403, "(#200) Permissions error", 200)
        self._count_call(platform, account_id or tok.account_id)
        return tok

    def _count_call(self, platform: str, account_id: str) -> None:
        """Meta's rate limits count every call made for an account (publishing and reading alike) over a
        rolling hour; over the limit the call is refused with the platform's own error."""
        limit = self.state.knobs.meta_calls_per_hour
        key = f"{platform}:{account_id}"
        now = time.time()
        calls = [t for t in self.state.calls.get(key, []) if t > now - 3600]
        if limit and len(calls) >= limit:
            self.state.calls[key] = calls
            self.state.throttled[key] = self.state.throttled.get(key, 0) + 1
            regain = max(1, int((calls[0] + 3600 - now) // 60) + 1)
            usage = json.dumps(
                {account_id: [{"type": "pages" if platform == "facebook" else platform, "call_count": 100,
                               "total_cputime": 0, "total_time": 0,
                               "estimated_time_to_regain_access": regain}]}
            )  # fmt: skip
            if platform == "facebook":
                e = graph_error(
                    400, "(#80001) There have been too many calls to this Page account. Wait a bit and try "
                    "again.", 80001, is_transient=True,
                )  # fmt: skip
            elif platform == "instagram":
                e = graph_error(
                    400, "(#80002) There have been too many calls to this Instagram account. Wait a bit and "
                    "try again.", 80002, is_transient=True,
                )  # fmt: skip
            else:
                e = graph_error(400, "Application request limit reached", 4, type_="THApiException")
            e.headers["x-business-use-case-usage"] = usage
            raise e
        calls.append(now)
        self.state.calls[key] = calls

    def _page_for(self, tok: Token, platform: str, account_id: str) -> bool:
        """A Page token also publishes to the Instagram professional account linked to that Page."""
        return (
            platform == "instagram"
            and tok.platform == "facebook"
            and self.state.page_instagram.get(tok.account_id) == account_id
        )

    def _x_auth(self, request: Request) -> Token:
        raw = self._token_of(request, {})
        tok = self.state.tokens.get(raw or "")
        if (
            tok is None
            or tok.platform != "x"
            or tok.revoked
            or (tok.expires_at is not None and tok.expires_at <= time.time())
        ):
            raise x_error(401, "Unauthorized", "Unauthorized")
        return tok

    # ---- Graph API (Facebook, Instagram, Threads) ----------------------------------------------

    async def _graph(
        self, request: Request, segs: list[str], p: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        m = request.method
        if segs == ["oauth", "access_token"] and "code" in p:  # authorization-code exchange
            if p.get("client_id") == self.state.oauth_apps["threads"].client_id:
                return 200, self.oauth.threads_code_exchange(p), {}
            return 200, self.oauth.meta_code_exchange(p), {}
        if segs == ["access_token"] and m == "GET":  # Threads: short-lived → long-lived
            return 200, self.oauth.threads_long_lived(p), {}
        if segs and segs[0] == "me" and m == "GET" and len(segs) <= 2:
            raw = self._token_of(request, p) or ""
            known = self.state.tokens.get(raw)
            tok = self._graph_auth(request, p, known.platform if known else "facebook", None)
            if len(segs) == 1:
                return 200, self.oauth.me(tok), {}
            if segs[1] == "accounts":
                return 200, self.oauth.me_accounts(tok, str(p.get("fields", ""))), {}
        if segs in (["oauth", "access_token"], ["refresh_access_token"]) and m == "GET":
            return 200, self._extend_token(request, p), {}
        if len(segs) == 1 and m == "GET":
            return 200, self._graph_object(request, segs[0], p), {}
        if len(segs) == 2 and segs[1] == "insights" and m == "GET":
            return 200, self._graph_insights(request, segs[0], p), {}
        if len(segs) != 2:
            raise graph_error(
                400, "Unsupported request - method type: " + m.lower(), 100, 33, "GraphMethodException"
            )
        acct, edge = segs
        if edge in FB_EDGES:
            self._graph_auth(request, p, "facebook", acct)
            if m == "GET":
                posts = self.state.posts_of("facebook", acct)[: int(p.get("limit", 25))]
                return 200, {"data": [self._fb_view(x) for x in posts]}, {}
            if edge == "feed":
                if not (p.get("message") or p.get("link")):
                    raise graph_error(
                        400, "(#100) Missing message or attachment.", 100, type_="OAuthException"
                    )
                post = self._store(
                    "facebook",
                    acct,
                    str(p.get("message", "")),
                    link=p.get("link"),
                    post_id=f"{acct}_{self.state.next_id()}",
                )
                self._maybe_lose("facebook", 200, {"id": post.id})
                return 200, {"id": post.id}, {}
            if edge == "photos":
                url = p.get("url")
                if not url:
                    raise graph_error(400, "(#324) Requires upload file", 324)
                _, _, _, sha = await self._fetch_image(str(url), ("jpeg", "png", "gif"), facebook=True)
                post = self._store(
                    "facebook",
                    acct,
                    str(p.get("caption") or p.get("message") or ""),
                    media_urls=[str(url)],
                    media_sha256=[sha],
                    post_id=f"{acct}_{self.state.next_id()}",
                )
                body = {"id": self.state.next_id(), "post_id": post.id}
                self._maybe_lose("facebook", 200, body)
                return 200, body, {}
        if edge in IG_EDGES:
            self._graph_auth(request, p, "instagram", acct)
            return await self._instagram(m, acct, edge, p)
        if edge in TH_EDGES:
            self._graph_auth(request, p, "threads", acct)
            return await self._threads(m, acct, edge, p)
        raise graph_error(
            400, f"(#100) Tried accessing nonexisting field ({edge})", 100, type_="OAuthException"
        )

    def _extend_token(self, request: Request, p: dict[str, Any]) -> dict[str, Any]:
        """Long-lived token refresh: ``GET /oauth/access_token?grant_type=fb_exchange_token`` (Facebook
        Login, Pages and Instagram) and ``GET /refresh_access_token?grant_type=th_refresh_token``
        (Threads)."""
        grant = p.get("grant_type")
        if grant == "fb_exchange_token":
            raw, platforms = str(p.get("fb_exchange_token", "")), ("facebook", "instagram")
        elif grant in ("th_refresh_token", "ig_refresh_token"):
            raw, platforms = str(p.get("access_token", "")), ("threads", "instagram")
        else:
            raise graph_error(400, "(#100) Unsupported grant_type", 100)
        tok = self.state.tokens.get(raw)
        if tok is None or tok.platform not in platforms:
            raise graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190)
        self._graph_auth(request, {"access_token": raw}, tok.platform, None)  # expired/revoked → 190
        new = self.state.new_token()
        ttl = 60 * 86_400
        self.state.tokens[new] = Token(
            new, tok.platform, tok.account_id, time.time() + ttl, scopes=tok.scopes
        )
        return {"access_token": new, "token_type": "bearer", "expires_in": ttl}

    def _graph_object(self, request: Request, obj_id: str, p: dict[str, Any]) -> dict[str, Any]:
        k = self.state.knobs
        c = self.state.containers.get(obj_id)
        if c is not None:
            self._graph_auth(request, p, c.platform, c.account_id)
            c.polls += 1
            if c.published_id:
                status = "PUBLISHED"
            elif c.polls <= k.container_in_progress_polls and not c.is_carousel_item:
                status = "IN_PROGRESS"
            else:
                status = "FINISHED"
            out: dict[str, Any] = {"id": c.id}
            wanted = str(p.get("fields", "status_code")).split(",")
            if "status_code" in wanted or c.platform == "instagram":
                out["status_code"] = status
            if "status" in wanted or c.platform == "threads":
                out["status"] = status
            return out
        post = self.state.posts.get(obj_id)
        if post is None:
            raise graph_error(
                400,
                f"Unsupported get request. Object with ID '{obj_id}' does not exist, cannot be loaded due to "
                "missing "
                "permissions, or does not support this operation.",
                100,
                33,
                "GraphMethodException",
            )
        self._graph_auth(request, p, post.platform, post.account_id)
        if post.platform == "facebook":
            return self._fb_view(post)
        return self._media_view(post)

    def _figures(self, post: Post) -> eng.Figures:
        has_image = bool(post.media_urls) or post.platform == "instagram"
        return eng.figures(
            post.platform, post.id, post.text, has_image, post.created_at, time.time(), self.state.appeal
        )

    def _graph_insights(self, request: Request, obj_id: str, p: dict[str, Any]) -> dict[str, Any]:
        """``GET /{post-or-media-id}/insights?metric=…``: Facebook Page posts, Instagram media, Threads media.

        Facebook needs the Page token's ``pages_read_engagement`` and ``read_insights``, Instagram
        ``instagram_manage_insights``, Threads ``threads_manage_insights``; a deleted post is an object that
        does not exist; one unknown or retired metric fails the whole request."""
        post = self.state.posts.get(obj_id)
        if post is None or post.kind != "post":
            raise graph_error(
                400,
                f"Unsupported get request. Object with ID '{obj_id}' does not exist, cannot be loaded due to "
                "missing permissions, or does not support this operation.",
                100,
                33,
                "GraphMethodException",
            )
        tok = self._graph_auth(request, p, post.platform, post.account_id)
        key = f"{post.platform}:{post.account_id}"
        self.state.insights.setdefault(key, []).append(time.time())
        th = post.platform == "threads"
        type_ = "THApiException" if th else "OAuthException"
        needs = {
            "facebook": ("pages_read_engagement", "read_insights"),
            "instagram": ("instagram_manage_insights",),
            "threads": ("threads_manage_insights",),
        }[post.platform]
        for perm in needs:
            if not tok.allows(perm):
                if perm == "pages_read_engagement":
                    raise graph_error(
                        403, "(#200) This endpoint requires the 'pages_read_engagement' permission.", 200
                    )
                raise graph_error(
                    403, "(#10) Application does not have permission for this action", 10, type_=type_
                )
        names = [x for x in str(p.get("metric", "")).replace(" ", "").split(",") if x]
        if not names:
            raise graph_error(
                400, "No metric was specified to be fetched. Please specify one or more metrics to be "
                "fetched and try again.", 3001, 1504028, type_=type_,
            )  # fmt: skip
        valid = eng.METRICS[post.platform]
        bad = [n for n in names if n not in valid]
        if bad:
            raise graph_error(
                400, f"(#100) The value must be a valid insights metric: {bad[0]} "
                f"(valid: {', '.join(valid)})", 100, type_=type_,
            )  # fmt: skip
        data = eng.graph_insights(post.platform, post.id, names, self._figures(post))
        if post.platform != "facebook":
            return {"data": data}
        base = f"{self.root}/{obj_id}/insights?metric={','.join(names)}"
        return {"data": data, "paging": {"previous": base + "&since=0", "next": base + "&until=0"}}

    def _x_lookup(self, request: Request, p: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """``GET /2/tweets?ids=…&tweet.fields=public_metrics``: up to 100 ids; a deleted (or unknown) one is
        an entry in ``errors``; per user, ``x_lookup_per_15min`` requests per 15-minute window, told in the
        ``x-rate-limit-*`` headers, and a 429 beyond."""
        tok = self._x_auth(request)
        st, limit = self.state, self.state.knobs.x_lookup_per_15min
        key = f"x:{tok.account_id}"
        now = time.time()
        start, used = st.x_windows.get(tok.account_id, (now, 0))
        if now >= start + 900:
            start, used = now, 0
        reset = str(int(start + 900))
        if used >= limit:
            st.throttled[key] = st.throttled.get(key, 0) + 1
            headers = {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": "0",
                       "x-rate-limit-reset": reset}  # fmt: skip
            raise ApiError(
                429, {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
                      "status": 429}, headers,
            )  # fmt: skip
        used += 1
        st.x_windows[tok.account_id] = (start, used)
        st.insights.setdefault(key, []).append(now)
        st.calls.setdefault(key, []).append(now)
        headers = {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(limit - used),
                   "x-rate-limit-reset": reset}  # fmt: skip
        if not tok.allows("tweet.read"):
            raise ApiError(
                403,
                {"title": "Forbidden", "type": "about:blank", "status": 403,
                 "detail": "Missing required OAuth 2.0 scope: tweet.read"},
                headers,
            )  # fmt: skip
        ids = [x for x in str(p.get("ids", "")).split(",") if x]
        if not 1 <= len(ids) <= 100:
            raise ApiError(
                400,
                {"title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                 "type": "https://api.twitter.com/2/problems/invalid-request",
                 "errors": [{"parameters": {"ids": ids},
                             "message": f"The number of values in the `ids` query parameter list "
                                        f"[{len(ids)}] is not between 1 and 100"}]},
                headers,
            )  # fmt: skip
        fields = str(p.get("tweet.fields", "")).split(",")
        data, errors = [], []
        for tid in ids:
            hit = st.posts.get(tid)
            if hit is None or hit.platform != "x":
                errors.append(
                    {"value": tid, "detail": f"Could not find tweet with ids: [{tid}].",
                     "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
                     "resource_id": tid, "type": "https://api.twitter.com/2/problems/resource-not-found"}
                )  # fmt: skip
                continue
            view = self._x_view(hit)
            if "public_metrics" in fields:
                view["public_metrics"] = eng.x_public_metrics(self._figures(hit))
            data.append(view)
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return 200, body, headers

    def _fb_view(self, post: Post) -> dict[str, Any]:
        out = {
            "id": post.id,
            "message": post.text,
            "created_time": graph_time(post.created_at),
            "permalink_url": post.permalink,
        }
        if post.link:
            out["link"] = post.link
        return out

    def _media_view(self, post: Post) -> dict[str, Any]:
        key = "caption" if post.platform == "instagram" else "text"
        return {
            "id": post.id,
            key: post.text,
            "timestamp": graph_time(post.created_at),
            "media_type": post.kind.upper() if post.kind != "post" else "IMAGE",
            "permalink": post.permalink,
        }

    def _store(
        self,
        platform: str,
        acct: str,
        text: str,
        *,
        media_urls: list[str] | None = None,
        media_sha256: list[str] | None = None,
        link: Any = None,
        post_id: str | None = None,
        container: str | None = None,
    ) -> Post:
        post_id = post_id or self.state.next_id()
        post = Post(
            id=post_id,
            platform=platform,
            account_id=acct,
            text=text,
            created_at=time.time(),
            media_urls=media_urls or [],
            media_sha256=media_sha256 or [],
            link=str(link) if link else None,
            container_id=container,
            permalink=f"{self.root}/web/{platform}/{post_id}",
        )
        self.state.posts[post.id] = post
        return post

    async def _fetch_image(
        self, url: str, allowed: tuple[str, ...], *, facebook: bool = False
    ) -> tuple[str, int, int, str]:
        """Fetch ``url`` as the platform would: (format, width, height, sha256), or the platform's error
        (Facebook's photo endpoint answers its own)."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10, follow_redirects=True, trust_env=False)
        if self.state.knobs.media_fetch_delay_s:  # a platform's fetcher, busy: the URL may expire meanwhile
            await asyncio.sleep(self.state.knobs.media_fetch_delay_s)
        try:
            r = await self._http.get(url)
            r.raise_for_status()
        except httpx.HTTPError as e:
            status = e.response.status_code if isinstance(e, httpx.HTTPStatusError) else None
            self.state.fetches.append({"url": url, "format": None, "status": status})
            if facebook:
                raise graph_error(  # noqa: B904 - an HTTP answer, as the platform gives it
                    400, "(#324) Missing or invalid image file", 324, type_="OAuthException"
                )
            raise graph_error(  # noqa: B904 - an HTTP answer, as the platform gives it
                400,
                "Media download has failed. The media URI doesn't meet our requirements.",
                9004,
                2207052,
                is_transient=False,
                error_user_title="Media download has failed.",
                error_user_msg="The media could not be fetched from this URI: " + url,
            )
        data = r.content
        fmt = (
            "jpeg"
            if data[:3] == b"\xff\xd8\xff"
            else "png"
            if data[:8] == b"\x89PNG\r\n\x1a\n"
            else "gif"
            if data[:3] == b"GIF"
            else "other"
        )
        sha = hashlib.sha256(data).hexdigest()
        self.state.fetches.append({"url": url, "format": fmt, "status": r.status_code, "sha256": sha})
        if fmt not in allowed and facebook:
            raise graph_error(400, "(#324) Missing or invalid image file", 324, type_="OAuthException")
        if fmt not in allowed:
            raise graph_error(
                400,
                "Only photo or video can be accepted as media type.",
                9004,
                2207052,
                is_transient=False,
                error_user_title="Media download has failed.",
                error_user_msg=f"The media format is not supported ({fmt}). Supported image format: "
                + "/".join(a.upper() for a in allowed)
                + ".",
            )
        width = height = 0
        try:
            from PIL import Image

            with Image.open(io.BytesIO(data)) as im:
                width, height = im.size
        except Exception:  # noqa: BLE001 - a broken image is refused like a wrong format
            raise graph_error(
                400, "Only photo or video can be accepted as media type.", 9004, 2207052
            ) from None
        return fmt, width, height, sha

    def _check_caption(self, caption: str) -> None:
        k = self.state.knobs
        if len(caption) > k.ig_caption_max_chars or len(_HASHTAG.findall(caption)) > k.ig_max_hashtags:
            raise graph_error(
                400,
                "The caption is too long or has too many hashtags.",
                100,
                2207010,
                is_transient=False,
                error_user_msg=f"Captions may have at most {k.ig_caption_max_chars} characters and "
                f"{k.ig_max_hashtags} hashtags.",
            )

    async def _instagram(
        self, m: str, acct: str, edge: str, p: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        k, st = self.state.knobs, self.state
        if edge == "content_publishing_limit" and m == "GET":
            used = st.published_in_window("instagram", acct, k.ig_quota_duration_s)
            return (
                200,
                {
                    "data": [
                        {
                            "quota_usage": used,
                            "config": {
                                "quota_total": k.ig_quota_total,
                                "quota_duration": k.ig_quota_duration_s,
                            },
                        }
                    ]
                },
                {},
            )
        if edge == "media" and m == "GET":
            posts = [x for x in st.posts_of("instagram", acct) if x.kind == "post"][: int(p.get("limit", 25))]
            return 200, {"data": [self._media_view(x) for x in posts]}, {}
        if edge == "media" and m == "POST":
            media_type = str(p.get("media_type") or "IMAGE").upper()
            caption = str(p.get("caption", ""))
            carousel_item = str(p.get("is_carousel_item", "false")).lower() == "true"
            if media_type not in ("IMAGE", "CAROUSEL"):
                raise graph_error(
                    400,
                    f"(#100) media_type {media_type} is not supported here: feed images and carousels only.",
                    100,
                )
            self._check_caption(caption)
            c = Container(
                id=st.next_id(),
                platform="instagram",
                account_id=acct,
                media_type=media_type,
                caption=caption,
                is_carousel_item=carousel_item,
            )
            if media_type == "CAROUSEL":
                children = [x for x in str(p.get("children", "")).replace(" ", "").split(",") if x]
                if not 2 <= len(children) <= 10 or any(
                    ch not in st.containers
                    or not st.containers[ch].is_carousel_item
                    or st.containers[ch].account_id != acct
                    for ch in children
                ):
                    raise graph_error(
                        400,
                        "(#100) children must be 2 to 10 carousel item containers of this account",
                        100,
                        2207019,
                    )
                c.children = children
            else:
                url = p.get("image_url")
                if not url:
                    raise graph_error(400, "(#100) The parameter image_url is required", 100)
                _, w, h, c.image_sha256 = await self._fetch_image(str(url), ("jpeg",))
                ratio = w / h if h else 0
                if not 0.8 - 1e-3 <= ratio <= 1.91 + 1e-3:
                    raise graph_error(
                        400,
                        f"The submitted image with aspect ratio ('{w}/{h}') cannot be published. "
                        "Please submit "
                        "an image with a valid aspect ratio.",
                        36003,
                        2207009,
                        is_transient=False,
                    )
                c.image_url = str(url)
            st.containers[c.id] = c
            return 200, {"id": c.id}, {}
        if edge == "media_publish" and m == "POST":
            found = st.containers.get(str(p.get("creation_id", "")))
            if (
                found is None
                or found.account_id != acct
                or found.platform != "instagram"
                or found.is_carousel_item
            ):
                raise graph_error(
                    400, "(#100) Param creation_id is not a valid container of this account", 100
                )
            c = found
            if c.published_id:
                raise graph_error(400, "The media has already been published.", 9007, 2207008)
            if c.polls < k.container_in_progress_polls + 1 and c.media_type != "CAROUSEL":
                raise graph_error(
                    400,
                    "Media ID is not available",
                    9007,
                    2207027,
                    is_transient=False,
                    error_user_msg="The media is not ready for publishing, please wait for a moment",
                )
            if st.published_in_window("instagram", acct, k.ig_quota_duration_s) >= k.ig_quota_total:
                raise graph_error(
                    400,
                    "Application request limit reached",
                    9,
                    2207042,
                    is_transient=False,
                    error_user_msg="You reached maximum number of posts that is allowed to be "
                    "published by Content Publishing API.",
                )
            items = [st.containers[ch] for ch in c.children] if c.children else [c]
            urls = [x.image_url or "" for x in items]
            hashes = [x.image_sha256 or "" for x in items]
            post = self._store(
                "instagram", acct, c.caption, media_urls=urls, media_sha256=hashes, container=c.id
            )
            c.published_id = post.id
            self._maybe_lose("instagram", 200, {"id": post.id})
            return 200, {"id": post.id}, {}
        raise graph_error(
            400, "Unsupported request - method type: " + m.lower(), 100, 33, "GraphMethodException"
        )

    async def _threads(
        self, m: str, acct: str, edge: str, p: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        k, st = self.state.knobs, self.state
        if edge == "threads_publishing_limit" and m == "GET":
            used = st.published_in_window("threads", acct, k.threads_quota_duration_s)
            return (
                200,
                {
                    "data": [
                        {
                            "quota_usage": used,
                            "config": {
                                "quota_total": k.threads_quota_total,
                                "quota_duration": k.threads_quota_duration_s,
                            },
                        }
                    ]
                },
                {},
            )
        if edge == "threads" and m == "GET":
            posts = [x for x in st.posts_of("threads", acct) if x.kind == "post"][: int(p.get("limit", 25))]
            return 200, {"data": [self._media_view(x) for x in posts]}, {}
        if edge == "threads" and m == "POST":
            media_type = str(p.get("media_type") or "TEXT").upper()
            text = str(p.get("text", ""))
            if len(text) > k.threads_max_chars:
                raise graph_error(
                    400,
                    f"Param text must be at most {k.threads_max_chars} characters long.",
                    100,
                    4279009,
                    type_="THApiException",
                )
            carousel_item = str(p.get("is_carousel_item", "false")).lower() == "true"
            c = Container(
                id=st.next_id(),
                platform="threads",
                account_id=acct,
                media_type=media_type,
                caption=text,
                is_carousel_item=carousel_item,
            )
            if media_type == "IMAGE":
                url = p.get("image_url")
                if not url:
                    raise graph_error(
                        400, "(#100) The parameter image_url is required", 100, type_="THApiException"
                    )
                _, _, _, c.image_sha256 = await self._fetch_image(str(url), ("jpeg", "png"))
                c.image_url = str(url)
            elif media_type == "CAROUSEL":
                children = [x for x in str(p.get("children", "")).replace(" ", "").split(",") if x]
                if not 2 <= len(children) <= 20 or any(ch not in st.containers for ch in children):
                    raise graph_error(
                        400, "(#100) children must be 2 to 20 item containers", 100, type_="THApiException"
                    )
                c.children = children
            elif media_type != "TEXT":
                raise graph_error(
                    400, f"(#100) media_type {media_type} is not supported here", 100, type_="THApiException"
                )
            st.containers[c.id] = c
            return 200, {"id": c.id}, {}
        if edge == "threads_publish" and m == "POST":
            found = st.containers.get(str(p.get("creation_id", "")))
            if (
                found is None
                or found.account_id != acct
                or found.platform != "threads"
                or found.is_carousel_item
            ):
                raise graph_error(
                    400,
                    "(#100) Param creation_id is not a valid container of this account",
                    100,
                    type_="THApiException",
                )
            c = found
            if c.published_id:
                raise graph_error(
                    400, "The media has already been published.", 24, 4279008, type_="THApiException"
                )
            if st.published_in_window("threads", acct, k.threads_quota_duration_s) >= k.threads_quota_total:
                raise graph_error(
                    400,
                    "Application request limit reached",
                    4,
                    2207051,
                    type_="THApiException",
                    is_transient=False,
                )
            items = [st.containers[ch] for ch in c.children] if c.children else [c]
            urls = [x.image_url for x in items if x.image_url]
            hashes = [x.image_sha256 or "" for x in items if x.image_url]
            post = self._store(
                "threads", acct, c.caption, media_urls=urls, media_sha256=hashes, container=c.id
            )
            c.published_id = post.id
            self._maybe_lose("threads", 200, {"id": post.id})
            return 200, {"id": post.id}, {}
        raise graph_error(
            400, "Unsupported request - method type: " + m.lower(), 100, 33, "GraphMethodException"
        )

    # ---- X API v2 ------------------------------------------------------------------------------

    async def _x(
        self, request: Request, segs: list[str], p: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        m, st, k = request.method, self.state, self.state.knobs
        if segs == ["oauth2", "token"] and m == "POST":
            if p.get("grant_type") == "authorization_code":
                return 200, self.oauth.x_code_exchange(request, p), {}
            return self._x_refresh(request, p)
        if segs == ["media", "upload"] and m == "POST":
            tok = self._x_auth(request)
            data = p.get("media")
            if not isinstance(data, bytes) or not data:
                raise x_error(
                    400,
                    "Invalid Request",
                    "One or more parameters to your request was invalid.",
                    "https://api.twitter.com/2/problems/invalid-request",
                )
            kinds = {
                b"\xff\xd8\xff": "image/jpeg",
                b"\x89PN": "image/png",
                b"GIF": "image/gif",
                b"RIF": "image/webp",
            }
            image_type = kinds.get(data[:3])
            if image_type is None:
                raise x_error(
                    400,
                    "Invalid Request",
                    "media type unrecognized.",
                    "https://api.twitter.com/2/problems/invalid-request",
                )
            media_id = st.next_id()
            st.x_media[media_id] = tok.account_id
            st.x_media_sha256[media_id] = hashlib.sha256(data).hexdigest()
            return (
                200,
                {
                    "data": {
                        "id": media_id,
                        "media_key": f"3_{media_id}",
                        "size": len(data),
                        "expires_after_secs": 86_400,
                        "image": {"image_type": image_type},
                    }
                },
                {},
            )
        if segs == ["tweets"] and m == "POST":
            tok = self._x_auth(request)
            text = str(p.get("text", ""))
            media_ids = [str(x) for x in ((p.get("media") or {}).get("media_ids") or [])]
            if len(media_ids) > 4 or any(st.x_media.get(mid) != tok.account_id for mid in media_ids):
                raise x_error(
                    400,
                    "Invalid Request",
                    "One or more parameters to your request was invalid.",
                    "https://api.twitter.com/2/problems/invalid-request",
                    errors=[
                        {
                            "parameters": {"media.media_ids": media_ids},
                            "message": "Your media IDs are invalid.",
                        }
                    ],
                )
            weighted = parse_tweet(text).weightedLength
            if not text.strip() and not p.get("media"):
                raise x_error(
                    400,
                    "Invalid Request",
                    "One or more parameters to your request was invalid.",
                    "https://api.twitter.com/2/problems/invalid-request",
                )
            if weighted > k.x_max_weighted_chars:
                raise x_error(
                    400,
                    "Invalid Request",
                    "One or more parameters to your request was invalid.",
                    "https://api.twitter.com/2/problems/invalid-request",
                    errors=[{"parameters": {"text": [text]}, "message": "Tweet text is too long."}],
                )
            if k.x_monthly_cap:
                month = (
                    datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
                )
                used = sum(1 for x in st.posts.values() if x.platform == "x" and x.created_at >= month)
                if used >= k.x_monthly_cap:
                    raise x_error(
                        429,
                        "UsageCapExceeded",
                        "Usage cap exceeded: Monthly product cap",
                        "https://api.twitter.com/2/problems/usage-capped",
                        period="Monthly",
                        scope="Product",
                    )
            if any(x.text == text for x in st.posts_of("x", tok.account_id)[:50]):
                raise x_error(
                    403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
                )
            post = self._store(
                "x",
                tok.account_id,
                text,
                media_urls=[f"x-media:{mid}" for mid in media_ids],
                media_sha256=[st.x_media_sha256[mid] for mid in media_ids],
            )
            body = {"data": {"id": post.id, "text": text, "edit_history_tweet_ids": [post.id]}}
            self._maybe_lose("x", 201, body)
            return 201, body, {}
        if segs == ["tweets"] and m == "GET":
            return self._x_lookup(request, p)
        if len(segs) == 2 and segs[0] == "tweets" and m == "GET":
            self._x_auth(request)
            hit = st.posts.get(segs[1])
            if hit is None or hit.platform != "x":
                return (
                    200,
                    {
                        "errors": [
                            {
                                "value": segs[1],
                                "detail": f"Could not find tweet with id: [{segs[1]}].",
                                "title": "Not Found Error",
                                "resource_type": "tweet",
                                "parameter": "id",
                                "resource_id": segs[1],
                                "type": "https://api.twitter.com/2/problems/resource-not-found",
                            }
                        ]
                    },
                    {},
                )
            return 200, {"data": self._x_view(hit)}, {}
        if segs == ["users", "me"] and m == "GET":
            tok = self._x_auth(request)
            ident = st.identity  # the consent pages' signed-in user has a handle; others a made-up one
            handle = ident.x_username if tok.account_id == ident.x_user_id else f"user{tok.account_id}"
            return (
                200,
                {
                    "data": {
                        "id": tok.account_id,
                        "name": f"user {tok.account_id}",
                        "username": handle,
                    }
                },
                {},
            )
        if len(segs) == 3 and segs[0] == "users" and segs[2] == "tweets" and m == "GET":
            self._x_auth(request)
            posts = st.posts_of("x", segs[1])
            if p.get("start_time"):
                since = datetime.fromisoformat(str(p["start_time"]).replace("Z", "+00:00")).timestamp()
                posts = [x for x in posts if x.created_at >= since]
            posts = posts[: min(int(p.get("max_results", 10)), 100)]
            meta: dict[str, Any] = {"result_count": len(posts)}
            if posts:
                meta.update(newest_id=posts[0].id, oldest_id=posts[-1].id)
                return 200, {"data": [self._x_view(x) for x in posts], "meta": meta}, {}
            return 200, {"meta": meta}, {}
        raise x_error(404, "Not Found", f"no route for {m} /2/{'/'.join(segs)}")

    def _permalink_page(self, request: Request) -> HTMLResponse:
        """A post's public page: what its permalink shows (platform, account, text, media, time)."""
        segs = [x for x in request.url.path.split("/") if x]
        post = self.state.posts.get(segs[2]) if len(segs) == 3 else None
        if post is None or post.platform != segs[1] or post.kind != "post":
            return HTMLResponse("<!doctype html><title>Not found</title><h1>This post is not here.</h1>", 404)
        media = "".join(
            f"<li><code>{html.escape(h)}</code></li>" for h in post.media_sha256
        )  # the URLs a platform fetched from expire; what it kept is the bytes
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{post.platform} post {post.id}</title>"
            f"</head><body><article data-platform='{post.platform}' data-id='{html.escape(post.id)}'>"
            f"<h1>{html.escape(post.platform)} · {html.escape(post.account_id)}</h1>"
            f"<p class='text'>{html.escape(post.text)}</p>"
            + (f"<p class='link'>{html.escape(post.link)}</p>" if post.link else "")
            + (f"<ul class='media'>{media}</ul>" if media else "")
            + f"<time datetime='{graph_time(post.created_at)}'>{graph_time(post.created_at)}</time>"
            "</article></body></html>"
        )
        return HTMLResponse(page)

    def _x_view(self, post: Post) -> dict[str, Any]:
        return {
            "id": post.id,
            "text": post.text,
            "created_at": x_time(post.created_at),
            "author_id": post.account_id,
            "edit_history_tweet_ids": [post.id],
        }

    def _x_refresh(self, request: Request, p: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        st = self.state
        invalid = ApiError(
            400, {"error": "invalid_request", "error_description": "Value passed for the token was invalid."}
        )
        if p.get("grant_type") != "refresh_token":
            raise ApiError(
                400, {"error": "unsupported_grant_type", "error_description": "Grant type is not supported."}
            )
        entry = st.x_refresh.get(str(p.get("refresh_token", "")))
        if entry is None or entry["used"] or entry["revoked"]:
            raise invalid
        client = entry.get("client_id")  # tokens from the OAuth flow belong to their client
        if client is not None and self.oauth.refresh_client(request, p) != client:
            raise ApiError(
                401,
                {"error": "unauthorized_client", "error_description": "Missing valid authorization header"},
            )
        entry["used"] = True  # rotation: a refresh token works once
        access, refresh = st.new_token(), st.new_token()
        ttl = st.knobs.x_access_token_ttl_s
        st.tokens[access] = Token(access, "x", entry["account_id"], time.time() + ttl, refresh_token=refresh)
        st.x_refresh[refresh] = {
            "account_id": entry["account_id"],
            "used": False,
            "revoked": False,
            **({"client_id": client} if client is not None else {}),
        }
        return (
            200,
            {
                "token_type": "bearer",
                "expires_in": ttl,
                "access_token": access,
                "scope": "tweet.write users.read tweet.read offline.access",
                "refresh_token": refresh,
            },
            {},
        )

    # ---- admin ---------------------------------------------------------------------------------

    async def _admin(self, request: Request, segs: list[str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        st, m = self.state, request.method
        body: dict[str, Any] = {}
        if m == "POST":
            raw = await request.body()
            body = json.loads(raw) if raw else {}
        what = segs[0] if segs else ""
        if what == "health":
            return 200, {"ok": True}, {}
        if what == "reset" and m == "POST":
            st.reset()
            self.requests.clear()
            return 200, {"ok": True}, {}
        if what == "knobs":
            if m == "POST":
                # Aliases shared with the other emulators (emulators/faults.py).
                if "error_count" in body:
                    body["error_next"] = body.pop("error_count")
                if "error_kind" in body:
                    kind = str(body.pop("error_kind"))
                    if kind == "late":  # act, then answer too late: the post is made, the answer lost
                        body.setdefault("lose_mode", "hang")
                    elif kind.isdigit():
                        body["error_status"] = int(kind)
                    else:
                        return 400, {"error": f"error_kind {kind!r}: use 429, 500, 503 or late"}, {}
                known = {f.name for f in fields(st.knobs)}
                unknown = set(body) - known
                if unknown:
                    return 400, {"error": f"unknown knobs: {sorted(unknown)}"}, {}
                for key, value in body.items():
                    setattr(st.knobs, key, value)
            return 200, asdict(st.knobs), {}
        if what == "posts" and len(segs) == 2 and m == "DELETE":
            gone = st.posts.pop(segs[1], None)
            if gone is None:
                return 404, {"error": f"no post {segs[1]}"}, {}
            st.deleted_posts[gone.id] = gone  # deleted on the platform: every answer treats it as unknown
            return 200, {"ok": True}, {}
        if what == "posts" and len(segs) == 1 and m == "POST":
            return 200, self._admin_seed_post(body), {}
        if what == "posts" and len(segs) == 2 and m == "POST":
            # A post published through the API, as if made at ``created_at``: time passes for it.
            post = st.posts.get(segs[1])
            if post is None:
                return 404, {"error": f"no post {segs[1]}"}, {}
            post.created_at = float(body["created_at"])
            return 200, post.public(), {}
        if what == "appeal":
            if m == "POST":
                st.appeal[str(body["keyword"])] = float(body["factor"])
            return 200, {"appeal": st.appeal}, {}
        if what == "engagement" and len(segs) == 2:
            post = st.posts.get(segs[1])
            if post is None:
                return 404, {"error": f"no post {segs[1]}"}, {}
            return 200, asdict(self._figures(post)), {}
        if what == "insights":
            return 200, {"accounts": self._admin_insights()}, {}
        if what == "posts" and len(segs) == 2:
            found = st.posts.get(segs[1])
            if found is None or found.kind != "post":
                return 404, {"error": f"no post {segs[1]}"}, {}
            return 200, found.public(), {}
        if what == "posts":
            q = request.query_params
            posts = [
                x.public()
                for x in sorted(st.posts.values(), key=lambda x: x.created_at)
                if (not q.get("platform") or x.platform == q["platform"])
                and (not q.get("account_id") or x.account_id == q["account_id"])
                and x.kind == "post"
            ]
            return 200, {"posts": posts}, {}
        if what == "requests":
            return 200, {"requests": self.requests, "fetches": st.fetches}, {}
        if what == "tokens" and m == "POST":
            return 200, self._admin_tokens(body), {}
        if what == "oauth":
            return self.oauth.admin(m, body)
        return 404, {"error": "unknown admin route"}, {}

    def _admin_tokens(self, body: dict[str, Any]) -> dict[str, Any]:
        st = self.state
        action = body.get("action", "register")
        if action == "register":
            platform = body["platform"]
            if platform not in ("facebook", "instagram", "threads", "x"):
                raise ApiError(400, {"error": f"unknown platform {platform}"})
            token = body.get("token") or st.new_token()
            expires_in = body.get("expires_in")
            refresh = body.get("refresh_token")
            if platform == "x" and refresh is None and body.get("with_refresh", True):
                refresh = st.new_token()
            st.tokens[token] = Token(
                token,
                platform,
                str(body["account_id"]),
                time.time() + float(expires_in) if expires_in is not None else None,
                refresh_token=refresh,
            )
            if refresh:
                st.x_refresh[refresh] = {
                    "account_id": str(body["account_id"]),
                    "used": False,
                    "revoked": False,
                }
            return {"token": token, "refresh_token": refresh}
        tok = st.tokens.get(str(body.get("token", "")))
        targets = (
            [tok]
            if tok
            else [
                t
                for t in st.tokens.values()
                if t.platform == body.get("platform") and t.account_id == str(body.get("account_id"))
            ]
        )
        if not targets:
            raise ApiError(404, {"error": "no such token"})
        for t in targets:
            if action == "deny":  # the user took one permission back (others stay)
                t.denied.add(str(body["permission"]))
            elif action == "grant":
                t.denied.discard(str(body["permission"]))
            elif action == "expire":
                t.expires_at = time.time() - 1
            elif action == "revoke":
                t.revoked = True
                for r in st.x_refresh.values():  # revoking the grant kills its refresh tokens too
                    if r["account_id"] == t.account_id and t.platform == "x":
                        r["revoked"] = True
            else:
                raise ApiError(400, {"error": f"unknown action {action}"})
        return {"ok": True, "tokens": len(targets)}

    def _admin_seed_post(self, body: dict[str, Any]) -> dict[str, Any]:
        """A post made on the platform at ``created_at`` (epoch seconds; default now), as if published then:
        what tests and the demo age posts with."""
        platform, acct = str(body["platform"]), str(body["account_id"])
        if platform not in ("facebook", "instagram", "threads", "x"):
            raise ApiError(400, {"error": f"unknown platform {platform}"})
        post_id = f"{acct}_{self.state.next_id()}" if platform == "facebook" else None
        media = ["seeded:image"] if body.get("image") else []
        post = self._store(platform, acct, str(body.get("text", "")), media_urls=media, post_id=post_id)
        post.created_at = float(body.get("created_at") or post.created_at)
        return post.public()

    def _admin_insights(self) -> list[dict[str, Any]]:
        """Per account: the insights requests received, all rate-limited calls, the most of those in any
        window of the platform's limit (X: 15 minutes, Meta: one hour) and the calls refused for a limit."""
        st = self.state
        out = []
        for key in sorted(set(st.insights) | set(st.calls) | set(st.throttled)):
            platform, _, account = key.partition(":")
            window = 900.0 if platform == "x" else 3600.0
            times = sorted(st.calls.get(key, []))
            peak, lo = 0, 0
            for hi, t in enumerate(times):
                while times[lo] <= t - window:
                    lo += 1
                peak = max(peak, hi - lo + 1)
            out.append(
                {"platform": platform, "account_id": account,
                 "insights_requests": len(st.insights.get(key, [])), "calls": len(times),
                 "peak_in_window": peak, "window_s": window, "throttled": st.throttled.get(key, 0)}
            )  # fmt: skip
        return out


def create_social_app(state: SocialState | None = None) -> SocialEmulator:
    """The social emulator as an ASGI application."""
    return SocialEmulator(state)
