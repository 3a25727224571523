"""Run a small flow in a test: build a runtime, inject messages, collect what sink nodes receive."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from runtime.engine import Runtime
from runtime.graph import build_flow_set
from runtime.message import Message
from runtime.node import Node
from runtime.registry import NodeRegistry, default_registry
from runtime.settings import Settings

TAB_ID = "t1"


class SinkNode(Node):
    """A test node that records every message it receives and the loop time of arrival."""

    type_name = "test-sink"

    def on_input(self, msg: Message) -> None:
        self.flow.runtime.services.setdefault("sink", []).append((self.id, asyncio.get_running_loop().time(), msg))
        return None


def flow_of(*nodes: dict[str, Any], sinks: tuple[str, ...] = ("out",), catch: bool = True) -> list[dict[str, Any]]:
    """Return a flow list: one tab, ``nodes``, sink nodes and (by default) a catch node wired to sink ``caught``."""
    flow: list[dict[str, Any]] = [{"id": TAB_ID, "type": "tab", "label": "test"}]
    for node in nodes:
        flow.append({"z": TAB_ID, "wires": [["out"]], **node})
    names = list(sinks) + (["caught"] if catch else [])
    for sink in names:
        flow.append({"id": sink, "type": "test-sink", "z": TAB_ID, "wires": []})
    if catch:
        flow.append({"id": "catch", "type": "catch", "z": TAB_ID, "scope": None, "wires": [["caught"]]})
    return flow


class FlowRun:
    """A started runtime plus what its sinks received and what its nodes logged."""

    def __init__(self, flow: list[dict[str, Any]], data_dir: Path, settings: dict[str, Any] | None = None) -> None:
        registry = NodeRegistry({name: default_registry().get(name) for name in default_registry().types()})  # type: ignore[misc]
        registry.add(SinkNode)
        self.runtime = Runtime(Settings(data_dir=data_dir, **(settings or {})), registry=registry)
        self.runtime.load(build_flow_set(flow))
        self.logs: list[dict[str, Any]] = []
        self.runtime.log_listeners.append(self.logs.append)

    async def __aenter__(self) -> FlowRun:
        await self.runtime.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self.runtime.started:
            await self.runtime.stop()

    def inject(self, node_id: str, msg: Message) -> None:
        self.runtime.inject(node_id, msg)

    def received(self, sink: str = "out") -> list[Message]:
        return [msg for sink_id, _, msg in self.runtime.services.get("sink", []) if sink_id == sink]

    def arrival_times(self, sink: str = "out") -> list[float]:
        return [when for sink_id, when, _ in self.runtime.services.get("sink", []) if sink_id == sink]

    def log_texts(self, level: str) -> list[Any]:
        return [entry["msg"] for entry in self.logs if entry["level"] == level]

    async def settle(self) -> None:
        """Let queued deliveries run (timers are not waited for)."""
        for _ in range(5):
            await asyncio.sleep(0)
        await self.runtime.router.wait_idle()
