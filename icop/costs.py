"""What usage cost: a versioned price table per provider and model, applied to ``usage_records``.

Each price holds from its ``since`` date until the next price of the same provider and model, so a
change of price (a setting, ``ICOP_PRICES``) re-prices nothing that was used before it. Usage with no
price (offline providers, a model nobody priced) costs nothing and is counted as unpriced, so a gap in
the table shows instead of hiding.
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

    def cost(self, prompt_tokens: int, completion_tokens: int, images: int) -> Decimal:
        return (
            self.input_usd_per_mtok * prompt_tokens / MTOK
            + self.output_usd_per_mtok * completion_tokens / MTOK
            + self.usd_per_image * images
        )


# The providers' list prices for the default models (their pricing pages, at the dates given). Operators
# add later prices (or other models) with ICOP_PRICES; an entry there with the same provider, model and
# date replaces the one here.
DEFAULT_PRICES: tuple[Price, ...] = (
    Price(provider="gpt", model="gpt-4o", since=date(2024, 10, 1),
          input_usd_per_mtok=Decimal("2.50"), output_usd_per_mtok=Decimal("10.00")),
    Price(provider="claude", model="claude-sonnet-4-5", since=date(2025, 9, 29),
          input_usd_per_mtok=Decimal("3.00"), output_usd_per_mtok=Decimal("15.00")),
    Price(provider="gemini", model="gemini-2.5-flash", since=date(2025, 6, 17),
          input_usd_per_mtok=Decimal("0.30"), output_usd_per_mtok=Decimal("2.50")),
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


@dataclass
class GroupCost:
    group: str | None
    llm_usd: Decimal = Decimal(0)
    image_usd: Decimal = Decimal(0)
    other_usd: Decimal = Decimal(0)
    unpriced_records: int = 0

    @property
    def total_usd(self) -> Decimal:
        return self.llm_usd + self.image_usd + self.other_usd


def price_usage(lines: Iterable[UsageLine], table: PriceTable) -> list[GroupCost]:
    """Cost per group, in the order groups first appear."""
    out: dict[str | None, GroupCost] = {}
    for line in lines:
        g = out.setdefault(line.group, GroupCost(line.group))
        price = table.price(line.provider, line.model, line.day)
        if price is None:
            g.unpriced_records += line.records
            continue
        cost = price.cost(line.prompt_tokens, line.completion_tokens, line.images)
        if line.kind == "llm":
            g.llm_usd += cost
        elif line.kind == "image":
            g.image_usd += cost
        else:
            g.other_usd += cost
    return list(out.values())
