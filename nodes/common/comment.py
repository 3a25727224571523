"""The comment node: documentation on the canvas; it has no input or output."""

from __future__ import annotations

from runtime.node import Node
from runtime.registry import register


@register
class CommentNode(Node):
    """Do nothing: a comment only carries text for the flow's readers."""

    type_name = "comment"
