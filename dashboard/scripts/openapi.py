"""Write the gateway's OpenAPI document to dashboard/openapi.json (run by `npm run gen:api`).

Builds the app with ``create_app`` and reads ``app.openapi()``; nothing is started or connected.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from gateway.app import create_app  # noqa: E402 - after sys.path.insert
from icop.settings import Settings  # noqa: E402 - after sys.path.insert


def main() -> None:
    app = create_app(Settings(env="development"))
    out = Path(__file__).resolve().parents[1] / "openapi.json"
    out.write_text(json.dumps(app.openapi(), indent=2, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
