"""Engagement the emulated platforms report: a deterministic, plausible model per post, and the insights
answers in each platform's own shape.

A post's figures are a pure function of the post (platform, id, text, whether it carries an image, its
publish time), its age and the hidden per-topic appeal a test sets (``POST /_admin/appeal``): the same
post at the same age always reports the same numbers, and they only grow with age, along a saturating
curve (``1 - exp(-age / tau)``) whose pace depends on the platform (X fades within hours, Instagram over
a day). What moves the figures, so that a learning loop has something to find:

* the platform (audience size, engagement rate, how fast a post fades);
* the time of day it was published (UTC; each platform has a peak hour, ±3 h wide);
* text length (each platform has a sweet spot; far shorter or longer posts reach fewer people);
* an image (more reach and a higher engagement rate);
* the appeal of what it is about: each keyword registered with a factor multiplies the reach of posts whose
  text contains it (case-insensitive), the engagement rate by its square root;
* a per-post spread (±25 %) from a hash of the post's id, so equal posts still differ a little.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Profile:
    audience: float  # impressions a typical post reaches in the end
    tau_h: float  # hours for the curve to reach 63 % of its end value
    peak_hour: float  # UTC hour of the best posting time
    ideal_len: int  # characters of the best-performing text
    rate: float  # interactions per impression


PROFILES = {
    "facebook": Profile(audience=900, tau_h=10, peak_hour=13, ideal_len=250, rate=0.035),
    "instagram": Profile(audience=1400, tau_h=20, peak_hour=19, ideal_len=400, rate=0.06),
    "threads": Profile(audience=600, tau_h=6, peak_hour=21, ideal_len=200, rate=0.05),
    "x": Profile(audience=1000, tau_h=3, peak_hour=12, ideal_len=120, rate=0.02),
}


@dataclass(frozen=True)
class Figures:
    impressions: int
    reach: int
    likes: int
    comments: int
    shares: int
    saves: int
    clicks: int
    quotes: int


def _units(platform: str, post_id: str) -> list[float]:
    digest = hashlib.sha256(f"{platform}|{post_id}".encode()).digest()
    return [int.from_bytes(digest[i : i + 4], "big") / 2**32 for i in range(0, 16, 4)]


def appeal_of(text: str, appeal: Mapping[str, float]) -> float:
    low = text.lower()
    factor = 1.0
    for keyword, f in appeal.items():
        if keyword.lower() in low:
            factor *= f
    return factor


def figures(
    platform: str,
    post_id: str,
    text: str,
    has_image: bool,
    created_at: float,
    now: float,
    appeal: Mapping[str, float],
) -> Figures:
    """The post's lifetime figures at ``now`` (epoch seconds)."""
    prof = PROFILES[platform]
    u = _units(platform, post_id)
    at = datetime.fromtimestamp(created_at, UTC)
    hour = at.hour + at.minute / 60
    dist = min(abs(hour - prof.peak_hour), 24 - abs(hour - prof.peak_hour))
    time_of_day = 0.5 + math.exp(-(dist**2) / (2 * 3.0**2))
    off = math.log(len(text) + 1) - math.log(prof.ideal_len)
    length = 0.6 + 0.6 * math.exp(-(off**2) / (2 * 0.8**2))
    image = 1.6 if has_image else 1.0
    topic = appeal_of(text, appeal)
    spread = 0.75 + 0.5 * u[0]
    total = prof.audience * time_of_day * length * image * topic * spread
    age_h = max(now - created_at, 0.0) / 3600
    impressions = int(total * (1 - math.exp(-age_h / prof.tau_h)))
    rate = prof.rate * math.sqrt(topic) * (0.8 + 0.4 * u[1]) * (1.2 if has_image else 1.0)
    acts = impressions * rate
    return Figures(
        impressions=impressions,
        reach=int(impressions * (0.7 + 0.15 * u[2])),
        likes=int(acts * 0.55),
        comments=int(acts * 0.12),
        shares=int(acts * 0.10),
        saves=int(acts * 0.08),
        clicks=int(acts * (0.15 + 0.05 * u[3])),
        quotes=int(acts * 0.03),
    )


# ---- the platforms' metric names ----------------------------------------------------------------------

# Facebook Page post insights (lifetime). The ``post_impressions*`` family was retired in favour of the
# media-view metrics; asking for a retired (or unknown) metric fails the whole request, as on the platform.
FACEBOOK_METRICS: dict[str, str] = {
    "post_media_view": "Lifetime Post Media Views",
    "post_total_media_view_unique": "Lifetime Post Total Media Viewers",
    "post_reactions_by_type_total": "Lifetime Total post Reactions by Type.",
    "post_clicks": "Lifetime Post Clicks",
    "post_activity_by_action_type": "Lifetime Post Stories by action type",
}
INSTAGRAM_METRICS: dict[str, str] = {
    "views": "Views",
    "reach": "Accounts reached",
    "likes": "Likes",
    "comments": "Comments",
    "shares": "Shares",
    "saved": "Saves",
    "total_interactions": "Interactions",
}
THREADS_METRICS: dict[str, str] = {
    "views": "Views",
    "likes": "Likes",
    "replies": "Replies",
    "reposts": "Reposts",
    "quotes": "Quotes",
    "shares": "Shares",
}
METRICS = {"facebook": FACEBOOK_METRICS, "instagram": INSTAGRAM_METRICS, "threads": THREADS_METRICS}


def metric_value(platform: str, name: str, f: Figures) -> Any:
    if platform == "facebook":
        love, wow = int(f.likes * 0.15), int(f.likes * 0.05)
        return {
            "post_media_view": f.impressions,
            "post_total_media_view_unique": f.reach,
            "post_reactions_by_type_total": {"like": f.likes - love - wow, "love": love, "wow": wow},
            "post_clicks": f.clicks,
            "post_activity_by_action_type": {"like": f.likes, "comment": f.comments, "share": f.shares},
        }[name]
    if platform == "instagram":
        return {
            "views": f.impressions,
            "reach": f.reach,
            "likes": f.likes,
            "comments": f.comments,
            "shares": f.shares,
            "saved": f.saves,
            "total_interactions": f.likes + f.comments + f.shares + f.saves,
        }[name]
    return {
        "views": f.impressions,
        "likes": f.likes,
        "replies": f.comments,
        "reposts": f.shares,
        "quotes": f.quotes,
        "shares": f.saves,  # Threads' "shares" are sends to others: the model's private kind of keeping
    }[name]


def graph_insights(platform: str, obj_id: str, names: list[str], f: Figures) -> list[dict[str, Any]]:
    """The ``data`` array of ``GET /{object}/insights`` (lifetime period, one value per metric)."""
    titles = METRICS[platform]
    return [
        {
            "name": n,
            "period": "lifetime",
            "values": [{"value": metric_value(platform, n, f)}],
            "title": titles[n],
            "description": f"{titles[n]} of this post.",
            "id": f"{obj_id}/insights/{n}/lifetime",
        }
        for n in names
    ]


def x_public_metrics(f: Figures) -> dict[str, int]:
    return {
        "retweet_count": f.shares,
        "reply_count": f.comments,
        "like_count": f.likes,
        "quote_count": f.quotes,
        "bookmark_count": f.saves,
        "impression_count": f.impressions,
    }
