"""Cron schedules for the inject node (and campaign schedules), in local time.

Expressions have five fields, or six with seconds first as Node-RED's
cronosjs reads them (``0 */5 * * * *``). croniter computes the next time;
this module adds the guard croniter lacks: on the day clocks fall back, a
wall-clock time in the repeated hour exists twice, and a daily 01:30 job
would fire at both. A schedule here fires once per wall-clock minute.
"""

from __future__ import annotations

import datetime as _dt
from zoneinfo import ZoneInfo

from croniter import croniter
from croniter.croniter import CroniterBadCronError


class CronError(ValueError):
    """An invalid cron expression."""


class CronSchedule:
    """Compute successive fire times of one cron expression in one time zone."""

    def __init__(self, expression: str, tz: _dt.tzinfo | str | None = None) -> None:
        fields = expression.split()
        if len(fields) == 6:
            # cronosjs puts seconds first; croniter wants them last.
            fields = fields[1:] + fields[:1]
        elif len(fields) != 5:
            raise CronError(
                f"invalid cron expression {expression!r}: expected 5 fields "
                "(minute hour day month weekday) or 6 with seconds first"
            )
        self.expression = expression
        self._croniter_expression = " ".join(fields)
        if isinstance(tz, str):
            tz = ZoneInfo(tz)
        self.tz = tz
        try:
            croniter(self._croniter_expression)
        except (CroniterBadCronError, ValueError, KeyError) as exc:
            raise CronError(f"invalid cron expression {expression!r}: {exc}") from exc
        self._last_wall: _dt.datetime | None = None

    def next_after(self, now: _dt.datetime) -> _dt.datetime:
        """Return the next fire time strictly after ``now`` (an aware datetime)."""
        local_now = now.astimezone(self.tz) if self.tz else now.astimezone()
        iterator = croniter(self._croniter_expression, local_now)
        for _ in range(4):
            candidate: _dt.datetime = iterator.get_next(_dt.datetime)
            wall = candidate.replace(tzinfo=None)
            if self._last_wall is not None and wall <= self._last_wall:
                continue  # the repeated hour after a fall-back: already fired at this wall time
            return candidate
        return candidate

    def mark_fired(self, when: _dt.datetime) -> None:
        """Record that the schedule fired at ``when`` (for the fall-back guard)."""
        local = when.astimezone(self.tz) if self.tz else when.astimezone()
        self._last_wall = local.replace(tzinfo=None, second=local.second, microsecond=0)
