"""One typed settings object for the whole platform, read from the environment (prefix ``ICOP_``).

Every variable is documented in ``.env.example``. In production mode, secrets refuse placeholder
values so that a deployment cannot start with the development defaults.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER = "change-me"
DEV_VAULT_KEY = base64.b64encode(b"icop-development-vault-key-32byt").decode()  # 32 bytes, dev only


class Settings(BaseSettings):
    """Platform settings. Field names map to ``ICOP_<NAME>`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="ICOP_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    state_dir: Path = Field(default=Path(".icop"), description="Where the embedded stack keeps its state.")
    bind_host: str = Field(default="127.0.0.1", description="Loopback address the embedded stack binds.")

    # PostgreSQL: the embedded stack fills these in; production passes URLs.
    pg_port: int = 55432
    pg_database: str = "icop"
    pg_superuser_password: SecretStr = SecretStr(PLACEHOLDER)
    pg_owner_password: SecretStr = SecretStr(PLACEHOLDER)
    pg_app_password: SecretStr = SecretStr(PLACEHOLDER)
    database_url: str | None = Field(default=None, description="App role DSN (owns nothing, NOBYPASSRLS).")
    migrate_database_url: str | None = Field(default=None, description="Owner role DSN used by migrations.")
    superuser_database_url: str | None = Field(
        default=None, description="Superuser DSN for the bootstrap step (roles, extensions); optional in production."
    )
    db_pool_min: int = 1
    db_pool_max: int = 10

    # Temporal
    temporal_port: int = 57233
    temporal_address: str | None = Field(default=None, description="host:port of a Temporal frontend.")
    temporal_namespace: str = "default"
    temporal_ui_port: int = 0  # 0: headless; otherwise the dev server's web UI on loopback

    # Ray
    ray_node_ip: str = Field(
        default="127.0.0.2",
        description="Node address for the local Ray head: a loopback alias other than 127.0.0.1, which Ray "
        "would rewrite to the machine's interface address.",
    )
    ray_gcs_port: int = 56380
    ray_client_port: int = 56381
    ray_agent_port: int = 56382
    ray_min_worker_port: int = 56400
    ray_max_worker_port: int = 56599
    ray_num_cpus: int = 2
    serve_http_port: int = 58000
    ray_address: str | None = Field(default=None, description="Existing cluster (host:port); unset: the local head.")

    # Secrets
    jwt_secret: SecretStr = SecretStr(PLACEHOLDER)
    vault_keys: SecretStr = Field(
        default=SecretStr(f"dev1:{DEV_VAULT_KEY}"),
        description="Comma-separated key_id:base64(32 bytes) pairs; the first is used to encrypt.",
    )

    @model_validator(mode="after")
    def _no_placeholders_in_production(self) -> Settings:
        if self.env != "production":
            return self
        bad = [
            name
            for name in ("jwt_secret",)
            if getattr(self, name).get_secret_value() in ("", PLACEHOLDER)
        ]
        if DEV_VAULT_KEY in self.vault_keys.get_secret_value():
            bad.append("vault_keys")
        if not self.database_url:
            bad.append("database_url")
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


def load_settings(state_dir: Path | str | None = None, **overrides: object) -> Settings:
    """Settings from the environment, ``.env`` and the embedded stack's ``<state_dir>/stack.env``.

    The stack writes its generated ports and passwords to ``stack.env``; environment variables win
    over both files.
    """
    state = Path(state_dir or os.environ.get("ICOP_STATE_DIR") or ".icop")
    files = [f for f in (Path(".env"), state / STACK_ENV) if f.is_file()]
    return Settings(_env_file=files or None, state_dir=state, **overrides)  # type: ignore[call-arg]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached). Tests build their own with ``load_settings``."""
    return load_settings()


def clear_settings_cache() -> None:
    get_settings.cache_clear()


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")
