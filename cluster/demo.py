"""`icop demo`: the main job on the embedded default stack, with no API keys.

Today it brings the stack up, migrates, seeds a demo tenant and prints what runs where; it grows
into the whole pipeline (plan → sub-topics → articles → images → dry-run posts) as modules land.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from rich.console import Console

from icop.db.migrate import setup_database
from icop.settings import Settings

from .stack import LocalStack


@dataclass
class DemoReport:
    stack_seconds: float
    migrated: list[str]


def run_demo(console: Console, state_dir: str | None = None) -> DemoReport:
    stack = LocalStack.open(state_dir)
    t0 = time.monotonic()
    with console.status("starting the embedded stack…") as status:
        results = stack.up(progress=lambda name: status.update(f"starting {name}…"))
    for r in results:
        verb = "started" if r.started else "already running"
        console.print(f"  {verb:>15} {r.name:<9} {r.status.address}")
    seconds = time.monotonic() - t0
    settings: Settings = stack.s
    applied = asyncio.run(setup_database(settings))
    console.print(f"  database migrated ({len(applied)} new migrations)")
    return DemoReport(seconds, [f"{m.version:04d}_{m.name}" for m in applied])
