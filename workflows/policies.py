"""Timeouts and retry policies per activity, in one place (imported by workflow code: no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypedDict

from temporalio.common import RetryPolicy

NON_RETRYABLE = ["ImageRejected", "NotFound", "Unsupported", "MissingGraphState"]


class ActivityOptions(TypedDict):
    """A ``Call`` as the keyword arguments of ``workflow.execute_activity_method``."""

    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy
    heartbeat_timeout: timedelta | None


@dataclass(frozen=True)
class Call:
    start_to_close: timedelta
    retry: RetryPolicy
    heartbeat: timedelta | None = None

    def options(self) -> ActivityOptions:
        return {
            "start_to_close_timeout": self.start_to_close,
            "retry_policy": self.retry,
            "heartbeat_timeout": self.heartbeat,  # None: no heartbeat timeout, as when left out
        }


def _retry(initial_s: float, max_s: float, attempts: int) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(seconds=initial_s),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=max_s),
        maximum_attempts=attempts,
        non_retryable_error_types=NON_RETRYABLE,
    )


# Sheets: quota errors are common and short-lived; many patient attempts.
SHEETS = Call(timedelta(seconds=30), _retry(1, 60, 10))
# Reading the plan: sheet + database.
READ_PLAN = Call(timedelta(seconds=30), _retry(1, 60, 10))
# LLM expansion + TopicClusterer (Serve) + pgvector dedup.
PLAN_ROW = Call(timedelta(minutes=10), _retry(2, 120, 5), heartbeat=timedelta(seconds=10))
# The agent graph: many LLM calls; checkpointed, so a retry resumes rather than restarts.
AGENT_GRAPH = Call(timedelta(minutes=20), _retry(5, 120, 4), heartbeat=timedelta(seconds=10))
# Image providers are slow and flaky; a rejected image is never retried.
IMAGES = Call(timedelta(minutes=5), _retry(2, 60, 5), heartbeat=timedelta(seconds=10))
# Object storage write of the Markdown (a local activity).
MARKDOWN = Call(timedelta(seconds=30), _retry(1, 30, 8))
# Publishing: the publisher itself never posts twice (idempotency key, reconcile), so retries are safe.
PUBLISH = Call(timedelta(seconds=60), _retry(2, 60, 8))
# Insights: platform reads inside reserved limits; a retry reads again what was not stored.
INSIGHTS = Call(timedelta(minutes=5), _retry(5, 120, 5))
# Short database steps, run as local activities.
LOCAL_DB = Call(timedelta(seconds=15), _retry(0.2, 5, 20))
# How many times a post that has to wait (quota, back-off) is tried again before the article gives up on it.
PUBLISH_WAITS = 20


FAILOVER_SHORT_CALL = timedelta(seconds=10)
FAILOVER_PUBLISH = timedelta(seconds=15)
FAILOVER_FIRST_RETRY = timedelta(seconds=1)
FAILOVER_MAX_RETRY = timedelta(seconds=10)


def _failover(call: Call, short: timedelta) -> Call:
    r = call.retry
    retry = RetryPolicy(
        initial_interval=min(r.initial_interval, FAILOVER_FIRST_RETRY),
        backoff_coefficient=r.backoff_coefficient,
        maximum_interval=min(r.maximum_interval or FAILOVER_MAX_RETRY, FAILOVER_MAX_RETRY),
        maximum_attempts=r.maximum_attempts,
        non_retryable_error_types=r.non_retryable_error_types,
    )
    if call.heartbeat is not None:  # long calls: a lost attempt already shows in its missing heartbeats
        return Call(call.start_to_close, retry, call.heartbeat)
    return Call(min(call.start_to_close, short), retry)


def use_fast_failover() -> None:
    """Notice a lost worker sooner, in this process (``icop worker --fast-failover``; the crash test).

    A worker killed mid-attempt is only noticed when the attempt times out: its heartbeat timeout (10 s)
    for long calls, its start-to-close timeout for short ones (30-60 s). This shortens the latter (short
    calls 10 s, publishing 15 s) and the retry intervals (first ≤ 1 s, at most 10 s apart); heartbeat
    timeouts, attempts and non-retryable errors are unchanged (a shorter heartbeat timeout times out
    healthy attempts on a loaded machine). The timeouts are those of the activities that the workflows of
    this process schedule; replay is unaffected (options are not part of the determinism check).
    """
    g = globals()
    for name in ("SHEETS", "READ_PLAN", "PLAN_ROW", "AGENT_GRAPH", "IMAGES", "MARKDOWN"):
        g[name] = _failover(g[name], FAILOVER_SHORT_CALL)
    g["PUBLISH"] = _failover(PUBLISH, FAILOVER_PUBLISH)
