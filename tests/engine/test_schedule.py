"""Fire times of schedules (engine/schedule.py): cron in a time zone, intervals, DST days."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from engine.schedule import fire_times, next_fire, upcoming

NEW_YORK = "America/New_York"
SPRING = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # midnight EST, the day clocks go forward
AUTUMN = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # midnight EDT, the day clocks go back


def day(cron: str, start: datetime) -> list[datetime]:
    return list(
        fire_times({"cron": cron, "timezone": NEW_YORK}, start, start + timedelta(hours=24))
    )


@pytest.mark.parametrize("start", [SPRING, AUTUMN])
@pytest.mark.parametrize("cron, gap", [("* * * * *", 1), ("*/30 * * * *", 30), ("0 * * * *", 60)])
def test_frequent_crons_fire_every_interval_of_real_time_through_a_dst_change(cron, gap, start):
    fires = day(cron, start)
    assert len(fires) == 24 * 60 // gap
    assert all(b - a == timedelta(minutes=gap) for a, b in pairwise(fires))


def test_a_daily_time_in_the_repeated_hour_fires_once_at_its_first_occurrence():
    assert day("30 1 * * *", AUTUMN) == [datetime(2026, 11, 1, 5, 30, tzinfo=UTC)]


def test_a_daily_time_in_the_spring_gap_fires_once_just_after_it():
    assert day("30 2 * * *", SPRING) == [datetime(2026, 3, 8, 7, 30, tzinfo=UTC)]


@pytest.mark.parametrize("start", [SPRING, AUTUMN])
def test_each_fire_time_is_the_next_after_the_instant_before_it(start):
    config = {"cron": "*/15 * * * *", "timezone": NEW_YORK}
    for at in day("*/15 * * * *", start):
        assert next_fire(config, at - timedelta(microseconds=1)) == at


def test_intervals_are_counted_from_the_epoch_so_every_worker_agrees():
    after = datetime(2026, 1, 1, 0, 0, 7, tzinfo=UTC)
    assert upcoming({"every_s": 30}, after, 3) == [
        datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 1, 0, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 1, 30, tzinfo=UTC),
    ]


def test_a_cron_that_never_matches_has_no_fire_time():
    assert next_fire({"cron": "0 0 30 2 *"}, datetime(2026, 1, 1, tzinfo=UTC)) is None
