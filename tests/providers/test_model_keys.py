"""A tenant's own model key in a writer: masked wherever it could be shown, sent to its vendor (the emulator's
request log names the key used by its last 4 characters), one SDK client per key kept briefly, and a refusal
that pauses it rather than falling back to the platform's key."""

from __future__ import annotations

import json
import pickle
import uuid
from dataclasses import asdict

import pytest

from emulators.client import EmulatorAdmin
from graphs.article.writers import ArticleWriter, WriteRequest
from icop.connectors.errors import ProviderError
from icop.connectors.llm import LLM, OfflineLLM
from icop.modelkeys.clients import KeyedLLMs
from icop.modelkeys.rules import NO_QUOTA, REJECTED, pause_for
from icop.modelkeys.secret import ModelKey
from icop.settings import Settings


def tenant_key(tag: str) -> str:
    return f"sk-ant-{uuid.uuid4().hex}{tag}"


def revoke(admin: EmulatorAdmin, service: str, *keys: str) -> None:
    """The vendor revokes ``keys`` (the emulators' key registry: refused from now on)."""
    for key in keys:
        admin.revoke_key(service, key)


def test_a_model_key_never_shows_itself() -> None:
    secret = tenant_key("k3y9")
    key = ModelKey(f"  {secret}\n")  # as pasted
    req = WriteRequest(topic="Cold brew", language="en", api_key=key)
    shown = [repr(key), str(key), f"{key}", f"{key!r:>40}", repr(req), json.dumps(asdict(req), default=str)]
    assert not [s for s in shown if secret in s or secret[-12:] in s]
    assert key.reveal() == secret and key.last4 == "k3y9" and secret not in key.fingerprint
    back = pickle.loads(pickle.dumps(req))  # how it crosses a Ray Serve handle
    assert back.api_key == key and back.api_key.reveal() == secret
    with pytest.raises(ValueError):
        ModelKey("  ")


def test_each_keys_client_is_kept_briefly_and_named_by_digest() -> None:
    made: list[str] = []
    now = [0.0]

    def make(key: ModelKey) -> LLM:
        made.append(key.last4)
        return OfflineLLM("claude", "m")

    clients = KeyedLLMs(make, ttl_s=60, max_clients=2, clock=lambda: now[0])
    a, b, c = (ModelKey(tenant_key(t)) for t in ("aaaa", "bbbb", "cccc"))
    first = clients.get(a)
    assert clients.get(ModelKey(a.reveal())) is first and made == ["aaaa"]  # the same key: one client
    now[0] = 30
    clients.get(b)
    clients.get(c)  # three keys, room for two: the least recently used (a) goes
    assert clients.get(a) is not first and made == ["aaaa", "bbbb", "cccc", "aaaa"]
    now[0] = 200  # unused for longer than the TTL: every client is dropped on the next call
    clients.get(b)
    assert len(clients) == 1 and made[-1] == "bbbb"
    assert all(a.reveal() not in name for name in clients._clients)


@pytest.mark.parametrize(
    ("kind", "code"),
    [("auth", REJECTED), ("quota_exhausted", NO_QUOTA), ("rate_limited", None), ("timeout", None),
     ("server_error", None), ("bad_request", None)],
)  # fmt: skip
def test_only_a_refused_key_or_account_pauses(kind: str, code: str | None) -> None:
    why = pause_for("claude", kind, "invalid x-api-key")
    assert (why.code if why else None) == code
    if why is not None:
        assert "Model keys" in why.reason and why.params == {
            "provider": "claude",
            "message": "invalid x-api-key",
        }


async def test_the_writer_uses_the_tenants_key_and_never_the_platforms(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    """Even where the platform has no key of its own (its writer would be the offline placeholder), a
    request carrying the tenant's key is written by the vendor with that key; a revoked one fails as the
    vendor's refusal (for the graph to pause), with no second try on another key."""
    platform_offline = emu_settings.model_copy(update={"anthropic_api_key": None})
    writer = ArticleWriter.from_settings(platform_offline, "claude")
    good, bad = tenant_key("g00d"), tenant_key("ba4d")
    admin.add_keys("claude", good, bad)
    since = admin.last_seq()
    res = await writer.write(WriteRequest("Cold brew at home", "en", api_key=ModelKey(good)))
    assert not res.offline and res.text
    revoke(admin, "claude", bad)
    with pytest.raises(ProviderError) as e:
        await writer.write(WriteRequest("Cold brew at home", "en", api_key=ModelKey(bad)))
    assert e.value.kind == "auth" and bad not in str(e.value)
    seen = [(r["key"], r["status"]) for r in admin.requests("claude", since)]
    assert seen == [("g00d", 200), ("ba4d", 401)]
    assert (await writer.write(WriteRequest("Cold brew", "en"))).offline  # no key: the platform's (offline)
