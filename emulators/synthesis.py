"""What the emulated model services answer with: deterministic drafts in the language a request asks
for, token counts for their usage reports, and pictures for the image services, all made locally.

It stands in for other companies' models, so it is the emulators' own: nothing here is shared with the
application. Text starts with ``OFFLINE_MARK`` so that no reader mistakes it for a model's work.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Literal

OFFLINE_MARK = "[offline]"

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_TOKEN = re.compile(r"[\uac00-\ud7a3]|[A-Za-z]{1,4}|\d{1,3}|[^\sA-Za-z\d\uac00-\ud7a3]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}|[\uac00-\ud7a3]{2,}")
_ASKS_KOREAN = re.compile(r"\bkorean\b|한국어|한글", re.IGNORECASE)
_ASKS_ENGLISH = re.compile(r"\b(in|into) english\b|영어로", re.IGNORECASE)
_COUNT = re.compile(
    r"(\d{1,2})\s*(?:개의?\s*)?(angles?|ideas?|sub-?topics?|items?|titles?|headlines?|questions?|points?|"
    r"keywords?|hashtags?|각도|아이디어|하위\s*주제|주제|제목|항목|키워드)",
    re.IGNORECASE,
)
_TOPIC = re.compile(r"(?:topic|subject|title|주제)\s*[:：]\s*(.+)", re.IGNORECASE)
_STOP = frozenset(
    """the and for with that this from into about your you are was were will would should could have has had
    not but all any can its their them they what when where which who why how than then there these those
    write article draft please give make using use list short long words word english korean language answer
    topic subject title each one two three four five six seven eight nine ten return only format markdown json
    angles angle ideas subtopics sub-topics items headlines questions points keywords hashtags suggest
    한국어로 한국어 영어로 개의 하위 주제 주제를 주제로 제안하세요 제안해 작성하세요 작성해 써주세요
    대한 관한 위한 글을 기사를 글로 후보 목록""".split()
)
_PARTICLE = re.compile(r"(으로|에서|에게|까지|부터|처럼|보다|하는|하기|을|를|이|가|은|는|에|의|로|와|과|도)$")
_LEAD = re.compile(
    r"^(?:please\s+)?(?:write|draft|create|compose|give|suggest|list|propose|make)\b.*?\b(?:about|on|for|regarding)\s+",
    re.IGNORECASE,
)

Language = Literal["en", "ko"]


def message_text(content: Any) -> str:
    """The text of a chat message's ``content``: a string, or a list of parts (strings or ``{"text": …}``)."""
    parts = [content] if isinstance(content, str) else content if isinstance(content, list) else []
    return "\n".join(
        p if isinstance(p, str) else str(p.get("text", "")) for p in parts if isinstance(p, str | Mapping)
    )


def detect_language(prompt: str) -> Language:
    """Korean when the prompt asks for Korean or is mostly Hangul, unless it asks for English."""
    if _ASKS_ENGLISH.search(prompt):
        return "en"
    if _ASKS_KOREAN.search(prompt):
        return "ko"
    hangul = len(_HANGUL.findall(prompt))
    latin = len(re.findall(r"[A-Za-z]", prompt))
    return "ko" if hangul and hangul * 3 >= latin else "en"


def count_tokens(text: str) -> int:
    """The emulated services' tokenizer: a Hangul syllable, up to four Latin letters, up to three digits or
    one other visible character is a token."""
    return len(_TOKEN.findall(text))


def token_ends(text: str) -> list[int]:
    """Where each token ``count_tokens`` counts ends in ``text`` (prompt caches cut prompts there)."""
    return [m.end() for m in _TOKEN.finditer(text)]


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def _subjects(text: str, n: int = 6) -> list[str]:
    """What the emulated model writes about: the words the request repeats most (first seen first among
    equals), instructions and Korean particles left out."""
    found = (
        w.lower() if w.isascii() else _PARTICLE.sub("", w) if len(w) >= 3 else w for w in _WORD.findall(text)
    )
    return [w for w, _ in Counter(w for w in found if w not in _STOP).most_common(n)]


