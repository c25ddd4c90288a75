"""``python -m emulators --host H --port 21040 --fal-port 21041 --social-port 21042 --cert-dir DIR``."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from .server import serve


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m emulators", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument(
        "--port", type=int, default=21040, help="plain HTTP: OpenAI-compatible, Gemini, Sheets v4, admin"
    )
    p.add_argument("--fal-port", type=int, default=21041, help="TLS: fal.ai queue protocol (0: off)")
    p.add_argument("--social-port", type=int, default=0, help="Graph API, Threads and X v2 emulator (0: off)")
    p.add_argument(
        "--cert-dir", type=Path, default=Path(".icop/emulators"), help="where the cert and CA bundle go"
    )
    args = p.parse_args()
    if not args.host.startswith("127.") and args.host != "localhost":
        p.error("the emulators bind loopback only")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(serve(args.host, args.port, args.fal_port, args.cert_dir, args.social_port))


if __name__ == "__main__":
    main()
