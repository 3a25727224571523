"""The runtime: loads a flow set, starts and stops its flows, and tracks work in flight.

Lifecycle, in order:

1. :meth:`Runtime.load` checks that every node type has a handler and keeps
   the flow set; it raises :class:`MissingTypesError` naming each missing type
   and the nodes that use it, before anything starts.
2. :meth:`Runtime.start` opens the context stores, builds every enabled tab
   (groups, config nodes, nodes, subflow instances), resolves wires, then
   calls each node's ``start``. Nodes are built in flow-file order.
3. Messages flow through the :class:`~runtime.router.Router`.
4. :meth:`Runtime.stop` stops delivery, stops the services, closes every
   node with a deadline (``node_close_timeout_s``), cancels the timers and
   tasks nodes left behind, and closes the context stores (the file store
   flushes).

Services (:class:`Service`, e.g. the HTTP server of ``http in`` nodes) are
runtime-wide helpers that nodes register with :meth:`Runtime.add_service`
while they are built. They start after every node has started and stop
before any node closes, so a service never calls into a node that is gone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from runtime import log as _log
from runtime.context import ContextManager, ContextStore
from runtime.context.filesystem import FileStore
from runtime.context.memory import MemoryStore
from runtime.envsubst import substitute_env
from runtime.flow import Flow, GlobalScope
from runtime.graph import SUBFLOW_TYPE_RE, Container, FlowSet
from runtime.jsinspect import log_text
from runtime.jsvalues import JSError
from runtime.message import Message, generate_id
from runtime.node import Node
from runtime.registry import NodeRegistry, default_registry
from runtime.router import Router
from runtime.settings import Settings

# The id of the flow that contains config nodes without a tab.
GLOBAL_FLOW_ID = "global"

LogListener = Callable[[dict[str, Any]], None]
StatusListener = Callable[[Node, dict[str, Any]], None]

_LEVELS = {
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": logging.DEBUG,
}


class Service(Protocol):
    """A runtime-wide helper with a lifecycle, such as a server that nodes share."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class MissingTypesError(RuntimeError):
    """The flow set uses node types that have no handler; nothing was started."""

    def __init__(self, missing: dict[str, list[str]]) -> None:
        self.missing = missing
        lines = [
            f"  {node_type}: used by {', '.join(ids[:10])}" + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
            for node_type, ids in sorted(missing.items())
        ]
        super().__init__(
            "the flow uses node types that Outwire does not provide; install a node package "
            "that provides them or remove those nodes:\n" + "\n".join(lines)
        )


