"""Merge rules for uploaded contacts, shared by every store implementation.

A row whose identifier is new becomes a contact in state ``new`` with the next
upload sequence number. A row whose identifier exists merges into the stored
contact: each non-empty incoming value that differs from the stored one
replaces it, and a history entry records every change as ``{"from", "to"}``.
Merging never touches the contact's state, attempts or lease, so a contact
that already started its flow keeps going from where it was. Rows of one batch
that share an identifier apply in file order, each one as its own merge.

Stores call :func:`plan_batch` with the stored fields of the identifiers that
exist and write what it returns; the rules live here so that SQLite and
MongoDB cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runtime.store.models import ContactRow, MergeCounts


@dataclass
class StoredFields:
    """What a store read about an existing contact before merging into it."""

    fields: dict[str, Any]
    # Optimistic-concurrency token: a store writes the merge only if the
    # contact still has this revision.
    revision: int
    key: Any = None


@dataclass(slots=True)
class ContactPlan:
    """The write one identifier needs after its rows in a batch are merged."""

    identifier: str
    fields: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    # Set for a contact this batch creates; None for an existing one.
    upload_seq: int | None = None
    stored: StoredFields | None = None
    # Names of the fields whose value this batch changed (existing contacts).
    changed: set[str] = field(default_factory=set)
    # Rows of this batch that changed a value of, or left unchanged, the contact.
    rows_merged: int = 0
    rows_unchanged: int = 0

    @property
    def is_new(self) -> bool:
        return self.stored is None


def plan_batch(
    rows: list[ContactRow],
    existing: dict[str, StoredFields],
    *,
    upload_id: str,
    now: datetime,
    first_seq: int,
) -> tuple[list[ContactPlan], MergeCounts]:
    """Merge ``rows`` into the ``existing`` contacts and return one plan per identifier.

    New identifiers take sequence numbers from ``first_seq`` upwards in the
    order they first appear. Counts: ``inserted`` per new contact, ``merged``
    per row that changed a value, ``unchanged`` per row that changed nothing.
    """
    at = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    plans: dict[str, ContactPlan] = {}
    next_seq = first_seq

    for row in rows:
        plan = plans.get(row.identifier)
        if plan is None and row.identifier not in existing:
            plans[row.identifier] = ContactPlan(
                identifier=row.identifier,
                fields=dict(row.fields),
                history=[{"at": at, "event": "created", "upload_id": upload_id, "line": row.line}],
                upload_seq=next_seq,
            )
            next_seq += 1
            continue

        if plan is None:
            stored = existing[row.identifier]
            plan = ContactPlan(identifier=row.identifier, fields=dict(stored.fields), stored=stored)
            plans[row.identifier] = plan
        changes = _merge_into(plan, row.fields)
        if changes:
            plan.history.append(
                {"at": at, "event": "merged", "upload_id": upload_id, "line": row.line, "changes": changes}
            )
            plan.rows_merged += 1
        else:
            plan.rows_unchanged += 1

    return list(plans.values()), count_plans(plans.values())


def count_plans(plans: Iterable[ContactPlan]) -> MergeCounts:
    """Add up what the rows of ``plans`` did: contacts inserted, rows merged, rows unchanged."""
    counts = MergeCounts()
    for plan in plans:
        counts.inserted += plan.is_new
        counts.merged += plan.rows_merged
        counts.unchanged += plan.rows_unchanged
    return counts


def _merge_into(plan: ContactPlan, incoming: dict[str, Any]) -> dict[str, dict[str, Any]]:
    changes: dict[str, dict[str, Any]] = {}
    for name, value in incoming.items():
        old = plan.fields.get(name)
        if value is None or value == "" or _same(old, value):
            continue
        changes[name] = {"from": old, "to": value}
        plan.fields[name] = value
        plan.changed.add(name)
    return changes


def _same(old: Any, new: Any) -> bool:
    # True == 1 in Python, but a boolean field changing to a number is a change.
    return old == new and type(old) is type(new)
