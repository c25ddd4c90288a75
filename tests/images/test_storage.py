"""Object stores: local directory (temp dir) and S3 (the session stack's SeaweedFS over HTTP, real boto3)."""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from PIL import Image

from icop.images import JpegConverter
from icop.settings import Settings
from icop.storage import (
    JPEG,
    LocalDirStore,
    ObjectNotFound,
    ObjectStore,
    S3Store,
    StorageConfig,
    article_key,
    image_key,
    make_store,
    put_article_markdown,
    put_image,
)

from .conftest import stack_s3
from .samples import encode, gradient

TENANT = str(uuid.UUID(int=7))


@pytest.fixture(scope="module")
def jpeg() -> bytes:
    return JpegConverter().convert(encode(gradient(), "PNG")).data


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> ObjectStore:
    return request.getfixturevalue(f"{request.param}_store")


def test_keys_are_tenant_scoped_and_content_addressed() -> None:
    sha = hashlib.sha256(b"x").hexdigest()
    assert image_key(TENANT, sha) == f"tenants/{TENANT}/images/{sha}.jpg"
    assert article_key(TENANT, "a1") == f"tenants/{TENANT}/articles/a1.md"
    for bad in ("../other", "a/b", "", "x" * 200):
        with pytest.raises(ValueError):
            image_key(bad, sha)
    with pytest.raises(ValueError):
        image_key(TENANT, "ABC")
    with pytest.raises(ValueError):
        article_key(TENANT, "../../etc/passwd")


def test_same_image_twice_is_stored_once(store: ObjectStore, jpeg: bytes) -> None:
    first = put_image(store, TENANT, jpeg)
    assert first.created is True
    assert first.key == image_key(TENANT, hashlib.sha256(jpeg).hexdigest())
    second = put_image(store, TENANT, jpeg)
    assert second.created is False
    assert (second.key, second.url) == (first.key, first.url)
    assert store.get(first.key) == jpeg
    assert store.exists(first.key)
    other = put_image(store, str(uuid.UUID(int=8)), jpeg)  # another tenant gets its own copy
    assert other.created is True and other.key != first.key


def test_markdown_beside_images_is_overwritten(store: ObjectStore) -> None:
    a = put_article_markdown(store, TENANT, "art-1", "# Title\n\n![img](http://x/y.jpg)\n")
    assert a.created is True and a.key == f"tenants/{TENANT}/articles/art-1.md"
    b = put_article_markdown(store, TENANT, "art-1", "# Title v2\n")
    assert b.created is False
    assert store.get(a.key).decode() == "# Title v2\n"


def test_missing_and_invalid_keys(store: ObjectStore) -> None:
    assert store.exists(f"tenants/{TENANT}/images/{'0' * 64}.jpg") is False
    with pytest.raises(ObjectNotFound):
        store.get(f"tenants/{TENANT}/images/{'0' * 64}.jpg")
    for bad in ("../escape.jpg", "/abs/path.jpg", "a//b", "a/./b", "a/../../b"):
        with pytest.raises(ValueError):
            store.put(bad, b"x", JPEG)


def test_local_store_files_and_urls(tmp_path: Path, jpeg: bytes) -> None:
    served = LocalDirStore(tmp_path / "a", public_base_url="http://127.0.0.1:9000/media")
    obj = put_image(served, TENANT, jpeg)
    assert obj.url == f"http://127.0.0.1:9000/media/{obj.key}"
    assert (tmp_path / "a" / obj.key).read_bytes() == jpeg
    assert not [p for p in (tmp_path / "a").rglob(".tmp-*")]  # no temp files left behind
    bare = LocalDirStore(tmp_path / "b")
    obj = put_image(bare, TENANT, jpeg)
    assert obj.url == f"icop-object:{obj.key}" and str(tmp_path) not in obj.url  # no path of the host
    assert bare.get(obj.key) == jpeg


def test_s3_writes_once_with_content_type_and_public_url(s3_store: S3Store, jpeg: bytes) -> None:
    endpoint = s3_store.endpoint_url
    puts: list[str] = []
    s3_store.client.meta.events.register(
        "before-call.s3.PutObject", lambda params, **_: puts.append(params["url"])
    )
    first = put_image(s3_store, TENANT, jpeg)
    put_image(s3_store, TENANT, jpeg)
    assert len(puts) == 1  # the second write stopped at the HEAD
    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key=first.key)
    assert head["ContentType"] == JPEG and head["ContentLength"] == len(jpeg)
    assert first.url == f"{endpoint}/{s3_store.bucket}/{first.key}"  # path-style
    assert httpx.get(first.url).status_code == 403  # private bucket: an anonymous fetch fails
    s3_store.ensure_bucket(public_read=True)  # the operator's other choice: a public-read media bucket
    fetched = httpx.get(first.url)  # what a platform does with the URL: anonymous GET
    assert fetched.status_code == 200 and fetched.content == jpeg
    assert fetched.headers["content-type"] == JPEG
    assert puts[0].startswith(f"{endpoint}/{s3_store.bucket}/")  # path-style on the wire too


