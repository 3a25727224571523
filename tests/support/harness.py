"""Run a small flow in a fresh runtime and record what reaches sink nodes.

Usage::

    async with FlowHarness(tmp_path, [tab, delay_node, sink("out")]) as flow:
        flow.inject("d1", {"payload": 1})
        await flow.runtime.wait_idle()
    assert flow.received("out") == [...]
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import TracebackType
from typing import Any

from runtime.engine import Runtime
from runtime.graph import build_flow_set
from runtime.message import Message
from runtime.node import Node
from runtime.registry import NodeRegistry, default_registry
from runtime.settings import Settings

TAB_ID = "tab1"


class SinkNode(Node):
    """A test node that keeps every message it receives, in order, with the loop time of arrival."""

    type_name = "test-sink"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.messages: list[Message] = []
        self.times: list[float] = []

    def on_input(self, msg: Message) -> None:
        self.messages.append(msg)
        self.times.append(asyncio.get_running_loop().time())
        return None


def tab(tab_id: str = TAB_ID) -> dict[str, Any]:
    """Return a tab object for a flow list."""
    return {"id": tab_id, "type": "tab", "label": tab_id}


def node(node_id: str, node_type: str, wires: list[list[str]] | None = None, **props: Any) -> dict[str, Any]:
    """Return a flow node object on the test tab (with ``x``/``y``, so it is not a config node)."""
    return {"id": node_id, "type": node_type, "z": TAB_ID, "x": 100, "y": 100, "wires": wires or [], **props}


def sink(node_id: str) -> dict[str, Any]:
    """Return a sink node object; read what it got with :meth:`FlowHarness.received`."""
    return node(node_id, SinkNode.type_name)


def registry_with_sink() -> NodeRegistry:
    """Return the built-in node types plus the sink."""
    builtin = default_registry()
    registry = NodeRegistry({name: builtin.get(name) for name in builtin.types()})  # type: ignore[misc]
    registry.add(SinkNode)
    return registry


class FlowHarness:
    """A started runtime running ``flow``; stopped when the ``async with`` block ends."""

    def __init__(self, data_dir: Path, flow: list[dict[str, Any]], *, settings: Settings | None = None) -> None:
        self.settings = settings or Settings(data_dir=data_dir)
        self.runtime = Runtime(self.settings, registry=registry_with_sink())
        self.flow = flow
        self.logs: list[dict[str, Any]] = []
        self.statuses: list[tuple[str, dict[str, Any]]] = []
        self._sinks: dict[str, SinkNode] = {}

    async def __aenter__(self) -> FlowHarness:
        self.runtime.log_listeners.append(self.logs.append)
        self.runtime.status_listeners.append(lambda node, status: self.statuses.append((node.id, status)))
        self.runtime.load(build_flow_set(self.flow))
        await self.runtime.start()
        # Kept here so a test can read them after the runtime has stopped.
        self._sinks = {n.id: n for n in self.runtime.nodes.values() if isinstance(n, SinkNode)}
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.runtime.stop()

    def inject(self, node_id: str, msg: Message) -> None:
        """Hand ``msg`` to a node's input, as the editor's inject or a test injection does."""
        self.runtime.inject(node_id, msg)

    def received(self, sink_id: str) -> list[Message]:
        """Return the messages a sink node has received so far."""
        return self._sink(sink_id).messages

    def arrival_times(self, sink_id: str, *, since: float = 0.0) -> list[float]:
        """Return the loop times at which a sink node received its messages, minus ``since``."""
        return [round(t - since, 6) for t in self._sink(sink_id).times]

    def payloads(self, sink_id: str) -> list[Any]:
        """Return the payloads a sink node has received so far."""
        return [msg.get("payload") for msg in self.received(sink_id)]

    def _sink(self, sink_id: str) -> SinkNode:
        if sink_id not in self._sinks:
            raise KeyError(f"no sink node with id {sink_id!r} in this flow")
        return self._sinks[sink_id]
