"""The yaml node: convert between YAML text and objects, as Node-RED does with js-yaml 4.

PyYAML does the work, configured to read and write what js-yaml does:

* Loading resolves plain scalars with YAML 1.2's core schema, as js-yaml
  does (``yes`` and ``on`` stay strings, ``012`` is 12, ``0o17`` is 15,
  ``1e3`` is a number), dates become Dates in UTC, ``!!binary`` a Buffer and
  ``!!set`` an object of nulls. Empty text gives ``undefined``.
* Dumping indents sequences under their key, writes multi-line strings as
  literal blocks, quotes with single quotes every string that would read
  back as another type (including js-yaml's YAML 1.1 words ``y``, ``n``,
  ``yes``, ``off``…), and writes Dates as ISO 8601 text.

NOTE: js-yaml folds plain strings longer than 80 characters into ``>-``
blocks; Outwire writes them on one line, which reads back the same.

Error handling: invalid YAML reaches catch nodes with the parser's problem
and its ``(line:column)``; an object that YAML cannot hold (undefined, a
regular expression) with Node-RED's "Failed to convert payload".
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any

import yaml

from runtime.jsvalues import UNDEFINED, JSError, JSOpaque, JSRegExp, js_typeof, number_to_string
from runtime.message import Message
from runtime.node import Node, NodeError
from runtime.propertypath import get_property, set_property
from runtime.registry import register

DROPPED_BUFFER = "Ignored non-object payload"
DROPPED_TYPE = "Ignored unsupported payload type"
DUMP_FAILED = "Failed to convert payload"

_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")
_INT_RE = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_RE = re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?"
                       r"|\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_TIMESTAMP_RE = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
                           r"(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::?[0-9]{2})?))?)?$")
# Words js-yaml quotes so YAML 1.1 readers do not take them for booleans or base-60 numbers.
_YAML11_WORDS = frozenset("y Y yes Yes YES on On ON n N no No NO off Off OFF".split())
_BASE60_RE = re.compile(r"^[-+]?[0-9_]+(?::[0-9_]+)+(?:\.[0-9_]*)?$")

_CORE_TAGS = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:null"}


class _Loader(yaml.SafeLoader):
    """A safe loader with YAML 1.2 core-schema resolution, as js-yaml's default schema."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _CORE_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL_RE, list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", _NULL_RE, ["~", "n", "N", ""])
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT_RE, list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_RE, list("-+0123456789."))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0x"):
        return int(text[2:], 16)
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 10)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float | int:
    text = str(loader.construct_scalar(node)).replace("_", "").lower()
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if text == ".nan":
        return math.nan
    number = float(text)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def load_yaml(text: str) -> Any:
    """Load one YAML document the way js-yaml's ``load`` does; no document gives UNDEFINED."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return UNDEFINED
        return _to_message_value(loader.construct_document(node))
    except yaml.MarkedYAMLError as exc:
        raise ValueError(_error_text(exc, text)) from None
    finally:
        loader.dispose()


def _error_text(exc: yaml.MarkedYAMLError, text: str) -> str:
    """Describe a YAML error with its position and a source excerpt, laid out as js-yaml does."""
    reason = exc.problem or exc.context or "invalid YAML"
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return str(reason)
    lines = text.split("\n")
    first = max(0, mark.line - 3)
    width = len(str(mark.line + 1))
    excerpt = [f" {str(n + 1).rjust(width)} | {lines[n] if n < len(lines) else ''}" for n in range(first, mark.line + 1)]
    caret = "-" * (width + 4 + mark.column) + "^"
    return f"{reason} ({mark.line + 1}:{mark.column + 1})\n\n" + "\n".join(excerpt) + "\n" + caret


def _to_message_value(value: Any) -> Any:
    """Convert PyYAML's results to message values: Dates in UTC, Buffers, string keys."""
    if isinstance(value, dict):
        return {_key_text(k): _to_message_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_message_value(v) for v in value]
    if isinstance(value, _dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=_dt.timezone.utc)
        utc = aware.astimezone(_dt.timezone.utc)
        return utc.replace(microsecond=utc.microsecond // 1000 * 1000)
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day, tzinfo=_dt.timezone.utc)
    if isinstance(value, bytes):
        return bytearray(value)
    if isinstance(value, set):
        return {_key_text(k): None for k in value}
    return value


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, (int, float)):
        return number_to_string(key)
    return str(key)


class _Dumper(yaml.SafeDumper):
    """A dumper that writes the layout js-yaml writes."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # js-yaml indents a sequence under its mapping key; PyYAML would not.
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    if "\n" in text:
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|")
    if _reads_as_other_type(text):
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="'")
    return dumper.represent_scalar("tag:yaml.org,2002:str", text)


def _reads_as_other_type(text: str) -> bool:
    if text in _YAML11_WORDS or _BASE60_RE.match(text) or _TIMESTAMP_RE.match(text) or text == "<<":
        return True
    return any(regexp.match(text) for regexp in (_NULL_RE, _BOOL_RE, _INT_RE, _FLOAT_RE))


def _represent_float(dumper: yaml.SafeDumper, number: float) -> yaml.ScalarNode:
    if math.isnan(number):
        text = ".nan"
    elif math.isinf(number):
        text = ".inf" if number > 0 else "-.inf"
    else:
        text = number_to_string(number)
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


def _represent_date(dumper: yaml.SafeDumper, value: _dt.datetime) -> yaml.ScalarNode:
    utc = value.astimezone(_dt.timezone.utc)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (utc.microsecond // 1000)
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", text)


def _represent_buffer(dumper: yaml.SafeDumper, value: bytearray) -> yaml.ScalarNode:
    return dumper.represent_binary(bytes(value))


def _reject(dumper: yaml.SafeDumper, value: Any) -> yaml.Node:
    raise yaml.representer.RepresenterError(f"unacceptable kind of an object to dump {value!r}")


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(float, _represent_float)
_Dumper.add_representer(_dt.datetime, _represent_date)
_Dumper.add_representer(bytearray, _represent_buffer)
for _kind in (type(UNDEFINED), JSRegExp, JSError, JSOpaque):
    _Dumper.add_representer(_kind, _reject)


def dump_yaml(value: Any) -> str:
    """Write a value as YAML text the way js-yaml's ``dump`` does."""
    text = yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False,
                     width=math.inf)
    # PyYAML ends a document whose root is a scalar with "...", which js-yaml does not write.
    return text[: -len("...\n")] if text.endswith("\n...\n") else text


@register
class YAMLNode(Node):
    """Parse YAML strings into objects, or write objects as YAML strings."""

    type_name = "yaml"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.property = config.get("property") or "payload"

    def on_input(self, msg: Message) -> Any:
        value = get_property(msg, self.property)
        if value is UNDEFINED:
            return msg
        if isinstance(value, str):
            try:
                parsed = load_yaml(value)
            except ValueError as exc:
                raise NodeError(str(exc)) from exc
            set_property(msg, self.property, parsed)
            return msg
        if js_typeof(value) != "object":
            self.warn(DROPPED_TYPE)
            return None
        if isinstance(value, (bytes, bytearray)):
            self.warn(DROPPED_BUFFER)
            return None
        try:
            text = dump_yaml(value)
        except yaml.YAMLError as exc:
            raise NodeError(DUMP_FAILED) from exc
        set_property(msg, self.property, text)
        return msg
