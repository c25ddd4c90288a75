"""One process, two sites: plain HTTP (OpenAI, Anthropic, Gemini, Sheets, Drive, admin) and TLS (fal queue).

Admin API (plain-HTTP site):
  GET  /_admin/health
  GET  /_admin/knobs                    every service's knobs
  POST /_admin/knobs                    {"service": "gpt"|…|"sheets"|"drive"|"naver"|"web"|"*",
                                         "knobs": {...}, "replace": false}
  POST /_admin/reset                    knobs, request log, spreadsheets, fal jobs back to empty; the LLM
                                         services' keys back to the ones the emulator started with
  GET  /_admin/keys                     per LLM service ("gpt", "claude", "gemini"), how many keys it knows
  POST /_admin/keys                     {"service": …, "keys": [key, …]}: the service now knows these keys
  POST /_admin/keys/revoke              {"service": …, "key": key}: the key is refused from now on
  GET  /_admin/requests?service=&since= the request log;  DELETE /_admin/requests clears it
  PUT  /_admin/sheets/{id}              seed a spreadsheet {"sheets": {tab: rows}, "owner": e-mail,
                                         "shared_with": [e-mail, …], "title": name, "modified_time": ISO,
                                         "trashed": bool};  GET reads it back (Drive lists it by title)
  POST /_admin/google/config|revoke|service_accounts   the Google OAuth emulator (emulators/google_oauth.py)
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from . import (
    anthropic_api,
    drive_api,
    fal_api,
    gemini_api,
    google_oauth,
    openai_api,
    openai_responses,
    search_api,
    sheets_api,
)
from .core import LLM_SERVICES, Context
from .faults import SERVICES
from .tls import make_certificate, server_context

log = logging.getLogger("emulators")


async def _files(request: web.Request) -> web.StreamResponse:
    ctx: Context = request.app["ctx"]
    found = ctx.files.files.get(request.match_info["name"])
    if found is None:
        return web.json_response({"error": "not found"}, status=404)
    return web.Response(body=found[1], content_type=found[0])


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "services": list(SERVICES)})


async def _get_knobs(request: web.Request) -> web.Response:
    return web.json_response(request.app["ctx"].faults.snapshot())


async def _set_knobs(request: web.Request) -> web.Response:
    ctx: Context = request.app["ctx"]
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return web.json_response({"error": "invalid JSON"}, status=400)
    service = body.get("service", "*")
    names = list(SERVICES) if service == "*" else [service]
    if any(n not in SERVICES for n in names):
        return web.json_response(
            {"error": f"unknown service {service!r}; known: {list(SERVICES)}"}, status=400
        )
    try:
        for n in names:
            ctx.faults[n].configure(body.get("knobs") or {}, replace=bool(body.get("replace")))
    except (ValueError, TypeError) as e:
        return web.json_response({"error": str(e)}, status=400)
    return web.json_response({n: ctx.faults.snapshot()[n] for n in names})


async def _reset(request: web.Request) -> web.Response:
    ctx: Context = request.app["ctx"]
    ctx.faults.reset()
    ctx.log.clear()
    ctx.state.clear()
    ctx.keys.reset()
    return web.json_response({"ok": True})


async def _key_request(request: web.Request) -> tuple[Context, str, dict[str, Any]]:
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(text="invalid JSON") from None
    service = body.get("service") if isinstance(body, dict) else None
    if service not in LLM_SERVICES:
        raise web.HTTPBadRequest(text=f"service must be one of {list(LLM_SERVICES)}")
    return request.app["ctx"], service, body


async def _get_keys(request: web.Request) -> web.Response:
    ctx: Context = request.app["ctx"]
    return web.json_response({s: len(keys) for s, keys in ctx.keys.keys.items()})


async def _add_keys(request: web.Request) -> web.Response:
    ctx, service, body = await _key_request(request)
    keys = body.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
        return web.json_response({"error": "keys must be a list of non-empty strings"}, status=400)
    return web.json_response({"service": service, "known": ctx.keys.add(service, keys)})


async def _revoke_key(request: web.Request) -> web.Response:
    ctx, service, body = await _key_request(request)
    key = body.get("key")
    if not isinstance(key, str) or not key:
        return web.json_response({"error": "key must be a non-empty string"}, status=400)
    return web.json_response({"service": service, "revoked": ctx.keys.revoke(service, key)})


async def _requests(request: web.Request) -> web.Response:
    ctx: Context = request.app["ctx"]
    service = request.query.get("service") or None
    since = int(request.query.get("since", "0"))
    return web.json_response({"requests": ctx.log.query(service, since), "last_seq": ctx.log.seq})


async def _clear_requests(request: web.Request) -> web.Response:
    request.app["ctx"].log.clear()
    return web.json_response({"ok": True})


def build_http_app(ctx: Context) -> web.Application:
    app = web.Application(client_max_size=32 * 1024 * 1024)
    app["ctx"] = ctx
    app.router.add_get("/_admin/health", _health)
    app.router.add_get("/_admin/knobs", _get_knobs)
    app.router.add_post("/_admin/knobs", _set_knobs)
    app.router.add_post("/_admin/reset", _reset)
    app.router.add_get("/_admin/keys", _get_keys)
    app.router.add_post("/_admin/keys", _add_keys)
    app.router.add_post("/_admin/keys/revoke", _revoke_key)
    app.router.add_get("/_admin/requests", _requests)
    app.router.add_delete("/_admin/requests", _clear_requests)
    app.router.add_get("/files/{name}", _files)
    openai_api.add_routes(app, ctx)
    openai_responses.add_routes(app, ctx)
    anthropic_api.add_routes(app, ctx)
    gemini_api.add_routes(app, ctx)
    sheets_api.add_routes(app, ctx)
    drive_api.add_routes(app, ctx)
    google_oauth.add_routes(app, ctx)
    search_api.add_routes(app, ctx)
    return app


def build_tls_app(ctx: Context) -> web.Application:
    app = web.Application(client_max_size=32 * 1024 * 1024)
    app["ctx"] = ctx
    app.router.add_get("/_admin/health", _health)
    app.router.add_get("/files/{name}", _files)
    fal_api.add_routes(app, ctx)
    return app


async def _start_social(host: str, port: int) -> asyncio.subprocess.Process:
    """The social emulator (an ASGI app under uvicorn) as a child process of this one."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulators.social", "--host", host, "--port", str(port),
        "--log-level", "warning",
    )  # fmt: skip


