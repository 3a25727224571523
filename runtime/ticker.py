"""A periodic node timer on an absolute schedule, counted as pending work like every node timer."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from runtime.engine import Runtime

# A tick that finds the schedule behind by more than this (the event loop was
# blocked, the machine suspended) restarts the schedule from now instead of
# reporting the whole backlog as due at once.
MAX_CATCH_UP_S = 1.0


class Ticker:
    """Call ``callback(due)`` every ``period_s`` seconds, the n-th call due at start + n × period.

    Scheduling against absolute deadlines means a late tick does not delay
    the ticks after it, so the long-run rate stays exact (``setInterval`` in
    Node.js drifts later by each tick's lateness). ``due`` is the number of
    periods that ended since the previous call: 1 normally, more when the
    event loop ran the tick late. Invariant: at most one timer is pending,
    and none once :meth:`stop` has run. Timers go through
    ``Runtime.call_later``, so stopping the runtime cancels them.
    """

    def __init__(self, runtime: Runtime, callback: Callable[[int], None]) -> None:
        self._runtime = runtime
        self._callback = callback
        self._handle: asyncio.TimerHandle | None = None
        self._period_s = 0.0
        self._deadline_s = 0.0

    @property
    def running(self) -> bool:
        return self._handle is not None

    def start(self, period_s: float) -> None:
        """Start (or restart) the schedule with the first tick ``period_s`` from now."""
        self.stop()
        self._period_s = period_s
        self._deadline_s = asyncio.get_running_loop().time() + period_s
        self._handle = self._runtime.call_later(period_s, self._fire)

    def stop(self) -> None:
        self._runtime.cancel_timer(self._handle)
        self._handle = None

    def _fire(self) -> None:
        now = asyncio.get_running_loop().time()
        lag_s = now - self._deadline_s
        if lag_s > MAX_CATCH_UP_S:
            due = 1
            self._deadline_s = now + self._period_s
        else:
            # asyncio may run a timer up to its clock resolution early, so lag_s can be below 0.
            due = 1 + max(0, int(lag_s / self._period_s))
            self._deadline_s += due * self._period_s
        self._handle = self._runtime.call_later(self._deadline_s - now, self._fire)
        self._callback(due)
