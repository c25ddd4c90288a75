"""A self-signed certificate for the TLS emulators, made at start, and a CA bundle that trusts it.

``fal-client`` only speaks ``https://``; the client side trusts this certificate through
``SSL_CERT_FILE`` pointing at ``ca-bundle.pem`` (the system CAs plus this certificate).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CERT_FILE, KEY_FILE, BUNDLE_FILE = "emulator-cert.pem", "emulator-key.pem", "ca-bundle.pem"


def system_ca_file() -> str | None:
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and os.path.isfile(candidate):
            return candidate
    try:
        import certifi

        return certifi.where()
    except ImportError:  # pragma: no cover
        return None


def make_certificate(folder: Path, hosts: list[str]) -> tuple[Path, Path, Path]:
    """Write a fresh key, a certificate for ``hosts`` (IPs or names) and the CA bundle into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ICOP local emulator")])
    sans: list[x509.GeneralName] = []
    for h in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            sans.append(x509.DNSName(h))
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_path, cert_path, bundle_path = folder / KEY_FILE, folder / CERT_FILE, folder / BUNDLE_FILE
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    cert_path.write_bytes(cert_pem)
    system = system_ca_file()
    base = Path(system).read_bytes() if system else b""
    tmp = bundle_path.with_suffix(".tmp")
    tmp.write_bytes(base.rstrip(b"\n") + b"\n" + cert_pem)
    tmp.replace(bundle_path)  # readers never see a half-written bundle
    return cert_path, key_path, bundle_path


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx
