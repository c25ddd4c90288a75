"""What usage cost: a versioned price table per provider and model, applied to ``usage_records``.

Each price holds from its ``since`` date until the next price of the same provider and model, so a
change of price (a setting, ``ICOP_PRICES``) re-prices nothing that was used before it. Usage with no
price (offline providers, a model nobody priced) costs nothing and is counted as unpriced, so a gap in
the table shows instead of hiding.

Input tokens come in three parts that vendors bill apart: read from their prompt cache, written to it,
and the rest (uncached). ``prompt_tokens`` is all of them; the cache parts are counted within it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

MTOK = Decimal(1_000_000)


class Price(BaseModel):
    """One provider and model's price from a date on (USD). ``model`` ``*``: every model of the provider
    without a price of its own."""

    model_config = {"frozen": True}

    provider: str
    model: str
    since: date
    input_usd_per_mtok: Decimal = Field(default=Decimal(0), ge=0)
    output_usd_per_mtok: Decimal = Field(default=Decimal(0), ge=0)
    usd_per_image: Decimal = Field(default=Decimal(0), ge=0)
    cache_read_usd_per_mtok: Decimal | None = Field(default=None, ge=0)
    """Input read from the vendor's prompt cache (None: the input price)."""
    cache_write_usd_per_mtok: Decimal | None = Field(default=None, ge=0)
    """Input written to the vendor's prompt cache (None: the input price, as for vendors that cache on
    their own and bill the first request as usual)."""

    def cost(
        self,
        prompt_tokens: int,
        completion_tokens: int,
        images: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> Decimal:
        """Uncached input × the input price + cache reads × the read price + cache writes × the write
        price + output × the output price + images × the image price."""
        uncached = prompt_tokens - cache_read_tokens - cache_write_tokens
        if uncached < 0 or cache_read_tokens < 0 or cache_write_tokens < 0:
            raise ValueError("cache read and write tokens are parts of prompt_tokens")
        base = self.input_usd_per_mtok
        read = base if self.cache_read_usd_per_mtok is None else self.cache_read_usd_per_mtok
        write = base if self.cache_write_usd_per_mtok is None else self.cache_write_usd_per_mtok
        return (
            base * uncached / MTOK
            + read * cache_read_tokens / MTOK
            + write * cache_write_tokens / MTOK
            + self.output_usd_per_mtok * completion_tokens / MTOK
            + self.usd_per_image * images
        )


# The providers' list prices for the default models (their pricing pages, at the dates given). Operators
# add later prices (or other models) with ICOP_PRICES; an entry there with the same provider, model and
# date replaces the one here.
# Prompt-cache prices as the vendors' pricing pages listed them on 2026-12-03 (PRICE_TABLE_DATE; standard
# tier, per million tokens; docs/observability.md#cost has the sources):
# - OpenAI gpt-4o (platform.openai.com/docs/pricing): cached input $1.25 (half the input price); OpenAI
#   caches on its own and bills no write.
# - Anthropic Claude Sonnet 4.5 (docs.anthropic.com/en/docs/about-claude/pricing): 5-minute cache writes
#   $3.75 (1.25x input), cache hits $0.30 (0.1x input); the writers use the default 5-minute cache.
# - Google Gemini 2.5 Flash (ai.google.dev/gemini-api/docs/pricing): context caching $0.03 (text; 0.1x
#   input); implicit caching bills no write and no storage.
PRICE_TABLE_DATE = date(2026, 12, 3)
DEFAULT_PRICES: tuple[Price, ...] = (
    Price(provider="gpt", model="gpt-4o", since=date(2024, 10, 1),
          input_usd_per_mtok=Decimal("2.50"), output_usd_per_mtok=Decimal("10.00"),
          cache_read_usd_per_mtok=Decimal("1.25")),
    Price(provider="claude", model="claude-sonnet-4-5", since=date(2025, 9, 29),
          input_usd_per_mtok=Decimal("3.00"), output_usd_per_mtok=Decimal("15.00"),
          cache_read_usd_per_mtok=Decimal("0.30"), cache_write_usd_per_mtok=Decimal("3.75")),
    Price(provider="gemini", model="gemini-2.5-flash", since=date(2025, 6, 17),
          input_usd_per_mtok=Decimal("0.30"), output_usd_per_mtok=Decimal("2.50"),
          cache_read_usd_per_mtok=Decimal("0.03")),
    Price(provider="dall-e", model="dall-e-3", since=date(2023, 11, 6), usd_per_image=Decimal("0.040")),
    Price(provider="flux", model="fal-ai/flux/schnell", since=date(2024, 8, 1),
          usd_per_image=Decimal("0.003")),
)  # fmt: skip


class PriceTable:
    def __init__(self, prices: Iterable[Price]) -> None:
        by_key: dict[tuple[str, str, date], Price] = {}
        for p in prices:  # later entries replace earlier ones of the same provider, model and date
            by_key[(p.provider, p.model, p.since)] = p
        self._prices: dict[tuple[str, str], list[Price]] = {}
        for p in sorted(by_key.values(), key=lambda p: p.since):
            self._prices.setdefault((p.provider, p.model), []).append(p)

    @classmethod
    def with_overrides(cls, overrides: Iterable[Price]) -> PriceTable:
        return cls([*DEFAULT_PRICES, *overrides])

    def price(self, provider: str, model: str, day: date) -> Price | None:
        """The price in force on ``day`` (the model's own, else the provider's ``*``), or None."""
        for key in ((provider, model), (provider, "*")):
            found = [p for p in self._prices.get(key, ()) if p.since <= day]
            if found:
                return found[-1]
        return None


@dataclass(frozen=True)
class UsageLine:
    """Usage summed per group, provider, model and day (what the repository returns)."""

    group: str | None
    kind: str
    provider: str
    model: str
    day: date
    prompt_tokens: int
    completion_tokens: int
    images: int
    records: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass
class GroupCost:
    group: str | None
    llm_usd: Decimal = Decimal(0)
    image_usd: Decimal = Decimal(0)
    other_usd: Decimal = Decimal(0)
    unpriced_records: int = 0
    input_tokens: int = 0
    """LLM input tokens, priced or not; the two below are parts of it."""
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def total_usd(self) -> Decimal:
        return self.llm_usd + self.image_usd + self.other_usd


def price_usage(lines: Iterable[UsageLine], table: PriceTable) -> list[GroupCost]:
    """Cost per group, in the order groups first appear."""
    out: dict[str | None, GroupCost] = {}
    for line in lines:
        g = out.setdefault(line.group, GroupCost(line.group))
        if line.kind == "llm":
            g.input_tokens += line.prompt_tokens
            g.cache_read_tokens += line.cache_read_tokens
            g.cache_write_tokens += line.cache_write_tokens
        price = table.price(line.provider, line.model, line.day)
        if price is None:
            g.unpriced_records += line.records
            continue
        cost = price.cost(
            line.prompt_tokens,
            line.completion_tokens,
            line.images,
            line.cache_read_tokens,
            line.cache_write_tokens,
        )
        if line.kind == "llm":
            g.llm_usd += cost
        elif line.kind == "image":
            g.image_usd += cost
        else:
            g.other_usd += cost
    return list(out.values())
