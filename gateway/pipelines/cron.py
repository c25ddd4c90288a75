"""Five-field crons (minute hour day-of-month month day-of-week): parsing and the next fire times.

The grammar is what pipelines accept (numbers, ``*``, ranges, lists, steps; weekday 0 or 7 is Sunday)
and the meaning is what Temporal Schedules (which fire the pipelines) give it: a day fires when its
month, its day of month *and* its weekday all match. Unlike Vixie cron there is no "either day" rule
when both day fields are restricted (``0 12 1 * 0`` is noon on a 1st that is a Sunday); the tests
compare these times with the Temporal server's own. Times are wall-clock times in the pipeline's IANA
zone; a time that does not exist on a spring-forward day is skipped, one that happens twice fires once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
NAMES = ["minute", "hour", "day of month", "month", "day of week"]
HORIZON_DAYS = 40 * 366  # "Feb 29 on a Monday" can be decades away; past this, it never fires


@dataclass(frozen=True)
class CronSpec:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday

    def day_matches(self, d: date) -> bool:
        return d.month in self.months and d.day in self.days and (d.isoweekday() % 7) in self.weekdays


def _expand(text: str, lo: int, hi: int, name: str) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = int(step_text) if slash else 1
        if step < 1:
            raise ValueError(f"the {name} field has a step of 0; use a step of 1 or more")
        if base == "*":
            a, b = lo, hi
        elif "-" in base:
            first, _, last = base.partition("-")
            a, b = int(first), int(last)
        else:
            a = int(base)
            b = hi if slash else a  # "5/15": from 5 to the end, every 15
        if not (lo <= a <= hi and lo <= b <= hi):
            raise ValueError(f"the {name} field must stay within {lo}-{hi}")
        if a > b:
            raise ValueError(f"the {name} field has the range {a}-{b}, which runs backwards")
        out.update(range(a, b + 1, step))
    return out


def parse(cron: str) -> CronSpec:
    """The cron's sets of values; ``ValueError`` with a reason a user can act on. The syntax itself is
    checked by ``check_cron`` first."""
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError("cron must have five fields, e.g. '0 9 * * 1-5'")
    sets = [_expand(f, lo, hi, n) for f, (lo, hi), n in zip(fields, RANGES, NAMES, strict=True)]
    weekdays = frozenset(d % 7 for d in sets[4])
    spec = CronSpec(
        tuple(sorted(sets[0])),
        tuple(sorted(sets[1])),
        frozenset(sets[2]),
        frozenset(sets[3]),
        weekdays,
    )
    if not any(d <= _MONTH_DAYS[m] for m in spec.months for d in spec.days):
        raise ValueError("this cron names a day that no chosen month has (e.g. 31 February); it never fires")
    return spec


_MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def next_fire_times(cron: str, zone: str, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` fire times strictly after ``after``, as aware datetimes in ``zone``."""
    spec = parse(cron)
    tz = ZoneInfo(zone)
    after = after.astimezone(tz)
    out: list[datetime] = []
    day, idle = after.date(), 0
    while idle < HORIZON_DAYS:  # no fire for eight years: it never fires again
        idle += 1
        if spec.day_matches(day):
            for h in spec.hours:
                for m in spec.minutes:
                    naive = datetime.combine(day, time(h, m))
                    local = naive.replace(tzinfo=tz)  # fold=0: the first of two equal wall times
                    if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
                        continue  # does not exist (spring forward)
                    if local > after:
                        out.append(local)
                        idle = 0
                        if len(out) == count:
                            return out
        day += timedelta(days=1)
    return out
