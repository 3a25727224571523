"""The range node: map a numeric property linearly from an input range to an output range.

Actions (``action``): ``scale`` extrapolates beyond the input range,
``clamp`` limits the input to it first, ``roll`` wraps the input around it,
and ``drop`` discards messages outside it. ``round`` rounds the result as
``Math.round`` does (halves towards +infinity). Arithmetic is IEEE double
arithmetic as in JavaScript, so a zero-width input range gives NaN or
±Infinity instead of an exception.

A message without the property passes unchanged. A value that is not a
number is logged at info level (``Not a number: abc``) and the message is
dropped, as Node-RED 4.1.8 does.
"""

from __future__ import annotations

import math
from typing import Any

from runtime.jsvalues import UNDEFINED, JSError, normalise_number, to_js_number, to_js_string
from runtime.message import Message
from runtime.node import PENDING, Node
from runtime.propertypath import get_property, set_property
from runtime.registry import register


@register
class RangeNode(Node):
    """Scale, clamp, wrap or filter one numeric message property."""

    type_name = "range"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.action = config.get("action")
        self.round = bool(config.get("round"))
        self.min_in = to_js_number(config.get("minin", UNDEFINED))
        self.max_in = to_js_number(config.get("maxin", UNDEFINED))
        self.min_out = to_js_number(config.get("minout", UNDEFINED))
        self.max_out = to_js_number(config.get("maxout", UNDEFINED))
        if self.min_in > self.max_in:
            # A reversed input range reverses the output range with it.
            self.min_in, self.max_in = self.max_in, self.min_in
            self.min_out, self.max_out = self.max_out, self.min_out
        if self.round:
            # Rounded results must stay inside the output range.
            self.max_out = _js_floor(self.max_out)
            self.min_out = _js_ceil(self.min_out)
        self.property = str(config.get("property") or "payload")

    def on_input(self, msg: Message) -> Any:
        try:
            value = get_property(msg, self.property)
        except TypeError as exc:
            self.error(JSError(str(exc), name="TypeError"), msg)
            return PENDING
        if value is UNDEFINED:
            return msg

        number = _to_number(value)
        if math.isnan(number):
            self.log(f"Not a number: {to_js_string(value)}")
            return None

        if self.action == "drop" and (number < self.min_in or number > self.max_in):
            return None
        if self.action == "clamp":
            # Plain comparisons, so a NaN bound leaves the value alone as in JavaScript.
            if number < self.min_in:
                number = self.min_in
            if number > self.max_in:
                number = self.max_in
        elif self.action == "roll":
            number = self._wrap(number)

        result = self.min_out + _js_divide(number - self.min_in, self.max_in - self.min_in) * (self.max_out - self.min_out)
        if self.round:
            result = _js_round(result)
        set_property(msg, self.property, normalise_number(float(result)))
        return msg

    def _wrap(self, number: float) -> float:
        divisor = self.max_in - self.min_in
        if divisor == 0 or math.isinf(number):
            return math.nan
        # JavaScript's % keeps the dividend's sign, as math.fmod does.
        return math.fmod(math.fmod(number - self.min_in, divisor) + divisor, divisor) + self.min_in


def _to_number(value: Any) -> float:
    """Convert as ``Number(value)`` does; a Buffer converts through its text."""
    if isinstance(value, (bytes, bytearray)):
        return float(to_js_number(to_js_string(value)))
    return float(to_js_number(value))


def _js_divide(numerator: float, denominator: float) -> float:
    """Divide with IEEE results for a zero denominator (±Infinity, or NaN for 0/0)."""
    if denominator != 0:
        return numerator / denominator
    if numerator == 0 or math.isnan(numerator):
        return math.nan
    negative = (numerator < 0) != (math.copysign(1.0, denominator) < 0)
    return -math.inf if negative else math.inf


def _js_round(value: float) -> float:
    """Round as ``Math.round`` does: halves go towards +Infinity."""
    if not math.isfinite(value):
        return value
    # Comparing the fraction avoids the error of floor(value + 0.5) just below a half.
    floor = math.floor(value)
    return float(floor + 1 if value - floor >= 0.5 else floor)


def _js_floor(value: float) -> float:
    return float(math.floor(value)) if math.isfinite(value) else value


def _js_ceil(value: float) -> float:
    return float(math.ceil(value)) if math.isfinite(value) else value
