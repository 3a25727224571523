"""The join node: collect a sequence of messages into one message.

Modes (``mode``):

``auto``    rebuild what a split node split, from ``msg.parts`` (type, count,
            separator, key, index and the split property).
``custom``  ("manual") build an array, string, Buffer, object keyed by a
            message property, merged object or array of whole messages; send it
            after ``count`` parts, after ``timeout`` seconds from the first
            part, or when a message carries ``msg.complete``. ``accumulate``
            keeps the group after a send so every later part sends again.
``reduce``  fold the sequence with a JSONata expression (see
            :mod:`nodes.sequence.reduce`).

The joined message is the first part's copy updated with every later part's
properties (``Object.assign``), so it carries the last part's ``_msgid`` and
other properties. Its ``msg.parts`` becomes the enclosing sequence's parts
(``parts.parts``), or is removed. ``msg.reset`` drops the group without
sending; ``msg.restartTimeout`` restarts its timer.

Invariants: each group's messages are marked done when the group is sent or
dropped; a group's timer is cancelled when the group is sent, dropped, or the
node closes, so no timer outlives the node.
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass, field
from typing import Any

from runtime import jsjson
from runtime.jsvalues import UNDEFINED, js_typeof, to_js_number, to_js_string
from runtime.message import Message, clone_message
from runtime.node import PENDING, Node, NodeError
from runtime.propertypath import get_property, set_property
from runtime.registry import register
from nodes.sequence.common import js_join, js_positive, unescape_separator
from nodes.sequence.reduce import ReduceJoiner

# The group key Node-RED uses when messages carry no sequence id.
DEFAULT_GROUP = "_"

_ARRAY_INDEX_RE = re.compile(r"^(0|[1-9]\d*)$")


@dataclass
class _Group:
    """The parts of one sequence collected so far."""

    kind: str  # array, string, buffer or object (object also serves merged)
    msg: Message
    target_count: Any
    prop: str
    payload: Any = None
    current_count: int = 0
    join_char: Any = UNDEFINED
    array_len: Any = UNDEFINED
    buffer_len: int = 0
    dones: list[Message] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


@register
class JoinNode(Node):
    """Join the messages of a sequence into one message."""

    type_name = "join"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.mode = config.get("mode") or "auto"
        self.property = config.get("property") or "payload"
        self.property_type = config.get("propertyType") or "msg"
        if self.property_type == "full":
            self.property = "payload"
        self.key = config.get("key") or "topic"
        self.timeout_s = 0.0 if self.mode == "auto" else _js_number_or_zero(config.get("timeout"))
        self.count = _js_number_or_zero(config.get("count"))
        self.count_from_parts = config.get("count") == ""
        self.build = config.get("build") or "array"
        self.accumulate = config.get("accumulate") is True
        useparts = config.get("useparts", UNDEFINED)
        self.useparts = True if useparts is UNDEFINED else bool(useparts)
        self.joiner = self._joiner(config)

        # Groups in flight by sequence id; see the module docstring's invariants.
        self._inflight: dict[Any, _Group] = {}
        self.reducer: ReduceJoiner | None = None
        if self.mode == "reduce":
            self.reducer = ReduceJoiner(self, config)

    @staticmethod
    def _joiner(config: dict[str, Any]) -> Any:
        joiner = config.get("joiner") or ""
        joiner_type = config.get("joinerType") or "str"
        if joiner_type == "str":
            return unescape_separator(str(joiner))
        if joiner_type == "bin":
            array = jsjson.parse(str(joiner or "[]"))
            if not isinstance(array, list):
                raise ValueError(f"invalid binary joiner {joiner!r}: expected a JSON array of bytes such as [44]")
            return bytearray(int(b) & 0xFF for b in array)
        return joiner

    # -- input -----------------------------------------------------------

    def on_input(self, msg: Message) -> Any:
        if self.reducer is not None:
            return self.reducer.receive(msg)
        if self.property_type == "full":
            value: Any = msg
        else:
            try:
                value = get_property(msg, self.property)
            except (TypeError, ValueError):
                self.warn(f"Message property {self.property} not found")
                return None

        parts = msg.get("parts")
        if self.mode == "auto" and not (isinstance(parts, dict) and "id" in parts):
            if "reset" in msg:
                # Node-RED drops every group here without marking its messages done.
                self._cancel_all_timers()
                self._inflight = {}
            else:
                self.warn("Message missing msg.parts property - cannot join in 'auto' mode")
            return None

        if self.mode == "custom" and "parts" in msg and not self.useparts:
            if isinstance(parts, dict) and "parts" in parts:
                msg["parts"] = {"parts": parts["parts"]}
            else:
                del msg["parts"]

        if self.mode == "auto":
            return self._add_auto(msg)
        return self._add_custom(msg, value)

    def _add_auto(self, msg: Message) -> Any:
        parts = msg["parts"]
        value = get_property(msg, parts.get("property") or "payload")
        spec = _PartSpec(
            group_id=parts["id"],
            kind=parts.get("type", UNDEFINED),
            target_count=parts.get("count", UNDEFINED),
            join_char=parts.get("ch", UNDEFINED),
            key=parts.get("key", UNDEFINED),
            array_len=parts.get("len", UNDEFINED),
            index=parts.get("index", UNDEFINED),
            prop=parts.get("property", UNDEFINED),
        )
        return self._add(msg, value, spec)

    def _add_custom(self, msg: Message, value: Any) -> Any:
        spec = _PartSpec(group_id=DEFAULT_GROUP, kind=self.build, target_count=self.count, join_char=self.joiner)
        parts = msg.get("parts")
        if self.count_from_parts and "parts" in msg:
            spec.target_count = (parts.get("count") if isinstance(parts, dict) else None) or 0
            if isinstance(parts, dict) and "id" in parts:
                spec.group_id = parts["id"]
        if self.build == "object":
            spec.key = get_property(msg, self.key)
        spec.prop = self.property
        return self._add(msg, value, spec)

    def _add(self, msg: Message, value: Any, spec: _PartSpec) -> Any:
        group_id = _group_key(spec.group_id)
        if "restartTimeout" in msg and group_id in self._inflight:
            self._restart_timer(group_id)
        if "reset" in msg:
            self._drop_group(group_id)
            return None
        if spec.kind == "object" and (spec.key is None or spec.key is UNDEFINED or spec.key == ""):
            return self._missing_key(msg, group_id)

        group = self._inflight.get(group_id)
        if group is None:
            group = self._new_group(msg, spec, group_id)
        group.dones.append(msg)

        if spec.kind == "buffer" and value is not UNDEFINED:
            if not isinstance(value, (bytes, bytearray, str, list)):
                group.dones.remove(msg)
                self.done(msg, f"Cannot join {js_typeof(value)} to buffer")
                return PENDING
            group.buffer_len += len(value)
        self._store(group, spec, value, msg)

        group.msg.update(msg)
        if "parts" in msg:
            group.target_count = group.target_count or _parts_count(msg)
        count = group.target_count
        if (js_positive(count) and group.current_count >= to_js_number(count)) or "complete" in msg:
            self._complete(group_id)
        return PENDING

    def _missing_key(self, msg: Message, group_id: Any) -> Any:
        if self.mode == "auto":
            self.warn("Message missing 'msg.parts.key' property - cannot add to object")
        elif "complete" in msg:
            group = self._inflight.get(group_id)
            if group is not None:
                group.msg["complete"] = msg["complete"]
                self._complete(group_id)
        else:
            self.warn(f"Message missing key property 'msg.{self.key}' - cannot add to object")
        return None

    def _new_group(self, msg: Message, spec: _PartSpec, group_id: Any) -> _Group:
        kind = "object" if spec.kind in ("object", "merged") else spec.kind
        group = _Group(kind=kind, msg=clone_message(msg), target_count=spec.target_count, prop=spec.prop)
        group.payload = {} if kind == "object" else []
        if kind in ("string", "buffer"):
            group.join_char = spec.join_char
        elif kind == "array":
            group.array_len = spec.array_len
        if self.timeout_s > 0:
            group.timer = self.runtime.call_later(self.timeout_s, self._on_timeout, group_id)
        self._inflight[group_id] = group
        return group

    def _store(self, group: _Group, spec: _PartSpec, value: Any, msg: Message) -> None:
        if spec.kind == "object":
            group.payload[to_js_string(spec.key)] = value
            group.current_count = len(group.payload)
        elif spec.kind == "merged":
            self._merge(group, value, msg)
        else:
            _store_element(group, spec.index, value)

    def _merge(self, group: _Group, value: Any, msg: Message) -> None:
        if isinstance(value, list) or not _is_js_object(value):
            if "complete" not in msg:
                self.warn("Cannot merge non-object types")
            return
        if isinstance(value, dict):
            items: Any = value.items()
        elif isinstance(value, (bytes, bytearray)):
            # A Buffer's own enumerable keys are its byte indexes.
            items = ((str(i), b) for i, b in enumerate(value))
        else:
            items = ()
        for key, item in items:
            if key != "_msgid":
                group.payload[key] = item
        group.current_count = len(group.payload)

    # -- sending -----------------------------------------------------------

    def _complete(self, group_id: Any) -> None:
        group = self._inflight[group_id]
        self.runtime.cancel_timer(group.timer)
        group.timer = None
        if self.mode == "auto" or not self.accumulate or "complete" in group.msg:
            del self._inflight[group_id]

        try:
            joined = _joined_value(group)
        except NodeError as exc:
            # The message that completed the group carries the error.
            dones, group.dones = group.dones, []
            for held in dones[:-1]:
                self.done(held)
            self.done(dones[-1] if dones else group.msg, exc)
            return
        if group.kind != "string" and self.property_type == "full":
            group.msg = clone_message(group.msg)
        set_property(group.msg, group.prop or "payload", joined)

        parts = group.msg.get("parts")
        if isinstance(parts, dict) and "parts" in parts:
            group.msg["parts"] = parts["parts"]
        else:
            group.msg.pop("parts", None)
        group.msg.pop("complete", None)
        self.send(clone_message(group.msg))

        dones, group.dones = group.dones, []
        for held in dones:
            self.done(held)

    def _on_timeout(self, group_id: Any) -> None:
        group = self._inflight.get(group_id)
        if group is None:
            return
        group.timer = None
        self._complete(group_id)

    def _restart_timer(self, group_id: Any) -> None:
        group = self._inflight[group_id]
        self.runtime.cancel_timer(group.timer)
        group.timer = None
        if self.timeout_s > 0:
            group.timer = self.runtime.call_later(self.timeout_s, self._on_timeout, group_id)

    def _drop_group(self, group_id: Any) -> None:
        group = self._inflight.pop(group_id, None)
        if group is None:
            return
        self.runtime.cancel_timer(group.timer)
        for held in group.dones:
            self.done(held)

    def _cancel_all_timers(self) -> None:
        for group in self._inflight.values():
            self.runtime.cancel_timer(group.timer)
            group.timer = None

    async def close(self, removed: bool) -> None:
        """Cancel every group timer and mark held messages done; nothing is sent."""
        for group in self._inflight.values():
            self.runtime.cancel_timer(group.timer)
            group.timer = None
            for held in group.dones:
                self.done(held)
            group.dones = []
        if self.reducer is not None:
            self.reducer.close()


@dataclass
class _PartSpec:
    """The group one message belongs to, and how that group is built."""

    group_id: Any
    kind: Any
    target_count: Any
    join_char: Any = UNDEFINED
    key: Any = UNDEFINED
    array_len: Any = UNDEFINED
    index: Any = UNDEFINED
    prop: Any = UNDEFINED


def _store_element(group: _Group, index: Any, value: Any) -> None:
    """Put one part into an array-like group at ``index``, or append it."""
    payload: list[Any] = group.payload
    if math.isnan(to_js_number(index)):
        if value is not UNDEFINED:
            payload.append(value)
            group.current_count += 1
        return

    key = to_js_string(index)
    if not _ARRAY_INDEX_RE.match(key):
        # NOTE: JavaScript stores a non-integer index as a plain property, which
        # the join output ignores. Only the count includes it, as in Node-RED.
        group.current_count += 1
        return
    position = int(key)
    current = payload[position] if position < len(payload) else UNDEFINED
    if current is None or current is UNDEFINED:
        group.current_count += 1
    if position >= len(payload):
        payload.extend([UNDEFINED] * (position + 1 - len(payload)))
    payload[position] = value


def _joined_value(group: _Group) -> Any:
    """Build the joined value of a completed group."""
    payload = group.payload
    if group.kind == "array" and js_positive(group.array_len) and to_js_number(group.array_len) > 1:
        flat: list[Any] = []
        for item in payload:
            if item is UNDEFINED:
                continue  # holes: forEach skips them
            flat.extend(item if isinstance(item, list) else [item])
        return flat
    if group.kind == "buffer":
        return _joined_buffer(group)
    if group.kind == "string":
        return js_join(payload, _join_char_text(group.join_char))
    return payload


def _joined_buffer(group: _Group) -> bytearray:
    if group.join_char is UNDEFINED:
        pieces = [bytes(_to_buffer(p)) for p in group.payload if p is not UNDEFINED]
        expected = group.buffer_len
    else:
        separator = _to_buffer(group.join_char)
        pieces = []
        for i, item in enumerate(group.payload):
            if i > 0:
                pieces.append(bytes(separator))
            pieces.append(bytes(_to_buffer(item)))
        expected = sum(len(p) for p in pieces)
    joined = bytearray(b"".join(pieces))
    # Buffer.concat with a total length truncates or zero-fills to it.
    if len(joined) > expected:
        del joined[expected:]
    elif len(joined) < expected:
        joined.extend(bytes(expected - len(joined)))
    return joined


def _to_buffer(value: Any) -> bytes | bytearray:
    """Convert a part to bytes as ``Buffer.from`` does."""
    if isinstance(value, (bytes, bytearray)):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, list):
        return bytes(int(to_js_number(b)) & 0xFF if not math.isnan(to_js_number(b)) else 0 for b in value)
    raise NodeError(
        "TypeError: The first argument must be of type string or an instance of Buffer, ArrayBuffer, "
        f"or Array or an Array-like Object. Received {js_typeof(value)}"
    )


def _join_char_text(join_char: Any) -> str:
    if isinstance(join_char, str):
        return join_char
    if join_char is UNDEFINED or join_char is None:
        shown = "undefined" if join_char is UNDEFINED else "null"
        raise NodeError(f"TypeError: Cannot read properties of {shown} (reading 'toString')")
    return to_js_string(join_char)


def _parts_count(msg: Message) -> Any:
    parts = msg.get("parts")
    return parts.get("count", UNDEFINED) if isinstance(parts, dict) else UNDEFINED


def _group_key(group_id: Any) -> Any:
    # JavaScript object keys are strings; an unhashable id is keyed by its text.
    return group_id if isinstance(group_id, (str, int, float, bool)) or group_id is None else to_js_string(group_id)


def _is_js_object(value: Any) -> bool:
    return not isinstance(value, (str, int, float, bool)) and value is not UNDEFINED


def _js_number_or_zero(value: Any) -> float | int:
    """Return ``Number(value || 0)`` as Node-RED reads count and timeout."""
    if not value:
        return 0
    number = to_js_number(value)
    return 0 if math.isnan(number) else number
