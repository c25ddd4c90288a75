"""Platform text: limits, X weighted counting, word and grapheme safety, link cost."""

from __future__ import annotations

from decimal import Decimal

import pytest

from icop.settings import Settings
from icop.social.limits import Platform, limits_for
from icop.social.text import (
    ELLIPSIS,
    ArticleText,
    count_hashtags,
    fit_text,
    graphemes,
    is_within,
    link_cost,
    post_cost,
    render,
    x_weighted_length,
)

S = Settings()
KOREAN = ArticleText(
    title="서울의 가을 축제 완벽 가이드: 한강부터 경복궁까지 꼭 가봐야 할 명소 총정리",
    summary=" ".join(
        [
            "올해 서울에서 열리는 가을 축제를 한눈에 정리했습니다.",
            "한강 불꽃축제와 경복궁 야간 개장,그리고 남산 단풍길까지 일정과 교통편을 함께 소개합니다.",
        ]
        * 5
    ),
    url="https://example.com/articles/seoul-autumn-festival-guide-2026?utm_source=x",
    hashtags=["서울여행", "가을축제", "#한강", "경복궁"],
    language="ko",
)


def _words(text: str) -> set[str]:
    return set(text.replace(ELLIPSIS, " ").split())


def test_x_weighted_length_follows_x_rules() -> None:
    assert x_weighted_length("a" * 10) == 10
    assert x_weighted_length("한국어") == 6  # Hangul weighs 2
    assert x_weighted_length("日本語") == 6
    assert x_weighted_length("see https://example.com/a/very/long/path/that/is/long") == 4 + 23
    assert x_weighted_length("👩‍👩‍👧‍👦") == 2  # one emoji sequence


def test_korean_article_x_text_is_within_280_weighted_and_cut_at_spaces() -> None:
    lim = limits_for("x", S)
    r = render(KOREAN, lim)
    assert r.length <= 280 and x_weighted_length(r.text) == r.length
    assert r.truncated and ELLIPSIS in r.text
    assert KOREAN.url is not None
    assert KOREAN.url in r.text and r.url_in_text  # the link is kept whole
    source_words = _words(KOREAN.title + " " + KOREAN.summary + " " + KOREAN.url) | {
        "#서울여행",
        "#가을축제",
        "#한강",
        "#경복궁",
    }
    assert _words(r.text) <= source_words, _words(r.text) - source_words  # no word was cut
    assert r.cost_usd == Decimal("0.2")


def test_link_moved_out_of_x_text_is_cheaper() -> None:
    lim = limits_for("x", S)
    with_link, without = render(KOREAN, lim, link_in_text=True), render(KOREAN, lim, link_in_text=False)
    assert "https://" not in without.text and without.length <= 280
    assert with_link.cost_usd == Decimal(str(S.social_x_cost_create_with_url_usd))
    assert without.cost_usd == Decimal(str(S.social_x_cost_create_usd))
    assert link_cost(lim) == Decimal("0.185")
    assert post_cost("plain", limits_for("facebook", S)) == 0


def test_prices_and_limits_come_from_settings_and_account_overrides() -> None:
    s = S.model_copy(update={"social_x_cost_create_with_url_usd": 0.5, "social_threads_max_chars": 100})
    assert render(KOREAN, limits_for("x", s)).cost_usd == Decimal("0.5")
    assert render(KOREAN, limits_for("threads", s)).length <= 100
    lim = limits_for("threads", s, {"max_chars": 60})
    assert render(KOREAN, lim).length <= 60
    with pytest.raises(ValueError):
        limits_for("x", S, {"no_such_limit": 1})


@pytest.mark.parametrize("platform,limit", [("threads", 500), ("instagram", 2200), ("facebook", 63206)])
def test_meta_platform_limits(platform: Platform, limit: int) -> None:
    long = ArticleText(
        title="Autumn in Seoul",
        body="word " * 20_000,
        url="https://example.com/a",
        hashtags=[f"tag{i}" for i in range(40)],
    )
    r = render(long, limits_for(platform, S))
    assert len(r.text) <= limit and is_within(r.text, limits_for(platform, S))
    if platform == "instagram":
        assert count_hashtags(r.text) <= 30 and "https://" not in r.text
    if platform == "threads":
        assert "https://example.com/a" in r.text
    if platform == "facebook":
        assert r.link == "https://example.com/a"


def test_instagram_hashtags_in_body_count_toward_30() -> None:
    body = " ".join(f"#b{i}" for i in range(25))
    r = render(
        ArticleText(title="x", body=body, hashtags=[f"t{i}" for i in range(20)]), limits_for("instagram", S)
    )
    assert count_hashtags(r.text) == 30


