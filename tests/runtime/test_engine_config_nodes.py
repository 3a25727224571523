"""Config nodes that belong to no tab are built when the runtime starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runtime.engine import Runtime
from runtime.graph import build_flow_set
from runtime.node import Node
from runtime.registry import NodeRegistry
from runtime.settings import Settings


class SettingsHolderNode(Node):
    type_name = "test-settings-holder"


async def test_global_config_node_is_built(tmp_path: Path) -> None:
    flow: list[dict[str, Any]] = [
        {"id": "t", "type": "tab", "label": "t"},
        {"id": "cfg", "type": "test-settings-holder", "name": "shared"},
    ]
    runtime = Runtime(Settings(data_dir=tmp_path), registry=NodeRegistry({SettingsHolderNode.type_name: SettingsHolderNode}))
    runtime.load(build_flow_set(flow))
    await runtime.start()

    config_node = runtime.get_node("cfg")
    assert isinstance(config_node, SettingsHolderNode)
    assert config_node.name == "shared"
    await runtime.stop()
