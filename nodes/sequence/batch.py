"""The batch node: group a stream of messages into sequences.

Modes (``mode``):

``count``     every ``count`` messages form a sequence; with ``overlap`` the
              last messages of one sequence start the next (sent as copies).
              With ``honourParts`` the last part of an incoming sequence also
              closes the batch.
``interval``  the messages that arrived in each ``interval`` seconds form a
              sequence; with ``allowEmptySequence`` an empty interval sends
              ``{payload: null}`` as a sequence of one.
``concat``    complete sequences whose ``msg.topic`` is in ``topics`` are
              concatenated in topic order, once every topic has one.

Each sequence's ``msg.parts`` gets ``id`` (the first message's ``_msgid``),
``index`` and ``count``; other ``parts`` keys are kept. ``msg.reset`` drops
what is held (and restarts the interval timer). Held messages are marked done
when they are sent or dropped; the interval timer stops when the node closes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from runtime.jsvalues import UNDEFINED, to_js_number
from runtime.message import Message, clone_message, generate_id
from runtime.node import PENDING, Node
from runtime.registry import register
from nodes.sequence.common import max_pending_messages

TOO_MANY = "too many pending messages in batch node"


@register
class BatchNode(Node):
    """Group messages into sequences by count, time interval or topic."""

    type_name = "batch"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.mode = config.get("mode") or "count"
        self.honour_parts = bool(config.get("honourParts"))
        self.configured = False
        self._pending: list[Message] = []
        self._timer: asyncio.TimerHandle | None = None
        self._due = 0.0

        if self.mode == "count":
            count = to_js_number(config.get("count") or 1)
            overlap = to_js_number(config.get("overlap") or 0)
            if not count > overlap:
                self.error("Invalid count and overlap")
                return
            self.count = count
            self.overlap = int(overlap)
            self._end_of_sequence = False
            self._arrived_since_send = 0
        elif self.mode == "interval":
            self.interval_s = to_js_number(config.get("interval") or "0")
            self.allow_empty = bool(config.get("allowEmptySequence"))
        elif self.mode == "concat":
            self.topics = [entry.get("topic") for entry in config.get("topics") or [] if isinstance(entry, dict)]
            # Per topic: sequence ids in arrival order and each sequence's messages.
            self._by_topic: dict[Any, _TopicSequences] = {}
            self._held_count = 0
        else:
            self.error("unexpected mode")
            return
        self.configured = True

    async def start(self) -> None:
        if self.configured and self.mode == "interval":
            self._start_interval()

    def on_input(self, msg: Message) -> Any:
        if not self.configured:
            return PENDING
        if self.mode == "count":
            return self._add_counted(msg)
        if self.mode == "interval":
            return self._add_timed(msg)
        return self._add_to_topic(msg)

    # -- count mode ------------------------------------------------------

    def _add_counted(self, msg: Message) -> Any:
        if "reset" in msg:
            self._drop_held()
            return None
        parts = msg.get("parts")
        if self.honour_parts and isinstance(parts, dict) and _is_last_part(parts):
            self._end_of_sequence = True

        queue = self._pending
        queue.append(msg)
        self._arrived_since_send += 1
        if len(queue) == self.count or self._end_of_sequence:
            _send_sequence(self, queue, copy=self.overlap > 0)
            for held in queue[: len(queue) - self.overlap]:
                self.done(held)
            self._pending = queue[-self.overlap :] if self.overlap else []
            self._arrived_since_send = 0
            self._end_of_sequence = False
        # Node-RED counts only the messages since the last send against the limit.
        self._enforce_limit(self._arrived_since_send)
        return PENDING

    def _enforce_limit(self, held_count: int) -> None:
        limit = max_pending_messages(self)
        if limit <= 0 or held_count <= limit:
            return
        last = self._pending.pop()
        self.done(last, TOO_MANY)
        self._drop_held()
        self._arrived_since_send = 0

    def _drop_held(self) -> None:
        held, self._pending = self._pending, []
        for msg in held:
            self.done(msg)

    # -- interval mode -----------------------------------------------------

    def _start_interval(self) -> None:
        if self.interval_s > 0:
            self._due = asyncio.get_running_loop().time() + self.interval_s
            self._timer = self.runtime.call_later(self.interval_s, self._on_interval)

    def _on_interval(self) -> None:
        # Schedule from the planned time so the ticks do not drift; a tick
        # missed by more than an interval is skipped, as setInterval skips it.
        now = asyncio.get_running_loop().time()
        self._due += self.interval_s
        if self._due < now:
            self._due = now + self.interval_s
        self._timer = self.runtime.call_later(self._due - now, self._on_interval)

        if self._pending:
            held, self._pending = self._pending, []
            _send_sequence(self, held, copy=False)
            for msg in held:
                self.done(msg)
        elif self.allow_empty:
            self.send({"payload": None, "parts": {"id": generate_id(), "index": 0, "count": 1}})

    def _add_timed(self, msg: Message) -> Any:
        if "reset" in msg:
            self.runtime.cancel_timer(self._timer)
            self._timer = None
            self._drop_held()
            self._start_interval()
            return None
        self._pending.append(msg)
        self._enforce_limit(len(self._pending))
        return PENDING

    # -- concat mode ---------------------------------------------------------

    def _add_to_topic(self, msg: Message) -> Any:
        if "reset" in msg:
            self._drop_topics()
            return None
        topic = msg.get("topic", UNDEFINED)
        if topic not in self.topics:
            # Node-RED neither sends nor marks the message done.
            return PENDING
        parts = msg.get("parts")
        if not isinstance(parts, dict) or not all(key in parts for key in ("id", "index", "count")):
            self.done(msg, "no parts property in message")
            return PENDING

        self._by_topic.setdefault(topic, _TopicSequences()).add(parts["id"], msg)
        self._held_count += 1
        limit = max_pending_messages(self)
        if 0 < limit < self._held_count:
            self._overflow_topics(msg)
        self._try_concat()
        return PENDING

    def _overflow_topics(self, msg: Message) -> None:
        # Node-RED matches the message that overflowed by msg.id, which most
        # messages lack, so every held message usually gets the error.
        marker = msg.get("id", UNDEFINED)
        for sequences in self._by_topic.values():
            for held in sequences.all_messages():
                if held.get("id", UNDEFINED) == marker:
                    self.done(held, TOO_MANY)
                else:
                    self.done(held)
        self._by_topic = {}
        self._held_count = 0

    def _try_concat(self) -> None:
        for topic in self.topics:
            sequences = self._by_topic.get(topic)
            if sequences is None or not sequences.first_complete():
                return
        msgs: list[Message] = []
        for topic in self.topics:
            msgs.extend(self._by_topic[topic].first_messages())
        for topic in self.topics:
            self._by_topic[topic].remove_first()
        _send_sequence(self, msgs, copy=True)
        for msg in msgs:
            self.done(msg)
        self._held_count -= len(msgs)

    def _drop_topics(self) -> None:
        for sequences in self._by_topic.values():
            for held in sequences.all_messages():
                self.done(held)
        self._by_topic = {}
        self._held_count = 0

    async def close(self, removed: bool) -> None:
        """Stop the interval timer and mark held messages done; nothing is sent."""
        self.runtime.cancel_timer(self._timer)
        self._timer = None
        if self.mode == "concat" and self.configured:
            self._drop_topics()
        else:
            self._drop_held()


class _TopicSequences:
    """The sequences received for one topic, oldest first."""

    def __init__(self) -> None:
        self.ids: list[Any] = []
        self.groups: dict[Any, tuple[list[Message], list[Any]]] = {}

    def add(self, sequence_id: Any, msg: Message) -> None:
        key = sequence_id if isinstance(sequence_id, (str, int, float)) else repr(sequence_id)
        if key not in self.groups:
            self.groups[key] = ([], [UNDEFINED])
            self.ids.append(key)
        msgs, count = self.groups[key]
        msgs.append(msg)
        if count[0] is UNDEFINED and "count" in msg["parts"]:
            count[0] = msg["parts"]["count"]

    def first_complete(self) -> bool:
        if not self.ids:
            return False
        msgs, count = self.groups[self.ids[0]]
        return count[0] == len(msgs) and isinstance(count[0], (int, float))

    def first_messages(self) -> list[Message]:
        return self.groups[self.ids[0]][0]

    def remove_first(self) -> None:
        del self.groups[self.ids.pop(0)]

    def all_messages(self) -> list[Message]:
        return [msg for msgs, _ in self.groups.values() for msg in msgs]


def _is_last_part(parts: dict[str, Any]) -> bool:
    index, count = parts.get("index"), parts.get("count")
    if not isinstance(index, (int, float)) or not isinstance(count, (int, float)):
        return False
    if isinstance(index, bool) or isinstance(count, bool):
        return False
    return bool(index + 1 == count)


def _send_sequence(node: Node, msgs: list[Message], *, copy: bool) -> None:
    """Number ``msgs`` as one sequence whose id is the first message's ``_msgid`` and send them."""
    sequence_id = msgs[0].get("_msgid")
    count = len(msgs)
    for index, original in enumerate(msgs):
        msg = clone_message(original) if copy else original
        parts = msg.get("parts")
        if not isinstance(parts, dict):
            parts = msg["parts"] = {}
        parts["id"] = sequence_id
        parts["index"] = index
        parts["count"] = count
        node.send(msg)
