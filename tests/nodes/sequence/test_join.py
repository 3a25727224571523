"""Join node behaviour beyond the recordings: timers on a virtual clock, limits, stopping."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from runtime.settings import Settings
from tests.support.harness import FlowHarness
from tests.support.nodeflows import flow_of, log_texts, settle


def join_node(**options: Any) -> dict[str, Any]:
    node = {"id": "j", "type": "join", "mode": "custom", "build": "array", "property": "payload", "propertyType": "msg",
            "key": "topic", "joiner": "\\n", "joinerType": "str", "useparts": False, "accumulate": False,
            "timeout": "", "count": ""}
    node.update(options)
    return node


@pytest.mark.looptime
async def test_join_timeout_sends_partial_group_after_timeout(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    async with FlowHarness(tmp_path, flow_of(join_node(timeout="2", count="5"))) as run:
        start = loop.time()
        run.inject("j", {"payload": 1})
        await asyncio.sleep(1.5)
        run.inject("j", {"payload": 2})
        await asyncio.sleep(0.4)
        assert run.received("out") == []

        await asyncio.sleep(0.2)
        assert [m["payload"] for m in run.received("out")] == [[1, 2]]
        assert run.arrival_times("out")[0] - start == pytest.approx(2.0, abs=0.01)


@pytest.mark.looptime
async def test_join_restart_timeout_extends_group(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    async with FlowHarness(tmp_path, flow_of(join_node(timeout="1", count="5"))) as run:
        start = loop.time()
        run.inject("j", {"payload": 1})
        await asyncio.sleep(0.8)
        run.inject("j", {"payload": 2, "restartTimeout": True})
        await asyncio.sleep(0.5)
        assert run.received("out") == []

        await asyncio.sleep(0.6)
        assert [m["payload"] for m in run.received("out")] == [[1, 2]]
        assert run.arrival_times("out")[0] - start == pytest.approx(1.8, abs=0.01)


@pytest.mark.looptime
async def test_join_close_cancels_timer_and_drops_group(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(join_node(timeout="5", count="5"))) as run:
        run.inject("j", {"payload": 1})
        await settle(run)
        assert run.runtime.busy

        node = run.runtime.get_node("j")
        assert node is not None
        await node.close(False)
        assert not run.runtime.busy
        await asyncio.sleep(10)
        assert run.received("out") == []


@pytest.mark.looptime
async def test_join_reset_drops_group_and_its_timer(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(join_node(timeout="1", count="3"))) as run:
        run.inject("j", {"payload": 1})
        run.inject("j", {"reset": True})
        await settle(run)
        assert not run.runtime.busy

        await asyncio.sleep(2)
        run.inject("j", {"payload": 2})
        run.inject("j", {"payload": 3})
        run.inject("j", {"payload": 4})
        await settle(run)
        assert [m["payload"] for m in run.received("out")] == [[2, 3, 4]]


async def test_join_auto_mode_warns_without_parts(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(join_node(mode="auto"))) as run:
        run.inject("j", {"payload": "x"})
        await settle(run)
        assert run.received("out") == []
        assert log_texts(run, "warn") == ["Message missing msg.parts property - cannot join in 'auto' mode"]


async def test_join_reduce_rejects_too_many_pending_messages(tmp_path: Path) -> None:
    node = join_node(mode="reduce", reduceExp="$A + payload", reduceInit="0", reduceInitType="num")
    settings = Settings(data_dir=tmp_path, node_message_buffer_max_length=2)
    async with FlowHarness(tmp_path, flow_of(node), settings=settings) as run:
        for index in range(3):
            run.inject("j", {"payload": index, "parts": {"id": "seq", "index": index, "count": 10}})
        await settle(run)
        caught = run.received("caught")
        assert [m["payload"] for m in caught] == [2]
        assert caught[0]["error"]["message"] == "too many pending messages in join node"


async def test_join_buffer_rejects_object_part(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(join_node(build="buffer", count="2", joiner=""))) as run:
        run.inject("j", {"payload": {"not": "bytes"}})
        await settle(run)
        assert run.received("caught")[0]["error"]["message"] == "Cannot join object to buffer"


async def test_join_string_without_separator_reports_type_error(tmp_path: Path) -> None:
    parts = {"id": "s", "index": 0, "count": 1, "type": "string"}
    async with FlowHarness(tmp_path, flow_of(join_node(mode="auto"))) as run:
        run.inject("j", {"payload": "a", "parts": parts})
        await settle(run)
        error = run.received("caught")[0]["error"]["message"]
        assert error == "TypeError: Cannot read properties of undefined (reading 'toString')"
