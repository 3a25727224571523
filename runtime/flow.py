"""Running flows: a tab, or one instance of a subflow, and the routing of errors, status and completion.

A :class:`Flow` owns the nodes of one tab. It routes a node's error to the
catch nodes of the same tab, its status to the status nodes, and its
completed messages to complete nodes, with Node-RED's scoping rules (explicit
node lists, groups, ``uncaught``). A :class:`SubflowFlow` does the same for
the nodes inside one subflow instance and passes what it does not handle up
to the flow that contains the instance, reported by the instance node.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from runtime.graph import Container, instantiate_subflow
from runtime.jsvalues import UNDEFINED, JSError
from runtime.log import runtime_log
from runtime.message import Message, clone_message, clone_value
from runtime.node import Node, error_text

if TYPE_CHECKING:
    from runtime.context import Scope
    from runtime.engine import Runtime

# Node-RED stops a message that failed in the same node this many times in a
# row (catch feeding back into the failing node) and logs it instead.
MAX_CATCH_COUNT = 10


class Group:
    """A group on a tab: a level of environment variables between nodes and their tab."""

    def __init__(self, config: dict[str, Any], parent: Group | Flow) -> None:
        self.id: str = config["id"]
        self.name: str = config.get("name") or ""
        self.group_id: str | None = config.get("g")
        self.parent = parent
        self.config = config
        self.env: dict[str, Any] = {}

    def get_setting(self, key: str) -> Any:
        if key == "NR_GROUP_NAME":
            return self.name
        if key == "NR_GROUP_ID":
            return self.id
        if key.startswith("$parent."):
            key = key[len("$parent.") :]
        elif key in self.env:
            return clone_value(self.env[key])
        return self.parent.get_setting(key)


class GlobalScope:
    """The top of every lookup chain: process environment variables."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.env: dict[str, Any] = {}

    def get_setting(self, key: str, **_: Any) -> Any:
        if key.startswith("$parent."):
            key = key[len("$parent.") :]
        if key in self.env:
            return clone_value(self.env[key])
        value = os.environ.get(key)
        return UNDEFINED if value is None else value


