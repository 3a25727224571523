"""The delay node: hold each message for a time, or limit the rate at which messages pass.

``pauseType`` selects the mode:

``delay``   hold every message for ``timeout`` ``timeoutUnits``
``delayv``  hold for ``msg.delay`` milliseconds, else the configured time
``random``  hold for a random time between ``randomFirst`` and ``randomLast``
``rate``    pass at most one message per ``1 / rate`` ``rateUnits``; queue the
            rest (or drop them, with ``drop``, optionally to a second output)
``queue``   per topic: one message per interval, newest value per topic
``timed``   per topic: every interval, send the newest value of each topic

``msg.reset`` drops what the node holds and ``msg.flush`` sends it now (all,
or the first ``msg.flush`` messages when it is a number). With ``allowrate``,
``msg.rate`` (milliseconds between messages) overrides the rate. Stopping the
flow drops held messages, as Node-RED does.

Timers run on the event loop's monotonic clock. The rate limiter and the
per-topic queue tick on an absolute schedule (:class:`~runtime.ticker.Ticker`),
so a late tick does not push back the ticks after it and the rate holds.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import deque
from typing import Any, Callable

from runtime.jsvalues import UNDEFINED, parse_float, to_js_number
from runtime.message import Message
from runtime.node import PENDING, Node
from runtime.registry import register
from runtime.ticker import Ticker

# Milliseconds per unit of ``timeoutUnits`` / ``randomUnits``; Node-RED falls back to seconds.
DELAY_UNIT_MS = {"milliseconds": 1, "seconds": 1000, "minutes": 60_000, "hours": 3_600_000, "days": 86_400_000}

# Milliseconds per unit of ``rateUnits``; Node-RED falls back to second.
RATE_UNIT_MS = {"second": 1000, "minute": 60_000, "hour": 3_600_000, "day": 86_400_000}

# Node-RED reports the rate-limit queue depth as a status at most every 500 ms.
DEPTH_REPORT_DELAY_S = 0.5

# Held messages show a count status only when the fixed delay is above 1 s,
# as in Node-RED, so short delays do not flood status nodes.
STATUS_MIN_DELAY_MS = 1000


def _now() -> float:
    return asyncio.get_running_loop().time()


@register
class DelayNode(Node):
    """Delay messages, or limit their rate, as Node-RED's delay node does (see the module docstring)."""

    type_name = "delay"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.mode = config.get("pauseType") or "delay"
        self.two_outputs = to_js_number(config.get("outputs")) == 2
        self.drop = bool(config.get("drop"))
        self.allow_rate = bool(config.get("allowrate"))

        self.timeout_ms = _timeout_ms(config)
        self.fixed_rate_ms = _rate_ms(config)
        self.rate_ms = self.fixed_rate_ms
        self.random_first_ms, self.random_last_ms = _random_range_ms(config)
        _check_config(self)

        # Held messages of the delay modes, keyed by arrival number so that a
        # flush releases them in arrival order.
        self._held: dict[int, tuple[Message, asyncio.TimerHandle]] = {}
        self._next_key = 0

        # The rate-limit queue (mode "rate") or per-topic queue ("queue", "timed").
        self._queue: deque[Message] = deque()
        self._topics: dict[Any, Message] = {}
        self._ticker = Ticker(self.runtime, self._tick_queue if self.mode in ("queue", "timed") else self._tick_rate)
        self._last_sent_s: float | None = None
        self._depth_timer: asyncio.TimerHandle | None = None

        self._handle_input: Callable[[Message], Any] = {
            "delay": self._input_delay,
            "delayv": self._input_delay,
            "random": self._input_delay,
            "rate": self._input_rate_drop if self.drop else self._input_rate_queue,
            "queue": self._input_topic,
            "timed": self._input_topic,
        }[self.mode]

    def source_name(self) -> Any:
        # Node-RED's delay node copies its configured name, so an empty name reports "".
        return self.config.get("name", UNDEFINED)

    async def start(self) -> None:
        if self.mode in ("queue", "timed"):
            # The per-topic interval runs from deploy, as in Node-RED, which fixes its phase.
            self._ticker.start(self.rate_ms / 1000)

    def on_input(self, msg: Message) -> Any:
        return self._handle_input(msg)

    async def close(self, removed: bool) -> None:
        for message, handle in self._held.values():
            self.runtime.cancel_timer(handle)
            self.done(message)
        self._held.clear()
        self._ticker.stop()
        self.runtime.cancel_timer(self._depth_timer)
        self._depth_timer = None
        for message in self._queued_messages():
            self.done(message)
        self._queue.clear()
        self._topics.clear()
        self.status({})

    # -- delay, delayv, random -------------------------------------------------

    def _input_delay(self, msg: Message) -> Any:
        delay_ms = self._delay_for(msg)
        if not (len(msg) == 2 and "flush" in msg):
            self._hold(msg, delay_ms)

        if self.mode == "delay":
            # Node-RED treats reset, flush and the count status as alternatives in this mode only.
            if "reset" in msg:
                self._drop_held(report=True)
            elif "flush" in msg:
                self._flush_held(msg["flush"])
                self._done_if_not_held(msg)
            elif self.timeout_ms > STATUS_MIN_DELAY_MS:
                self._report_held()
            return PENDING

        if "reset" in msg:
            self._drop_held(report=True)
        if "flush" in msg:
            self._flush_held(msg["flush"])
            self._done_if_not_held(msg)
        if self.mode == "delayv" or self.timeout_ms >= STATUS_MIN_DELAY_MS:
            self._report_held()
        return PENDING

    def _delay_for(self, msg: Message) -> float:
        if self.mode == "random":
            return self.random_first_ms + (self.random_last_ms - self.random_first_ms) * random.random()
        if self.mode == "delayv" and "delay" in msg:
            requested = parse_float(msg["delay"])
            if not math.isnan(requested):
                return max(0.0, requested)
        return max(0.0, self.timeout_ms)

    def _hold(self, msg: Message, delay_ms: float) -> None:
        key = self._next_key
        self._next_key += 1
        handle = self.runtime.call_later(delay_ms / 1000, self._release_held, key)
        self._held[key] = (msg, handle)

    def _release_held(self, key: int) -> None:
        entry = self._held.pop(key, None)
        if entry is None:
            return
        msg, handle = entry
        self.runtime.cancel_timer(handle)

        if self.mode == "delay" and self.timeout_ms > STATUS_MIN_DELAY_MS:
            self._report_held()
        elif self.mode == "delayv" and not self._held:
            self.status({})
        self.send(msg)
        if self.mode == "delayv" or (self.mode == "random" and self.timeout_ms >= STATUS_MIN_DELAY_MS):
            self._report_held()
        self.done(msg)

    def _flush_held(self, flush: Any) -> None:
        count = len(self._held)
        if _is_number(flush):
            count = min(_floor_count(flush), count)
        for key in list(self._held)[:count]:
            self._release_held(key)
        self._report_held()

    def _drop_held(self, *, report: bool) -> None:
        for msg, handle in self._held.values():
            self.runtime.cancel_timer(handle)
            self.done(msg)
        self._held.clear()
        self.status({"fill": "blue", "shape": "ring", "text": 0} if report else {})

    def _done_if_not_held(self, msg: Message) -> None:
        if all(held is not msg for held, _ in self._held.values()):
            self.done(msg)

    def _report_held(self) -> None:
        self.status({"fill": "blue", "shape": "dot", "text": len(self._held)})

    # -- rate limit, all messages ----------------------------------------------

    def _input_rate_queue(self, msg: Message) -> Any:
        """Queue mode: send now when idle, else queue; a tick releases one message per interval."""
        has_flush = "flush" in msg
        flush = msg.pop("flush", UNDEFINED)
        has_reset = "reset" in msg
        queued = False

        if len(msg) > 1:
            if self._ticker.running:
                self._take_rate_override(msg, restart=True)
                if msg.get("toFront") is True:
                    self._queue.appendleft(msg)
                else:
                    self._queue.append(msg)
                queued = True
                self._report_depth_later()
            else:
                self._take_rate_override(msg, restart=False)
                if has_reset and has_flush:
                    self._queue.append(msg)
                    queued = True
                elif not has_reset:
                    self.send(msg)
                self._report_depth_later()
                self._ticker.start(self.rate_ms / 1000)

        if has_flush:
            self._flush_rate_queue(flush)
            queued = queued and any(waiting is msg for waiting in self._queue)
        if has_reset:
            if flush is UNDEFINED:
                self._ticker.stop()
                self._last_sent_s = None
            self._queue.clear()
            self.rate_ms = self.fixed_rate_ms
            self.status({"fill": "blue", "shape": "ring", "text": 0})
            queued = False

        if not queued:
            self.done(msg)
        return PENDING

    def _input_rate_drop(self, msg: Message) -> Any:
        """Drop mode: pass a message when a whole interval has passed since the last one passed."""
        if "reset" in msg:
            if "flush" not in msg or msg["flush"] is UNDEFINED:
                self._last_sent_s = None
            self.rate_ms = self.fixed_rate_ms
            self.status({"fill": "blue", "shape": "ring", "text": 0})
            return None

        self._take_rate_override(msg, restart=False)
        now = _now()
        if self._last_sent_s is None or (now - self._last_sent_s) * 1000 > self.rate_ms:
            self._last_sent_s = now
            return msg
        if self.two_outputs:
            return [None, msg]
        return None

    def _take_rate_override(self, msg: Message, *, restart: bool) -> None:
        if not self.allow_rate or "rate" not in msg:
            return
        requested = parse_float(msg["rate"])
        if math.isnan(requested) or requested <= 0:
            return
        if restart and requested == self.rate_ms:
            return
        self.rate_ms = requested
        if restart:
            self._ticker.start(self.rate_ms / 1000)

    def _tick_rate(self, due: int) -> None:
        for _ in range(due):
            if not self._queue:
                # Node-RED stops its interval at the first tick that finds the queue empty.
                self._ticker.stop()
                break
            msg = self._queue.popleft()
            if len(msg) > 1:
                self.send(msg)
            self.done(msg)
        self._report_depth_later()

    def _flush_rate_queue(self, flush: Any) -> None:
        count = len(self._queue)
        if _is_number(flush):
            count = min(_floor_count(flush), count)
        if count == 0:
            self._ticker.stop()
        else:
            for _ in range(count):
                msg = self._queue.popleft()
                msg.pop("flush", None)
                msg.pop("reset", None)
                if len(msg) > 1:
                    self.send(msg)
                self.done(msg)
            self._ticker.start(self.rate_ms / 1000)
        self.status({"fill": "blue", "shape": "dot", "text": len(self._queue)})

    def _report_depth_later(self) -> None:
        if self._depth_timer is None:
            self._depth_timer = self.runtime.call_later(DEPTH_REPORT_DELAY_S, self._report_depth)

    def _report_depth(self) -> None:
        self._depth_timer = None
        depth = len(self._topics) if self.mode in ("queue", "timed") else len(self._queue)
        self.status({"fill": "blue", "shape": "dot", "text": depth})

    # -- rate limit per topic ----------------------------------------------------

    def _input_topic(self, msg: Message) -> Any:
        """Keep the newest message per topic; ticks release them (see :meth:`_tick_queue`)."""
        if self.allow_rate and "rate" in msg:
            requested = parse_float(msg["rate"])
            if not math.isnan(requested) and requested > 0 and requested != self.rate_ms:
                # NOTE: Node-RED 4.1.8 restarts the interval with the all-messages tick here.
                # That tick stops for good once the queue is empty, so the per-topic tick is kept.
                self.rate_ms = requested
                self._ticker.start(self.rate_ms / 1000)
        if "topic" not in msg:
            msg["topic"] = "_none_"

        key = _topic_key(msg["topic"])
        replaced = self._topics.get(key)
        self._topics[key] = msg  # a replaced topic keeps its place in the queue
        if replaced is not None:
            if self.two_outputs:
                self.send([None, replaced])
            self.done(replaced)
        else:
            self._report_depth_later()

        if "flush" in msg:
            self._flush_topics(msg["flush"])
            self.status({})
        if "reset" in msg:
            for waiting in self._topics.values():
                self.done(waiting)
            self._topics.clear()
            self.rate_ms = self.fixed_rate_ms
            self.status({"text": "reset"})
        return PENDING

    def _flush_topics(self, flush: Any) -> None:
        count = len(self._topics)
        if _is_number(flush):
            # Node-RED does not cap the count here and fails on an empty queue; capped.
            count = min(_floor_count(flush), count)
        for key in list(self._topics)[:count]:
            msg = self._topics.pop(key)
            msg.pop("flush", None)
            msg.pop("reset", None)
            # The node added msg.topic, so a message with nothing else is not sent.
            if len(msg) > 2:
                self.send(msg)
            self.done(msg)

    def _tick_queue(self, due: int) -> None:
        for _ in range(due):
            if not self._topics:
                break
            if self.mode == "queue":
                released = [self._topics.pop(next(iter(self._topics)))]
            else:
                released = list(self._topics.values())
                self._topics.clear()
            for msg in released:
                self.send(msg)
                self.done(msg)
        self._report_depth_later()

    def _queued_messages(self) -> list[Message]:
        return [*self._queue, *self._topics.values()]


