"""Read and validate a Node-RED flow file.

Accepts what the editor exports (a JSON array of objects) and what the
Admin API stores (``{"flows": [...], "rev": "..."}``). Validation runs in two
steps: a JSON schema for the shape of every object, then checks that need the
whole file (duplicate ids, subflow instances of unknown subflows, subflows
that contain themselves). Every error names the file, and where it applies
the node id, type and tab.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from runtime.graph import SUBFLOW_TYPE_RE, FlowSet, build_flow_set

# A flow file larger than this is almost certainly not a flow file; reading it
# whole into memory would be the real danger. By estimate (about 600 bytes a node) 64 MiB is room for 100,000 nodes.
MAX_FLOW_FILE_BYTES = 64 * 1024 * 1024

_WIRE_PORTS = {
    "type": "array",
    "items": {"type": "array", "items": {"type": "string"}},
}

NODE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "type": {"type": "string", "minLength": 1},
        "z": {"type": "string"},
        "g": {"type": "string"},
        "name": {"type": ["string", "null"]},
        "d": {"type": "boolean"},
        "wires": _WIRE_PORTS,
        "x": {"type": "number"},
        "y": {"type": "number"},
        "env": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "type": {"type": "string"}},
            },
        },
    },
}

SUBFLOW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "in": {"type": "array", "maxItems": 1},
        "out": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "wires": {
                        "type": "array",
                        "items": {"type": "object", "required": ["id"]},
                    }
                },
            },
        },
    },
}


class FlowFileError(ValueError):
    """A flow file that cannot be loaded. The message names where the problem is and how to fix it."""


def load_flow_file(path: str | Path) -> FlowSet:
    """Read, validate and sort the flow file at ``path``."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise FlowFileError(f"{path}: flow file not found; check the path") from None
    if size > MAX_FLOW_FILE_BYTES:
        raise FlowFileError(
            f"{path}: flow file is {size} bytes, larger than the {MAX_FLOW_FILE_BYTES}-byte limit; "
            "is this really a Node-RED flow export?"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FlowFileError(
            f"{path}: not UTF-8 text (byte {exc.start}); export the flow again from the editor"
        ) from exc
    except OSError as exc:
        raise FlowFileError(
            f"{path}: cannot read the flow file ({exc.strerror}); give the path of a readable JSON file"
        ) from exc
    return parse_flow_text(text, source=str(path))


def parse_flow_text(text: str, *, source: str = "<flows>") -> FlowSet:
    """Parse flow-file JSON text; ``source`` names it in error messages."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FlowFileError(
            f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    objects, rev = _unwrap(data, source)
    validate_flow_objects(objects, source=source)
    return build_flow_set(objects, rev=rev)


def _unwrap(data: Any, source: str) -> tuple[list[dict[str, Any]], str | None]:
    if isinstance(data, list):
        return data, None
    if isinstance(data, dict) and isinstance(data.get("flows"), list):
        rev = data.get("rev")
        return data["flows"], rev if isinstance(rev, str) else None
    raise FlowFileError(
        f"{source}: expected a JSON array of nodes or an object with a \"flows\" array, "
        f"found a JSON {type(data).__name__}; export the flow from the Node-RED editor"
    )


def validate_flow_objects(objects: list[Any], *, source: str = "<flows>") -> None:
    """Check every object's shape and the file-wide rules; raise :class:`FlowFileError`."""
    # Ids are checked below, so a tab whose id is not a string is left out here.
    tabs = {
        o["id"]: o
        for o in objects
        if isinstance(o, dict) and o.get("type") == "tab" and isinstance(o.get("id"), str)
    }
    node_validator = jsonschema.Draft202012Validator(NODE_SCHEMA)
    subflow_validator = jsonschema.Draft202012Validator(SUBFLOW_SCHEMA)

    seen: dict[str, int] = {}
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict):
            raise FlowFileError(
                f"{source}: item {index} is a JSON {type(obj).__name__}, expected an object "
                "with \"id\" and \"type\""
            )
        errors = list(node_validator.iter_errors(obj))
        if obj.get("type") == "subflow":
            errors += list(subflow_validator.iter_errors(obj))
        if errors:
            raise FlowFileError(_describe_schema_error(source, index, obj, errors[0], tabs))

        node_id = obj["id"]
        if node_id in seen:
            raise FlowFileError(
                f"{source}: {_where(obj, tabs)} uses id {node_id!r}, already used by item "
                f"{seen[node_id]}; node ids must be unique, export the flow again"
            )
        seen[node_id] = index

    subflow_ids = {o["id"] for o in objects if o["type"] == "subflow"}
    for obj in objects:
        match = SUBFLOW_TYPE_RE.match(obj["type"])
        if match and match.group(1) not in subflow_ids:
            raise FlowFileError(
                f"{source}: {_where(obj, tabs)} is an instance of subflow {match.group(1)!r}, "
                "which is not defined in this file; export the subflow together with the flow"
            )

    cycle = _find_subflow_cycle(objects)
    if cycle:
        raise FlowFileError(
            f"{source}: subflow {cycle[0]!r} contains an instance of itself ({' -> '.join(cycle)}); "
            "a subflow cannot run inside itself, remove that subflow instance"
        )


def _find_subflow_cycle(objects: list[dict[str, Any]]) -> list[str] | None:
    """Return a chain of subflow ids whose last one instantiates the first, or None.

    Each subflow instance expands its definition when the flow starts, so a
    cycle would expand without end. The search is iterative because a chain
    of nested subflows may be longer than Python's recursion limit.
    """
    # Subflow id -> ids of the subflows it has instances of, in file order.
    contains: dict[str, list[str]] = {o["id"]: [] for o in objects if o["type"] == "subflow"}
    for obj in objects:
        match = SUBFLOW_TYPE_RE.match(obj["type"])
        if match and obj.get("z") in contains:
            contains[obj["z"]].append(match.group(1))

    finished: set[str] = set()
    for start in contains:
        if start in finished:
            continue
        path = [start]
        children = [iter(contains[start])]
        while children:
            child = next(children[-1], None)
            if child is None:
                finished.add(path.pop())
                children.pop()
            elif child in path:
                return path[path.index(child):] + [child]
            elif child not in finished:
                path.append(child)
                children.append(iter(contains[child]))
    return None


def _describe_schema_error(
    source: str,
    index: int,
    obj: dict[str, Any],
    error: jsonschema.ValidationError,
    tabs: dict[str, Any],
) -> str:
    location = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    shown = json.dumps(error.instance)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    where = _where(obj, tabs) if isinstance(obj.get("id"), str) else f"item {index}"
    if error.validator == "required":
        return f"{source}: {where}: {error.message}; every node needs an \"id\" and a \"type\""
    return (
        f"{source}: {where}: property {location.lstrip('.') or '(node)'} is {shown}, "
        f"which is invalid ({error.message}); fix or re-export the node"
    )


def _where(obj: dict[str, Any], tabs: dict[str, Any]) -> str:
    text = f"node {obj.get('id')!r} (type {obj.get('type')!r}"
    tab_id = obj.get("z")
    if tab_id and isinstance(tab_id, str):
        tab = tabs.get(tab_id)
        label = tab.get("label") if isinstance(tab, dict) else None
        text += f", tab {tab_id!r}" + (f" {label!r}" if label else "")
    return text + ")"
