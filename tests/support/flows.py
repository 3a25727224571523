"""Run a flow inside a test: build a runtime, inject messages, collect what sink nodes receive."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
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


@dataclass
class FlowRun:
    """A started flow for tests that inject in steps; stop it with :meth:`stop`.

    The sink nodes are kept here, so what they received can be read after the
    runtime has stopped and forgotten its nodes.
    """

    runtime: Runtime
    logs: list[dict[str, Any]] = field(default_factory=list)
    sinks: dict[str, SinkNode] = field(default_factory=dict)

    def received(self, sink_id: str) -> list[Message]:
        """Return what sink ``sink_id`` received, in order."""
        if sink_id not in self.sinks:
            raise KeyError(f"{sink_id!r} is not a sink node in this flow; add it with sink({sink_id!r})")
        return list(self.sinks[sink_id].received)

    def log_messages(self, level: str) -> list[Any]:
        """Return the logged values at ``level`` (error, warn, info), in order."""
        return [entry["msg"] for entry in self.logs if entry["level"] == level]

    async def inject(self, node_id: str, *messages: Message) -> None:
        """Hand each message to ``node_id``'s input, then wait until the flow is idle."""
        for msg in messages:
            self.runtime.inject(node_id, msg)
        await self.runtime.wait_idle()

    async def stop(self) -> None:
        await self.runtime.stop()


def sink(sink_id: str) -> dict[str, Any]:
    """Return a sink node on tab ``t1``."""
    return node(sink_id, SinkNode.type_name)


def catch_to(sink_id: str) -> list[dict[str, Any]]:
    """Return a catch node for all of tab ``t1`` wired to a new sink ``sink_id``."""
    return [node("catch", "catch", [[sink_id]], scope=None, uncaught=False), sink(sink_id)]


async def start_flow(tmp_path: Path, nodes: list[dict[str, Any]], *, global_context: dict[str, Any] | None = None) -> FlowRun:
    """Start ``nodes`` on tab ``t1`` (``z`` defaults to it) and return the running flow."""
    settings = Settings(data_dir=tmp_path, context_flush_interval_s=0, function_global_context=global_context or {})
    runtime = Runtime(settings, registry=test_registry())
    run = FlowRun(runtime)
    runtime.log_listeners.append(run.logs.append)
    flow = [tab(), *({"z": "t1", **item} for item in nodes)]
    validate_flow_objects(flow, source="test flow")
    runtime.load(build_flow_set(flow))
    await runtime.start()
    run.sinks = {item.id: item for item in runtime.nodes.values() if isinstance(item, SinkNode)}
    return run
