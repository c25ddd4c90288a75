"""Ports for private stacks (test sessions, benchmarks, private Ray clusters), all below the ephemeral range.

Linux gives every outgoing connection a source port from ``net.ipv4.ip_local_port_range`` (32768–60999 by
default). A server port inside that range can be taken by any client socket, and a probe that dials it before
its server listens can even connect to itself. So the stack's default ports (``icop/settings.py``, in
21000–21399) and every port handed out here stay below that range; binding port 0, which returns an
ephemeral port, is not a way to find one.

The picker takes ports from ``PRIVATE_PORTS`` (disjoint from the defaults, so a private stack never takes
a developer's stack's port), in blocks of ``BLOCK`` ports chosen at random. This process holds an exclusive
lock on a file per block (``<tmp>/icop-ports/<first port>.lock``) for as long as it lives, so concurrent
sessions on one machine never hand out the same port; the kernel drops the locks when the process ends.
Each port is also bind-checked before it is handed out, which skips ports that something else (or a
stack left running by a killed session) holds, TIME-WAIT connections included.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import random
import socket
import tempfile
import threading
from pathlib import Path

from .errors import StackError

EPHEMERAL_DEFAULT = (32768, 60999)
PRIVATE_PORTS = range(22000, 32000)
BLOCK = 16
LOCK_DIR = Path(tempfile.gettempdir()) / "icop-ports"


def ephemeral_range() -> tuple[int, int]:
    """This machine's ephemeral port range (first, last), Linux's default where it cannot be read."""
    try:
        first, last = (int(v) for v in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        return EPHEMERAL_DEFAULT
    return first, last


def in_ephemeral_range(port: int) -> bool:
    first, last = ephemeral_range()
    return first <= port <= last


def bindable(port: int) -> bool:
    """Nothing holds ``port`` on any address: binding the wildcard address without SO_REUSEADDR fails on a
    listener of any address and on a connection in TIME-WAIT. (Bound, never listened on: no traffic.)
    127.0.0.1 is tried as well: under the loopback shim (a Ray driver, a test session) a wildcard bind
    becomes a bind to the node's own loopback alias, which does not clash with 127.0.0.1."""
    families = [(socket.AF_INET, "0.0.0.0"), (socket.AF_INET, "127.0.0.1")]
    families += [(socket.AF_INET6, "::")] if socket.has_ipv6 else []
    for family, wildcard in families:
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
        except OSError:
            continue  # no IPv6 on this machine
        with s:
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                s.bind((wildcard, port))
            except OSError as e:
                if e.errno == errno.EADDRNOTAVAIL:
                    continue
                return False
    return True


class PortPicker:
    """Hands out free ports from blocks this process has locked; see the module docstring."""

    def __init__(self, ports: range = PRIVATE_PORTS, lock_dir: Path = LOCK_DIR) -> None:
        first, last = ephemeral_range()
        whole = range(ports.start, ports.stop - BLOCK + 1, BLOCK)
        # On a machine whose ephemeral range covers them all, the bind check is what is left.
        self.blocks = [b for b in whole if b + BLOCK - 1 < first or b > last] or list(whole)
        self.lock_dir = lock_dir
        self._where = f"{ports.start}–{ports.stop - 1} (ports locked in {lock_dir})"
        self._held: dict[int, int] = {}  # block start → locked file descriptor
        self._spare: list[int] = []  # ports of held blocks not handed out yet
        self._mutex = threading.Lock()

    def port(self) -> int:
        """One free port."""
        with self._mutex:
            for _ in range(len(self.blocks) * BLOCK):
                if not self._spare:
                    base = self._claim(1)
                    self._spare = list(range(base, base + BLOCK))
                p = self._spare.pop(0)
                if bindable(p):
                    return p
        raise StackError(f"no free port in {self._where}")

    def span(self, size: int) -> int:
        """The first of ``size`` consecutive free ports (Ray's worker port range)."""
        blocks = -(-size // BLOCK)
        with self._mutex:
            for _ in range(200):
                base = self._claim(blocks)
                if all(bindable(p) for p in range(base, base + size)):
                    return base
        raise StackError(
            f"no {size} consecutive free ports in {PRIVATE_PORTS.start}–{PRIVATE_PORTS.stop - 1}"
        )

    def _claim(self, count: int) -> int:
        """Lock ``count`` adjacent blocks nobody holds; the first port of the first one."""
        for _ in range(len(self.blocks) * 2):
            i = random.randrange(len(self.blocks) - count + 1)
            run = self.blocks[i : i + count]
            if run[-1] - run[0] != (count - 1) * BLOCK or any(b in self._held for b in run):
                continue
            fds = []
            for b in run:
                fd = self._lock(b)
                if fd is None:
                    break
                fds.append(fd)
            if len(fds) == count:
                self._held.update(zip(run, fds, strict=True))
                return run[0]
            for fd in fds:
                os.close(fd)  # closing the descriptor drops its lock
        raise StackError(f"no unreserved port block in {self._where}")

    def _lock(self, block: int) -> int | None:
        if not self.lock_dir.is_dir():
            self.lock_dir.mkdir(exist_ok=True)
            with contextlib.suppress(PermissionError):  # another user's session made it first
                os.chmod(self.lock_dir, 0o1777)  # shared by every user's sessions, like /tmp itself
        fd = os.open(self.lock_dir / f"{block}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return fd


_picker: PortPicker | None = None


def picker() -> PortPicker:
    """This process's picker (its blocks stay reserved until the process ends)."""
    global _picker
    if _picker is None:
        _picker = PortPicker()
    return _picker


def free_port() -> int:
    """A free port below the ephemeral range, reserved for this process against other sessions."""
    return picker().port()


def free_span(size: int) -> int:
    """The first of ``size`` consecutive free ports below the ephemeral range, reserved likewise."""
    return picker().span(size)


# Port settings that are not one listening port each: the worker range, and 0 = "off" for the UI.
NOT_SINGLE_PORTS = {"ray_min_worker_port", "ray_max_worker_port", "temporal_ui_port"}
RAY_WORKER_PORTS = 100  # a private head's worker range (the stack's default range has 200)


def private_port_settings() -> dict[str, int]:
    """A fresh port for every port setting of the stack (``Settings`` fields named ``*_port``), and a
    worker port range: what a private stack (or private Ray head) listens on."""
    from icop.settings import Settings

    names = [n for n in Settings.model_fields if n.endswith("_port") and n not in NOT_SINGLE_PORTS]
    ports = {name: free_port() for name in names}
    base = free_span(RAY_WORKER_PORTS)
    return {**ports, "ray_min_worker_port": base, "ray_max_worker_port": base + RAY_WORKER_PORTS - 1}


def private_stack_env() -> dict[str, str]:
    """:func:`private_port_settings` as the ``ICOP_*`` variables a private stack reads from its stack.env."""
    return {f"ICOP_{name.upper()}": str(port) for name, port in private_port_settings().items()}
