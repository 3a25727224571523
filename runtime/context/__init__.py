"""Node, flow and global context, backed by named context stores.

Scopes follow Node-RED: a node's context is keyed ``<node id>:<flow id>``
(the template id for a node inside a subflow), a flow's context by the flow
id, and the global context by ``global``. A subflow instance's flow context
has the containing flow's context as parent, reached with ``$parent.key``.

Stores are chosen per call (``flow.get("k", "file")``) or with the key
prefix ``#:(file)::k``; without one, the default store is used. Every store
keeps its data in memory and answers synchronously, as function-node code
expects; persistent stores write behind (see ``filesystem``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from runtime.jsvalues import UNDEFINED
from runtime.propertypath import get_path, parse, set_path

if TYPE_CHECKING:
    from runtime.node import Node

log = logging.getLogger("outwire.runtime")

_STORE_PREFIX_RE = re.compile(r"^#:\((\S+?)\)::(.*)$")


class ContextStore(Protocol):
    """What a context store provides: a synchronous view over scoped key-value data."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    def get(self, scope: str, key: str) -> Any: ...

    def set(self, scope: str, key: str, value: Any) -> None: ...

    def keys(self, scope: str) -> list[str]: ...

    def delete(self, scope: str) -> None: ...


class ContextError(ValueError):
    """A context call that cannot be carried out, such as an unknown store."""


def parse_store_key(key: str, store: str | None) -> tuple[str, str | None]:
    """Split the ``#:(store)::key`` form into key and store name."""
    match = _STORE_PREFIX_RE.match(key)
    if match:
        return match.group(2), match.group(1)
    return key, store


_plain_keys: dict[str, bool] = {}


def _is_plain_key(key: str) -> bool:
    # A key with no store prefix, $parent or path syntax can go straight to
    # the store; function-node counters read and write such keys per message.
    plain = _plain_keys.get(key)
    if plain is None:
        plain = not (key.startswith(("#:", "$parent.")) or "." in key or "[" in key)
        if len(_plain_keys) < 10_000:
            _plain_keys[key] = plain
    return plain


class Scope:
    """One context scope (a node's, a flow's or the global one) over all stores."""

    # Whether other nodes can read this scope; writes to shared scopes bump
    # the manager's version so cached copies elsewhere are dropped.
    shared = True

    def __init__(self, manager: ContextManager, scope_id: str, parent: Scope | None = None) -> None:
        self._manager = manager
        self.scope_id = scope_id
        self.parent = parent

    def get(self, key: Any, store: str | None = None) -> Any:
        """Read a key (``a.b[0]`` paths allowed) or a list of keys."""
        if store is None and type(key) is str and _is_plain_key(key):
            return self._manager.default_store.get(self.scope_id, key)
        if isinstance(key, list):
            return [self.get(k, store) for k in key]
        key, store = parse_store_key(str(key), store)
        if key.startswith("$parent."):
            if self.parent is None:
                return UNDEFINED
            return self.parent.get(key[len("$parent.") :], store)
        parts = parse(key)
        root = self._manager.store(store).get(self.scope_id, str(parts[0]))
        if len(parts) == 1 or root is UNDEFINED:
            return root
        try:
            return get_path(root, parts[1:])
        except TypeError:
            return UNDEFINED

    def set(self, key: Any, value: Any = UNDEFINED, store: str | None = None) -> None:
        """Write a key, or several keys from parallel lists; writing undefined deletes."""
        if self.shared:
            self._manager.version += 1
        if store is None and type(key) is str and _is_plain_key(key):
            self._manager.default_store.set(self.scope_id, key, value)
            return
        if isinstance(key, list):
            values = value if isinstance(value, list) else [value]
            for index, k in enumerate(key):
                self.set(k, values[index] if index < len(values) else None, store)
            return
        key, store = parse_store_key(str(key), store)
        if key.startswith("$parent."):
            if self.parent is not None:
                self.parent.set(key[len("$parent.") :], value, store)
            return
        parts = parse(key)
        backend = self._manager.store(store)
        if len(parts) == 1:
            backend.set(self.scope_id, str(parts[0]), value)
            return
        root = backend.get(self.scope_id, str(parts[0]))
        if not isinstance(root, (dict, list)):
            if value is UNDEFINED:
                return
            root = {} if isinstance(parts[1], str) else []
        set_path(root, list(parts[1:]), value)
        backend.set(self.scope_id, str(parts[0]), root)

    def keys(self, store: str | None = None) -> list[str]:
        """List the top-level keys of this scope in one store."""
        return self._manager.store(store).keys(self.scope_id)


