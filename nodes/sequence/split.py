"""The split node: turn one message into a sequence of messages with ``msg.parts``.

Strings split on a separator or into fixed-length chunks, arrays into
elements or chunks, objects into one message per key, Buffers on a binary or
text separator or into fixed-length chunks. Every part is a copy of the input
message with a new ``_msgid``; ``msg.parts`` holds the sequence id (another new
id), ``index``, ``count`` and what a join node needs to rebuild the value
(``type``, ``ch``, ``len``, ``key``, ``property``). A message that already has
``msg.parts`` keeps it as ``msg.parts.parts``, so nested splits can be undone
by nested joins.

In stream mode the trailing piece of a string or Buffer is held back and put
in front of the next message's value, ``parts.count`` is left out and
``parts.index`` keeps counting across messages. A message whose last piece is
held back is marked done only when that piece is sent.
"""

from __future__ import annotations

import math
from typing import Any

from runtime import jsjson
from runtime.jsvalues import UNDEFINED
from runtime.message import Message, clone_message, generate_id
from runtime.node import PENDING, Node, NodeError
from runtime.propertypath import get_property, set_property
from runtime.registry import register
from nodes.sequence.common import js_parse_int, unescape_separator


class SplitConfigError(ValueError):
    """An invalid separator or length in the split node's configuration."""


