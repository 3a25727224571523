"""The trigger node: send a message, wait, then send a second one unless reset.

On a message the node sends ``op1`` (typed value; ``pay`` keeps the payload,
``nul`` sends nothing), starts a timer of ``duration`` ``units`` and, when it
ends, sends ``op2`` (``payl`` sends the latest message received meanwhile) on
the first output, or on the second when ``outputs`` is 2. Messages that
arrive while the timer runs are ignored, or restart the timer when ``extend``
is set. ``msg.reset``, or a payload equal to the ``reset`` text, cancels the
timer. With ``bytopic: "topic"`` every value of the ``topic`` property has a
timer of its own. A duration of 0 waits for a reset; a negative duration
resends ``op1`` every ``|duration|`` until reset. With ``overrideDelay``,
``msg.delay`` (milliseconds) replaces the duration.

Stopping the flow cancels every timer, so nothing pending is sent.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from runtime.jsvalues import UNDEFINED, parse_float, to_js_string
from runtime.message import Message, clone_message, clone_value
from runtime.mustache import render
from runtime.node import PENDING, Node
from runtime.propertypath import get_property
from runtime.registry import register
from runtime.ticker import Ticker
from runtime.typed import TypedValue

# Node-RED's default wait when ``duration`` is not a number.
DEFAULT_DURATION_MS = 250.0

UNIT_MS = {"ms": 1, "s": 1000, "min": 60_000, "hr": 3_600_000}

# op2 types that Node-RED evaluates again when the timer ends, not when it starts.
_LATE_TYPES = frozenset({"flow", "global", "date"})

_ALL_TOPICS = "_none"


class _Topic:
    """The state of one topic (or of the whole node when not by topic).

    ``timer`` is the pending timeout, ``None`` before one starts, or the
    handle of one that already fired when op2 failed to evaluate (Node-RED then
    ignores messages until a reset). ``waiting_for_reset`` marks a 0 duration.
    """

    __slots__ = ("timer", "ticker", "waiting_for_reset", "second_value")

    def __init__(self) -> None:
        self.timer: asyncio.TimerHandle | None = None
        self.ticker: Ticker | None = None
        self.waiting_for_reset = False
        self.second_value: Any = UNDEFINED

    @property
    def armed(self) -> bool:
        return self.timer is not None or self.waiting_for_reset

    def cancel(self, node: Node) -> None:
        node.runtime.cancel_timer(self.timer)
        if self.ticker is not None:
            self.ticker.stop()


@register
class TriggerNode(Node):
    """Send op1, then op2 after a delay, as Node-RED's trigger node does (see the module docstring)."""

    type_name = "trigger"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.by_topic = (config.get("bytopic") or "all") != "all"
        self.topic_property = config.get("topic") or "topic"
        self.second_output = config.get("outputs") in (2, "2")
        self.extend = config.get("extend") in (True, "true")
        self.override_delay = bool(config.get("overrideDelay"))
        self.reset_text = to_js_string(config["reset"]) if config.get("reset") not in (None, "") else ""

        self.op1, self.op1_type = _operand(config.get("op1"), config.get("op1type"), "1")
        self.op2, self.op2_type = _operand(config.get("op2"), config.get("op2type"), "0")
        self.op1_template = self.op1_type == "str" and "{{" in str(self.op1)
        self.op2_template = self.op2_type == "str" and "{{" in str(self.op2)
        self._op1_value = TypedValue(self.op1, self.op1_type, self)
        self._op2_value = TypedValue(self.op2, self.op2_type, self)

        self.duration_ms, self.loop = _duration_ms(config)
        if self.loop:
            self.extend = False

        self._topics: dict[str, _Topic] = {}
        # Latest message per topic, for op2 type "payl".
        self._latest: dict[str, Message] = {}

    def on_input(self, msg: Message) -> Any:
        topic = self._topic_of(msg)
        delay_ms = self.duration_ms
        if self.override_delay and "delay" in msg:
            requested = parse_float(msg["delay"])
            if not math.isnan(requested):
                delay_ms = requested
        state = self._topics.setdefault(topic, _Topic())

        if self._is_reset(msg):
            state.cancel(self)
            del self._topics[topic]
            self._report()
            return None

        if self.op2_type == "payl":
            self._latest[topic] = clone_message(msg)
        if not state.armed or self.loop:
            try:
                self._start(msg, topic, state, delay_ms)
            except Exception as exc:  # noqa: BLE001 - a typed value failed; reported with the message
                self.done(msg, exc)
            return PENDING
        if self.extend and delay_ms > 0:
            self._extend(msg, topic, state, delay_ms)
        return None

    async def close(self, removed: bool) -> None:
        for state in self._topics.values():
            state.cancel(self)
        self._topics.clear()
        self._report()

    # -- the first message of a topic --------------------------------------------

    def _start(self, msg: Message, topic: str, state: _Topic, delay_ms: float) -> None:
        """Set op2, send op1 and start the wait (or the resend loop)."""
        if self.op2_type == "pay":
            state.second_value = clone_value(msg.get("payload", UNDEFINED))
        elif self.op2_template:
            state.second_value = render(str(self.op2), msg)
        elif self.op2_type != "nul":
            state.second_value = self._op2_value.evaluate(msg)

        if self.op1_template:
            msg["payload"] = render(str(self.op1), msg)
        elif self.op1_type not in ("pay", "nul"):
            msg["payload"] = self._op1_value.evaluate(msg)

        if delay_ms == 0:
            state.waiting_for_reset = True
        elif self.loop:
            self._start_loop(msg, state, delay_ms)
        elif state.timer is None:
            state.timer = self.runtime.call_later(delay_ms / 1000, self._send_second, msg, topic)

        self.done(msg)
        self._report()
        if self.op1_type != "nul":
            self.send(clone_message(msg))

    def _start_loop(self, msg: Message, state: _Topic, period_ms: float) -> None:
        if state.ticker is not None:
            state.ticker.stop()
        if self.op1_type == "nul":
            return
        template = clone_message(msg)

        def resend(due: int) -> None:
            # Like setInterval, a late tick sends once rather than catching up.
            if self.op1_type == "date":
                template["payload"] = int(time.time() * 1000)
            self.send(clone_message(template))

        state.ticker = Ticker(self.runtime, resend)
        state.ticker.start(period_ms / 1000)

    def _send_second(self, msg: Message, topic: str) -> None:
        """Send op2 when the wait of the first message ends (no extension happened)."""
        state = self._topics.get(topic)
        if self.op2_type == "nul":
            self._forget(topic)
            return
        second = clone_message(msg)
        if self.op2_type in _LATE_TYPES and state is not None:
            try:
                state.second_value = self._op2_value.evaluate(msg)
            except Exception as exc:  # noqa: BLE001 - Node-RED logs it without the message
                self.error(exc)
                return

        if self.op2_type == "payl":
            self._send_on_port(self._latest.pop(topic, None))
        else:
            second["payload"] = state.second_value if state is not None else UNDEFINED
            self._send_on_port(second)
        self._forget(topic)

    # -- later messages ------------------------------------------------------------

    def _extend(self, msg: Message, topic: str, state: _Topic, delay_ms: float) -> None:
        if self.op2_type == "payl":
            state.second_value = clone_value(msg.get("payload", UNDEFINED))
        self.runtime.cancel_timer(state.timer)
        state.timer = self.runtime.call_later(delay_ms / 1000, self._send_extended, msg, topic)

    def _send_extended(self, msg: Message, topic: str) -> None:
        """Send op2 when an extended wait ends, built on the message that extended it last."""
        state = self._topics.get(topic)
        second: Message | None = None
        if self.op2_type != "nul" and state is not None:
            if self.op2_type in ("flow", "global"):
                try:
                    state.second_value = self._op2_value.evaluate(msg)
                except Exception as exc:  # noqa: BLE001 - Node-RED logs it without the message
                    self.error(exc)
                    return
            second = clone_message(msg)
            second["payload"] = state.second_value
        self._forget(topic)
        self._send_on_port(second)

    # -- helpers -------------------------------------------------------------------

    def _topic_of(self, msg: Message) -> str:
        if not self.by_topic:
            return _ALL_TOPICS
        try:
            value = get_property(msg, self.topic_property)
        except Exception:  # noqa: BLE001 - an unreadable topic counts as none, as in Node-RED
            value = UNDEFINED
        if not value or value is UNDEFINED:
            return _ALL_TOPICS
        # Node-RED keys topics by a JavaScript object key, i.e. String(topic).
        return to_js_string(value)

    def _is_reset(self, msg: Message) -> bool:
        if "reset" in msg:
            return True
        if not self.reset_text or "payload" not in msg:
            return False
        payload = msg["payload"]
        if payload is None or payload is UNDEFINED:
            return False
        return to_js_string(payload) == self.reset_text

    def _send_on_port(self, msg: Message | None) -> None:
        if msg is None:
            return
        self.send([None, msg] if self.second_output else msg)

    def _forget(self, topic: str) -> None:
        self._topics.pop(topic, None)
        self._report()

    def _report(self) -> None:
        count = len(self._topics)
        if count == 0:
            self.status({})
        elif count == 1:
            self.status({"fill": "blue", "shape": "dot"})
        else:
            self.status({"fill": "blue", "shape": "dot", "text": count})


def _operand(value: Any, value_type: Any, default: str) -> tuple[Any, str]:
    """Return an op1/op2 value and type with Node-RED's defaults and legacy ``val`` type."""
    value = value if value not in (None, "") else default
    kind = value_type or "str"
    if kind == "date" and value == default:
        value = ""
    if kind == "val":
        if value in ("true", "false"):
            kind = "bool"
        elif value == "null":
            kind, value = "null", None
        else:
            kind = "str"
    return value, kind


def _duration_ms(config: dict[str, Any]) -> tuple[float, bool]:
    """Return the wait in milliseconds and whether the node resends in a loop (negative duration)."""
    duration = parse_float(config.get("duration"))
    if math.isnan(duration):
        duration = DEFAULT_DURATION_MS
    loop = duration < 0
    unit_ms = UNIT_MS.get(config.get("units") or "ms", 1)
    return abs(duration) * unit_ms, loop