class NodeContext(Scope):
    """A node's own context, with the flow and global scopes beside it."""

    shared = False

    def __init__(self, manager: ContextManager, scope_id: str, flow: Scope, global_: Scope) -> None:
        super().__init__(manager, scope_id)
        self.flow = flow
        self.global_ = global_
        # Called before every access, for nodes that keep recent writes
        # elsewhere (the function node keeps them in JavaScript).
        self.before_access: Callable[[], None] | None = None

    def get(self, key: Any, store: str | None = None) -> Any:
        if self.before_access is not None:
            self.before_access()
        return super().get(key, store)

    def set(self, key: Any, value: Any = UNDEFINED, store: str | None = None) -> None:
        if self.before_access is not None:
            self.before_access()
        super().set(key, value, store)

    def keys(self, store: str | None = None) -> list[str]:
        if self.before_access is not None:
            self.before_access()
        return super().keys(store)


class ContextManager:
    """Own the configured stores and hand out scopes."""

    def __init__(self, stores: dict[str, ContextStore], default: str) -> None:
        if default not in stores:
            raise ContextError(
                f"default context store {default!r} is not configured; configured stores: "
                f"{', '.join(sorted(stores))}"
            )
        self._stores = stores
        self.default = default
        self.default_store = stores[default]
        # Bumped by every write through a scope; the function-node sandbox
        # keeps cached flow and global values only while it is unchanged.
        self.version = 0
        self._warned: set[str] = set()
        self.global_scope = Scope(self, "global")
        self._flow_scopes: dict[str, Scope] = {}

    def store(self, name: str | None) -> ContextStore:
        """Return the named store, or the default one for ``None``."""
        if name is None or name == "default":
            return self._stores[self.default]
        backend = self._stores.get(name)
        if backend is None:
            if name not in self._warned:
                self._warned.add(name)
                log.warning(
                    "context store %r is not configured; using the default store %r",
                    name,
                    self.default,
                )
            return self._stores[self.default]
        return backend

    @property
    def store_names(self) -> list[str]:
        return list(self._stores)

    async def open(self) -> None:
        for backend in self._stores.values():
            await backend.open()

    async def close(self) -> None:
        for backend in self._stores.values():
            await backend.close()

    def flow_scope(self, flow_id: str, parent_flow_id: str | None = None) -> Scope:
        """Return the flow context of ``flow_id`` (a subflow passes its parent's id)."""
        scope = self._flow_scopes.get(flow_id)
        if scope is None:
            parent = self.flow_scope(parent_flow_id) if parent_flow_id else None
            scope = Scope(self, flow_id, parent)
            self._flow_scopes[flow_id] = scope
        return scope

    def node_context(self, node: Node) -> NodeContext:
        """Return a node's context, keyed by its template id inside subflows."""
        flow_id = node.flow.id
        node_key = f"{node.alias or node.id}:{flow_id}"
        return NodeContext(self, node_key, node.flow.context, self.global_scope)

    def delete_scope(self, scope_id: str) -> None:
        """Forget a scope in every store (a node or flow was removed)."""
        for backend in self._stores.values():
            backend.delete(scope_id)
        self._flow_scopes.pop(scope_id, None)
