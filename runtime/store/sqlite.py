"""The embedded contact store: one SQLite file in WAL mode.

sqlite3 calls block, so every call runs on one dedicated thread that owns the
connection, and the event loop only awaits it. One thread also means one
writer per process. Between processes, ``BEGIN IMMEDIATE`` takes SQLite's
write lock before a merge reads, so two imports into the same file serialise
instead of losing each other's changes. A second connection, on a thread of
its own, checkpoints the WAL after merges (runtime.store.checkpoint).

Contact fields, upload ids and history are JSON text columns. The columns
that dispatch filters and sorts on (state, next attempt time, upload sequence,
lease) are real columns with an index. Times are ISO 8601 text in UTC with
milliseconds (``2026-01-31T09:00:00.000Z``), which sorts correctly as text.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import orjson

from runtime.log import store_log
from runtime.store import (
    CampaignExistsError,
    CampaignNotFoundError,
    ContactStore,
    UploadNotFoundError,
)
from runtime.store.checkpoint import WRITER_AUTOCHECKPOINT_PAGES, WalCheckpointer
from runtime.store.merge import ContactPlan, StoredFields, plan_batch
from runtime.store.models import (
    STATE_NEW,
    Campaign,
    Contact,
    ContactRow,
    CustomField,
    EncodedRows,
    MergeCounts,
    StoreValueError,
    Upload,
    UploadDeletion,
    check_field_value,
    check_string,
    utc_now,
)
from runtime.store.sqlite_rows import (
    created_history_prefix,
    insert_contacts,
    insert_new_contacts,
    split_batch,
)

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    name TEXT PRIMARY KEY,
    doc TEXT NOT NULL,
    next_contact_seq INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS uploads (
    campaign TEXT NOT NULL,
    upload_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (campaign, upload_id)
);
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    identifier TEXT NOT NULL,
    fields TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'new',
    next_attempt_at TEXT,
    lease_owner TEXT,
    lease_expires_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    upload_seq INTEGER NOT NULL,
    upload_ids TEXT NOT NULL,
    history TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (campaign, identifier)
);
-- Dispatch: equality on campaign and state, order by upload_seq (FIFO or
-- LIFO), then the due-time range.
CREATE INDEX IF NOT EXISTS contacts_dispatch ON contacts (campaign, state, upload_seq, next_attempt_at);
CREATE INDEX IF NOT EXISTS contacts_upload_order ON contacts (campaign, upload_seq);
CREATE INDEX IF NOT EXISTS contacts_lease ON contacts (lease_expires_at) WHERE lease_owner IS NOT NULL;
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    identifier TEXT NOT NULL,
    at TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_contact ON attempts (campaign, identifier, id);
"""

# SQLite's default limit on bound parameters is 32766 since 3.32; 500 per IN
# list keeps each statement small and works on older builds too (limit 999).
_IN_CHUNK = 500
_CONTACT_COLUMNS = (
    "id, campaign, identifier, fields, state, next_attempt_at, lease_owner, lease_expires_at, "
    "attempts, upload_seq, upload_ids, history, created_at, updated_at"
)


