"""The MongoDB contact store, through pymongo's ``AsyncMongoClient``.

Collections in the URL's database (default ``outwire``): ``campaigns`` (``_id``
is the name), ``uploads``, ``contacts`` and ``attempts``. A contact's ``_id`` is
``"<campaign>:<identifier>"``: campaign names cannot contain ``:``, so the key
is unique, and finding a contact is an ``_id`` lookup.

Merging a batch writes optimistically. Every row is first planned as a new
contact and inserted with one unordered bulk insert, which costs no read when
the contacts are new, as in a first upload. Rows whose insert fails with a
duplicate key (error 11000) are merged: the store reads those contacts,
plans the merge, and updates each one only if its ``revision`` is unchanged.
A contact that another writer changed in between is read and planned again.

Writes use majority write concern, so a merge that returned survives a
replica-set failover.

NOTE: FerretDB 1.24 with its SQLite backend, the server the tests run against,
is slow at exactly the merge path. Measured on a 2-core machine with 10,000
contacts: ``find`` with ``_id: {$in: [...]}`` scans the collection (1 s per
call), and every document that an update changes costs about 0.1 s, however
the updates are batched. A first upload (bulk inserts only) runs at its
plain insert rate, but re-importing a large file there takes about 0.1 s per
contact. MongoDB serves the same operations from the ``_id`` index.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pymongo import (
    ASCENDING,
    AsyncMongoClient,
    ReturnDocument,
    UpdateMany,
    UpdateOne,
    WriteConcern,
)
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError, ServerSelectionTimeoutError

from runtime.log import store_log
from runtime.store import (
    CampaignExistsError,
    CampaignNotFoundError,
    ContactStore,
    StoreError,
    UploadNotFoundError,
    redact_url,
)
from runtime.store.merge import ContactPlan, StoredFields, count_plans, plan_batch
from runtime.store.models import (
    STATE_NEW,
    Campaign,
    Contact,
    ContactRow,
    CustomField,
    MergeCounts,
    StoreValueError,
    Upload,
    UploadDeletion,
    check_field_value,
    check_row_values,
    check_string,
    utc_now,
)

DEFAULT_DATABASE = "outwire"
DUPLICATE_KEY = 11000
# Rounds of read, plan and conditional update before a merge gives up. Each
# round loses only to a concurrent writer of the same contacts, so more than a
# few rounds means something is rewriting them in a loop.
_MAX_MERGE_ROUNDS = 10
# Without an explicit serverSelectionTimeoutMS, pymongo waits 30 s for an
# unreachable server; a command-line user learns sooner that the URL is wrong.
_SERVER_SELECTION_TIMEOUT_MS = 10_000


def _first_cause(exc: ServerSelectionTimeoutError) -> str:
    # pymongo's message goes on with its timeouts and the whole topology
    # description; the first part names the server and the error.
    return str(exc).split(" (configured timeouts", 1)[0].split(", Timeout:", 1)[0]


def contact_key(campaign: str, identifier: str) -> str:
    """Return the ``_id`` of a campaign's contact."""
    return f"{campaign}:{identifier}"


