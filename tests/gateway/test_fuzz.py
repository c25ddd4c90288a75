"""A fuzz pass where schemathesis does not reach: bodies nested hundreds deep, sizes around the limits, and
Unicode look-alikes in every free-text field. Hypothesis draws the inputs (derandomized: the same inputs
every run); the real gateway answers each. No input may get a 5xx, and every error is problem+json."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .conftest import TenantHandle, sheet, sign_up

# Characters that look like ASCII ones or hide: Cyrillic/Greek look-alikes, fullwidth forms, zero-width
# and bidirectional controls, combining marks, a Hangul filler, NUL and a lone surrogate's neighbours.
CONFUSABLES = (
    "аеорсухіјԁԛԝΑΒΕΖΗΙΚΜΝΟΡΤΧΥοаＡａ＠．"
    "\u200b\u200c\u200d\u2060\ufeff\u202e\u202d\u2066\u0301\u3164\x00\ufffd"
)
tricky_text = st.text(alphabet=st.sampled_from(CONFUSABLES + "abcxyz@.-_ 한글"), min_size=0, max_size=40)


def draw(strategy: st.SearchStrategy[Any], n: int) -> list[Any]:
    """``n`` inputs from ``strategy``, the same ones on every run."""
    out: list[Any] = []

    @settings(max_examples=n, database=None, derandomize=True, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), deadline=None)  # fmt: skip
    @given(strategy)
    def collect(x: Any) -> None:
        out.append(x)

    collect()
    return out


@st.composite
def nested_json(draw_: st.DrawFn) -> str:
    """JSON text nested 1-2000 deep, lists and objects mixed, sometimes left unclosed or with junk."""
    depth = draw_(st.integers(1, 2000))
    opens = draw_(st.lists(st.sampled_from(["[", '{"k":']), min_size=depth, max_size=depth))
    closes = "".join("]" if o == "[" else "}" for o in reversed(opens))
    tail = draw_(st.sampled_from(["", "", "", "]", "}", ",", '"']))
    cut = draw_(st.integers(0, 3))
    return "".join(opens) + "1" + closes[: len(closes) - cut] + tail


@pytest.fixture
async def big(client: httpx.AsyncClient, app_pool: asyncpg.Pool) -> TenantHandle:
    """A tenant whose plan does not refuse pipelines first (the limits under test come before it)."""
    return await sign_up(client, "enterprise", pool=app_pool)


def check(r: httpx.Response, allowed: set[int]) -> None:
    assert r.status_code < 500, (r.status_code, r.request.url, r.text[:300])
    assert r.status_code in allowed, (r.status_code, r.request.url, r.text[:300])
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json"), r.headers


async def test_fuzz_nesting_depth(client: httpx.AsyncClient, big: TenantHandle) -> None:
    h = {**big.h, "content-type": "application/json"}
    for doc in draw(nested_json(), 60):
        body = f'{{"name": "n", "sheet_id": "{sheet()}", "settings": {doc}}}'
        check(await client.post("/v1/pipelines", headers=h, content=body), {201, 422})
        check(await client.patch("/v1/tenant", headers=h, content=doc), {200, 422})
        check(await client.post("/v1/auth/login", headers=h, content=doc), {422})


async def test_fuzz_sizes(client: httpx.AsyncClient, big: TenantHandle) -> None:
    sizes = draw(
        st.sampled_from([0, 1, 199, 200, 201, 16_383, 16_384, 65_536, 1_048_000, 1_048_577, 3_000_000]), 11
    )
    for n in sorted(set(sizes)):
        for body in (
            {"name": "x" * n, "sheet_id": sheet()},
            {"name": "s", "sheet_id": sheet(), "settings": {"k": "v" * n}},
            {"name": "s", "sheet_id": sheet(), "settings": {str(i): i for i in range(min(n, 50_000))}},
        ):
            r = await client.post("/v1/pipelines", headers=big.h, json=body)
            check(r, {201, 413, 422})
        r = await client.post(
            "/v1/auth/login", json={"email": "a" * n + "@example.test", "password": "p" * n}
        )
        check(r, {401, 413, 422})


async def test_fuzz_unicode_look_alikes(client: httpx.AsyncClient, big: TenantHandle) -> None:
    tenant = big
    for text in draw(tricky_text, 80):
        email = f"{text}@example.test"
        check(await client.post("/v1/auth/login", json={"email": email, "password": "pw-" + text + "x" * 10}),
              {401, 422})  # fmt: skip
        check(await client.patch("/v1/tenant", headers=tenant.h, json={"name": text}), {200, 422})
        # (a host name would be looked up in DNS: the path carries the text, the host stays an address)
        url = f"https://93.184.215.14/{text}"
        check(await client.post("/v1/webhooks", headers=tenant.h, json={"url": url}), {201, 409, 422})
        pipeline = {"name": text or "n", "sheet_id": text or "s", "settings": {text: text}}
        check(await client.post("/v1/pipelines", headers=tenant.h, json=pipeline), {201, 409, 422})
        body = json.dumps({"company_name": text, "email": email, "password": text * 3}).encode()
        json_ct = {"content-type": "application/json"}
        check(await client.post("/v1/auth/signup", content=body, headers=json_ct), {202, 422, 429})
