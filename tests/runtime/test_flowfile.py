"""Loading flow files: the accepted shapes and the errors for broken ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.flowfile import FlowFileError, load_flow_file, parse_flow_text

TAB = {"id": "t1", "type": "tab", "label": "Main"}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "flows.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_load_flow_file_accepts_editor_export_array(tmp_path: Path) -> None:
    flows = [TAB, {"id": "n1", "type": "inject", "z": "t1", "x": 1, "y": 2, "wires": [[]]}]

    flow_set = load_flow_file(write(tmp_path, flows))

    assert list(flow_set.tabs) == ["t1"]
    assert list(flow_set.tabs["t1"].nodes) == ["n1"]


def test_load_flow_file_accepts_admin_api_object_with_rev(tmp_path: Path) -> None:
    flow_set = load_flow_file(write(tmp_path, {"flows": [TAB], "rev": "abc123"}))

    assert flow_set.rev == "abc123"
    assert "t1" in flow_set.tabs


def test_load_flow_file_reports_line_and_column_of_broken_json(tmp_path: Path) -> None:
    path = tmp_path / "flows.json"
    path.write_text('[\n  {"id": "t1", "type": "tab"},\n  {"id": }\n]', encoding="utf-8")

    with pytest.raises(FlowFileError, match=r"flows.json: invalid JSON at line 3, column 10"):
        load_flow_file(path)


def test_load_flow_file_rejects_missing_file_with_path(tmp_path: Path) -> None:
    with pytest.raises(FlowFileError, match=r"nope.json: flow file not found"):
        load_flow_file(tmp_path / "nope.json")


def test_load_flow_file_rejects_directory_with_path(tmp_path: Path) -> None:
    (tmp_path / "flows.json").mkdir()

    with pytest.raises(FlowFileError, match=r"flows.json: cannot read the flow file \(Is a directory\)"):
        load_flow_file(tmp_path / "flows.json")


def test_parse_flow_rejects_top_level_string() -> None:
    with pytest.raises(FlowFileError, match=r'expected a JSON array of nodes or an object with a "flows" array'):
        parse_flow_text('"hello"', source="x.json")


def test_parse_flow_names_node_type_and_tab_for_bad_wires() -> None:
    flows = [TAB, {"id": "n1", "type": "change", "z": "t1", "x": 1, "y": 1, "wires": "n2"}]

    with pytest.raises(FlowFileError, match=r"node 'n1' \(type 'change', tab 't1' 'Main'\): property wires is \"n2\""):
        parse_flow_text(json.dumps(flows), source="x.json")


def test_parse_flow_rejects_node_without_type() -> None:
    with pytest.raises(FlowFileError, match=r"'type' is a required property"):
        parse_flow_text(json.dumps([{"id": "n1"}]), source="x.json")


def test_parse_flow_rejects_object_as_tab_reference() -> None:
    flows = [TAB, {"id": "n1", "type": "inject", "z": {"id": "t1"}, "x": 1, "y": 1, "wires": []}]

    with pytest.raises(FlowFileError, match=r"node 'n1' \(type 'inject'\): property z is \{\"id\": \"t1\"\}"):
        parse_flow_text(json.dumps(flows), source="x.json")


def test_parse_flow_rejects_object_as_tab_id() -> None:
    with pytest.raises(FlowFileError, match=r"item 0: property id is \{\"id\": \"t1\"\}"):
        parse_flow_text(json.dumps([{"id": {"id": "t1"}, "type": "tab"}]), source="x.json")


def test_parse_flow_rejects_duplicate_ids() -> None:
    flows = [TAB, {"id": "t1", "type": "comment", "z": "t1", "x": 1, "y": 1}]

    with pytest.raises(FlowFileError, match=r"uses id 't1', already used by item 0"):
        parse_flow_text(json.dumps(flows), source="x.json")


def test_parse_flow_rejects_instance_of_unknown_subflow() -> None:
    flows = [TAB, {"id": "s1", "type": "subflow:missing", "z": "t1", "x": 1, "y": 1, "wires": []}]

    with pytest.raises(FlowFileError, match=r"instance of subflow 'missing', which is not defined in this file"):
        parse_flow_text(json.dumps(flows), source="x.json")


def test_parse_flow_rejects_subflow_containing_itself() -> None:
    flows = [
        TAB,
        {"id": "sf1", "type": "subflow", "name": "Retry", "in": [], "out": []},
        {"id": "inner", "type": "subflow:sf1", "z": "sf1", "x": 1, "y": 1, "wires": []},
        {"id": "outer", "type": "subflow:sf1", "z": "t1", "x": 1, "y": 1, "wires": []},
    ]

    with pytest.raises(FlowFileError, match=r"x.json: subflow 'sf1' contains an instance of itself \(sf1 -> sf1\)"):
        parse_flow_text(json.dumps(flows), source="x.json")


def test_parse_flow_rejects_subflows_containing_each_other() -> None:
    flows = [
        TAB,
        {"id": "sfa", "type": "subflow", "name": "A", "in": [], "out": []},
        {"id": "sfb", "type": "subflow", "name": "B", "in": [], "out": []},
        {"id": "a_in_b", "type": "subflow:sfa", "z": "sfb", "x": 1, "y": 1, "wires": []},
        {"id": "b_in_a", "type": "subflow:sfb", "z": "sfa", "x": 1, "y": 1, "wires": []},
    ]

    with pytest.raises(FlowFileError, match=r"subflow 'sfa' contains an instance of itself \(sfa -> sfb -> sfa\)"):
        parse_flow_text(json.dumps(flows), source="x.json")


def test_parse_flow_accepts_subflow_nested_in_subflow() -> None:
    flows = [
        TAB,
        {"id": "sfa", "type": "subflow", "name": "A", "in": [], "out": []},
        {"id": "sfb", "type": "subflow", "name": "B", "in": [], "out": []},
        {"id": "b_in_a", "type": "subflow:sfb", "z": "sfa", "x": 1, "y": 1, "wires": []},
        {"id": "a_on_tab", "type": "subflow:sfa", "z": "t1", "x": 1, "y": 1, "wires": []},
    ]

    flow_set = parse_flow_text(json.dumps(flows), source="x.json")

    assert list(flow_set.subflows) == ["sfa", "sfb"]


def test_parse_flow_gives_orphan_node_a_tab_of_its_own() -> None:
    flows = [{"id": "n1", "type": "comment", "z": "gone", "x": 1, "y": 1}]

    flow_set = parse_flow_text(json.dumps(flows))

    assert list(flow_set.tabs["gone"].nodes) == ["n1"]


def test_parse_flow_sorts_config_nodes_by_position_fields() -> None:
    flows = [
        TAB,
        {"id": "cfg", "type": "tls-config"},
        {"id": "tabcfg", "type": "tls-config", "z": "t1"},
        {"id": "n1", "type": "comment", "z": "t1", "x": 1, "y": 1},
    ]

    flow_set = parse_flow_text(json.dumps(flows))

    assert list(flow_set.configs) == ["cfg"]
    assert list(flow_set.tabs["t1"].configs) == ["tabcfg"]
    assert list(flow_set.tabs["t1"].nodes) == ["n1"]


def test_parse_flow_wires_link_out_to_link_in_named_on_either_side() -> None:
    flows = [
        TAB,
        {"id": "out", "type": "link out", "z": "t1", "x": 1, "y": 1, "links": ["in1"], "wires": []},
        {"id": "in1", "type": "link in", "z": "t1", "x": 1, "y": 1, "links": [], "wires": [[]]},
        {"id": "in2", "type": "link in", "z": "t1", "x": 1, "y": 1, "links": ["out"], "wires": [[]]},
    ]

    flow_set = parse_flow_text(json.dumps(flows))

    assert sorted(flow_set.tabs["t1"].nodes["out"]["wires"][0]) == ["in1", "in2"]