async def serve(
    host: str,
    port: int,
    tls_port: int,
    cert_dir: Path,
    social_port: int = 0,
    llm_keys: Sequence[str] = (),
) -> None:
    """Run until SIGTERM/SIGINT. The TLS certificate is made fresh at every start; the LLM services know
    ``llm_keys`` (more are added through ``/_admin/keys``)."""
    cert, key, bundle = make_certificate(cert_dir, [host, "localhost"])
    ctx = Context(llm_keys)
    runners: list[web.AppRunner] = []
    sites: list[tuple[web.Application, int, Any]] = [(build_http_app(ctx), port, None)]
    if tls_port:
        sites.append((build_tls_app(ctx), tls_port, server_context(cert, key)))
    for app, p, ssl_ctx in sites:
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await runner.setup()
        await web.TCPSite(runner, host, p, ssl_context=ssl_ctx, reuse_address=True).start()
        runners.append(runner)
    log.info("emulators on http://%s:%d and https://%s:%d (CA bundle %s)", host, port, host, tls_port, bundle)
    print(f"emulators ready: http://{host}:{port} https://{host}:{tls_port} bundle={bundle}", flush=True)
    social = await _start_social(host, social_port) if social_port else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if social is not None:
        watch = asyncio.ensure_future(social.wait())
        watch.add_done_callback(lambda _: stop.set())  # the social emulator died: stop, the stack sees it
    await stop.wait()
    if social is not None and social.returncode is None:
        social.terminate()
        await social.wait()
    for runner in runners:
        await runner.cleanup()
