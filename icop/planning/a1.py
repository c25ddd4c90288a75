"""A1 notation for the plan's ranges: ``ContentPlan!D7:E7``, ``Subtopics!A2:A`` (open-ended rows).

Rows and columns here are 1-based like the sheet's own (row 1 is the header row, column 1 is A)."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_ROW = 1_000_000
_RANGE = re.compile(r"^(?:'((?:[^']|'')+)'|([^!']+))!([A-Z]+)(\d*)(?::([A-Z]+)(\d*))?$")


def col_number(letters: str) -> int:
    """``A`` → 1, ``Z`` → 26, ``AA`` → 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def col_letters(number: int) -> str:
    out, n = "", number
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


@dataclass(frozen=True)
class Range:
    tab: str
    row0: int
    col0: int
    row1: int  # inclusive; MAX_ROW for an open-ended range (``A2:A``)
    col1: int

    def cell(self, row: int, col: int) -> str:
        return f"{quote_tab(self.tab)}!{col_letters(col)}{row}"

    def cells(self) -> list[tuple[int, int]]:
        """Every (row, col) of a bounded range, row by row."""
        return [(r, c) for r in range(self.row0, self.row1 + 1) for c in range(self.col0, self.col1 + 1)]


def quote_tab(tab: str) -> str:
    return tab if re.fullmatch(r"[A-Za-z0-9_]+", tab) else "'" + tab.replace("'", "''") + "'"


def parse(a1: str) -> Range:
    """A range on one tab; a single cell is a 1×1 range. Raises ValueError with what is wrong."""
    m = _RANGE.match(a1.strip())
    if not m:
        raise ValueError(f"{a1!r} is not a range like 'ContentPlan!A2:E' (a tab, '!', then cells)")
    tab = (m.group(1) or "").replace("''", "'") or (m.group(2) or "")
    c0, r0 = col_number(m.group(3)), int(m.group(4) or 1)
    if m.group(5) is None:
        c1, r1 = c0, (int(m.group(4)) if m.group(4) else MAX_ROW)
    else:
        c1, r1 = col_number(m.group(5)), int(m.group(6) or MAX_ROW)
    if r0 < 1 or r1 < r0 or c1 < c0:
        raise ValueError(f"{a1!r} is an empty range")
    return Range(tab, r0, c0, r1, c1)


def render(tab: str, row0: int, col0: int, row1: int, col1: int) -> str:
    a, b = f"{col_letters(col0)}{row0}", f"{col_letters(col1)}{row1}"
    return f"{quote_tab(tab)}!{a}" if a == b else f"{quote_tab(tab)}!{a}:{b}"
