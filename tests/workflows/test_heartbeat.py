"""A long activity's work stops with its attempt: when the attempt is cancelled (a missed heartbeat, a
cancelled workflow), the work it was heartbeating for is cancelled too instead of running on next to the
retry."""

from __future__ import annotations

import asyncio

import pytest
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from workflows.activities.heartbeat import with_heartbeats


async def test_a_cancelled_attempt_stops_its_work() -> None:
    stored: list[str] = []
    started = asyncio.Event()

    async def plan() -> str:
        started.set()
        await asyncio.sleep(0.5)  # planning; then its results would be stored
        stored.append("sub-topic")
        return "planned"

    @activity.defn
    async def attempt() -> str:
        return await with_heartbeats(plan(), every_s=0.05)

    env = ActivityEnvironment()
    running = asyncio.ensure_future(env.run(attempt))
    await started.wait()
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    await asyncio.sleep(0.7)
    assert stored == []  # nothing stored after the attempt ended


async def test_the_result_comes_back_and_it_heartbeats_meanwhile() -> None:
    beats: list[object] = []

    @activity.defn
    async def attempt() -> str:
        async def work() -> str:
            await asyncio.sleep(0.2)
            return "done"

        return await with_heartbeats(work(), every_s=0.05)

    env = ActivityEnvironment()
    env.on_heartbeat = lambda *args: beats.append(args)
    assert await env.run(attempt) == "done"
    assert len(beats) >= 2