@register
class SplitNode(Node):
    """Split the configured property of each message into a message sequence."""

    type_name = "split"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.stream = config.get("stream") is True
        self.split_type = config.get("spltType") or "str"
        self.addname = config.get("addname") or ""
        self.property = config.get("property") or "payload"

        # Invariant: ``_index`` is the next parts.index in stream mode; the
        # held-back tail of the last string or Buffer is ``_remainder``/``_buffer``
        # and the messages waiting for it to be sent are ``_pending_done``.
        self._index = 0
        self._remainder = ""
        self._buffer = bytearray()
        self._pending_done: list[Message] = []
        self.configured = False
        try:
            self._configure(config)
        except (SplitConfigError, jsjson.JSONParseError) as exc:
            # Node-RED logs this and leaves the node without an input handler.
            kind = "SyntaxError" if isinstance(exc, jsjson.JSONParseError) else "Error"
            self.error(f"Invalid split property: {kind}: {exc}")
            return
        self.configured = True

    def _configure(self, config: dict[str, Any]) -> None:
        raw = config.get("splt")
        self.separator: Any = None
        self.separator_bytes = b""
        self.separator_array: list[int] | None = None
        if self.split_type == "str":
            self.separator = unescape_separator(str(raw or "\\n"))
            self.separator_bytes = self.separator.encode("utf-8")
        elif self.split_type == "bin":
            array = jsjson.parse(str(raw))
            if not isinstance(array, list):
                raise SplitConfigError("not an array")
            self.separator_array = array
            self.separator_bytes = bytes(int(b) & 0xFF for b in array)
            self.separator = self.separator_bytes.decode("utf-8", errors="replace")
        elif self.split_type == "len":
            length = js_parse_int(raw)
            if math.isnan(length) or length < 1:
                raise SplitConfigError(f"invalid split length: {raw}")
            self.chunk_length = int(length)

        array_split = config.get("arraySplt")
        array_length = 1 if array_split is None else js_parse_int(array_split)
        if math.isnan(array_length) or array_length < 1:
            raise SplitConfigError(f"invalid array split length: {array_split}")
        self.array_length = int(array_length)

    # -- input -----------------------------------------------------------

    def on_input(self, msg: Message) -> Any:
        if not self.configured:
            return PENDING
        value = get_property(msg, self.property)
        if value is UNDEFINED:
            # Node-RED neither sends nor marks the message done.
            return PENDING

        self._start_parts(msg)
        if isinstance(value, str):
            return self._split_string(msg, value)
        if isinstance(value, list):
            return self._split_array(msg, value)
        if isinstance(value, (bytes, bytearray)):
            return self._split_buffer(msg, value)
        if value is None:
            # Node-RED's Object.keys(null) throws; the error reaches catch nodes.
            raise NodeError("TypeError: Cannot convert undefined or null to object")
        if isinstance(value, (bool, int, float)):
            return None
        return self._split_object(msg, value)

    def _start_parts(self, msg: Message) -> None:
        parts: dict[str, Any] = {"parts": msg["parts"]} if "parts" in msg else {}
        parts["id"] = generate_id()
        if self.property != "payload":
            parts["property"] = self.property
        msg["parts"] = parts
        # Each part gets its own new _msgid when it is sent.
        msg.pop("_msgid", None)

    def _send_part(self, msg: Message, value: Any) -> None:
        set_property(msg, self.property, value)
        self.send(clone_message(msg))

    def _release_pending(self) -> None:
        pending, self._pending_done = self._pending_done, []
        for held in pending:
            self.done(held)

    # -- strings -----------------------------------------------------------

    def _split_string(self, msg: Message, value: str) -> Any:
        value = self._remainder + value
        parts = msg["parts"]
        parts["type"] = "string"
        if self.split_type == "len":
            parts["ch"] = ""
            return self._split_by_length(msg, value)
        parts["ch"] = self.separator_array if self.split_type == "bin" else self.separator
        pieces = value.split(self.separator) if self.separator else list(value)
        self._send_pieces(msg, pieces)
        return None

    def _send_pieces(self, msg: Message, pieces: list[str]) -> None:
        parts = msg["parts"]
        for piece in pieces[:-1]:
            parts["index"] = self._index
            self._index += 1
            if not self.stream:
                parts["count"] = len(pieces)
            self._send_part(msg, piece)
        if self.stream:
            self._remainder = pieces[-1]
            return
        parts["index"] = self._index
        parts["count"] = len(pieces)
        self._send_part(msg, pieces[-1])
        self._index = 0

    # -- arrays and objects ------------------------------------------------

    def _split_array(self, msg: Message, value: list[Any]) -> Any:
        parts = msg["parts"]
        parts["type"] = "array"
        length = self.array_length
        count = -(-len(value) // length)
        parts["count"] = count
        parts["len"] = length

        template = clone_message(msg)
        for index in range(count):
            chunk = value[index * length : (index + 1) * length]
            template["parts"]["index"] = index
            self._send_part(template, chunk[0] if length == 1 else chunk)
        return None

    def _split_object(self, msg: Message, value: Any) -> Any:
        parts = msg["parts"]
        parts["type"] = "object"
        # Dates, regular expressions and the like have no own keys in JavaScript.
        items = list(value.items()) if isinstance(value, dict) else []
        for index, (key, item) in enumerate(items):
            set_property(msg, self.property, item)
            if self.addname:
                set_property(msg, self.addname, key)
            parts["key"] = key
            parts["index"] = index
            parts["count"] = len(items)
            self.send(clone_message(msg))
        return None

    # -- Buffers -------------------------------------------------------------

    def _split_buffer(self, msg: Message, value: bytes | bytearray) -> Any:
        data = self._buffer + value
        msg["parts"]["type"] = "buffer"
        if self.split_type == "len":
            return self._split_by_length(msg, data)
        return self._split_buffer_by_separator(msg, data)

    def _split_by_length(self, msg: Message, data: Any) -> Any:
        """Send fixed-length chunks of a string or Buffer; in stream mode hold back a short tail."""
        parts = msg["parts"]
        length = self.chunk_length
        parts["len"] = length
        count = -(-len(data) // length)
        if not self.stream:
            parts["count"] = count
            self._index = 0

        position = 0
        for _ in range(count - 1):
            parts["index"] = self._index
            self._index += 1
            self._send_part(msg, data[position : position + length])
            position += length
        if count > 1:
            self._release_pending()

        tail = data[position:]
        is_text = isinstance(data, str)
        if self.stream and len(tail) != length:
            self._set_tail(is_text, tail)
            self._pending_done.append(msg)
            return PENDING
        parts["index"] = self._index
        self._index += 1
        self._send_part(msg, tail)
        self._release_pending()
        self._set_tail(is_text, "" if is_text else bytearray())
        return None

    def _set_tail(self, is_text: bool, tail: Any) -> None:
        if is_text:
            self._remainder = tail
        else:
            self._buffer = tail

    def _split_buffer_by_separator(self, msg: Message, data: bytearray) -> Any:
        parts = msg["parts"]
        parts["ch"] = self.separator_array if self.split_type == "bin" else self.separator
        separator = self.separator_bytes
        # NOTE: Node-RED steps past a text separator by its length in UTF-16
        # units, not bytes; the two differ only for non-ASCII separators.
        step = len(separator) if self.split_type == "bin" else len(self.separator.encode("utf-16-le")) // 2
        count = _count_pieces(data, separator, step)
        if not self.stream:
            parts["count"] = count
            self._index = 0

        start = 0
        found = data.find(separator) if separator else -1
        while found > -1:
            parts["index"] = self._index
            self._index += 1
            self._send_part(msg, data[start:found])
            start = found + step
            found = data.find(separator, start)
        if count > 1:
            self._release_pending()

        if not self.stream and start < len(data):
            # Node-RED numbers this last part with two increments of its
            # counter; parts.count therefore equals the number of parts sent.
            parts["index"] = self._index
            parts["count"] = self._index + 1
            self._index += 2
            self._send_part(msg, data[start:])
            self._release_pending()
        else:
            self._buffer = data[start:]
            if self._buffer:
                self._pending_done.append(msg)
        return None if not self._buffer else PENDING


def _count_pieces(data: bytearray, separator: bytes, step: int) -> int:
    count = 1
    if not separator:
        return count
    found = data.find(separator)
    while found > -1:
        count += 1
        found = data.find(separator, found + step)
    return count
