"""The ``outwire contacts`` commands, run through the real argument parser."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runtime.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "examples" / "contacts-sample.csv"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["contacts", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _define_sample_fields(capsys: pytest.CaptureFixture[str], store: str) -> None:
    for field, kind, extra in [("plan", "enum", ["--values", "gold,silver"]), ("score", "number", []),
                               ("vip", "boolean", []), ("renewal_date", "date", [])]:
        status, _, err = _run(capsys, "add-field", "--campaign", "spring", "--store", store, field, kind, *extra)
        assert status == 0, err


def test_contacts_import_list_and_delete(capsys: pytest.CaptureFixture[str], store_url: str) -> None:
    status, _, err = _run(capsys, "create-campaign", "--campaign", "spring", "--region", "GB", "--store", store_url)
    assert status == 0, err
    _define_sample_fields(capsys, store_url)

    status, out, err = _run(capsys, "import", "--campaign", "spring", "--store", store_url, str(SAMPLE))
    assert status == 0, err
    assert "inserted             4" in out
    upload_id = out.split()[1].rstrip(":")

    status, out, _ = _run(capsys, "list", "--campaign", "spring", "--store", store_url, "--json")
    contacts = json.loads(out)
    assert status == 0
    assert [contact["first_name"] for contact in contacts] == ["Ann", "Bruno", "Chloé", "Dara"]
    assert contacts[2]["email"] == "chloe.martin@example.fr"
    assert contacts[2]["phone"] == "+33612345678"
    assert contacts[0]["plan"] == "gold"
    assert contacts[0]["upload_ids"] == [upload_id]

    status, out, _ = _run(capsys, "uploads", "--campaign", "spring", "--store", store_url)
    assert status == 0
    assert upload_id in out
    assert "finished" in out

    status, out, _ = _run(capsys, "delete-upload", "--campaign", "spring", "--store", store_url, upload_id)
    assert status == 0
    assert f"upload {upload_id}: removed 4 contacts, kept 0" in out


def test_contacts_import_creates_campaign_when_asked(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'o.db'}"
    csv_path = tmp_path / "c.csv"
    csv_path.write_text("email;name\nANN@example.com;Ann\nnot-an-email;Bob\n")

    status, out, err = _run(capsys, "import", "--campaign", "news", "--create-campaign", "--identifier", "email",
                            "--store", store, "--rejects", str(tmp_path / "rejects.csv"), str(csv_path))

    assert status == 0, err
    assert "created campaign 'news' keyed on email" in err
    assert "ignored columns: name" in out
    assert "line 3: email: 'not-an-email' is not a valid email address" in out
    assert (tmp_path / "rejects.csv").read_text().splitlines()[1] == "3,email,'not-an-email' is not a valid email address"


def test_contacts_import_json_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'o.db'}"
    _run(capsys, "create-campaign", "--campaign", "spring", "--store", store)

    status, out, _ = _run(capsys, "import", "--campaign", "spring", "--store", store, "--json", str(SAMPLE))

    report = json.loads(out)
    assert status == 0
    assert report["rows_read"] == 4
    assert report["ignored_columns"] == ["plan", "score", "vip", "renewal_date"]


def test_contacts_import_rejects_unknown_campaign(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = _run(capsys, "import", "--campaign", "winter", "--store", f"sqlite:///{tmp_path / 'o.db'}",
                          str(SAMPLE))

    assert status == 2
    assert err == "outwire: campaign 'winter' not found; create it first (outwire contacts import --create-campaign)\n"


def test_contacts_import_rejects_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = _run(capsys, "import", "--campaign", "spring", "--store", f"sqlite:///{tmp_path / 'o.db'}",
                          str(tmp_path / "nope.csv"))

    assert status == 2
    assert err == f"outwire: {tmp_path / 'nope.csv'}: file not found; check the path\n"


def test_contacts_command_rejects_invalid_store_url(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _run(capsys, "list", "--campaign", "spring", "--store", "redis://u:hunter2@cache/0")

    assert status == 2
    assert "outwire: invalid store URL 'redis://u:***@cache/0': use mongodb://HOST" in err
    assert "hunter2" not in err


def test_contacts_command_uses_store_url_from_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTWIRE_STORE_URL", f"sqlite:///{tmp_path / 'env.db'}")

    status, _, err = _run(capsys, "create-campaign", "--campaign", "spring")

    assert status == 0, err
    assert (tmp_path / "env.db").exists()


def test_contacts_delete_upload_rejects_unknown_id(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'o.db'}"
    _run(capsys, "create-campaign", "--campaign", "spring", "--store", store)

    status, _, err = _run(capsys, "delete-upload", "--campaign", "spring", "--store", store, "abc")

    assert status == 2
    assert "outwire: upload 'abc' not found in campaign 'spring'" in err


# Runs the command line as a shell does for a foreground job, where SIGINT
# (Ctrl-C) raises KeyboardInterrupt: a child started from a non-interactive
# shell or CI may otherwise inherit SIGINT as ignored.
_FOREGROUND_MAIN = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from runtime.cli import main; sys.exit(main(sys.argv[1:]))"
)


def _count_contacts(db_path: Path) -> int:
    try:
        with sqlite3.connect(db_path) as db:
            return int(db.execute("SELECT count(*) FROM contacts").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_contacts_import_interrupted_exits_130_and_reruns_cleanly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    csv_path = tmp_path / "big.csv"
    rows = 100_000
    csv_path.write_text("email,first_name\n" + "".join(f"user{i}@example.com,User {i}\n" for i in range(rows)))
    db_path = tmp_path / "o.db"
    store = f"sqlite:///{db_path}"
    import_args = ["import", "--campaign", "big", "--store", store, str(csv_path)]
    process = subprocess.Popen(
        [sys.executable, "-c", _FOREGROUND_MAIN, "contacts", *import_args, "--create-campaign", "--identifier", "email"],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )

    # Interrupt once the first batch is written. Ctrl-C on a terminal signals the
    # whole process group, which includes the import's reader process.
    deadline = time.monotonic() + 60
    while _count_contacts(db_path) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)

    assert process.returncode == 130, err
    assert "outwire: import interrupted" in err
    assert "Traceback" not in err
    status, out, _ = _run(capsys, "uploads", "--campaign", "big", "--store", store)
    _, _, _, upload_status, _, inserted, *_ = out.splitlines()[-1].split()
    written = _count_contacts(db_path)
    assert status == 0
    assert upload_status == "failed"
    assert 0 < written < rows
    # The batch being written when the signal came is finished and counted.
    assert int(inserted) == written

    status, out, err = _run(capsys, *import_args)

    assert status == 0, err
    assert f"unchanged   {written:>10,}" in out
    with sqlite3.connect(db_path) as db:
        total, distinct = db.execute("SELECT count(*), count(DISTINCT identifier) FROM contacts").fetchone()
    assert total == rows
    assert distinct == rows