def _topic(prompt: str) -> str:
    if m := _TOPIC.search(prompt):
        found = re.split(r"[.\n。!?]", m.group(1))[0]
        return found.strip().strip("\"'“”")[:120] or "the topic"
    for line in prompt.splitlines():
        if line.strip():
            line = _LEAD.sub("", line.strip())
            return re.split(r"[.。!?]\s", line)[0].rstrip(".")[:120]
    return "the topic"


_EN_ANGLES = [
    "A beginner's guide to {k}",
    "Common mistakes with {k} and how to avoid them",
    "{K}: what changed this year",
    "How {k} saves time and money",
    "The data behind {k}",
    "{K} for small teams",
    "A step-by-step plan for {k}",
    "Myths and facts about {k}",
    "Tools that make {k} easier",
    "Case study: {k} in practice",
    "{K} checklist for busy people",
    "Where {k} is heading next",
]
_KO_ANGLES = [
    "{k} 입문 가이드",
    "{k}에서 흔히 하는 실수와 해결법",
    "올해 달라진 {k}",
    "{k}로 시간과 비용 아끼기",
    "숫자로 보는 {k}",
    "작은 팀을 위한 {k}",
    "단계별 {k} 실천 계획",
    "{k}에 대한 오해와 진실",
    "{k}를 쉽게 만드는 도구",
    "사례로 보는 {k}",
    "바쁜 사람을 위한 {k} 체크리스트",
    "{k}의 다음 흐름",
]
_EN_PARAS = [
    "{T} matters because it touches everyday decisions. This draft looks at {k1} and {k2}, and at what a "
    "reader can do with them today.",
    "Start with {k1}: define the goal, measure where you stand, and pick one change you can test within a "
    "week.",
    "Next comes {k2}. Small, repeated improvements beat one large overhaul, and {k3} shows where the effort "
    "pays.",
    "Finally, {k3} ties the pieces together. Keep notes, compare results, and share what worked with your "
    "team.",
]
_KO_PARAS = [
    "{T}은(는) 일상의 선택과 맞닿아 있습니다. 이 초안은 {k1}와(과) {k2}를 살펴보고, 독자가 오늘 바로 할 수 "
    "있는 일을 정리합니다.",
    "먼저 {k1}부터 시작하세요. 목표를 정하고 현재 상태를 확인한 뒤, 일주일 안에 시험해 볼 변화를 하나 "
    "고릅니다.",
    "다음은 {k2}입니다. 한 번의 큰 변화보다 작은 개선의 반복이 낫고, {k3}에서 그 효과가 드러납니다.",
    "마지막으로 {k3}가 전체를 하나로 묶습니다. 기록하고, 결과를 비교하고, 효과가 있었던 방법을 팀과 "
    "나누세요.",
]


