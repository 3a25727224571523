"""The junction: a wire joint that passes each message on, one hop like any node."""

from __future__ import annotations

from runtime.message import Message
from runtime.node import Node
from runtime.registry import register


@register
class JunctionNode(Node):
    """Send every message straight on to the wired nodes."""

    type_name = "junction"

    def on_input(self, msg: Message) -> Message:
        return msg
