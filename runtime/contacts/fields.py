"""Map CSV columns to contact fields and check every value against its field's type.

:class:`ColumnMap` reads a header once. :meth:`ColumnMap.normalise` then turns
each row into a :class:`~runtime.store.models.ContactRow`, or raises
:class:`RowError` listing every bad cell of the row, so a row is either taken
whole or rejected whole.

Header names match case-insensitively, ignore stray spaces, and treat spaces,
dashes and dots like underscores (``" First Name "`` is ``first_name``). A
few common spellings are aliases (``mobile`` is ``phone``, ``e-mail`` is
``email``).
"""

from __future__ import annotations

import math
import re
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from runtime.contacts.phone import InvalidPhoneError, normalise_phone
from runtime.store.models import PREDEFINED_FIELDS, Campaign, ContactRow, CustomField

_HEADER_SEPARATORS_RE = re.compile(r"[\s\-.]+")
ALIASES = {
    "firstname": "first_name", "given_name": "first_name",
    "lastname": "last_name", "surname": "last_name", "family_name": "last_name",
    "mobile": "phone", "phone_number": "phone", "telephone": "phone", "msisdn": "phone",
    "e_mail": "email", "email_address": "email", "mail": "email",
    "whatsapp_number": "whatsapp", "messenger": "messenger_id", "viber": "viber_id",
    "lang": "language", "locale": "language", "time_zone": "timezone", "tz": "timezone",
}

_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
_INTEGER_RE = re.compile(r"[+-]?\d+")
_DECIMAL_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
# SQLite, MongoDB and the JSON encoder (orjson) store integers in 64 bits.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})

Converter = Callable[[str], Any]

# Columns whose values repeat (language, time zone, enum, boolean, date)
# keep each raw cell's converted value, so a million rows convert a handful
# of distinct values once each. The cap bounds the memory a column of
# distinct values can take. Past it, new values are converted every time.
_CACHED_VALUES_MAX = 4096
_MISSING = object()


class FieldValueError(ValueError):
    """A cell value that its field does not accept; the message gives the reason."""


@dataclass
class CellError:
    """One rejected cell: the header name of its column and the reason."""

    column: str
    reason: str


class RowError(ValueError):
    """A row that cannot be imported, with every bad cell."""

    def __init__(self, errors: list[CellError]) -> None:
        super().__init__("; ".join(f"{error.column}: {error.reason}" for error in errors))
        self.errors = errors


def canonical_header(name: str) -> str:
    """Return the field name a header cell refers to (before checking it exists)."""
    key = _HEADER_SEPARATORS_RE.sub("_", name.strip().lstrip("\ufeff").lower()).strip("_")
    return ALIASES.get(key, key)


class ColumnMap:
    """Mapping from CSV columns to contact fields, with each field's converter."""

    def __init__(self, header: Sequence[str], campaign: Campaign) -> None:
        self.campaign = campaign
        self.header = [cell.strip() for cell in header]
        self.columns: list[tuple[int, str, Converter]] = []
        # Header cells that map to no field, in file order; reported once per import.
        self.ignored: list[str] = []
        # The entries of self.columns, each with a cache of converted values
        # for a column of repeating values, else None.
        self._plan: list[tuple[int, str, Converter, dict[str, Any] | None]] = []
        self._build(campaign)

    def _build(self, campaign: Campaign) -> None:
        custom_by_key = {custom.name.lower(): custom for custom in campaign.custom_fields}
        seen: set[str] = set()
        for index, cell in enumerate(self.header):
            key = canonical_header(cell)
            name = key if key in PREDEFINED_FIELDS else None
            converter: Converter | None = None
            if name is not None:
                converter = _predefined_converter(name, campaign.default_region)
            elif key in custom_by_key:
                custom = custom_by_key[key]
                name, converter = custom.name, custom_converter(custom)
            if not cell:
                self.ignored.append(f"column {index + 1} (empty header)")
                continue
            if name is None or converter is None or name in seen:
                self.ignored.append(cell if name is None else f"{cell} (duplicate of {name})")
                continue
            seen.add(name)
            self.columns.append((index, name, converter))
            values: dict[str, Any] | None = {} if _has_repeating_values(name, campaign) else None
            self._plan.append((index, name, converter, values))
        self.fields = seen

    def normalise(self, cells: Sequence[str], line: int) -> ContactRow:
        """Convert one row's cells; raises RowError naming every bad cell."""
        fields: dict[str, Any] = {}
        errors: list[CellError] = []
        width = len(cells)
        for index, name, converter, values in self._plan:
            if index >= width:
                continue
            raw = cells[index]
            if not raw or raw.isspace():
                continue
            if values is not None:
                value = values.get(raw, _MISSING)
                if value is not _MISSING:
                    fields[name] = value
                    continue
            try:
                value = converter(raw)
            except (FieldValueError, InvalidPhoneError) as exc:
                errors.append(CellError(self.header[index], str(exc)))
                continue
            fields[name] = value
            if values is not None and len(values) < _CACHED_VALUES_MAX:
                values[raw] = value

        if len(cells) > len(self.header) and any(cell.strip() for cell in cells[len(self.header):]):
            errors.append(CellError(
                f"column {len(self.header) + 1}",
                f"row has {len(cells)} cells but the header has {len(self.header)}; quote values that contain the delimiter",
            ))

        identifier_field = self.campaign.identifier_field
        identifier = fields.get(identifier_field)
        if identifier is None and not any(error.column == self._header_for(identifier_field) for error in errors):
            errors.append(CellError(
                self._header_for(identifier_field),
                f"missing {identifier_field}, the campaign's contact identifier",
            ))
        if errors:
            raise RowError(errors)
        return ContactRow(identifier=str(identifier), fields=fields, line=line)

    def _header_for(self, name: str) -> str:
        for index, field_name, _ in self.columns:
            if field_name == name:
                return self.header[index]
        return name


