"""``google-api-python-client`` (static discovery, endpoint from settings, credentials always passed)
against the Sheets v4 emulator: values.get, values.batchUpdate, errors, Retry-After. These sheets are
seeded without an owner ("anyone with the link"); a tenant's own, private sheets and its Google identity
are in ``test_google_identity.py``."""

from __future__ import annotations

import time

import pytest

from emulators.client import EmulatorAdmin
from icop.connectors.errors import ProviderError
from icop.connectors.sheets import GoogleSheets, ValueRange, make_sheets
from icop.settings import EMULATOR_KEY, Settings

from .conftest import emulator_settings

PLAN = [
    ["main_topic", "language", "status", "subtopics", "urls"],
    ["Home composting", "en", "pending"],
    ["제주도 여행", "ko", "pending"],
    ["Electric bikes", "en", "done", "3", "https://example.invalid/a"],
]


def _settings(base: Settings, **kw: object) -> Settings:
    from cluster.emulators import EmulatorsComponent

    return emulator_settings(EmulatorsComponent(base), **kw)


async def test_values_get(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    admin.seed_sheet("plan-1", {"ContentPlan": PLAN, "Other sheet": [["x", "y"]]})
    sheets = make_sheets(emu_settings, EMULATOR_KEY)
    rows = await sheets.get_values("plan-1", "ContentPlan!A2:E")
    assert rows == [r for r in PLAN[1:]]
    assert await sheets.get_values("plan-1", "ContentPlan!A1:B1") == [["main_topic", "language"]]
    assert await sheets.get_values("plan-1", "'Other sheet'!A1:B") == [["x", "y"]]
    assert await sheets.get_values("plan-1", "ContentPlan!F1:G9") == []
    log = admin.requests("sheets")
    assert log[0]["method"] == "GET" and log[0]["path"].startswith(
        "/v4/spreadsheets/plan-1/values/ContentPlan"
    )
    assert log[0]["meta"]["range"] == "ContentPlan!A2:E1000"
    assert log[0]["key"] == "-key", "the OAuth token was sent as a Bearer credential"


async def test_batch_update_then_read_back(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    admin.seed_sheet("plan-2", {"ContentPlan": PLAN})
    sheets = make_sheets(emu_settings, EMULATOR_KEY)
    result = await sheets.batch_update(
        "plan-2",
        [
            ValueRange("ContentPlan!C2:D2", [["done", "4"]]),
            ValueRange("ContentPlan!C3", [["running"]]),
        ],
    )
    assert result.updated_cells == 3 and result.updated_ranges == ["ContentPlan!C2:D2", "ContentPlan!C3"]
    state = admin.read_sheet("plan-2")["ContentPlan"]
    assert state[1][:4] == ["Home composting", "en", "done", "4"] and state[2][2] == "running"
    writes = [e for e in admin.requests("sheets") if e["method"] == "POST"]
    assert len(writes) == 1 and writes[0]["path"] == "/v4/spreadsheets/plan-2/values:batchUpdate?alt=json"
    assert writes[0]["body"]["valueInputOption"] == "RAW"
    await sheets.batch_update(
        "plan-2", [ValueRange("ContentPlan!D4", [["7"]])], value_input_option="USER_ENTERED"
    )
    assert admin.read_sheet("plan-2")["ContentPlan"][3][3] == 7  # USER_ENTERED parses numbers
    assert (await sheets.get_values("plan-2", "ContentPlan!D4"))[0] == ["7"]


async def test_errors_are_classified(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    admin.seed_sheet("plan-3", {"ContentPlan": PLAN})
    once = make_sheets(_settings(emu_settings, provider_max_attempts=1, provider_timeout_s=1.0), EMULATOR_KEY)
    with pytest.raises(ProviderError) as missing:
        await once.get_values("no-such-sheet", "A1:B2")
    assert (missing.value.kind, missing.value.status, missing.value.retryable) == ("not_found", 404, False)
    with pytest.raises(ProviderError) as bad:
        await once.get_values("plan-3", "Nope!A1:B2")
    assert (bad.value.kind, bad.value.status) == (
        "bad_request",
        400,
    ) and "Unable to parse range" in bad.value.message
    for kind, expected, status in (
        ("429", "rate_limited", 429),
        ("500", "server_error", 500),
        ("503", "unavailable", 503),
        ("timeout", "timeout", None),
    ):
        admin.knobs("sheets", error_kind=kind, error_count=1, retry_after_s=4, hang_s=3)
        with pytest.raises(ProviderError) as info:
            await once.get_values("plan-3", "ContentPlan!A1:A2")
        assert (info.value.kind, info.value.status, info.value.retryable) == (expected, status, True)
        if kind == "429":
            assert info.value.retry_after == 4
    admin.knobs("sheets", revoked_keys=["emulator-key"])
    with pytest.raises(ProviderError) as auth:
        await once.get_values("plan-3", "ContentPlan!A1:A2")
    assert (auth.value.kind, auth.value.retryable) == ("auth", False)


async def test_late_write_is_applied_though_the_client_gave_up(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    admin.seed_sheet("plan-4", {"ContentPlan": PLAN})
    admin.knobs("sheets", error_kind="late", error_count=1, late_s=2)
    sheets = make_sheets(_settings(emu_settings, provider_timeout_s=1.0), EMULATOR_KEY)
    result = await sheets.batch_update("plan-4", [ValueRange("ContentPlan!C2", [["done"]])])
    assert result.updated_cells == 1  # the retry rewrote the same cell: batchUpdate is idempotent
    writes = [e for e in admin.requests("sheets") if e["method"] == "POST"]
    assert [w["fault"] for w in writes] == ["late", None]
    assert admin.read_sheet("plan-4")["ContentPlan"][1][2] == "done"


async def test_retry_after_is_honoured(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    admin.seed_sheet("plan-5", {"ContentPlan": PLAN})
    admin.knobs("sheets", error_kind="429", error_count=1, retry_after_s=1)
    t0 = time.monotonic()
    sheets = make_sheets(emu_settings, EMULATOR_KEY)
    assert await sheets.get_values("plan-5", "ContentPlan!A2:A2") == [["Home composting"]]
    assert time.monotonic() - t0 >= 1.0
    first, second = admin.requests("sheets")
    assert (
        first["status"] == 429 and second["status"] == 200 and second["started"] - first["finished"] >= 0.95
    )


async def test_rate_limit_per_token(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    admin.seed_sheet("plan-6", {"ContentPlan": PLAN})
    admin.knobs("sheets", rate_limit={"requests": 1, "window_s": 30})
    a = make_sheets(_settings(emu_settings, provider_max_attempts=1), "token-a")
    b = make_sheets(_settings(emu_settings, provider_max_attempts=1), "token-b")
    await a.get_values("plan-6", "ContentPlan!A1")
    with pytest.raises(ProviderError) as info:
        await a.get_values("plan-6", "ContentPlan!A1")
    assert info.value.kind == "rate_limited" and "Quota exceeded" in info.value.message
    assert 25 < (info.value.retry_after or 0) <= 30
    assert await b.get_values("plan-6", "ContentPlan!A1") == [["main_topic"]]


async def test_anonymous_credentials_without_a_token(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    admin.seed_sheet("plan-7", {"ContentPlan": PLAN})
    anon = GoogleSheets(emu_settings.sheets_api_endpoint or "", None)
    assert type(anon.credentials).__name__ == "AnonymousCredentials"
    assert await anon.get_values("plan-7", "ContentPlan!A1") == [["main_topic"]]
    assert admin.requests("sheets")[0]["key"] == ""
