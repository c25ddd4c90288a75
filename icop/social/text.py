"""Post text for each platform, from an article: within each platform's limit, never cut inside a
word or a grapheme cluster.

* X: weighted length counted by ``twitter-text-parser`` (X's own counting rules: URLs as 23,
  CJK/Hangul and emoji as 2), the link optionally moved out of the text because X bills a post
  with a URL at a much higher price (see :func:`post_cost`).
* Threads: 500 characters, link in the text.
* Instagram: 2,200 characters, at most 30 hashtags (those in the body count too), no link (links
  are not clickable in captions).
* Facebook: long limit; the link travels as the ``link`` field so the Page shows a preview.

A post that is sent carries its reference, ``ref:`` and ten characters derived from the post's
idempotency key, as its last line (:func:`post_marker`): the publisher looks an ambiguous send up on the
platform by it, so two articles with the same text on one account are told apart, and X does not refuse
the second as duplicate content.

Text is cut at a space (Korean, English, …); for scripts written without spaces (Chinese,
Japanese, Thai) after punctuation or, failing that, at a grapheme-cluster boundary (``regex``'s
``\\X``). A single word longer than the whole budget is the one case cut between graphemes.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

import regex

from .limits import Platform, PlatformLimits

with warnings.catch_warnings():  # twitter-text-parser imports pkg_resources (needs setuptools<81)
    warnings.simplefilter("ignore")
    from twitter_text import extract_urls, parse_tweet
    from twitter_text.config import config as _tt_config
    from twitter_text.extract_emojis import extract_emojis_with_indices as _tt_emojis

# twitter-text scans every text for emoji with one huge regex, the largest cost of fitting an X post (a
# long article is measured at each step of the binary search in ``fit_text``). That regex cannot match a
# text made only of the code points of ``NO_EMOJI_RANGES`` (ASCII to U+203B but © and ®, Hangul, kana, CJK
# ideographs; a test checks every one of them), so such a text skips the scan.
NO_EMOJI_RANGES = (
    (0x00, 0xA8), (0xAA, 0xAD), (0xAF, 0x203B),  # all below U+203C but © and ®
    (0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF),  # Hangul jamo, compatibility jamo, syllables
    (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),  # kana, CJK ideographs
)  # fmt: skip
_MAYBE_EMOJI = regex.compile("[^" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in NO_EMOJI_RANGES) + "]")


def _emojis(text: str) -> list[dict[str, object]]:
    return _tt_emojis(text) if _MAYBE_EMOJI.search(text) else []


# The module, not ``twitter_text.parse_tweet`` (the package re-exports the function under that name).
vars(sys.modules["twitter_text.parse_tweet"])["extract_emojis_with_indices"] = _emojis

ELLIPSIS = "…"
MARKER_PREFIX = "ref:"
_NO_SPACE_LANGS = {"zh", "ja", "th", "lo", "km", "my"}
_SOFT_BREAK_AFTER = set("。、，．！？；：,.!?;:)」』）")
_HASHTAG_RE = regex.compile(r"(?<![\w#])#[\p{L}\p{M}\p{N}_]+")
_GRAPHEME_RE = regex.compile(r"\X")


@dataclass(frozen=True)
class ArticleText:
    """What a post is made from."""

    title: str
    summary: str = ""
    body: str = ""
    url: str | None = None
    hashtags: Sequence[str] = ()
    language: str = "en"


@dataclass(frozen=True)
class RenderedPost:
    """The exact text a platform will receive, and what it costs."""

    platform: Platform
    text: str
    length: int
    """In the platform's unit: weighted characters on X, code points elsewhere."""
    link: str | None = None
    """A link sent beside the text (Facebook's ``link`` field); None when it is in the text or dropped."""
    url_in_text: bool = False
    hashtags: tuple[str, ...] = field(default_factory=tuple)
    truncated: bool = False
    cost_usd: Decimal = Decimal("0")


def graphemes(text: str) -> list[str]:
    """Extended grapheme clusters (what a reader sees as one character)."""
    return list(_GRAPHEME_RE.findall(text))


