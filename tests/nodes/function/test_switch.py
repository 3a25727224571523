"""Switch node behaviour beyond the conformance corpus: errors, sequences, JavaScript comparisons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nodes.function.switch_rules import less_than
from runtime.jsvalues import UNDEFINED
from tests.support.flows import FlowRun, catch_to, sink, start_flow


def switch_node(rules: list[dict[str, Any]], **config: Any) -> dict[str, Any]:
    return {
        "id": "s1",
        "type": "switch",
        "name": "",
        "property": "payload",
        "propertyType": "msg",
        "checkall": "true",
        "repair": False,
        "rules": rules,
        "outputs": len(rules),
        "wires": [[f"out{port}"] for port in range(len(rules))],
        **config,
    }


async def run_switch(tmp_path: Path, node: dict[str, Any], *messages: dict[str, Any]) -> FlowRun:
    sinks = [sink(f"out{port}") for port in range(len(node["rules"]))]
    run = await start_flow(tmp_path, [node, *sinks, *catch_to("caught")])
    await run.inject("s1", *messages)
    await run.stop()
    return run


def payloads(run: FlowRun, sink_id: str) -> list[Any]:
    return [msg.get("payload", UNDEFINED) for msg in run.received(sink_id)]


async def test_switch_reports_invalid_regex_as_syntax_error(tmp_path: Path) -> None:
    run = await run_switch(tmp_path, switch_node([{"t": "regex", "v": "(", "vt": "str"}]), {"payload": "a"})

    caught = run.received("caught")
    assert caught[0]["error"]["message"] == "SyntaxError: Invalid regular expression: /(/: Unterminated group"
    assert run.received("out0") == []


async def test_switch_regex_ignore_case_flag(tmp_path: Path) -> None:
    node = switch_node([{"t": "regex", "v": "^a.c$", "vt": "str", "case": True}, {"t": "regex", "v": "^a.c$", "vt": "str"}])
    run = await run_switch(tmp_path, node, {"payload": "ABC"}, {"payload": "a\nc"})

    assert payloads(run, "out0") == ["ABC"]
    assert payloads(run, "out1") == []


async def test_switch_head_without_parts_is_type_error(tmp_path: Path) -> None:
    run = await run_switch(tmp_path, switch_node([{"t": "head", "v": "1", "vt": "num"}]), {"payload": 1})

    assert run.received("caught")[0]["error"]["message"] == "TypeError: Cannot read properties of undefined (reading 'index')"


async def test_switch_warns_on_failing_jsonata_property(tmp_path: Path) -> None:
    node = switch_node([{"t": "else"}], property="payload.a + 1", propertyType="jsonata")
    run = await run_switch(tmp_path, node, {"payload": {"a": "x"}}, {"payload": {"a": 1}})

    assert len(run.log_messages("warn")) == 1
    assert run.log_messages("warn")[0].startswith("Invalid JSONata expression: ")
    assert payloads(run, "out0") == [{"a": 1}]


async def test_switch_logs_invalid_jsonata_rule_and_drops_messages(tmp_path: Path) -> None:
    run = await run_switch(tmp_path, switch_node([{"t": "eq", "v": "(", "vt": "jsonata"}]), {"payload": 1})

    assert run.log_messages("error")[0].startswith("Invalid JSONata expression: ")
    assert run.received("out0") == []


async def test_switch_rejects_unknown_operator(tmp_path: Path) -> None:
    run = await start_flow(tmp_path, [switch_node([{"t": "bogus"}])])
    await run.stop()

    assert run.runtime.get_node("s1") is None
    assert "switch rule operator 'bogus' is not known" in str(run.log_messages("error")[0])


async def test_switch_checkall_boolean_false_still_checks_all(tmp_path: Path) -> None:
    rules = [{"t": "gt", "v": "0", "vt": "num"}, {"t": "gt", "v": "10", "vt": "num"}]
    run = await run_switch(tmp_path, switch_node(rules, checkall=False), {"payload": 50})

    assert payloads(run, "out0") == [50]
    assert payloads(run, "out1") == [50]


async def test_switch_else_follows_previous_else(tmp_path: Path) -> None:
    rules = [{"t": "eq", "v": "a", "vt": "str"}, {"t": "else"}, {"t": "eq", "v": "b", "vt": "str"}, {"t": "else"}]
    run = await run_switch(tmp_path, switch_node(rules), {"payload": "a"}, {"payload": "c"})

    # "a" matched rule 0, so else 1 is skipped and else 3 matches; "c" matched else 1, so else 3 does not.
    assert payloads(run, "out1") == ["c"]
    assert payloads(run, "out3") == ["a"]


async def test_switch_repair_renumbers_parts_per_port(tmp_path: Path) -> None:
    rules = [{"t": "lt", "v": "5", "vt": "num"}, {"t": "gte", "v": "5", "vt": "num"}]
    messages = [{"payload": p, "parts": {"id": "g", "index": i, "count": 4}} for i, p in enumerate([1, 7, 3, 9])]
    run = await run_switch(tmp_path, switch_node(rules, repair=True), *messages)

    low, high = run.received("out0"), run.received("out1")
    assert [m["payload"] for m in low] == [1, 3]
    assert [(m["parts"]["index"], m["parts"]["count"]) for m in low] == [(0, 2), (1, 2)]
    assert [m["payload"] for m in high] == [7, 9]
    assert low[0]["parts"]["id"] == low[1]["parts"]["id"]
    assert low[0]["parts"]["id"] not in ("g", high[0]["parts"]["id"])


async def test_switch_tail_holds_sequence_until_count_known(tmp_path: Path) -> None:
    node = switch_node([{"t": "tail", "v": "1", "vt": "num"}])
    run = await start_flow(tmp_path, [node, sink("out0")])
    await run.inject("s1", {"payload": 0, "parts": {"id": "q", "index": 0}}, {"payload": 1, "parts": {"id": "q", "index": 1}})
    held = payloads(run, "out0")
    await run.inject("s1", {"payload": 2, "parts": {"id": "q", "index": 2, "count": 3}})
    await run.stop()

    assert held == []
    assert payloads(run, "out0") == [2]


async def test_switch_jsonata_exp_sees_parts_index(tmp_path: Path) -> None:
    node = switch_node([{"t": "jsonata_exp", "v": "$I = 1 and $N = 3", "vt": "jsonata"}])
    messages = [{"payload": i, "parts": {"id": "a", "index": i, "count": 3}} for i in range(3)]
    run = await run_switch(tmp_path, node, *messages)

    assert payloads(run, "out0") == [1]


async def test_switch_prev_starts_as_null(tmp_path: Path) -> None:
    rules = [{"t": "eq", "v": "", "vt": "prev"}]
    run = await run_switch(tmp_path, switch_node(rules), {"payload": None}, {"payload": None})

    assert payloads(run, "out0") == [None, None]


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (1, 2, True),
        ("10", 9, False),
        ("apple", "m", True),
        ("M", "m", True),
        (None, 1, True),
        (UNDEFINED, 1, None),
        ("abc", 1, None),
        ([2], 3, True),
        ("\U0001f600", "\uffff", True),
    ],
)
def test_less_than_follows_javascript(left: Any, right: Any, expected: bool | None) -> None:
    assert less_than(left, right) is expected
