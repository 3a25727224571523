"""The handler API every node type implements.

A node type is a subclass of :class:`Node` with a ``type_name`` matching the
``type`` in the flow file. The engine builds one instance per node in the
flow, calls :meth:`Node.start` once all nodes of the flow exist, delivers
messages through :meth:`Node.receive`, and calls :meth:`Node.close` when the
flow stops.

Handlers are synchronous: :meth:`Node.on_input` returns what to send and the
engine sends it, then marks the message done (which feeds complete nodes). A
node that does I/O or waits returns :data:`PENDING` and later calls
:meth:`Node.send` and :meth:`Node.done` itself, usually from a task it
started. An exception raised by ``on_input`` is reported like
``node.error(err, msg)``: it reaches catch nodes or the log.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

from runtime import log as _log
from runtime.jsvalues import UNDEFINED, JSError, to_js_string
from runtime.message import Message, clone_message, generate_id

if TYPE_CHECKING:
    from runtime.context import NodeContext
    from runtime.engine import Runtime
    from runtime.flow import Flow


class _Pending:
    def __repr__(self) -> str:
        return "PENDING"


PENDING: Any = _Pending()
"""Returned by ``on_input`` when the node will call ``send``/``done`` later."""


class NodeError(Exception):
    """An error a node reports with a Node-RED ``code`` (``msg.error.code``)."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class Node:
    """One running node of a flow.

    Attributes set for every node:

    ``id``         the node's id (inside a subflow instance: ``<instance id>-<template id>``)
    ``type``       the flow-file type name
    ``name``       the node's name, ``""`` when unnamed
    ``alias``      the template node id when the node runs inside a subflow, else ``None``
    ``flow_id``    the id of the tab or subflow instance that contains the node
    ``group_id``   the id of the innermost group, or ``None``
    ``config``     the node's flow-file object after ``${VAR}`` substitution
    """

    type_name: ClassVar[str] = ""

    def __init__(self, config: dict[str, Any], flow: Flow) -> None:
        self.id: str = config["id"]
        self.type: str = config["type"]
        self.name: str = config.get("name") or ""
        self.alias: str | None = config.get("_alias")
        self.flow_id: str | None = config.get("z")
        self.group_id: str | None = config.get("g")
        self.config = config
        self.flow = flow
        self.runtime: Runtime = flow.runtime
        self.wires: list[list[str]] = [list(port) for port in config.get("wires") or []]
        self.logger: logging.Logger = _log.node_logger(self.type)

        # Resolved by the flow once every node exists: one tuple of receiver
        # nodes per output port, wires to missing or disabled nodes dropped.
        self.targets: list[tuple[Node, ...]] = []
        self._context: NodeContext | None = None
        self._deliver = self.runtime.router.deliver

    # -- lifecycle -------------------------------------------------------

    async def start(self) -> None:
        """Start timers or servers; called after every node of the flow is built."""

    async def close(self, removed: bool) -> None:
        """Release what the node holds; the engine waits for this with a deadline."""

    # -- input -----------------------------------------------------------

    def on_input(self, msg: Message) -> Any:
        """Handle one message and return what to send (see :meth:`send`)."""
        return None

    def receive(self, msg: Message) -> None:
        """Run the input handler for one message, as the router or an injection does."""
        try:
            result = self.on_input(msg)
        except Exception as exc:  # noqa: BLE001 - every handler failure becomes a node error
            self.error(exc, msg)
            return
        if result is PENDING:
            return
        if result is not None:
            self.send(result)
        if self.flow.has_complete_nodes:
            self.flow.handle_complete(self, msg)

    # -- output ----------------------------------------------------------

    def send(self, outputs: Any) -> None:
        """Send messages to the nodes wired to this node's outputs.

        ``outputs`` is one message (for port 0), or a list with one entry per
        port where each entry is a message, a list of messages, or ``None``.

        Invariant: the first delivery of a send gets the object itself, every
        other delivery a clone, and all clones are made before anything is
        delivered, so no receiver observes another receiver's changes.
        """
        if outputs is None:
            return
        targets = self.targets

        if type(outputs) is dict:
            if len(targets) == 1 and len(targets[0]) == 1:
                if "_msgid" not in outputs or not outputs["_msgid"]:
                    outputs["_msgid"] = generate_id()
                self._deliver(targets[0][0], outputs)
                return
            outputs = [outputs]
        elif type(outputs) is not list:
            self.error(_non_message_error(outputs))
            return

        events: list[tuple[Node, Message]] = []
        first_id = None
        missing_id = False
        for port, value in enumerate(outputs):
            if port >= len(targets) or value is None:
                continue
            port_targets = targets[port]
            messages = value if type(value) is list else (value,)
            for target in port_targets:
                for msg in messages:
                    if msg is None:
                        continue
                    if type(msg) is not dict:
                        self.error(_non_message_error(msg))
                        continue
                    msg_id = msg.get("_msgid")
                    if not msg_id:
                        missing_id = True
                    elif first_id is None:
                        first_id = msg_id
                    events.append((target, msg))
        if not events:
            return

        if missing_id:
            first_id = first_id or generate_id()
            for _, msg in events:
                if not msg.get("_msgid"):
                    msg["_msgid"] = first_id

        deliver = self._deliver
        target, msg = events[0]
        deliver(target, msg)
        for target, msg in events[1:]:
            deliver(target, clone_message(msg))

    def done(self, msg: Message, error: Any = None) -> None:
        """Mark ``msg`` handled: feed complete nodes, or report ``error`` to catch nodes."""
        if error is not None:
            self.error(error, msg)
        elif self.flow.has_complete_nodes:
            self.flow.handle_complete(self, msg)

    # -- reporting -------------------------------------------------------

    def error(self, error: Any, msg: Message | None = None) -> None:
        """Report an error: to catch nodes when ``msg`` is given, else to the log."""
        handled = False
        if isinstance(msg, dict):
            handled = self.flow.handle_error(self, error, msg)
        if not handled:
            self._log_entry("error", error)

    def warn(self, text: Any) -> None:
        """Log a warning for this node (what ``node.warn`` does in Node-RED)."""
        self._log_entry("warn", text)

    def log(self, text: Any) -> None:
        """Log an information line for this node (``node.log``)."""
        self._log_entry("info", text)

    def debug(self, text: Any) -> None:
        """Log a debug line for this node (``node.debug``)."""
        self._log_entry("debug", text)

    def trace(self, text: Any) -> None:
        """Log a trace line for this node (``node.trace``); kept at debug level."""
        self._log_entry("trace", text)

    def status(self, status: Any) -> None:
        """Set the node's status and feed it to status nodes."""
        if isinstance(status, (str, int, float)) and not isinstance(status, bool):
            status = {"text": to_js_string(status)}
        elif isinstance(status, bool):
            status = {"text": to_js_string(status)}
        elif not isinstance(status, dict):
            status = {}
        self.flow.handle_status(self, status)

    def source_name(self) -> Any:
        """Return the ``name`` shown in ``msg.error.source`` and status sources.

        Node-RED sets a node's name only when the flow gives one, so most types
        report undefined for an unnamed node. Types that copy the name
        themselves (function, delay, template) override this to report ``""``.
        """
        return self.name or UNDEFINED

    def context(self) -> NodeContext:
        """Return this node's context (with ``.flow`` and ``.global_`` scopes)."""
        if self._context is None:
            self._context = self.runtime.contexts.node_context(self)
        return self._context

    def get_setting(self, name: str) -> Any:
        """Look up an environment variable through the node's groups, its tab and the process."""
        return self.flow.get_setting(name, group_id=self.group_id, node=self)

    def log_extra(self, msg: Message | None = None) -> dict[str, Any]:
        """Return the ``extra`` mapping for a log line about this node."""
        msg_id = msg.get("_msgid") if isinstance(msg, dict) else None
        return _log.node_extra(self.flow_id, self.id, self.type, msg_id)

    def _log_entry(self, level: str, value: Any) -> None:
        self.runtime.emit_node_log(self, level, value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.type} {self.id}>"


def _non_message_error(value: Any) -> str:
    return f"Node tried to send a message of type {_js_type_name(value)}"


def _js_type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def error_text(error: Any) -> str:
    """Return the text Node-RED shows for an error value (``err.toString()``)."""
    if isinstance(error, JSError):
        return str(error)
    if isinstance(error, NodeError):
        return str(error)
    if isinstance(error, BaseException):
        name = "Error" if isinstance(error, Exception) else type(error).__name__
        text = str(error)
        return f"{name}: {text}" if text else name
    return to_js_string(error)


__all__ = ["Node", "NodeError", "PENDING", "clone_message", "error_text"]