def x_weighted_length(text: str, url_weight: int = 23) -> int:
    """X's weighted length of ``text``, counted by X's own rules (twitter-text)."""
    opts = dict(_tt_config["defaults"])
    opts["transformed_url_length"] = url_weight
    return int(parse_tweet(text, opts).weightedLength)


def has_url(text: str) -> bool:
    return bool(extract_urls(text))


def meta_length(text: str) -> int:
    """Character count for Meta platforms (code points, NFC)."""
    return len(unicodedata.normalize("NFC", text))


def normalize_hashtag(tag: str) -> str | None:
    core = "".join(regex.findall(r"[\p{L}\p{M}\p{N}_]+", tag.lstrip("#")))
    return f"#{core}" if core else None


def count_hashtags(text: str) -> int:
    return len(_HASHTAG_RE.findall(text))


def _cut_points(text: str, language: str) -> list[int]:
    """String offsets where ``text`` may be cut, in increasing order (never inside a grapheme)."""
    clusters = graphemes(text)
    offsets, pos = [], 0
    for g in clusters:
        offsets.append(pos)
        pos += len(g)
    offsets.append(pos)
    words = [
        offsets[i] for i, g in enumerate(clusters) if i > 0 and g.isspace() and not clusters[i - 1].isspace()
    ]
    if language.split("-")[0].lower() in _NO_SPACE_LANGS:
        soft = [offsets[i + 1] for i, g in enumerate(clusters) if g in _SOFT_BREAK_AFTER]
        points = sorted(set(words) | set(soft))
        return points or offsets[1:]
    return words


def fit_text(text: str, fits: Callable[[str], bool], language: str = "en") -> tuple[str, bool]:
    """The longest version of ``text`` for which ``fits(candidate)`` holds, and whether it was cut.

    A cut version ends with an ellipsis. Cuts happen at word boundaries (or punctuation/grapheme
    boundaries for scripts without spaces); only a first word longer than the budget is cut
    between graphemes. Returns ``("", True)`` when nothing fits.
    """
    text = text.strip()

    def candidate(end: int) -> str:
        return text[:end].rstrip() + ELLIPSIS

    whole: bool | None = None  # whether the uncut text fits (asked once, only if a long prefix does)
    for points in (_cut_points(text, language), _grapheme_offsets(text)[1:-1]):
        points = [p for p in points if 0 < p < len(text)]
        # Lengths grow with the prefix. Gallop from the start to the first cut that does not fit, then
        # binary search below it: each probe costs its own length, so a long article measured against a
        # 280-character post is never measured whole more than once (X's counter is slow on long text).
        best, step, hi = -1, 1, len(points)
        while best + step < len(points):
            if fits(candidate(points[best + step])):
                best, step = best + step, step * 2
            else:
                hi = best + step
                break
        # The whole text is asked about when every cut fits, or when the first that does not leaves a few
        # characters out (its ellipsis may weigh more than they do).
        if hi == len(points) or len(text) - points[hi] <= 4:
            if whole is None:
                whole = fits(text)
            if whole:
                return text, False
        lo, hi = best + 1, hi - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            if fits(candidate(points[mid])):
                best, lo = mid, mid + 1
            else:
                hi = mid - 1
        if best >= 0:
            return candidate(points[best]), True
    if whole is None and fits(text):
        return text, False
    return "", True


def _grapheme_offsets(text: str) -> list[int]:
    out, pos = [0], 0
    for g in graphemes(text):
        pos += len(g)
        out.append(pos)
    return out


def _join(*parts: str, sep: str = "\n\n") -> str:
    return sep.join(p for p in (x.strip() for x in parts) if p)


def _tags(article: ArticleText, budget: int | None) -> list[str]:
    seen: list[str] = []
    for t in article.hashtags:
        n = normalize_hashtag(t)
        if n and n.lower() not in {s.lower() for s in seen}:
            seen.append(n)
    return seen if budget is None else seen[: max(budget, 0)]


