"""The web the search emulators point at: for any query, a deterministic set of documents in the query's
language, each served as a real HTML page (cookie banner, navigation, article, related links, footer) so
that a client's extractor has boilerplate to remove.

Nothing is stored: a page's URL carries the query (as a slug) and its rank, and the page is built again
from them on every request. Some results are near-duplicates of others (the same story syndicated on a
second site), one is a PDF and one sits under ``/members/``, which ``robots.txt`` disallows.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

HANGUL = re.compile(r"[\uac00-\ud7a3]")
ROBOTS_TXT = "User-agent: *\nDisallow: /members/\n\nUser-agent: ICOP-Blocked\nDisallow: /\n"
RESULTS = 8
_EPOCH = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)

_EN_SITES = [
    ("fieldnotes.example", "Field Notes"),
    ("dailyledger.example", "The Daily Ledger"),
    ("practicalguide.example", "Practical Guide"),
    ("citydesk.example", "City Desk"),
    ("sciencebrief.example", "Science Brief"),
    ("homeandwork.example", "Home & Work"),
    ("wirecopy.example", "Wire Copy"),
    ("openforum.example", "Open Forum"),
]
_KO_SITES = [
    ("hangang-ilbo.example", "한강일보"),
    ("saenghwal.example", "생활정보 매거진"),
    ("gwahak-today.example", "과학투데이"),
    ("blog-jiwon.example", "지원의 기록 블로그"),
    ("sijang-news.example", "시장뉴스"),
    ("dosi-report.example", "도시리포트"),
    ("yonhap-copy.example", "뉴스와이어 코리아"),
    ("jisik-forum.example", "지식포럼"),
]
_EN_TITLES = [
    "{S}: a practical guide for beginners",
    "What the research says about {s}",
    "{S}: costs, risks and common mistakes",
    "How people are approaching {s} in {year}",
    "Ten questions about {s}, answered",
    "{S}: lessons from {n1} case studies",
    "The numbers behind {s}",
    "Is {s} worth it? Experts weigh in",
]
_KO_TITLES = [
    "{s} 입문 가이드: 처음 시작하는 사람을 위한 정리",
    "연구로 본 {s}의 효과",
    "{s}, 비용과 위험 그리고 흔한 실수",
    "{year}년 {s}는 어떻게 달라졌나",
    "{s}에 대한 열 가지 질문과 답",
    "사례 {n1}건으로 본 {s}",
    "숫자로 보는 {s}",
    "{s}, 해볼 만한가? 전문가들의 의견",
]
_EN_PARAS = [
    "{S} has drawn growing attention: a {year} survey of {n2:,} adults by the {org} found that {p1}% had "
    "tried it at least once, up from {p2}% three years earlier.",
    "Experts stress planning before spending. \u201cMost problems with {s} come from starting too big,\u201d "
    "said {person}, a researcher at the {org2}, who has followed {n1} projects since {year0}.",
    "Costs vary widely. People starting with {s} typically spend between ${c1} and ${c2} in the first year, "
    "according to figures compiled by the {org}, and about a third of that goes on equipment.",
    "The most common mistake is doing too much at once: {p3}% of beginners in the {org2} study gave up "
    "within six months, most of them citing time rather than money.",
    "Local rules matter as well. Several cities now publish guidance on {s}, and {p4}% of the projects "
    "reviewed by the {org} had to change their plans after checking those rules.",
    "For readers who want to begin, the advice is consistent: start small, keep records for {w} weeks, and "
    "compare the results before committing more time or money to {s}.",
    "Long-term results are encouraging. Participants who kept at {s} for two years reported a {p5}% "
    "improvement on the measures the {org2} tracked, against {p6}% for those who stopped early.",
    "Equipment is rarely the bottleneck. In interviews with {n1} practitioners, the most cited obstacle "
    "to {s} was finding a regular slot in the week, named by {p3}% of them.",
    "Not every claim holds up. A review by the {org2} of {n1} popular tips on {s} found that only {p4}% "
    "were backed by published evidence; the rest were plausible but untested.",
    "Community groups have become the main entry point: membership of groups devoted to {s} grew by "
    "{p1}% between {year0} and {year}, according to the {org}.",
    "Seasonal timing matters more than most beginners expect. Projects on {s} started in spring were "
    "{p5}% more likely to continue a year later than those started in late autumn.",
    "Safety guidance is short and practical: read the manufacturer's instructions, ask an experienced "
    "member before the first attempt, and stop when something feels wrong, {person} advised.",
]
_KO_PARAS = [
    "{s}에 대한 관심이 커지고 있다. {org}가 {year}년 성인 {n2:,}명을 조사한 결과 {p1}%가 한 번 이상 "
    "경험했다고 답해, 3년 전 {p2}%보다 크게 늘었다.",
    "전문가들은 시작 전 계획을 강조한다. {org2}의 {person} 연구원은 \u201c{s}의 문제는 대부분 처음부터 "
    "크게 시작하는 데서 생긴다\u201d며 {year0}년부터 {n1}개 사례를 추적해 왔다고 말했다.",
    "비용은 천차만별이다. {org}가 집계한 자료에 따르면 {s}를 시작한 사람들은 첫해에 보통 {k1}만 원에서 "
    "{k2}만 원을 쓰며, 그중 약 3분의 1이 장비 구입비다.",
    "가장 흔한 실수는 한꺼번에 너무 많은 것을 하는 것이다. {org2} 연구에서 초보자의 {p3}%가 6개월 안에 "
    "그만두었고, 대부분 돈보다 시간을 이유로 들었다.",
    "지역 규정도 중요하다. 여러 지자체가 {s}에 관한 안내를 내놓았으며, {org}가 검토한 사례의 {p4}%는 "
    "규정을 확인한 뒤 계획을 바꿔야 했다.",
    "시작하려는 독자에게 주는 조언은 한결같다. 작게 시작하고, {w}주 동안 기록을 남기고, 결과를 비교한 뒤에 "
    "{s}에 시간과 돈을 더 들이라는 것이다.",
    "장기적인 결과도 긍정적이다. {s}를 2년 이상 꾸준히 한 참가자들은 {org2}가 추적한 지표에서 {p5}% "
    "개선을 보였고, 일찍 그만둔 사람들은 {p6}%에 그쳤다.",
    "장비는 걸림돌이 아닌 경우가 많다. 실천가 {n1}명을 인터뷰한 결과 {s}의 가장 큰 장애물은 일주일 중 "
    "규칙적인 시간을 확보하는 일이었고, 응답자의 {p3}%가 이를 꼽았다.",
    "모든 주장이 검증된 것은 아니다. {org2}가 {s}에 관한 인기 조언 {n1}개를 검토한 결과 발표된 근거가 "
    "있는 것은 {p4}%뿐이었다.",
    "동호회가 주요 입문 경로가 됐다. {org}에 따르면 {s} 관련 모임의 회원 수는 {year0}년부터 {year}년 "
    "사이 {p1}% 늘었다.",
    "시작 시기도 생각보다 중요하다. 봄에 {s}를 시작한 경우 늦가을에 시작한 경우보다 1년 뒤에도 계속할 "
    "가능성이 {p5}% 높았다.",
    "안전 수칙은 짧고 실용적이다. 제조사 설명서를 읽고, 처음에는 경험 많은 회원에게 묻고, 이상하다고 "
    "느끼면 멈추라고 {person} 연구원은 조언했다.",
]
_EN_ORGS = [
    "National Consumer Panel",
    "Institute for Everyday Research",
    "Civic Data Lab",
    "Open Survey Trust",
]
_EN_ORGS2 = ["University of Westbrook", "Harbor Policy Center", "Northfield Institute", "Lakeside College"]
_EN_PEOPLE = ["Dana Whitfield", "Marcus Oyelaran", "Priya Raman", "Tomas Lindqvist", "Helen Osei"]
_KO_ORGS = ["한국생활연구원", "국민소비자패널", "도시데이터연구소", "열린조사재단"]
_KO_ORGS2 = ["서울미래대학교", "한빛정책연구소", "누리연구원", "바다대학교"]
_KO_PEOPLE = ["김서연", "박지훈", "이수민", "정하늘", "최민준"]


def language_of(text: str) -> str:
    hangul = len(HANGUL.findall(text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return "ko" if hangul and hangul * 2 >= latin else "en"


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def slug_of(query: str) -> str:
    """The query as a path segment: lower-case words (Hangul kept) joined by hyphens."""
    words = re.findall(r"[a-z0-9]+|[\uac00-\ud7a3]+", query.lower())
    return "-".join(words)[:120] or "search"


def subject_of(slug: str) -> str:
    return slug.replace("-", " ")


@dataclass(frozen=True)
class Document:
    """One search result and the page behind it."""

    rank: int
    slug: str
    language: str
    site: str
    site_name: str
    title: str
    paragraphs: list[str]
    published: datetime
    author: str
    kind: str  # "html" | "pdf" | "members"
    copy_of: int | None = None  # a near-duplicate of that rank's document

    @property
    def path(self) -> str:
        if self.kind == "pdf":
            return f"/web/{self.site}/reports/{quote(self.slug)}-{self.rank}.pdf"
        root = "/members" if self.kind == "members" else "/web"
        return f"{root}/{self.site}/{self.published:%Y/%m}/{quote(self.slug)}-{self.rank}.html"

    def snippet(self, words: set[str]) -> str:
        """The paragraph that mentions the query most (search engines show the matching passage)."""
        best = max(self.paragraphs, key=lambda p: sum(w in p.lower() for w in words))
        return best

    def html(self, url: str) -> str:
        return render_page(self, url)


def _fill(lang: str, slug: str, rank: int) -> dict[str, object]:
    h = _seed(slug, str(rank))
    subject = subject_of(slug)
    orgs, orgs2, people = (
        (_KO_ORGS, _KO_ORGS2, _KO_PEOPLE) if lang == "ko" else (_EN_ORGS, _EN_ORGS2, _EN_PEOPLE)
    )
    return {
        "s": subject,
        "S": subject[:1].upper() + subject[1:],
        "year": 2024 + h % 3,
        "year0": 2015 + h % 6,
        "n1": 12 + h % 40,
        "n2": 1000 + h % 4000,
        "p1": 20 + h % 30,
        "p2": 8 + h % 11,
        "p3": 25 + h % 25,
        "p4": 10 + h % 30,
        "p5": 15 + h % 20,
        "p6": 3 + h % 9,
        "c1": 100 + 10 * (h % 40),
        "c2": 600 + 20 * (h % 50),
        "k1": 10 + h % 20,
        "k2": 40 + h % 60,
        "w": 4 + h % 9,
        "org": orgs[h % len(orgs)],
        "org2": orgs2[(h >> 8) % len(orgs2)],
        "person": people[(h >> 16) % len(people)],
    }


def documents(query: str) -> list[Document]:
    """The ranked results for ``query`` (deterministic; the same query always gives the same list)."""
    return [document(slug_of(query), rank) for rank in range(RESULTS)]


def _copy_source(slug: str, rank: int) -> int | None:
    """Two results per query are syndicated copies of earlier ones (ranks 4 and 6 copy 0 and 2)."""
    return {4: 0, 6: 2}.get(rank)


def document(slug: str, rank: int, lang: str | None = None) -> Document:
    lang = lang or language_of(subject_of(slug))
    h = _seed(slug, str(rank))
    q = _seed(slug)  # per query: ranks map to distinct sites and titles
    sites = _KO_SITES if lang == "ko" else _EN_SITES
    site, site_name = sites[(q + rank) % len(sites)]
    kind = "pdf" if rank == 5 else "members" if rank == 7 else "html"
    copy = _copy_source(slug, rank)
    base_rank = copy if copy is not None else rank
    fill = _fill(lang, slug, base_rank)
    titles, paras = (_KO_TITLES, _KO_PARAS) if lang == "ko" else (_EN_TITLES, _EN_PARAS)
    title = titles[(q + base_rank) % len(titles)].format(**fill)
    # five paragraphs per story, three of them its own: different stories share at most two templates
    picks = [(base_rank * 3 + j) % len(paras) for j in range(5)]
    picks.sort(key=lambda i: _seed(slug, str(base_rank), str(i)))
    body = [paras[i].format(**fill) for i in picks]
    if copy is not None:  # the syndicated copy: same story, a different site's lead and sign-off
        lead = (
            "이 기사는 제휴 매체에 먼저 실렸다."
            if lang == "ko"
            else "This story first appeared on a partner site."
        )
        body = [*body, lead]
    people = _KO_PEOPLE if lang == "ko" else _EN_PEOPLE
    published = _EPOCH + timedelta(days=h % 900, hours=h % 11)
    if copy is not None:
        published = document(slug, copy, lang).published + timedelta(days=1)
    return Document(
        rank, slug, lang, site, site_name, title, body, published, people[h % len(people)], kind, copy
    )


def find(site: str, slug: str, rank: int, kind: str) -> Document | None:
    """The document behind a served path, or None when no query would have produced it."""
    if not 0 <= rank < RESULTS:
        return None
    doc = document(slug, rank)
    return doc if doc.site == site and doc.kind == kind else None


def highlight(text: str, words: set[str]) -> str:
    """Naver-style: query words wrapped in ``<b>`` (the rest HTML-escaped, as Naver's API returns it)."""
    out = html.escape(text, quote=False)
    for w in sorted(words, key=len, reverse=True):
        if len(w) >= 2:
            out = re.sub(re.escape(w), lambda m: f"<b>{m.group(0)}</b>", out, flags=re.IGNORECASE)
    return out


_NAV_EN = ["Home", "News", "Guides", "Opinion", "Newsletter", "Subscribe"]
_NAV_KO = ["홈", "뉴스", "가이드", "오피니언", "뉴스레터", "구독"]


def render_page(doc: Document, url: str) -> str:
    ko = doc.language == "ko"
    e = html.escape
    nav = "".join(f'<li><a href="/{i}">{e(n)}</a></li>' for i, n in enumerate(_NAV_KO if ko else _NAV_EN))
    cookie = (
        "이 사이트는 쿠키를 사용합니다. 계속 이용하면 쿠키 사용에 동의하는 것으로 간주합니다."
        if ko
        else "We use cookies to improve your experience. By continuing you accept our cookie policy."
    )
    related_title = "관련 기사" if ko else "Related stories"
    related = "".join(
        f'<li><a href="/web/{doc.site}/related/{i}.html">{e(t)}</a></li>'
        for i, t in enumerate(
            ["오늘의 많이 본 기사", "편집자 추천", "주간 뉴스레터 모음"]
            if ko
            else ["Most read today", "Editor's picks", "This week's newsletter"]
        )
    )
    paragraphs = "\n".join(f"<p>{e(p)}</p>" for p in doc.paragraphs)
    date_text = f"{doc.published:%Y.%m.%d}" if ko else f"{doc.published:%B %d, %Y}"
    byline = f"{e(doc.author)} 기자" if ko else f"By {e(doc.author)}"
    footer = (
        f"© {doc.published.year} {e(doc.site_name)}. 무단 전재 및 재배포 금지. 개인정보처리방침 · 이용약관"
        if ko
        else f"© {doc.published.year} {e(doc.site_name)}. All rights reserved. Privacy policy · Terms of use"
    )
    return f"""<!doctype html>
<html lang="{doc.language}">
<head>
<meta charset="utf-8">
<title>{e(doc.title)} | {e(doc.site_name)}</title>
<meta name="description" content="{e(doc.paragraphs[0][:150])}">
<meta name="author" content="{e(doc.author)}">
<meta property="og:site_name" content="{e(doc.site_name)}">
<meta property="og:title" content="{e(doc.title)}">
<meta property="og:type" content="article">
<meta property="article:published_time" content="{doc.published.isoformat()}">
<link rel="canonical" href="{e(url)}">
</head>
<body>
<div class="cookie-banner" role="dialog"><p>{cookie}</p><button>OK</button></div>
<header class="site-header"><a class="logo" href="/">{e(doc.site_name)}</a>
<nav><ul>{nav}</ul></nav></header>
<main>
<article>
<h1>{e(doc.title)}</h1>
<p class="byline">{byline} · <time datetime="{doc.published.isoformat()}">{date_text}</time></p>
{paragraphs}
</article>
<aside class="related"><h2>{related_title}</h2><ul>{related}</ul></aside>
</main>
<footer class="site-footer"><p>{footer}</p></footer>
</body>
</html>
"""


def pdf_bytes(doc: Document) -> bytes:
    """A minimal PDF (the fetcher is expected to refuse it by its content type)."""
    text = doc.title.encode("ascii", "replace")
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% " + text + b"\n%%EOF\n"
