"""CSV import end to end, against SQLite and MongoDB (FerretDB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.contacts import importer
from runtime.contacts.importer import import_csv
from runtime.contacts.worker import BatchWorker, WorkerJob
from runtime.store import CampaignNotFoundError, ContactStore, StoreError
from runtime.store.models import (
    STATE_DONE,
    STATE_NEW,
    Campaign,
    CustomField,
    EncodedRows,
    MergeCounts,
)
from runtime.store.sqlite import SQLiteContactStore

EXAMPLES = Path(__file__).parents[2] / "examples"


async def _campaign(store: ContactStore) -> None:
    await store.create_campaign(Campaign(name="spring", default_region="GB"))
    await store.add_custom_field("spring", CustomField("plan", "enum", ("gold", "silver")))
    await store.add_custom_field("spring", CustomField("score", "number"))
    await store.add_custom_field("spring", CustomField("vip", "boolean"))
    await store.add_custom_field("spring", CustomField("renewal_date", "date"))


def _csv(tmp_path: Path, text: str, name: str = "contacts.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_import_reports_rows_and_rejections(store: ContactStore, tmp_path: Path) -> None:
    await _campaign(store)
    path = _csv(tmp_path, (
        " Phone ;First Name;plan;score;Shoe Size\n"
        "07911 123456;Ann;gold;1;42\n"
        "447911123457;Bob;platinum;2;43\n"
        "4.47911123458E+11;Cat;silver;x;44\n"
        "+447911123456;Anna;;;\n"
        "12;Dan;;;\n"
        "\n"
    ))

    report = await import_csv(store, "spring", path)

    assert (report.rows_read, report.inserted, report.merged, report.rejected_rows) == (5, 1, 1, 3)
    assert report.ignored_columns == ["Shoe Size"]
    assert [(item.line, item.column) for item in report.rejections] == [(3, "plan"), (4, "score"), (6, "Phone")]
    assert report.rejections[0].reason == "'platinum' is not one of gold, silver"
    ann = await store.get_contact("spring", "+447911123456")
    assert ann is not None
    assert ann.fields == {"phone": "+447911123456", "first_name": "Anna", "plan": "gold", "score": 1}
    upload = await store.get_upload("spring", report.upload_id)
    assert (upload.status, upload.rows_read, upload.inserted, upload.rejected) == ("finished", 5, 1, 3)


async def test_import_twice_changes_nothing(store: ContactStore) -> None:
    await _campaign(store)
    path = EXAMPLES / "contacts-sample.csv"
    first = await import_csv(store, "spring", path)
    before = [contact async for contact in store.iter_contacts("spring")]

    second = await import_csv(store, "spring", path)

    after = [contact async for contact in store.iter_contacts("spring")]
    assert first.inserted == 4
    assert first.rejected_rows == 0
    assert first.ignored_columns == []
    assert (second.inserted, second.merged, second.unchanged) == (0, 0, 4)
    assert [(c.fields, c.history, c.upload_seq, c.state) for c in after] == [
        (c.fields, c.history, c.upload_seq, c.state) for c in before
    ]


async def test_import_merges_into_started_contact_without_reset(store: ContactStore, tmp_path: Path) -> None:
    await _campaign(store)
    await import_csv(store, "spring", _csv(tmp_path, "phone,first_name\n+447911123456,Ann\n", "a.csv"))
    await store.set_contact_state("spring", "+447911123456", STATE_DONE)

    report = await import_csv(store, "spring", _csv(tmp_path, "phone,first_name\n+447911123456,Anne\n+447911123457,Bob\n", "b.csv"))

    ann = await store.get_contact("spring", "+447911123456")
    assert ann is not None
    assert (report.inserted, report.merged) == (1, 1)
    assert ann.state == STATE_DONE
    assert ann.fields["first_name"] == "Anne"
    assert await store.count_contacts("spring", state=STATE_NEW) == 1


async def test_import_merges_duplicates_across_batches(store: ContactStore, tmp_path: Path) -> None:
    await _campaign(store)
    lines = ["phone,first_name,score"] + [f"+4479111234{index:02d},N{index},{index}" for index in range(30)]
    lines.append("+447911123400,Zero,100")
    path = _csv(tmp_path, "\n".join(lines) + "\n")

    report = await import_csv(store, "spring", path, batch_size=7)

    zero = await store.get_contact("spring", "+447911123400")
    assert zero is not None
    assert (report.rows_read, report.inserted, report.merged) == (31, 30, 1)
    assert zero.fields["first_name"] == "Zero"
    assert zero.history[-1]["line"] == 32
    assert await store.count_contacts("spring") == 30


async def test_import_stores_operator_text_as_data(store: ContactStore, tmp_path: Path) -> None:
    await _campaign(store)
    path = _csv(tmp_path, 'phone,first_name,$where,a.b\n+447911123456,"{""$gt"": """"}",1,2\n')

    report = await import_csv(store, "spring", path)

    ann = await store.get_contact("spring", "+447911123456")
    assert ann is not None
    assert ann.fields["first_name"] == '{"$gt": ""}'
    assert report.ignored_columns == ["$where", "a.b"]


