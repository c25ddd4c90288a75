"""Reading posts' metrics back from each platform, in its own API shape, through the publishing clients
(:mod:`icop.social.clients`: same base URLs, timeouts, tracing and error classification).

* Facebook Page posts: ``GET /{page-post-id}/insights?metric=post_media_view,post_total_media_view_unique,
  post_reactions_by_type_total,post_clicks,post_activity_by_action_type`` (Page token with
  ``pages_read_engagement`` and ``read_insights``). The ``post_impressions*`` metrics are retired, and one
  invalid metric fails the whole request, so only current ones are asked for.
* Instagram media: ``GET /{ig-media-id}/insights?metric=views,reach,likes,comments,shares,saved``
  (``instagram_manage_insights``).
* Threads media: ``GET /{threads-media-id}/insights?metric=views,likes,replies,reposts,quotes,shares``
  (``threads_manage_insights``).
* X: ``GET /2/tweets?ids=…&tweet.fields=public_metrics``, up to 100 ids a request; a deleted post comes back
  as an entry of ``errors`` (``resource-not-found``) beside the others' data. The ``x-rate-limit-*`` headers
  say what is left of the window: no further request is sent once it is used up.

Each call answers per post: its :class:`Metrics`, or the :class:`~icop.social.errors.PlatformError` that
post got (``NOT_FOUND`` for a deleted post, ``PERMISSION_DENIED`` when a permission was taken back). A
failure that concerns the whole account (rate limit, token) ends the call: posts not attempted are absent
from the answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from icop.social.clients import GraphClientBase, SocialClient, XClient
from icop.social.errors import ErrorKind, PlatformError

ACCOUNT_WIDE = (ErrorKind.RATE_LIMITED, ErrorKind.AUTH_EXPIRED, ErrorKind.AUTH_REVOKED)

FACEBOOK_METRICS = (
    "post_media_view",
    "post_total_media_view_unique",
    "post_reactions_by_type_total",
    "post_clicks",
    "post_activity_by_action_type",
)
INSTAGRAM_METRICS = ("views", "reach", "likes", "comments", "shares", "saved")
THREADS_METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")


@dataclass(frozen=True)
class Metrics:
    """One post's lifetime figures, in common terms (None: the platform does not report it)."""

    impressions: int | None = None
    reach: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    clicks: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    """The platform's own metric names and values, as returned."""

    @property
    def engagement(self) -> int:
        """Interactions of every kind the platform reports: likes, comments, shares, saves, clicks."""
        return sum(v or 0 for v in (self.likes, self.comments, self.shares, self.saves, self.clicks))

    def value(self, metric: str) -> int:
        """``impressions``, ``engagement``, ``likes``, ``comments`` or ``shares`` (0 when not reported)."""
        if metric == "engagement":
            return self.engagement
        got = getattr(self, metric)
        return int(got or 0)


Outcome = Metrics | PlatformError


class InsightsClient(Protocol):
    platform: str
    per_request: int
    """Posts one request reads."""

    async def metrics(self, token: str, post_ids: Sequence[str]) -> dict[str, Outcome]: ...


def _total(value: Any) -> int:
    """A metric's value as one number: a breakdown (reactions by type) is summed."""
    if isinstance(value, Mapping):
        return sum(int(v) for v in value.values())
    return int(value or 0)


