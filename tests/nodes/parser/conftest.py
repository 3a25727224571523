"""Fixtures for the parser node tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest


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
