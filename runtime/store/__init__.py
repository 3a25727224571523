"""The contact store: campaigns, custom fields, contacts, uploads and attempts.

One asynchronous interface, :class:`ContactStore`, with two implementations
chosen by URL through :func:`open_store`:

- ``mongodb://…`` or ``mongodb+srv://…``: MongoDB through pymongo's
  ``AsyncMongoClient``, for production and for several runtime replicas.
- ``sqlite:///PATH``: an embedded SQLite file (WAL mode), the default on one
  machine. ``sqlite:///data/outwire.db`` is relative to the working directory,
  ``sqlite:////var/lib/outwire.db`` is absolute.

Lifecycle: ``open()`` connects and creates the schema and indexes (idempotent),
then any method may run, then ``close()``. ``async with open_store(url)``
does both.

Values never become query operators. Field names must be plain identifiers
(no ``$``, no ``.``) and field values must be scalars, so a CSV cell such as
``{"$gt": ""}`` is stored as the string it is, and a dict value raises
:class:`StoreValueError`.
"""

from __future__ import annotations

import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from datetime import datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from runtime.store.models import (
    Campaign,
    Contact,
    ContactRow,
    CustomField,
    EncodedRows,
    MergeCounts,
    StoreValueError,
    Upload,
    UploadDeletion,
)

__all__ = [
    "CampaignExistsError", "CampaignNotFoundError", "ContactStore", "StoreError",
    "StoreURLError", "StoreValueError", "UploadNotFoundError", "open_store", "redact_url",
]


class StoreError(Exception):
    """A store operation that failed; the message names the campaign or record."""


class StoreURLError(StoreError, ValueError):
    """A store URL that names no supported store."""


class CampaignNotFoundError(StoreError, LookupError):
    """A campaign name that the store does not contain."""


class CampaignExistsError(StoreError):
    """A campaign created under a name that is already taken."""


class UploadNotFoundError(StoreError, LookupError):
    """An upload id that the campaign does not contain."""


