"""The persistent file context store."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from runtime.context.filesystem import FileStore
from runtime.jsvalues import UNDEFINED


async def test_file_store_keeps_values_across_restart(tmp_path: Path) -> None:
    store = FileStore(tmp_path, flush_interval_s=0)
    await store.open()
    store.set("global", "count", 3)
    store.set("t1", "buffer", bytearray(b"\x00\xff"))
    store.set("n1:t1", "when", dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc))
    await store.close()

    reopened = FileStore(tmp_path, flush_interval_s=0)
    await reopened.open()

    assert reopened.get("global", "count") == 3
    assert reopened.get("t1", "buffer") == bytearray(b"\x00\xff")
    assert reopened.get("n1:t1", "when") == dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    assert (tmp_path / "t1" / "n1.json").is_file()
    await reopened.close()


async def test_file_store_deleting_scope_removes_its_file(tmp_path: Path) -> None:
    store = FileStore(tmp_path, flush_interval_s=0)
    await store.open()
    store.set("t1", "k", 1)
    store.flush()
    store.delete("t1")
    await store.close()

    assert not (tmp_path / "t1" / "flow.json").exists()


async def test_file_store_retries_scopes_after_failed_flush(tmp_path: Path) -> None:
    store = FileStore(tmp_path, flush_interval_s=0)
    await store.open()
    store.set("global", "count", 1)
    store.set("t1", "count", 2)
    # A file where the flow's folder should be makes that scope's write fail.
    (tmp_path / "t1").write_text("in the way", encoding="utf-8")

    with pytest.raises(OSError):
        store.flush()
    (tmp_path / "t1").unlink()
    await store.close()

    assert json.loads((tmp_path / "global" / "global.json").read_text(encoding="utf-8")) == {"count": 1}
    assert json.loads((tmp_path / "t1" / "flow.json").read_text(encoding="utf-8")) == {"count": 2}


async def test_file_store_sets_aside_corrupt_file_and_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "global").mkdir()
    (tmp_path / "global" / "global.json").write_text("{not json", encoding="utf-8")
    store = FileStore(tmp_path, flush_interval_s=0)

    with caplog.at_level(logging.ERROR, logger="outwire.runtime"):
        await store.open()

    assert store.get("global", "anything") is UNDEFINED
    assert (tmp_path / "global" / "global.json.corrupt").read_text(encoding="utf-8") == "{not json"
    assert any("is unreadable" in r.getMessage() for r in caplog.records)
    await store.close()


async def test_file_store_never_leaves_ids_outside_its_directory(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "ctx", flush_interval_s=0)
    await store.open()
    store.set("../../evil", "k", 1)
    store.set("../x:..", "k", 2)
    await store.close()

    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json"))
    assert all(path.startswith("ctx/") for path in written), written
    assert json.loads((tmp_path / "ctx" / ".._.._evil" / "flow.json").read_text()) == {"k": 1}
