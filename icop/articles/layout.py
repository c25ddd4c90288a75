"""The final article's Markdown layout: YAML front matter, the article under its title, its images spread
through it, and its sources as footnotes.

One home for the layout: the graph's formatter, the workflow's Markdown step and a person's edits before
approval (through the API) all render through :func:`render_markdown`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .citations import footnoted, sources_section, unsourced_note


def title_and_body(article: str) -> tuple[str, str]:
    """An article's first non-empty line (its heading, without ``#``) and the rest."""
    lines = article.strip().splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return "", ""
    return lines[0].strip().lstrip("#").strip(), "\n".join(lines[1:]).strip()


def _yaml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def _yaml_list(values: list[str]) -> str:
    return "[" + ", ".join(_yaml_str(v) for v in values) + "]"


def _source_urls(state: Mapping[str, Any]) -> list[str]:
    if state.get("sources"):
        return [s["url"] for s in state["sources"]]
    return list(dict.fromkeys(n["source_url"] for n in state.get("research", [])))


def render_markdown(state: Mapping[str, Any]) -> str:
    """YAML front matter, the article under its title, and the given images spread through it.

    ``state``: the graph's state (``article``, ``seo``, ``sources``, ``image_prompts``, …) with the stored
    images' URLs as ``image_urls``.
    """
    seo = state["seo"]
    sources = list(state.get("sources") or [])
    title, body = title_and_body(state.get("article", ""))
    urls = list(state.get("image_urls") or [])
    prompts = list(state.get("image_prompts") or [])
    front = [
        "---",
        f"title: {_yaml_str(seo['title'])}",
        f"description: {_yaml_str(seo['meta_description'])}",
        f"slug: {_yaml_str(seo['slug'])}",
        f"lang: {_yaml_str(state.get('language', 'en'))}",
        f"keywords: {_yaml_list(seo['keywords'])}",
        f"tags: {_yaml_list(seo['hashtags'])}",
        f"images: {_yaml_list(urls)}",
        f"mode: {_yaml_str(state.get('mode', 'compare'))}",
        f"writers: {_yaml_list([d['writer'] for d in state.get('drafts', [])])}",
        "sources: " + _yaml_list(_source_urls(state)),
        f"sourced: {'true' if sources else 'false'}",
        "---",
    ]
    body = footnoted(body, {int(s["n"]) for s in sources})
    paras = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    blocks: list[str] = [f"# {title or seo['title']}"]
    slots: dict[int, list[int]] = {}
    if urls:
        # the first image under the title, the others spread evenly through the paragraphs
        slots = {0: [0]} if paras else {}
        for i in range(1, len(urls)):
            pos = max(1, round(i * len(paras) / len(urls))) if paras else 0
            slots.setdefault(pos, []).append(i)
    placed: set[int] = set()
    for p_idx in range(len(paras) + 1):
        for i in slots.get(p_idx, []):
            alt = (prompts[i] if i < len(prompts) else seo["title"]).replace("]", ")").replace("[", "(")
            blocks.append(f"![{alt}]({urls[i]})")
            placed.add(i)
        if p_idx < len(paras):
            blocks.append(paras[p_idx])
    for i, url in enumerate(urls):
        if i not in placed:
            blocks.append(f"![{seo['title']}]({url})")
    language = state.get("language", "en")
    if sources:
        blocks.append(sources_section(sources, language))
    elif "research_report" in state:
        blocks.append(unsourced_note(language, state["research_report"].get("reason")))
    return "\n".join(front) + "\n\n" + "\n\n".join(blocks) + "\n"
