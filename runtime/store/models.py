"""Records the contact store keeps: campaigns, custom fields, contacts, uploads and attempts.

A contact belongs to one campaign and is identified in it by its channel
identifier (an E.164 phone number by default). Its ``fields`` contain the
predefined fields and the campaign's custom fields. The dispatch fields
(``state``, ``next_attempt_at``, ``lease_owner``, ``lease_expires_at``,
``attempts``) let several runtime replicas lease contacts atomically with one
conditional update per contact, so they live on the contact itself rather
than in a separate table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson

PREDEFINED_FIELDS = (
    "first_name", "last_name", "phone", "email", "whatsapp",
    "messenger_id", "viber_id", "language", "timezone",
)
# Fields a campaign can be keyed on: one per channel.
IDENTIFIER_FIELDS = ("phone", "email", "whatsapp", "messenger_id", "viber_id")
CUSTOM_FIELD_TYPES = ("string", "number", "boolean", "date", "enum")

# Contact states. Only NEW contacts have not started the campaign flow, so
# only they may be deleted with their upload or targeted as newly uploaded.
STATE_NEW = "new"
STATE_IN_PROGRESS = "in_progress"
STATE_WAITING = "waiting"
STATE_DONE = "done"
STATE_FAILED = "failed"
STATE_CANCELLED = "cancelled"

# Field and campaign names double as MongoDB keys and SQLite JSON paths, so
# they are plain identifiers: never "$..." (an operator) nor "a.b" (a path).
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_CAMPAIGN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\- ]{0,99}")


class StoreValueError(ValueError):
    """A name or value the store will not write; the message names it and the rule."""


def utc_now() -> datetime:
    """Return the current time in UTC, rounded to milliseconds as MongoDB stores it."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def check_field_name(name: str) -> str:
    """Return ``name`` when it can be a contact field name, else raise StoreValueError."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise StoreValueError(
            f"invalid field name {name!r}: use letters, digits and underscores, "
            "starting with a letter or underscore (at most 64 characters)"
        )
    return name


def check_campaign_name(name: str) -> str:
    """Return ``name`` when it can be a campaign name, else raise StoreValueError."""
    if not isinstance(name, str) or not _CAMPAIGN_RE.fullmatch(name):
        raise StoreValueError(
            f"invalid campaign name {name!r}: use letters, digits, spaces, '_', '-' or '.', "
            "starting with a letter or digit (at most 100 characters)"
        )
    return name


def check_field_value(name: str, value: Any) -> Any:
    """Return ``value`` when it is a scalar the store can keep, else raise StoreValueError.

    Dicts and lists are rejected, because a dict such as ``{"$gt": ""}`` would
    be an operator in a MongoDB query or update.
    """
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise StoreValueError(
        f"invalid value for field {name!r}: expected a string, number, boolean or null, "
        f"got {type(value).__name__}"
    )


_SCALAR_TYPES = frozenset({str, bool, int, float, type(None)})


def check_row_values(rows: list[ContactRow]) -> None:
    """Raise StoreValueError unless every field value of ``rows`` is a scalar (see check_field_value)."""
    scalar_types = _SCALAR_TYPES
    for row in rows:
        for name, value in row.fields.items():
            if type(value) not in scalar_types:
                check_field_value(name, value)


def check_string(value: Any, what: str) -> str:
    """Return ``value`` if it is a string, else raise StoreValueError.

    Names and identifiers reach queries as values; a dict there would be a
    MongoDB query operator.
    """
    if not isinstance(value, str):
        raise StoreValueError(f"invalid {what} {value!r}: expected a string, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class CustomField:
    """A campaign-specific contact field with a type; enum fields list their values."""

    name: str
    type: str
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_field_name(self.name)
        if self.name in PREDEFINED_FIELDS:
            raise StoreValueError(f"custom field {self.name!r} has the name of a predefined field; choose another name")
        if self.type not in CUSTOM_FIELD_TYPES:
            raise StoreValueError(
                f"custom field {self.name!r} has invalid type {self.type!r}; "
                f"use one of {', '.join(CUSTOM_FIELD_TYPES)}"
            )
        if self.type == "enum" and not self.values:
            raise StoreValueError(f"enum field {self.name!r} needs at least one value")
        if self.type != "enum" and self.values:
            raise StoreValueError(f"custom field {self.name!r} of type {self.type} cannot list values")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "values": list(self.values)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CustomField:
        return cls(name=data["name"], type=data["type"], values=tuple(data.get("values") or ()))


@dataclass
class Campaign:
    """A campaign's contact settings: how contacts are keyed and which custom fields they have."""

    name: str
    identifier_field: str = "phone"
    # ISO 3166 region used to read phone numbers written without a country code.
    default_region: str | None = None
    custom_fields: list[CustomField] = field(default_factory=list)
    state: str = "draft"
    created_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        check_campaign_name(self.name)
        if self.identifier_field not in IDENTIFIER_FIELDS:
            raise StoreValueError(
                f"campaign {self.name!r}: invalid identifier field {self.identifier_field!r}; "
                f"use one of {', '.join(IDENTIFIER_FIELDS)}"
            )
        if self.default_region is not None:
            self.default_region = self.default_region.upper()

    def custom_field(self, name: str) -> CustomField | None:
        """Return the custom field called ``name``, or None."""
        for custom in self.custom_fields:
            if custom.name == name:
                return custom
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "identifier_field": self.identifier_field,
            "default_region": self.default_region,
            "custom_fields": [custom.to_dict() for custom in self.custom_fields],
            "state": self.state,
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Campaign:
        return cls(
            name=data["name"],
            identifier_field=data["identifier_field"],
            default_region=data.get("default_region"),
            custom_fields=[CustomField.from_dict(item) for item in data.get("custom_fields") or []],
            state=data.get("state", "draft"),
            created_at=data["created_at"],
        )


