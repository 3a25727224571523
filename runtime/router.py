"""The run queue that carries messages from senders to receivers.

Invariants:
  1. Delivery is always scheduled, never run inside ``send()``: a receiver's
     handler runs from :meth:`Router.drain`, so a wire loop cannot re-enter a
     node's ``on_input`` and delivery is breadth-first in send order (FIFO).
  2. There is no asyncio task per message. One callback drains the queue and
     calls each receiver's handler directly; it yields to the event loop after
     a time slice so timers and I/O keep running under load.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from runtime.log import delivery_log

if TYPE_CHECKING:
    from runtime.node import Node

# How long one drain may run before it lets the event loop handle timers and
# I/O. 5 ms keeps a timer's lateness well under the 40 ms slack that Node-RED
# timing tests allow, while a slice still carries thousands of messages.
DRAIN_SLICE_S = 0.005

# Check the clock once per this many deliveries; reading it costs ~50 ns, a
# delivery ~1 µs, so the check stays under 1% of the work.
_CLOCK_CHECK_EVERY = 64


class Router:
    """Queue deliveries and run them in order on the event loop."""

    def __init__(self) -> None:
        self._queue: deque[tuple[Node, Any]] = deque()
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.delivered = 0
        self.stopped = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach the router to the event loop that will run the flows."""
        self._loop = loop

    def deliver(self, target: Node, msg: Any) -> None:
        """Queue ``msg`` for ``target``'s input handler."""
        self._queue.append((target, msg))
        if not self._scheduled:
            self._schedule()

    def _schedule(self) -> None:
        if self.stopped or self._loop is None:
            return
        self._scheduled = True
        self._idle.clear()
        self._loop.call_soon(self.drain)

    @property
    def pending(self) -> int:
        """Number of deliveries waiting in the queue."""
        return len(self._queue)

    async def wait_idle(self) -> None:
        """Wait until the queue is empty."""
        await self._idle.wait()

    def drain(self) -> None:
        """Deliver queued messages for one time slice, then yield to the loop."""
        # _scheduled stays True while draining, so deliveries made by the
        # handlers below do not schedule a second drain; exactly one is
        # scheduled at the end if work remains.
        queue = self._queue
        popleft = queue.popleft
        clock = time.perf_counter
        deadline = clock() + DRAIN_SLICE_S
        count = 0
        while queue and not self.stopped:
            target, msg = popleft()
            try:
                target.receive(msg)
            except Exception:  # noqa: BLE001 - a broken handler must not stop delivery
                delivery_log.error(
                    "delivery to node %s failed outside its handler",
                    target.id,
                    exc_info=True,
                    extra=target.log_extra(msg if isinstance(msg, dict) else None),
                )
            count += 1
            if count % _CLOCK_CHECK_EVERY == 0 and clock() > deadline:
                break
        self.delivered += count
        self._scheduled = False
        if queue and not self.stopped:
            self._schedule()
        else:
            self._idle.set()

    def clear(self) -> int:
        """Drop every queued delivery (used when flows stop); return how many."""
        dropped = len(self._queue)
        self._queue.clear()
        self._idle.set()
        return dropped
