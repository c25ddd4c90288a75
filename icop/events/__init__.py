"""Events: the transactional outbox (``emit``), the relay to RabbitMQ, webhook delivery and the live stream.

See docs/events.md."""

from .outbox import emit
from .schemas import EVENT_TYPES, Envelope

__all__ = ["EVENT_TYPES", "Envelope", "emit"]