def post_marker(idempotency_key: str) -> str:
    """The reference a post carries (``ref:`` and 10 base32 characters: 50 bits, unique per account in
    practice), derived from its idempotency key and nothing readers could use."""
    digest = hashlib.sha256(idempotency_key.encode()).digest()
    return MARKER_PREFIX + base64.b32encode(digest).decode()[:10].lower()


def render(
    article: ArticleText,
    limits: PlatformLimits,
    *,
    link_in_text: bool | None = None,
    marker: str | None = None,
) -> RenderedPost:
    """The text for one platform within its limits (see the module docstring for each platform's rules);
    ``marker`` (:func:`post_marker`) ends it, and is never cut."""
    p = limits.platform
    body = _join(article.title, article.summary or article.body)
    measure: Callable[[str], int]
    if p == "x":
        in_text = limits.link_in_text if link_in_text is None else link_in_text
        url = article.url if (in_text and article.url) else None

        def measure_x(t: str) -> int:
            return x_weighted_length(t, limits.url_weight)

        measure = measure_x
    elif p == "instagram":
        url = None  # not clickable in captions
        measure = meta_length
    elif p == "threads":
        url = article.url
        measure = meta_length
    else:  # facebook: the link goes in the `link` field
        url = None
        measure = meta_length

    tag_budget = None
    if limits.max_hashtags is not None:
        tag_budget = limits.max_hashtags - count_hashtags(body)
    tags = _tags(article, tag_budget)
    title = article.title.strip()
    while True:
        tail = _join(url or "", " ".join(tags), marker or "", sep="\n\n" if p != "x" else "\n")

        def fits(candidate: str, tail: str = tail) -> bool:
            return measure(_join(candidate, tail)) <= limits.max_chars

        text, cut = fit_text(body, fits, article.language)
        # Hashtags give way before the title does: drop them until the whole title fits (a long link, as
        # Threads carries, can leave room for little more).
        if text.startswith(title) or not tags:
            break
        tags = tags[:-1]
    if not text and not fits(""):
        # Even the link alone does not fit (absurdly small limit): drop it rather than cut a URL.
        url, tags = None, []
        tail = marker or ""
        text, cut = fit_text(body, lambda c: measure(_join(c, tail)) <= limits.max_chars, article.language)
    final = _join(text, tail)
    if limits.max_hashtags is not None and count_hashtags(final) > limits.max_hashtags:
        raise ValueError(f"the article body alone has more than {limits.max_hashtags} hashtags")
    rendered = RenderedPost(
        platform=p,
        text=final,
        length=measure(final),
        link=article.url if p == "facebook" else None,
        url_in_text=url is not None and url in final,
        hashtags=tuple(tags),
        truncated=cut,
    )
    return _with_cost(rendered, limits)


def post_cost(text: str, limits: PlatformLimits) -> Decimal:
    """What sending ``text`` costs on the platform (X pay-per-use; zero elsewhere)."""
    if limits.platform != "x":
        return Decimal("0")
    price = limits.cost_create_with_url_usd if has_url(text) else limits.cost_create_usd
    return Decimal(str(price))


def link_cost(limits: PlatformLimits) -> Decimal:
    """The extra cost of keeping the link in the post text (X only), to show before posting."""
    if limits.platform != "x":
        return Decimal("0")
    return Decimal(str(limits.cost_create_with_url_usd)) - Decimal(str(limits.cost_create_usd))


def _with_cost(r: RenderedPost, limits: PlatformLimits) -> RenderedPost:
    return replace(r, cost_usd=post_cost(r.text, limits))


def is_within(text: str, limits: PlatformLimits) -> bool:
    """Whether ``text`` is within the platform's length (and hashtag) limits."""
    if limits.platform == "x":
        return x_weighted_length(text, limits.url_weight) <= limits.max_chars
    ok = meta_length(text) <= limits.max_chars
    if limits.max_hashtags is not None:
        ok = ok and count_hashtags(text) <= limits.max_hashtags
    return ok


_WS = re.compile(r"\s+")


def normalize_for_match(text: str) -> str:
    """Text as compared when reconciling (platforms may fold whitespace and normalise Unicode)."""
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()
