"""The filter node (type ``rbe``, report by exception): pass a message only when its value changed enough.

``func`` selects the test on the ``property`` value (default ``payload``):

``rbe``           pass when the value differs from the last one (objects compared deeply)
``rbei``          the same, but the first value of a topic only sets the reference
``deadband``      pass numbers that moved more than ``gap`` from the reference
``deadbandEq``    ... by ``gap`` or more
``narrowband``    pass numbers within ``gap`` of the reference (``start`` seeds it)
``narrowbandEq``  ... within ``gap`` or equal to it

``gap`` ending in ``%`` is a percentage of the reference value. The reference
is the last value passed on (``inout: "out"``) or the last value received
(``"in"``). With ``septopics`` (default) each value of the ``topi`` property
keeps its own reference. ``msg.reset`` clears the reference of its topic, or
all of them when it has no topic or ``septopics`` is off.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from runtime.jsvalues import UNDEFINED, parse_float, strict_equals, to_js_number, to_js_string
from runtime.message import Message, clone_value
from runtime.node import Node
from runtime.propertypath import get_property
from runtime.registry import register

_NO_TOPIC = "_no_topic"


@register
class RbeNode(Node):
    """Pass messages whose value changed, as Node-RED's filter node does (see the module docstring)."""

    type_name = "rbe"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.func = config.get("func") or "rbe"
        gap = config.get("gap") or "0"
        self.percent = isinstance(gap, str) and gap.endswith("%")
        self.gap = parse_float(gap) if self.percent else to_js_number(gap)
        self.start_value = config.get("start") or ""
        self.compare_input = (config.get("inout") or "out") == "in"
        self.property = config.get("property") or "payload"
        self.topic_property = config.get("topi") or "topic"
        self.separate_topics = config.get("septopics") is not False
        if self.func not in ("rbe", "rbei", "deadband", "deadbandEq", "narrowband", "narrowbandEq"):
            raise ValueError(
                f"Invalid filter mode func {self.func!r}; use rbe, rbei, deadband, deadbandEq, "
                "narrowband or narrowbandEq"
            )
        self._previous: dict[Any, Any] = {}

    def on_input(self, msg: Message) -> Message | None:
        topic = _read(msg, self.topic_property)
        if "reset" in msg:
            if self.separate_topics and isinstance(topic, str) and topic:
                self._previous.pop(topic, None)
            else:
                self._previous.clear()

        value = _read(msg, self.property)
        if value is UNDEFINED:
            return None
        key = _topic_key(topic) if self.separate_topics and _js_truthy_topic(topic) else _NO_TOPIC
        if self.func in ("rbe", "rbei"):
            return msg if self._changed(key, value) else None
        return self._band(msg, key, value)

    def _changed(self, key: Any, value: Any) -> bool:
        """Record ``value`` as the reference when it differs; return whether to send."""
        send = self.func != "rbei" or key in self._previous
        if _is_object(value):
            previous = self._previous.get(key, UNDEFINED)
            if not _is_object(previous):
                previous = self._previous[key] = {}
            if compare_objects(value, previous):
                return False
        elif key in self._previous and strict_equals(value, self._previous[key]):
            return False
        self._previous[key] = clone_value(value)
        return send

    def _band(self, msg: Message, key: Any, value: Any) -> Message | None:
        """Apply a deadband or narrowband test to a numeric value."""
        number = parse_float(value)
        if math.isnan(number):
            self.warn("no number found in payload")
            return None

        narrow = self.func in ("narrowband", "narrowbandEq")
        if key not in self._previous and narrow:
            # Node-RED keeps the ``start`` text as it is; JavaScript arithmetic converts it.
            self._previous[key] = number if self.start_value == "" else self.start_value
        gap = self._gap_for(key)
        if key not in self._previous:
            self._previous[key] = number if self.func == "narrowbandEq" else number - gap - 1

        distance = abs(number - to_js_number(self._previous[key]))
        if distance == gap:
            send = self.func in ("deadbandEq", "narrowband")
        elif distance > gap:
            send = self.func in ("deadband", "deadbandEq")
        else:
            send = narrow

        if send and not self.compare_input:
            self._previous[key] = number
        if self.compare_input:
            self._previous[key] = number
        return msg if send else None

    def _gap_for(self, key: Any) -> float:
        if not self.percent:
            return self.gap
        reference = to_js_number(self._previous.get(key, UNDEFINED))
        gap = abs(reference * self.gap / 100)
        return 0 if math.isnan(gap) else gap


def compare_objects(left: Any, right: Any) -> bool:
    """Compare two values deeply as Node-RED's ``RED.util.compareObjects`` does.

    Arrays compare element by element, Buffers byte by byte, objects by their
    own keys; primitives with ``===``. Dates and other objects without own
    keys compare equal to each other, as in Node-RED.
    """
    if left is right or (not _is_object(left) and not _is_object(right) and strict_equals(left, right)):
        return True
    if left is None or right is None or left is UNDEFINED or right is UNDEFINED:
        return False
    if isinstance(left, list) != isinstance(right, list):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(compare_objects(a, b) for a, b in zip(left, right))
    left_buffer = isinstance(left, (bytes, bytearray))
    if left_buffer != isinstance(right, (bytes, bytearray)):
        return False
    if left_buffer:
        return bytes(left) == bytes(right)
    if not _is_object(left) or not _is_object(right):
        return False
    left_keys, right_keys = _own_keys(left), _own_keys(right)
    if len(left_keys) != len(right_keys):
        return False
    return all(compare_objects(left[k], right.get(k, UNDEFINED)) for k in left_keys)


def _own_keys(value: Any) -> list[str]:
    return list(value) if isinstance(value, dict) else []


def _is_object(value: Any) -> bool:
    """Return whether JavaScript's ``typeof value`` is ``"object"`` (null included)."""
    return value is None or isinstance(value, (dict, list, bytes, bytearray, _dt.datetime)) or not isinstance(
        value, (str, int, float, bool, type(UNDEFINED))
    )


def _read(msg: Message, path: str) -> Any:
    try:
        return get_property(msg, path)
    except Exception:  # noqa: BLE001 - an unreadable property counts as missing, as in Node-RED
        return UNDEFINED


def _js_truthy_topic(topic: Any) -> bool:
    if topic is None or topic is UNDEFINED or topic is False or topic == "":
        return False
    if isinstance(topic, (int, float)) and not isinstance(topic, bool):
        return topic != 0 and not math.isnan(topic)
    return True


def _topic_key(topic: Any) -> str:
    # Node-RED keys references by a JavaScript object key, which is String(topic).
    return to_js_string(topic)
