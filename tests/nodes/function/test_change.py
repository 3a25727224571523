"""Change node behaviour beyond the conformance corpus: errors, odd configs, compile-once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonata
import pytest

from runtime.jsvalues import UNDEFINED
from tests.support.flows import FlowRun, catch_to, sink, start_flow


def change_node(rules: list[dict[str, Any]] | None = None, **config: Any) -> dict[str, Any]:
    node = {"id": "c1", "type": "change", "name": "", "wires": [["out"]], **config}
    if rules is not None:
        node["rules"] = rules
    return node


async def run_change(tmp_path: Path, node: dict[str, Any], *messages: dict[str, Any]) -> FlowRun:
    run = await start_flow(tmp_path, [node, sink("out"), *catch_to("caught")])
    await run.inject("c1", *messages)
    await run.stop()
    return run


async def test_change_logs_invalid_regex_and_drops_messages(tmp_path: Path) -> None:
    rule = {"t": "change", "p": "payload", "pt": "msg", "from": "(", "fromt": "re", "to": "x", "tot": "str"}
    run = await run_change(tmp_path, change_node([rule]), {"payload": "a"})

    assert run.log_messages("error") == ["Invalid 'from' property: Invalid regular expression: /(/g: Unterminated group"]
    assert run.received("out") == []
    assert run.received("caught") == []


async def test_change_logs_every_invalid_rule_at_deploy(tmp_path: Path) -> None:
    rules = [
        {"t": "set", "p": "a", "pt": "msg", "to": "{bad", "tot": "json"},
        {"t": "set", "p": "b", "pt": "msg", "to": "[1,", "tot": "bin"},
        {"t": "set", "p": "c", "pt": "msg", "to": "$$$(", "tot": "jsonata"},
    ]
    run = await run_change(tmp_path, change_node(rules), {"payload": 1})

    errors = run.log_messages("error")
    assert errors[:2] == ["Invalid 'to' JSON property", "Invalid 'to' JSON property"]
    assert errors[2].startswith("Invalid JSONata expression: ")
    assert run.received("out") == []


async def test_change_reports_jsonata_error_and_stops_later_rules(tmp_path: Path) -> None:
    rules = [
        {"t": "set", "p": "first", "pt": "msg", "to": "1", "tot": "num"},
        {"t": "set", "p": "payload", "pt": "msg", "to": "$error('nope')", "tot": "jsonata"},
        {"t": "set", "p": "never", "pt": "msg", "to": "2", "tot": "num"},
    ]
    run = await run_change(tmp_path, change_node(rules), {"payload": 1})

    caught = run.received("caught")
    assert run.received("out") == []
    assert len(caught) == 1
    assert caught[0]["error"]["message"] == "Invalid JSONata expression: nope"
    assert caught[0]["first"] == 1
    assert "never" not in caught[0]


async def test_change_warns_when_setting_beneath_a_string(tmp_path: Path) -> None:
    rule = {"t": "set", "p": "payload.a", "pt": "msg", "to": "x", "tot": "str"}
    run = await run_change(tmp_path, change_node([rule]), {"payload": "text"})

    assert run.log_messages("warn") == ["Cannot set property of non-object type: payload.a"]
    assert run.received("out")[0]["payload"] == "text"


async def test_change_skips_rule_when_source_parent_is_missing(tmp_path: Path) -> None:
    rules = [
        {"t": "set", "p": "payload", "pt": "msg", "to": "missing.deep", "tot": "msg"},
        {"t": "set", "p": "topic", "pt": "msg", "to": "after", "tot": "str"},
    ]
    run = await run_change(tmp_path, change_node(rules), {"payload": "kept"})

    received = run.received("out")[0]
    assert received["payload"] == "kept"
    assert received["topic"] == "after"


async def test_change_deletes_target_when_flow_source_is_missing(tmp_path: Path) -> None:
    rule = {"t": "set", "p": "payload", "pt": "msg", "to": "nothing", "tot": "flow"}
    run = await run_change(tmp_path, change_node([rule]), {"payload": "gone"})

    assert "payload" not in run.received("out")[0]


async def test_change_reports_unsupported_search_type_and_still_sends(tmp_path: Path) -> None:
    rule = {"t": "change", "p": "payload", "pt": "msg", "from": "search", "fromt": "msg", "to": "X", "tot": "str"}
    run = await run_change(tmp_path, change_node([rule]), {"payload": "an undefined value", "search": None})

    caught = run.received("caught")
    assert caught[0]["error"]["message"] == "Error: Invalid 'from' property: unsupported type: object"
    # With no search type, JavaScript's replace(undefined, ...) replaces the text "undefined".
    assert run.received("out")[0]["payload"] == "an X value"


async def test_change_context_mismatch_stops_message(tmp_path: Path) -> None:
    nodes = [
        {"id": "seed", "type": "change", "rules": [{"t": "set", "p": "n", "pt": "flow", "to": "5", "tot": "num"}], "wires": [["c1"]]},
        change_node([{"t": "change", "p": "n", "pt": "flow", "from": "6", "fromt": "num", "to": "six", "tot": "str"}]),
        sink("out"),
    ]
    run = await start_flow(tmp_path, nodes)
    await run.inject("seed", {"payload": 1})
    value = run.runtime.contexts.flow_scope("t1").get("n")
    await run.stop()

    assert run.received("out") == []
    assert value == 5


async def test_change_applies_legacy_single_rule_config(tmp_path: Path) -> None:
    legacy: dict[str, Any] = {"action": "change", "property": "payload", "from": "a+", "to": "X", "reg": True}
    node = change_node(None, **legacy)
    run = await run_change(tmp_path, node, {"payload": "caaab"})

    assert run.received("out")[0]["payload"] == "cXb"


async def test_change_legacy_replace_copies_from_msg_path(tmp_path: Path) -> None:
    node = change_node(action="replace", property="payload", to="msg.topic")
    run = await run_change(tmp_path, node, {"payload": 1, "topic": "t"})

    assert run.received("out")[0]["payload"] == "t"


async def test_change_rejects_rules_that_are_not_a_list(tmp_path: Path) -> None:
    run = await start_flow(tmp_path, [change_node(rules={"t": "set"})])  # type: ignore[arg-type]
    await run.stop()

    assert run.runtime.get_node("c1") is None
    assert "change node rules must be a list of rule objects" in str(run.log_messages("error")[0])


async def test_change_rejects_set_rule_without_to(tmp_path: Path) -> None:
    run = await start_flow(tmp_path, [change_node([{"t": "set", "p": "payload"}])])
    await run.stop()

    assert run.runtime.get_node("c1") is None
    assert "has no 'to' text" in str(run.log_messages("error")[0])


async def test_change_deep_copy_isolates_from_source(tmp_path: Path) -> None:
    rules: list[dict[str, Any]] = [
        {"t": "set", "p": "copy", "pt": "flow", "to": "payload", "tot": "msg", "dc": True},
        {"t": "set", "p": "payload.v", "pt": "msg", "to": "changed", "tot": "str"},
    ]
    run = await start_flow(tmp_path, [change_node(rules), sink("out")])
    await run.inject("c1", {"payload": {"v": "orig"}})
    stored = run.runtime.contexts.flow_scope("t1").get("copy")
    await run.stop()

    assert stored == {"v": "orig"}
    assert run.received("out")[0]["payload"] == {"v": "changed"}


async def test_change_compiles_jsonata_once_per_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[str] = []
    real_jsonata = jsonata.Jsonata

    def counting_jsonata(source: str) -> Any:
        compiled.append(source)
        return real_jsonata(source)

    monkeypatch.setattr(jsonata, "Jsonata", counting_jsonata)
    rule = {"t": "set", "p": "payload", "pt": "msg", "to": "payload + 1", "tot": "jsonata"}
    run = await run_change(tmp_path, change_node([rule]), *({"payload": n} for n in range(5)))

    assert [msg["payload"] for msg in run.received("out")] == [1, 2, 3, 4, 5]
    assert compiled == ["payload + 1"]


async def test_change_sets_buffer_from_bin_string(tmp_path: Path) -> None:
    rule = {"t": "set", "p": "payload", "pt": "msg", "to": '"hé"', "tot": "bin"}
    run = await run_change(tmp_path, change_node([rule]), {"payload": 0})

    assert run.received("out")[0]["payload"] == bytearray("hé".encode())


async def test_change_skips_bin_rule_for_object_json(tmp_path: Path) -> None:
    rule = {"t": "set", "p": "payload", "pt": "msg", "to": '{"a": 1}', "tot": "bin"}
    run = await run_change(tmp_path, change_node([rule]), {"payload": "kept"})

    assert run.received("out")[0]["payload"] == "kept"


async def test_change_delete_splices_array_element(tmp_path: Path) -> None:
    rule = {"t": "delete", "p": "payload[1]", "pt": "msg"}
    run = await run_change(tmp_path, change_node([rule]), {"payload": [1, 2, 3]})

    assert run.received("out")[0]["payload"] == [1, 3]


async def test_change_set_beyond_array_end_leaves_holes(tmp_path: Path) -> None:
    rule = {"t": "set", "p": "payload[3]", "pt": "msg", "to": "x", "tot": "str"}
    run = await run_change(tmp_path, change_node([rule]), {"payload": ["a"]})

    assert run.received("out")[0]["payload"] == ["a", UNDEFINED, UNDEFINED, "x"]
