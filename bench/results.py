"""``bench/results.json``: every goal figure as the benchmark that measured it wrote it.

A list of ``{"name", "value", "goal", "unit", "command", "date", "load"}`` records, one per name; a new
measurement replaces the record of the same name. The benchmarks call :func:`record`; nobody edits the
file by hand.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"


def command_line() -> str:
    """How this benchmark was started, as a shell command from the repository root."""
    script = Path(sys.argv[0]).resolve()
    try:
        shown = str(script.relative_to(Path(__file__).resolve().parents[1]))
    except ValueError:
        shown = str(script)
    return " ".join([".venv/bin/python", shown, *map(shlex.quote, sys.argv[1:])])


def record(
    name: str, value: float, goal: str, unit: str, *, load: tuple[float, ...] | None = None,
    path: Path = RESULTS, **extra: Any,
) -> dict[str, Any]:  # fmt: skip
    """Write (or replace) one figure; ``load`` is the 1/5/15-minute load average while it ran (default:
    now)."""
    entry: dict[str, Any] = {
        "name": name,
        "value": value,
        "goal": goal,
        "unit": unit,
        "command": command_line(),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "load": [round(x, 2) for x in (load or os.getloadavg())],
        **extra,
    }
    entries = json.loads(path.read_text()) if path.exists() else []
    entries = [e for e in entries if e.get("name") != name] + [entry]
    path.write_text(json.dumps(sorted(entries, key=lambda e: e["name"]), indent=2, ensure_ascii=False) + "\n")
    print(f"bench/results.json: {name} = {value} {unit} (goal {goal})", flush=True)
    return entry