class Flow:
    """The running nodes of one tab, and where their errors, status and completions go."""

    kind = "flow"

    def __init__(self, runtime: Runtime, container: Container, parent: Flow | GlobalScope) -> None:
        self.runtime = runtime
        self.container = container
        self.id = container.id
        self.label = container.label
        self.parent = parent
        self.path = container.id if isinstance(parent, GlobalScope) else f"{parent.path}/{container.id}"
        self.nodes: dict[str, Node] = {}
        self.groups: dict[str, Group] = {}
        self.env: dict[str, Any] = {}
        self.catch_nodes: list[Node] = []
        self.status_nodes: list[Node] = []
        self.complete_map: dict[str, list[Node]] = {}
        self.has_complete_nodes = False
        self.subflows: dict[str, SubflowFlow] = {}
        self.context: Scope = self._make_context()

    def _make_context(self) -> Scope:
        return self.runtime.contexts.flow_scope(self.id)

    # -- settings (environment variables) ----------------------------------

    def get_setting(self, key: str, *, group_id: str | None = None, node: Node | None = None) -> Any:
        """Resolve an environment variable: node ids, groups, this flow, then the parent."""
        if node is not None:
            if key == "NR_NODE_NAME":
                return node.name
            if key == "NR_NODE_ID":
                return node.id
            if key == "NR_NODE_PATH":
                return f"{self.path}/{node.alias or node.id}"
        if group_id is not None and group_id in self.groups:
            return self.groups[group_id].get_setting(key)
        return self._own_setting(key)

    def _own_setting(self, key: str) -> Any:
        if key == "NR_FLOW_NAME":
            return self.label
        if key == "NR_FLOW_ID":
            return self.id
        if key.startswith("$parent."):
            key = key[len("$parent.") :]
        elif key in self.env:
            return clone_value(self.env[key])
        return self.parent.get_setting(key)

    # -- building ----------------------------------------------------------

    def build(self) -> None:
        """Create groups, config nodes and nodes (not started yet)."""
        from runtime.envprops import evaluate_env_list

        self.env = evaluate_env_list(self, self._env_entries())
        self._build_groups()
        for config in self.container.configs.values():
            if config.get("d") is not True:
                self._create(config)
        for config in self.container.nodes.values():
            if config.get("d") is True:
                continue
            if config["type"].startswith("subflow:"):
                self._create_subflow_instance(config)
            else:
                self._create(config)
        self._index_event_nodes()

    def _env_entries(self) -> list[dict[str, Any]]:
        return list(self.container.config.get("env") or [])

    def _build_groups(self) -> None:
        from runtime.envprops import evaluate_env_list

        pending = list(self.container.groups.values())
        attempts = 0
        while pending and attempts < len(pending) * len(pending) + 1:
            attempts += 1
            config = pending.pop(0)
            parent_id = config.get("g")
            if parent_id and parent_id not in self.groups and parent_id in self.container.groups:
                pending.append(config)
                continue
            parent: Group | Flow = self.groups.get(parent_id, self) if parent_id else self
            group = Group(config, parent)
            self.groups[group.id] = group
            group.env = evaluate_env_list(group, list(config.get("env") or []))

    def _create(self, config: dict[str, Any]) -> Node | None:
        node = self.runtime.create_node(self, config)
        if node is not None:
            self.nodes[node.id] = node
            self.runtime.register_node(node)
        return node

    def _create_subflow_instance(self, config: dict[str, Any]) -> None:
        definition = self.runtime.flow_set.subflows[config["type"][len("subflow:") :]]
        subflow = SubflowFlow(self.runtime, definition, config, self)
        self.subflows[config["id"]] = subflow
        subflow.build()
        self.nodes[config["id"]] = subflow.instance_node
        self.runtime.register_node(subflow.instance_node)

    def _index_event_nodes(self) -> None:
        for node in self.nodes.values():
            if node.type == "catch":
                self.catch_nodes.append(node)
            elif node.type == "status":
                self.status_nodes.append(node)
            elif node.type == "complete":
                for source_id in node.config.get("scope") or []:
                    self.complete_map.setdefault(source_id, []).append(node)
        self.has_complete_nodes = bool(self.complete_map)

        # Scoped catch nodes first, then catch-all, then "uncaught" ones.
        def catch_rank(node: Node) -> int:
            if isinstance(node.config.get("scope"), list):
                return 0
            return 2 if node.config.get("uncaught") else 1

        self.catch_nodes.sort(key=catch_rank)

    def all_nodes(self) -> list[Node]:
        """Every node of this flow, inner subflow nodes included."""
        nodes = list(self.nodes.values())
        for subflow in self.subflows.values():
            nodes.extend(subflow.all_nodes())
        return nodes

    # -- routing of errors, status, completion -----------------------------

    def _candidates(self, event_nodes: list[Node], reporting: Node) -> list[Node]:
        ranked: list[tuple[int, Node]] = []
        for target in event_nodes:
            scope = target.config.get("scope")
            if target.group_id and scope == "group" and not reporting.group_id:
                continue
            if isinstance(scope, list) and reporting.id not in scope:
                continue
            distance = 0
            if reporting.group_id:
                group = self.groups.get(reporting.group_id)
                while group is not None and group.id != target.group_id:
                    distance += 1
                    group = self.groups.get(group.group_id) if group.group_id else None
                if group is None and target.group_id and scope == "group":
                    continue
            ranked.append((distance, target))
        ranked.sort(key=lambda pair: pair[0])
        return [target for _, target in ranked]

    def handle_error(self, node: Node, error: Any, msg: Message | None, reporting: Node | None = None) -> bool:
        """Send an error to the catch nodes in scope; return whether any took it."""
        reporting = reporting or node
        count = 1
        previous = msg.get("error") if isinstance(msg, dict) else None
        if isinstance(previous, dict) and isinstance(previous.get("source"), dict):
            if previous["source"].get("id") == node.id:
                count = (previous["source"].get("count") or 0) + 1
                if count == MAX_CATCH_COUNT:
                    node.warn("Message exceeded maximum number of catches")
                    return False

        handled = False
        handled_by_uncaught = False
        for target in self._candidates(self.catch_nodes, reporting):
            if target.config.get("uncaught") and not handled_by_uncaught:
                if handled:
                    continue
                handled_by_uncaught = True
            error_msg = clone_message(msg) if isinstance(msg, dict) else {}
            if "error" in error_msg:
                error_msg["_error"] = error_msg["error"]
            error_msg["error"] = error_object(node, error, count)
            target.receive(error_msg)
            handled = True
        return handled

    def handle_status(self, node: Node, status: dict[str, Any], reporting: Node | None = None) -> bool:
        """Send a status update to the status nodes in scope; return whether any took it."""
        reporting = reporting or node
        self.runtime.emit_status(node, status)
        handled = False
        for target in self._candidates(self.status_nodes, reporting):
            body = clone_value(status)
            if "text" in status:
                body["text"] = error_text(status["text"])
            body["source"] = {"id": node.id, "type": node.type, "name": node.source_name()}
            target.receive({"status": body})
            handled = True
        return handled

    def handle_complete(self, node: Node, msg: Message) -> None:
        """Send a copy of a finished message to the complete nodes watching ``node``."""
        for target in self.complete_map.get(node.id, ()):
            done_msg = clone_message(msg)
            done_msg["complete"] = {"source": {"id": node.id, "type": node.type, "name": node.source_name()}}
            target.receive(done_msg)


