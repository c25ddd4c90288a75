"""Keeping every process of ours that joins Ray on loopback.

Ray 2.60's gRPC servers bind the wildcard address whatever ``--node-ip-address`` says: Ray's own processes
(the head, worker nodes) and every driver, whose core worker serves the cluster from inside the driver's
process (an ``icop worker``, the demo, ``icop serve deploy``, a test session). ``loopback_bind.c``, loaded
with ``LD_PRELOAD``, turns such a bind into a bind to ``ICOP_BIND_IP`` (the node's loopback alias). Ray's
processes get it in their environment (:func:`with_shim`); a driver re-executes itself under it before it
does anything (:func:`bind_driver_to_loopback`), since a library preloaded after start would come too late.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import StackError
from .processes import without_shim

SHIM_SOURCE = Path(__file__).with_name("loopback_bind.c")


def loopback_shim(build_dir: Path) -> Path:
    """Compile (once per source version) the LD_PRELOAD library that keeps wildcard binds on loopback."""
    digest = hashlib.sha256(SHIM_SOURCE.read_bytes()).hexdigest()[:12]
    lib = build_dir / f"libicop_loopback_bind-{digest}.so"
    if lib.exists():
        return lib
    build_dir.mkdir(parents=True, exist_ok=True)
    cc = os.environ.get("CC", "cc")
    tmp = lib.with_suffix(f".{os.getpid()}.tmp")
    r = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", str(tmp), str(SHIM_SOURCE), "-ldl"],
                       capture_output=True, text=True)  # fmt: skip
    if r.returncode != 0:
        raise StackError(f"could not build the loopback bind shim with {cc}: {r.stderr.strip()[-400:]}")
    tmp.rename(lib)
    return lib


def with_shim(env: Mapping[str, str], shim: Path, bind_ip: str) -> dict[str, str]:
    """``env`` with the shim preloaded (once, first) and wildcard binds pinned to ``bind_ip``."""
    out = without_shim(env)
    out["LD_PRELOAD"] = ":".join([str(shim), *([out["LD_PRELOAD"]] if out.get("LD_PRELOAD") else [])])
    out["ICOP_BIND_IP"] = bind_ip
    return out


def under_shim(bind_ip: str, env: Mapping[str, str] | None = None) -> bool:
    """Whether a process with ``env`` runs with the shim, pinned to ``bind_ip``."""
    env = os.environ if env is None else env
    preloaded = [Path(p).name for p in env.get("LD_PRELOAD", "").split(":") if p]
    return env.get("ICOP_BIND_IP") == bind_ip and any(
        n.startswith("libicop_loopback_bind-") for n in preloaded
    )


def bind_driver_to_loopback(bind_ip: str, build_dir: Path, argv: Sequence[str]) -> None:
    """Re-execute this process (``python *argv``) under the shim, unless it already runs under it.

    Call it first thing in a process that will join Ray as a driver; it does not return when it re-executes.
    """
    if under_shim(bind_ip):
        return
    shim = loopback_shim(build_dir)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *argv], with_shim(os.environ, shim, bind_ip))


def as_ray_driver(bind_ip: str, state_dir: Path) -> None:
    """For an ``icop`` command that joins Ray: re-execute it under the shim, its binds pinned to
    ``bind_ip`` (the node address it gives Ray: ``ICOP_RAY_NODE_IP``)."""
    bind_driver_to_loopback(bind_ip, state_dir / "lib", ["-m", "cluster.cli", *sys.argv[1:]])