class Runtime:
    """Run one flow set: the nodes, the message router, context and timers."""

    def __init__(self, settings: Settings | None = None, *, registry: NodeRegistry | None = None) -> None:
        self.settings = settings or Settings()
        self.registry = registry or default_registry()
        self.router = Router()
        self.contexts = ContextManager(self._make_stores(), self.settings.context_default_store)
        self.global_scope = GlobalScope(self)
        self.flow_set = FlowSet()
        self.flows: dict[str, Flow] = {}
        self.nodes: dict[str, Node] = {}
        self.started = False
        self.stopping = False
        self.log_listeners: list[LogListener] = []
        self.status_listeners: list[StatusListener] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle_waiters: list[asyncio.Future[None]] = []
        self.services: dict[str, Any] = {}
        self._lifecycle_services: dict[str, Service] = {}

    def _make_stores(self) -> dict[str, ContextStore]:
        stores: dict[str, ContextStore] = {"memory": MemoryStore()}
        stores["file"] = FileStore(
            self.settings.data_dir / "context", flush_interval_s=self.settings.context_flush_interval_s
        )
        return stores

    # -- loading -------------------------------------------------------------

    def load(self, flow_set: FlowSet) -> None:
        """Check node types and keep ``flow_set`` for :meth:`start`."""
        missing: dict[str, list[str]] = {}
        for node_type, configs in flow_set.node_types().items():
            if SUBFLOW_TYPE_RE.match(node_type):
                continue
            if self.registry.get(node_type) is None:
                missing[node_type] = [c["id"] for c in configs]
        if missing:
            raise MissingTypesError(missing)
        self.flow_set = flow_set

    # -- starting ------------------------------------------------------------

    async def start(self) -> None:
        """Build and start every enabled tab of the loaded flow set."""
        loop = asyncio.get_running_loop()
        self.router.bind(loop)
        self.router.stopped = False
        await self.contexts.open()
        for key, value in self.settings.function_global_context.items():
            self.contexts.global_scope.set(key, value)

        started_at = time.perf_counter()
        self._build_global_config_nodes()
        for tab in self.flow_set.tabs.values():
            if tab.disabled:
                _log.runtime_log.info("flow %s (%s) is disabled; not starting it", tab.id, tab.label)
                continue
            flow = Flow(self, tab, self.global_scope)
            self.flows[tab.id] = flow
            flow.build()

        for node in list(self.nodes.values()):
            self._resolve_wires(node)
        for node in list(self.nodes.values()):
            try:
                await node.start()
            except Exception as exc:  # noqa: BLE001 - one node's failure must not stop the others
                node.error(exc)
        # A service that cannot start (a port in use, say) fails the start.
        for service in list(self._lifecycle_services.values()):
            await service.start()
        self.started = True
        _log.runtime_log.info(
            "flows started: %d tabs, %d nodes, in %.0f ms",
            len(self.flows),
            len(self.nodes),
            (time.perf_counter() - started_at) * 1000,
        )

    def _build_global_config_nodes(self) -> None:
        """Build the config nodes that belong to no tab (a tls-config, say) before any flow.

        Node-RED keeps them in its global flow; here they get a flow of their own
        with no flow nodes, so errors they report go to the log.
        """
        if not self.flow_set.configs:
            return
        container = Container(GLOBAL_FLOW_ID, {"id": GLOBAL_FLOW_ID, "type": "tab", "label": ""})
        container.configs = self.flow_set.configs
        Flow(self, container, self.global_scope).build()

    def create_node(self, flow: Flow, config: dict[str, Any]) -> Node | None:
        """Build one node: substitute ``${VAR}`` properties, then call its handler class.

        A handler that raises while being built is logged against the node,
        and the node is left out, as Node-RED does.
        """
        node_class = self.registry.get(config["type"])
        if node_class is None:
            # load() checked every type; reaching here means a flow changed under us.
            raise RuntimeError(f"no handler for node type {config['type']!r} (node {config['id']!r})")
        config = substitute_env(config, flow)
        try:
            return node_class(config, flow)
        except Exception as exc:  # noqa: BLE001 - reported against the node, as Node-RED does
            entry = {"level": "error", "id": config["id"], "type": config["type"], "msg": exc}
            if config.get("name"):
                entry["name"] = config["name"]
            if config.get("_alias"):
                entry["alias"] = config["_alias"]
            self._emit_log_entry(entry, flow_id=flow.id, exc=exc)
            return None

    def register_node(self, node: Node) -> None:
        self.nodes[node.id] = node

    def _resolve_wires(self, node: Node) -> None:
        node.targets = [
            tuple(self.nodes[target] for target in port if target in self.nodes) for port in node.wires
        ]

    def get_node(self, node_id: str) -> Node | None:
        """Return a running node by id (inner subflow nodes use their full id)."""
        return self.nodes.get(node_id)

    # -- services --------------------------------------------------------------

    def add_service(self, name: str, service: Service) -> Service:
        """Register ``service`` under ``name`` unless one is there already; return the registered one.

        Registered services stay across stop and start (a redeploy): each
        :meth:`start` starts them and each :meth:`stop` stops them.
        """
        return self._lifecycle_services.setdefault(name, service)

    def get_service(self, name: str) -> Service | None:
        """Return the service registered under ``name``, or ``None``."""
        return self._lifecycle_services.get(name)

    # -- injection (tests, editor buttons, http) -------------------------------

    def inject(self, node_id: str, msg: Message | None = None) -> None:
        """Hand ``msg`` straight to a node's input, as ``node.receive(msg)`` does."""
        node = self.nodes.get(node_id)
        if node is None:
            raise KeyError(f"no running node with id {node_id!r}")
        msg = {} if msg is None else msg
        if not msg.get("_msgid"):
            msg["_msgid"] = generate_id()
        node.receive(msg)

    # -- timers and tasks that count as work in flight -----------------------

    def call_later(self, delay_s: float, callback: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        """Schedule ``callback`` like ``loop.call_later``, counted as pending work."""
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def fire() -> None:
            self._timers.discard(handle)
            try:
                callback(*args)
            finally:
                self._check_idle()

        handle = loop.call_later(max(0.0, delay_s), fire)
        self._timers.add(handle)
        return handle

    def cancel_timer(self, handle: asyncio.TimerHandle | None) -> None:
        """Cancel a timer from :meth:`call_later` (``None`` is ignored)."""
        if handle is None:
            return
        handle.cancel()
        self._timers.discard(handle)
        self._check_idle()

    def start_task(self, coro: Awaitable[Any], *, name: str | None = None) -> asyncio.Task[Any]:
        """Run ``coro`` as a task counted as pending work until it ends."""
        task = asyncio.ensure_future(coro)
        if name:
            task.set_name(name)
        self._tasks.add(task)

        def finished(done: asyncio.Task[Any]) -> None:
            self._tasks.discard(done)
            if not done.cancelled() and done.exception() is not None:
                _log.runtime_log.error("task %s failed", done.get_name(), exc_info=done.exception())
            self._check_idle()

        task.add_done_callback(finished)
        return task

    @property
    def busy(self) -> bool:
        """True while messages are queued or timers and tasks are pending."""
        return bool(self.router.pending or self._timers or self._tasks)

    async def wait_idle(self, *, settle_s: float = 0.0) -> None:
        """Wait until no message is in flight and no timer or task is pending."""
        while True:
            await self.router.wait_idle()
            if not self.busy:
                if settle_s <= 0:
                    return
                await asyncio.sleep(settle_s)
                if not self.busy:
                    return
                continue
            waiter = asyncio.get_running_loop().create_future()
            self._idle_waiters.append(waiter)
            await waiter

    def _check_idle(self) -> None:
        if self._idle_waiters and not (self._timers or self._tasks):
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    # -- logging and status ----------------------------------------------------

    def emit_node_log(self, node: Node, level: str, value: Any) -> None:
        entry: dict[str, Any] = {"level": level, "id": node.id, "type": node.type, "msg": value}
        if node.name:
            entry["name"] = node.name
        if node.alias:
            entry["alias"] = node.alias
        if self.stopping:
            entry["phase"] = "stop"
        self._emit_log_entry(entry, flow_id=node.flow_id)

    def _emit_log_entry(self, entry: dict[str, Any], *, flow_id: str | None, exc: BaseException | None = None) -> None:
        for listener in self.log_listeners:
            listener(entry)
        level = _LEVELS.get(entry["level"], logging.INFO)
        logger = _log.node_logger(entry["type"])
        # ValueError, SyntaxError and JSError report a bad node configuration to the
        # flow designer; a traceback is kept for other exceptions, which are bugs.
        if logger.isEnabledFor(level):
            logger.log(
                level,
                "%s",
                log_text(entry["msg"]),
                exc_info=exc if exc is not None and not isinstance(exc, (ValueError, SyntaxError, JSError)) else None,
                extra=_log.node_extra(flow_id, entry["id"], entry["type"]),
            )

    def emit_status(self, node: Node, status: dict[str, Any]) -> None:
        for listener in self.status_listeners:
            listener(node, status)

    # -- stopping ------------------------------------------------------------

    async def stop(self) -> None:
        """Stop delivery, close every node within its deadline, close context stores."""
        if not self.started:
            await self.contexts.close()
            return
        self.stopping = True
        dropped = self.router.clear()
        self.router.stopped = True
        if dropped:
            _log.runtime_log.info("dropped %d queued messages while stopping", dropped)

        for name, service in list(self._lifecycle_services.items()):
            try:
                await service.stop()
            except Exception:  # noqa: BLE001 - the nodes must still close
                _log.runtime_log.error("service %s failed to stop", name, exc_info=True)

        nodes = list(self.nodes.values())
        results = await asyncio.gather(*(self._close_node(node) for node in nodes), return_exceptions=True)
        for node, result in zip(nodes, results):
            if isinstance(result, BaseException):
                node.error(f"failed to close: {result}")

        for handle in list(self._timers):
            handle.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._check_idle()

        try:
            # The file store writes what changed since its last flush; an OSError goes to the caller.
            await self.contexts.close()
        finally:
            self.started = False
            self.stopping = False
            self.flows.clear()
            self.nodes.clear()
            _log.runtime_log.info("stopped all flows")

    async def _close_node(self, node: Node) -> None:
        timeout_s = self.settings.node_close_timeout_s
        try:
            await asyncio.wait_for(node.close(False), timeout=timeout_s)
        except asyncio.TimeoutError:
            node.error(f"Error stopping node: Close timed out after {timeout_s:g} s")
