"""Link nodes: virtual wires between flows, and link calls that return like a subroutine.

``link out`` in link mode is wired, at load time, to every ``link in`` it
names or that names it (see ``runtime.graph``), so it sends like any node.
In return mode it hands the message back to the ``link call`` that sent it,
found on the ``msg._linkSource`` stack. ``link call`` pushes itself on that
stack, delivers to a ``link in`` (by id, or by name when dynamic), and fails
with "timeout" if nothing returns within ``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from runtime.message import Message, clone_message
from runtime.node import PENDING, Node
from runtime.registry import register

# Node-RED's default link call timeout.
DEFAULT_CALL_TIMEOUT_S = 30.0


@register
class LinkInNode(Node):
    """Receive from link out and link call nodes and send on."""

    type_name = "link in"

    def on_input(self, msg: Message) -> Message:
        return msg


@register
class LinkOutNode(Node):
    """Send to linked ``link in`` nodes, or return to the calling ``link call``."""

    type_name = "link out"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.mode = config.get("mode") or "link"
        self._event = f"node:{self.id}"

    def on_input(self, msg: Message) -> Any:
        msg["_event"] = self._event
        if self.mode != "return":
            return msg

        stack = msg.get("_linkSource")
        if isinstance(stack, list) and stack:
            entry = stack.pop()
            caller = self.runtime.get_node(entry.get("node", "")) if isinstance(entry, dict) else None
            if isinstance(caller, LinkCallNode):
                caller.return_message(entry.get("id", ""), msg)
            else:
                self.warn("Missing return node information")
        else:
            self.warn("Missing return node information")
        return None


class _PendingCall:
    __slots__ = ("msg", "timer")

    def __init__(self, msg: Message, timer: asyncio.TimerHandle) -> None:
        self.msg = msg
        self.timer = timer


@register
class LinkCallNode(Node):
    """Call a ``link in`` and send what a return-mode ``link out`` gives back."""

    type_name = "link call"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        links = config.get("links")
        self.static_target = links if isinstance(links, str) else (links[0] if links else None)
        self.dynamic = config.get("linkType") == "dynamic"
        try:
            self.timeout_s = float(config.get("timeout") or DEFAULT_CALL_TIMEOUT_S)
        except (TypeError, ValueError):
            self.timeout_s = DEFAULT_CALL_TIMEOUT_S
        self._calls: dict[str, _PendingCall] = {}

    def _find_target(self, msg: Message) -> LinkInNode:
        target = msg.get("target") if self.dynamic else self.static_target
        node = self.runtime.get_node(target) if isinstance(target, str) else None
        if isinstance(node, LinkInNode):
            return node
        if self.dynamic and isinstance(target, str) and target:
            node = self._find_by_name(target)
            if node is not None:
                return node
        shown = target if isinstance(target, str) else ""
        raise LookupError(f"target link-in node '{shown}' not found")

    def _find_by_name(self, name: str) -> LinkInNode | None:
        candidates = [
            n for n in self.runtime.nodes.values() if isinstance(n, LinkInNode) and (n.name or n.id) == name
        ]
        same_flow = [n for n in candidates if n.flow is self.flow]
        if len(same_flow) == 1:
            return same_flow[0]
        top_level = [n for n in candidates if n.flow.kind != "subflow"]
        if len(top_level) > 1:
            raise LookupError(f"Multiple link-in nodes named '{name}' found")
        return top_level[0] if top_level else None

    def on_input(self, msg: Message) -> Any:
        try:
            target = self._find_target(msg)
        except LookupError as exc:
            self.error(f"Error: {exc}", msg)
            return PENDING

        call_id = os.urandom(14).hex()
        timer = self.runtime.call_later(self.timeout_s, self._time_out, call_id)
        self._calls[call_id] = _PendingCall(clone_message(msg), timer)
        stack = msg.setdefault("_linkSource", [])
        if not isinstance(stack, list):
            stack = msg["_linkSource"] = []
        stack.append({"id": call_id, "node": self.id})
        target.receive(msg)
        return PENDING

    def return_message(self, call_id: str, msg: Message) -> None:
        """Send ``msg`` on as the result of call ``call_id`` (from a return-mode link out)."""
        if msg.get("_linkSource") == []:
            del msg["_linkSource"]
        call = self._calls.pop(call_id, None)
        if call is None:
            self.send(msg)
            return
        self.runtime.cancel_timer(call.timer)
        self.send(msg)
        self.done(msg)

    def _time_out(self, call_id: str) -> None:
        call = self._calls.pop(call_id, None)
        if call is not None:
            self.error("timeout", call.msg)

    async def close(self, removed: bool) -> None:
        for call in self._calls.values():
            self.runtime.cancel_timer(call.timer)
        self._calls.clear()