class ContactStore(ABC):
    """Asynchronous access to campaigns and their contacts, uploads and attempts.

    Every method that takes a campaign name raises CampaignNotFoundError when
    the campaign does not exist.
    """

    url: str
    # True when merge_contacts is much faster if every row of one identifier
    # arrives in the same call, so the importer groups a file's rows by
    # identifier on disk before writing (runtime.contacts.grouping).
    prefers_grouped_rows: bool = False

    @abstractmethod
    async def open(self) -> None:
        """Connect, then create the tables or collections and indexes that are missing."""

    @abstractmethod
    async def close(self) -> None:
        """Release the connection; the store cannot be used afterwards."""

    async def __aenter__(self) -> ContactStore:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # Campaigns and custom fields

    @abstractmethod
    async def create_campaign(self, campaign: Campaign) -> None:
        """Store a new campaign; raises CampaignExistsError when the name is taken."""

    @abstractmethod
    async def get_campaign(self, name: str) -> Campaign:
        """Return the campaign called ``name``."""

    @abstractmethod
    async def list_campaigns(self) -> list[Campaign]:
        """Return every campaign, by name."""

    @abstractmethod
    async def add_custom_field(self, campaign: str, custom: CustomField) -> Campaign:
        """Add a custom field definition and return the updated campaign.

        Adding a field that exists with the same type and values does nothing.
        A field that exists with another definition raises StoreValueError.
        """

    # Uploads and contacts

    @abstractmethod
    async def create_upload(self, campaign: str, source: str) -> Upload:
        """Record the start of an upload from ``source`` (a file name) and return it."""

    @abstractmethod
    async def save_upload(self, upload: Upload) -> None:
        """Store an upload's figures and status."""

    @abstractmethod
    async def get_upload(self, campaign: str, upload_id: str) -> Upload:
        """Return one upload; raises UploadNotFoundError."""

    @abstractmethod
    async def list_uploads(self, campaign: str) -> list[Upload]:
        """Return the campaign's uploads, oldest first."""

    @abstractmethod
    async def merge_contacts(self, campaign: Campaign, upload_id: str, rows: list[ContactRow]) -> MergeCounts:
        """Insert new contacts and merge rows into existing ones, following runtime.store.merge.

        Each contact is written whole or not at all. Every contact the rows
        touch records ``upload_id`` among its uploads.
        """

    async def merge_encoded(self, campaign: Campaign, upload_id: str, rows: EncodedRows) -> MergeCounts:
        """Merge rows that the importer encoded in its reading process, as merge_contacts does.

        This default decodes the rows and calls merge_contacts. A store that
        can insert the encoded fields of new identifiers as they are
        overrides it, which is how an import spends little CPU per row in the
        writing process.
        """
        return await self.merge_contacts(campaign, upload_id, rows.decode())

    @abstractmethod
    async def delete_upload(self, campaign: str, upload_id: str) -> UploadDeletion:
        """Delete the contacts that came only from this upload and have not started.

        Contacts that other uploads also contain stay and lose this upload id.
        Contacts that started their flow stay. The upload is marked deleted.
        """

    @abstractmethod
    async def get_contact(self, campaign: str, identifier: str) -> Contact | None:
        """Return the contact with this identifier, or None."""

    @abstractmethod
    def iter_contacts(self, campaign: str, *, batch_size: int = 1000) -> AsyncIterator[Contact]:
        """Yield the campaign's contacts in upload order, reading ``batch_size`` at a time."""

    @abstractmethod
    async def count_contacts(self, campaign: str, *, state: str | None = None) -> int:
        """Return how many contacts the campaign has, in ``state`` when given."""

    @abstractmethod
    async def set_contact_state(
        self, campaign: str, identifier: str, state: str, *, next_attempt_at: datetime | None = None
    ) -> bool:
        """Set a contact's dispatch state; returns False when the contact does not exist."""

    # Attempts

    @abstractmethod
    async def record_attempt(self, campaign: str, identifier: str, attempt: dict[str, Any]) -> None:
        """Append one delivery attempt and count it on the contact."""

    @abstractmethod
    async def list_attempts(self, campaign: str, identifier: str) -> list[dict[str, Any]]:
        """Return the contact's attempts, oldest first."""


def open_store(url: str) -> ContactStore:
    """Return the store for ``url``, not yet opened.

    Raises StoreURLError for a URL that is neither ``mongodb://`` nor ``sqlite:///``.
    """
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from runtime.store.mongodb import MongoContactStore

        _check_mongodb_url(url)
        return MongoContactStore(url)
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        from runtime.store.sqlite import SQLiteContactStore

        return SQLiteContactStore(url)
    raise StoreURLError(
        f"invalid store URL {redact_url(url)!r}: use mongodb://HOST[:PORT]/DATABASE "
        "or sqlite:///PATH (set it with --store or OUTWIRE_STORE_URL)"
    )


def _check_mongodb_url(url: str) -> None:
    """Raise StoreURLError for a MongoDB URL that pymongo cannot parse, without connecting.

    A ``mongodb+srv://`` URL gets only a syntax check, because pymongo's full
    parse of it looks up DNS records.
    """
    from pymongo.errors import PyMongoError
    from pymongo.uri_parser import parse_uri

    try:
        if url.startswith("mongodb+srv://"):
            urlsplit(url).port
        else:
            with warnings.catch_warnings():
                # The client warns about unknown options itself when it opens.
                warnings.simplefilter("ignore")
                parse_uri(url, warn=True)
    except (ValueError, PyMongoError) as exc:
        raise StoreURLError(
            f"invalid MongoDB URL {redact_url(url)!r}: {str(exc).rstrip('.')}; fix the URL "
            "(mongodb://[USER:PASSWORD@]HOST[:PORT]/DATABASE)"
        ) from exc


_PASSWORD_RE = re.compile(r"(?<=:)[^:@/]*(?=@)")


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``, for logs and messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _PASSWORD_RE.sub("***", url)
    if parts.password is None:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
