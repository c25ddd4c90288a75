"""Citation markers: writers mark claims with ``[n]`` (the number of a source in the state's list); the
formatter turns them into Markdown footnotes and adds the sources section. Markers that name no source
(a model's invention) are dropped, never rendered as a footnote to nowhere."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

MARKER = re.compile(r"\s?\[(\d{1,3})\](?!\()")  # [3] but not a Markdown link [3](url)
SECTION_TITLE = {"ko": "출처", "ja": "出典", "de": "Quellen", "es": "Fuentes"}
UNSOURCED_NOTE = {
    "ko": "이 글은 출처 없이 작성되었습니다. 게시 전에 사실관계를 확인하세요.",
    "en": "This article was written without sources; check its facts before publishing.",
}


def cited(text: str) -> list[int]:
    """The source numbers the text cites, in order of first use."""
    return list(dict.fromkeys(int(m.group(1)) for m in MARKER.finditer(text)))


def strip_markers(text: str) -> str:
    return re.sub(r"[ \t]{2,}", " ", MARKER.sub("", text))


def footnoted(text: str, known: set[int]) -> str:
    """``[n]`` → ``[^n]`` for known sources; unknown markers removed."""

    def swap(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f"[^{n}]" if n in known else ""

    return MARKER.sub(swap, text)


def sources_section(sources: Sequence[Mapping[str, Any]], language: str) -> str:
    """A "Sources" heading and one footnote definition per source: title (linked), site and date."""
    title = SECTION_TITLE.get(language, "Sources")
    lines = [f"## {title}", ""]
    for s in sources:
        label = str(s.get("title") or s.get("url")).replace("[", "(").replace("]", ")")
        meta = ", ".join(str(x) for x in (s.get("site"), s.get("published")) if x)
        lines.append(f"[^{s['n']}]: [{label}]({s['url']})" + (f" — {meta}" if meta else ""))
    return "\n".join(lines)


def unsourced_note(language: str, reason: str | None) -> str:
    note = UNSOURCED_NOTE.get(language, UNSOURCED_NOTE["en"])
    return f"> {note}" + (f" ({reason})" if reason else "")
