"""The graph's model-free rules: SEO limits, slugs, the English-only guard, scores, the Markdown."""

from __future__ import annotations

from graphs.article.nodes import (
    editor_scores,
    english_only,
    finalize_seo,
    parse_items,
    rubric_scores,
    slugify,
    translated_items,
)
from graphs.article.prompts import EDITOR_CRITERIA, SEO_META_MAX, parse_json_object
from graphs.article.state import ArticleState, ResearchNote
from icop.articles.layout import render_markdown

LONG_KO = "# 서울의 카페 문화\n\n" + "서울에는 카페가 아주 많고 사람들은 그곳에서 일하고 만납니다. " * 12


def test_seo_derived_within_limits_when_the_agent_answer_is_not_json() -> None:
    seo = finalize_seo("서울의 카페 문화", LONG_KO, "not json at all")
    assert seo["title"] == "서울의 카페 문화"
    assert len(seo["meta_description"]) <= SEO_META_MAX and seo["meta_description"].endswith("…")
    assert seo["slug"] == "서울의-카페-문화"
    assert seo["keywords"] and all(h.startswith("#") and " " not in h for h in seo["hashtags"])


def test_seo_agent_json_used_but_limits_enforced() -> None:
    reply = (
        'Here you go: {"title": "Cold Brew at Home", "meta_description": "' + "x " * 120 + '", '
        '"slug": "Cold Brew: at Home!", "keywords": ["cold brew", "coffee"], '
        '"hashtags": ["cold brew", "#coffee"]}'
    )
    seo = finalize_seo("cold brew", "# T\n\nbody", reply)
    assert seo["title"] == "Cold Brew at Home"
    assert len(seo["meta_description"]) <= SEO_META_MAX
    assert seo["slug"] == "cold-brew-at-home"
    assert seo["keywords"] == ["cold brew", "coffee"]
    assert seo["hashtags"] == ["#coldbrew", "#coffee"]


def test_slugify_and_json_extraction() -> None:
    assert slugify("  Hello, World — 2026!  ") == "hello-world-2026"
    assert parse_json_object('```json\n{"a": {"b": 1}}\n```') == {"a": {"b": 1}}
    assert parse_json_object("no object") is None


def test_english_only_drops_untranslated_fragments() -> None:
    assert english_only("Case study: 서울 cafes in practice", 0) == "Case study: cafes in practice"
    fallback = english_only("서울 카페", 1, "coffee")
    assert fallback.isascii() and "scene 2" in fallback


def test_parse_items_numbered_and_plain() -> None:
    assert parse_items("[offline] 3 candidates\n1. a b\n2) c d\n3. e f\n4. g", 3) == ["a b", "c d", "e f"]
    assert parse_items("one\ntwo", 3) == ["one", "two"]


def test_scores_from_editor_json_or_rubric() -> None:
    writers = ["gpt", "claude"]
    good = {"scores": {w: {c: 7 for c in EDITOR_CRITERIA} for w in writers}, "best": "gpt"}
    import json

    parsed = editor_scores(json.dumps(good), writers)
    assert parsed is not None and parsed["gpt"]["total"] == 7.0
    assert editor_scores('{"scores": {"gpt": {"relevance": 3}}}', writers) is None
    drafts = {"gpt": "# Coffee\n\nCold brew coffee is smooth.\n\nIt steeps for hours.", "claude": "서울 카페"}
    notes: list[ResearchNote] = [
        {"claim": "Cold brew steeps for hours", "source_url": "u", "source_title": "t"}
    ]
    r = rubric_scores("cold brew coffee", "en", notes, drafts)
    assert set(r["gpt"]) == {*EDITOR_CRITERIA, "total"}
    assert r["gpt"]["total"] > r["claude"]["total"]


def test_markdown_front_matter_and_every_image() -> None:
    state = ArticleState(
        language="en",
        mode="compare",
        article="# Title\n\nP1.\n\nP2.\n\nP3.",
        seo={
            "title": 'A "quoted" title',
            "meta_description": "m",
            "slug": "s",
            "keywords": ["k"],
            "hashtags": ["#k"],
        },
        image_urls=["https://i/1.jpg", "https://i/2.jpg", "https://i/3.jpg"],
        image_prompts=["one [x]", "two", "three"],
        drafts=[],
        research=[{"claim": "c", "source_url": "https://src/1", "source_title": "t"}],
    )
    md = render_markdown(state)
    front, body = md.split("\n---\n", 1)
    assert front.startswith('---\ntitle: "A \\"quoted\\" title"')
    assert 'sources: ["https://src/1"]' in front
    assert body.lstrip().startswith("# Title")
    for url in state["image_urls"]:
        assert body.count(f"]({url})") == 1
    assert "![one (x)](https://i/1.jpg)" in body


def test_a_translation_is_used_only_when_it_is_one() -> None:
    originals = ["서울 골목의 작은 카페", "라떼를 만드는 바리스타"]
    answer = "1. A small cafe in a Seoul alley\n2. A barista making a latte"
    assert translated_items(answer, originals) == [
        "A small cafe in a Seoul alley",
        "A barista making a latte",
    ]
    # an offline provider cannot translate: its placeholder never becomes an image prompt
    assert translated_items("[offline] Translate these 2 image prompts", originals) == originals
    assert translated_items("1. A small cafe in a Seoul alley", originals) == originals  # one item missing
    fallback = [english_only(p, i, "seoul cafe") for i, p in enumerate(originals)]
    assert fallback == ["Editorial photograph for an article on seoul cafe, scene 1",
                        "Editorial photograph for an article on seoul cafe, scene 2"]  # fmt: skip
