"""Phone numbers to E.164, including what spreadsheets do to them."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from runtime.contacts.phone import InvalidPhoneError, normalise_phone


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+447911123456", "GB", "+447911123456"),
        ("+44 7911 123456", None, "+447911123456"),
        ("07911 123456", "GB", "+447911123456"),
        ("(020) 7946-0018", "GB", "+442079460018"),
        ("7911123456", "GB", "+447911123456"),
        ("00447911123456", "GB", "+447911123456"),
        ("00447911123456", "US", "+447911123456"),
        ("447911123456", "GB", "+447911123456"),
        ("447911123456", None, "+447911123456"),
        ("447911123456.0", "GB", "+447911123456"),
        ("4.47911123456E+11", "GB", "+447911123456"),
        ("4,47911123456E+11", "DE", "+447911123456"),
        ("(212) 555-2368", "US", "+12125552368"),
        ("+39 06 6982 1234", None, "+390669821234"),
        (" +12125552368 ", None, "+12125552368"),
    ],
)
def test_normalise_phone_accepts_real_formats(raw: str, region: str | None, expected: str) -> None:
    assert normalise_phone(raw, region) == expected


def test_normalise_phone_rejects_invalid_number() -> None:
    with pytest.raises(InvalidPhoneError, match="'12345' is not a valid phone number for region GB"):
        normalise_phone("12345", "GB")


def test_normalise_phone_rejects_national_without_region() -> None:
    with pytest.raises(InvalidPhoneError, match="write it with its country code or set the campaign's default region"):
        normalise_phone("07911 123456", None)


def test_normalise_phone_rejects_rounded_scientific() -> None:
    with pytest.raises(InvalidPhoneError, match="scientific notation and lost digits; export the phone column as text"):
        normalise_phone("4.4791E+11", "GB")


def test_normalise_phone_rejects_empty() -> None:
    with pytest.raises(InvalidPhoneError, match="phone number is empty"):
        normalise_phone("  ", "GB")


def test_normalise_phone_matches_phonenumbers_on_e164() -> None:
    # The E.164 fast path must accept exactly what is_valid_number accepts.
    rng = random.Random(20261204)
    calling_codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    for _ in range(3000):
        code = rng.choice(calling_codes)
        number = "+%d%s" % (code, "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 11))))
        parsed = phonenumbers.parse(number)
        expected = None
        if phonenumbers.is_valid_number(parsed):
            expected = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        try:
            normalised: str | None = normalise_phone(number, None)
        except InvalidPhoneError:
            normalised = None
        assert normalised == expected, number


@pytest.mark.parametrize("region", ["GB", "FR", "DE", "US", "BR", "IN", "ES", "NG"])
def test_normalise_phone_matches_phonenumbers_on_national(region: str) -> None:
    # The trunk-prefix guess must give what phonenumbers.parse gives.
    rng = random.Random(region)
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    for _ in range(300):
        mutated = national[:-3] + "".join(rng.choice("0123456789") for _ in range(3))
        parsed = phonenumbers.parse(mutated, region)
        expected = None
        if phonenumbers.is_valid_number(parsed):
            expected = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        try:
            normalised: str | None = normalise_phone(mutated, region)
        except InvalidPhoneError:
            normalised = None
        assert normalised == expected, mutated
