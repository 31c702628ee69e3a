"""When a `schedule` trigger fires: 5-field cron expressions (croniter) or a fixed interval,
in a time zone (zoneinfo). Pure functions of a config and an instant; no clock is read here.

Cron times are wall-clock times in the schedule's zone. Around a DST change:
- a wall time that happens twice (the autumn hour) fires once, at its first occurrence,
  unless the cron's hour field is `*`: then it fires by the hour as it passes (an hourly or
  every-minute cron goes on through the repeated hour, as cron does);
- a wall time that does not exist (the spring gap) fires at the instant that wall time names
  with the offset before the change (02:30 in a 02:00→03:00 gap fires at 03:30), once.
Fire times only move forward: each is strictly after the previous one, so no instant fires
twice and none is skipped. `every_s` intervals are counted in UTC from the Unix epoch, so
every worker computes the same fire times without any shared state.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

MIN_EVERY_S = 10
MAX_EVERY_S = 366 * 86400
MAX_CRON_LENGTH = 120
# Candidate wall times tried before giving up (an ambiguous hour of an every-minute cron
# needs ~60; a cron that never matches, such as "0 0 30 2 *", needs none: croniter says so).
MAX_STEPS = 10_000


class ScheduleError(ValueError):
    """A schedule config that cannot produce fire times; `field` names the config key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def config_problems(config: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for each reason this schedule config cannot fire."""
    cron, every = config.get("cron"), config.get("every_s")
    found: list[tuple[str, str]] = []
    if (cron is None) == (every is None):
        found.append(("cron", "give either cron or every_s (exactly one)"))
    if isinstance(cron, str):
        fields = cron.split()
        if len(fields) != 5:
            found.append(
                ("cron", f"must have 5 fields (minute hour day month weekday), got {cron!r}")
            )
        elif not croniter.is_valid(cron):
            found.append(("cron", f"{cron!r} is not a valid cron expression"))
    zone = config.get("timezone", "UTC")
    if isinstance(zone, str):
        try:
            time_zone(zone)
        except ScheduleError as exc:
            found.append((exc.field, exc.message))
    return found


def time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError("timezone", f"unknown time zone {name!r} (e.g. UTC, Europe/Paris)")


def next_fire(config: dict[str, Any], after: datetime) -> datetime | None:
    """The first fire time strictly after `after` (aware, UTC), or None when there is none."""
    every = config.get("every_s")
    if every is not None:
        step = int(every)
        seconds = int(after.timestamp()) // step * step + step
        return datetime.fromtimestamp(seconds, UTC)
    expression = config["cron"]
    zone = time_zone(config.get("timezone") or "UTC")
    found = _next_cron(expression, zone, after)
    if expression.split()[1] == "*" and _offset_falls(zone, after, found):
        return _second_pass(expression, zone, after, found)
    return found


def fire_times(config: dict[str, Any], after: datetime, until: datetime) -> Iterator[datetime]:
    """Every fire time in (after, until], in order."""
    current = next_fire(config, after)
    while current is not None and current <= until:
        yield current
        current = next_fire(config, current)


def upcoming(config: dict[str, Any], after: datetime, count: int = 5) -> list[datetime]:
    """The next `count` fire times after `after` (what the canvas shows)."""
    found: list[datetime] = []
    current: datetime | None = after
    while len(found) < count:
        current = next_fire(config, current)
        if current is None:
            break
        found.append(current)
    return found


def _next_cron(expression: str, zone: ZoneInfo, after: datetime) -> datetime | None:
    # From `after`'s wall time; in the second pass of a repeated hour the candidates are
    # first-pass instants (earlier than `after`), passed over until the hour ends. Within an
    # hour after a change, from an hour earlier: a wall time in the spring gap (which names
    # an instant after the gap) comes before `after`'s own wall time.
    start = after - timedelta(hours=1)
    if start.astimezone(zone).utcoffset() == after.astimezone(zone).utcoffset():
        start = after
    cursor = croniter(expression, start.astimezone(zone).replace(tzinfo=None, fold=0))
    for _ in range(MAX_STEPS):
        try:
            wall = cursor.get_next(datetime)
        except (StopIteration, ValueError):  # CroniterBadDateError: it never matches
            return None
        instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        if instant > after:
            return instant
    return None


def _offset_falls(zone: ZoneInfo, after: datetime, found: datetime | None) -> bool:
    """Whether a repeated hour's second pass lies between `after` and `found`."""
    end = found or after + timedelta(days=1)
    local = after.astimezone(zone)
    return local.fold == 1 or local.utcoffset() > end.astimezone(zone).utcoffset()


def _second_pass(
    expression: str, zone: ZoneInfo, after: datetime, found: datetime | None
) -> datetime | None:
    """The first matching minute of a repeated hour's second pass before `found`."""
    instant = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = found or after + timedelta(days=1)
    while instant < end:
        local = instant.astimezone(zone)
        if local.fold == 1 and croniter.match(expression, local.replace(tzinfo=None, fold=0)):
            return instant
        instant += timedelta(minutes=1)
    return found
