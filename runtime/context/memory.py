"""The in-memory context store: Node-RED's default, lost when the process stops."""

from __future__ import annotations

from typing import Any

from runtime.jsvalues import UNDEFINED


class MemoryStore:
    """Keep context values in dicts, one per scope.

    Values are stored by reference, as Node-RED's memory store does: an object
    read with ``get`` and then changed is changed in the context too.
    """

    def __init__(self) -> None:
        self._scopes: dict[str, dict[str, Any]] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def get(self, scope: str, key: str) -> Any:
        data = self._scopes.get(scope)
        if data is None:
            return UNDEFINED
        return data.get(key, UNDEFINED)

    def set(self, scope: str, key: str, value: Any) -> None:
        if value is UNDEFINED:
            data = self._scopes.get(scope)
            if data is not None:
                data.pop(key, None)
            return
        self._scopes.setdefault(scope, {})[key] = value

    def keys(self, scope: str) -> list[str]:
        return list(self._scopes.get(scope, {}))

    def delete(self, scope: str) -> None:
        self._scopes.pop(scope, None)

    def scopes(self) -> dict[str, dict[str, Any]]:
        """Return every scope's data (the live dicts, for stores built on this one)."""
        return self._scopes
