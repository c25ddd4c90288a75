"""A writer's SDK client per tenant key, kept briefly: a back-fill's articles of one tenant share one client
(its connection pool) instead of building one per call, and a key not used for a while (replaced, deleted,
paused) is dropped from memory soon after.

Clients are named by the key's digest (``ModelKey.fingerprint``), never by the key; the cache is bounded.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from icop.connectors.config import LlmName
from icop.connectors.llm import LLM, make_llm
from icop.connectors.usage import Metering
from icop.settings import Settings

from .secret import ModelKey


class KeyedLLMs:
    """``get(key)``: the provider's client for that key, made on first use, dropped ``ttl_s`` after its
    last use (and the least recently used first beyond ``max_clients``)."""

    def __init__(
        self,
        make: Callable[[ModelKey], LLM],
        ttl_s: float,
        max_clients: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.make, self.ttl_s, self.max_clients, self.clock = make, ttl_s, max_clients, clock
        self._clients: OrderedDict[str, tuple[LLM, float]] = OrderedDict()

    @classmethod
    def from_settings(
        cls, settings: Settings, provider: LlmName, metering: Metering | None = None
    ) -> KeyedLLMs:
        def make(key: ModelKey) -> LLM:
            return make_llm(settings, provider, metering, api_key=key)

        return cls(make, settings.model_key_client_ttl_s, settings.model_key_clients_max)

    def __len__(self) -> int:
        return len(self._clients)

    def get(self, key: ModelKey) -> LLM:
        now = self.clock()
        while self._clients:  # the least recently used first: stop at the first still fresh
            name, (_, used) = next(iter(self._clients.items()))
            if now - used < self.ttl_s:
                break
            del self._clients[name]
        name = key.fingerprint
        found = self._clients.pop(name, None)
        llm = found[0] if found is not None else self.make(key)
        self._clients[name] = (llm, now)
        while len(self._clients) > self.max_clients:
            self._clients.popitem(last=False)
        return llm
