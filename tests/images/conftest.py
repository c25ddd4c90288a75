"""Fixtures for the image tests: buckets on the session stack's S3 server (SeaweedFS, real boto3 over HTTP),
local stores in temp dirs."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from icop.settings import Settings
from icop.storage import LocalDirStore, S3Store


def stack_s3(settings: Settings, bucket: str, **options: object) -> S3Store:
    """A store on the session stack's S3 server, with the stack's own key pair."""
    assert settings.s3_endpoint_url and settings.s3_access_key_id and settings.s3_secret_access_key
    return S3Store(
        bucket,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id.get_secret_value(),
        secret_access_key=settings.s3_secret_access_key.get_secret_value(),
        **options,  # type: ignore[arg-type]  # the keyword options of S3Store
    )


@pytest.fixture
def s3_store(settings: Settings) -> S3Store:
    """A fresh private bucket per test on the stack's S3 server, unsigned (path-style) URLs."""
    store = stack_s3(settings, f"icop-test-{uuid.uuid4().hex[:12]}")
    store.ensure_bucket()
    return store


@pytest.fixture
def local_store(tmp_path: Path) -> LocalDirStore:
    return LocalDirStore(tmp_path / "objects", public_base_url="http://127.0.0.1:8088/media/")
