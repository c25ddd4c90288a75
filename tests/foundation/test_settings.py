"""One settings object: every field documented in .env.example, placeholders refused in production."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dotenv import dotenv_values

from icop.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_every_setting_is_documented_in_env_example() -> None:
    text = EXAMPLE.read_text()
    missing = [f"ICOP_{n.upper()}" for n in Settings.model_fields if f"ICOP_{n.upper()}=" not in text]
    assert missing == []


def test_env_example_values_parse() -> None:
    values = {k: v for k, v in dotenv_values(EXAMPLE).items() if v not in (None, "")}
    fields: dict[str, Any] = {k.removeprefix("ICOP_").lower(): v for k, v in values.items()}
    s = Settings(**fields)
    assert s.env == "development" and s.pg_port == 21010


def test_production_refuses_development_secrets() -> None:
    with pytest.raises(ValueError, match="ICOP_JWT_SECRET.*ICOP_VAULT_KEYS.*ICOP_DATABASE_URL"):
        Settings(env="production")
    ok = Settings(env="production", jwt_secret="x" * 48, vault_keys="k9:" + "A" * 43 + "=",
                  database_url="postgresql://icop_app:pw@db/icop")  # fmt: skip
    assert ok.pg_dsn("app").startswith("postgresql://icop_app")


def test_default_ports_are_distinct_and_below_the_ephemeral_range() -> None:
    """Linux hands out client source ports from 32768 up: a server port there can be taken by any outgoing
    connection. Every default port (and Ray's worker range) is below it, and documented in the README."""
    fields = Settings.model_fields
    singles = {n: f.default for n, f in fields.items() if n.endswith("_port") and "worker" not in n}
    singles.pop("temporal_ui_port")  # 0: the web UI is off
    workers = range(fields["ray_min_worker_port"].default, fields["ray_max_worker_port"].default + 1)
    every = [*singles.values(), *workers]
    assert len(set(every)) == len(every)
    assert all(1024 < p < 32768 for p in every), singles
    readme = (EXAMPLE.parent / "README.md").read_text()
    assert all(str(p) in readme for p in singles.values()), [
        n for n, p in singles.items() if str(p) not in readme
    ]


def test_the_embedded_stack_stores_objects_in_its_s3_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the embedded stack (a stack.env exists) objects go to its SeaweedFS with presigned URLs, unless a
    backend was chosen; without a stack, the local folder store (unit tests) stays the default."""
    from icop.settings import load_settings

    monkeypatch.delenv("ICOP_STORAGE_BACKEND", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    assert load_settings(tmp_path / "none").storage_backend == "local"
    state = tmp_path / "stack"
    state.mkdir()
    (state / "stack.env").write_text("ICOP_SEAWEED_S3_PORT=23456\nICOP_S3_ACCESS_KEY_ID=k\n")
    s = load_settings(state)
    assert (s.storage_backend, s.s3_endpoint_url, s.s3_presign) == ("s3", "http://127.0.0.1:23456", True)
    assert s.s3_presign_ttl >= 86_400
    monkeypatch.setenv("ICOP_STORAGE_BACKEND", "local")
    assert load_settings(state).storage_backend == "local"
    with pytest.raises(ValueError):
        Settings(s3_presign_ttl=3600)  # shorter than the platforms' fetch windows
