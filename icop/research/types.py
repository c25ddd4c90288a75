"""What research produces, as plain JSON-able values (they travel in the graph's checkpointed state and
are stored with the article)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

ProviderName = Literal["tavily", "naver"]
ProviderChoice = Literal["auto", "tavily", "naver"]
FailurePolicy = Literal["continue", "fail"]


def provider_choice(value: object) -> ProviderChoice | None:
    """A stored or configured provider name as a choice; None for anything else (the platform's default)."""
    if value == "tavily":
        return "tavily"
    if value == "naver":
        return "naver"
    if value == "auto":
        return "auto"
    return None


def failure_policy(value: object) -> FailurePolicy | None:
    if value == "continue":
        return "continue"
    if value == "fail":
        return "fail"
    return None


@dataclass(frozen=True)
class SearchHit:
    """One search result as the provider returned it (markup removed)."""

    title: str
    url: str
    snippet: str
    provider: str
    published: str | None = None  # ISO date when the provider gave one


class Source(TypedDict):
    """A page the article may cite as ``[n]``: fetched and extracted during the run."""

    n: int
    url: str
    title: str
    site: str
    published: str | None  # ISO date (YYYY-MM-DD) from the page's metadata, else the provider's
    passages: list[str]  # the extracted passages given to the writers
    provider: str  # the search provider that found it


class SearchCall(TypedDict):
    """One search request (after its retries)."""

    provider: str
    query: str
    index: str  # "web" (Tavily) or the Naver index: webkr, news, blog
    ok: bool
    results: int
    error: str | None  # the provider's message when the call failed
    error_kind: str | None  # icop.connectors.errors.ErrorKind, e.g. "quota_exhausted"


class PageFetch(TypedDict):
    """What happened to one result URL."""

    url: str
    outcome: str  # fetched | cached | revalidated | refused | robots | failed | not_html | empty | duplicate
    detail: str


class ResearchReport(TypedDict):
    """The research step's record: whether the article is sourced, and why not when it is not."""

    status: Literal["sourced", "unsourced"]
    provider: str | None
    reason: str | None  # set when unsourced: what failed, in words a user can act on
    searches: list[SearchCall]
    pages: list[PageFetch]
