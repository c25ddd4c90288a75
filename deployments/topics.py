"""Ray Serve: the TopicClusterer deployment (a thin shell over ``icop.planning.clustering``).

The embedding models the settings can choose (``icop.embeddings.EmbeddingChoice``) are loaded and warmed
once per replica (the first BERTopic fit costs ≈ 12 s of numba compilation); concurrent requests'
candidates are embedded in one batch per model; labels come from the LLM representation model,
concurrently per cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from opentelemetry.trace import SpanKind
from ray import serve
from ray.serve import Application, Deployment
from ray.serve.handle import DeploymentHandle

from deployments.ledger import Tally
from deployments.options import deployment_options
from icop.connectors.config import LlmName
from icop.embeddings import EmbeddingChoice, EmbeddingModel
from icop.observability.tracing import attached, carrier, configure_tracing, span
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
    model: EmbeddingModel | None = None  # None: the settings' choice for ``language``
    threshold: float | None = None  # None: the model's calibrated near-duplicate threshold
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
        configure_tracing(settings, "serve")
        from icop.connectors.llm import make_llm
        from icop.planning.clustering import TopicClusterer
        from icop.planning.service import LlmLabeler

        choice = EmbeddingChoice.from_settings(settings)
        if model_path:
            choice = EmbeddingChoice(choice.setting, model_path, choice.threads)
        self.choice = choice
        self.cores = {m: TopicClusterer(choice.embedder(m)) for m in choice.models()}
        self.labeler = LlmLabeler(make_llm(settings, labeler_llm))
        self.tally = Tally()

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.01)
    async def _embed(self, batches: list[tuple[EmbeddingModel, list[str]]]) -> list[np.ndarray]:
        out: list[np.ndarray | None] = [None] * len(batches)
        for model in {m for m, _ in batches}:  # one encode per model for the requests that came together
            mine = [i for i, (m, _) in enumerate(batches) if m == model]
            flat = [t for i in mine for t in batches[i][1]]
            vecs = await asyncio.to_thread(self.cores[model].embed, flat)
            start = 0
            for i in mine:
                out[i] = vecs[start : start + len(batches[i][1])]
                start += len(batches[i][1])
        return [v for v in out if v is not None]

    async def subtopics(self, req: SubtopicRequest, trace: dict[str, str] | None = None) -> SubtopicReply:
        """Cluster one row's candidates; ``trace``: the caller's trace context, continued here."""
        self.tally()
        with attached(trace), span("TopicClusterer.subtopics", SpanKind.SERVER, language=req.language):
            return await self._subtopics(req)

    async def _subtopics(self, req: SubtopicRequest) -> SubtopicReply:
        from icop.planning.clustering import unique_candidates
        from icop.planning.service import label_clusters

        cands = unique_candidates(req.candidates)
        if not cands:
            return SubtopicReply()
        model = req.model or self.choice.model(req.language)
        if model not in self.cores:
            raise ValueError(f"this deployment has no {model!r} model; ICOP_EMBEDDING_MODEL decides which")
        core = self.cores[model]
        emb = await self._embed((model, cands))
        proposal = await asyncio.to_thread(core.propose, cands, req.want, emb)
        labels = await label_clusters(self.labeler, req.main_topic, req.language, proposal.label_inputs())
        results = await asyncio.to_thread(core.finalize, proposal, labels, req.threshold)
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

    async def call(
        main_topic: str, language: str, candidates: list[str], want: int, model: EmbeddingModel
    ) -> list[SubtopicResult]:
        reply: SubtopicReply = await handle.subtopics.remote(
            SubtopicRequest(main_topic, language, candidates, want, model), carrier()
        )
        return [SubtopicResult(**d) for d in reply.subtopics]

    return call
