"""Nothing leaves the machine: every connection this test process and the emulators opened during the
session went to loopback. (Marked ``audit``, so it runs after the other tests; it also makes its own
calls, so it proves something when run alone.)"""

from __future__ import annotations

import asyncio

import pytest

from emulators.client import EmulatorAdmin
from icop.connectors.images import ImageRequest, make_image_provider
from icop.connectors.llm import ChatRequest, make_llm
from icop.connectors.sheets import make_sheets
from icop.settings import Settings

from .netaudit import AUDIT, is_local

pytestmark = pytest.mark.audit


def test_the_audit_can_tell_off_machine_addresses() -> None:
    assert is_local("127.0.0.1") and is_local("::1") and is_local("localhost") and is_local("/tmp/s.sock")
    assert is_local("::ffff:127.0.0.2") and not is_local("::ffff:8.8.8.8")
    assert not is_local("169.254.169.254") and not is_local("10.0.0.1") and not is_local("api.openai.com")


async def test_no_traffic_leaves_loopback(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    before = len(AUDIT.connects)
    admin.seed_sheet("net", {"S": [["a"]]})
    for name in ("gpt", "claude", "gemini"):
        await make_llm(emu_settings, name).complete(ChatRequest([{"role": "user", "content": "hello"}]))
    await make_image_provider(emu_settings, "dall-e").generate(ImageRequest("x"))
    await make_image_provider(emu_settings, "flux").generate(ImageRequest("x"))
    await make_sheets(emu_settings).get_values("net", "S!A1")
    await asyncio.sleep(0.3)  # at least two samples of the emulators' connections
    assert len(AUDIT.connects) > before, "the audit hook saw no connection: it is not watching"
    assert AUDIT.samples > 0 and AUDIT.remote, "the sampler saw no connection: it is not watching"
    assert AUDIT.off_machine() == {"connects": [], "lookups": [], "remote": []}
