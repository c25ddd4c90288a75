"""The emulators themselves: the component, the admin API and its knobs."""

from __future__ import annotations

import collections
from typing import Any

import httpx
import pytest

from cluster.emulators import EmulatorsComponent, provider_env
from cluster.processes import listening_addresses, session_members
from emulators.client import EmulatorAdmin


def test_component_status_and_loopback_only(emulators: tuple[EmulatorsComponent, int]) -> None:
    comp, sid = emulators
    st = comp.status(sid)
    assert st.running and st.healthy and st.name == "emulators" and st.address == comp.address
    pids = [p.pid for p in session_members(sid)]
    socks = listening_addresses(pids)
    ports = {port for _, _, port in socks}
    assert {comp.s.emulator_port, comp.s.fal_emulator_port} <= ports
    assert all(ip.startswith("127.") for _, ip, _ in socks), socks
    assert not comp.status(None).running


def test_taken_port_names_the_setting(emulators: tuple[EmulatorsComponent, int]) -> None:
    from cluster.processes import StackError

    comp, _ = emulators
    with pytest.raises(StackError, match="ICOP_EMULATOR_PORT"):
        EmulatorsComponent(comp.s).start()


def test_knobs_are_validated(admin: EmulatorAdmin) -> None:
    with pytest.raises(httpx.HTTPStatusError) as bad:
        admin.knobs("gpt", no_such_knob=1)
    assert "unknown knobs" in bad.value.response.text
    with pytest.raises(httpx.HTTPStatusError):
        admin.knobs("gpt", error_kind="418")
    with pytest.raises(httpx.HTTPStatusError):
        admin.knobs("nope", latency_ms=1)
    snap = admin.knobs("*", latency_ms=5)
    services = {"gpt", "claude", "gemini", "images", "fal", "sheets", "drive", "tavily", "naver", "web"}
    assert set(snap) == services
    assert all(k["latency_ms"] == 5 for k in snap.values())
    assert admin.knobs("gpt", replace=True)["gpt"]["latency_ms"] == 0


def test_error_rate_is_seeded_and_roughly_right(
    admin: EmulatorAdmin, emulators: tuple[EmulatorsComponent, int]
) -> None:
    comp, _ = emulators
    admin.knobs("gpt", error_rate=0.3, error_kind="500", seed=7)
    url = f"{comp.address}/openai/v1/models"

    def run() -> list[int]:
        with httpx.Client(trust_env=False, headers={"Authorization": "Bearer emulator-key"}) as c:
            return [c.get(url).status_code for _ in range(200)]

    first = run()
    admin.knobs("gpt", error_rate=0.3, error_kind="500", seed=7)
    assert run() == first  # same seed, same faults
    counts = collections.Counter(first)
    assert 40 <= counts[500] <= 80 and counts[200] == 200 - counts[500]


def test_request_log_since_and_filter(
    admin: EmulatorAdmin, emulators: tuple[EmulatorsComponent, int]
) -> None:
    comp, _ = emulators
    with httpx.Client(trust_env=False) as c:
        assert c.get(f"{comp.address}/openai/v1/models").status_code == 401  # no key
        c.get(f"{comp.address}/anthropic/v1/models", headers={"x-api-key": "abc"})
    seq = admin.last_seq()
    assert [e["service"] for e in admin.requests()] == ["gpt", "claude"]
    assert admin.requests("gpt")[0]["status"] == 401 and admin.requests("gpt")[0]["fault"] == "auth"
    assert admin.requests(since=seq) == []


async def test_the_local_stack_runs_the_emulators(stack) -> None:
    """`icop stack up` starts the emulators; provider_env points every connector at them."""
    from icop.connectors.llm import ChatRequest, make_llm
    from icop.settings import Settings

    [row] = [r for r in stack.status() if r.name == "emulators"]
    assert row.running and row.healthy
    env: dict[str, Any] = {k.removeprefix("ICOP_").lower(): v for k, v in provider_env(stack.s).items()}
    s = Settings(state_dir=stack.s.state_dir, **env)
    result = await make_llm(s, "gemini").complete(ChatRequest([{"role": "user", "content": "Topic: tea"}]))
    assert result.text.startswith("[offline]") and not make_llm(s, "gemini").offline
    assert s.fal_ca_bundle is not None and s.fal_ca_bundle.is_file()


def test_the_openai_prompt_cache_keeps_a_prefix_five_minutes_after_its_last_use() -> None:
    """The emulator's cache lifetime (OpenAI: cleared after 5 to 10 minutes of inactivity; kept here for the
    5): every use refreshes a prefix; five minutes without one and it is gone. A prefix is readable by the
    requests that arrive after the one that wrote it was answered."""
    from emulators.prompt_cache import PrefixCache

    cache = PrefixCache()
    pieces = ["tok"] * 1300
    assert cache.use("org", "", pieces, now=10.0, arrived=5.0) == 0
    assert cache.use("org", "", pieces, now=12.0, arrived=9.0) == 0  # sent before the first was answered
    assert cache.use("org", "", pieces, now=299.0) == 1280  # used again: kept until 599
    assert cache.use("other", "", pieces, now=300.0) == 0  # not shared between organisations
    assert cache.use("org", "", pieces[:1100] + ["other"] * 200, now=500.0) == 1024
    assert cache.use("org", "", pieces, now=1101.0) == 0  # the full prompt's last use was at 299