def test_never_cuts_inside_a_grapheme_cluster() -> None:
    family = "👩‍👩‍👧‍👦"
    accented = "e\u0301"  # e + combining acute
    text = (family + accented) * 200  # one "word" longer than any limit
    out, cut = fit_text(text, lambda c: x_weighted_length(c) <= 50)
    assert cut and out.endswith(ELLIPSIS)
    body = out[: -len(ELLIPSIS)]
    assert "".join(graphemes(body)) == body
    assert all(g in (family, accented) for g in graphemes(body))


def test_japanese_without_spaces_cuts_after_punctuation() -> None:
    ja = ArticleText(
        title="東京の秋", summary="今年の秋祭りをまとめました。紅葉の名所も紹介します。" * 20, language="ja"
    )
    r = render(ja, limits_for("x", S))
    assert r.length <= 280 and r.text.endswith("。" + ELLIPSIS)


def test_fit_text_measures_a_long_article_in_short_pieces() -> None:
    """Fitting a long body to an X post never measures more than a few candidates of post length, and
    finds the same cut as trying every cut point would."""
    from icop.social.text import ELLIPSIS, fit_text, x_weighted_length

    body = " ".join(f"word{i} 한국어 문장" for i in range(800))
    measured: list[int] = []

    def fits(candidate: str) -> bool:
        measured.append(len(candidate))
        return x_weighted_length(candidate) <= 280

    text, cut = fit_text(body, fits, "ko")
    assert cut and text.endswith(ELLIPSIS) and x_weighted_length(text) <= 280
    longer = body[: len(text) - 1 + body[len(text) - 1 :].index(" ", 1)] + ELLIPSIS
    assert x_weighted_length(longer) > 280  # the next word would not fit
    assert sum(measured) < 6 * len(body) // 10 and measured.count(len(body)) == 0
    short = "A short post that fits."
    assert fit_text(short, lambda c: x_weighted_length(c) <= 280) == (short, False)


def test_no_emoji_ranges_hold_no_emoji() -> None:
    """The shortcut in ``icop.social.text`` skips twitter-text's emoji scan for texts made only of these
    code points: its regex must not match any of them, alone, before a variation selector, or inside a
    word (a twitter-text update that adds an emoji there breaks this test, not X's counts)."""
    from twitter_text.regexp.emoji import emoji

    from icop.social.text import NO_EMOJI_RANGES

    found = [
        hex(cp)
        for a, b in NO_EMOJI_RANGES
        for cp in range(a, b + 1)
        if emoji.search(chr(cp)) or emoji.search(chr(cp) + "\ufe0f") or emoji.search(f"x{chr(cp)}x")
    ]
    assert found == []


@pytest.mark.parametrize(
    "text",
    [
        "Sourdough bread, step by step. " * 12,
        "사워도우 빵 굽기: 처음부터 끝까지 " * 12,
        "Kimchi © 2026 — 김치 담그기 ® " * 8,
        "Ramen 🍜 tonight 👨‍🍳 and 1️⃣ more " * 8,
        "日本語のテキストと English mixed ‼ https://example.com/a/very/long/path " * 4,
    ],
)
def test_x_weighted_length_matches_twitter_text_with_its_full_emoji_scan(text: str) -> None:
    import sys

    from twitter_text import parse_tweet
    from twitter_text.config import config
    from twitter_text.extract_emojis import extract_emojis_with_indices

    names = vars(sys.modules["twitter_text.parse_tweet"])
    fast = x_weighted_length(text)
    shortcut = names["extract_emojis_with_indices"]
    names["extract_emojis_with_indices"] = extract_emojis_with_indices
    try:
        full = parse_tweet(text, dict(config["defaults"]) | {"transformed_url_length": 23}).weightedLength
    finally:
        names["extract_emojis_with_indices"] = shortcut
    assert fast == full


def test_hashtags_give_way_before_the_title_is_cut() -> None:
    """A Threads post carries its link in the text: a long (pre-signed) link and a long hashtag leave little
    room, and the hashtag goes before the title is cut."""
    url = "http://127.0.0.1:31061/icop-media/tenants/t/articles/a.md?X-Amz-Signature=" + "f" * 340
    tag = "Smallrepeatedimprovementsbeatonelargeoverhaulandheadingshowswheretheeffortpays"
    article = ArticleText(title="Edited cold brew df5cac", body="Approved summary. " * 20, url=url,
                          hashtags=[tag])  # fmt: skip
    r = render(article, limits_for("threads", S), marker="ref:byg3tm7nqq")
    assert r.text.startswith("Edited cold brew df5cac") and url in r.text and r.hashtags == ()
    assert len(r.text) <= 500
    roomy = render(ArticleText(title="Edited cold brew df5cac", body="Short.", hashtags=[tag]),
                   limits_for("threads", S))  # fmt: skip
    assert roomy.hashtags == (f"#{tag}",)  # with room, the hashtag stays
