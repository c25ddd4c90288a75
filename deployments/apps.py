"""Typed application builders for Serve configs (``cluster/serve_config.yaml``, ``serve deploy``).

Each ``import_path`` in the config names one of these functions; Serve validates the application's
``args`` against the function's pydantic model and calls it. The builders only translate arguments
and call the modules' own ``build_*`` functions; every builder leaves secrets out of Serve's stored
config where its module allows it (each replica reads its own ``ICOP_*`` environment).

    serve deploy cluster/serve_config.yaml            # or: serve run deployments.apps:jpeg_app
"""

# No ``from __future__ import annotations`` here: Serve reads each builder's parameter annotation at
# run time (``inspect.signature``) and validates ``args`` into the model only when it is a real class.
# (``deployments.jpeg.app_builder`` has string annotations, so Serve would hand it a plain dict: the
# ``jpeg_app`` below validates first and then calls it.)

from pydantic import BaseModel, Field
from ray.serve import Application

from deployments.jpeg import JpegAppArgs
from icop.connectors.config import LlmName
from icop.production import require_production_ready
from icop.settings import Settings, get_settings

__all__ = ["JpegAppArgs", "ImagesAppArgs", "TopicsAppArgs", "WriterAppArgs", "jpeg_app", "images_app",
           "topics_app", "writer_app"]  # fmt: skip


def _ready_settings() -> Settings:
    """This process's settings, after the production start-up check (``icop.production``): an application
    that would write offline text, draw offline images or store objects under file:// URLs is refused at
    deploy time, not discovered in the articles."""
    settings = get_settings()
    require_production_ready(settings)
    return settings


def jpeg_app(args: JpegAppArgs) -> Application:
    """The JpegConverter on its own (``deployments.jpeg``)."""
    from deployments.jpeg import app_builder

    _ready_settings()  # it stores JPEGs and hands out their URLs
    return app_builder(JpegAppArgs.model_validate(args))


class TopicsAppArgs(BaseModel):
    """The TopicClusterer application (``deployments.topics``)."""

    model_path: str | None = Field(
        default=None,
        description="A sentence-transformers folder in place of MiniLM; blank: ICOP_EMBEDDING_MODEL_PATH "
        "or the shipped all-MiniLM-L6-v2 (ICOP_EMBEDDING_MODEL chooses the models).",
    )


def topics_app(args: TopicsAppArgs) -> Application:
    from deployments.topics import build_topics_app

    return build_topics_app(_ready_settings(), args.model_path)


class WriterAppArgs(BaseModel):
    """One provider's Writer application (``deployments.writers``); its replicas, concurrency and CPUs
    are the config's ``deployments`` entry."""

    provider: LlmName


def writer_app(args: WriterAppArgs) -> Application:
    from deployments.writers import build_writer_app

    _ready_settings()  # each replica reads its own environment; the builder's is checked here
    return build_writer_app(args.provider, None)


class ImagesAppArgs(BaseModel):
    """ImageGenerator composed with its own JpegConverter (``deployments.images``): the providers'
    concurrency bounds inside a replica and the converter's batching (resources: ``deployments``)."""

    max_concurrent: dict[str, int] | None = None
    jpeg: JpegAppArgs = Field(default_factory=JpegAppArgs)


def images_app(args: ImagesAppArgs) -> Application:
    from deployments.images import build_images_app

    return build_images_app(
        _ready_settings(),
        max_concurrent=args.max_concurrent,
        pass_settings=False,
        jpeg=args.jpeg.model_dump(),
    )