def error_object(node: Node, error: Any, count: int) -> dict[str, Any]:
    """Build ``msg.error`` for a catch node: message, source, and code/stack when present."""
    body: dict[str, Any] = {
        "message": error_text(error),
        "source": {
            "id": node.id,
            "type": node.type,
            "name": node.source_name(),
            "count": count,
        },
    }
    code = getattr(error, "code", None)
    if code is not None:
        body["code"] = code
    if isinstance(error, JSError):
        if error.stack is not None:
            body["stack"] = error.stack
        if "cause" in error.extra:
            body["cause"] = error.extra["cause"]
    return body


class SubflowFlow(Flow):
    """The nodes inside one subflow instance, running as a flow of their own."""

    kind = "subflow"

    def __init__(self, runtime: Runtime, definition: Container, instance: dict[str, Any], parent: Flow) -> None:
        self.definition = definition
        self.instance_config = instance
        super().__init__(runtime, instantiate_subflow(definition, instance), parent)
        self.parent_flow = parent
        self.instance_node = SubflowInstanceNode(self._instance_node_config(), self)
        self.status_node: SubflowStatusNode | None = None

    def _make_context(self) -> Scope:
        assert isinstance(self.parent, Flow)  # a subflow always sits inside a flow
        return self.runtime.contexts.flow_scope(self.id, self.parent.id)

    def _instance_node_config(self) -> dict[str, Any]:
        config = dict(self.instance_config)
        inputs = self.definition.config.get("in") or []
        config["wires"] = [
            [f"{self.id}-{wire['id']}" for wire in port.get("wires") or []] for port in inputs
        ] or [[]]
        return config

    def _env_entries(self) -> list[dict[str, Any]]:
        merged: dict[str, dict[str, Any]] = {}
        for entry in self.definition.config.get("env") or []:
            merged[entry["name"]] = entry
        for entry in self.instance_config.get("env") or []:
            merged[entry["name"]] = entry
        return list(merged.values())

    def build(self) -> None:
        self._wire_status_port()
        super().build()
        self._wire_passthrough()

    def _wire_status_port(self) -> None:
        status_port = self.definition.config.get("status")
        if not status_port:
            return
        self.status_node = SubflowStatusNode(
            {"id": f"{self.id}:status", "type": "subflow-status", "z": self.id, "wires": []}, self
        )
        self.runtime.register_node(self.status_node)
        for wire in status_port.get("wires") or []:
            inner = self.container.nodes.get(f"{self.id}-{wire['id']}")
            if inner is None:
                continue
            port = wire.get("port", 0)
            node_wires = inner.setdefault("wires", [])
            while len(node_wires) <= port:
                node_wires.append([])
            node_wires[port] = node_wires[port] + [self.status_node.id]

    def _wire_passthrough(self) -> None:
        # An output port wired straight from the subflow's input: the instance
        # node itself sends to the outer nodes.
        outer_wires = self.instance_config.get("wires") or []
        for port_index, port in enumerate(self.definition.config.get("out") or []):
            for wire in port.get("wires") or []:
                if wire.get("id") == self.definition.id:
                    extra = outer_wires[port_index] if port_index < len(outer_wires) else []
                    self.instance_node.wires[0] = self.instance_node.wires[0] + list(extra)

    def get_setting(self, key: str, *, group_id: str | None = None, node: Node | None = None) -> Any:
        if node is not None or group_id is not None:
            return super().get_setting(key, group_id=group_id, node=node)
        return self._own_setting(key)

    def _own_setting(self, key: str) -> Any:
        instance = self.instance_config
        if key in ("NR_NODE_NAME", "NR_SUBFLOW_NAME"):
            return instance.get("name") or ""
        if key in ("NR_NODE_ID", "NR_SUBFLOW_ID"):
            return instance["id"]
        if key in ("NR_NODE_PATH", "NR_SUBFLOW_PATH"):
            return self.path
        if key.startswith("$parent."):
            key = key[len("$parent.") :]
        elif key in self.env:
            return clone_value(self.env[key])
        assert isinstance(self.parent, Flow)
        return self.parent.get_setting(key, group_id=instance.get("g"))

    def handle_error(self, node: Node, error: Any, msg: Message | None, reporting: Node | None = None) -> bool:
        handled = super().handle_error(node, error, msg, reporting)
        if not handled:
            handled = self.parent_flow.handle_error(node, error, msg, self.instance_node)
        return handled

    def handle_status(self, node: Node, status: dict[str, Any], reporting: Node | None = None) -> bool:
        handled = super().handle_status(node, status, reporting)
        if not handled and (self.status_node is None or node is self.instance_node):
            handled = self.parent_flow.handle_status(node, status, self.instance_node)
        return handled


