"""``icop gateway``: serve the public API with uvicorn (loopback by default)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

gateway_app = typer.Typer(help="The public API (FastAPI) on uvicorn.", no_args_is_help=True)


@gateway_app.command("serve")
def serve(
    state_dir: Annotated[Path | None, typer.Option("--state-dir", envvar="ICOP_STATE_DIR")] = None,
    host: Annotated[
        str, typer.Option(help="Bind address; loopback unless you mean to expose it.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8080,
    workers: Annotated[int, typer.Option(help="Processes; rate limits are shared through PostgreSQL.")] = 1,
    log_level: Annotated[str, typer.Option()] = "info",
) -> None:
    """Run the gateway (any number of these may run side by side). HTTPS when ICOP_TLS_CERT_FILE and
    ICOP_TLS_KEY_FILE are set; in production a non-loopback --host needs them (or ICOP_TLS_OFFLOADED)."""
    import uvicorn

    from icop.settings import load_settings

    from .startup import refuse_unready

    if state_dir is not None:
        os.environ["ICOP_STATE_DIR"] = str(state_dir)
    settings = load_settings(state_dir)
    refuse_unready(settings, [host])
    tls = settings.tls_cert_file and settings.tls_key_file
    uvicorn.run(
        "gateway.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=False,
        server_header=False,
        # The app logs each request itself (no query strings) and configures logging (gateway.app): uvicorn
        # keeps its hands off both, so its own lines reach the same redacting handler.
        access_log=False,
        log_config=None,
        ssl_certfile=str(settings.tls_cert_file) if tls else None,
        ssl_keyfile=str(settings.tls_key_file) if tls else None,
    )