@dataclass(slots=True)
class ContactRow:
    """One normalised contact from an upload, ready to insert or merge.

    ``fields`` contains only non-empty values, so merging it never clears a
    stored value. ``line`` is the row's first line in the source file.
    """

    identifier: str
    fields: dict[str, Any]
    line: int = 0


@dataclass(slots=True)
class EncodedRows:
    """A batch of ContactRows in columns, with each row's fields already encoded as JSON text.

    An import builds it in the process that reads the file, so the process
    that writes the store gets plain lists of strings and ints, cheap to
    unpickle. A store inserts the fields text of a new identifier as it is,
    and decodes only the rows it must merge. Build it with :meth:`from_rows`,
    which checks every row as ``merge_contacts`` would.
    """

    identifiers: list[str]
    fields_json: list[str]
    lines: list[int]
    # Identifiers that occur in more than one row of this batch. Their rows
    # merge into each other, so a store cannot insert them as they are.
    repeated: frozenset[str]

    @classmethod
    def from_rows(cls, rows: list[ContactRow]) -> EncodedRows:
        """Encode ``rows``; raises StoreValueError for a non-string identifier or a non-scalar value."""
        check_row_values(rows)
        identifiers = [row.identifier for row in rows]
        for identifier in identifiers:
            if type(identifier) is not str:
                check_string(identifier, "identifier")
        dumps = orjson.dumps
        return cls(
            identifiers=identifiers,
            fields_json=[dumps(row.fields).decode() for row in rows],
            lines=[row.line for row in rows],
            repeated=_repeated(identifiers),
        )

    def __len__(self) -> int:
        return len(self.identifiers)

    def __iter__(self) -> Iterator[ContactRow]:
        """Yield the rows decoded, in order."""
        loads = orjson.loads
        for identifier, fields_json, line in zip(self.identifiers, self.fields_json, self.lines):
            yield ContactRow(identifier, loads(fields_json), line)

    def __getitem__(self, index: int) -> ContactRow:
        return ContactRow(self.identifiers[index], orjson.loads(self.fields_json[index]), self.lines[index])

    def decode(self) -> list[ContactRow]:
        """Return the rows as ContactRows, in order."""
        return list(self)


def _repeated(identifiers: list[str]) -> frozenset[str]:
    unique = set(identifiers)
    if len(unique) == len(identifiers):
        return frozenset()
    seen: set[str] = set()
    repeated: set[str] = set()
    for identifier in identifiers:
        if identifier in seen:
            repeated.add(identifier)
        seen.add(identifier)
    return frozenset(repeated)


@dataclass
class Contact:
    """A campaign's contact with its data, dispatch state and history."""

    campaign: str
    identifier: str
    fields: dict[str, Any]
    upload_seq: int
    upload_ids: list[str]
    state: str = STATE_NEW
    next_attempt_at: datetime | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    attempts: int = 0
    # Oldest first: {"at", "event": "created" | "merged", "upload_id", "changes"}.
    history: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the contact as JSON-safe data, datetimes in ISO 8601."""
        return _jsonable({
            "campaign": self.campaign,
            "identifier": self.identifier,
            **{name: self.fields.get(name) for name in PREDEFINED_FIELDS},
            **{name: value for name, value in self.fields.items() if name not in PREDEFINED_FIELDS},
            "state": self.state,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at,
            "upload_seq": self.upload_seq,
            "upload_ids": self.upload_ids,
            "history": self.history,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })


@dataclass
class Upload:
    """One CSV upload into a campaign and its outcome figures."""

    upload_id: str
    campaign: str
    source: str
    started_at: datetime = field(default_factory=utc_now)
    finished_at: datetime | None = None
    rows_read: int = 0
    inserted: int = 0
    merged: int = 0
    unchanged: int = 0
    rejected: int = 0
    # "running" while rows are written, then "finished", "failed" or "deleted".
    status: str = "running"

    def to_dict(self) -> dict[str, Any]:
        return {
            "upload_id": self.upload_id, "campaign": self.campaign, "source": self.source,
            "started_at": self.started_at, "finished_at": self.finished_at,
            "rows_read": self.rows_read, "inserted": self.inserted, "merged": self.merged,
            "unchanged": self.unchanged, "rejected": self.rejected, "status": self.status,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Upload:
        return cls(**{key: data.get(key) for key in cls.__dataclass_fields__ if key in data})


@dataclass
class MergeCounts:
    """Counts of contacts inserted and rows merged or unchanged by one batch."""

    inserted: int = 0
    merged: int = 0
    unchanged: int = 0

    def add(self, other: MergeCounts) -> None:
        self.inserted += other.inserted
        self.merged += other.merged
        self.unchanged += other.unchanged


@dataclass
class UploadDeletion:
    """The outcome of deleting an upload: removed contacts, and kept ones with the reason."""

    upload_id: str
    removed: list[str] = field(default_factory=list)
    # identifier -> why the contact stayed
    kept: dict[str, str] = field(default_factory=dict)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value
