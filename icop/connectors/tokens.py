"""The text of chat messages and a token estimate, for usage records when a provider reports none."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def message_text(content: Any) -> str:
    """The text of an OpenAI-style message ``content`` (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return ""


def count_tokens(text: str) -> int:
    """A stable estimate: ~4 Latin characters or ~1 Hangul syllable per token."""
    hangul = len(_HANGUL.findall(text))
    return max(1, hangul + math.ceil((len(text) - hangul) / 4)) if text else 0
