"""The one error the image pipeline raises for inputs it will not convert."""

from __future__ import annotations

from typing import Literal

from icop.errors import DomainError

RejectReason = Literal[
    "corrupt",
    "truncated",
    "unsupported",
    "too_many_pixels",
    "bomb",
    "too_large",
    "too_big_output",
    "not_found",
]


class ImageRejected(DomainError):
    """An input image that cannot become a JPEG. Never retryable: the same bytes fail the same way.

    ``reason`` is a stable code for programs; ``message`` (also ``detail``) tells the user what to do.
    """

    status, title = 422, "Image rejected"
    retryable = False

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message, code=f"image.{reason}")
        self.reason: RejectReason = reason
        self.message = message

    def __reduce__(self) -> tuple[type[ImageRejected], tuple[str, str]]:  # picklable across Ray/Temporal
        return (type(self), (self.reason, self.message))

    def __repr__(self) -> str:
        return f"ImageRejected({self.reason!r}, {self.message!r})"
