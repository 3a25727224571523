"""MongoDB store behaviour that the store contract does not cover."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_mongodb_store_reports_unreachable_server(tmp_path: Path) -> None:
    # Port 1 on this machine refuses connections, so the client gives up after its
    # selection timeout. A subprocess, because pymongo's async client leaves the
    # refused socket for the garbage collector, which pytest reports as an error.
    url = "mongodb://app:secret@127.0.0.1:1/outwire?serverSelectionTimeoutMS=200"

    result = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "contacts", "list", "--campaign", "spring", "--store", url],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 1
    assert result.stderr.startswith("outwire: store mongodb://app:***@127.0.0.1:1/")
    assert "failed: cannot reach the server within 0.2 s (127.0.0.1:1: " in result.stderr
    assert "check the host and port in the URL and that MongoDB is running" in result.stderr
    assert "Topology Description" not in result.stderr
    assert "secret" not in result.stderr
