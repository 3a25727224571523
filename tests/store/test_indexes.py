"""The indexes each store creates for identifier lookups and for dispatch."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from runtime.store import open_store
from tests.conftest import database_url


async def test_sqlite_indexes_created(tmp_path: Path) -> None:
    path = tmp_path / "contacts.db"
    async with open_store(f"sqlite:///{path}"):
        pass

    with sqlite3.connect(path) as connection:
        indexes = {
            row[1]: bool(row[2]) for row in connection.execute("PRAGMA index_list('contacts')")
        }
        dispatch_columns = [row[2] for row in connection.execute("PRAGMA index_info('contacts_dispatch')")]
        journal_mode = connection.execute("PRAGMA journal_mode").fetchone()[0]

    assert any(unique for name, unique in indexes.items() if name.startswith("sqlite_autoindex_contacts"))
    assert dispatch_columns == ["campaign", "state", "upload_seq", "next_attempt_at"]
    assert journal_mode == "wal"


async def test_mongodb_indexes_created(mongodb_url: str) -> None:
    url = database_url(mongodb_url, "outwire_test_indexes")
    async with open_store(url):
        pass

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongodb_url)
    try:
        contacts = client["outwire_test_indexes"]["contacts"]
        indexes = {index["name"]: index async for index in await contacts.list_indexes()}
        assert indexes["campaign_identifier"].get("unique") is True
        assert list(indexes["campaign_identifier"]["key"]) == ["campaign", "identifier"]
        assert list(indexes["dispatch"]["key"]) == ["campaign", "state", "upload_seq", "next_attempt_at"]

        await contacts.insert_one({"_id": "x:1", "campaign": "x", "identifier": "1"})
        with pytest.raises(DuplicateKeyError):
            await contacts.insert_one({"_id": "x:other", "campaign": "x", "identifier": "1"})
    finally:
        await client.drop_database("outwire_test_indexes")
        await client.close()
