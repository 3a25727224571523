"""Sort a Node-RED flow export into tabs, subflow definitions, groups and config nodes.

The result mirrors how Node-RED reads a flow file:

* an object with ``x`` and ``y`` is a flow node; without them it is a config
  node, owned by its tab or subflow when ``z`` names one, else global;
* a node whose ``z`` names no tab or subflow gets a tab of its own, as when a
  selection is exported without its tab;
* ``link out`` nodes in link mode are wired to every ``link in`` that names
  them and every ``link in`` they name, whichever side recorded the link;
* a subflow instance is a node of type ``subflow:<id>``, expanded per instance
  by :func:`instantiate_subflow` with ids ``<instance id>-<template id>``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

SUBFLOW_TYPE_RE = re.compile(r"^subflow:(.+)$")


@dataclass
class Container:
    """A tab or a subflow definition: the nodes, config nodes and groups inside it."""

    id: str
    config: dict[str, Any]
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.config.get("label") or self.config.get("name") or ""

    @property
    def disabled(self) -> bool:
        return self.config.get("disabled") is True


@dataclass
class FlowSet:
    """A whole flow file, sorted: tabs in file order, subflows, global config nodes."""

    tabs: dict[str, Container] = field(default_factory=dict)
    subflows: dict[str, Container] = field(default_factory=dict)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    all_nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    rev: str | None = None

    def node_types(self) -> dict[str, list[dict[str, Any]]]:
        """Map every node type used (not tabs, subflows or groups) to the nodes using it."""
        types: dict[str, list[dict[str, Any]]] = {}
        for node in self.all_nodes.values():
            if node["type"] in ("tab", "subflow", "group"):
                continue
            types.setdefault(node["type"], []).append(node)
        return types


def build_flow_set(objects: list[dict[str, Any]], rev: str | None = None) -> FlowSet:
    """Sort validated flow-file objects into a :class:`FlowSet` (copies, not the input)."""
    flow_set = FlowSet(rev=rev)
    objects = copy.deepcopy(objects)

    for obj in objects:
        flow_set.all_nodes[obj["id"]] = obj
        if obj["type"] == "tab":
            flow_set.tabs[obj["id"]] = Container(obj["id"], obj)
        elif obj["type"] == "subflow":
            flow_set.subflows[obj["id"]] = Container(obj["id"], obj)

    link_targets: dict[str, dict[str, None]] = {}
    link_out_nodes: list[dict[str, Any]] = []
    for obj in objects:
        kind = obj["type"]
        if kind in ("tab", "subflow"):
            continue
        container = flow_set.tabs.get(obj.get("z", "")) or flow_set.subflows.get(obj.get("z", ""))
        if kind == "group":
            if container is not None:
                container.groups[obj["id"]] = obj
            continue

        if obj.get("z") and container is None:
            # A node exported without its tab: give it a tab of its own.
            container = Container(obj["z"], {"id": obj["z"], "type": "tab", "label": ""})
            flow_set.tabs[obj["z"]] = container

        if is_flow_node(obj):
            if container is not None:
                container.nodes[obj["id"]] = obj
        elif container is not None:
            container.configs[obj["id"]] = obj
        else:
            flow_set.configs[obj["id"]] = obj

        _collect_links(obj, link_targets, link_out_nodes)

    for link_out in link_out_nodes:
        link_out["wires"] = [list(link_targets.get(link_out["id"], {}))]
    return flow_set


def is_flow_node(obj: dict[str, Any]) -> bool:
    """Tell a flow node (drawn on a tab, so it has ``x`` and ``y``) from a config node."""
    return "x" in obj and "y" in obj


def _collect_links(
    obj: dict[str, Any],
    link_targets: dict[str, dict[str, None]],
    link_out_nodes: list[dict[str, Any]],
) -> None:
    links = obj.get("links")
    if not isinstance(links, list):
        return
    if obj["type"] == "link in":
        for out_id in links:
            link_targets.setdefault(out_id, {})[obj["id"]] = None
    elif obj["type"] == "link out" and obj.get("mode", "link") == "link":
        targets = link_targets.setdefault(obj["id"], {})
        for in_id in links:
            targets[in_id] = None
        link_out_nodes.append(obj)


def instantiate_subflow(definition: Container, instance: dict[str, Any]) -> Container:
    """Copy a subflow definition for one instance, renaming ids to ``<instance>-<id>``.

    Inner nodes keep their template id as ``_alias``; wires, scopes and any
    property that names another inner node are renamed with them. The
    instance's output wires are appended to the inner nodes wired to the
    subflow's output ports, so inner nodes deliver straight to the outer
    nodes (one hop, as in Node-RED).
    """
    instance_id = instance["id"]
    id_map: dict[str, str] = {}
    copies: dict[str, dict[str, Any]] = {}
    for source in (definition.groups, definition.configs, definition.nodes):
        for template_id, template in source.items():
            node = copy.deepcopy(template)
            node["_alias"] = template_id
            node["id"] = f"{instance_id}-{template_id}"
            node["z"] = instance_id
            id_map[template_id] = node["id"]
            copies[template_id] = node

    for node in copies.values():
        _remap_node(node, id_map)

    result = Container(instance_id, definition.config)
    for template_id, node in copies.items():
        if template_id in definition.groups:
            result.groups[node["id"]] = node
        elif template_id in definition.configs:
            result.configs[node["id"]] = node
        else:
            result.nodes[node["id"]] = node

    _wire_output_ports(definition, instance, copies)
    return result


def _remap_node(node: dict[str, Any], id_map: dict[str, str]) -> None:
    wires = node.get("wires")
    if isinstance(wires, list):
        node["wires"] = [
            [id_map[target] for target in port if target in id_map] if isinstance(port, list) else []
            for port in wires
        ]
    if node["type"] in ("complete", "catch", "status") and isinstance(node.get("scope"), list):
        node["scope"] = [id_map.get(target, "") for target in node["scope"]]
        return
    for key, value in list(node.items()):
        if key in ("_alias", "id", "wires", "z"):
            continue
        if isinstance(value, str) and value in id_map:
            node[key] = id_map[value]
    if isinstance(node.get("g"), str) and node["g"] in id_map:
        node["g"] = id_map[node["g"]]


def _wire_output_ports(
    definition: Container, instance: dict[str, Any], copies: dict[str, dict[str, Any]]
) -> None:
    outer_wires = instance.get("wires") or []
    for port_index, port in enumerate(definition.config.get("out") or []):
        targets = outer_wires[port_index] if port_index < len(outer_wires) else []
        for wire in port.get("wires") or []:
            inner = copies.get(wire.get("id"))
            if inner is None:
                continue  # the subflow's input wired straight to this output: see SubflowFlow
            output = wire.get("port", 0)
            node_wires = inner.setdefault("wires", [])
            while len(node_wires) <= output:
                node_wires.append([])
            node_wires[output] = node_wires[output] + list(targets)
