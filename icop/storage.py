"""Object storage for images and article Markdown: a small Protocol, a local-directory store (embedded
mode) and an S3 store (boto3; any S3-compatible endpoint, path-style addressing).

Keys are tenant-scoped. Images are content-addressed (``tenants/{tenant}/images/{sha256}.jpg``) and
written only when absent (head first), so the same image stored twice is stored once. Article Markdown
lives beside them (``tenants/{tenant}/articles/{article_id}.md``) and is overwritten on every save.

The URL a store hands out is one a social platform can fetch: a public URL under a configured base, or
an S3 presigned GET URL, per settings. A local store without a public base URL names only the key
(``icop-object:<key>``), never a path of the host; its folders and files are private to the owner
(0700/0600).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable
from urllib.parse import quote

if TYPE_CHECKING:
    from icop.settings import Settings

JPEG = "image/jpeg"
LOCAL_SCHEME = "icop-object:"  # a local object without a public URL: the key, and nothing of the host
MARKDOWN = "text/markdown; charset=utf-8"

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._/-]*$")


class ObjectNotFound(KeyError):
    """No object under that key."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    url: str
    created: bool
    """False when the key already held an object and nothing was written (content-addressed put)."""


@runtime_checkable
class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str, *, if_absent: bool = False) -> StoredObject:
        """Write ``data`` under ``key``. With ``if_absent``, an existing object is kept (not rewritten)."""
        ...

    def exists(self, key: str) -> bool: ...

    def get(self, key: str) -> bytes:
        """The object's bytes; raises :class:`ObjectNotFound`."""
        ...

    def url_for(self, key: str) -> str: ...


# -- keys ---------------------------------------------------------------------------------------------


def _check_id(value: object, what: str) -> str:
    text = str(value)
    if not _ID.match(text):
        raise ValueError(f"invalid {what} for a storage key: {text!r}")
    return text


def check_key(key: str) -> str:
    """Relative, slash-separated, no ``..`` segments: a key can never leave the store's root."""
    if not _KEY.match(key) or any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