class SQLiteContactStore(ContactStore):
    """Contact store in one SQLite file; see the module docstring for the threading model."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = url[len("sqlite:///"):]
        self._executor: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None
        # None for an in-memory database, which has no WAL.
        self._checkpointer: WalCheckpointer | None = None

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise RuntimeError(f"SQLite store {self.path} is not open; call open() first")
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outwire-sqlite")
        await self._run(self._connect)
        store_log.info("opened SQLite store %s", self.path)

    def _connect(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        connection.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable in WAL mode except for the last transactions
        # before a power loss; a crash of the process loses nothing.
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.executescript(_SCHEMA)
        self._connection = connection
        if self.path != ":memory:":
            connection.execute(f"PRAGMA wal_autocheckpoint={WRITER_AUTOCHECKPOINT_PAGES}")
            self._checkpointer = WalCheckpointer(self.path)

    async def close(self) -> None:
        if self._executor is None:
            return
        await self._run(self._disconnect)
        self._executor.shutdown(wait=True)
        self._executor = None

    def _disconnect(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @property
    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError(f"SQLite store {self.path} is not open; call open() first")
        return self._connection

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            result = work(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    # Campaigns

    async def create_campaign(self, campaign: Campaign) -> None:
        await self._run(self._create_campaign, campaign)

    def _create_campaign(self, campaign: Campaign) -> None:
        try:
            self._db.execute(
                "INSERT INTO campaigns (name, doc) VALUES (?, ?)", (campaign.name, _dumps(campaign.to_dict()))
            )
        except sqlite3.IntegrityError:
            raise CampaignExistsError(f"campaign {campaign.name!r} already exists") from None

    async def get_campaign(self, name: str) -> Campaign:
        return await self._run(self._get_campaign, name)

    def _get_campaign(self, name: str) -> Campaign:
        row = self._db.execute("SELECT doc FROM campaigns WHERE name = ?", (check_string(name, "campaign"),)).fetchone()
        if row is None:
            raise CampaignNotFoundError(
                f"campaign {name!r} not found; create it first (outwire contacts import --create-campaign)"
            )
        return _campaign_from_doc(row[0])

    async def list_campaigns(self) -> list[Campaign]:
        rows = await self._run(lambda: self._db.execute("SELECT doc FROM campaigns ORDER BY name").fetchall())
        return [_campaign_from_doc(row[0]) for row in rows]

    async def add_custom_field(self, campaign: str, custom: CustomField) -> Campaign:
        return await self._run(self._transaction, lambda db: self._add_custom_field(db, campaign, custom))

    def _add_custom_field(self, db: sqlite3.Connection, name: str, custom: CustomField) -> Campaign:
        campaign = self._get_campaign(name)
        existing = campaign.custom_field(custom.name)
        if existing == custom:
            return campaign
        if existing is not None:
            raise StoreValueError(
                f"campaign {name!r} already has custom field {custom.name!r} of type {existing.type}; "
                "a field's definition cannot change"
            )
        campaign.custom_fields.append(custom)
        db.execute("UPDATE campaigns SET doc = ? WHERE name = ?", (_dumps(campaign.to_dict()), name))
        return campaign

    # Uploads

    async def create_upload(self, campaign: str, source: str) -> Upload:
        await self.get_campaign(campaign)
        upload = Upload(upload_id=uuid.uuid4().hex[:12], campaign=campaign, source=source)
        await self.save_upload(upload)
        return upload

    async def save_upload(self, upload: Upload) -> None:
        await self._run(
            lambda: self._db.execute(
                "INSERT OR REPLACE INTO uploads (campaign, upload_id, started_at, doc) VALUES (?, ?, ?, ?)",
                (upload.campaign, upload.upload_id, _iso(upload.started_at), _dumps(upload.to_dict())),
            )
        )

    async def get_upload(self, campaign: str, upload_id: str) -> Upload:
        row = await self._run(
            lambda: self._db.execute(
                "SELECT doc FROM uploads WHERE campaign = ? AND upload_id = ?", (campaign, upload_id)
            ).fetchone()
        )
        if row is None:
            await self.get_campaign(campaign)
            raise UploadNotFoundError(
                f"upload {upload_id!r} not found in campaign {campaign!r}; "
                "list the uploads with outwire contacts uploads"
            )
        return _upload_from_doc(row[0])

    async def list_uploads(self, campaign: str) -> list[Upload]:
        await self.get_campaign(campaign)
        rows = await self._run(
            lambda: self._db.execute(
                "SELECT doc FROM uploads WHERE campaign = ? ORDER BY started_at, rowid", (campaign,)
            ).fetchall()
        )
        return [_upload_from_doc(row[0]) for row in rows]

    # Contacts

    async def merge_contacts(self, campaign: Campaign, upload_id: str, rows: list[ContactRow]) -> MergeCounts:
        return await self.merge_encoded(campaign, upload_id, EncodedRows.from_rows(rows))

    async def merge_encoded(self, campaign: Campaign, upload_id: str, rows: EncodedRows) -> MergeCounts:
        return await self._run(self._merge_batch, campaign.name, upload_id, rows)

    def _merge_batch(self, campaign: str, upload_id: str, rows: EncodedRows) -> MergeCounts:
        counts = self._transaction(lambda db: self._merge(db, campaign, upload_id, rows))
        # Merges are the bulk writes, so they are what fills the WAL.
        if self._checkpointer is not None:
            self._checkpointer.request()
        return counts

    def _merge(self, db: sqlite3.Connection, campaign: str, upload_id: str, rows: EncodedRows) -> MergeCounts:
        """Insert the batch's new contacts and merge its other rows, in one transaction.

        A row whose identifier is new and occurs once in the batch is
        inserted with the fields text that the reading process encoded, and
        SQL builds its history entry. Only the rows of existing or repeated
        identifiers are decoded and go through plan_batch.
        """
        seq_row = db.execute("SELECT next_contact_seq FROM campaigns WHERE name = ?", (campaign,)).fetchone()
        if seq_row is None:
            raise CampaignNotFoundError(f"campaign {campaign!r} not found")
        existing = self._read_existing(db, campaign, rows.identifiers)
        now = utc_now()
        now_text = _iso_text(now)
        upload_ids_text = _dumps([upload_id])

        split = split_batch(rows, existing, first_seq=seq_row[0])
        plans, counts = plan_batch(split.merge_rows, existing, upload_id=upload_id, now=now, first_seq=0)
        for plan in plans:
            if plan.is_new:
                # plan_batch numbers only the identifiers it sees; the
                # batch's other new rows take the numbers in between.
                plan.upload_seq = split.merge_seqs[plan.identifier]
        counts.inserted += split.new_count

        shared = (campaign, upload_ids_text, created_history_prefix(now, upload_id), now_text)
        insert_new_contacts(db, split.new_values, shared)
        self._write_plans(db, campaign, upload_id, plans, now_text, upload_ids_text)
        db.execute(
            "UPDATE campaigns SET next_contact_seq = next_contact_seq + ? WHERE name = ?", (counts.inserted, campaign)
        )
        return counts

    def _write_plans(
        self,
        db: sqlite3.Connection,
        campaign: str,
        upload_id: str,
        plans: list[ContactPlan],
        now_text: str,
        upload_ids_text: str,
    ) -> None:
        dumps = orjson.dumps
        inserts = []
        updates = []
        for plan in plans:
            if plan.stored is None:
                inserts.append((
                    campaign, plan.identifier, dumps(plan.fields).decode(), plan.upload_seq,
                    upload_ids_text, dumps(plan.history).decode(), now_text, now_text,
                ))
                continue
            contact_id, history, upload_ids = plan.stored.key
            if not plan.history and upload_id in upload_ids:
                continue
            if upload_id not in upload_ids:
                upload_ids = [*upload_ids, upload_id]
            updates.append((
                _dumps(plan.fields), _dumps(history + plan.history), _dumps(upload_ids),
                now_text if plan.history else None, contact_id,
            ))

        insert_contacts(db, inserts)
        db.executemany(
            "UPDATE contacts SET fields = ?, history = ?, upload_ids = ?, updated_at = coalesce(?, updated_at),"
            " revision = revision + 1 WHERE id = ?",
            updates,
        )

    def _read_existing(self, db: sqlite3.Connection, campaign: str, identifiers: list[str]) -> dict[str, StoredFields]:
        existing: dict[str, StoredFields] = {}
        for start in range(0, len(identifiers), _IN_CHUNK):
            chunk = identifiers[start:start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            cursor = db.execute(
                "SELECT id, identifier, fields, revision, history, upload_ids FROM contacts"
                f" WHERE campaign = ? AND identifier IN ({marks})",
                (campaign, *chunk),
            )
            for contact_id, identifier, fields, revision, history, upload_ids in cursor:
                existing[identifier] = StoredFields(
                    fields=orjson.loads(fields),
                    revision=revision,
                    key=(contact_id, orjson.loads(history), orjson.loads(upload_ids)),
                )
        return existing

    async def delete_upload(self, campaign: str, upload_id: str) -> UploadDeletion:
        upload = await self.get_upload(campaign, upload_id)
        deletion = await self._run(self._transaction, lambda db: self._delete_upload(db, campaign, upload_id))
        upload.status = "deleted"
        await self.save_upload(upload)
        return deletion

    def _delete_upload(self, db: sqlite3.Connection, campaign: str, upload_id: str) -> UploadDeletion:
        # NOTE: json_each scans the campaign's contacts. Deleting an upload is
        # rare, and a join table would cost every import an extra insert per row.
        cursor = db.execute(
            "SELECT id, identifier, state, upload_ids, lease_owner FROM contacts"
            " WHERE campaign = ? AND EXISTS (SELECT 1 FROM json_each(contacts.upload_ids) WHERE value = ?)",
            (campaign, upload_id),
        )
        deletion = UploadDeletion(upload_id=upload_id)
        delete_ids: list[tuple[int]] = []
        detach: list[tuple[str, int]] = []
        for contact_id, identifier, state, upload_ids_text, lease_owner in cursor.fetchall():
            upload_ids = orjson.loads(upload_ids_text)
            others = [other for other in upload_ids if other != upload_id]
            if others:
                deletion.kept[identifier] = f"also in upload {', '.join(others)}"
                detach.append((_dumps(others), contact_id))
            elif state != STATE_NEW or lease_owner is not None:
                deletion.kept[identifier] = f"already started (state {state})"
            else:
                deletion.removed.append(identifier)
                delete_ids.append((contact_id,))
        db.executemany("DELETE FROM contacts WHERE id = ?", delete_ids)
        db.executemany("UPDATE contacts SET upload_ids = ? WHERE id = ?", detach)
        return deletion

    async def get_contact(self, campaign: str, identifier: str) -> Contact | None:
        row = await self._run(
            lambda: self._db.execute(
                f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE campaign = ? AND identifier = ?",
                (check_string(campaign, "campaign"), check_string(identifier, "identifier")),
            ).fetchone()
        )
        return None if row is None else _contact_from_row(row)

    async def iter_contacts(self, campaign: str, *, batch_size: int = 1000) -> AsyncIterator[Contact]:
        await self.get_campaign(campaign)
        last_seq = 0
        while True:
            rows = await self._run(self._contacts_after, campaign, last_seq, batch_size)
            for row in rows:
                yield _contact_from_row(row)
            if len(rows) < batch_size:
                return
            last_seq = rows[-1][9]

    def _contacts_after(self, campaign: str, last_seq: int, limit: int) -> list[tuple[Any, ...]]:
        return self._db.execute(
            f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE campaign = ? AND upload_seq > ?"
            " ORDER BY upload_seq LIMIT ?",
            (campaign, last_seq, limit),
        ).fetchall()

    async def count_contacts(self, campaign: str, *, state: str | None = None) -> int:
        await self.get_campaign(campaign)
        if state is None:
            query, params = "SELECT count(*) FROM contacts WHERE campaign = ?", (campaign,)
        else:
            query, params = "SELECT count(*) FROM contacts WHERE campaign = ? AND state = ?", (campaign, state)
        row = await self._run(lambda: self._db.execute(query, params).fetchone())
        return int(row[0])

    async def set_contact_state(
        self, campaign: str, identifier: str, state: str, *, next_attempt_at: datetime | None = None
    ) -> bool:
        cursor = await self._run(
            lambda: self._db.execute(
                "UPDATE contacts SET state = ?, next_attempt_at = ?, updated_at = ?"
                " WHERE campaign = ? AND identifier = ?",
                (state, _iso(next_attempt_at), _iso(utc_now()), campaign, identifier),
            )
        )
        return bool(cursor.rowcount)

    # Attempts

    async def record_attempt(self, campaign: str, identifier: str, attempt: dict[str, Any]) -> None:
        for name, value in attempt.items():
            check_field_value(name, value)
        await self._run(self._transaction, lambda db: self._record_attempt(db, campaign, identifier, attempt))

    def _record_attempt(self, db: sqlite3.Connection, campaign: str, identifier: str, attempt: dict[str, Any]) -> None:
        cursor = db.execute(
            "UPDATE contacts SET attempts = attempts + 1 WHERE campaign = ? AND identifier = ?", (campaign, identifier)
        )
        if cursor.rowcount == 0:
            raise StoreValueError(f"contact {identifier!r} not found in campaign {campaign!r}")
        db.execute(
            "INSERT INTO attempts (campaign, identifier, at, doc) VALUES (?, ?, ?, ?)",
            (campaign, identifier, _iso(utc_now()), _dumps(attempt)),
        )

    async def list_attempts(self, campaign: str, identifier: str) -> list[dict[str, Any]]:
        rows = await self._run(
            lambda: self._db.execute(
                "SELECT doc FROM attempts WHERE campaign = ? AND identifier = ? ORDER BY id", (campaign, identifier)
            ).fetchall()
        )
        return [orjson.loads(row[0]) for row in rows]


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z).decode()


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return _iso_text(value)


def _iso_text(value: datetime) -> str:
    text = value.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _campaign_from_doc(doc: str) -> Campaign:
    data = orjson.loads(doc)
    data["created_at"] = _parse_time(data["created_at"])
    return Campaign.from_dict(data)


def _upload_from_doc(doc: str) -> Upload:
    data = orjson.loads(doc)
    for key in ("started_at", "finished_at"):
        data[key] = _parse_time(data.get(key))
    return Upload.from_dict(data)


def _contact_from_row(row: Iterable[Any]) -> Contact:
    (_, campaign, identifier, fields, state, next_attempt_at, lease_owner, lease_expires_at,
     attempts, upload_seq, upload_ids, history, created_at, updated_at) = row
    return Contact(
        campaign=campaign,
        identifier=identifier,
        fields=orjson.loads(fields),
        upload_seq=upload_seq,
        upload_ids=orjson.loads(upload_ids),
        state=state,
        next_attempt_at=_parse_time(next_attempt_at),
        lease_owner=lease_owner,
        lease_expires_at=_parse_time(lease_expires_at),
        attempts=attempts,
        history=orjson.loads(history),
        created_at=_parse_time(created_at),
        updated_at=_parse_time(updated_at),
    )
