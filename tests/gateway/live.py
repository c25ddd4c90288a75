"""A real gateway process: uvicorn on 127.0.0.1 serving ``gateway.app:app_from_env`` for a stack's state
dir; or an app of this process served by uvicorn on loopback (``serve_app``), for streams."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from cluster.ports import free_port


@contextmanager
def live_gateway(state_dir: Path, log_path: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """``icop gateway serve`` (uvicorn on 127.0.0.1) for the stack in ``state_dir``; yields its base URL."""
    port = free_port()
    env = {**os.environ, "ICOP_STATE_DIR": str(state_dir), **(extra_env or {})}
    with open(log_path, "wb") as log:
        cmd = [
            sys.executable,
            "-m",
            "cluster.cli",
            "gateway",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "info",
        ]
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gateway did not start; see {log_path}")
                time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@asynccontextmanager
async def serve_app(app: FastAPI) -> AsyncIterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 inside this event loop; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = server.force_exit = True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(task, 5)