def _timeout_ms(config: dict[str, Any]) -> float:
    unit_ms = DELAY_UNIT_MS.get(config.get("timeoutUnits") or "", 1000)
    return float(to_js_number(config.get("timeout", 5))) * unit_ms


def _rate_ms(config: dict[str, Any]) -> float:
    unit_ms = RATE_UNIT_MS.get(config.get("rateUnits") or "", 1000)
    rate = float(to_js_number(config.get("rate", 1)))
    per_units = float(to_js_number(config.get("nbRateUnits", 1)))
    interval_ms = unit_ms / rate if rate else math.inf
    return interval_ms * (per_units if per_units > 0 else 1)


def _random_range_ms(config: dict[str, Any]) -> tuple[float, float]:
    unit_ms = DELAY_UNIT_MS.get(config.get("randomUnits") or "", 1000)
    first = float(to_js_number(config.get("randomFirst", 1))) * unit_ms
    last = float(to_js_number(config.get("randomLast", 5))) * unit_ms
    return first, last


def _check_config(node: DelayNode) -> None:
    """Raise ValueError for a mode or number the node cannot run with, naming the property."""
    config = node.config
    if node.mode not in ("delay", "delayv", "random", "rate", "queue", "timed"):
        raise ValueError(
            f"Invalid pauseType {node.mode!r}; use delay, delayv, random, rate, queue or timed"
        )
    if node.mode in ("delay", "delayv") and not (math.isfinite(node.timeout_ms) and node.timeout_ms >= 0):
        raise ValueError(f"Invalid delay value: timeout {config.get('timeout')!r}; use a number, 0 or more")
    if node.mode in ("rate", "queue", "timed") and not (math.isfinite(node.rate_ms) and node.rate_ms > 0):
        raise ValueError(f"Invalid rate value: rate {config.get('rate')!r}; use a number above 0")
    if node.mode == "random":
        for name, value in (("randomFirst", node.random_first_ms), ("randomLast", node.random_last_ms)):
            if not (math.isfinite(value) and value >= 0):
                label = "first" if name == "randomFirst" else "last"
                raise ValueError(
                    f"Invalid {label} random value: {name} {config.get(name)!r}; use a number, 0 or more"
                )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _floor_count(value: float) -> int:
    if math.isnan(value):
        return 0
    if math.isinf(value):
        return 0 if value < 0 else 2**31
    return max(0, math.floor(value))


def _topic_key(topic: Any) -> Any:
    """Return a dict key with JavaScript ``===`` semantics for a topic value."""
    if isinstance(topic, bool):
        return ("boolean", topic)
    if isinstance(topic, (int, float)):
        return ("number", float(topic))
    if isinstance(topic, str):
        return ("string", topic)
    if topic is None or topic is UNDEFINED:
        return (repr(topic),)
    return ("object", id(topic))
