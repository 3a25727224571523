"""Batch node behaviour on a virtual clock: intervals, empty sequences, reset and stop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from runtime.settings import Settings
from tests.support.harness import FlowHarness
from tests.support.nodeflows import flow_of, log_texts, settle


def batch_node(**options: Any) -> dict[str, Any]:
    node = {"id": "b", "type": "batch", "mode": "interval", "count": 3, "overlap": 0, "interval": 1,
            "allowEmptySequence": False, "topics": []}
    node.update(options)
    return node


@pytest.mark.looptime
async def test_batch_interval_groups_messages_per_interval(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    async with FlowHarness(tmp_path, flow_of(batch_node())) as run:
        start = loop.time()
        run.inject("b", {"payload": 1})
        run.inject("b", {"payload": 2})
        await asyncio.sleep(1.5)
        run.inject("b", {"payload": 3})
        await asyncio.sleep(1.0)

        received = run.received("out")
        assert [m["payload"] for m in received] == [1, 2, 3]
        assert [m["parts"]["count"] for m in received] == [2, 2, 1]
        assert received[0]["parts"]["id"] == received[0]["_msgid"]
        times = [t - start for t in run.arrival_times("out")]
        assert times == pytest.approx([1.0, 1.0, 2.0], abs=0.01)


@pytest.mark.looptime
async def test_batch_interval_sends_empty_sequence_when_allowed(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(batch_node(allowEmptySequence=True))) as run:
        await asyncio.sleep(2.5)
        received = run.received("out")
        assert [m["payload"] for m in received] == [None, None]
        assert all(m["parts"]["index"] == 0 and m["parts"]["count"] == 1 for m in received)
        assert received[0]["parts"]["id"] != received[1]["parts"]["id"]


@pytest.mark.looptime
async def test_batch_interval_reset_drops_messages_and_restarts_timer(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    async with FlowHarness(tmp_path, flow_of(batch_node())) as run:
        start = loop.time()
        run.inject("b", {"payload": 1})
        await asyncio.sleep(0.6)
        run.inject("b", {"reset": True})
        run.inject("b", {"payload": 2})
        await asyncio.sleep(0.9)
        assert run.received("out") == []

        await asyncio.sleep(0.2)
        assert [m["payload"] for m in run.received("out")] == [2]
        assert run.arrival_times("out")[0] - start == pytest.approx(1.6, abs=0.01)


@pytest.mark.looptime
async def test_batch_close_cancels_interval_timer(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(batch_node())) as run:
        run.inject("b", {"payload": 1})
        await settle(run)
        node = run.runtime.get_node("b")
        assert node is not None
        await node.close(False)
        assert not run.runtime.busy
        await asyncio.sleep(5)
        assert run.received("out") == []


async def test_batch_count_rejects_too_many_pending_messages(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, node_message_buffer_max_length=2)
    async with FlowHarness(tmp_path, flow_of(batch_node(mode="count", count=10)), settings=settings) as run:
        for value in range(3):
            run.inject("b", {"payload": value})
        await settle(run)
        caught = run.received("caught")
        assert [m["payload"] for m in caught] == [2]
        assert caught[0]["error"]["message"] == "too many pending messages in batch node"


async def test_batch_rejects_overlap_not_below_count(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(batch_node(mode="count", count=2, overlap=2))) as run:
        run.inject("b", {"payload": 1})
        await settle(run)
        assert run.received("out") == []
        assert log_texts(run, "error") == ["Invalid count and overlap"]
