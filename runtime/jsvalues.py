"""JavaScript values in Python messages, and the JavaScript conversions nodes rely on.

A message is a ``dict``. Values map as follows:

============================  =========================================
JavaScript                    Python
============================  =========================================
undefined                     :data:`UNDEFINED` (usually: the key is absent)
null                          ``None``
number                        ``int`` or ``float`` (NaN and ±Infinity as floats)
string, boolean               ``str``, ``bool``
Array, Object                 ``list``, ``dict``
Buffer                        ``bytearray`` (``bytes`` is read as a Buffer too)
Date                          aware ``datetime.datetime`` in UTC
RegExp                        :class:`JSRegExp`
Error                         :class:`JSError`
Map, Set, typed arrays, ...   :class:`JSOpaque`, carried unchanged
============================  =========================================

Buffers are ``bytearray`` because Node-RED shares a Buffer's memory between
the clones of a fanned-out message, and a mutable type lets us do the same.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from typing import Any


class Undefined:
    """The type of :data:`UNDEFINED`, JavaScript's ``undefined``."""

    _instance: Undefined | None = None

    def __new__(cls) -> Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __copy__(self) -> Undefined:
        return self

    def __deepcopy__(self, memo: Any) -> Undefined:
        return self


UNDEFINED = Undefined()


@dataclass
class JSRegExp:
    """A JavaScript regular expression carried in a message."""

    source: str
    flags: str = ""


@dataclass(eq=False)
class JSError(Exception):
    """A JavaScript ``Error`` object carried in a message or passed to ``node.error``.

    It is an exception too, so code that fails with a JavaScript error can
    raise it and keep its name and ``code``.

    ``str()`` gives what JavaScript's ``Error.prototype.toString`` gives
    (``"TypeError: nope"``), which is the text Node-RED puts in a catch node's
    ``msg.error.message``.
    """

    message: str
    name: str = "Error"
    code: Any = None
    stack: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        if not self.message:
            return self.name
        if not self.name:
            return self.message
        return f"{self.name}: {self.message}"


@dataclass
class JSOpaque:
    """A value Outwire carries without interpreting: a Map, Set, typed array, symbol...

    ``encoded`` holds the tagged form (``{"__nr__": "Map", ...}``).
    """

    encoded: dict[str, Any]


def js_typeof(value: Any) -> str:
    """Return what JavaScript's ``typeof`` gives for a message value."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "object"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def js_truthy(value: Any) -> bool:
    """Apply JavaScript's truthiness: objects and arrays are true even when empty."""
    if value is None or value is UNDEFINED:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


