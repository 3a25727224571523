"""The delay node beyond the conformance corpus, on looptime's virtual clock."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import FlowHarness, node, sink, tab

pytestmark = pytest.mark.looptime


def delay_node(wires: list[list[str]] | None = None, **props: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "pauseType": "delay",
        "timeout": "5",
        "timeoutUnits": "seconds",
        "rate": "1",
        "nbRateUnits": "1",
        "rateUnits": "second",
        "randomFirst": "1",
        "randomLast": "5",
        "randomUnits": "seconds",
        "drop": False,
        "allowrate": False,
        "outputs": 1,
    }
    config.update(props)
    return node("d1", "delay", wires or [["out"]], **config)


def now() -> float:
    return asyncio.get_running_loop().time()


async def test_delay_holds_message_for_minutes(tmp_path: Path) -> None:
    flow = [tab(), delay_node(timeout="2", timeoutUnits="minutes"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        harness.inject("d1", {"payload": "later"})
        await asyncio.sleep(119.9)
        assert harness.payloads("out") == []

        await asyncio.sleep(0.2)
        assert harness.payloads("out") == ["later"]

    held_counts = [status.get("text") for node_id, status in harness.statuses if node_id == "d1"]
    assert held_counts[:2] == [1, 0]


async def test_status_source_keeps_empty_name(tmp_path: Path) -> None:
    status_node = node("st", "status", [["statuses"]], scope=["d1"])
    flow = [tab(), delay_node(timeout="2", name=""), sink("out"), status_node, sink("statuses")]
    async with FlowHarness(tmp_path, flow) as harness:
        harness.inject("d1", {"payload": 1})
        await asyncio.sleep(0.1)

        assert harness.received("statuses")[0]["status"]["source"] == {"id": "d1", "type": "delay", "name": ""}


async def test_delay_flush_count_releases_oldest_first(tmp_path: Path) -> None:
    flow = [tab(), delay_node(timeout="10"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        start = now()
        for payload in ("a", "b", "c"):
            harness.inject("d1", {"payload": payload})
        harness.inject("d1", {"flush": 2})
        await asyncio.sleep(0.01)
        assert harness.payloads("out") == ["a", "b"]

        await asyncio.sleep(10)
        assert harness.payloads("out") == ["a", "b", "c"]
        assert harness.arrival_times("out", since=start)[2] == pytest.approx(10, abs=0.01)


async def test_delayv_reads_numeric_prefix_and_clamps(tmp_path: Path) -> None:
    flow = [tab(), delay_node(pauseType="delayv", timeout="1"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        start = now()
        harness.inject("d1", {"payload": "prefix", "delay": "150ms"})
        harness.inject("d1", {"payload": "negative", "delay": -5})
        harness.inject("d1", {"payload": "default", "delay": "soon"})
        await asyncio.sleep(2)

    assert harness.payloads("out") == ["negative", "prefix", "default"]
    assert harness.arrival_times("out", since=start) == pytest.approx([0, 0.15, 1], abs=0.01)


async def test_random_delay_stays_in_range(tmp_path: Path) -> None:
    flow = [tab(), delay_node(pauseType="random", randomFirst="1", randomLast="2"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        start = now()
        for index in range(20):
            harness.inject("d1", {"payload": index})
        await asyncio.sleep(3)

    times = harness.arrival_times("out", since=start)
    assert len(times) == 20
    assert min(times) >= 1
    assert max(times) <= 2.01


async def test_reset_drops_held_messages_without_sending(tmp_path: Path) -> None:
    flow = [tab(), delay_node(timeout="1"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        harness.inject("d1", {"payload": 1})
        harness.inject("d1", {"reset": True})
        await asyncio.sleep(2)

    assert harness.payloads("out") == []


async def test_rate_limit_queue_keeps_absolute_schedule(tmp_path: Path) -> None:
    flow = [tab(), delay_node(pauseType="rate", rate="5"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        start = now()
        for index in range(10):
            harness.inject("d1", {"payload": index})
        await asyncio.sleep(2.5)

    assert harness.payloads("out") == list(range(10))
    assert harness.arrival_times("out", since=start) == pytest.approx([0.2 * i for i in range(10)], abs=0.005)


async def test_rate_limit_sends_at_once_when_idle(tmp_path: Path) -> None:
    flow = [tab(), delay_node(pauseType="rate", rate="2"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        start = now()
        harness.inject("d1", {"payload": "first"})
        await asyncio.sleep(3)
        harness.inject("d1", {"payload": "after idle"})
        await asyncio.sleep(0.1)

    assert harness.arrival_times("out", since=start) == pytest.approx([0, 3], abs=0.01)


async def test_rate_limit_to_front_skips_queue(tmp_path: Path) -> None:
    flow = [tab(), delay_node(pauseType="rate", rate="10"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        harness.inject("d1", {"payload": "now"})
        harness.inject("d1", {"payload": "queued"})
        harness.inject("d1", {"payload": "urgent", "toFront": True})
        await asyncio.sleep(1)

    assert harness.payloads("out") == ["now", "urgent", "queued"]


async def test_rate_limit_reset_empties_queue(tmp_path: Path) -> None:
    flow = [tab(), delay_node(pauseType="rate", rate="1"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        harness.inject("d1", {"payload": 1})
        harness.inject("d1", {"payload": 2})
        harness.inject("d1", {"payload": 3})
        harness.inject("d1", {"reset": True})
        await asyncio.sleep(5)

    assert harness.payloads("out") == [1]
    assert ("d1", {"fill": "blue", "shape": "ring", "text": 0}) in harness.statuses


async def test_rate_limit_flush_sends_queue_now(tmp_path: Path) -> None:
    flow = [tab(), delay_node(pauseType="rate", rate="1", rateUnits="minute"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        for index in range(4):
            harness.inject("d1", {"payload": index})
        harness.inject("d1", {"flush": True})
        await asyncio.sleep(0.01)

        assert harness.payloads("out") == [0, 1, 2, 3]
        assert "flush" not in harness.received("out")[1]


async def test_topic_queue_sends_replaced_to_second_output(tmp_path: Path) -> None:
    flow = [tab(), delay_node(pauseType="queue", rate="1", outputs=2, wires=[["out"], ["dropped"]]), sink("out"), sink("dropped")]
    async with FlowHarness(tmp_path, flow) as harness:
        harness.inject("d1", {"payload": "old", "topic": "t"})
        harness.inject("d1", {"payload": "new", "topic": "t"})
        await asyncio.sleep(1.5)

        assert harness.payloads("out") == ["new"]
        assert harness.payloads("dropped") == ["old"]


async def test_timed_mode_sends_every_topic_each_interval(tmp_path: Path) -> None:
    flow = [tab(), delay_node(pauseType="timed", rate="1"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        start = now()
        harness.inject("d1", {"payload": 1, "topic": "a"})
        harness.inject("d1", {"payload": 2, "topic": "b"})
        harness.inject("d1", {"payload": 3, "topic": "a"})
        await asyncio.sleep(1.5)

        assert harness.payloads("out") == [3, 2]
        assert harness.arrival_times("out", since=start) == pytest.approx([1, 1], abs=0.01)


async def test_stop_drops_held_and_cancels_timers(tmp_path: Path) -> None:
    flow = [tab(), delay_node(timeout="1"), sink("out")]
    harness = FlowHarness(tmp_path, flow)
    async with harness:
        harness.inject("d1", {"payload": "held"})
        await asyncio.sleep(0.5)

    await asyncio.sleep(2)
    assert harness.payloads("out") == []
    assert not harness.runtime.busy


async def test_invalid_rate_is_reported_at_deploy(tmp_path: Path) -> None:
    flow = [tab(), delay_node(pauseType="rate", rate="fast"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        assert harness.runtime.get_node("d1") is None

    assert len(harness.logs) == 1
    assert harness.logs[0]["level"] == "error"
    assert str(harness.logs[0]["msg"]) == "Invalid rate value: rate 'fast'; use a number above 0"
