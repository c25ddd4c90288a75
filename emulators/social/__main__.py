"""``python -m emulators.social --port N``: serve the social emulator on 127.0.0.1."""

from __future__ import annotations

import argparse

import uvicorn

from .app import create_social_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Social platforms emulator (Graph API, Threads, X v2)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    uvicorn.run(
        create_social_app(),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        lifespan="on",
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
