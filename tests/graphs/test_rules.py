"""The graph's model-free rules and its structured answers' models: what a valid answer is (the limits
the schema cannot carry), the rule-based values that stand in for an invalid one, SEO limits, slugs, the
English-only guard, the Markdown."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from graphs.article.nodes import (
    derived_plan,
    derived_prompts,
    derived_seo,
    english_only,
    rubric_scores,
    seo_from,
    slugify,
)
from graphs.article.outputs import (
    ImagePrompts,
    SeoFields,
    editor_scores_model,
    merge_plan_model,
    scores_of,
)
from graphs.article.prompts import EDITOR_CRITERIA, IMAGE_PROMPTS, SEO_META_MAX, SEO_TITLE_MAX
from graphs.article.state import ArticleState, ResearchNote
from icop.articles.layout import render_markdown

LONG_KO = "# 서울의 카페 문화\n\n" + "서울에는 카페가 아주 많고 사람들은 그곳에서 일하고 만납니다. " * 12


def test_seo_derived_within_limits_when_no_valid_answer_came() -> None:
    seo = derived_seo("서울의 카페 문화", LONG_KO)
    assert seo["title"] == "서울의 카페 문화"
    assert len(seo["meta_description"]) <= SEO_META_MAX and seo["meta_description"].endswith("…")
    assert seo["slug"] == "서울의-카페-문화"
    assert seo["keywords"] and all(h.startswith("#") and " " not in h for h in seo["hashtags"])


def test_seo_answer_validated_then_normalised() -> None:
    answer = {
        "title": "Cold Brew at Home",
        "meta_description": "Steep coarse coffee in cold water for a smooth cup.",
        "slug": "Cold Brew: at Home!",
        "keywords": ["cold brew", " coffee ", "cold brew"],
        "hashtags": ["cold brew", "#coffee"],
    }
    seo = seo_from(SeoFields.model_validate(answer), "cold brew")
    assert seo["title"] == "Cold Brew at Home" and seo["slug"] == "cold-brew-at-home"
    assert seo["keywords"] == ["cold brew", "coffee"]
    assert seo["hashtags"] == ["#coldbrew", "#coffee"]
    # the limits the schema cannot carry are checked on the answer: a broken one is refused, not clipped
    for field, value in (("title", "x" * (SEO_TITLE_MAX + 1)), ("meta_description", "y " * SEO_META_MAX)):
        with pytest.raises(ValidationError, match=f"{field}\n  String should have at most"):
            SeoFields.model_validate({**answer, field: value})
    with pytest.raises(ValidationError, match="keywords"):
        SeoFields.model_validate({**answer, "keywords": [" ", ""]})
    with pytest.raises(ValidationError, match="Extra inputs"):
        SeoFields.model_validate({**answer, "extra": 1})


def test_slugify() -> None:
    assert slugify("  Hello, World — 2026!  ") == "hello-world-2026"


def test_editor_scores_cover_every_draft_and_criterion_within_range() -> None:
    model = editor_scores_model(("gpt", "claude"))
    assert model is editor_scores_model(("gpt", "claude"))  # made once per set of writers
    good = {
        w: {**{c: 7 for c in EDITOR_CRITERIA}, "reason": "Clear,\n  well sourced."} for w in ("gpt", "claude")
    }
    scores, reasons = scores_of(model.model_validate_json(json.dumps(good)))
    assert scores["gpt"] == {**{c: 7.0 for c in EDITOR_CRITERIA}, "total": 7.0}
    assert reasons == {"gpt": "Clear, well sourced.", "claude": "Clear, well sourced."}  # one line
    with pytest.raises(ValidationError, match="claude\n  Field required"):
        model.model_validate({"gpt": good["gpt"]})
    with pytest.raises(ValidationError, match="gpt.relevance\n  Input should be less than or equal to 10"):
        model.model_validate({**good, "gpt": {**good["gpt"], "relevance": 11}})
    with pytest.raises(ValidationError, match="gpt.reason"):
        model.model_validate({**good, "gpt": {**good["gpt"], "reason": "  "}})


def test_rubric_scores_from_the_text() -> None:
    drafts = {"gpt": "# Coffee\n\nCold brew coffee is smooth.\n\nIt steeps for hours.", "claude": "서울 카페"}
    notes: list[ResearchNote] = [
        {"claim": "Cold brew steeps for hours", "source_url": "u", "source_title": "t"}
    ]
    r = rubric_scores("cold brew coffee", "en", notes, drafts)
    assert set(r["gpt"]) == {*EDITOR_CRITERIA, "total"}
    assert r["gpt"]["total"] > r["claude"]["total"]


def test_merge_plan_names_only_the_drafts_given() -> None:
    model = merge_plan_model(("gpt", "gemini"))
    section = {"heading": "Why", "covers": "The reasons.", "takes_from": ["gpt", "gpt", "gemini"]}
    plan = model.model_validate({"title": "T", "sections": [section, {**section, "heading": "How"}]})
    assert plan.model_dump()["sections"][0]["takes_from"] == ["gpt", "gemini"]  # repeats dropped
    with pytest.raises(ValidationError, match="takes_from.0\n  Input should be 'gpt' or 'gemini'"):
        model.model_validate({"title": "T", "sections": [{**section, "takes_from": ["claude"]}] * 2})
    with pytest.raises(ValidationError, match="sections\n  List should have at least 2 items"):
        model.model_validate({"title": "T", "sections": [section]})
    with pytest.raises(ValidationError, match="takes_from"):
        model.model_validate({"title": "T", "sections": [{**section, "takes_from": []}] * 2})


def test_derived_plan_follows_the_drafts_headings() -> None:
    drafts = {
        "gpt": "# Solar\n\n## Costs\n\nA.\n\n## Savings\n\nB.",
        "claude": "# Solar panels\n\n## costs\n\nC.\n\n## Upkeep\n\nD.",
    }
    plan = derived_plan("solar", drafts)
    assert plan["title"] == "Solar"
    assert [(s["heading"], s["takes_from"]) for s in plan["sections"]] == [
        ("Costs", ["gpt", "claude"]),
        ("Savings", ["gpt"]),
        ("Upkeep", ["claude"]),
    ]
    merge_plan_model(("gpt", "claude")).model_validate(plan)  # what stands in is a valid plan too
    bare = derived_plan("solar", {"gpt": "# A\n\ntext", "claude": "no heading"})
    assert [s["takes_from"] for s in bare["sections"]] == [["gpt"], ["claude"]]


def test_image_prompts_exactly_as_many_as_the_images() -> None:
    three = ["A rooftop garden at dawn", "Hands planting basil", "A city balcony with herbs"]
    assert ImagePrompts.model_validate({"prompts": three}).prompts == three
    for wrong in (three[:2], [*three, "one more"], [*three[:2], " "]):
        with pytest.raises(ValidationError, match="prompts"):
            ImagePrompts.model_validate({"prompts": wrong})
    derived = derived_prompts("urban gardening", "# Gardens\n\n## Soil\n\nx\n\n## Light\n\ny")
    assert len(derived) == IMAGE_PROMPTS and "Soil" in derived[0] and "Light" in derived[1]
    ImagePrompts.model_validate({"prompts": derived})


def test_english_only_drops_untranslated_fragments() -> None:
    assert english_only("Case study: 서울 cafes in practice", 0) == "Case study: cafes in practice"
    fallback = english_only("서울 카페", 1, "coffee")
    assert fallback.isascii() and "scene 2" in fallback


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


def test_untranslated_prompts_are_guarded() -> None:
    originals = ["서울 골목의 작은 카페", "라떼를 만드는 바리스타"]
    fallback = [english_only(p, i, "seoul cafe") for i, p in enumerate(originals)]
    assert fallback == ["Editorial photograph for an article on seoul cafe, scene 1",
                        "Editorial photograph for an article on seoul cafe, scene 2"]  # fmt: skip


def test_a_merge_of_one_draft_asks_for_that_writer_as_a_one_value_enum() -> None:
    """A one-value Literal (pydantic writes ``const``) is sent as ``enum``, which every vendor accepts."""
    from graphs.article.outputs import merge_plan_model
    from icop.connectors.structured import output_schema

    schema = output_schema(merge_plan_model(("gpt",))).schema
    item = schema["properties"]["sections"]["items"]["properties"]["takes_from"]["items"]
    assert item.get("enum") == ["gpt"] and "const" not in item
