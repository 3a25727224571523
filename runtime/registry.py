"""The node type registry: which Python class handles which flow-file type.

Core and campaign node types register themselves when ``nodes`` is imported.
Third-party packages add types through the ``outwire.nodes`` entry point
group; each entry point names a module, imported for its
:func:`register` calls, or a :class:`~runtime.node.Node` subclass.
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runtime.node import Node

log = logging.getLogger("outwire.runtime")

ENTRY_POINT_GROUP = "outwire.nodes"

_builtin: dict[str, type[Node]] = {}


def register(node_class: type[Node]) -> type[Node]:
    """Class decorator: make ``node_class`` the handler of its ``type_name``."""
    if not node_class.type_name:
        raise ValueError(f"{node_class.__qualname__} has no type_name; set it to the flow-file type")
    _builtin[node_class.type_name] = node_class
    return node_class


class NodeRegistry:
    """Map node type names to handler classes for one runtime."""

    def __init__(self, types: dict[str, type[Node]] | None = None) -> None:
        self._types: dict[str, type[Node]] = dict(types or {})

    def get(self, type_name: str) -> type[Node] | None:
        return self._types.get(type_name)

    def add(self, node_class: type[Node]) -> None:
        """Add or replace the handler for ``node_class.type_name``."""
        if not node_class.type_name:
            raise ValueError(f"{node_class.__qualname__} has no type_name; set it to the flow-file type")
        self._types[node_class.type_name] = node_class

    def types(self) -> list[str]:
        return sorted(self._types)


def load_builtin_nodes() -> None:
    """Import every core and campaign node module so they register."""
    importlib.import_module("nodes")


def load_entry_point_nodes(registry: NodeRegistry) -> None:
    """Register node types from installed packages' ``outwire.nodes`` entry points.

    A package that fails to import is logged and skipped, so one broken node
    package cannot stop flows that do not use it; flows that do use its types
    then fail the missing-type check with the type names.
    """
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        before = dict(_builtin)
        try:
            loaded = entry.load()
        except Exception:  # noqa: BLE001 - logged with the package name, see docstring
            log.error("node package entry point %r (%s) failed to load", entry.name, entry.value, exc_info=True)
            continue
        if isinstance(loaded, type) and getattr(loaded, "type_name", ""):
            registry.add(loaded)
        for type_name, node_class in _builtin.items():
            if before.get(type_name) is not node_class:
                registry.add(node_class)


def default_registry() -> NodeRegistry:
    """Return a registry with every built-in type and every installed node package."""
    load_builtin_nodes()
    registry = NodeRegistry(_builtin)
    load_entry_point_nodes(registry)
    return registry
