"""Private ports: below the ephemeral range, never shared between concurrent sessions, never in use; the
stack refuses a port inside that range, and its probe never takes a self-connection for a server."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from cluster import ports, processes
from cluster.errors import StackError
from cluster.ports import BLOCK, PortPicker, bindable, ephemeral_range


def test_two_sessions_never_get_the_same_port(tmp_path: Path) -> None:
    """Two pickers on one lock folder stand for two test sessions on one machine."""
    a, b = PortPicker(lock_dir=tmp_path), PortPicker(lock_dir=tmp_path)
    span_a, span_b = a.span(100), b.span(60)
    got_a = [a.port() for _ in range(40)] + list(range(span_a, span_a + 100))
    got_b = [b.port() for _ in range(40)] + list(range(span_b, span_b + 60))
    assert set(got_a).isdisjoint(got_b)
    assert len(set(got_a[:40])) == 40
    first_ephemeral = ephemeral_range()[0]
    assert all(ports.PRIVATE_PORTS.start <= p < min(first_ephemeral, ports.PRIVATE_PORTS.stop) for p in got_a)


def test_a_port_in_use_is_skipped(tmp_path: Path) -> None:
    # A block none of whose ports this session's stacks hold (their ports come from blocks of the session's
    # own picker), so the one port held below is the only one taken in it.
    session_blocks = set(ports.picker()._held)
    start = next(
        b
        for b in PortPicker(lock_dir=tmp_path).blocks
        if b not in session_blocks and all(bindable(p) for p in range(b, b + BLOCK))
    )
    with socket.socket() as held:
        held.bind(("127.0.0.1", start + 5))
        held.listen()
        taken = held.getsockname()[1]
        one_block = PortPicker(range(start, start + BLOCK), lock_dir=tmp_path)
        handed = [one_block.port() for _ in range(BLOCK - 1)]
        assert taken not in handed and len(set(handed)) == BLOCK - 1
        with pytest.raises(StackError, match="no unreserved port block"):
            one_block.port()


def test_private_stack_env_covers_every_port_setting() -> None:
    from icop.settings import Settings

    env = ports.private_stack_env()
    wanted = {f"ICOP_{n.upper()}" for n in Settings.model_fields if n.endswith("_port")} - {
        "ICOP_TEMPORAL_UI_PORT"
    }
    assert set(env) == wanted
    values = [int(v) for k, v in env.items() if k != "ICOP_RAY_MAX_WORKER_PORT"]
    assert len(set(values)) == len(values)
    assert int(env["ICOP_RAY_MAX_WORKER_PORT"]) - int(env["ICOP_RAY_MIN_WORKER_PORT"]) == 99


def test_the_stack_refuses_a_port_inside_the_ephemeral_range() -> None:
    first, last = ephemeral_range()
    with pytest.raises(StackError) as e:
        processes.require_free("127.0.0.1", first + 232, "PostgreSQL", "ICOP_PG_PORT")
    message = str(e.value)
    assert (
        f"port {first + 232} (ICOP_PG_PORT)" in message and f"ephemeral port range {first}–{last}" in message
    )
    assert f"Choose a port below {first}" in message


def test_a_self_connection_is_not_taken_for_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the kernel does when it picks the dialled port itself as the source port (only possible inside
    the ephemeral range): the probe is connected to itself. It must keep waiting, and leave no TIME-WAIT
    behind that would keep the port from the server about to start."""
    port = ports.free_port()
    dialled = []

    def connect_to_itself(address: tuple[str, int], timeout: float) -> socket.socket:
        s = socket.socket()
        s.bind(address)
        s.connect(address)
        dialled.append(s.getsockname() == s.getpeername())
        return s

    monkeypatch.setattr(processes.socket, "create_connection", connect_to_itself)
    assert processes.wait_for_port("127.0.0.1", port, 0.5) is False
    monkeypatch.undo()
    assert dialled and all(dialled)
    assert bindable(port)  # reset, not closed: no TIME-WAIT on the port


LISTENER = """
import socket, sys, time
s = socket.socket()
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen()
print("listening", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("listen_on", ["127.0.0.1", "0.0.0.0"])
def test_a_taken_port_is_refused_with_its_owner(listen_on: str) -> None:
    """Whether the owner listens on the stack's address or on every address, the stack names it (pid and
    program) and the setting that moves the port; a free port passes. (The owner is a process of its own,
    outside the loopback shim this test session runs under, which would move a wildcard bind.)"""
    import subprocess
    import sys

    port = ports.free_port()
    processes.require_free("127.0.0.1", port, "PostgreSQL", "ICOP_PG_PORT")  # free: no error
    env = processes.without_shim(os.environ)
    argv = [sys.executable, "-c", LISTENER, listen_on, str(port)]
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE) as owner:
        try:
            assert owner.stdout is not None and owner.stdout.readline() == b"listening\n"
            with pytest.raises(StackError) as e:
                processes.require_free("127.0.0.1", port, "PostgreSQL", "ICOP_PG_PORT")
        finally:
            owner.kill()
    message = str(e.value)
    assert f"port 127.0.0.1:{port} is taken by pid {owner.pid}" in message and "ICOP_PG_PORT" in message
