"""The local stack: health, idempotent `up`, loopback only, and `down` leaving nothing behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from cluster.processes import listening_addresses
from cluster.stack import LocalStack, ensure_stack_env
from tests.conftest import make_state_dir, private_stack_env

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


def test_second_up_reports_already_running(stack: LocalStack) -> None:
    r = run_cli("stack", "up", "--no-apps", state=stack.state_dir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("already running") == len(stack.components), r.stdout
    r = run_cli("stack", "status", state=stack.state_dir)
    assert r.returncode == 0 and "healthy" in r.stdout


@pytest.mark.slow
def test_up_down_up_again_leaves_no_process(tmp_path: Path) -> None:
    state = make_state_dir("icop-updown-")
    ensure_stack_env(state, private_stack_env(state))
    try:
        r = run_cli("stack", "up", "--no-apps", state=state)
        assert r.returncode == 0, r.stdout + r.stderr
        pids = LocalStack.open(state).pids()
        assert pids
        r = run_cli("stack", "down", state=state)
        assert r.returncode == 0, r.stderr
        assert [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"] == []
        assert not any(str(state) in " ".join(p.cmdline()) for p in psutil.process_iter() if _safe(p))
        r = run_cli("stack", "up", "--no-apps", state=state)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "started" in r.stdout and "already running" not in r.stdout
        r = run_cli("stack", "status", state=state)
        assert r.returncode == 0, r.stdout
    finally:
        run_cli("stack", "down", state=state)
        shutil.rmtree(state, ignore_errors=True)


def test_taken_port_gives_a_clear_error(stack: LocalStack) -> None:
    state = make_state_dir("icop-taken-")
    env = private_stack_env(state)
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
