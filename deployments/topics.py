"""Ray Serve: the TopicClusterer deployment (a thin shell over ``icop.planning.clustering``).

The model is loaded and warmed once per replica (the first BERTopic fit costs ≈ 12 s of numba
compilation); concurrent requests' candidates are embedded in one batch; labels come from the LLM
representation model, concurrently per cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from ray import serve
from ray.serve import Application, Deployment
from ray.serve.handle import DeploymentHandle

from deployments.ledger import Tally
from deployments.options import deployment_options
from icop.connectors.config import LlmName
from icop.offline import apply_offline_env
from icop.settings import Settings

if TYPE_CHECKING:  # the planner (BERTopic and all) is imported in the replica, after apply_offline_env
    from icop.planning.service import ClusterCall

APP_NAME = "topics"


@dataclass
class SubtopicRequest:
    main_topic: str
    language: str
    candidates: list[str]
    want: int
    threshold: float = 0.85
    tenant_id: str | None = None


@dataclass
class SubtopicReply:
    subtopics: list[dict[str, Any]] = field(default_factory=list)  # SubtopicResult as dicts


@serve.deployment(name="TopicClusterer")  # resources: cluster/serve_config.yaml (deployments.options)
class TopicClustererDeployment:
    def __init__(
        self, settings: Settings, model_path: str | None = None, labeler_llm: LlmName = "gpt"
    ) -> None:
        apply_offline_env()
        from icop.connectors.llm import make_llm
        from icop.planning.clustering import TopicClusterer
        from icop.planning.service import LlmLabeler

        self.core = TopicClusterer(model_path or settings.embedding_model_path or None)
        self.labeler = LlmLabeler(make_llm(settings, labeler_llm))
        self.tally = Tally()

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.01)
    async def _embed(self, batches: list[list[str]]) -> list[np.ndarray]:
        flat = [t for b in batches for t in b]
        vecs = await asyncio.to_thread(self.core.embed, flat)
        out, i = [], 0
        for b in batches:
            out.append(vecs[i : i + len(b)])
            i += len(b)
        return out

    async def subtopics(self, req: SubtopicRequest) -> SubtopicReply:
        from icop.planning.clustering import unique_candidates
        from icop.planning.service import label_clusters

        self.tally()
        cands = unique_candidates(req.candidates)
        if not cands:
            return SubtopicReply()
        emb = await self._embed(cands)
        proposal = await asyncio.to_thread(self.core.propose, cands, req.want, emb)
        labels = await label_clusters(self.labeler, req.main_topic, req.language, proposal.label_inputs())
        results = await asyncio.to_thread(self.core.finalize, proposal, labels, req.threshold)
        return SubtopicReply([asdict(r) for r in results])

    def stats(self) -> dict[str, float]:
        """The replica's resident and peak memory, for benchmarks and capacity planning."""
        import resource

        import psutil

        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {
            "rss_mib": psutil.Process().memory_info().rss / 2**20,
            "peak_rss_mib": round(peak_kib / 1024, 1),
        }


def build_topics_app(
    settings: Settings, model_path: str | None = None, overrides: Mapping[str, Any] | None = None
) -> Application:
    """The TopicClusterer with the resources the Serve config declares for it (``overrides`` on top)."""
    options = deployment_options(APP_NAME, "TopicClusterer", overrides)
    # mypy does not apply class decorators: @serve.deployment made the class a Deployment
    return cast(Deployment, TopicClustererDeployment).options(**options).bind(settings, model_path)


def cluster_call(handle: DeploymentHandle[Any]) -> ClusterCall:
    """Adapt a handle to the planner's ``ClusterCall``."""
    from icop.planning.clustering import SubtopicResult

    async def call(main_topic: str, language: str, candidates: list[str], want: int) -> list[SubtopicResult]:
        reply: SubtopicReply = await handle.subtopics.remote(
            SubtopicRequest(main_topic, language, candidates, want)
        )
        return [SubtopicResult(**d) for d in reply.subtopics]

    return call