def _graph_values(body: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in body.get("data") or []:
        values = item.get("values") or [{}]
        out[str(item.get("name"))] = values[-1].get("value", 0)
    return out


def facebook_metrics(raw: Mapping[str, Any]) -> Metrics:
    activity = raw.get("post_activity_by_action_type")
    act = activity if isinstance(activity, Mapping) else {}
    return Metrics(
        impressions=_total(raw.get("post_media_view")),
        reach=_total(raw.get("post_total_media_view_unique")),
        likes=_total(raw.get("post_reactions_by_type_total")),
        comments=int(act.get("comment", 0)),
        shares=int(act.get("share", 0)),
        clicks=_total(raw.get("post_clicks")),
        raw=dict(raw),
    )


def instagram_metrics(raw: Mapping[str, Any]) -> Metrics:
    return Metrics(
        impressions=_total(raw.get("views")),
        reach=_total(raw.get("reach")),
        likes=_total(raw.get("likes")),
        comments=_total(raw.get("comments")),
        shares=_total(raw.get("shares")),
        saves=_total(raw.get("saved")),
        raw=dict(raw),
    )


def threads_metrics(raw: Mapping[str, Any]) -> Metrics:
    return Metrics(
        impressions=_total(raw.get("views")),
        likes=_total(raw.get("likes")),
        comments=_total(raw.get("replies")),
        shares=_total(raw.get("reposts")) + _total(raw.get("quotes")) + _total(raw.get("shares")),
        raw=dict(raw),
    )


def x_metrics(public: Mapping[str, Any]) -> Metrics:
    return Metrics(
        impressions=int(public.get("impression_count", 0)),
        likes=int(public.get("like_count", 0)),
        comments=int(public.get("reply_count", 0)),
        shares=int(public.get("retweet_count", 0)) + int(public.get("quote_count", 0)),
        saves=int(public.get("bookmark_count", 0)),
        raw=dict(public),
    )


class GraphInsights:
    """Facebook, Instagram and Threads: one ``/{id}/insights`` request per post."""

    per_request = 1

    def __init__(self, client: GraphClientBase) -> None:
        self.client, self.platform = client, client.platform
        self.names, self.parse = {
            "facebook": (FACEBOOK_METRICS, facebook_metrics),
            "instagram": (INSTAGRAM_METRICS, instagram_metrics),
            "threads": (THREADS_METRICS, threads_metrics),
        }[client.platform]

    async def metrics(self, token: str, post_ids: Sequence[str]) -> dict[str, Outcome]:
        out: dict[str, Outcome] = {}
        params = {"metric": ",".join(self.names)}
        for pid in post_ids:
            try:
                resp = await self.client._send(
                    "GET", f"/{pid}/insights", params=params, headers=self.client._auth(token)
                )
                out[pid] = self.parse(_graph_values(resp.json()))
            except PlatformError as e:
                out[pid] = e
                if e.kind in ACCOUNT_WIDE:
                    break
            except (ValueError, TypeError, AttributeError) as e:  # an answer not in the documented shape
                out[pid] = PlatformError(self.platform, ErrorKind.RETRYABLE, f"unreadable insights: {e}")
        return out


class XInsights:
    """X: ``GET /2/tweets`` with up to ``per_request`` ids; stops when the window's requests are used up."""

    platform = "x"

    def __init__(self, client: XClient, per_request: int = 100) -> None:
        self.client, self.per_request = client, max(1, min(per_request, 100))

    async def metrics(self, token: str, post_ids: Sequence[str]) -> dict[str, Outcome]:
        out: dict[str, Outcome] = {}
        ids = list(post_ids)
        for start in range(0, len(ids), self.per_request):
            batch = ids[start : start + self.per_request]
            try:
                resp = await self.client._send(
                    "GET",
                    "/2/tweets",
                    params={"ids": ",".join(batch), "tweet.fields": "public_metrics"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            except PlatformError as e:
                if e.status == 403:  # the token works but may not read posts: a permission was taken back
                    e = PlatformError("x", ErrorKind.PERMISSION_DENIED, e.message, status=403)
                out.update(dict.fromkeys(batch, e))
                if e.kind in ACCOUNT_WIDE or e.kind is ErrorKind.PERMISSION_DENIED:
                    break
                continue
            body = resp.json()
            for item in body.get("data") or []:
                out[str(item["id"])] = x_metrics(item.get("public_metrics") or {})
            for err in body.get("errors") or []:
                pid = str(err.get("resource_id") or err.get("value") or "")
                if pid not in batch:
                    continue
                kind = (
                    ErrorKind.NOT_FOUND
                    if str(err.get("type", "")).endswith("/resource-not-found")
                    else ErrorKind.PERMISSION_DENIED
                )
                out[pid] = PlatformError("x", kind, str(err.get("detail") or err.get("title") or "error"))
            if resp.headers.get("x-rate-limit-remaining") == "0":
                break  # the window is used up: the rest wait for the next one
        return out


def insights_clients(
    clients: Mapping[str, SocialClient], x_per_request: int = 100
) -> dict[str, InsightsClient]:
    """The insights reader of each platform, over the publishing clients of :func:`build_clients`."""
    out: dict[str, InsightsClient] = {}
    for name, c in clients.items():
        if isinstance(c, XClient):
            out[name] = XInsights(c, x_per_request)
        elif isinstance(c, GraphClientBase):
            out[name] = GraphInsights(c)
    return out
