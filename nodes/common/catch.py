"""The catch node: receive messages that failed in other nodes of its tab, with ``msg.error``."""

from __future__ import annotations

from runtime.message import Message
from runtime.node import Node
from runtime.registry import register


@register
class CatchNode(Node):
    """Pass on the error messages the flow routes to it.

    ``scope`` is null (all nodes on the tab), ``"group"`` (nodes in the same
    group), or a list of node ids; ``uncaught`` limits it to errors that no
    other catch node handled. The flow applies those rules.
    """

    type_name = "catch"

    def on_input(self, msg: Message) -> Message:
        return msg
