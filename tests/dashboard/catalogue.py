"""The dashboard's message catalogues (src/lib/i18n/en.ts and ko.ts), compiled by its own TypeScript and
read by Node, and what a Korean page may not show: a piece of an English message (a catalogue string
that the Korean catalogue does not share), or text that only the API's or a library's English has (an
exception name, an internal URL)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cluster.dashboard import DASHBOARD_DIR, node_env

I18N = DASHBOARD_DIR / "src" / "lib" / "i18n"
# Same in both languages on purpose: names of products, platforms, formats and codes.
SHARED = {"ICOP", "Facebook", "Instagram", "Threads", "X", "Google", "URL", "SEO", "DALL·E", "FLUX",
          "CSV", "XLSX", "English", "en", "ko", "UTC", "API", "ID", "Markdown", "cron", "JSON"}  # fmt: skip
# Raw English from the API or a library that must never reach the UI, in any language.
# (Not addresses: a post's text carries its article's link, which is content.)
RAW = re.compile(
    r"HttpError|Traceback|Exception\b|Error:|Value error|\bthe request\b|\bnot found for\b|problem\+json"
)


@dataclass(frozen=True)
class Catalogues:
    en: dict[str, str]  # dotted key → text
    ko: dict[str, str]

    def english_only(self) -> Iterator[str]:
        """English catalogue texts the Korean catalogue does not share."""
        shared = set(self.ko.values())
        for text in self.en.values():
            if text not in shared and text not in SHARED:
                yield text


def flatten(tree: object, prefix: str = "") -> dict[str, str]:
    if isinstance(tree, dict):
        out: dict[str, str] = {}
        for k, v in tree.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: str(tree)}


def compile_catalogues(out: Path) -> Catalogues:
    tsc = DASHBOARD_DIR / "node_modules" / "typescript" / "bin" / "tsc"
    sources = [str(I18N / "en.ts"), str(I18N / "ko.ts")]
    r = subprocess.run(
        ["node", str(tsc), "--module", "commonjs", "--target", "es2022", "--outDir", str(out), *sources],
        capture_output=True, text=True, env=node_env(), timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    script = (
        f"const {{ en }} = require({json.dumps(str(out / 'en.js'))});"
        f"const {{ ko }} = require({json.dumps(str(out / 'ko.js'))});"
        "process.stdout.write(JSON.stringify({ en, ko }));"
    )
    r = subprocess.run(["node", "-e", script], capture_output=True, text=True, env=node_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    both = json.loads(r.stdout)
    return Catalogues(flatten(both["en"]), flatten(both["ko"]))


def fragments(template: str) -> list[str]:
    """The fixed parts of an English template long enough to be telling (three words or more)."""
    parts = re.split(r"\{\w+\}", template)
    return [p.strip(" .,:;") for p in parts if len(p.strip(" .,:;").split()) >= 3]


def english_in(texts: list[str], cat: Catalogues) -> list[str]:
    """The rendered texts (of a Korean page) that carry English catalogue text or the API's raw English."""
    frags = {f for t in cat.english_only() for f in fragments(t)}
    whole = {t for t in cat.english_only() if len(t) >= 4}
    found = []
    for text in texts:
        clean = " ".join(text.split())
        if not clean:
            continue
        if clean in whole or RAW.search(clean) or any(f in clean for f in frags):
            found.append(clean[:200])
    return found


# In the page: every rendered text node's text, except inside an element marked with another language
# (user content such as an English article, an English original behind a disclosure).
RENDERED_TEXT_JS = """(lang) => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || !n.textContent.trim()) continue;
    if (el.closest("script,style,noscript,template")) continue;
    const marked = el.closest("[lang]");
    if (marked && marked.getAttribute("lang") !== lang) continue;
    if (!el.checkVisibility({ checkOpacity: false, checkVisibilityCSS: true })) continue;
    out.push(n.textContent);
  }
  return out;
}"""