async def test_import_raises_for_unknown_campaign(store: ContactStore, tmp_path: Path) -> None:
    with pytest.raises(CampaignNotFoundError, match="campaign 'winter' not found"):
        await import_csv(store, "winter", _csv(tmp_path, "phone\n+447911123456\n"))


@pytest.mark.parametrize("worker_process", [False, True])
async def test_import_same_result_in_worker_process(store: ContactStore, tmp_path: Path, worker_process: bool) -> None:
    await _campaign(store)
    lines = ["phone,first_name,score"]
    for index in range(40):
        lines.append(f"+4479111234{index % 25:02d},N{index},{index}")
        if index % 9 == 0:
            lines.append(f"12{index},Bad,{index}")
    path = _csv(tmp_path, "\n".join(lines) + "\n")

    report = await import_csv(store, "spring", path, batch_size=4, worker_process=worker_process)

    contacts = [contact async for contact in store.iter_contacts("spring")]
    assert (report.rows_read, report.inserted, report.merged, report.unchanged) == (45, 25, 15, 0)
    assert report.rejected_rows == 5
    assert [item.line for item in report.rejections] == [3, 13, 23, 33, 43]
    assert [contact.identifier for contact in contacts] == [f"+4479111234{index:02d}" for index in range(25)]
    first = contacts[0]
    assert first.fields == {"phone": "+447911123400", "first_name": "N25", "score": 25}
    assert [(entry["event"], entry["line"]) for entry in first.history] == [("created", 2), ("merged", 30)]


class _FailingStore(SQLiteContactStore):
    """SQLite store whose second merge fails, as a store that goes down mid-import would."""

    merges = 0

    async def merge_encoded(self, campaign: Campaign, upload_id: str, rows: EncodedRows) -> MergeCounts:
        self.merges += 1
        if self.merges == 2:
            raise StoreError("store went away")
        return await super().merge_encoded(campaign, upload_id, rows)


async def test_import_stops_worker_when_store_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workers: list[BatchWorker] = []

    class RecordingWorker(BatchWorker):
        def __init__(self, job: WorkerJob) -> None:
            super().__init__(job)
            workers.append(self)

    monkeypatch.setattr(importer, "BatchWorker", RecordingWorker)
    lines = ["phone"] + [f"+4479111{index:05d}" for index in range(5000)]
    path = _csv(tmp_path, "\n".join(lines) + "\n")

    async with _FailingStore(f"sqlite:///{tmp_path / 'contacts.db'}") as store:
        await store.create_campaign(Campaign(name="spring", default_region="GB"))
        with pytest.raises(StoreError, match="store went away"):
            await import_csv(store, "spring", path, batch_size=10, worker_process=True)

        (upload,) = await store.list_uploads("spring")
        assert upload.status == "failed"
        assert upload.inserted == 10
        assert await store.count_contacts("spring") == 10
    assert len(workers) == 1
    assert workers[0]._process.returncode is not None
