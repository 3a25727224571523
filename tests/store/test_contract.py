"""Behaviour every contact store must have; each test runs against SQLite and MongoDB (FerretDB)."""

from __future__ import annotations

import pytest

from runtime.store import CampaignExistsError, CampaignNotFoundError, ContactStore, UploadNotFoundError
from runtime.store.models import (
    STATE_DONE,
    STATE_IN_PROGRESS,
    STATE_NEW,
    Campaign,
    ContactRow,
    CustomField,
    StoreValueError,
)

ANN = "+447911123456"
BOB = "+447911123457"
CAT = "+447911123458"
DAN = "+447911123459"


async def _campaign(store: ContactStore, name: str = "spring") -> Campaign:
    await store.create_campaign(Campaign(name=name, default_region="GB"))
    return await store.get_campaign(name)


async def _upload(store: ContactStore, campaign: Campaign, rows: list[ContactRow]) -> str:
    upload = await store.create_upload(campaign.name, "contacts.csv")
    await store.merge_contacts(campaign, upload.upload_id, rows)
    return upload.upload_id


async def test_campaign_round_trips(store: ContactStore) -> None:
    await store.create_campaign(Campaign(name="spring", identifier_field="email", default_region="gb"))

    campaign = await store.get_campaign("spring")

    assert campaign.identifier_field == "email"
    assert campaign.default_region == "GB"
    assert [item.name for item in await store.list_campaigns()] == ["spring"]


async def test_campaign_create_rejects_taken_name(store: ContactStore) -> None:
    await _campaign(store)

    with pytest.raises(CampaignExistsError, match="campaign 'spring' already exists"):
        await store.create_campaign(Campaign(name="spring"))


async def test_campaign_get_raises_when_missing(store: ContactStore) -> None:
    with pytest.raises(CampaignNotFoundError, match="campaign 'autumn' not found; create it first"):
        await store.get_campaign("autumn")


async def test_custom_field_added_once(store: ContactStore) -> None:
    await _campaign(store)
    tier = CustomField("tier", "enum", ("gold", "silver"))

    await store.add_custom_field("spring", tier)
    campaign = await store.add_custom_field("spring", tier)

    assert campaign.custom_fields == [tier]
    assert (await store.get_campaign("spring")).custom_fields == [tier]


async def test_custom_field_rejects_changed_definition(store: ContactStore) -> None:
    await _campaign(store)
    await store.add_custom_field("spring", CustomField("score", "number"))

    with pytest.raises(StoreValueError, match="already has custom field 'score' of type number"):
        await store.add_custom_field("spring", CustomField("score", "string"))


async def test_merge_inserts_new_contacts_in_upload_order(store: ContactStore) -> None:
    campaign = await _campaign(store)

    upload_id = await _upload(store, campaign, [
        ContactRow(ANN, {"phone": ANN, "first_name": "Ann"}, line=2),
        ContactRow(BOB, {"phone": BOB, "first_name": "Bob"}, line=3),
    ])
    await _upload(store, campaign, [ContactRow(CAT, {"phone": CAT}, line=2)])

    contacts = [contact async for contact in store.iter_contacts("spring")]
    assert [contact.identifier for contact in contacts] == [ANN, BOB, CAT]
    assert contacts[0].upload_seq < contacts[1].upload_seq < contacts[2].upload_seq
    assert contacts[0].state == STATE_NEW
    assert contacts[0].upload_ids == [upload_id]
    assert contacts[0].history[0]["event"] == "created"
    assert contacts[0].history[0]["line"] == 2
    assert await store.count_contacts("spring") == 3


async def test_merge_records_changed_values(store: ContactStore) -> None:
    campaign = await _campaign(store)
    first = await _upload(store, campaign, [ContactRow(ANN, {"phone": ANN, "first_name": "Ann", "language": "en"})])
    upload = await store.create_upload("spring", "update.csv")

    counts = await store.merge_contacts(campaign, upload.upload_id, [
        ContactRow(ANN, {"phone": ANN, "first_name": "Anne", "email": "ann@example.com"}, line=7),
    ])

    contact = await store.get_contact("spring", ANN)
    assert contact is not None
    assert (counts.inserted, counts.merged, counts.unchanged) == (0, 1, 0)
    assert contact.fields == {"phone": ANN, "first_name": "Anne", "language": "en", "email": "ann@example.com"}
    assert contact.upload_ids == [first, upload.upload_id]
    assert contact.history[-1]["event"] == "merged"
    assert contact.history[-1]["line"] == 7
    assert contact.history[-1]["changes"] == {
        "first_name": {"from": "Ann", "to": "Anne"},
        "email": {"from": None, "to": "ann@example.com"},
    }


