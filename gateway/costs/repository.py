"""The cost view's SQL is the core's (``icop.budgets.repository.usage_lines``): one home for pricing usage."""

from __future__ import annotations

from icop.budgets.repository import usage_lines

__all__ = ["usage_lines"]
