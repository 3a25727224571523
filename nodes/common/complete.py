"""The complete node: receive a copy of each message that the watched nodes finished handling."""

from __future__ import annotations

from runtime.message import Message
from runtime.node import Node
from runtime.registry import register


@register
class CompleteNode(Node):
    """Pass on what the flow routes to it: messages carrying ``msg.complete.source``.

    The flow indexes this node by its ``scope`` (the ids it watches) and calls
    it when one of them marks a message done.
    """

    type_name = "complete"

    def on_input(self, msg: Message) -> Message:
        return msg