async def test_merge_changes_nothing_for_same_rows(store: ContactStore) -> None:
    campaign = await _campaign(store)
    rows = [ContactRow(ANN, {"phone": ANN, "first_name": "Ann"}), ContactRow(BOB, {"phone": BOB})]
    await _upload(store, campaign, rows)
    before = [contact async for contact in store.iter_contacts("spring")]
    upload = await store.create_upload("spring", "again.csv")

    counts = await store.merge_contacts(campaign, upload.upload_id, rows)

    after = [contact async for contact in store.iter_contacts("spring")]
    assert (counts.inserted, counts.merged, counts.unchanged) == (0, 0, 2)
    assert [contact.fields for contact in after] == [contact.fields for contact in before]
    assert [contact.history for contact in after] == [contact.history for contact in before]
    assert [contact.upload_seq for contact in after] == [contact.upload_seq for contact in before]


async def test_merge_applies_duplicates_in_batch_in_order(store: ContactStore) -> None:
    campaign = await _campaign(store)
    upload = await store.create_upload("spring", "dupes.csv")

    counts = await store.merge_contacts(campaign, upload.upload_id, [
        ContactRow(ANN, {"phone": ANN, "first_name": "Ann"}, line=2),
        ContactRow(ANN, {"phone": ANN, "first_name": "Anna", "last_name": "Lee"}, line=3),
        ContactRow(ANN, {"phone": ANN, "first_name": "Anna"}, line=4),
    ])

    contact = await store.get_contact("spring", ANN)
    assert contact is not None
    assert (counts.inserted, counts.merged, counts.unchanged) == (1, 1, 1)
    assert contact.fields == {"phone": ANN, "first_name": "Anna", "last_name": "Lee"}
    assert [entry["event"] for entry in contact.history] == ["created", "merged"]
    assert await store.count_contacts("spring") == 1


async def test_merge_mixes_new_existing_and_repeated_rows(store: ContactStore) -> None:
    campaign = await _campaign(store)
    first = await _upload(store, campaign, [ContactRow(ANN, {"phone": ANN, "first_name": "Ann"}, line=2)])
    upload = await store.create_upload("spring", "mixed.csv")

    counts = await store.merge_contacts(campaign, upload.upload_id, [
        ContactRow(BOB, {"phone": BOB, "first_name": "Bob"}, line=2),
        ContactRow(ANN, {"phone": ANN, "first_name": "Anne"}, line=3),
        ContactRow(CAT, {"phone": CAT, "score": 1.5}, line=4),
        ContactRow(BOB, {"phone": BOB, "first_name": "Rob", "vip": True}, line=5),
        ContactRow(DAN, {"phone": DAN}, line=6),
    ])

    contacts = {contact.identifier: contact async for contact in store.iter_contacts("spring")}
    assert (counts.inserted, counts.merged, counts.unchanged) == (3, 2, 0)
    assert list(contacts) == [ANN, BOB, CAT, DAN]
    assert contacts[ANN].upload_seq < contacts[BOB].upload_seq < contacts[CAT].upload_seq < contacts[DAN].upload_seq
    assert contacts[ANN].upload_ids == [first, upload.upload_id]
    assert contacts[ANN].fields == {"phone": ANN, "first_name": "Anne"}
    assert contacts[BOB].fields == {"phone": BOB, "first_name": "Rob", "vip": True}
    assert [(entry["event"], entry["line"]) for entry in contacts[BOB].history] == [("created", 2), ("merged", 5)]
    assert contacts[CAT].fields == {"phone": CAT, "score": 1.5}
    assert contacts[CAT].history == [
        {"at": contacts[CAT].history[0]["at"], "event": "created", "upload_id": upload.upload_id, "line": 4}
    ]
    assert contacts[DAN].upload_ids == [upload.upload_id]


async def test_merge_keeps_started_contact_state(store: ContactStore) -> None:
    campaign = await _campaign(store)
    await _upload(store, campaign, [ContactRow(ANN, {"phone": ANN, "first_name": "Ann"})])
    assert await store.set_contact_state("spring", ANN, STATE_DONE)

    await _upload(store, campaign, [ContactRow(ANN, {"phone": ANN, "first_name": "Anne"}), ContactRow(BOB, {})])

    ann = await store.get_contact("spring", ANN)
    bob = await store.get_contact("spring", BOB)
    assert ann is not None and bob is not None
    assert ann.state == STATE_DONE
    assert ann.fields["first_name"] == "Anne"
    assert bob.state == STATE_NEW
    assert await store.count_contacts("spring", state=STATE_NEW) == 1