def compose_draft(
    messages: Iterable[Mapping[str, Any]],
    *,
    model: str = "offline",
    max_tokens: int | None = None,
    stop: str | list[str] | None = None,
) -> str:
    """A deterministic draft built from the request's messages, in the language the request asks for.

    A request that asks for N angles/ideas/sub-topics/titles gets N numbered lines; anything else a
    titled multi-paragraph draft. The first line always starts with ``OFFLINE_MARK``.
    """
    msgs = list(messages)
    user = "\n".join(message_text(m.get("content")) for m in msgs if m.get("role") == "user")
    system = "\n".join(
        message_text(m.get("content")) for m in msgs if m.get("role") in ("system", "developer")
    )
    prompt = user or system
    lang = detect_language(f"{system}\n{user}")
    seed = _seed(model, system, user)
    topic = _topic(user or system)
    kws = _subjects(user or system) or [topic]
    while len(kws) < 3:
        kws.append(kws[-1])
    count = _COUNT.search(prompt)
    if count:
        n = max(1, min(int(count.group(1)), 30))
        angles = _KO_ANGLES if lang == "ko" else _EN_ANGLES
        subjects = kws
        lines = []
        for i in range(n):
            k = subjects[(seed + i) % len(subjects)]
            tpl = angles[(seed // 7 + i) % len(angles)]
            lines.append(f"{i + 1}. {tpl.format(k=k, K=k[:1].upper() + k[1:])}")
        header = f"{OFFLINE_MARK} " + (
            f"{topic}: 후보 {n}개" if lang == "ko" else f"{n} candidates for {topic}"
        )
        text = "\n".join([header, *lines])
    else:
        paras = _KO_PARAS if lang == "ko" else _EN_PARAS
        fill = {"T": topic, "k1": kws[0], "k2": kws[1], "k3": kws[2]}
        title = f"{OFFLINE_MARK} {topic[:1].upper() + topic[1:]}"
        note = (
            "(오프라인 초안: 언어 모델 없이 만든 글입니다)"
            if lang == "ko"
            else "(offline draft: written without a language model)"
        )
        body = [p.format(**fill) for p in paras]
        start = seed % 2  # vary the order a little between inputs, deterministically
        body = body[:1] + body[1 + start :] + body[1 : 1 + start]
        body = _cite(body, f"{system}\n{user}")
        text = "\n\n".join([title, note, *body])
    if stop:
        for s in [stop] if isinstance(stop, str) else stop:
            if s and s in text:
                text = text[: text.index(s)]
    if max_tokens is not None and count_tokens(text) > max_tokens:
        text = truncate_tokens(text, max_tokens)
    return text


def json_object(text: str) -> str:
    """A JSON-mode answer without a schema (OpenAI ``json_object``, Gemini ``application/json``): the draft
    and its numbered lines as one object."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    items = [re.sub(r"^\d+\.\s*", "", ln) for ln in lines[1:] if re.match(r"^\d+\.", ln)]
    return json.dumps({"offline": True, "text": text, "items": items}, ensure_ascii=False)


_CITATION = re.compile(r"\[(\d{1,2})\]")
_SENTENCE_END = re.compile(r"(?<=[.!?。])(?=\s|$)")


def _cite(paragraphs: list[str], prompt: str) -> list[str]:
    """Like a model told to cite numbered sources: when the request carries source numbers (``[n]``),
    every sentence ends with the next one of them, in turn."""
    numbers = sorted({int(n) for n in _CITATION.findall(prompt)})
    if not numbers:
        return paragraphs
    out, i = [], 0
    for para in paragraphs:
        parts = [p for p in _SENTENCE_END.split(para) if p.strip()]
        cited = []
        for part in parts:
            cited.append(f"{part.rstrip()} [{numbers[i % len(numbers)]}]")
            i += 1
        out.append(" ".join(c.strip() for c in cited))
    return out


def truncate_tokens(text: str, limit: int) -> str:
    out = ""
    for piece in re.split(r"(\s+)", text):
        if count_tokens(out + piece) > limit:
            break
        out += piece
    return out.rstrip() or text[: max(1, limit)]


def picture(
    prompt: str, width: int, height: int, fmt: Literal["PNG", "JPEG"] = "PNG", seed: int = 0
) -> bytes:
    """A deterministic picture for ``prompt``: a radial glow between two colours of the prompt's hash,
    crossed by stripes, with a caption. A PNG has a fully transparent strip at the bottom, as generated
    art with an alpha channel can, so a client that converts to JPEG must flatten it."""
    from PIL import Image, ImageDraw, ImageOps

    h = _seed(prompt, str(seed))
    inner = tuple(int(255 * v) for v in colorsys.hls_to_rgb((h % 997) / 997, 0.7, 0.6))
    outer = tuple(int(255 * v) for v in colorsys.hls_to_rgb((h % 991) / 991 + 0.5, 0.3, 0.5))
    glow = ImageOps.colorize(Image.radial_gradient("L"), inner, outer)
    img = glow.resize((width, height)).convert("RGBA")
    draw = ImageDraw.Draw(img, "RGBA")
    step = max(8, width // 10)
    for i, x in enumerate(range(-height, width, step)):
        if (h >> (i % 48)) & 1:
            draw.line((x, 0, x + height, height), fill=(255, 255, 255, 60), width=max(2, step // 4))
    draw.text((8, 8), f"EMULATED IMAGE {width}x{height}", fill=(255, 255, 255, 255))
    if fmt == "PNG":
        alpha = Image.new("L", (width, height), 255)
        ImageDraw.Draw(alpha).rectangle((0, height - max(16, height // 10), width, height), fill=0)
        img.putalpha(alpha)
    buf = io.BytesIO()
    if fmt == "PNG":
        img.save(buf, "PNG", compress_level=1)
    else:
        img.convert("RGB").save(buf, "JPEG", quality=85)
    return buf.getvalue()
