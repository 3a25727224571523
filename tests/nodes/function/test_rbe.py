"""The filter (rbe) node beyond the conformance corpus."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from nodes.function.rbe import compare_objects
from tests.support.harness import FlowHarness, node, sink, tab


def rbe_node(**props: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "func": "rbe",
        "gap": "",
        "start": "",
        "inout": "out",
        "septopics": True,
        "property": "payload",
        "topi": "topic",
    }
    config.update(props)
    return node("rb", "rbe", [["out"]], **config)


async def run_values(tmp_path: Path, messages: list[dict[str, Any]], **props: Any) -> list[Any]:
    async with FlowHarness(tmp_path, [tab(), rbe_node(**props), sink("out")]) as harness:
        for msg in messages:
            harness.inject("rb", msg)
        await harness.runtime.wait_idle()
        return harness.payloads("out")


async def test_narrowband_start_seeds_reference(tmp_path: Path) -> None:
    values = [{"payload": v} for v in (100, 52, 49, 60)]
    sent = await run_values(tmp_path, values, func="narrowband", gap="5", start="50")

    assert sent == [52, 49]


async def test_deadband_eq_passes_exact_gap(tmp_path: Path) -> None:
    values = [{"payload": v} for v in (10, 15, 19, 20)]
    sent = await run_values(tmp_path, values, func="deadbandEq", gap="5")

    assert sent == [10, 15, 20]


async def test_reset_clears_only_its_topic(tmp_path: Path) -> None:
    messages = [
        {"payload": 1, "topic": "a"},
        {"payload": 1, "topic": "b"},
        {"reset": True, "topic": "a"},
        {"payload": 1, "topic": "a"},
        {"payload": 1, "topic": "b"},
    ]
    sent = await run_values(tmp_path, messages)

    assert sent == [1, 1, 1]


async def test_shared_reference_when_topics_not_separate(tmp_path: Path) -> None:
    messages = [{"payload": 1, "topic": "a"}, {"payload": 1, "topic": "b"}]
    sent = await run_values(tmp_path, messages, septopics=False)

    assert sent == [1]


async def test_message_without_property_is_ignored(tmp_path: Path) -> None:
    sent = await run_values(tmp_path, [{"topic": "x"}, {"payload": "v"}])

    assert sent == ["v"]


async def test_numeric_string_passes_deadband(tmp_path: Path) -> None:
    sent = await run_values(tmp_path, [{"payload": "10 kW"}, {"payload": "30 kW"}], func="deadband", gap="10")

    assert sent == ["10 kW", "30 kW"]


async def test_invalid_func_is_reported_at_deploy(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, [tab(), rbe_node(func="sometimes"), sink("out")]) as harness:
        assert harness.runtime.get_node("rb") is None

    assert [entry["level"] for entry in harness.logs] == ["error"]
    assert str(harness.logs[0]["msg"]).startswith("Invalid filter mode func 'sometimes'")


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        ({"a": [1, 2]}, {"a": [1, 2]}, True),
        ({"a": 1}, {"a": "1"}, False),
        ([True], [1], False),
        (bytearray(b"ab"), bytearray(b"ab"), True),
        (bytearray(b"ab"), [97, 98], False),
        (dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc), True),
        (None, {}, False),
    ],
)
def test_compare_objects_follows_node_red(left: Any, right: Any, equal: bool) -> None:
    assert compare_objects(left, right) is equal
