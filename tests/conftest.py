"""Fixtures shared by the store and contacts tests: a MongoDB-wire server and one store per backend.

MongoDB tests use ``$OUTWIRE_TEST_MONGODB_URL`` when it is set. Otherwise one
FerretDB server starts for the session on a free port of 127.0.0.1 and stops
at the end. Without a FerretDB binary the MongoDB tests are skipped with one
loud line, except under CI (``CI`` set), where they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from runtime.store import ContactStore, open_store
from tests.support.ferretdb import FerretDBServer, FerretDBUnavailable, find_ferretdb

_mongodb_unavailable: list[str] = []


@pytest.fixture(scope="session")
def mongodb_url() -> Iterator[str]:
    """Return the base URL of a MongoDB-wire server for this test session."""
    url = os.environ.get("OUTWIRE_TEST_MONGODB_URL")
    if url:
        yield url
        return
    try:
        binary = find_ferretdb()
    except FerretDBUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"MongoDB tests must run in CI: {exc}")
        _mongodb_unavailable.append(str(exc))
        pytest.skip(f"MONGODB TESTS SKIPPED: {exc}")
    with FerretDBServer(binary) as server:
        yield server.url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _mongodb_unavailable:
        terminalreporter.write_line(
            f"!!! MONGODB TESTS SKIPPED: {_mongodb_unavailable[0]}", red=True, bold=True
        )


def database_url(base_url: str, database: str) -> str:
    """Return ``base_url`` pointing at ``database``, keeping any query options."""
    head, _, query = base_url.partition("?")
    scheme, _, rest = head.partition("://")
    hosts = rest.split("/", 1)[0]
    return f"{scheme}://{hosts}/{database}" + (f"?{query}" if query else "")


@pytest.fixture(params=["sqlite", "mongodb"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Yield the URL of an empty store of each kind; MongoDB databases are dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'contacts.db'}"
        return
    base = request.getfixturevalue("mongodb_url")
    database = "outwire_test_" + uuid.uuid4().hex[:10]
    yield database_url(base, database)

    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(base)
    await client.drop_database(database)
    await client.close()


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[ContactStore]:
    """Yield an opened, empty store of each kind."""
    async with open_store(store_url) as opened:
        yield opened


@pytest.fixture(scope="session", autouse=True)
def _current_event_loop() -> Iterator[None]:
    """Give the session a current event loop and close it at the end.

    pytest-asyncio 1.5 asks for the current loop before an async test; after a
    synchronous test there is none, so asyncio creates one that is never
    closed, and ``filterwarnings = error`` turns its ResourceWarning into a
    failure (a known pytest-asyncio bug, open upstream as of 1.5).
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()
