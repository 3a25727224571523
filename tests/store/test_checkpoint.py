"""Background WAL checkpoints of the SQLite store."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from runtime.store.checkpoint import WalCheckpointer


def _write_to_wal(path: Path, rows: int) -> sqlite3.Connection:
    """Write ``rows`` rows that stay in the WAL; the caller closes the returned connection.

    Closing the last connection checkpoints, so the connection stays open
    while the test looks at the database file.
    """
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    connection.executemany("INSERT INTO items (text) VALUES (?)", [("x" * 500,) for _ in range(rows)])
    return connection


def test_checkpointer_copies_wal_into_database(tmp_path: Path) -> None:
    path = tmp_path / "contacts.db"
    writer = _write_to_wal(path, 2000)
    try:
        size_before = path.stat().st_size

        checkpointer = WalCheckpointer(str(path))
        checkpointer.request()
        checkpointer.close()

        assert size_before < 100_000
        assert path.stat().st_size > 1_000_000
    finally:
        writer.close()


def test_checkpointer_logs_failure_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    checkpointer = WalCheckpointer(str(tmp_path / "missing" / "contacts.db"))

    with caplog.at_level(logging.WARNING, logger="outwire.store"):
        for _ in range(3):
            checkpointer.request()
            checkpointer.wait()
        checkpointer.close()

    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1
    assert "background WAL checkpoint of" in messages[0]
    assert "the writer checkpoints by itself" in messages[0]
