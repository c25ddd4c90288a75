"""A real gateway process: uvicorn on 127.0.0.1 serving ``gateway.app:app_from_env`` for a stack's state
dir."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

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
