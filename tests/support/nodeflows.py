"""Flows for node tests: the node under test wired to sink ``out``, and a catch node wired to sink ``caught``."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.harness import TAB_ID, FlowHarness, sink


def flow_of(*nodes: dict[str, Any], catch: bool = True) -> list[dict[str, Any]]:
    """Return a flow list: one tab, ``nodes`` (wired to ``out`` unless they set ``wires``) and the sinks."""
    flow: list[dict[str, Any]] = [{"id": TAB_ID, "type": "tab", "label": TAB_ID}]
    for node in nodes:
        flow.append({"z": TAB_ID, "x": 100, "y": 100, "wires": [["out"]], **node})
    flow.append(sink("out"))
    if catch:
        flow.append(sink("caught"))
        flow.append({"id": "catch", "type": "catch", "z": TAB_ID, "x": 100, "y": 200, "scope": None, "wires": [["caught"]]})
    return flow


async def settle(harness: FlowHarness) -> None:
    """Let queued deliveries run, without waiting for timers."""
    for _ in range(5):
        await asyncio.sleep(0)
    await harness.runtime.router.wait_idle()


def log_texts(harness: FlowHarness, level: str) -> list[Any]:
    """Return what the flow's nodes logged at ``level`` (error, warn, info)."""
    return [entry["msg"] for entry in harness.logs if entry["level"] == level]
