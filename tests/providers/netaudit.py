"""Watches where this test process and the emulators connect, and where they listen, for the loopback-only
tests.

Two independent witnesses: an audit hook in this process (every ``socket.connect`` and
``socket.getaddrinfo``, whatever library makes it), and a sampler that lists the open inet
connections and listening sockets of the watched processes (this one, its children, the emulators) every
``INTERVAL_S``.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psutil


def is_local(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host)
    if host in ("", "localhost") or host.startswith("/"):  # unix sockets have paths
        return True
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False  # a name other than localhost: it would go to DNS
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1
    return ip.is_loopback or ip.is_unspecified


def is_loopback(ip: str) -> bool:
    """A listening address only loopback reaches (the wildcard 0.0.0.0 / :: is not one)."""
    addr = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


# It samples for the whole session, in the test process (both lanes of `make test`): a listener of ours
# lives for seconds at least (a worker, a gateway, a Ray worker), and this process's own connections are
# caught by the audit hook whatever the interval.
INTERVAL_S = 2.0


@dataclass
class NetAudit:
    connects: list[tuple[str, Any]] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    remote: set[tuple[int, str, int]] = field(default_factory=set)
    listening: set[tuple[int, str, int, str]] = field(default_factory=set)
    """(pid, ip, port, process name) of every listening socket seen that is not on a loopback address."""
    samples: int = 0
    pids: set[int] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _installed: bool = False

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "socket.connect":
            addr = args[1]
            if isinstance(addr, tuple) and addr:
                self.connects.append((str(addr[0]), addr[1] if len(addr) > 1 else None))
        elif event == "socket.getaddrinfo":
            self.lookups.append(str(args[0]))

    def install(self) -> None:
        if not self._installed:
            sys.addaudithook(self.hook)
            self._installed = True
            threading.Thread(target=self._sample, name="netaudit", daemon=True).start()

    def watch(self, pid: int) -> None:
        self.pids.add(pid)

    def _sample(self) -> None:
        self.pids.add(os.getpid())
        while not self._stop.wait(INTERVAL_S):
            ours = descendants(self.pids)
            try:
                # the machine's socket tables read once per sample, each socket with its process (this
                # session runs as root); a scan per watched process re-read the whole tables for each
                # and cost a third of a core for the whole session
                conns = [(c.pid, c) for c in psutil.net_connections(kind="inet") if c.pid in ours]
            except psutil.AccessDenied:
                conns = [(pid, c) for pid in ours for c in _connections(pid)]
            for pid, c in conns:
                if c.raddr:
                    self.remote.add((pid, c.raddr.ip, c.raddr.port))
                elif c.status == psutil.CONN_LISTEN and not is_loopback(c.laddr.ip):
                    self.listening.add((pid, c.laddr.ip, c.laddr.port, _name(pid)))
            self.samples += 1

    def wait_samples(self, n: int) -> None:
        """Until the sampler has taken ``n`` more samples."""
        target = self.samples + n
        deadline = time.monotonic() + n * INTERVAL_S * 10
        while self.samples < target and time.monotonic() < deadline:
            time.sleep(0.1)
        assert self.samples >= target, "the sampler stopped sampling"

    def off_machine(self) -> dict[str, list[Any]]:
        return {
            "connects": sorted({c for c in self.connects if not is_local(c[0])}),
            "lookups": sorted({h for h in self.lookups if not is_local(h)}),
            "remote": sorted(r for r in self.remote if not is_local(r[1])),
        }


def descendants(roots: set[int]) -> set[int]:
    """``roots`` and every process below them, from one pass over the process table."""
    children: dict[int, list[int]] = {}
    for p in psutil.process_iter(["ppid"]):
        children.setdefault(p.info["ppid"], []).append(p.pid)
    out, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in out:
            out.add(pid)
            todo += children.get(pid, [])
    return out


def _connections(pid: int) -> list[Any]:
    try:
        return list(psutil.Process(pid).net_connections(kind="inet"))
    except psutil.Error:
        return []


def _name(pid: int) -> str:
    try:
        return psutil.Process(pid).name()
    except psutil.Error:
        return "?"


AUDIT = NetAudit()
