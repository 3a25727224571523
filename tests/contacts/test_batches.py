"""Reading a CSV file into batches of normalised rows, in a thread and in a worker process."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.contacts.batches import Rejection, RowBatch, read_batches
from runtime.contacts.csvfile import CsvFormat, CsvFormatError, detect_format
from runtime.contacts.worker import BatchWorker, WorkerJob
from runtime.store.models import Campaign, CustomField

CAMPAIGN = Campaign(name="spring", default_region="GB", custom_fields=[CustomField("score", "number")])
ROWS = (
    "phone,first_name,score\n"
    "+447911123456,Ann,1\n"
    "12,Bad,2\n"
    "07911 123457,Bob,x\n"
    "+447911123458,Cat,3\n"
    "+447911123456,Anna,4\n"
    "447911123459,Dan,5\n"
)


def _csv(tmp_path: Path, text: str = ROWS) -> Path:
    path = tmp_path / "contacts.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _read_in_worker(path: Path, file_format: CsvFormat, *, batch_size: int, group: bool) -> list[RowBatch]:
    worker = BatchWorker(WorkerJob(path, file_format, CAMPAIGN, batch_size, group))
    try:
        batches = []
        while (batch := worker.next_batch()) is not None:
            batches.append(batch)
        return batches
    finally:
        worker.close()


def _summary(batches: list[RowBatch]) -> list[tuple[list[tuple[str, int]], list[Rejection], int, int]]:
    return [
        ([(row.identifier, row.line) for row in batch.rows], batch.rejections, batch.rows_read, batch.rows_rejected)
        for batch in batches
    ]


def test_read_batches_counts_rows_and_rejections(tmp_path: Path) -> None:
    path = _csv(tmp_path)

    batches = list(read_batches(path, detect_format(path), CAMPAIGN, batch_size=3))

    assert _summary(batches) == [
        ([("+447911123456", 2)], [
            Rejection(3, "phone", "'12' is not a valid phone number for region GB"),
            Rejection(4, "score", "'x' is not a number; write digits with '.' as the decimal point"),
        ], 3, 2),
        ([("+447911123458", 5), ("+447911123456", 6), ("+447911123459", 7)], [], 3, 0),
    ]
    assert batches[-1].bytes_read == path.stat().st_size


def test_read_batches_groups_rows_after_all_rejections(tmp_path: Path) -> None:
    path = _csv(tmp_path)

    batches = list(read_batches(path, detect_format(path), CAMPAIGN, batch_size=3, group_by_identifier=True))

    assert [len(batch.rejections) for batch in batches] == [2, 0, 0, 0]
    assert [batch.rows_read for batch in batches] == [3, 3, 0, 0]
    assert [[(row.identifier, row.line) for row in batch.rows] for batch in batches] == [
        [],
        [],
        [("+447911123456", 2), ("+447911123456", 6), ("+447911123458", 5)],
        [("+447911123459", 7)],
    ]
    assert batches[2].rows[1].fields == {"phone": "+447911123456", "first_name": "Anna", "score": 4}


@pytest.mark.parametrize("group", [False, True])
def test_worker_yields_same_batches_as_thread(tmp_path: Path, group: bool) -> None:
    path = _csv(tmp_path)
    file_format = detect_format(path)

    in_thread = list(read_batches(path, file_format, CAMPAIGN, batch_size=2, group_by_identifier=group))
    in_worker = _read_in_worker(path, file_format, batch_size=2, group=group)

    assert _summary(in_worker) == _summary(in_thread)
    assert [[row.fields for row in batch.rows] for batch in in_worker] == [
        [row.fields for row in batch.rows] for batch in in_thread
    ]
    assert [batch.bytes_read for batch in in_worker] == [batch.bytes_read for batch in in_thread]


def test_worker_raises_reader_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(b"phone,first_name\n+447911123456,Ann\n+447911123457,\xff\xfe\n")

    with pytest.raises(CsvFormatError, match="broken.csv: invalid utf-8 text near line"):
        _read_in_worker(path, CsvFormat("utf-8", ","), batch_size=1, group=False)


def test_worker_close_stops_unread_child(tmp_path: Path) -> None:
    lines = ["phone"] + [f"+4479111{index:05d}" for index in range(20_000)]
    path = _csv(tmp_path, "\n".join(lines) + "\n")
    worker = BatchWorker(WorkerJob(path, detect_format(path), CAMPAIGN, 10, False))

    first = worker.next_batch()
    worker.close()

    assert first is not None
    assert len(first.rows) == 10
    assert worker._process.returncode is not None
