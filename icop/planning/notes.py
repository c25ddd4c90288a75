"""The status note a run writes beside each plan row (the tenant chooses the column; default F): what
happened to the row in words, with what to do when something went wrong, and links to the articles and
posts when it went right. The one home of these texts; status words themselves are in ``plan``."""

from __future__ import annotations

import re
from collections.abc import Sequence

NOTE_HEADER = "note"
DEFAULT_NOTE_COLUMN = "F"
MAX_NOTE = 2000
RETRY = "set the status (column D) to 'retry' to run it again"


def check_note_column(value: object) -> str:
    """A column letter from F (after the plan's own A–E) to Z, or "" for no note. Raises ValueError."""
    text = str(value or "").strip().upper()
    if text and not re.fullmatch(r"[F-Z]", text):
        raise ValueError("status_note_column must be a column from F to Z (A–E are the plan's), or empty")
    return text


def _clip(text: str) -> str:
    return text if len(text) <= MAX_NOTE else text[: MAX_NOTE - 1] + "…"


def invalid(reason: str) -> str:
    return _clip(f"skipped: {reason}. Fix the row, then {RETRY}")


def planning_failed(reason: str) -> str:
    return _clip(f"planning failed: {reason}; {RETRY}")


def writing(subtopics: int) -> str:
    return f"{subtopics} sub-topics planned (tab Subtopics); the articles are being written"


def finished(
    done: int, total: int, articles: Sequence[str], posts: Sequence[str], failures: Sequence[str]
) -> str:
    """``articles``: the articles' links; ``posts``: ``platform: link`` of each published post."""
    parts = [f"{done} of {total} articles written" if done < total else f"{done} articles written"]
    if articles:
        parts.append("articles: " + " ".join(articles))
    if posts:
        parts.append("posts: " + " ".join(posts))
    if failures:
        parts.append(
            f"failed: {failures[0]}" + (f" (and {len(failures) - 1} more)" if len(failures) > 1 else "")
        )
        parts.append(RETRY)
    return _clip("; ".join(parts))