class MongoContactStore(ContactStore):
    """Contact store in a MongoDB database; see the module docstring for the merge protocol."""

    # Grouped rows turn a file's duplicates into one insert per new contact
    # instead of an insert and then conditional updates.
    # NOTE: measured only on FerretDB 1.24, where an update costs about 0.1 s.
    # On a MongoDB server that inserts tens of thousands of documents per
    # second, the grouping pass (all rows read before the first write) may
    # cost more than the updates it saves.
    prefers_grouped_rows = True

    def __init__(self, url: str) -> None:
        self.url = url
        self.database_name = urlsplit(url).path.lstrip("/").split("/")[0] or DEFAULT_DATABASE
        self._client: AsyncMongoClient[dict[str, Any]] | None = None

    async def open(self) -> None:
        options: dict[str, Any] = {"tz_aware": True}
        if "serverselectiontimeoutms" not in self.url.lower():
            options["serverSelectionTimeoutMS"] = _SERVER_SELECTION_TIMEOUT_MS
        self._client = AsyncMongoClient(self.url, **options)
        try:
            await self._create_indexes()
        except ServerSelectionTimeoutError as exc:
            timeout_s = self._client.options.server_selection_timeout
            await self.close()
            raise StoreError(
                f"cannot reach the server within {timeout_s:g} s ({_first_cause(exc)}); "
                "check the host and port in the URL and that MongoDB is running"
            ) from exc
        store_log.info("opened MongoDB store %s, database %s", redact_url(self.url), self.database_name)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def _collection(self, name: str) -> AsyncCollection[dict[str, Any]]:
        if self._client is None:
            raise RuntimeError(f"MongoDB store {redact_url(self.url)} is not open; call open() first")
        database = self._client.get_database(self.database_name, write_concern=WriteConcern(w="majority"))
        return database.get_collection(name)

    async def _create_indexes(self) -> None:
        contacts = self._collection("contacts")
        await contacts.create_index([("campaign", ASCENDING), ("identifier", ASCENDING)], unique=True,
                                    name="campaign_identifier")
        # Dispatch: equality on campaign and state, sort by upload_seq (FIFO
        # or LIFO), then the due-time range, in that order for the index.
        await contacts.create_index(
            [("campaign", ASCENDING), ("state", ASCENDING), ("upload_seq", ASCENDING), ("next_attempt_at", ASCENDING)],
            name="dispatch",
        )
        await contacts.create_index([("campaign", ASCENDING), ("upload_seq", ASCENDING)], name="upload_order")
        await contacts.create_index([("campaign", ASCENDING), ("upload_ids", ASCENDING)], name="uploads")
        # NOTE: a partial index on leased contacts would be smaller; FerretDB
        # 1.24 does not support partialFilterExpression, so this indexes all.
        await contacts.create_index([("lease_expires_at", ASCENDING)], name="lease_expiry")
        await self._collection("uploads").create_index([("campaign", ASCENDING), ("started_at", ASCENDING)],
                                                       name="campaign_started")
        await self._collection("attempts").create_index([("contact_id", ASCENDING), ("at", ASCENDING)],
                                                        name="contact_at")

    # Campaigns

    async def create_campaign(self, campaign: Campaign) -> None:
        document = {"_id": campaign.name, **campaign.to_dict(), "next_contact_seq": 1}
        try:
            await self._collection("campaigns").insert_one(document)
        except DuplicateKeyError:
            raise CampaignExistsError(f"campaign {campaign.name!r} already exists") from None

    async def get_campaign(self, name: str) -> Campaign:
        document = await self._collection("campaigns").find_one({"_id": check_string(name, "campaign")})
        if document is None:
            raise CampaignNotFoundError(
                f"campaign {name!r} not found; create it first (outwire contacts import --create-campaign)"
            )
        return Campaign.from_dict(document)

    async def list_campaigns(self) -> list[Campaign]:
        cursor = self._collection("campaigns").find({}).sort("_id", ASCENDING)
        return [Campaign.from_dict(document) async for document in cursor]

    async def add_custom_field(self, campaign: str, custom: CustomField) -> Campaign:
        current = await self.get_campaign(campaign)
        existing = current.custom_field(custom.name)
        if existing == custom:
            return current
        if existing is not None:
            raise StoreValueError(
                f"campaign {campaign!r} already has custom field {custom.name!r} of type {existing.type}; "
                "a field's definition cannot change"
            )
        # The filter makes concurrent definitions of one name safe: the second
        # finds the name taken and is reread as "exists".
        updated = await self._collection("campaigns").find_one_and_update(
            {"_id": campaign, "custom_fields.name": {"$ne": custom.name}},
            {"$push": {"custom_fields": custom.to_dict()}},
            return_document=ReturnDocument.AFTER,
        )
        if updated is None:
            return await self.add_custom_field(campaign, custom)
        return Campaign.from_dict(updated)

    # Uploads

    async def create_upload(self, campaign: str, source: str) -> Upload:
        await self.get_campaign(campaign)
        upload = Upload(upload_id=uuid.uuid4().hex[:12], campaign=campaign, source=source)
        await self._collection("uploads").insert_one({"_id": upload.upload_id, **upload.to_dict()})
        return upload

    async def save_upload(self, upload: Upload) -> None:
        await self._collection("uploads").replace_one(
            {"_id": upload.upload_id}, {"_id": upload.upload_id, **upload.to_dict()}, upsert=True
        )

    async def get_upload(self, campaign: str, upload_id: str) -> Upload:
        document = await self._collection("uploads").find_one(
            {"_id": check_string(upload_id, "upload id"), "campaign": campaign}
        )
        if document is None:
            await self.get_campaign(campaign)
            raise UploadNotFoundError(
                f"upload {upload_id!r} not found in campaign {campaign!r}; "
                "list the uploads with outwire contacts uploads"
            )
        return Upload.from_dict(document)

    async def list_uploads(self, campaign: str) -> list[Upload]:
        await self.get_campaign(campaign)
        cursor = self._collection("uploads").find({"campaign": campaign}).sort("started_at", ASCENDING)
        return [Upload.from_dict(document) async for document in cursor]

    # Contacts

    async def merge_contacts(self, campaign: Campaign, upload_id: str, rows: list[ContactRow]) -> MergeCounts:
        for row in rows:
            check_string(row.identifier, "identifier")
        check_row_values(rows)
        if not rows:
            return MergeCounts()

        plans, _ = plan_batch(rows, {}, upload_id=upload_id, now=utc_now(),
                              first_seq=await self._reserve_seq(campaign.name, len(rows)))
        conflicts = await self._insert_new(campaign.name, upload_id, plans)
        counts = count_plans(plan for plan in plans if plan.identifier not in conflicts)
        if conflicts:
            counts.add(await self._merge_existing(campaign.name, upload_id,
                                                  [row for row in rows if row.identifier in conflicts]))
        return counts

    async def _reserve_seq(self, campaign: str, count: int) -> int:
        """Reserve ``count`` upload sequence numbers and return the first."""
        before = await self._collection("campaigns").find_one_and_update(
            {"_id": campaign}, {"$inc": {"next_contact_seq": count}}, return_document=ReturnDocument.BEFORE,
        )
        # NOTE: no projection, because FerretDB 1.24 rejects findAndModify's "fields" option.
        if before is None:
            raise CampaignNotFoundError(f"campaign {campaign!r} not found")
        return int(before["next_contact_seq"])

    async def _insert_new(self, campaign: str, upload_id: str, plans: list[ContactPlan]) -> set[str]:
        """Insert the planned new contacts; return the identifiers that already existed."""
        documents = [_new_document(campaign, upload_id, plan) for plan in plans if plan.is_new]
        if not documents:
            return set()
        try:
            await self._collection("contacts").insert_many(documents, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            other = [error for error in errors if error.get("code") != DUPLICATE_KEY]
            if other or exc.details.get("writeConcernErrors"):
                raise StoreError(f"writing contacts of campaign {campaign!r} failed: {other or exc.details}") from exc
            return {documents[error["index"]]["identifier"] for error in errors}
        return set()

    async def _merge_existing(self, campaign: str, upload_id: str, rows: list[ContactRow]) -> MergeCounts:
        counts = MergeCounts()
        pending = rows
        for _ in range(_MAX_MERGE_ROUNDS):
            existing = await self._read_existing(campaign, {row.identifier for row in pending})
            new_count = len({row.identifier for row in pending} - existing.keys())
            first_seq = await self._reserve_seq(campaign, new_count) if new_count else 0
            plans, _ = plan_batch(pending, existing, upload_id=upload_id, now=utc_now(), first_seq=first_seq)

            lost = await self._insert_new(campaign, upload_id, plans)
            lost |= await self._update_existing(campaign, upload_id, plans)
            counts.add(count_plans(plan for plan in plans if plan.identifier not in lost))
            if not lost:
                return counts
            pending = [row for row in pending if row.identifier in lost]
        raise StoreError(
            f"campaign {campaign!r}: {len(pending)} contacts kept changing during the merge "
            f"after {_MAX_MERGE_ROUNDS} rounds; import the file again"
        )

    async def _read_existing(self, campaign: str, identifiers: set[str]) -> dict[str, StoredFields]:
        keys = [contact_key(campaign, identifier) for identifier in identifiers]
        cursor = self._collection("contacts").find(
            {"_id": {"$in": keys}}, projection={"identifier": 1, "fields": 1, "revision": 1, "upload_ids": 1}
        )
        existing: dict[str, StoredFields] = {}
        async for document in cursor:
            existing[document["identifier"]] = StoredFields(
                fields=document.get("fields", {}), revision=document.get("revision", 0),
                key=(document["_id"], document.get("upload_ids", [])),
            )
        return existing

    async def _update_existing(self, campaign: str, upload_id: str, plans: list[ContactPlan]) -> set[str]:
        """Write the merges of existing contacts and return the identifiers another writer changed first.

        Contacts whose values changed get one conditional update each. Those
        that only gain the upload id share one update statement, which saves
        a round trip per contact.
        """
        conditional: list[ContactPlan] = []
        operations: list[UpdateOne | UpdateMany] = []
        attach_keys: list[str] = []
        for plan in plans:
            if plan.stored is None:
                continue
            key, upload_ids = plan.stored.key
            if plan.history:
                conditional.append(plan)
                operations.append(UpdateOne({"_id": key, "revision": plan.stored.revision}, _merge_update(plan, upload_id)))
            elif upload_id not in upload_ids:
                attach_keys.append(key)
        if attach_keys:
            operations.append(UpdateMany({"_id": {"$in": attach_keys}}, {"$addToSet": {"upload_ids": upload_id}}))
        if not operations:
            return set()

        result = await self._collection("contacts").bulk_write(operations, ordered=False)
        if result.matched_count == len(conditional) + len(attach_keys):
            return set()
        # The result does not say which updates missed, so every
        # conditionally updated contact is planned again. Merging is
        # idempotent: a contact whose update did apply has nothing left to
        # change, and its rows count as unchanged in the next round.
        return {plan.identifier for plan in conditional}

    async def delete_upload(self, campaign: str, upload_id: str) -> UploadDeletion:
        upload = await self.get_upload(campaign, upload_id)
        contacts = self._collection("contacts")
        deletion = UploadDeletion(upload_id=upload_id)

        # Contacts that other uploads also contain stay and forget this one.
        async for document in contacts.find(
            {"campaign": campaign, "upload_ids": upload_id, "upload_ids.1": {"$exists": True}},
            projection={"identifier": 1, "upload_ids": 1},
        ):
            others = [other for other in document["upload_ids"] if other != upload_id]
            deletion.kept[document["identifier"]] = f"also in upload {', '.join(others)}"
        if deletion.kept:
            await contacts.update_many(
                {"campaign": campaign, "upload_ids": upload_id, "upload_ids.1": {"$exists": True}},
                {"$pull": {"upload_ids": upload_id}},
            )

        # The filter repeats the conditions, so a contact that dispatch starts
        # between the find and the delete is not deleted.
        only_this = {"campaign": campaign, "upload_ids": [upload_id]}
        deletable = {**only_this, "state": STATE_NEW, "lease_owner": None}
        async for document in contacts.find(only_this, projection={"identifier": 1, "state": 1, "lease_owner": 1}):
            if document.get("state") == STATE_NEW and document.get("lease_owner") is None:
                deletion.removed.append(document["identifier"])
            else:
                deletion.kept[document["identifier"]] = f"already started (state {document.get('state')})"
        result = await contacts.delete_many(deletable)
        if result.deleted_count != len(deletion.removed):
            deletion.removed = await self._recheck_removed(campaign, deletion)

        upload.status = "deleted"
        await self.save_upload(upload)
        return deletion

    async def _recheck_removed(self, campaign: str, deletion: UploadDeletion) -> list[str]:
        """Move contacts that started between the find and the delete from removed to kept."""
        keys = [contact_key(campaign, identifier) for identifier in deletion.removed]
        async for document in self._collection("contacts").find({"_id": {"$in": keys}},
                                                                projection={"identifier": 1, "state": 1}):
            deletion.kept[document["identifier"]] = f"already started (state {document.get('state')})"
        return [identifier for identifier in deletion.removed if identifier not in deletion.kept]

    async def get_contact(self, campaign: str, identifier: str) -> Contact | None:
        document = await self._collection("contacts").find_one(
            {"_id": contact_key(campaign, check_string(identifier, "identifier"))}
        )
        return None if document is None else _contact_from_document(document)

    async def iter_contacts(self, campaign: str, *, batch_size: int = 1000) -> AsyncIterator[Contact]:
        await self.get_campaign(campaign)
        cursor = self._collection("contacts").find({"campaign": campaign}, batch_size=batch_size)
        async for document in cursor.sort("upload_seq", ASCENDING):
            yield _contact_from_document(document)

    async def count_contacts(self, campaign: str, *, state: str | None = None) -> int:
        await self.get_campaign(campaign)
        query: dict[str, Any] = {"campaign": campaign}
        if state is not None:
            query["state"] = check_string(state, "state")
        return await self._collection("contacts").count_documents(query)

    async def set_contact_state(
        self, campaign: str, identifier: str, state: str, *, next_attempt_at: datetime | None = None
    ) -> bool:
        result = await self._collection("contacts").update_one(
            {"_id": contact_key(campaign, check_string(identifier, "identifier"))},
            {"$set": {"state": check_string(state, "state"), "next_attempt_at": next_attempt_at, "updated_at": utc_now()}},
        )
        return result.matched_count == 1

    # Attempts

    async def record_attempt(self, campaign: str, identifier: str, attempt: dict[str, Any]) -> None:
        for name, value in attempt.items():
            check_field_value(name, value)
        key = contact_key(campaign, check_string(identifier, "identifier"))
        result = await self._collection("contacts").update_one({"_id": key}, {"$inc": {"attempts": 1}})
        if result.matched_count == 0:
            raise StoreValueError(f"contact {identifier!r} not found in campaign {campaign!r}")
        await self._collection("attempts").insert_one({"contact_id": key, "at": utc_now(), "attempt": attempt})

    async def list_attempts(self, campaign: str, identifier: str) -> list[dict[str, Any]]:
        key = contact_key(campaign, check_string(identifier, "identifier"))
        cursor = self._collection("attempts").find({"contact_id": key}).sort([("at", ASCENDING), ("_id", ASCENDING)])
        return [document["attempt"] async for document in cursor]


def _new_document(campaign: str, upload_id: str, plan: ContactPlan) -> dict[str, Any]:
    now = utc_now()
    return {
        "_id": contact_key(campaign, plan.identifier),
        "campaign": campaign,
        "identifier": plan.identifier,
        "fields": plan.fields,
        "state": STATE_NEW,
        "next_attempt_at": None,
        "lease_owner": None,
        "lease_expires_at": None,
        "attempts": 0,
        "upload_seq": plan.upload_seq,
        "upload_ids": [upload_id],
        "history": plan.history,
        "revision": 0,
        "created_at": now,
        "updated_at": now,
    }


def _merge_update(plan: ContactPlan, upload_id: str) -> dict[str, Any]:
    # Field names were checked to be plain identifiers, so "fields.<name>" is
    # a path of exactly two keys and cannot reach another part of the document.
    changed = {f"fields.{name}": plan.fields[name] for name in sorted(plan.changed)}
    return {
        "$set": {**changed, "updated_at": utc_now()},
        "$push": {"history": {"$each": plan.history}},
        "$addToSet": {"upload_ids": upload_id},
        "$inc": {"revision": 1},
    }


def _contact_from_document(document: dict[str, Any]) -> Contact:
    return Contact(
        campaign=document["campaign"],
        identifier=document["identifier"],
        fields=document.get("fields", {}),
        upload_seq=document["upload_seq"],
        upload_ids=document.get("upload_ids", []),
        state=document.get("state", STATE_NEW),
        next_attempt_at=document.get("next_attempt_at"),
        lease_owner=document.get("lease_owner"),
        lease_expires_at=document.get("lease_expires_at"),
        attempts=document.get("attempts", 0),
        history=document.get("history", []),
        created_at=document.get("created_at"),
        updated_at=document.get("updated_at"),
    )
