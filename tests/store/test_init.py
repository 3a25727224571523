"""Choosing a store by URL, and keeping passwords out of messages."""

from __future__ import annotations

import re

import pytest

from runtime.store import StoreURLError, open_store, redact_url
from runtime.store.mongodb import MongoContactStore
from runtime.store.sqlite import SQLiteContactStore


def test_open_store_picks_sqlite_for_sqlite_url() -> None:
    store = open_store("sqlite:////var/lib/outwire/outwire.db")

    assert isinstance(store, SQLiteContactStore)
    assert store.path == "/var/lib/outwire/outwire.db"


def test_open_store_picks_mongodb_with_database_from_path() -> None:
    store = open_store("mongodb://127.0.0.1:27017/campaigns?retryWrites=true")

    assert isinstance(store, MongoContactStore)
    assert store.database_name == "campaigns"


def test_open_store_defaults_mongodb_database() -> None:
    store = open_store("mongodb://127.0.0.1:27017")

    assert isinstance(store, MongoContactStore)
    assert store.database_name == "outwire"


@pytest.mark.parametrize("url", ["postgres://db/outwire", "sqlite://relative.db", "sqlite:///", ""])
def test_open_store_rejects_unknown_url(url: str) -> None:
    with pytest.raises(StoreURLError, match="invalid store URL .*: use mongodb://HOST"):
        open_store(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mongodb://", "Must provide at least one hostname or IP"),
        ("mongodb://db:99999/outwire", "Port must be an integer between 0 and 65535"),
        ("mongodb://[db/outwire", "an IPv6 address literal must be enclosed"),
        ("mongodb+srv://[db/outwire", "Invalid IPv6 URL"),
    ],
)
def test_open_store_rejects_malformed_mongodb_url(url: str, reason: str) -> None:
    with pytest.raises(StoreURLError, match=rf"invalid MongoDB URL '{re.escape(url)}': {reason}.*; fix the URL"):
        open_store(url)


def test_open_store_error_hides_password() -> None:
    with pytest.raises(StoreURLError) as raised:
        open_store("postgres://admin:s3cret@db/outwire")

    assert "s3cret" not in str(raised.value)
    assert "admin:***@db" in str(raised.value)


def test_redact_url_replaces_password() -> None:
    assert redact_url("mongodb://app:pa55@db1:27017,db2:27017/outwire") == "mongodb://app:***@db1:27017,db2:27017/outwire"
    assert redact_url("mongodb://db1/outwire") == "mongodb://db1/outwire"
