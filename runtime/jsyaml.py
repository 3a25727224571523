"""YAML parsing with the results of js-yaml 4 (``yaml.load``), which Node-RED's nodes use.

PyYAML implements YAML 1.1, where ``yes``, ``on`` and ``0777`` are a
boolean and an octal number. js-yaml's default schema is YAML 1.2's core
schema plus timestamps: only ``true``/``false`` are booleans, ``0o17`` and
``0x1F`` are integers, ``_`` may separate digits, timestamps become Dates
(UTC when no zone is given) and ``!!binary`` becomes a Uint8Array. This module
configures a PyYAML ``SafeLoader`` with those resolvers and converts the
result to message values.

NOTE: error messages are PyYAML's, not js-yaml's, and duplicate mapping keys
keep the last value where js-yaml raises an error.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import yaml

from runtime.jsvalues import UNDEFINED, JSOpaque, normalise_number

_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")
_INT_RE = re.compile(r"^[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|0o[0-7_]+|0|[1-9][0-9_]*|0[0-9][0-9_]*)$")
_FLOAT_RE = re.compile(
    r"^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?"
    r"|\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)"
    r"|\.(?:nan|NaN|NAN))$"
)
_TIMESTAMP_RE = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
    r"|^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?$"
)


class YAMLError(ValueError):
    """Invalid YAML text."""


class _CoreSchemaLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no type hints here
    """PyYAML's safe loader with js-yaml's implicit types."""


# Start from no implicit types, then add js-yaml's in its order (null, bool, int, float, timestamp, merge).
_CoreSchemaLoader.yaml_implicit_resolvers = {}
_CoreSchemaLoader.add_implicit_resolver("tag:yaml.org,2002:null", _NULL_RE, ["~", "n", "N", ""])
_CoreSchemaLoader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL_RE, list("tTfF"))
_CoreSchemaLoader.add_implicit_resolver("tag:yaml.org,2002:int", _INT_RE, list("-+0123456789"))
_CoreSchemaLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_RE, list("-+0123456789."))
_CoreSchemaLoader.add_implicit_resolver("tag:yaml.org,2002:timestamp", _TIMESTAMP_RE, list("0123456789"))
_CoreSchemaLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^<<$"), ["<"])


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node)).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits, 10)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node)).replace("_", "").lower()
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if text == ".nan":
        return float("nan")
    return normalise_number(float(text))


_CoreSchemaLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_CoreSchemaLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def load(text: str) -> Any:
    """Parse one YAML document as js-yaml's ``load`` does, into message values.

    Empty text has no document, which js-yaml returns as undefined; any other
    text without content (a comment, ``---``) is null.
    """
    if text == "":
        return UNDEFINED
    try:
        document = yaml.load(text, Loader=_CoreSchemaLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise YAMLError(str(exc)) from exc
    return _to_message_value(document)


def _to_message_value(value: Any) -> Any:
    """Convert PyYAML's types to the message model (Dates, Uint8Arrays, plain lists and dicts)."""
    if isinstance(value, dict):
        return {str(key): _to_message_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_message_value(item) for item in value]
    if isinstance(value, (set, frozenset)):
        # js-yaml loads !!set as an object whose values are null.
        return {str(key): None for key in value}
    if isinstance(value, bytes):
        return JSOpaque({"__nr__": "TypedArray", "type": "Uint8Array", "data": list(value)})
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.astimezone(_dt.timezone.utc)
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day, tzinfo=_dt.timezone.utc)
    return value
