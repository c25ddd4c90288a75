"""What the gateway plugs in for ``ICOP_WORKFLOW_ENGINE=temporal`` (the run starter itself is
``workflows.starter.TemporalRunStarter``, shared with ``icop backfill``)."""

from __future__ import annotations

from typing import Any

from icop.settings import Settings
from workflows.schedules import LazyClient, TemporalSchedules
from workflows.starter import TemporalRunStarter
from workflows.types import Queues

from ..articles.approvals import TemporalApprovals


def engine_extras(settings: Settings) -> dict[str, Any]:
    """What ``create_app`` plugs into the services for ``ICOP_WORKFLOW_ENGINE``: with ``temporal``, a
    lazily connected client (``temporal``), this starter (``run_starter``), the pipeline schedules
    (``schedules``) and the approval signal (``approvals``); with ``none``, nothing (runs are recorded
    only, crons are not scheduled, approvals answer 503)."""
    if settings.workflow_engine != "temporal":
        return {}
    connect = LazyClient(settings.temporal_target, settings.temporal_namespace)
    queues = Queues.with_prefix(settings.workflow_queue_prefix)
    return {
        "temporal": connect,
        "run_starter": TemporalRunStarter(connect, queues, settings.run_max_concurrent_rows),
        "schedules": TemporalSchedules(connect, queues, settings.run_max_concurrent_rows),
        "approvals": TemporalApprovals(connect),
    }
