"""ICOP_ENV=production refuses what would hurt, one refusal per case, each saying what to set; development
checks nothing; every process that serves or works runs the check before it starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from icop.production import ProductionConfigError, production_problems, require_production_ready
from icop.settings import EMULATOR_KEY, Settings

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "jwt_secret": "x" * 48,
    "vault_keys": "k9:" + "A" * 43 + "=",
    "database_url": "postgresql://a:b@db/icop",
}
READY: dict[str, Any] = {
    **SECRETS,
    "env": "production",
    "openai_api_key": "sk-live",
    "anthropic_api_key": "sk-ant-live",
    "gemini_api_key": "gm-live",
    "fal_key": "fal-live",
    "google_client_id": "1234-live.apps.googleusercontent.com",
    "google_client_secret": "GOCSPX-live",
    "storage_backend": "s3",
    "s3_bucket": "icop-media",
    "s3_presign": True,
    "temporal_address": "temporal-frontend:7233",
}


def production(**changes: Any) -> Settings:
    return Settings(_env_file=None, **{**READY, **changes})


def only_problem(settings: Settings, listen: tuple[str, ...] = ()) -> str:
    [problem] = production_problems(settings, listen)
    return problem


def test_a_ready_production_configuration_starts() -> None:
    s = production()
    assert production_problems(s, ["127.0.0.1", "::1", "localhost"]) == []
    require_production_ready(s)


def test_development_checks_nothing() -> None:
    s = Settings(_env_file=None, env="development")
    assert s.workflow_engine == "none" and s.storage_backend == "local" and s.openai_api_key is None
    assert production_problems(s, ["0.0.0.0"]) == []


@pytest.mark.parametrize(
    ("unset", "expected"),
    [
        ("anthropic_api_key", "Claude writer: no key, so it would write offline placeholder text instead; "
                              "set ICOP_ANTHROPIC_API_KEY"),
        ("gemini_api_key", "Gemini writer: no key, so it would write offline placeholder text instead; "
                           "set ICOP_GEMINI_API_KEY"),
        ("fal_key", "FLUX images: no key, so it would draw offline placeholder images instead; "
                    "set ICOP_FAL_KEY"),
        ("google_client_secret", "Google Sheets: no key, so it could not connect any tenant's Google account "
                                 "to read its plan; set ICOP_GOOGLE_CLIENT_ID and ICOP_GOOGLE_CLIENT_SECRET"),
    ],
)  # fmt: skip
def test_a_provider_without_a_key_is_refused(unset: str, expected: str) -> None:
    assert only_problem(production(**{unset: None})) == expected


def test_no_openai_key_refuses_the_gpt_writer_and_dalle() -> None:
    assert production_problems(production(openai_api_key=None)) == [
        "GPT writer: no key, so it would write offline placeholder text instead; set ICOP_OPENAI_API_KEY",
        "DALL-E 3 images: no key, so it would draw offline placeholder images instead; "
        "set ICOP_OPENAI_API_KEY",
    ]


def test_the_emulators_key_is_refused() -> None:
    assert only_problem(production(gemini_api_key=EMULATOR_KEY)) == (
        "Gemini writer: ICOP_GEMINI_API_KEY is the emulators' key; set the provider's own key"
    )


def test_a_provider_on_a_loopback_address_is_refused() -> None:
    url = "http://127.0.0.1:21040/anthropic"
    assert only_problem(production(anthropic_base_url=url)) == (
        f"Claude writer: ICOP_ANTHROPIC_BASE_URL={url} is a loopback address (an emulator); "
        "unset it for the real service"
    )
    assert "ICOP_FAL_HOST=localhost:21041 is a loopback address" in only_problem(
        production(fal_host="localhost:21041")
    )


def test_the_drive_emulator_is_refused() -> None:
    url = "http://127.0.0.1:21040/drive/v3/"
    assert only_problem(production(drive_api_endpoint=url)) == (
        f"Google Drive: ICOP_DRIVE_API_ENDPOINT={url} is a loopback address (an emulator); "
        "unset it for the real service"
    )


def test_the_social_emulator_is_refused() -> None:
    assert only_problem(production(social_x_base_url="http://127.0.0.1:21042")) == (
        "social platforms: ICOP_SOCIAL_X_BASE_URL=http://127.0.0.1:21042 is a loopback address (the social "
        "emulator); unset it for the platform (https://api.x.com)"
    )
    assert only_problem(production(social_meta_app_id="icop-emulator-meta")) == (
        "social platforms: ICOP_SOCIAL_META_APP_ID is the social emulator's app; set your own app's"
    )


def test_an_object_store_handing_out_file_urls_is_refused() -> None:
    assert only_problem(production(storage_backend="local")) == (
        "object storage: ICOP_STORAGE_BACKEND=local without ICOP_STORAGE_PUBLIC_BASE_URL hands out file:// "
        "URLs, which no platform can fetch; set ICOP_STORAGE_BACKEND=s3 (with ICOP_S3_BUCKET and, for "
        "private buckets, ICOP_S3_PRESIGN=true) or a public base URL"
    )
    assert (
        production_problems(
            production(storage_backend="local", storage_public_base_url="https://cdn.example")
        )
        == []
    )
    assert (
        "ICOP_STORAGE_PUBLIC_BASE_URL=file:///srv/media cannot be fetched by the platforms"
        in only_problem(production(storage_public_base_url="file:///srv/media"))
    )
    assert "ICOP_S3_ENDPOINT_URL=http://127.0.0.1:21053 is a loopback address" in only_problem(
        production(s3_endpoint_url="http://127.0.0.1:21053")
    )


def test_workflow_engine_is_temporal_by_default_and_none_is_refused() -> None:
    assert production().workflow_engine == "temporal"
    assert only_problem(production(workflow_engine="none")) == (
        "workflow engine: ICOP_WORKFLOW_ENGINE=none records runs but never starts them; unset it "
        "(production defaults to temporal) and set ICOP_TEMPORAL_ADDRESS"
    )


def test_a_non_loopback_bind_without_tls_is_refused(tmp_path: Path) -> None:
    assert only_problem(production(), ("0.0.0.0",)) == (
        "listening on 0.0.0.0, a non-loopback address, without TLS: set ICOP_TLS_CERT_FILE and "
        "ICOP_TLS_KEY_FILE, or ICOP_TLS_OFFLOADED=true if a proxy in front terminates TLS (and only it can "
        "reach this port)"
    )
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("cert")
    key.write_text("key")
    assert (
        production_problems(production(tls_cert_file=cert, tls_key_file=key), ["0.0.0.0", "10.0.0.5"]) == []
    )
    assert production_problems(production(tls_offloaded=True), ["0.0.0.0"]) == []
    assert production_problems(production(tls_cert_file=cert), ["0.0.0.0"])[0] == (
        "TLS: set both ICOP_TLS_CERT_FILE and ICOP_TLS_KEY_FILE, or neither"
    )
    missing = tmp_path / "missing.pem"
    assert (
        only_problem(production(tls_cert_file=missing, tls_key_file=key)) == f"TLS: no such file: {missing}"
    )


def test_the_error_lists_every_problem_at_once() -> None:
    s = production(fal_key=None, storage_backend="local", workflow_engine="none")
    with pytest.raises(ProductionConfigError) as e:
        require_production_ready(s)
    message = str(e.value)
    assert message.startswith(
        "ICOP_ENV=production refuses to start with this configuration:\n  - FLUX images"
    )
    assert "ICOP_FAL_KEY" in message and "file://" in message and "ICOP_WORKFLOW_ENGINE=none" in message
    assert message.endswith("see docs/providers.md (Production).")


def test_the_gateway_app_refuses_to_build() -> None:
    with pytest.raises(ProductionConfigError, match="ICOP_GOOGLE_CLIENT_SECRET"):
        create_app(production(google_client_secret=None))


# ---- every process entry point that serves or works ------------------------------------------------------
def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A production environment missing only the Claude key (and any ``extra``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICOP_")}
    env |= {f"ICOP_{k.upper()}": str(v) for k, v in READY.items() if k != "anthropic_api_key"}
    return env | {"ICOP_STATE_DIR": str(tmp_path), **extra}


@pytest.mark.parametrize(
    "command",
    [
        ["gateway", "serve", "--host", "0.0.0.0", "--port", "21999"],
        ["worker", "all"],
        ["events", "worker"],
        ["serve", "deploy"],
    ],
)
def test_every_command_that_serves_or_works_refuses(command: list[str], tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "cluster.cli", *command],
        cwd=tmp_path,  # no .env here
        env={**production_env(tmp_path), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1, r.stdout + r.stderr
    assert "error: ICOP_ENV=production refuses to start" in r.stderr
    assert "Claude writer: no key" in r.stderr and "set ICOP_ANTHROPIC_API_KEY" in r.stderr
    assert ("listening on 0.0.0.0" in r.stderr) == (command[0] == "gateway")


def test_serve_builders_refuse(tmp_path: Path) -> None:
    code = (
        "from deployments.apps import WriterAppArgs, writer_app\n"
        "from icop.production import ProductionConfigError\n"
        "try:\n    writer_app(WriterAppArgs(provider='gpt'))\n"
        "except ProductionConfigError as e:\n    print(e)\n    raise SystemExit(3)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**production_env(tmp_path), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 3, r.stdout + r.stderr
    assert "Claude writer: no key" in r.stdout
