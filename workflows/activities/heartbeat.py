"""Heartbeats for long activities, so that a killed worker's attempt is retried after the heartbeat
timeout (seconds), not after the whole start-to-close timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from temporalio import activity

T = TypeVar("T")


async def with_heartbeats(work: Awaitable[T], every_s: float = 2.0) -> T:
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=every_s)
            if done:
                return task.result()
            activity.heartbeat()
    except BaseException:
        # The attempt is over (cancelled, e.g. after a missed heartbeat): its work stops with it. Left
        # running, it would store its results next to the retry's (a row's sub-topics planned twice, the
        # retry's then dropped as near-duplicates of the first's, and the row done with no article).
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