def _has_repeating_values(name: str, campaign: Campaign) -> bool:
    if name in ("language", "timezone"):
        return True
    custom = campaign.custom_field(name)
    return custom is not None and custom.type in ("enum", "boolean", "date")


def _predefined_converter(name: str, default_region: str | None) -> Converter:
    if name in ("phone", "whatsapp"):
        return lambda raw: normalise_phone(raw, default_region)
    return {
        "email": _email,
        "language": _language,
        "timezone": _timezone,
    }.get(name, _text)


def custom_converter(custom: CustomField) -> Converter:
    """Return the function that checks and converts a cell for ``custom``."""
    if custom.type == "number":
        return _number
    if custom.type == "boolean":
        return _boolean
    if custom.type == "date":
        return _date
    if custom.type == "enum":
        by_key = {value.lower(): value for value in custom.values}
        return lambda raw: _enum(raw, by_key)
    return _text


def _text(raw: str) -> str:
    return raw.strip()


def _email(raw: str) -> str:
    email = raw.strip().lower()
    if not _EMAIL_RE.fullmatch(email):
        raise FieldValueError(f"{raw!r} is not a valid email address")
    return email


def _language(raw: str) -> str:
    language = raw.strip().replace("_", "-")
    if not _LANGUAGE_RE.fullmatch(language):
        raise FieldValueError(f"{raw!r} is not a valid language tag; use a BCP 47 tag such as 'en' or 'pt-BR'")
    return language


def _timezone(raw: str) -> str:
    name = _timezone_names().get(raw.strip().lower())
    if name is None:
        raise FieldValueError(f"{raw!r} is not a known IANA time zone; use a name such as 'Europe/London'")
    return name


@cache
def _timezone_names() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def _number(raw: str) -> int | float:
    text = raw.strip()
    if _INTEGER_RE.fullmatch(text):
        value = int(text)
        if _INT64_MIN <= value <= _INT64_MAX:
            return value
        raise FieldValueError(
            f"{raw!r} is out of range; whole numbers must be between {_INT64_MIN} and {_INT64_MAX}"
        )
    if _DECIMAL_RE.fullmatch(text):
        value = float(text)
        if math.isfinite(value):
            return value
    raise FieldValueError(f"{raw!r} is not a number; write digits with '.' as the decimal point")


def _boolean(raw: str) -> bool:
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FieldValueError(f"{raw!r} is not a boolean; use true/false, yes/no or 1/0")


def _date(raw: str) -> str:
    text = raw.strip()
    try:
        if _DATE_RE.fullmatch(text):
            return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise FieldValueError(f"{raw!r} is not a valid date; use YYYY-MM-DD")


def _enum(raw: str, by_key: dict[str, str]) -> str:
    value = by_key.get(raw.strip().lower())
    if value is None:
        raise FieldValueError(f"{raw!r} is not one of {', '.join(sorted(by_key.values()))}")
    return value
