"""The inject node: start a flow by hand, once at deploy, on an interval or on a cron schedule."""

from __future__ import annotations

import asyncio
import datetime as _dt
from typing import Any

from runtime.cron import CronError, CronSchedule
from runtime.message import Message
from runtime.node import PENDING, Node
from runtime.propertypath import set_property
from runtime.registry import register
from runtime.typed import TypedValue

# Node-RED refuses repeat intervals above 2^31 ms, setInterval's limit.
MAX_REPEAT_S = 2147483

# Node-RED's "inject once after" defaults to 0.1 s when the field is empty.
DEFAULT_ONCE_DELAY_S = 0.1


@register
class InjectNode(Node):
    """Send a message built from the configured properties.

    Triggered by the editor's button (an empty input message), once
    ``onceDelay`` seconds after the flows start, every ``repeat`` seconds, or
    on a ``crontab`` schedule. Each property is evaluated per trigger; a
    property that fails to evaluate fails the whole message with all errors
    joined by ``"; "``.
    """

    type_name = "inject"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.props = self._normalise_props(config)
        self._compiled: list[tuple[str, TypedValue]] = []
        for prop in self.props:
            if prop.get("p"):
                value = prop.get("v", "")
                self._compiled.append((prop["p"], TypedValue(value if value is not None else "", prop.get("vt") or "str", self)))

        self.repeat_s = _to_float(config.get("repeat"))
        if self.repeat_s is not None and self.repeat_s > MAX_REPEAT_S:
            self.error(f"Interval too large: {self.repeat_s} s (maximum {MAX_REPEAT_S} s)")
            self.repeat_s = None
        self.crontab = (config.get("crontab") or "").strip()
        self.once = config.get("once") in (True, "true")
        self.once_delay_s = _to_float(config.get("onceDelay")) or DEFAULT_ONCE_DELAY_S
        self._timer: asyncio.TimerHandle | None = None
        self._cron: CronSchedule | None = None

    @staticmethod
    def _normalise_props(config: dict[str, Any]) -> list[dict[str, Any]]:
        props = config.get("props")
        if not isinstance(props, list):
            # Flows saved before Node-RED 1.1 carry payload and topic only.
            return [
                {"p": "payload", "v": config.get("payload"), "vt": config.get("payloadType")},
                {"p": "topic", "v": config.get("topic"), "vt": "str"},
            ]
        normalised = []
        for prop in props:
            prop = dict(prop)
            if prop.get("p") == "payload" and "v" not in prop:
                prop["v"] = config.get("payload")
                prop["vt"] = config.get("payloadType")
            elif prop.get("p") == "topic" and prop.get("vt") == "str" and "v" not in prop:
                prop["v"] = config.get("topic")
            normalised.append(prop)
        return normalised

    async def start(self) -> None:
        if self.once:
            self._timer = self.runtime.call_later(self.once_delay_s, self._fire_once)
        else:
            self._start_repeat()

    def _fire_once(self) -> None:
        self._timer = None
        self.receive({})
        self._start_repeat()

    def _start_repeat(self) -> None:
        if self.repeat_s and self.repeat_s > 0:
            self._timer = self.runtime.call_later(self.repeat_s, self._fire_repeat)
        elif self.crontab:
            try:
                self._cron = CronSchedule(self.crontab)
            except CronError as exc:
                self.error(str(exc))
                return
            self._schedule_cron()

    def _fire_repeat(self) -> None:
        # Schedule the next tick first, so a slow flow does not drift the interval.
        assert self.repeat_s is not None
        self._timer = self.runtime.call_later(self.repeat_s, self._fire_repeat)
        self.receive({})

    def _schedule_cron(self) -> None:
        assert self._cron is not None
        now = _dt.datetime.now().astimezone()
        next_time = self._cron.next_after(now)
        delay_s = (next_time - now).total_seconds()
        self._timer = self.runtime.call_later(delay_s, self._fire_cron, next_time)

    def _fire_cron(self, when: _dt.datetime) -> None:
        assert self._cron is not None
        self._cron.mark_fired(when)
        self._schedule_cron()
        self.receive({})

    def on_input(self, msg: Message) -> Any:
        compiled = self._compiled
        user_props = msg.pop("__user_inject_props__", None)
        if isinstance(user_props, list):
            compiled = [
                (p["p"], TypedValue(p.get("v", ""), p.get("vt") or "str", self))
                for p in user_props
                if isinstance(p, dict) and p.get("p")
            ]

        errors = []
        for prop, typed in compiled:
            try:
                set_property(msg, prop, typed.evaluate(msg))
            except Exception as exc:  # noqa: BLE001 - collected and reported together, as Node-RED does
                errors.append(_error_string(exc, typed.type))
        if errors:
            self.done(msg, "; ".join(errors))
            return PENDING
        return msg

    async def close(self, removed: bool) -> None:
        self.runtime.cancel_timer(self._timer)
        self._timer = None


def _error_string(exc: Exception, value_type: str) -> str:
    if value_type == "jsonata":
        return f"Invalid JSONata expression: {exc}"
    return f"{type(exc).__name__ if not hasattr(exc, 'code') else 'Error'}: {exc}"


def _to_float(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
