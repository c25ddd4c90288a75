"""Domain errors → Temporal failures: what retrying cannot fix is marked non-retryable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio.exceptions import ApplicationError

from icop.connectors.errors import ProviderError
from icop.errors import DomainError
from icop.images.errors import ImageRejected


def as_application_error(exc: BaseException) -> BaseException:
    """A provider's non-retryable failure or a rejected image becomes ``ApplicationError(non_retryable)``;
    a retryable provider failure keeps its kind (and the provider's Retry-After) for Temporal's retry."""
    if isinstance(exc, ImageRejected):
        return ApplicationError(
            f"image rejected ({exc.reason}): {exc.message}", type="ImageRejected", non_retryable=True
        )
    if isinstance(exc, ProviderError):
        delay = None
        if exc.retryable and exc.retry_after:
            from datetime import timedelta

            delay = timedelta(seconds=min(exc.retry_after, 300))
        return ApplicationError(
            str(exc), exc.kind, type="ProviderError", non_retryable=not exc.retryable, next_retry_delay=delay
        )
    if isinstance(exc, DomainError) and exc.status < 500:  # the request is wrong: retrying cannot help
        return ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True)
    return exc


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Around an activity body: domain errors reach Temporal classified."""
    try:
        yield
    except ApplicationError:
        raise
    except Exception as e:
        converted = as_application_error(e)
        if converted is e:
            raise
        raise converted from e