async def test_merge_stores_operator_text_as_data(store: ContactStore) -> None:
    campaign = await _campaign(store)
    await store.add_custom_field("spring", CustomField("note", "string"))

    await _upload(store, campaign, [ContactRow(ANN, {"phone": ANN, "note": '{"$gt": ""}'})])
    await _upload(store, campaign, [ContactRow(BOB, {"phone": BOB, "note": "$where"})])

    ann = await store.get_contact("spring", ANN)
    assert ann is not None
    assert ann.fields["note"] == '{"$gt": ""}'
    assert await store.count_contacts("spring") == 2


async def test_merge_rejects_dict_values(store: ContactStore) -> None:
    campaign = await _campaign(store)
    upload = await store.create_upload("spring", "bad.csv")

    with pytest.raises(StoreValueError, match="invalid value for field 'first_name': expected a string"):
        await store.merge_contacts(campaign, upload.upload_id, [ContactRow(ANN, {"first_name": {"$gt": ""}})])
    assert await store.count_contacts("spring") == 0


async def test_lookup_rejects_operator_identifier(store: ContactStore) -> None:
    campaign = await _campaign(store)
    await _upload(store, campaign, [ContactRow(ANN, {"phone": ANN})])

    with pytest.raises(StoreValueError, match="expected a string, got dict"):
        await store.get_contact("spring", {"$ne": ""})  # type: ignore[arg-type]  # the wrong type is the test


async def test_delete_upload_removes_only_unstarted_sole_contacts(store: ContactStore) -> None:
    campaign = await _campaign(store)
    first = await _upload(store, campaign, [
        ContactRow(ANN, {"phone": ANN}), ContactRow(BOB, {"phone": BOB}), ContactRow(CAT, {"phone": CAT}),
    ])
    second = await _upload(store, campaign, [ContactRow(CAT, {"phone": CAT, "first_name": "Cat"})])
    await store.set_contact_state("spring", BOB, STATE_IN_PROGRESS)

    deletion = await store.delete_upload("spring", first)

    assert deletion.removed == [ANN]
    assert deletion.kept == {BOB: "already started (state in_progress)", CAT: f"also in upload {second}"}
    assert await store.get_contact("spring", ANN) is None
    cat = await store.get_contact("spring", CAT)
    assert cat is not None
    assert cat.upload_ids == [second]
    assert (await store.get_upload("spring", first)).status == "deleted"


async def test_delete_upload_raises_for_unknown_id(store: ContactStore) -> None:
    await _campaign(store)

    with pytest.raises(UploadNotFoundError, match="upload 'nope' not found in campaign 'spring'"):
        await store.delete_upload("spring", "nope")


async def test_uploads_listed_oldest_first(store: ContactStore) -> None:
    campaign = await _campaign(store)
    first = await _upload(store, campaign, [ContactRow(ANN, {})])
    second = await _upload(store, campaign, [ContactRow(BOB, {})])

    uploads = await store.list_uploads("spring")

    assert [upload.upload_id for upload in uploads] == [first, second]
    assert uploads[0].source == "contacts.csv"


async def test_attempts_recorded_and_counted(store: ContactStore) -> None:
    campaign = await _campaign(store)
    await _upload(store, campaign, [ContactRow(ANN, {"phone": ANN})])

    await store.record_attempt("spring", ANN, {"channel": "sms", "result": "sent"})
    await store.record_attempt("spring", ANN, {"channel": "sms", "result": "delivered"})

    contact = await store.get_contact("spring", ANN)
    assert contact is not None
    assert contact.attempts == 2
    assert [item["result"] for item in await store.list_attempts("spring", ANN)] == ["sent", "delivered"]


async def test_iter_contacts_reads_in_batches(store: ContactStore) -> None:
    campaign = await _campaign(store)
    identifiers = [f"+4479111234{index:02d}" for index in range(25)]
    await _upload(store, campaign, [ContactRow(identifier, {}) for identifier in identifiers])

    seen = [contact.identifier async for contact in store.iter_contacts("spring", batch_size=10)]

    assert seen == identifiers


async def test_upload_seq_grows_across_batches_and_uploads(store: ContactStore) -> None:
    campaign = await _campaign(store)
    first = await store.create_upload("spring", "first.csv")
    await store.merge_contacts(campaign, first.upload_id, [ContactRow(ANN, {"phone": ANN})])
    await store.merge_contacts(campaign, first.upload_id, [ContactRow(BOB, {"phone": BOB})])
    first.status = "finished"
    await store.save_upload(first)

    await _upload(store, campaign, [ContactRow(CAT, {"phone": CAT})])

    contacts = [contact async for contact in store.iter_contacts("spring")]
    assert [contact.identifier for contact in contacts] == [ANN, BOB, CAT]
    assert contacts[0].upload_seq < contacts[1].upload_seq < contacts[2].upload_seq
