"""Replace ``${VAR}`` node properties with environment values when a node is built.

As in Node-RED, only a string that is *entirely* ``${NAME}`` (or the old
``$(NAME)`` form) is replaced, at any depth of the node's properties; text
around a reference is left alone. The value comes from the node's view of
the environment (node ids, groups, tab, subflow instance, process), and a
name that resolves to nothing leaves the string unchanged.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from runtime.jsvalues import UNDEFINED

if TYPE_CHECKING:
    from runtime.flow import Flow

_ENV_REF_RE = re.compile(r"^\$\{(\S+)\}$|^\$\((\S+)\)$")

# Keys that are structure, not settings: never substituted.
_SKIPPED_KEYS = frozenset({"id", "type", "z", "g", "wires", "_alias", "x", "y"})


def substitute_env(config: dict[str, Any], flow: Flow) -> dict[str, Any]:
    """Return a copy of ``config`` with whole-string ``${VAR}`` values replaced."""
    config = copy.deepcopy(config)
    group_id = config.get("g")

    def lookup(name: str) -> Any:
        if name == "NR_NODE_ID":
            return config["id"]
        if name == "NR_NODE_NAME":
            return config.get("name", UNDEFINED)
        return flow.get_setting(name, group_id=group_id)

    for key in list(config):
        if key not in _SKIPPED_KEYS:
            config[key] = _walk(config[key], lookup)
    return config


def _walk(value: Any, lookup: Any) -> Any:
    if isinstance(value, str):
        if value.startswith("$"):
            match = _ENV_REF_RE.match(value)
            if match:
                replacement = lookup(match.group(1) or match.group(2))
                if replacement is not UNDEFINED:
                    return replacement
        return value
    if isinstance(value, list):
        return [_walk(item, lookup) for item in value]
    if isinstance(value, dict):
        return {k: _walk(v, lookup) for k, v in value.items()}
    return value
