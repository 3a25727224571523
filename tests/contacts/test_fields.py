"""Column mapping and type checks for predefined and custom contact fields."""

from __future__ import annotations

import pytest

from runtime.contacts.fields import ColumnMap, RowError, canonical_header
from runtime.store.models import Campaign, CustomField


def _campaign(**options: object) -> Campaign:
    return Campaign(
        name="spring", default_region="GB",
        custom_fields=[
            CustomField("score", "number"), CustomField("vip", "boolean"),
            CustomField("renewal", "date"), CustomField("tier", "enum", ("Gold", "Silver")),
        ],
        **options,  # type: ignore[arg-type]  # only str options are passed
    )


@pytest.mark.parametrize(
    ("header", "field"),
    [(" First Name ", "first_name"), ("E-Mail", "email"), ("PHONE", "phone"), ("Mobile", "phone"), ("time zone", "timezone")],
)
def test_canonical_header_normalises_names(header: str, field: str) -> None:
    assert canonical_header(header) == field


def test_column_map_lists_unknown_and_duplicate_columns() -> None:
    columns = ColumnMap(["phone", "Shoe size", "Phone Number"], _campaign())

    assert columns.ignored == ["Shoe size", "Phone Number (duplicate of phone)"]


def test_column_map_names_column_with_empty_header() -> None:
    columns = ColumnMap(["phone", " ", "first_name"], _campaign())

    assert columns.ignored == ["column 2 (empty header)"]


def test_normalise_converts_every_type() -> None:
    columns = ColumnMap(
        ["Phone", "Email", "Language", "Timezone", "score", "VIP", "renewal", "tier", "first_name"], _campaign()
    )

    row = columns.normalise(
        ["07911 123456", " Ann@Example.COM ", "pt_BR", "europe/london", "4.5", "yes", "2027-03-01", "gold", ""], 2
    )

    assert row.identifier == "+447911123456"
    assert row.fields == {
        "phone": "+447911123456", "email": "ann@example.com", "language": "pt-BR",
        "timezone": "Europe/London", "score": 4.5, "vip": True, "renewal": "2027-03-01", "tier": "Gold",
    }
    assert row.line == 2


def test_normalise_reports_every_bad_cell() -> None:
    columns = ColumnMap(["phone", "score", "vip", "renewal", "tier", "email"], _campaign())

    with pytest.raises(RowError) as raised:
        columns.normalise(["123", "lots", "maybe", "31/12/2027", "bronze", "ann@"], 5)

    reasons = {error.column: error.reason for error in raised.value.errors}
    assert reasons["phone"] == "'123' is not a valid phone number for region GB"
    assert reasons["score"] == "'lots' is not a number; write digits with '.' as the decimal point"
    assert reasons["vip"] == "'maybe' is not a boolean; use true/false, yes/no or 1/0"
    assert reasons["renewal"] == "'31/12/2027' is not a valid date; use YYYY-MM-DD"
    assert reasons["tier"] == "'bronze' is not one of Gold, Silver"
    assert reasons["email"] == "'ann@' is not a valid email address"


def test_normalise_rejects_integer_beyond_64_bits() -> None:
    columns = ColumnMap(["phone", "score"], _campaign())

    assert columns.normalise(["+447911123456", "9223372036854775807"], 2).fields["score"] == 2**63 - 1
    with pytest.raises(RowError) as raised:
        columns.normalise(["+447911123456", "9223372036854775808"], 3)

    (error,) = raised.value.errors
    assert error.column == "score"
    assert error.reason == (
        "'9223372036854775808' is out of range; "
        "whole numbers must be between -9223372036854775808 and 9223372036854775807"
    )


def test_normalise_rejects_missing_identifier() -> None:
    columns = ColumnMap(["phone", "first_name"], _campaign())

    with pytest.raises(RowError, match="phone: missing phone, the campaign's contact identifier"):
        columns.normalise(["", "Ann"], 3)


def test_normalise_rejects_extra_cells() -> None:
    columns = ColumnMap(["phone", "first_name"], _campaign())

    with pytest.raises(RowError, match="row has 3 cells but the header has 2"):
        columns.normalise(["+447911123456", "Ann", "Lee"], 3)


def test_normalise_keys_email_campaign_on_lowercase_email() -> None:
    columns = ColumnMap(["email", "phone"], _campaign(identifier_field="email"))

    row = columns.normalise(["  Ann@Example.com", ""], 2)

    assert row.identifier == "ann@example.com"
    assert row.fields == {"email": "ann@example.com"}


def test_normalise_repeats_cached_values_and_errors() -> None:
    columns = ColumnMap(["phone", "tier", "Language"], _campaign())

    first = columns.normalise(["+447911123456", "gold", "pt_BR"], 2)
    second = columns.normalise(["+447911123457", "gold", "pt_BR"], 3)
    for line in (4, 5):
        with pytest.raises(RowError, match="'bronze' is not one of Gold, Silver"):
            columns.normalise(["+447911123458", "bronze", "en"], line)

    assert first.fields == {"phone": "+447911123456", "tier": "Gold", "language": "pt-BR"}
    assert second.fields == {"phone": "+447911123457", "tier": "Gold", "language": "pt-BR"}