def number_to_string(value: float | int) -> str:
    """Format a number as JavaScript's ``String(n)`` does."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if abs(value) < 2**53:
            return str(value)
        value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))

    # Python's repr is the shortest round-trip form, as JavaScript's is; only
    # the placement of the exponent differs (ECMA-262 Number::toString).
    sign = "-" if value < 0 else ""
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0") or "0"
    exponent = int(exp_text or 0) + len(int_part.lstrip("0") or "")
    if not int_part.lstrip("0"):
        # 0.00123 -> digits "123", the point sits before the leading zeros
        exponent = int(exp_text or 0) - (len(frac_part) - len(frac_part.lstrip("0")))
    digits = digits.rstrip("0") or "0"
    k, n = len(digits), exponent
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    exp_sign = "+" if n - 1 >= 0 else "-"
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{head}e{exp_sign}{abs(n - 1)}"


def date_to_iso(value: _dt.datetime) -> str:
    """Format a Date as JavaScript's ``toISOString`` does (milliseconds, ``Z``)."""
    utc = value.astimezone(_dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (utc.microsecond // 1000)


def date_from_ms(ms: float) -> _dt.datetime:
    """Build a Date from milliseconds since the epoch."""
    return _dt.datetime.fromtimestamp(ms / 1000.0, tz=_dt.timezone.utc)


def date_to_ms(value: _dt.datetime) -> int:
    """Return a Date's milliseconds since the epoch, as ``getTime()`` does."""
    return int(round(value.timestamp() * 1000))


def to_js_string(value: Any) -> str:
    """Convert a value to text as JavaScript's ``String(value)`` does."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_to_string(value)
    if isinstance(value, list):
        return ",".join("" if v is None or v is UNDEFINED else to_js_string(v) for v in value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, _dt.datetime):
        return value.astimezone(_dt.timezone.utc).strftime("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)")
    if isinstance(value, JSError):
        return str(value)
    if isinstance(value, JSRegExp):
        return f"/{value.source}/{value.flags}"
    return "[object Object]"


_NUMBER_RE = re.compile(
    r"^[+-]?(?:Infinity|(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))$"
)


_RADIX = {"x": 16, "o": 8, "b": 2}
_RADIX_DIGITS_RE = {
    "x": re.compile(r"^[0-9a-fA-F]+$"),
    "o": re.compile(r"^[0-7]+$"),
    "b": re.compile(r"^[01]+$"),
}


def to_js_number(value: Any) -> float | int:
    """Convert a value to a number as JavaScript's ``Number(value)`` does."""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, (int, float)):
        return value
    if value is None:
        return 0
    if value is UNDEFINED:
        return math.nan
    if isinstance(value, str):
        return _string_to_number(value)
    if isinstance(value, list):
        if not value:
            return 0
        if len(value) == 1:
            return to_js_number(to_js_string(value[0]))
        return math.nan
    if isinstance(value, _dt.datetime):
        return date_to_ms(value)
    return math.nan


def _string_to_number(text: str) -> float | int:
    stripped = text.strip()
    if stripped == "":
        return 0
    lowered = stripped.lower()
    if lowered.startswith(("0x", "0o", "0b")) and not stripped[0] in "+-":
        # Only the digits of the base may follow; Python's int() would also take a sign or "_".
        digits = _RADIX_DIGITS_RE[lowered[1]]
        return int(stripped[2:], _RADIX[lowered[1]]) if digits.match(stripped[2:]) else math.nan
    if not _NUMBER_RE.match(stripped):
        return math.nan
    number = float(stripped)
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def normalise_number(value: float) -> float | int:
    """Return an integral float as ``int`` so it prints as JavaScript prints it."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def loose_equals(left: Any, right: Any) -> bool:
    """Compare two values with JavaScript's ``==`` for primitives.

    Objects compare by identity, as in JavaScript.
    """
    if left is None or left is UNDEFINED:
        return right is None or right is UNDEFINED
    if right is None or right is UNDEFINED:
        return False
    if isinstance(left, bool):
        left = 1 if left else 0
    if isinstance(right, bool):
        right = 1 if right else 0
    left_primitive = isinstance(left, (int, float, str))
    right_primitive = isinstance(right, (int, float, str))
    if left_primitive and right_primitive:
        if isinstance(left, str) and isinstance(right, str):
            return left == right
        return to_js_number(left) == to_js_number(right)
    if left_primitive != right_primitive:
        obj, prim = (right, left) if left_primitive else (left, right)
        return loose_equals(to_js_string(obj), prim) if not isinstance(obj, _dt.datetime) else False
    return left is right


def strict_equals(left: Any, right: Any) -> bool:
    """Compare two values with JavaScript's ``===``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    if isinstance(left, (str,)) or left is None or left is UNDEFINED:
        return type(left) is type(right) and left == right
    return left is right


_FLOAT_PREFIX_RE = re.compile(r"[+-]?(?:Infinity|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")


def parse_float(value: Any) -> float | int:
    """Read a number as JavaScript's ``parseFloat`` does: the longest numeric prefix of ``String(value)``.

    ``"12px"`` gives 12, ``" 1e3 "`` gives 1000, and text without a numeric
    prefix (``"abc"``, ``""``, ``true``, ``null``) gives NaN.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = to_js_string(value).lstrip()
    match = _FLOAT_PREFIX_RE.match(text)
    if match is None:
        return math.nan
    return normalise_number(float(match.group(0)))
