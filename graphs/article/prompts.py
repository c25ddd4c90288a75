"""The agents' roles and the prompts the nodes give them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LANGUAGE_NAMES = {"en": "English", "ko": "Korean (한국어)", "ja": "Japanese", "es": "Spanish", "de": "German"}

EDITOR_CRITERIA: dict[str, str] = {
    "relevance": "stays on the topic and answers what a reader of that topic wants to know",
    "grounding": "uses the research notes; claims are backed by the given sources",
    "structure": "a title, an introduction, clear sections and a conclusion",
    "readability": "plain, concrete sentences of a length a general reader follows",
    "language": "written entirely in the requested language",
}

SEO_META_MAX = 155  # characters: the common search-result snippet limit
SEO_TITLE_MAX = 60
IMAGE_PROMPTS = 3


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


@dataclass(frozen=True)
class Role:
    key: str
    role: str
    goal: str
    backstory: str


ROLES: dict[str, Role] = {
    r.key: r
    for r in (
        Role(
            "researcher",
            "Researcher",
            "Collect accurate facts on the topic and keep the source URL of every claim",
            "A fact-checker who never passes on a claim without the page it came from.",
        ),
        Role(
            "editor",
            "Editor",
            "Score drafts on stated criteria, pick the best one and edit it for publication",
            "A managing editor who explains every score and keeps the writer's voice.",
        ),
        Role(
            "merger",
            "Merger",
            "Combine the best parts of several drafts into one coherent article",
            "A senior editor who merges contributions without repeating a point twice.",
        ),
        Role(
            "seo",
            "SEOAgent",
            "Write a search title, meta description, slug, keywords and hashtags within search-engine limits",
            "An SEO specialist who writes for readers first and counts every character.",
        ),
        Role(
            "visual_director",
            "VisualDirectorAgent",
            "Read the article and write English prompts for an image model",
            "An art director who turns articles into concrete, photographable scenes.",
        ),
        Role(
            "translator",
            "VisualDirectorAgent",
            "Translate image prompts into English",
            "An art director who briefs image models in English only.",
        ),
    )
}


CITE_RULE = (
    "Ground every factual claim in the numbered sources and mark it with the source's number in square "
    "brackets right after the claim, like [n] (several: one bracket each). Use only those numbers; add no "
    "reference list and "
    "no URLs (the sources section is added for you)."
)
NO_SOURCES_RULE = (
    "No sources are available for this article: write from general knowledge, avoid precise figures, "
    "dates and quotations, and add no citation markers."
)
KEEP_CITATIONS = (
    "Keep every citation marker (a source number in square brackets) where it is; add no new numbers."
)


def source_listing(sources: Sequence[Mapping[str, Any]]) -> str:
    """The numbered sources as writers see them: number, title, site, date, URL, then the passages."""
    lines = []
    for src in sources:
        meta = ", ".join(str(x) for x in (src.get("site"), src.get("published")) if x)
        lines.append(f"[{src['n']}] {src['title']} ({meta}) {src['url']}")
        passages = src.get("passages") or []
        lines.extend(f"    {p}" for p in (passages if isinstance(passages, list) else [passages]))
    return "\n".join(lines)


def research_prompt(topic: str, language: str, sources: Sequence[Mapping[str, Any]]) -> str:
    if not sources:
        return (
            f"Topic: {topic}\nWrite a research brief in {language_name(language)} for three writers about "
            f"{topic}. {NO_SOURCES_RULE}"
        )
    return (
        f"Topic: {topic}\nWrite a research brief in {language_name(language)} for three writers about "
        f"{topic} from these numbered sources. Keep each fact's source number next to it, as [n].\n"
        f"Sources:\n{source_listing(sources)}"
    )


def editor_score_prompt(topic: str, language: str, drafts: dict[str, str]) -> str:
    crit = "\n".join(f"- {k}: {v}" for k, v in EDITOR_CRITERIA.items())
    body = "\n\n".join(f"### Draft {w}\n{t}" for w, t in drafts.items())
    return (
        f"Topic: {topic}\nScore each draft from 0 to 10 on these criteria, and say in one line why:\n{crit}\n"
        "Answer with the JSON object of the given schema: one entry per draft.\n\n"
        f"{body}"
    )


def editor_edit_prompt(topic: str, language: str, draft: str) -> str:
    return (
        f"Topic: {topic}\nEdit this draft for publication in {language_name(language)}: fix errors, tighten "
        f"sentences, keep the structure. {KEEP_CITATIONS} Return the whole article.\n\n{draft}"
    )


def _drafts_first(topic: str, drafts: dict[str, str]) -> str:
    """The Merger's two calls start alike (topic, then the drafts): a vendor's prompt cache can serve the
    second from the first."""
    body = "\n\n".join(f"### Draft {w}\n{t}" for w, t in drafts.items())
    return f"Topic: {topic}\n\n{body}\n\n"


def merge_plan_prompt(topic: str, language: str, drafts: dict[str, str]) -> str:
    return _drafts_first(topic, drafts) + (
        f"Plan one article in {language_name(language)} about {topic} from the best parts of these drafts, "
        "without repeating a point: its title, then its sections in order, each with its heading, one line "
        "on what it says and the drafts it takes from. Answer with the JSON object of the given schema."
    )


def merger_prompt(topic: str, language: str, drafts: dict[str, str], plan: Mapping[str, Any]) -> str:
    outline = "\n".join(
        f"{i + 1}. {s['heading']}: {s['covers']} (from {', '.join(s['takes_from'])})"
        for i, s in enumerate(plan.get("sections") or [])
    )
    return _drafts_first(topic, drafts) + (
        f"Write the article in {language_name(language)} following this plan, taking each section's "
        f"material from the drafts it names, without repeating a point.\nTitle: {plan.get('title') or topic}"
        f"\n{outline}\nThe drafts cite the same numbered sources: {KEEP_CITATIONS} Return the whole article."
    )


def seo_prompt(topic: str, language: str, article: str) -> str:
    return (
        f"Topic: {topic}\nFor this {language_name(language)} article, write its search title (at most "
        f"{SEO_TITLE_MAX} characters), meta description (at most {SEO_META_MAX} characters), slug, keywords "
        f"(5 to 8) and hashtags (3 to 6), all in {language_name(language)}. Answer with the JSON object of "
        f"the given schema.\n\n{article}"
    )


def visual_prompt(topic: str, language: str, article: str) -> str:
    return (
        f"Topic: {topic}\nRead the article and write {IMAGE_PROMPTS} image prompts, each a concrete "
        "photographable scene. Write the prompts in English. Answer with the JSON object of the given "
        f"schema.\n\n{article}"
    )


def translate_prompt(prompts: list[str], language: str) -> str:
    """The translator's brief: the image prompts, numbered, from the article's language into English."""
    listing = "\n".join(f"{i + 1}. {p}" for i, p in enumerate(prompts))
    source = language_name(language) if language != "en" else "the language they are written in"
    return (
        f"Translate these {len(prompts)} image prompts from {source} into English. Keep each one a concrete, "
        "photographable scene; translate names of dishes, places and tools rather than dropping them. "
        f"Answer with the JSON object of the given schema: the {len(prompts)} prompts in English, in the "
        f"same order.\n\n{listing}"
    )
