"""Convert-and-store: read an input (a storage key or bytes), convert it to JPEG, store it under its
content address, and describe the result. Plain Python; the Ray Serve deployment is a shell over it.

One outcome per job, never an exception for a single bad job, so that a batch survives one bad input:
``ok`` false with ``retryable`` false for a rejected image, ``retryable`` true for a storage failure.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from icop.storage import ObjectNotFound, ObjectStore, put_image

from .convert import ConvertOptions, Fit, JpegConverter
from .errors import ImageRejected

if TYPE_CHECKING:
    from icop.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConvertJob:
    """One image to convert for a tenant: from ``source_key`` in the store, or from ``data``."""

    tenant_id: str
    source_key: str | None = None
    data: bytes | None = None
    instagram: bool = False
    """Apply Instagram's rules (aspect 4:5..1.91:1, longest side, file size) from settings."""
    fit: Fit | None = None
    """Pad or crop an out-of-range aspect ratio; unset: the settings' default."""


@dataclass(frozen=True)
class ConvertOutcome:
    ok: bool
    key: str | None = None
    url: str | None = None
    created: bool = False
    width: int = 0
    height: int = 0
    size_bytes: int = 0
    sha256: str = ""
    quality: int = 0
    error_reason: str | None = None
    error_message: str | None = None
    retryable: bool = False

    def raise_for_error(self) -> ConvertOutcome:
        """Self when ok; else raise :class:`ImageRejected` (``RuntimeError`` when retryable)."""
        if self.ok:
            return self
        if self.retryable:
            raise RuntimeError(self.error_message or "image conversion failed")
        raise ImageRejected(self.error_reason or "corrupt", self.error_message or "image rejected")  # type: ignore[arg-type]  # a RejectReason or "invalid_request"


class StoredJpegConverter:
    """A converter bound to a store and to the default and Instagram option sets."""

    def __init__(self, store: ObjectStore, options: ConvertOptions | None = None,
                 instagram: ConvertOptions | None = None) -> None:  # fmt: skip
        self.store = store
        self.converter = JpegConverter(options)
        self.instagram = instagram or ConvertOptions.instagram()

    @classmethod
    def from_settings(cls, settings: Settings, store: ObjectStore) -> StoredJpegConverter:
        return cls(
            store,
            ConvertOptions.from_settings(settings),
            ConvertOptions.from_settings(settings, instagram=True),
        )

    def options_for(self, job: ConvertJob) -> ConvertOptions:
        if not job.instagram:
            return self.converter.options
        return replace(self.instagram, fit=job.fit) if job.fit else self.instagram

    def run(self, job: ConvertJob) -> ConvertOutcome:
        try:
            data = job.data if job.data is not None else self._read(job)
            image = self.converter.convert(data, self.options_for(job))
            stored = put_image(self.store, job.tenant_id, image.data, image.sha256)
        except ImageRejected as e:
            return ConvertOutcome(ok=False, error_reason=e.reason, error_message=e.message)
        except ValueError as e:  # an invalid tenant id or key: a caller's bug, retrying cannot help
            return ConvertOutcome(ok=False, error_reason="invalid_request", error_message=str(e))
        except Exception as e:  # storage outage and the like: worth a retry by the caller
            log.warning("image job failed for tenant %s: %r", job.tenant_id, e)
            return ConvertOutcome(ok=False, error_reason="storage", error_message=f"storage failed: {e!r}",
                                  retryable=True)  # fmt: skip
        return ConvertOutcome(
            ok=True, key=stored.key, url=stored.url, created=stored.created, width=image.width,
            height=image.height, size_bytes=image.size_bytes, sha256=image.sha256, quality=image.quality,
        )  # fmt: skip

    def run_many(self, jobs: Sequence[ConvertJob]) -> list[ConvertOutcome]:
        return [self.run(job) for job in jobs]

    def _read(self, job: ConvertJob) -> bytes:
        if not job.source_key:
            raise ValueError("a job needs a source_key or data")
        try:
            return self.store.get(job.source_key)
        except ObjectNotFound as e:
            raise ImageRejected(
                "not_found", f"No image is stored under {job.source_key!r}; upload it again."
            ) from e
