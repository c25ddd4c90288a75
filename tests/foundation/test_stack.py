"""The local stack: health, idempotent `up`, loopback only, and `down` leaving nothing behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from cluster.errors import StackError
from cluster.ports import ephemeral_range, private_stack_env
from cluster.processes import listening_addresses, session_members
from cluster.stack import LocalStack, StackState, ensure_stack_env, private_state_dir

ICOP = str(Path(sys.executable).parent / "icop")


def run_cli(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ICOP_STATE_DIR": str(state), "COLUMNS": "200"}
    return subprocess.run([ICOP, *args], capture_output=True, text=True, env=env, timeout=600)


def test_every_component_is_healthy(stack: LocalStack) -> None:
    rows = stack.status()
    assert [r.name for r in rows][:3] == ["postgres", "temporal", "ray"]
    assert all(r.healthy for r in rows), rows


def test_no_process_of_the_stack_listens_off_loopback(stack: LocalStack) -> None:
    pids = stack.pids()
    assert len(pids) >= 5  # postgres + its workers, temporal, ray's gcs/raylet/...
    sockets = listening_addresses(pids)
    assert sockets, "expected the stack to listen somewhere"
    off = [(pid, ip, port, psutil.Process(pid).name()) for pid, ip, port in sockets if not is_loopback(ip)]
    assert off == [], f"sockets bound off loopback: {off}"


def test_every_port_the_stack_listens_on_is_below_the_ephemeral_range(stack: LocalStack) -> None:
    """Ports inside the range can be taken by any outgoing connection: every port of the stack is a setting
    below it. Two exceptions ask the kernel for a port (bind to port 0, so they can never collide) and have
    no flag for it: the Temporal dev server's internal services (history, matching, worker), and each Ray
    Serve replica's inter-deployment gRPC server (Serve starts one per replica, on ``[::]:0``), which the
    loopback shim keeps on the node's loopback address."""
    first = ephemeral_range()[0]
    temporal_pids = {p.pid for p in session_members(StackState.load(stack.state_file).sessions["temporal"])}
    inside = [(pid, ip, port) for pid, ip, port in listening_addresses(stack.pids()) if port >= first]

    def replica(pid: int) -> bool:
        try:
            return psutil.Process(pid).cmdline()[0].startswith("ray::ServeReplica:")
        except (psutil.Error, IndexError):
            return False

    replicas = [s for s in inside if replica(s[0])]
    assert all(ip.removeprefix("::ffff:").startswith("127.") for _, ip, _ in replicas), replicas
    others = [s for s in inside if s[0] not in temporal_pids and s not in replicas]
    assert others == [], [(psutil.Process(pid).cmdline()[:3], ip, port) for pid, ip, port in others]
    temporal = [s for s in inside if s[0] in temporal_pids]
    assert len({port for _, _, port in temporal}) <= 4, temporal  # Temporal's internal services only


def test_state_is_private_to_its_owner(stack: LocalStack) -> None:
    """Other local users may pass through the state folder (PostgreSQL's and RabbitMQ's OS users reach
    their folders in it) but not list it; the generated secrets and the local object store are the
    owner's alone."""
    import stat

    from icop.storage import LocalDirStore

    def mode(p: Path) -> int:
        return stat.S_IMODE(p.stat().st_mode)

    assert mode(stack.state_dir) & 0o066 == 0, oct(mode(stack.state_dir))
    assert mode(stack.state_dir / "stack.env") & 0o077 == 0
    store = LocalDirStore(stack.state_dir / "objects")
    obj = store.put("tenants/t/articles/a.md", b"# private", "text/markdown")
    assert obj.url == "icop-object:tenants/t/articles/a.md"
    for p in [stack.state_dir / "objects", *(stack.state_dir / "objects").rglob("*")]:
        assert mode(p) & 0o077 == 0, (p, oct(mode(p)))


