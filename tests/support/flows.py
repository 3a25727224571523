"""Run a flow inside a test: build a runtime, inject messages, collect what sink nodes receive."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from runtime.engine import Runtime
from runtime.flowfile import validate_flow_objects
from runtime.graph import build_flow_set
from runtime.message import Message
from runtime.node import Node
from runtime.registry import NodeRegistry, default_registry
from runtime.settings import Settings


class SinkNode(Node):
    """A test node of type ``sink`` that records every message it receives."""

    type_name = "sink"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.received: list[Message] = []

    def on_input(self, msg: Message) -> None:
        self.received.append(msg)
        return None


def test_registry(*extra: type[Node]) -> NodeRegistry:
    """Return a registry of every built-in type plus ``sink`` and ``extra``."""
    base = default_registry()
    registry = NodeRegistry({name: base.get(name) for name in base.types()})  # type: ignore[misc]
    registry.add(SinkNode)
    for node_class in extra:
        registry.add(node_class)
    return registry


def tab(tab_id: str = "t1", **extra: Any) -> dict[str, Any]:
    return {"id": tab_id, "type": "tab", "label": f"Flow {tab_id}", **extra}


def node(node_id: str, node_type: str, wires: list[list[str]] | None = None, *, z: str = "t1", **props: Any) -> dict[str, Any]:
    """Build a flow node object as the editor exports it (with x and y)."""
    return {"id": node_id, "type": node_type, "z": z, "x": 100, "y": 100, "wires": wires or [], **props}


@asynccontextmanager
async def running_flow(
    flow: list[dict[str, Any]],
    tmp_path: Path,
    *,
    settings: Settings | None = None,
    extra_types: tuple[type[Node], ...] = (),
    logs: list[dict[str, Any]] | None = None,
) -> AsyncIterator[Runtime]:
    """Start ``flow`` in a fresh runtime and stop it when the block ends.

    When ``logs`` is given, every node log entry (from build to stop) is
    appended to it.
    """
    settings = settings or Settings(data_dir=tmp_path, context_flush_interval_s=0)
    runtime = Runtime(settings, registry=test_registry(*extra_types))
    if logs is not None:
        runtime.log_listeners.append(logs.append)
    validate_flow_objects(flow, source="test flow")
    runtime.load(build_flow_set(flow))
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


def received(runtime: Runtime, sink_id: str) -> list[Message]:
    """Return what the sink node ``sink_id`` has received so far."""
    sink = runtime.get_node(sink_id)
    if not isinstance(sink, SinkNode):
        raise KeyError(f"{sink_id!r} is not a sink node in this flow")
    return sink.received
