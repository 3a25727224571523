"""Range node behaviour beyond the conformance corpus: JavaScript arithmetic and odd inputs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tests.support.flows import FlowRun, catch_to, sink, start_flow


def range_node(**config: Any) -> dict[str, Any]:
    base = {"id": "r1", "type": "range", "name": "", "minin": "0", "maxin": "10", "minout": "0", "maxout": "100",
            "action": "scale", "round": False, "property": "payload", "wires": [["out"]]}  # fmt: skip
    return {**base, **config}


async def run_range(tmp_path: Path, node: dict[str, Any], *messages: dict[str, Any]) -> FlowRun:
    run = await start_flow(tmp_path, [node, sink("out"), *catch_to("caught")])
    await run.inject("r1", *messages)
    await run.stop()
    return run


def results(run: FlowRun) -> list[Any]:
    return [msg["payload"] for msg in run.received("out")]


async def test_range_rounds_halves_up_like_math_round(tmp_path: Path) -> None:
    node = range_node(minin="0", maxin="1", minout="0", maxout="1", round=True)
    run = await run_range(tmp_path, node, {"payload": -2.5}, {"payload": 2.5}, {"payload": 0.49999999999999994})

    assert results(run) == [-2, 3, 0]


async def test_range_clamps_to_input_range(tmp_path: Path) -> None:
    run = await run_range(tmp_path, range_node(action="clamp"), {"payload": -5}, {"payload": 15})

    assert results(run) == [0, 100]


async def test_range_wraps_negative_values(tmp_path: Path) -> None:
    node = range_node(action="roll", minin="-5", maxin="5", minout="0", maxout="10")
    run = await run_range(tmp_path, node, {"payload": 7}, {"payload": -12.5})

    assert results(run) == [2, 2.5]


async def test_range_reversed_input_range_reverses_output(tmp_path: Path) -> None:
    run = await run_range(tmp_path, range_node(minin="10", maxin="0", minout="0", maxout="1"), {"payload": 2.5})

    assert results(run) == [0.75]


async def test_range_zero_width_input_gives_nan_or_infinity(tmp_path: Path) -> None:
    run = await run_range(tmp_path, range_node(minin="5", maxin="5"), {"payload": 5}, {"payload": 6})

    first, second = results(run)
    assert math.isnan(first)
    assert second == math.inf


@pytest.mark.parametrize(
    ("payload", "expected"),
    [(None, 0), (True, 10), ([3], 30), (" 4 ", 40), ("0x10", 160), (bytearray(b"4"), 40)],
)
async def test_range_converts_like_javascript_number(tmp_path: Path, payload: Any, expected: Any) -> None:
    run = await run_range(tmp_path, range_node(), {"payload": payload})

    assert results(run) == [expected]


async def test_range_logs_non_numbers_at_info(tmp_path: Path) -> None:
    run = await run_range(tmp_path, range_node(), {"payload": {"a": 1}}, {"payload": "abc"})

    assert results(run) == []
    assert run.log_messages("info") == ["Not a number: [object Object]", "Not a number: abc"]


async def test_range_missing_parent_is_type_error(tmp_path: Path) -> None:
    run = await run_range(tmp_path, range_node(property="a.b"), {"payload": 1})

    assert run.received("caught")[0]["error"]["message"] == "TypeError: Cannot read properties of undefined (reading 'b')"
