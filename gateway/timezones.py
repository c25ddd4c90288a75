"""Shared field validators."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic_core import PydanticCustomError


def check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        if "\x00" in value or value.startswith("/") or ".." in value:
            raise ValueError
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise PydanticCustomError(
            "timezone_unknown",
            "unknown time zone {value}; use an IANA name such as 'Asia/Seoul'",
            {"value": value[:64]},
        ) from e
    return value