def image_key(tenant_id: object, sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
    return f"tenants/{_check_id(tenant_id, 'tenant id')}/images/{sha256}.jpg"


def source_key(tenant_id: object, sha256: str, ext: str) -> str:
    """A provider's original output (PNG, WEBP, ...), kept so the converter can be handed a key."""
    if not _SHA256.match(sha256) or not re.fullmatch(r"[a-z0-9]{1,8}", ext):
        raise ValueError(f"invalid source key parts: {sha256!r}, {ext!r}")
    return f"tenants/{_check_id(tenant_id, 'tenant id')}/sources/{sha256}.{ext}"


def article_key(tenant_id: object, article_id: object) -> str:
    return f"tenants/{_check_id(tenant_id, 'tenant id')}/articles/{_check_id(article_id, 'article id')}.md"


PLAN_KINDS = ("csv", "xlsx")


def plan_key(tenant_id: object, sha256: str, kind: str) -> str:
    """An uploaded content plan (CSV or XLSX) under its content address."""
    if not _SHA256.match(sha256) or kind not in PLAN_KINDS:
        raise ValueError(f"invalid plan key parts: {sha256!r}, {kind!r}")
    return f"tenants/{_check_id(tenant_id, 'tenant id')}/plans/{sha256}.{kind}"


def plan_kind_of_key(tenant_id: object, key: str) -> str | None:
    """The kind of a key :func:`plan_key` made for this tenant (no ``..``, no other folder, no other
    tenant's), else None."""
    m = re.fullmatch(re.escape(f"tenants/{tenant_id}/plans/") + r"[0-9a-f]{64}\.(csv|xlsx)", key)
    return m.group(1) if m else None


def put_image(store: ObjectStore, tenant_id: object, jpeg: bytes, sha256: str | None = None) -> StoredObject:
    """Store a JPEG under its content address; a second write of the same bytes writes nothing."""
    digest = sha256 or hashlib.sha256(jpeg).hexdigest()
    return store.put(image_key(tenant_id, digest), jpeg, JPEG, if_absent=True)


def put_article_markdown(
    store: ObjectStore, tenant_id: object, article_id: object, markdown: str
) -> StoredObject:
    return store.put(article_key(tenant_id, article_id), markdown.encode("utf-8"), MARKDOWN)


def _join_url(base: str, key: str) -> str:
    return f"{base.rstrip('/')}/{quote(key)}"


# -- local directory ----------------------------------------------------------------------------------


class LocalDirStore:
    """Objects as files under ``root`` (0700 folders, 0600 files: other local users read nothing); URLs
    under ``public_base_url`` (e.g. a file server) or ``icop-object:<key>``."""

    def __init__(self, root: Path | str, public_base_url: str | None = None) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.root.chmod(0o700)
        self.public_base_url = public_base_url

    def path_for(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str, *, if_absent: bool = False) -> StoredObject:
        path = self.path_for(key)
        if if_absent and path.exists():
            return StoredObject(key, self.url_for(key), created=False)
        self._make_dirs(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # created 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            if if_absent:
                try:  # atomic create-if-absent: a concurrent writer of the same key wins, we keep theirs
                    os.link(tmp, path)
                    created = True
                except FileExistsError:
                    created = False
            else:
                created = not path.exists()
                os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return StoredObject(key, self.url_for(key), created=created)

    def _make_dirs(self, folder: Path) -> None:
        missing = []
        while folder != self.root and not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for d in reversed(missing):
            d.mkdir(mode=0o700, exist_ok=True)  # mode, not umask, decides: 0700 whatever the umask

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def get(self, key: str) -> bytes:
        try:
            return self.path_for(key).read_bytes()
        except FileNotFoundError as e:
            raise ObjectNotFound(key) from e

    def url_for(self, key: str) -> str:
        if self.public_base_url:
            return _join_url(self.public_base_url, check_key(key))
        return LOCAL_SCHEME + quote(check_key(key))


# -- S3 -----------------------------------------------------------------------------------------------


class S3Store:
    """An S3 bucket through boto3, path-style addressing; public or presigned GET URLs."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        public_base_url: str | None = None,
        presign: bool = False,
        presign_ttl: int = 172_800,
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self.public_base_url = public_base_url
        self.presign = presign
        self.presign_ttl = presign_ttl
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=Config(
                    s3={"addressing_style": "path"},
                    signature_version="s3v4",
                    retries={"max_attempts": 5, "mode": "standard"},
                ),
            )
        self.client = client

    def ensure_bucket(self, *, public_read: bool = False) -> None:
        """Create the bucket if it is missing (development and tests; production buckets are provisioned).

        ``public_read`` adds a bucket policy that lets anyone GET objects, which public (unsigned) URLs need.
        """
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            kwargs: dict[str, Any] = {"Bucket": self.bucket}
            if self.region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            self.client.create_bucket(**kwargs)
        if public_read:
            policy = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                               "Resource": f"arn:aws:s3:::{self.bucket}/*"}],
            }  # fmt: skip
            self.client.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(policy))

    def put(self, key: str, data: bytes, content_type: str, *, if_absent: bool = False) -> StoredObject:
        check_key(key)
        existed = self.exists(key)
        if if_absent and existed:
            return StoredObject(key, self.url_for(key), created=False)
        extra: dict[str, Any] = {}
        if if_absent:  # content-addressed: the bytes under this key never change
            extra["CacheControl"] = "public, max-age=31536000, immutable"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **extra)
        return StoredObject(key, self.url_for(key), created=not existed)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
            return True
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"]
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise ObjectNotFound(key) from e
            raise
        with body:
            return bytes(body.read())

    def url_for(self, key: str) -> str:
        check_key(key)
        if self.presign:
            return str(
                self.client.generate_presigned_url(
                    "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=self.presign_ttl
                )
            )
        if self.public_base_url:
            return _join_url(self.public_base_url, key)
        endpoint = self.endpoint_url or f"https://s3.{self.region}.amazonaws.com"
        return _join_url(f"{endpoint.rstrip('/')}/{self.bucket}", key)


# -- from settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StorageConfig:
    """Plain data to build a store in another process (a Ray replica); secrets as plain strings."""

    backend: Literal["local", "s3"]
    local_dir: str
    public_base_url: str | None = None
    s3_endpoint_url: str | None = None
    s3_bucket: str = "icop-media"
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = field(default=None, repr=False)
    s3_secret_access_key: str | None = field(default=None, repr=False)
    s3_presign: bool = False
    s3_presign_ttl: int = 172_800

    @classmethod
    def from_settings(cls, s: Settings) -> StorageConfig:
        return cls(
            backend=s.storage_backend,
            local_dir=str((s.storage_dir or s.state_path / "objects").resolve()),
            public_base_url=s.storage_public_base_url,
            s3_endpoint_url=s.s3_endpoint_url,
            s3_bucket=s.s3_bucket,
            s3_region=s.s3_region,
            s3_access_key_id=s.s3_access_key_id.get_secret_value() if s.s3_access_key_id else None,
            s3_secret_access_key=s.s3_secret_access_key.get_secret_value()
            if s.s3_secret_access_key
            else None,
            s3_presign=s.s3_presign,
            s3_presign_ttl=s.s3_presign_ttl,
        )

    def open(self) -> ObjectStore:
        if self.backend == "local":
            return LocalDirStore(self.local_dir, self.public_base_url)
        return S3Store(
            self.s3_bucket,
            endpoint_url=self.s3_endpoint_url,
            region=self.s3_region,
            access_key_id=self.s3_access_key_id,
            secret_access_key=self.s3_secret_access_key,
            public_base_url=self.public_base_url,
            presign=self.s3_presign,
            presign_ttl=self.s3_presign_ttl,
        )


def make_store(settings: Settings) -> ObjectStore:
    """The store the settings describe (``storage_backend``)."""
    return StorageConfig.from_settings(settings).open()
