"""Small helpers for starting, watching and stopping the stack's processes."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

from .errors import StackError
from .ports import ephemeral_range, in_ephemeral_range


def port_owner(host: str, port: int) -> str | None:
    """Describe who listens on ``host:port`` (or on all addresses at that port), or None if it is free.

    A bind tells whether it is free; only a taken port's owner is looked up in the socket tables (a scan of
    every process's sockets: a stack's start checks two dozen ports, and most are free)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            return None
        except OSError as e:
            why = e.strerror
    try:
        conns = psutil.net_connections(kind="inet")
    except psutil.AccessDenied:  # pragma: no cover - we run as root here
        conns = []
    for c in conns:
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port:
            if c.laddr.ip in (host, "0.0.0.0", "::"):
                name = "?"
                if c.pid:
                    try:
                        name = psutil.Process(c.pid).name()
                    except psutil.Error:
                        pass
                return f"pid {c.pid} ({name}) on {c.laddr.ip}:{port}"
    return f"an unknown process ({why})"


# (host, port, what listens there, the setting that moves it)
Port = tuple[str, int, str, str]


def require_outside_ephemeral(port: int, what: str, setting: str) -> None:
    """Refuse a server port that the kernel may hand to any outgoing connection as its source port."""
    if in_ephemeral_range(port):
        first, last = ephemeral_range()
        raise StackError(
            f"{what} cannot use port {port} ({setting}): it is inside this machine's ephemeral port range "
            f"{first}–{last} (net.ipv4.ip_local_port_range), from which any outgoing connection may take it. "
            f"Choose a port below {first}: the defaults (21000–21399) are listed in .env.example."
        )


def require_free(host: str, port: int, what: str, setting: str) -> None:
    require_outside_ephemeral(port, what, setting)
    owner = port_owner(host, port)
    if owner:
        raise StackError(
            f"{what} cannot start: port {host}:{port} is taken by {owner}. "
            f"Stop that process or choose another port with {setting}."
        )


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> bool:
    """True once something accepts connections on ``host:port`` (False if ``proc`` exits first).

    A connection to a port nobody listens on can succeed as a TCP self-connection when the kernel happens
    to pick that very port as the source port, which it can only do for a port inside the ephemeral range
    (the stack's ports are below it, see ``require_outside_ephemeral``). Such a connection is not a server:
    it is reset (no TIME-WAIT left to keep the port from its server) and the wait goes on.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5) as s:
                if s.getsockname() != s.getpeername():
                    return True
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        time.sleep(0.1)
    return False


def wait_for_line(
    log: Path, offset: int, marker: str, timeout: float, proc: subprocess.Popen[bytes]
) -> str | None:
    """None once ``marker`` appears in ``log`` past byte ``offset``; otherwise why not (``proc`` exited, or
    the time ran out)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(log, "rb") as f:
                f.seek(offset)
                if marker.encode() in f.read():
                    return None
        except OSError:
            pass
        if proc.poll() is not None:
            return f"it exited with status {proc.returncode}"
        if time.monotonic() > deadline:
            return f"it did not say {marker!r} within {timeout:.0f} s"
        time.sleep(0.2)


def without_shim(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without the loopback bind shim (cluster.loopback) a driver of ours runs under."""
    out = dict(env)
    kept = [p for p in out.get("LD_PRELOAD", "").split(":") if p and "libicop_loopback_bind-" not in p]
    if kept:
        out["LD_PRELOAD"] = ":".join(kept)
    else:
        out.pop("LD_PRELOAD", None)
    out.pop("ICOP_BIND_IP", None)
    return out


def spawn(
    argv: Sequence[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a detached process in its own session (so that stopping it stops its children too).

    Without ``env`` it inherits this process's environment, less the loopback shim a driver of ours runs
    under: a server that wants it (Ray's) is given it explicitly, and other OS users (PostgreSQL's) need
    not read it."""
    if env is None:
        env = without_shim(os.environ)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        p = psutil.Process(pid)
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def session_members(sid: int) -> list[psutil.Process]:
    """Every live process of session ``sid`` and their descendants (some, like PostgreSQL's
    background processes, start sessions of their own)."""
    found: dict[int, psutil.Process] = {}
    for p in psutil.process_iter():
        try:
            if os.getsid(p.pid) == sid:
                found[p.pid] = p
                for child in p.children(recursive=True):
                    found[child.pid] = child
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    out = []
    for p in found.values():
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.Error:
            continue
    return out


def stop_session(sid: int, grace: float = 10.0) -> None:
    """SIGTERM every process of session ``sid``, then SIGKILL what is left after ``grace`` seconds."""
    procs = session_members(sid)
    for p in procs:
        try:
            p.send_signal(signal.SIGTERM)
        except psutil.Error:
            pass
    _, left = psutil.wait_procs(procs, timeout=grace)
    for p in left + session_members(sid):
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(session_members(sid), timeout=5)


def listening_addresses(pids: Sequence[int]) -> list[tuple[int, str, int]]:
    """(pid, ip, port) of every listening TCP socket and bound UDP socket held by ``pids``."""
    wanted = set(pids)
    out = []
    for c in psutil.net_connections(kind="inet"):
        if c.pid in wanted and c.laddr and (c.status == psutil.CONN_LISTEN or c.type == socket.SOCK_DGRAM):
            out.append((c.pid, c.laddr.ip, c.laddr.port))
    return out
