"""Sort node behaviour beyond the recordings: limits, stopping, JavaScript ordering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runtime.settings import Settings
from tests.support.harness import FlowHarness
from tests.support.nodeflows import flow_of, log_texts, settle


def sort_node(**options: Any) -> dict[str, Any]:
    node = {"id": "o", "type": "sort", "order": "ascending", "as_num": False, "target": "", "targetType": "seq",
            "msgKey": "payload", "msgKeyType": "elem", "seqKey": "payload", "seqKeyType": "msg"}
    node.update(options)
    return node


def part(value: Any, index: int, count: int = 3, sequence: str = "q") -> dict[str, Any]:
    return {"payload": value, "parts": {"id": sequence, "index": index, "count": count}}


async def test_sort_sequence_waits_for_every_part(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(sort_node())) as run:
        run.inject("o", part("b", 0))
        run.inject("o", part("c", 1))
        await settle(run)
        assert run.received("out") == []

        run.inject("o", part("a", 2))
        await settle(run)
        received = run.received("out")
        assert [m["payload"] for m in received] == ["a", "b", "c"]
        assert [m["parts"]["index"] for m in received] == [0, 1, 2]


async def test_sort_drops_oldest_sequence_past_limit(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, node_message_buffer_max_length=2)
    async with FlowHarness(tmp_path, flow_of(sort_node()), settings=settings) as run:
        run.inject("o", part(1, 0, sequence="old"))
        run.inject("o", part(2, 1, sequence="old"))
        run.inject("o", part(3, 0, sequence="new"))
        await settle(run)
        caught = run.received("caught")
        assert [m["payload"] for m in caught] == [2]
        assert caught[0]["error"]["message"] == "Too many pending messages in sort node"


async def test_sort_close_logs_dropped_sequence(tmp_path: Path) -> None:
    run = FlowHarness(tmp_path, flow_of(sort_node()))
    async with run:
        run.inject("o", part(1, 0))
        await settle(run)
    assert log_texts(run, "info") == ["clear pending message in sort node"]
    assert run.received("out") == []


async def test_sort_array_orders_strings_by_code_unit(tmp_path: Path) -> None:
    node = sort_node(targetType="msg", target="payload")
    async with FlowHarness(tmp_path, flow_of(node)) as run:
        run.inject("o", {"payload": ["\U0001f600", "\uff5e", "b", "B"]})
        await settle(run)
        # UTF-16 puts the surrogate pair (0xD83D...) before U+FF5E.
        assert run.received("out")[0]["payload"] == ["B", "b", "\U0001f600", "\uff5e"]
