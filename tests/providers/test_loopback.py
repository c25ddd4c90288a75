"""Nothing leaves the machine: every connection this test process and the emulators opened during the
session went to loopback, and nothing of ours listened off loopback: not the stack, not this process (a
Ray driver, whose core worker opens a gRPC server), not its children. (Marked ``audit``, so it runs after
the other tests; it also makes its own calls and joins Ray itself, so it proves something when run
alone.)"""

from __future__ import annotations

import asyncio
import os

import psutil
import pytest

from emulators.client import EmulatorAdmin
from icop.connectors.images import ImageRequest, make_image_provider
from icop.connectors.llm import ChatRequest, make_llm
from icop.connectors.sheets import make_sheets
from icop.settings import Settings

from .netaudit import AUDIT, is_local, is_loopback

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
    await asyncio.to_thread(AUDIT.wait_samples, 2)  # the emulators' connections sampled
    assert len(AUDIT.connects) > before, "the audit hook saw no connection: it is not watching"
    assert AUDIT.samples > 0 and AUDIT.remote, "the sampler saw no connection: it is not watching"
    assert AUDIT.off_machine() == {"connects": [], "lookups": [], "remote": []}


def _listening_off_loopback(pid: int) -> list[tuple[int, str, int, str]]:
    procs = [psutil.Process(pid)]
    procs += procs[0].children(recursive=True)
    out = []
    for p in procs:
        try:
            out += [(p.pid, c.laddr.ip, c.laddr.port, p.name()) for c in p.net_connections(kind="inet")
                    if c.status == psutil.CONN_LISTEN and not is_loopback(c.laddr.ip)]  # fmt: skip
        except psutil.Error:
            continue
    return out


def test_no_process_of_ours_listens_off_loopback(ray_session: None) -> None:
    """This process is a Ray driver now (``ray_session``): its core worker's gRPC server, and everything
    its children (workers, gateways, the demo) opened during the session, listen on loopback only."""
    import ray

    @ray.remote(num_cpus=0)
    def ping() -> int:
        return os.getpid()

    assert ray.get(ping.remote(), timeout=120) != os.getpid()  # the driver really served the cluster
    me = psutil.Process(os.getpid())
    assert any(c.status == psutil.CONN_LISTEN for c in me.net_connections(kind="inet")), (
        "a Ray driver listens (its core worker): if nothing listens, this test proves nothing"
    )
    AUDIT.wait_samples(2)  # the sampler's view of now too
    assert _listening_off_loopback(os.getpid()) == []
    assert sorted(AUDIT.listening) == []
