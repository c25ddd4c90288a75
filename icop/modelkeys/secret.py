"""A tenant's model key in memory.

Its ``repr`` and ``str`` are masked, so that a log line, a span attribute, an exception message, a repr of
the request that carries it or a JSON dump (``default=str``) never shows it; only :meth:`ModelKey.reveal`
gives the key, where a vendor's SDK client is made. It pickles (it crosses Ray Serve handles inside a
``WriteRequest``); Temporal never sees it (activities decrypt it from the vault themselves).
"""

from __future__ import annotations

import hashlib
from typing import Any

MASK = "ModelKey(<redacted>)"


class ModelKey:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value or not value.strip():
            raise ValueError("a model key cannot be empty")
        self._value = value.strip()

    def reveal(self) -> str:
        """The key itself: for the SDK client that sends it to its vendor, nothing else."""
        return self._value

    @property
    def last4(self) -> str:
        """What a user is shown to recognise the key (the vendors' consoles show the same)."""
        return self._value[-4:]

    @property
    def fingerprint(self) -> str:
        """A digest naming the key in a cache without holding the key as the name."""
        return hashlib.sha256(self._value.encode()).hexdigest()

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ModelKey, (self._value,))
