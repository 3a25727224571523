"""Phone number normalisation to E.164, including numbers that spreadsheets mangled.

``normalise_phone("07911 123456", "GB")`` returns ``"+447911123456"``; an
invalid number raises :class:`InvalidPhoneError` with the reason.

Speed matters here because an import normalises every row. Parsing and
validating with ``phonenumbers`` costs 15–40 µs per number (measured on a
2-core machine with phonenumberslite 9.0), most of it in ``parse`` and in
``is_valid_number`` walking every region that shares a country calling code
(25 regions share +1). Numbers already in E.164 take a fast path: one
precompiled regular expression per country calling code, the union of every
region's number-type patterns with their possible lengths, about 4 µs. The
fast path only accepts. When its pattern does not match, the number goes
through the full ``phonenumbers`` path, so the result is always the one that
``is_valid_number`` gives.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import cache

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumberFormat

# The number types that libphonenumber's is_valid_number accepts. A national
# number is valid for a region when it matches the region's general pattern
# and one of these type patterns, with a possible length of that type.
_NUMBER_TYPES = (
    "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
    "voip", "personal_number", "pager", "uan", "voicemail",
)

_E164_RE = re.compile(r"\+[1-9]\d{6,14}")
# Characters people and spreadsheets put between digits: spaces (also the
# no-break space), dashes, dots, slashes and parentheses.
_SEPARATORS_RE = re.compile(r"[\s\u00a0\-./()]+")
_SCIENTIFIC_RE = re.compile(r"\d(?:[.,]\d+)?[eE]\+?\d+")
_DIGITS_RE = re.compile(r"\d+")

_fast_patterns: dict[int, re.Pattern[str] | None] = {}


class InvalidPhoneError(ValueError):
    """A value that is not a valid phone number; the message gives the reason."""


def normalise_phone(raw: str, default_region: str | None) -> str:
    """Return ``raw`` as an E.164 phone number, reading national numbers in ``default_region``.

    Accepted besides E.164: national formats of the default region, the
    international ``00`` prefix, a ``+`` that a spreadsheet dropped
    (``447911123456``), numbers a spreadsheet turned into floats
    (``447911123456.0``) or scientific notation (``4.47911123456E+11``).

    Error handling: raises :class:`InvalidPhoneError` for an empty value, for
    scientific notation that lost digits, and for a number that
    ``phonenumbers`` does not consider valid.
    """
    text = raw.strip()
    if _E164_RE.fullmatch(text) and _fast_path_accepts(text):
        return text
    if not text:
        raise InvalidPhoneError("phone number is empty")

    text = _undo_spreadsheet_damage(text)
    guess = _e164_guess(text, default_region)
    if guess is not None and _fast_path_accepts(guess):
        return guess
    for candidate, region in _candidates(text, default_region):
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, PhoneNumberFormat.E164)

    if default_region is None and not text.startswith("+"):
        raise InvalidPhoneError(
            f"{raw!r} is not a valid international phone number; "
            "write it with its country code or set the campaign's default region"
        )
    raise InvalidPhoneError(f"{raw!r} is not a valid phone number for region {default_region}")


def _candidates(text: str, default_region: str | None) -> list[tuple[str, str | None]]:
    """Return the readings of ``text`` to try, most likely first.

    A bare run of 11 or more digits that does not start with 0 is read as an
    international number that lost its "+" before it is read as a national
    one. National numbers with a trunk prefix start with 0, and 10 digits is
    the longest national number of the regions that have none (NANP). Without
    this order, ``447911123456`` in region DE would become a German number.
    """
    if text.startswith("+"):
        return [(text, None)]

    digits = _SEPARATORS_RE.sub("", text)
    national = [(text, default_region)] if default_region is not None else []
    if digits.startswith("00"):
        return [*national, ("+" + digits[2:], None)]
    if not digits.isdigit():
        return national
    international = [("+" + digits, None)]
    if len(digits) >= 11 and not digits.startswith("0"):
        return international + national
    return national + international


def _e164_guess(text: str, default_region: str | None) -> str | None:
    """Return the E.164 form ``text`` most likely has, for the fast path to confirm, or None.

    Covers the common shapes: "00" and lost "+" international numbers, and
    national numbers with the default region's trunk prefix ("07912 345678").
    The first reading in :func:`_candidates` decides which shape wins.
    """
    digits = _SEPARATORS_RE.sub("", text)
    if not digits.isdigit():
        return None
    if digits.startswith("00"):
        return "+" + digits[2:]
    if len(digits) >= 11 and not digits.startswith("0"):
        return "+" + digits
    if default_region is None:
        return None
    prefix = _trunk_prefixes().get(default_region)
    if prefix is None or not digits.startswith(prefix[1]):
        return None
    return f"+{prefix[0]}{digits[len(prefix[1]):]}"


@cache
def _trunk_prefixes() -> dict[str, tuple[int, str]]:
    """Map each region to its calling code and trunk prefix, where stripping the prefix is all parsing does."""
    prefixes: dict[str, tuple[int, str]] = {}
    for region in phonenumbers.SUPPORTED_REGIONS:
        metadata = PhoneMetadata.metadata_for_region(region)
        if metadata is None or not metadata.national_prefix:
            continue
        # Regions whose parsing rule is more than a choice of literal prefixes
        # (a carrier code, a prefix that is kept) go through phonenumbers.parse.
        rule = metadata.national_prefix_for_parsing or metadata.national_prefix
        alternatives = rule.split("|")
        if metadata.national_prefix not in alternatives or not all(item.isdigit() for item in alternatives):
            continue
        if metadata.national_prefix_transform_rule is not None:
            continue
        prefixes[region] = (metadata.country_code, metadata.national_prefix)
    return prefixes


def _undo_spreadsheet_damage(text: str) -> str:
    """Turn float and scientific-notation renderings of an integer back into digits."""
    if _SCIENTIFIC_RE.fullmatch(text):
        return _expand_scientific(text)
    if text.endswith(".0") and _DIGITS_RE.fullmatch(text[:-2].lstrip("+")):
        return text[:-2]
    return text


def _expand_scientific(text: str) -> str:
    mantissa, _, exponent_text = text.upper().replace(",", ".").partition("E")
    fraction_digits = len(mantissa.partition(".")[2])
    exponent = int(exponent_text)
    if fraction_digits < exponent:
        # 4.4791E+11 was 44791xxxxxxx before the spreadsheet rounded it; the
        # zeros that Decimal would add are not the number's digits.
        raise InvalidPhoneError(
            f"{text!r} is in scientific notation and lost digits; "
            "export the phone column as text and import again"
        )
    try:
        return str(int(Decimal(mantissa) * (Decimal(10) ** exponent)))
    except InvalidOperation as exc:
        raise InvalidPhoneError(f"{text!r} is not a valid phone number") from exc


def _fast_path_accepts(e164: str) -> bool:
    """Return True when ``e164`` is certainly valid; False means "ask phonenumbers"."""
    digits = e164[1:]
    for length in (1, 2, 3):
        country_code = int(digits[:length])
        if country_code in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return False

    national = digits[length:]
    if national.startswith("0"):
        # Italian-style leading zeros need the flags that only parse() sets.
        return False
    if country_code not in _fast_patterns:
        _fast_patterns[country_code] = _compile_country_pattern(country_code)
    pattern = _fast_patterns[country_code]
    return pattern is not None and pattern.fullmatch(national) is not None


def _compile_country_pattern(country_code: int) -> re.Pattern[str] | None:
    """Compile the union of every valid national-number shape for one calling code."""
    alternatives: list[str] = []
    for region in COUNTRY_CODE_TO_REGION_CODE[country_code]:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
        if metadata is None or metadata.general_desc is None:
            continue
        general = metadata.general_desc.national_number_pattern
        if general is None:
            continue
        for type_name in _NUMBER_TYPES:
            alternative = _type_alternative(metadata, type_name, general)
            if alternative is not None:
                alternatives.append(alternative)
    if not alternatives:
        return None
    return re.compile("|".join(alternatives))


def _type_alternative(metadata: PhoneMetadata, type_name: str, general: str) -> str | None:
    desc = getattr(metadata, type_name, None)
    if desc is None or desc.national_number_pattern is None:
        return None
    lengths = desc.possible_length or metadata.general_desc.possible_length
    if not lengths or tuple(lengths) == (-1,):
        # -1 marks a type that the region does not have.
        return None
    length_check = "|".join(r"\d{%d}" % length for length in lengths)
    return r"(?=(?:%s)$)(?=(?:%s)$)(?:%s)" % (length_check, general, desc.national_number_pattern)
