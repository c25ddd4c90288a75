"""How an article records its structured answers (the graph's ``structured`` state field), and the words
for a fallback: which part of the article a rule wrote instead of an agent, and what to do about it.

The graph writes the records; the API reads them from the stored graph state and words each fallback
here, so that what a fallback means is said in one place (the dashboard words the same codes in the
reader's language).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypedDict, get_args

StructuredNode = Literal["editor", "merger", "seo", "visual_director", "translator"]
"""The graph's nodes that ask an agent for a structured answer."""
Outcome = Literal["valid", "repaired", "fallback"]
FallbackReason = Literal["invalid_answer", "offline"]
"""invalid_answer: every answer broke the schema or its limits; offline: no model answered (no key)."""


class StructuredRecord(TypedDict):
    """How one structured answer was got: valid at once, valid after repair turns, or not at all, in
    which case a rule-based value stands in (a fallback) and the article says so."""

    node: StructuredNode
    schema: str  # the pydantic model's name: "EditorScores", "MergePlan", "SeoFields", "ImagePrompts"
    attempts: int  # answers asked for; each one was paid for and is in the state's ``usage``
    outcome: Outcome
    problems: list[str]  # what was wrong with each invalid answer, in order (as the model was told)
    reason: NotRequired[FallbackReason]  # fallback only


_WHAT: dict[StructuredNode, str] = {
    "editor": "The Editor's scores",
    "merger": "The Merger's plan",
    "seo": "The SEO fields",
    "visual_director": "The image prompts",
    "translator": "The image prompts' English translation",
}
_INSTEAD: dict[StructuredNode, str] = {
    "editor": "The drafts were scored by a rubric computed from the text: check the chosen draft (or choose "
    "another writer's) before approving.",
    "merger": "The drafts were merged along their own headings: read the article through before approving, "
    "or regenerate it.",
    "seo": "The title, description, slug, keywords and hashtags were derived from the article: check them "
    "(edit the title and summary) before approving.",
    "visual_director": "The prompts were derived from the article's headings: check the images before "
    "approving, or regenerate the article.",
    "translator": "Words left untranslated were dropped from the prompts: check the images before approving.",
}


def fallback_message(node: StructuredNode, reason: FallbackReason, attempts: int) -> str:
    """What stood in for an agent's answer and what a person can do about it (English)."""
    if reason == "offline":
        why = "no model answered (the agents' provider has no API key: configure it)"
    else:
        why = f"the agent's {'answer' if attempts == 1 else f'{attempts} answers'} did not follow the schema"
    return f"{_WHAT[node]} could not be used: {why}. {_INSTEAD[node]}"


def fallbacks(state: Mapping[str, Any]) -> list[StructuredRecord]:
    """The state's fallback records (well-formed ones only: a stored state is read, not trusted)."""
    out: list[StructuredRecord] = []
    for rec in state.get("structured") or []:
        if (
            isinstance(rec, dict)
            and rec.get("outcome") == "fallback"
            and rec.get("node") in get_args(StructuredNode)
            and rec.get("reason") in get_args(FallbackReason)
        ):
            out.append(
                StructuredRecord(
                    node=rec["node"],
                    schema=str(rec.get("schema") or ""),
                    attempts=int(rec.get("attempts") or 0),
                    outcome="fallback",
                    problems=[str(p) for p in rec.get("problems") or []],
                    reason=rec["reason"],
                )
            )
    return out
