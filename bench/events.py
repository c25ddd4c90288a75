"""Events end to end: outbox insert (commit) → relay → RabbitMQ → delivery worker → webhook received.

A private stack of the two parts involved (embedded PostgreSQL and RabbitMQ, the same code as
`icop stack up`), `icop events worker` as its own process (relay + delivery, as deployed), and in this
process a producer that commits events through ``icop.events.emit`` and a receiver (uvicorn on
loopback) that verifies each signature with the ``standardwebhooks`` package and records arrival times.

Latency = arrival time at the receiver − commit time of the event's transaction (same clock).
Throughput = events / (last arrival − first commit). ``--rate 0``: one burst, as fast as the producer
commits (throughput); ``--rate R``: R events/s paced (latency under a steady load).

    .venv/bin/python bench/events.py --events 2000 --rate 0
    .venv/bin/python bench/events.py --events 1000 --rate 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import UUID, uuid4

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from icop.offline import apply_offline_env  # noqa: E402 - after sys.path.insert

apply_offline_env()

import psutil  # noqa: E402 - after apply_offline_env
import uvicorn  # noqa: E402 - after apply_offline_env
from standardwebhooks import Webhook  # noqa: E402 - after apply_offline_env

from cluster.ports import free_port  # noqa: E402 - after apply_offline_env
from cluster.postgres import PostgresComponent  # noqa: E402 - after apply_offline_env
from cluster.rabbitmq import RabbitMQComponent  # noqa: E402 - after apply_offline_env
from cluster.stack import LocalStack, ensure_stack_env  # noqa: E402 - after apply_offline_env
from icop.db import create_pool, tenant_tx  # noqa: E402 - after apply_offline_env
from icop.db.migrate import setup_database  # noqa: E402 - after apply_offline_env
from icop.events import emit  # noqa: E402 - after apply_offline_env
from icop.events.delivery import secret_ref  # noqa: E402 - after apply_offline_env
from icop.events.signing import new_secret  # noqa: E402 - after apply_offline_env
from icop.vault import Vault  # noqa: E402 - after apply_offline_env


class Receiver:
    def __init__(self, secret: str) -> None:
        self.wh = Webhook(secret)
        self.arrived: dict[str, float] = {}
        self.bad = 0
        self.done = asyncio.Event()
        self.expect = 0

    async def app(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        t = time.time()
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        try:
            self.wh.verify(body, headers)
            self.arrived.setdefault(headers["webhook-id"], t)
        except Exception:
            self.bad += 1
        if len(self.arrived) >= self.expect:
            self.done.set()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def start_worker(state: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`icop events worker` (relay + delivery) as its own process, as deployed."""
    with open(state / "worker.log", "wb") as log:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "icop"), "events", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def run(args: argparse.Namespace) -> dict[str, object]:
    state = Path(tempfile.mkdtemp(prefix="icop-bench-events-", dir="/tmp"))
    os.chmod(state, 0o755)
    env = {
        f"ICOP_{k}": str(free_port())
        for k in ("PG_PORT", "RABBITMQ_PORT", "RABBITMQ_DIST_PORT", "RABBITMQ_EPMD_PORT")
    }
    ensure_stack_env(state, env)
    stack = LocalStack.open(state)
    stack.components = [PostgresComponent(stack.s), RabbitMQComponent(stack.s)]
    worker = None
    try:
        startup = {r.name: round(r.seconds, 2) for r in stack.up()}
        await setup_database(stack.s)
        settings = stack.s
        pool = await create_pool(settings.pg_dsn("app"), 1, 8)
        vault = Vault.from_spec(settings.vault_keys.get_secret_value())
        tenant = uuid4()
        secret = new_secret()
        receiver = Receiver(secret)
        receiver.expect = args.events
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                receiver.app,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                lifespan="off",
                interface="asgi3",
            )
        )
        server_task = asyncio.create_task(server.serve())
        endpoint = uuid4()
        async with tenant_tx(pool, tenant) as conn:
            await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, 'bench')", tenant)
            await conn.execute(
                "INSERT INTO webhook_endpoints (id, tenant_id, url, secret_enc) VALUES ($1, $2, $3, $4)",
                endpoint,
                tenant,
                f"http://127.0.0.1:{port}/hook",
                vault.encrypt(secret, secret_ref(tenant, endpoint)),
            )
        wenv = {
            **os.environ,
            "ICOP_STATE_DIR": str(state),
            "ICOP_WEBHOOK_POLL_S": str(args.poll),
            "ICOP_WEBHOOK_CONCURRENCY_PER_ENDPOINT": str(args.concurrency),
        }
        worker = start_worker(state, wenv)
        await asyncio.sleep(3)  # the worker connects and declares its queue
        committed: dict[str, float] = {}
        t_start = time.time()
        interval = 1.0 / args.rate if args.rate else 0.0
        sent = 0
        while sent < args.events:
            n = min(args.per_tx, args.events - sent)
            ids: list[UUID] = []
            async with tenant_tx(pool, tenant) as conn:
                for _ in range(n):
                    ids.append(
                        await emit(
                            conn, tenant, "run.progress", {"run_id": str(uuid4()), "status": "running"}
                        )
                    )
            t = time.time()
            committed.update({str(i): t for i in ids})
            sent += n
            if interval:
                delay = t_start + sent * interval - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
        t_produced = time.time()
        await asyncio.wait_for(receiver.done.wait(), args.timeout)
        times = psutil.Process(worker.pid).cpu_times()
        worker_cpu = round(times.user + times.system, 1)
        lat = sorted((receiver.arrived[i] - committed[i]) * 1000 for i in committed if i in receiver.arrived)
        span = max(receiver.arrived.values()) - min(committed.values())
        server.should_exit = True
        await server_task
        await pool.close()

        def pct(p: float) -> float:
            return round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 1)

        return {
            "events": args.events,
            "rate": args.rate or "burst",
            "per_tx": args.per_tx,
            "concurrency_per_endpoint": args.concurrency,
            "worker_cpu_s": worker_cpu,
            "received": len(receiver.arrived),
            "bad_signatures": receiver.bad,
            "produce_s": round(t_produced - t_start, 2),
            "events_per_s": round(len(lat) / span, 1),
            "p50_ms": pct(50),
            "p90_ms": pct(90),
            "p99_ms": pct(99),
            "max_ms": round(lat[-1], 1),
            "mean_ms": round(statistics.mean(lat), 1),
            "startup_s": startup,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        }
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
        stack.down()
        shutil.rmtree(state, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=0.0, help="events/s; 0: one burst")
    ap.add_argument("--per-tx", type=int, default=1, help="events per producer transaction")
    ap.add_argument("--poll", type=float, default=0.5, help="ICOP_WEBHOOK_POLL_S of the worker")
    ap.add_argument("--concurrency", type=int, default=4, help="ICOP_WEBHOOK_CONCURRENCY_PER_ENDPOINT")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
