"""The gateway application: ``create_app(settings)`` wires routers, the tenant context and problem
handlers."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from icop.db import create_pool
from icop.plans import plan_catalog
from icop.production import require_production_ready
from icop.runs.service import RunStarter
from icop.security import TokenCodec
from icop.settings import PLACEHOLDER, Settings
from icop.vault import Vault

from .analytics.endpoints import router as analytics_router
from .api_keys.endpoints import router as api_keys_router
from .articles.endpoints import router as articles_router
from .auth.endpoints import router as auth_router
from .brandvoice.endpoints import router as brandvoice_router
from .config import GatewayConfig
from .context import Services, pool_of
from .costs.endpoints import router as costs_router
from .credentials.endpoints import router as credentials_router
from .events.endpoints import router as events_router
from .google.endpoints import router as google_router
from .limits import RequestLimits, SecurityHeaders
from .modelkeys.endpoints import router as modelkeys_router
from .pipelines.endpoints import router as pipelines_router
from .plans.endpoints import router as plans_router
from .posts.endpoints import router as posts_router
from .problems import Problem, errors, install_problem_handlers, problem
from .quotas.endpoints import router as quotas_router
from .ratelimit.service import RateLimiter
from .runs.endpoints import router as runs_router
from .runs.temporal_starter import workflow_engine
from .telemetry import RequestTelemetry, metrics_router
from .tenants.endpoints import router as tenants_router
from .usage.endpoints import router as usage_router
from .webhooks.endpoints import router as webhooks_router

log = logging.getLogger("icop.gateway")

ROUTERS = [
    auth_router,
    tenants_router,
    api_keys_router,
    credentials_router,
    modelkeys_router,
    google_router,
    pipelines_router,
    runs_router,
    articles_router,
    posts_router,
    analytics_router,
    quotas_router,
    usage_router,
    costs_router,
    plans_router,
    brandvoice_router,
    webhooks_router,
    events_router,
]


class Health(BaseModel):
    status: str


def _jwt_secret(settings: Settings) -> str:
    secret = settings.jwt_secret.get_secret_value()
    if secret in ("", PLACEHOLDER) and settings.env == "development":
        log.warning("ICOP_JWT_SECRET is not set: using a per-process secret (tokens end with the process)")
        return secrets.token_urlsafe(48)
    return secret


def create_app(
    settings: Settings,
    *,
    config: GatewayConfig | None = None,
    pool: asyncpg.Pool | None = None,
    run_starter: RunStarter | None = None,
) -> FastAPI:
    """Build the gateway. With ``pool`` the caller owns the pool; otherwise the app opens one at start-up.
    In production, a configuration that would hurt is refused here (``icop.production``)."""
    require_production_ready(settings)
    # plan limits have one home (icop.plans, with the operator's ICOP_PLAN_LIMITS): the workers read it too
    config = dataclasses.replace(config or GatewayConfig(), plans=plan_catalog(settings))
    engine = workflow_engine(settings)  # ICOP_WORKFLOW_ENGINE
    svc = Services(
        pool=pool,
        codec=TokenCodec(_jwt_secret(settings), config.jwt_issuer, config.jwt_audience, config.access_ttl_s),
        vault=Vault.from_spec(settings.vault_keys.get_secret_value()),
        config=config,
        limiter=RateLimiter(config),
        settings=settings,
        engine=dataclasses.replace(engine, run_starter=run_starter) if run_starter else engine,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        owned = svc.pool is None
        if owned:
            svc.pool = await create_pool(settings.pg_dsn("app"), settings.db_pool_min, settings.db_pool_max)
        if svc.engine.temporal is not None:  # connect early when we can; otherwise on first use
            try:
                await asyncio.wait_for(svc.engine.temporal(), 5)
            except Exception as e:
                log.warning("Temporal is not reachable yet (%s); runs and schedules will retry on use", e)
        try:
            yield
        finally:
            if owned and svc.pool is not None:
                await svc.pool.close()
                svc.pool = None

    app = FastAPI(
        title="ICOP API",
        version="1.0.0",
        description="Intelligent Content Orchestration Platform: tenants, pipelines, runs, articles, "
        "posts, quotas. "
        "Authenticate with a Bearer access token (from /v1/auth/login) or an API key (X-API-Key). "
        "Errors are application/problem+json.",
        lifespan=lifespan,
        # The request span is ours (gateway.telemetry: the route, the status and the caller's ids; no raw
        # URL, no exception text), and so are the metrics (Prometheus): FastAPI's own stay off.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.services = svc
    install_problem_handlers(app)
    for router in ROUTERS:
        app.include_router(router)

    app.include_router(metrics_router)

    @app.get("/healthz", response_model=Health, tags=["health"], summary="Liveness")
    async def healthz() -> Health:
        return Health(status="ok")

    @app.get(
        "/readyz",
        response_model=Health,
        tags=["health"],
        summary="Readiness: the database answers and start-up warm-ups are done",
        responses=errors(503),
    )
    async def readyz() -> Health | JSONResponse:
        if any(not t.done() for t in svc.warming):
            return problem(503, "warming up (loading models): retry in a few seconds")
        try:
            async with asyncio.timeout(2):
                await pool_of(svc).fetchval("SELECT 1")
        except Exception as e:  # noqa: BLE001 - any failure means "do not send traffic here"
            log.warning("readiness: the database does not answer (%s)", e)
            return problem(503, "the database does not answer")
        return Health(status="ok")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
    # Outermost last: the access log and the request metrics see every answer, the headers go on every
    # answer (limits' included).
    app.add_middleware(
        RequestLimits,
        max_body=settings.request_max_body_bytes,
        max_upload=settings.request_max_upload_bytes,
        max_depth=settings.request_max_json_depth,
    )
    app.add_middleware(
        SecurityHeaders, hsts_max_age_s=settings.hsts_max_age_s, always_hsts=settings.env == "production"
    )
    app.add_middleware(RequestTelemetry)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory gateway.app:app_from_env``: settings from the environment/state dir."""
    from icop.observability.logs import configure_logging
    from icop.observability.tracing import configure_tracing
    from icop.settings import load_settings

    settings = load_settings()
    configure_logging(settings, "gateway")
    configure_tracing(settings, "gateway")
    return create_app(settings)
