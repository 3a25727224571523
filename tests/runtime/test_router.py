"""Message delivery: breadth-first order, cloning on fan-out, idle detection, close deadline."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from runtime.message import Message
from runtime.node import Node
from runtime.settings import Settings
from tests.support.flows import node, received, running_flow, tab


class RecorderNode(Node):
    """Record arrival order in a shared list and pass the message on."""

    type_name = "recorder"
    order: list[str] = []

    def on_input(self, msg: Message) -> Message:
        RecorderNode.order.append(self.id)
        return msg


class MutatorNode(Node):
    type_name = "mutator"

    def on_input(self, msg: Message) -> Message:
        msg["payload"]["touched"] = self.id
        return msg


class SlowCloseNode(Node):
    type_name = "slow-close"

    async def close(self, removed: bool) -> None:
        await asyncio.sleep(10)


async def test_router_delivers_breadth_first(tmp_path: Path) -> None:
    RecorderNode.order = []
    flow = [
        tab(),
        node("src", "recorder", [["a1", "b1"]]),
        node("a1", "recorder", [["a2"]]),
        node("a2", "recorder", [["a3"]]),
        node("a3", "recorder"),
        node("b1", "recorder"),
    ]
    async with running_flow(flow, tmp_path, extra_types=(RecorderNode,)) as runtime:
        runtime.inject("src", {"payload": 1})
        await runtime.wait_idle()

    assert RecorderNode.order == ["src", "a1", "b1", "a2", "a3"]


async def test_router_gives_second_receiver_a_copy(tmp_path: Path) -> None:
    flow = [
        tab(),
        node("m1", "mutator", [["s1"]]),
        node("src", "junction", [["m1", "s2"]]),
        node("s1", "sink"),
        node("s2", "sink"),
    ]
    async with running_flow(flow, tmp_path, extra_types=(MutatorNode,)) as runtime:
        runtime.inject("src", {"payload": {"n": 1}})
        await runtime.wait_idle()

        assert received(runtime, "s1")[0]["payload"] == {"n": 1, "touched": "m1"}
        assert received(runtime, "s2")[0]["payload"] == {"n": 1}
        assert received(runtime, "s1")[0]["_msgid"] == received(runtime, "s2")[0]["_msgid"]


async def test_router_keeps_event_loop_responsive_under_load(tmp_path: Path) -> None:
    flow = [tab(), node("loop", "junction", [["loop"]])]
    async with running_flow(flow, tmp_path) as runtime:
        runtime.inject("loop", {"payload": 1})
        started = asyncio.get_running_loop().time()
        await asyncio.sleep(0.05)
        late_by_s = asyncio.get_running_loop().time() - started - 0.05
        runtime.router.stopped = True

    # A wire loop keeps the queue busy forever; timers must still fire within
    # a drain slice or two, not wait for the queue to empty.
    assert late_by_s < 0.1


async def test_engine_logs_node_that_misses_close_deadline(tmp_path: Path) -> None:
    logs: list[dict[str, Any]] = []
    settings = Settings(data_dir=tmp_path, node_close_timeout_s=0.05)
    async with running_flow([tab(), node("slow", "slow-close")], tmp_path, settings=settings,
                            extra_types=(SlowCloseNode,), logs=logs):
        pass

    assert [(e["id"], e["msg"]) for e in logs] == [("slow", "Error stopping node: Close timed out after 0.05 s")]
