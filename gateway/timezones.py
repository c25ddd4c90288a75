"""Shared field validators."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        if "\x00" in value or value.startswith("/") or ".." in value:
            raise ValueError
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Asia/Seoul'") from e
    return value