class SubflowInstanceNode(Node):
    """The node that stands for a subflow instance on its parent tab.

    Its input goes to the nodes wired to the subflow's input port. Like
    Node-RED's instance node it takes no part in completion tracking.
    """

    def __init__(self, config: dict[str, Any], flow: SubflowFlow) -> None:
        super().__init__(config, flow)
        self.subflow = flow

    def receive(self, msg: Message) -> None:
        self.send(msg)

    def status(self, status: Any) -> None:
        if not isinstance(status, dict):
            status = {"text": error_text(status)}
        self.runtime.emit_status(self, status)
        self.subflow.parent_flow.handle_status(self, status)


class SubflowStatusNode(Node):
    """The target of a subflow's status port: sets the instance node's status."""

    def receive(self, msg: Message) -> None:
        from runtime.jsinspect import inspect_value

        instance = self.flow.instance_node  # type: ignore[attr-defined]
        payload = msg.get("payload", UNDEFINED)
        if payload is not UNDEFINED:
            if isinstance(payload, str):
                instance.status({"text": payload})
                return
            if isinstance(payload, dict) and (
                not payload or any(k in payload for k in ("text", "fill", "shape"))
            ):
                instance.status(payload)
                return
            text = inspect_value(payload)
            instance.status({"text": text[:32] + "..." if len(text) > 32 else text})
        elif isinstance(msg.get("status"), dict):
            instance.status(msg["status"])
