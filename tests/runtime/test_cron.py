"""Cron schedules in local time, including the day clocks fall back."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from runtime.cron import CronError, CronSchedule

NEW_YORK = ZoneInfo("America/New_York")


def test_cron_fires_daily_job_once_on_fall_back_day() -> None:
    schedule = CronSchedule("30 1 * * *", NEW_YORK)
    # 2026-11-01 is the fall-back day in New York: 01:30 happens twice.
    now = dt.datetime(2026, 11, 1, 0, 0, tzinfo=NEW_YORK)

    first = schedule.next_after(now)
    schedule.mark_fired(first)
    second = schedule.next_after(first)

    assert first.astimezone(NEW_YORK).replace(tzinfo=None) == dt.datetime(2026, 11, 1, 1, 30)
    assert second.astimezone(NEW_YORK).date() == dt.date(2026, 11, 2)


def test_cron_reads_six_fields_with_seconds_first() -> None:
    schedule = CronSchedule("15 * * * * *", dt.timezone.utc)
    now = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)

    assert schedule.next_after(now) == dt.datetime(2026, 1, 1, 12, 0, 15, tzinfo=dt.timezone.utc)


def test_cron_rejects_wrong_field_count() -> None:
    with pytest.raises(CronError, match=r"invalid cron expression '\* \*': expected 5 fields"):
        CronSchedule("* *")


def test_cron_rejects_bad_field() -> None:
    with pytest.raises(CronError, match=r"invalid cron expression '99 \* \* \* \*'"):
        CronSchedule("99 * * * *")