def test_s3_presigned_urls_are_checked(settings: Settings, s3_store: S3Store, jpeg: bytes) -> None:
    """The stack's S3 server checks signatures: a presigned URL works until it expires, and nothing
    else of the private bucket can be fetched (anonymous, tampered, signed with another key)."""
    signed = stack_s3(settings, s3_store.bucket, presign=True, presign_ttl=600)
    obj = put_image(signed, TENANT, jpeg)
    url = urlparse(obj.url)
    query = parse_qs(url.query)
    assert url.path == f"/{s3_store.bucket}/{obj.key}"
    assert query["X-Amz-Expires"] == ["600"] and "X-Amz-Signature" in query
    fetched = httpx.get(obj.url)  # what a platform does: a plain GET, no credentials
    assert fetched.status_code == 200 and fetched.content == jpeg
    assert fetched.headers["content-type"] == JPEG
    assert httpx.get(obj.url.split("?")[0]).status_code == 403  # the same object, unsigned
    signature = query["X-Amz-Signature"][0]
    tampered = obj.url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    assert httpx.get(tampered).status_code == 403
    stranger = S3Store(
        s3_store.bucket, endpoint_url=s3_store.endpoint_url, access_key_id="someone",
        secret_access_key="else", presign=True,
    )  # fmt: skip
    assert httpx.get(stranger.url_for(obj.key)).status_code == 403


def test_s3_presigned_url_expires(settings: Settings, s3_store: S3Store, jpeg: bytes) -> None:
    # (a signature's time has a one-second resolution: a 1 s URL may live anywhere from 0 to 1 s)
    brief = stack_s3(settings, s3_store.bucket, presign=True, presign_ttl=1)
    obj = put_image(brief, TENANT, jpeg)
    time.sleep(2.1)
    expired = httpx.get(obj.url)
    assert expired.status_code == 403 and "expired" in expired.text.lower()
    fresh = stack_s3(settings, s3_store.bucket, presign=True, presign_ttl=600).url_for(obj.key)
    assert httpx.get(fresh).content == jpeg  # a fresh signature for the same key works


def test_s3_public_base_url(s3_store: S3Store) -> None:
    cdn = S3Store(
        s3_store.bucket, endpoint_url=s3_store.endpoint_url, access_key_id="k", secret_access_key="s",
        public_base_url="https://cdn.example.com/m/",
    )  # fmt: skip
    assert cdn.url_for("tenants/t/images/a.jpg") == "https://cdn.example.com/m/tenants/t/images/a.jpg"


def test_make_store_from_settings(tmp_path: Path, settings: Settings, jpeg: bytes) -> None:
    local = make_store(Settings(state_dir=tmp_path, storage_public_base_url="http://127.0.0.1:1/m"))
    assert isinstance(local, LocalDirStore) and local.root == (tmp_path / "objects").resolve()
    # the stack's settings: its S3 server, presigned URLs that outlive the platforms' fetch windows
    assert (settings.storage_backend, settings.s3_presign) == ("s3", True)
    assert settings.s3_presign_ttl >= 86_400
    key = settings.s3_access_key_id
    assert key is not None
    config = StorageConfig.from_settings(settings)
    assert key.get_secret_value() not in repr(config)  # secrets stay out of logs
    remote = config.open()
    assert isinstance(remote, S3Store) and remote.presign and remote.bucket == settings.s3_bucket
    obj = put_image(remote, TENANT, jpeg)  # the stack created its bucket
    assert "X-Amz-Signature" in obj.url and remote.get(obj.key) == jpeg
    assert httpx.get(obj.url).content == jpeg
    assert parse_qs(urlparse(obj.url).query)["X-Amz-Expires"] == [str(settings.s3_presign_ttl)]


def test_stored_jpeg_round_trip_opens(store: ObjectStore, jpeg: bytes) -> None:
    import io

    obj = put_image(store, TENANT, jpeg)
    im = Image.open(io.BytesIO(store.get(obj.key)))
    assert im.format == "JPEG" and im.size == (320, 200)
