"""Benchmark: the authenticated, RLS-scoped pipeline list vs a bare FastAPI + asyncpg endpoint, same query.

Both apps are served by uvicorn (one worker each) on 127.0.0.1 in the same run; load comes from an
httpx async client with bounded concurrency and a fixed number of requests, interleaved in rounds.

* gateway: ``GET /v1/pipelines?limit=50`` with a Bearer JWT: token check, the per-tenant rate-limit
  counter (its own short transaction), ``tenant_tx`` (set_config), RLS, the repository query,
  ``Page[PipelineOut]`` serialisation.
* bare: ``GET /bare/pipelines?tenant_id=…`` on a superuser pool (RLS bypassed), no auth, no rate
  limit, the same SELECT and the same response model.

Usage (starts a private PostgreSQL from the stack's helpers unless --state-dir names a running one)::

    .venv/bin/python bench/gateway_list.py --requests 2000 --concurrency 16 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID, uuid4

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402 - after sys.path.insert
from fastapi import FastAPI, Query  # noqa: E402 - after sys.path.insert

from gateway.config import GatewayConfig  # noqa: E402
from gateway.pagination import Page, page_of  # noqa: E402
from gateway.pipelines.repository import COLS  # noqa: E402
from gateway.pipelines.schemas import PipelineOut  # noqa: E402
from icop.plans import PlanCatalog, PlanLimits  # noqa: E402

LIST_SQL = f"""SELECT {COLS} FROM content_pipelines WHERE tenant_id = $1
               ORDER BY created_at DESC, id DESC LIMIT $2"""


def gateway_app() -> FastAPI:
    """The real gateway, with a rate limit high enough that the benchmark never trips it (still counted)."""
    from gateway.app import create_app
    from icop.settings import load_settings

    huge = {"requests_per_window": 10**9, "pipelines": 10**6, "connected_accounts": 10**6}
    settings = load_settings()
    return create_app(settings.model_copy(update={"plan_limits": {"enterprise": huge}}))


def bare_app() -> FastAPI:
    """Same query and response model; no auth, no rate limit, no tenant transaction, RLS bypassed."""
    from contextlib import asynccontextmanager

    from icop.db import create_pool
    from icop.settings import load_settings

    settings = load_settings()
    dsn = settings.pg_dsn("superuser").rsplit("/", 1)[0] + f"/{settings.pg_database}"
    state: dict[str, Any] = {}  # the pool, once the app has started

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        state["pool"] = await create_pool(dsn, settings.db_pool_min, settings.db_pool_max)
        yield
        await state["pool"].close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/bare/pipelines", response_model=Page[PipelineOut])
    async def bare(tenant_id: UUID, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Page[PipelineOut]:
        async with state["pool"].acquire() as conn:
            rows = await conn.fetch(LIST_SQL, tenant_id, limit + 1)
        return Page[PipelineOut](**page_of(rows, limit, lambda r: PipelineOut(**dict(r))))

    return app


def _serve(factory: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180  # readiness includes the embedding model's warm-up
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({url})")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not start ({url})")


async def _load(url: str, headers: dict[str, str], n: int, concurrency: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    todo = iter(range(n))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            for _ in todo:
                t0 = time.perf_counter()
                r = await client.get(url, headers=headers)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise RuntimeError(f"{url}: {r.status_code} {r.text[:200]}")

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, time.perf_counter() - t0


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000


async def _seed(settings, gateway: str, tenants: int, per_tenant: int) -> tuple[str, str]:
    """Sign up ``tenants`` tenants through the gateway; give each ``per_tenant`` pipelines. Returns
    (tenant, token)."""
    from icop.db import create_pool, tenant_tx
    from icop.tenants import set_plan

    pool = await create_pool(settings.pg_dsn("app"), 1, 2)
    first: tuple[str, str] | None = None
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as c:
        for i in range(tenants):
            email, password = f"bench-{uuid4().hex[:8]}@example.test", uuid4().hex
            r = await c.post(
                "/v1/auth/signup", json={"company_name": f"Bench {i}", "email": email, "password": password}
            )
            r.raise_for_status()
            r = await c.post("/v1/auth/login", json={"email": email, "password": password})
            r.raise_for_status()
            tid = UUID(r.json()["tenant_id"])
            await set_plan(pool, tid, "enterprise")  # as the operator: sign-up always starts on starter
            async with tenant_tx(pool, tid) as conn:
                await conn.executemany(
                    "INSERT INTO content_pipelines (tenant_id, name, source_kind, sheet_id, targets, "
                    "writers) VALUES ($1, $2, 'sheet', $3, $4, $5)",
                    [
                        (tid, f"pipeline {j}", f"sheet-{tid}-{j}", [], ["gpt", "claude", "gemini"])
                        for j in range(per_tenant)
                    ],
                )
            first = first or (str(tid), r.json()["access_token"])
    await pool.close()
    assert first is not None
    return first


async def _db_breakdown(settings, tenant_id: str, n: int) -> dict[str, float]:
    """Sequential, in-process: where the gateway's database time goes (mean ms per request-equivalent)."""
    from gateway.ratelimit.service import RateLimiter
    from icop.db import create_pool, tenant_tx

    tid = UUID(tenant_id)
    su = settings.pg_dsn("superuser").rsplit("/", 1)[0] + f"/{settings.pg_database}"
    bare_pool, app_pool = await create_pool(su, 1, 1), await create_pool(settings.pg_dsn("app"), 1, 1)
    huge = PlanLimits(10**9, 1, 1, 1)
    limiter = RateLimiter(GatewayConfig(plans=PlanCatalog({"enterprise": huge, "starter": huge})))

    async def bare() -> None:
        async with bare_pool.acquire() as conn:
            await conn.fetch(LIST_SQL, tid, 51)

    async def rate_limit_tx() -> None:
        async with tenant_tx(app_pool, tid) as conn:
            await limiter.check(conn, tid)

    async def scoped_query_tx() -> None:
        async with tenant_tx(app_pool, tid) as conn:
            await conn.fetch(LIST_SQL, tid, 51)

    out = {}
    for name, fn in (
        ("bare query", bare),
        ("rate-limit tx", rate_limit_tx),
        ("tenant_tx + query (RLS)", scoped_query_tx),
    ):
        for _ in range(50):
            await fn()
        t0 = time.perf_counter()
        for _ in range(n):
            await fn()
        out[name] = round((time.perf_counter() - t0) / n * 1000, 3)
    await bare_pool.close()
    await app_pool.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=2000, help="requests per target per round")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--tenants", type=int, default=5)
    ap.add_argument("--pipelines", type=int, default=200, help="pipelines per tenant")
    ap.add_argument(
        "--state-dir", type=Path, help="use this (running, migrated) stack instead of a private one"
    )
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()

    from icop.offline import apply_offline_env

    apply_offline_env()
    from cluster.ports import free_port, private_stack_env
    from cluster.stack import LocalStack, ensure_stack_env, private_state_dir
    from icop.db.migrate import setup_database
    from icop.settings import load_settings

    own = args.state_dir is None
    state = private_state_dir("icop-bench-") if own else args.state_dir
    pg = pg_sid = None
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if own:
            ensure_stack_env(state, private_stack_env())
            stack = LocalStack.open(state)
            pg = next(c for c in stack.components if c.name == "postgres")  # only PostgreSQL is needed
            pg_sid = pg.start()
            asyncio.run(setup_database(stack.s))
        settings = load_settings(state)
        env = {**os.environ, "ICOP_STATE_DIR": str(state)}
        ports = {"gateway": free_port(), "bare": free_port()}
        procs.append(
            _serve("bench.gateway_list:gateway_app", ports["gateway"], env, state / "bench-gateway.log")
        )
        procs.append(_serve("bench.gateway_list:bare_app", ports["bare"], env, state / "bench-bare.log"))
        gw, bare = (f"http://127.0.0.1:{ports[k]}" for k in ("gateway", "bare"))
        _wait(f"{gw}/readyz", procs[0])  # warm-ups (the brand-voice model) done
        _wait(f"{bare}/docs", procs[1])
        tenant_id, token = asyncio.run(_seed(settings, gw, args.tenants, args.pipelines))
        targets = {
            "gateway (JWT + rate limit + tenant_tx + RLS)": (
                f"{gw}/v1/pipelines?limit=50",
                {"Authorization": f"Bearer {token}"},
            ),
            "bare (FastAPI + asyncpg, no auth/RLS)": (
                f"{bare}/bare/pipelines?tenant_id={tenant_id}&limit=50",
                {},
            ),
        }
        # Same answer from both (sanity), then warm-up, then interleaved rounds.
        a = httpx.get(targets[next(iter(targets))][0], headers=next(iter(targets.values()))[1]).json()
        b = httpx.get(list(targets.values())[1][0]).json()
        assert a == b and len(a["items"]) == 50, "the two endpoints must return the same page"
        for url, h in targets.values():
            asyncio.run(_load(url, h, args.warmup, args.concurrency))
        results: dict[str, dict[str, list[float]]] = {k: {"lat": [], "secs": []} for k in targets}
        load = os.getloadavg()  # at the start of the measured rounds
        for _ in range(args.rounds):
            for name, (url, h) in targets.items():
                lat, secs = asyncio.run(_load(url, h, args.requests, args.concurrency))
                results[name]["lat"] += lat
                results[name]["secs"].append(secs)
        summary = {}
        for name, r in results.items():
            summary[name] = {
                "requests": len(r["lat"]),
                "req_per_s": round(len(r["lat"]) / sum(r["secs"]), 1),
                "p50_ms": round(_pct(r["lat"], 50), 2),
                "p99_ms": round(_pct(r["lat"], 99), 2),
                "mean_ms": round(statistics.fmean(r["lat"]) * 1000, 2),
            }
        g, br = summary.values()
        ratio = {
            "throughput_gateway_over_bare": round(g["req_per_s"] / br["req_per_s"], 3),
            "p50_gateway_over_bare": round(g["p50_ms"] / br["p50_ms"], 3),
            "p99_gateway_over_bare": round(g["p99_ms"] / br["p99_ms"], 3),
        }
        print(f"{'target':48} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
        for name, s in summary.items():
            print(f"{name:48} {s['req_per_s']:>9} {s['p50_ms']:>8} {s['p99_ms']:>8}")
        print("ratio gateway/bare:", json.dumps(ratio))
        print(
            f"config: {args.requests} req x {args.rounds} rounds per target, concurrency {args.concurrency}, "
            f"{args.tenants} tenants x {args.pipelines} pipelines, page of 50; uvicorn 1 worker each"
        )
        from bench.results import record

        record(
            "gateway_over_bare", ratio["throughput_gateway_over_bare"], ">= 0.7", "req/s ratio", load=load,
            req_per_s={k: v["req_per_s"] for k, v in summary.items()},
        )  # fmt: skip
        breakdown = asyncio.run(_db_breakdown(settings, tenant_id, 500))
        print("database time per request, sequential, mean ms:", json.dumps(breakdown))
        if args.json:
            args.json.write_text(
                json.dumps(
                    {"summary": summary, "ratio": ratio, "db_ms": breakdown, "args": vars(args)}, default=str
                )
            )
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        if pg is not None and pg_sid is not None:
            pg.stop(pg_sid)
        if own:
            shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
