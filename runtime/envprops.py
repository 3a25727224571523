"""Evaluate the typed environment variables of tabs, groups and subflow instances.

Each entry is ``{"name", "type", "value"}`` as the editor stores it. Entries
of type ``env`` are evaluated last because they may name other variables of
the same level; an ``env`` entry naming itself reads the parent's value. An
entry that fails to evaluate is logged against the flow and left undefined.
"""

from __future__ import annotations

from typing import Any

from runtime.jsvalues import UNDEFINED
from runtime.log import runtime_log
from runtime.typed import TypedValue, evaluate_env


class _EnvView:
    """The minimal node-like object typed values need while a level's env is evaluated."""

    def __init__(self, owner: Any, evaluated: dict[str, Any]) -> None:
        self._owner = owner
        self._evaluated = evaluated

    def get_setting(self, name: str) -> Any:
        if name in self._evaluated:
            return self._evaluated[name]
        return self._owner_parent_setting(name)

    def _owner_parent_setting(self, name: str) -> Any:
        if name.startswith("$parent."):
            name = name[len("$parent.") :]
        return self._owner.parent.get_setting(name)

    def context(self) -> Any:
        runtime = getattr(self._owner, "runtime", None)
        if runtime is None:
            raise RuntimeError("context is not available while evaluating group variables")
        return _FlowContextView(self._owner)


class _FlowContextView:
    def __init__(self, flow: Any) -> None:
        self.flow = flow.context
        self.global_ = flow.runtime.contexts.global_scope


def evaluate_env_list(owner: Any, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Return ``{name: value}`` for one level's env entries; ``owner`` is the flow or group."""
    evaluated: dict[str, Any] = {}
    deferred: list[dict[str, Any]] = []
    view = _EnvView(owner, evaluated)
    for entry in entries:
        name, kind, value = entry.get("name"), entry.get("type", "str"), entry.get("value")
        if not isinstance(name, str):
            continue
        if kind == "env":
            deferred.append(entry)
            continue
        if kind == "bool":
            evaluated[name] = value is True or value == "true"
            continue
        if kind == "cred":
            evaluated[name] = value if value is not None else UNDEFINED
            continue
        try:
            evaluated[name] = TypedValue(value, kind, view).evaluate({})  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - logged, and the variable stays undefined
            evaluated[name] = UNDEFINED
            runtime_log.error(
                "error evaluating env property %r of %s: %s", name, getattr(owner, "id", "?"), exc
            )

    for entry in deferred:
        name, value = entry["name"], str(entry.get("value", ""))
        if value == name:
            value = f"$parent.{name}"
        if value in evaluated:
            evaluated[name] = evaluated[value]
        else:
            evaluated[name] = evaluate_env(value, view)
    return evaluated
