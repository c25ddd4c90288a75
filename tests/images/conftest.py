"""Fixtures for the image tests: a real moto S3 server on loopback, local stores in temp dirs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.ports import free_port
from icop.storage import LocalDirStore, S3Store


def _moto_server_bin() -> str:
    candidate = Path(sys.executable).parent / "moto_server"
    found = str(candidate) if candidate.exists() else shutil.which("moto_server")
    if not found:
        pytest.fail("moto_server is not installed: pip install -e '.[dev]'")
    return found


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a moto S3 server started for this session and stopped after it."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = dict(
        os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1"
    )
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [_moto_server_bin(), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def s3_store(moto_endpoint: str) -> S3Store:
    """A fresh bucket per test on the moto server, public URLs."""
    store = S3Store(
        f"icop-test-{uuid.uuid4().hex[:12]}",
        endpoint_url=moto_endpoint,
        region="us-east-1",
        access_key_id="test",
        secret_access_key="test",
    )
    store.ensure_bucket()
    return store


@pytest.fixture
def local_store(tmp_path: Path) -> LocalDirStore:
    return LocalDirStore(tmp_path / "objects", public_base_url="http://127.0.0.1:8088/media/")