def test_second_up_reports_already_running(stack: LocalStack) -> None:
    r = run_cli("stack", "up", "--no-apps", state=stack.state_dir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("already running") == len(stack.components), r.stdout
    r = run_cli("stack", "status", state=stack.state_dir)
    assert r.returncode == 0 and "healthy" in r.stdout
    s3 = next(line for line in r.stdout.splitlines() if " s3 " in line)  # the S3 server is listed
    assert f"http://127.0.0.1:{stack.s.seaweed_s3_port}" in s3 and "healthy" in s3 and "SeaweedFS" in s3


def test_the_s3_server_listens_on_its_settings_only(stack: LocalStack) -> None:
    """SeaweedFS opens no port of its own choosing (its defaults, their +10000 gRPC twins, an Iceberg
    catalog on 8181, a Lance server on 9101): every one is an ``ICOP_SEAWEED_*_PORT`` setting."""
    sid = StackState.load(stack.state_file).sessions["s3"]
    pids = [p.pid for p in session_members(sid)]
    listening = {(ip, port) for _, ip, port in listening_addresses(pids)}
    wanted = {getattr(stack.s, n) for n in type(stack.s).model_fields if n.startswith("seaweed_")}
    assert listening == {("127.0.0.1", port) for port in wanted}
    # and it talks to nobody off the machine (its telemetry is off)
    remote = [c.raddr.ip for p in session_members(sid) for c in p.net_connections(kind="inet") if c.raddr]
    assert all(is_loopback(ip) for ip in remote), remote  # (between its parts: gRPC, often unix sockets)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_down_then_up_five_times_in_a_row_without_a_port_error() -> None:
    """`icop stack down && icop stack up` five times: every `up` starts every component on the same ports,
    none is refused as taken, every `down` leaves no process behind. Four rounds through LocalStack's API
    (infrastructure only), the last through the command line itself. Measured: ≈ 28 s a round (Ray's head
    and Serve most of it) on the 2-core machine."""
    state = private_state_dir("icop-cycles-")
    ensure_stack_env(state, private_stack_env())
    stack = LocalStack.open(state)
    names = [c.name for c in stack.components]
    try:
        stack.up()
        for round_ in range(4):
            pids = stack.pids()
            assert sorted(stack.down()) == sorted(names), round_
            assert _processes_of(state) == [], round_
            assert [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"] == []
            try:
                results = stack.up()
            except StackError as e:
                pytest.fail(f"round {round_ + 1}: {e}")
            assert [r.name for r in results if r.started and r.status.healthy] == names, (round_, results)
        r = run_cli("stack", "down", state=state)
        assert r.returncode == 0, r.stderr
        assert _processes_of(state) == []
        r = run_cli("stack", "up", "--no-apps", state=state)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "started" in r.stdout and "already running" not in r.stdout
        r = run_cli("stack", "status", state=state)
        assert r.returncode == 0 and "healthy" in r.stdout, r.stdout
    finally:
        stack.down()
        shutil.rmtree(state, ignore_errors=True)


def _processes_of(state: Path) -> list[int]:
    return [p.pid for p in psutil.process_iter() if _safe(p) and str(state) in " ".join(p.cmdline())]


def test_taken_port_gives_a_clear_error(stack: LocalStack) -> None:
    state = private_state_dir("icop-taken-")
    env = private_stack_env()
    env["ICOP_PG_PORT"] = str(stack.s.pg_port)  # already used by the session's stack
    ensure_stack_env(state, env)
    try:
        r = run_cli("stack", "up", "--no-apps", state=state)
        assert r.returncode == 1
        assert f"port 127.0.0.1:{stack.s.pg_port} is taken" in r.stderr and "ICOP_PG_PORT" in r.stderr
    finally:
        run_cli("stack", "down", state=state)
        shutil.rmtree(state, ignore_errors=True)


def is_loopback(ip: str) -> bool:
    import ipaddress

    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return addr.is_loopback


def _safe(p: psutil.Process) -> bool:
    try:
        p.cmdline()
        return True
    except psutil.Error:
        return False
