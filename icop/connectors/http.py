"""One TLS context per process for the HTTP clients the connectors open per call.

httpx builds a new SSL context for every client, loading the CA bundle each time (several ms of CPU):
a client opened per search or per article's page fetches paid that each time (a tenth of a worker's CPU
in the back-fill profile). The context is read-only once built and safe to share.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's CA bundle; clients here never read proxy or CA settings
    from the environment, ``trust_env=False``), built once."""
    return httpx.create_ssl_context(trust_env=False)
