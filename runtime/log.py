"""Every logger Outwire writes to, declared in one place.

Runtime lines carry ``flow_id``, ``node_id`` and ``node_type`` (plus ``msg_id``
when a message is involved) in ``extra``, so a structured handler can index
them; the plain-text format below prints them in brackets.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

runtime_log = logging.getLogger("outwire.runtime")
delivery_log = logging.getLogger("outwire.delivery")
editor_log = logging.getLogger("outwire.editor")
store_log = logging.getLogger("outwire.store")
campaign_log = logging.getLogger("outwire.campaign")


def node_logger(node_type: str) -> logging.Logger:
    """Return the logger for one node type, ``outwire.node.<type>``."""
    return logging.getLogger("outwire.node." + node_type)


def node_extra(flow_id: str | None, node_id: str, node_type: str, msg_id: Any = None) -> dict[str, Any]:
    """Build the ``extra`` mapping that ties a log line to a node."""
    extra: dict[str, Any] = {"flow_id": flow_id, "node_id": node_id, "node_type": node_type}
    if msg_id is not None:
        extra["msg_id"] = msg_id
    return extra


class _NodeContextFormatter(logging.Formatter):
    """Append ``[flow=… node=… type=…]`` to records that carry node ids."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        node_id = getattr(record, "node_id", None)
        if node_id is None:
            return text
        tags = "flow=%s node=%s type=%s" % (
            getattr(record, "flow_id", None),
            node_id,
            getattr(record, "node_type", None),
        )
        msg_id = getattr(record, "msg_id", None)
        if msg_id is not None:
            tags += " msg=%s" % msg_id
        return "%s [%s]" % (text, tags)


def configure_logging(level: str = "INFO") -> None:
    """Send Outwire's log lines to standard error at ``level`` (a logging level name)."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(
            f"invalid log level {level!r}; use one of DEBUG, INFO, WARNING, ERROR"
        )

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _NodeContextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root = logging.getLogger("outwire")
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    root.propagate = False
