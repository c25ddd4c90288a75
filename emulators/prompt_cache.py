"""Prompt caches the way the vendors document them: a prefix of a prompt that the same organisation (API
key) sent before, within the cache's lifetime, is read from the cache instead of processed again, and the
usage report says how many of the prompt's tokens that was.

OpenAI's automatic prompt caching (platform.openai.com/docs/guides/prompt-caching, read 2026-12-03):

- prompts of 1,024 tokens or more are cached on their own, nothing to ask for;
- a hit is an exact prefix match, counted in 128-token increments from 1,024 (1,024, 1,152, 1,280, ...): the
  cached part is the longest such prefix seen before; the whole request prefix counts (messages, and the
  tools and response format before them, which must be identical too);
- caches are not shared between organisations;
- a prefix is cleared after 5 to 10 minutes of inactivity and always within an hour of its last use: here
  it lives 5 minutes after its last use (the low end, so a test never relies on luck);
- a prefix is cached once the request that sent it has been processed: requests sent together (a
  back-fill's first wave) all miss;
- reported (the Responses API) as ``usage.input_tokens_details.cached_tokens`` (part of ``input_tokens``),
  billed at the cached-input price; writing costs nothing extra.

The prompt is read as the emulated services count it (``synthesis.count_tokens``, plus 4 tokens framing each
message), so ``cached_tokens`` never exceeds the ``prompt_tokens`` the same response reports.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .synthesis import message_text, token_ends

OPENAI_MIN_TOKENS = 1024
OPENAI_INCREMENT = 128
OPENAI_TTL_S = 300.0


def prompt_pieces(messages: Iterable[Mapping[str, Any]]) -> list[str]:
    """The prompt as a sequence of tokens, each with the text since the previous one: joined, they are the
    exact prompt (so two prompts share a prefix of pieces only if they share that text), and there are as
    many as the emulator's ``prompt_tokens`` counts."""
    pieces: list[str] = []
    for m in messages:
        text = message_text(m.get("content"))
        pieces += ["<|start|>", str(m.get("role", "")), "<|message|>"]
        at = 0
        for end in token_ends(text):
            pieces.append(text[at:end])
            at = end
        pieces.append(text[at:] + "<|end|>")
    return pieces


@dataclass
class PrefixCache:
    """Prefixes by organisation: each readable by the requests that arrive once the request that wrote it
    has been answered (requests sent at the same moment all miss, as they do at the vendor), and kept
    ``ttl_s`` after its last use (read or written). Times are ``time.time()`` seconds."""

    ttl_s: float = OPENAI_TTL_S
    min_tokens: int = OPENAI_MIN_TOKENS
    increment: int = OPENAI_INCREMENT
    entries: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    """(organisation, prefix digest) → (written at, expires at)."""

    def boundaries(self, preamble: str, pieces: list[str]) -> list[tuple[int, str]]:
        """(length, digest) of every cacheable prefix: ``min_tokens`` on, every ``increment`` tokens."""
        h = hashlib.sha256(preamble.encode())
        out = []
        for n, piece in enumerate(pieces, start=1):
            h.update(b"\x1f" + piece.encode())
            if n >= self.min_tokens and n % self.increment == 0:
                out.append((n, h.copy().hexdigest()))
        return out

    def use(
        self,
        org: str,
        preamble: str,
        pieces: list[str],
        now: float | None = None,
        arrived: float | None = None,
    ) -> int:
        """Tokens of this prompt read from the cache (0: a miss, or a prompt too short to cache), for a
        request that arrived at ``arrived`` and is answered at ``now``; its prefixes are kept for the
        organisation's later requests."""
        now = time.time() if now is None else now
        arrived = now if arrived is None else arrived
        if len(self.entries) > 100_000:  # an emulator runs for hours: drop what has expired
            self.entries = {k: v for k, v in self.entries.items() if v[1] > now}
        marks = self.boundaries(preamble, pieces)

        def readable(digest: str) -> bool:
            written, expires = self.entries.get((org, digest), (now, 0.0))
            return written <= arrived and expires > now

        cached = next((n for n, d in reversed(marks) if readable(d)), 0)
        for _, d in marks:
            written, expires = self.entries.get((org, d), (now, 0.0))
            self.entries[(org, d)] = (written if expires > now else now, now + self.ttl_s)
        return cached


def openai_cached_tokens(
    cache: PrefixCache,
    api_key: str,
    preamble: list[Any],
    messages: Iterable[Any],
    arrived: float | None = None,
) -> int:
    """OpenAI's automatic caching for one request (that arrived at ``arrived``, answered now): the cached
    part of its prompt. ``preamble``: what the model sees before the messages (the model, tools, the
    answer's format); ``messages``: the prompt's messages in order (the Responses API's ``instructions``
    first, as a system message)."""
    org = hashlib.sha256(api_key.encode()).hexdigest()
    head = json.dumps(preamble, sort_keys=True, default=str)
    return cache.use(org, head, prompt_pieces(m for m in messages if isinstance(m, Mapping)), arrived=arrived)
