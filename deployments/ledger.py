"""What each Serve replica served, counted where the work happens.

Every deployment counts the requests it handles into one small detached actor per Ray cluster, keyed by
deployment and replica. Tests and benchmarks read it before and after a run to prove that the product's
activities reached the deployments (writers = 3 × articles, images and JPEGs = images, …), and operators
can read it with ``icop serve status``. A count is sent without waiting for it (one actor message per
request), so it costs the replica next to nothing and never fails a request.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import ray

NAME, NAMESPACE = "icop-serve-ledger", "icop"
log = logging.getLogger(__name__)


@ray.remote(num_cpus=0)
class ServeLedger:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, deployment: str, replica: str, n: int) -> None:
        self._counts[(deployment, replica)] += n

    def counts(self) -> dict[str, dict[str, int]]:
        """Requests served, by ``application/deployment``, then by replica."""
        out: dict[str, dict[str, int]] = {}
        for (deployment, replica), n in self._counts.items():
            out.setdefault(deployment, {})[replica] = n
        return out


def ledger() -> Any:
    """The cluster's ledger actor (created by the first caller)."""
    return ServeLedger.options(  # type: ignore[attr-defined]  # ray.remote adds options()
        name=NAME, namespace=NAMESPACE, lifetime="detached", get_if_exists=True
    ).remote()


def served_totals() -> dict[str, int]:
    """Requests served so far, by ``application/deployment`` (all replicas)."""
    counts: dict[str, dict[str, int]] = ray.get(ledger().counts.remote())
    return {deployment: sum(per.values()) for deployment, per in counts.items()}


class Tally:
    """A replica's counter: ``tally(n)`` after handling ``n`` requests."""

    def __init__(self) -> None:
        from ray import serve

        ctx = serve.get_replica_context()
        self.deployment, self.replica = f"{ctx.app_name}/{ctx.deployment}", ctx.replica_tag
        self._ledger = ledger()

    def __call__(self, n: int = 1) -> None:
        try:
            self._ledger.add.remote(self.deployment, self.replica, n)
        except Exception as e:  # a count must never fail the request it counts
            log.warning("serve ledger unavailable: %s", e)
