"""Context scopes: nested keys, key lists, store prefixes and $parent."""

from __future__ import annotations

import logging

import pytest

from runtime.context import ContextError, ContextManager
from runtime.context.memory import MemoryStore
from runtime.jsvalues import UNDEFINED


def manager() -> ContextManager:
    return ContextManager({"memory": MemoryStore(), "other": MemoryStore()}, "memory")


def test_scope_sets_and_reads_nested_path() -> None:
    scope = manager().flow_scope("t1")

    scope.set("a.b[1].c", 5)

    assert scope.get("a") == {"b": [UNDEFINED, {"c": 5}]}
    assert scope.get("a.b[1].c") == 5
    assert scope.get("a.missing.deeper") is UNDEFINED


def test_scope_reads_and_writes_key_lists() -> None:
    scope = manager().global_scope

    scope.set(["x", "y"], [1, 2])

    assert scope.get(["x", "y", "z"]) == [1, 2, UNDEFINED]


def test_scope_uses_store_named_in_key_prefix() -> None:
    contexts = manager()
    scope = contexts.global_scope

    scope.set("#:(other)::k", "in other")

    assert scope.get("k") is UNDEFINED
    assert scope.get("k", "other") == "in other"
    assert scope.keys("other") == ["k"]


def test_subflow_scope_reaches_parent_with_parent_prefix() -> None:
    contexts = manager()
    tab = contexts.flow_scope("t1")
    subflow = contexts.flow_scope("inst1", "t1")

    subflow.set("$parent.shared", "from subflow")

    assert tab.get("shared") == "from subflow"
    assert subflow.get("$parent.shared") == "from subflow"
    assert subflow.get("shared") is UNDEFINED


def test_scope_writing_undefined_deletes_key() -> None:
    scope = manager().flow_scope("t1")
    scope.set("gone", 1)

    scope.set("gone", UNDEFINED)

    assert scope.keys() == []


def test_unknown_store_falls_back_to_default_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    scope = manager().global_scope

    with caplog.at_level(logging.WARNING, logger="outwire.runtime"):
        scope.set("k", 1, "nope")
        scope.set("k", 2, "nope")

    assert scope.get("k") == 2
    warnings = [r for r in caplog.records if "not configured" in r.getMessage()]
    assert len(warnings) == 1


def test_manager_rejects_unconfigured_default_store() -> None:
    with pytest.raises(ContextError, match=r"default context store 'file' is not configured"):
        ContextManager({"memory": MemoryStore()}, "file")


def test_shared_scope_write_bumps_version_and_node_write_does_not() -> None:
    contexts = manager()
    before = contexts.version
    contexts.flow_scope("t1").set("k", 1)
    after_flow = contexts.version

    from runtime.context import NodeContext

    NodeContext(contexts, "n1:t1", contexts.flow_scope("t1"), contexts.global_scope).set("k", 1)

    assert after_flow == before + 1
    assert contexts.version == after_flow
