"""Thai-aware input normalization, parsing and formatting.

Khabuan's users are village leaders who type on cheap phones with Thai
keyboards, paste from other apps, mix Thai and Arabic digits, and write dates
in the Buddhist era.  Everything the bot reads from a chat message goes
through :func:`normalize` first, then through one of the ``parse_*`` helpers,
which return ``None`` instead of raising when the input is not understood so a
conversation flow can simply re-ask.

All functions here are pure: no I/O, no database, no Flask, no clock (callers
pass ``today`` explicitly so behaviour is testable and follows the caller's
time zone).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

import phonenumbers
from babel.dates import get_month_names
from babel.numbers import format_decimal
from rapidfuzz.fuzz import ratio as _similarity

# pythainlp creates ~/pythainlp-data at import and may fetch corpora on demand.  Khabuan uses
# only its pure string functions (no corpus, no model), so it must never write or download:
# read-only mode skips the data folder (a server's home may not be writable) and offline mode
# refuses automatic downloads.  setdefault: an operator can still override both.
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
from pythainlp.util import normalize as _thai_normalize  # noqa: E402
from pythainlp.util import remove_repeat_vowels  # noqa: E402
from pythainlp.util import thaiword_to_num  # noqa: E402

__all__ = [
    "BACK_WORDS",
    "BE_OFFSET",
    "CANCEL_WORDS",
    "MENU_WORDS",
    "POLITE_PARTICLES",
    "command_key",
    "format_baht",
    "format_date",
    "format_datetime",
    "format_number",
    "format_phone",
    "is_back",
    "is_cancel",
    "is_menu",
    "match_name",
    "normalize",
    "parse_amount",
    "parse_date",
    "parse_datetime",
    "parse_int",
    "parse_phone",
    "parse_time",
    "parse_year",
    "truncate",
    "utf16_len",
]

K = TypeVar("K", bound=Hashable)

#: Buddhist era year = Gregorian (CE) year + BE_OFFSET.
BE_OFFSET = 543

# ---------------------------------------------------------------------------
# normalize
# ---------------------------------------------------------------------------

# Thai and Lao blocks are kept out of NFKC: NFKC decomposes SARA AM (U+0E33)
# into NIKHAHIT + SARA AA (U+0E4D U+0E32), which would make "น้ำ" stop matching
# the same word typed normally.  Nothing else in these blocks has a
# compatibility mapping, so skipping them loses nothing.
_PROTECTED_RUN_RE = re.compile(r"([\u0e00-\u0eff]+)")


def _nfkc_outside_thai(text: str) -> str:
    parts = _PROTECTED_RUN_RE.split(text)
    # split() with a capturing group alternates: non-Thai, Thai, non-Thai, ...
    return "".join(
        part if i % 2 else unicodedata.normalize("NFKC", part)
        for i, part in enumerate(parts)
    )


def _fixed_point(fix: Callable[[str], str], text: str) -> str:
    """Apply a pythainlp spelling fix until the text stops changing.

    One pass is not always enough: its rules run in a fixed order, so a later
    rule can create what an earlier one repairs ("\u0e4d\u0e45": LAKKHANGYAO
    becomes SARA AA only after the NIKHAHIT + SARA AA -> SARA AM rule ran), and
    normalize() must be idempotent.  Every rule shortens or reorders towards
    the standard order, so a few passes settle; the bound is only a guard.
    """
    for _ in range(8):
        fixed = fix(text)
        if fixed == text:
            break
        text = fixed
    return text


def _ascii_digits(text: str) -> str:
    if text.isascii():
        return text
    out = []
    for ch in text:
        if not ch.isascii() and unicodedata.category(ch) == "Nd":
            out.append(str(unicodedata.decimal(ch)))
        else:
            out.append(ch)
    return "".join(out)


def normalize(text: str) -> str:
    """Return a canonical form of user input for matching and parsing.

    * every Unicode whitespace (NBSP, ideographic space, newlines, tabs) becomes
      one ASCII space and the result is stripped, because phones insert odd
      spaces and users add trailing ones;
    * zero-width characters (U+200B-U+200D, U+2060, U+FEFF) and other
      format/control characters are removed; they are invisible but break
      equality (copy-paste from web pages and LINE itself adds them);
    * NFKC is applied outside the Thai/Lao blocks so full-width letters and
      digits ("１２０", "ＡＢＣ") become ASCII; the Thai block is left alone
      (see ``_PROTECTED_RUN_RE``) and SARA AM typed as two characters
      (NIKHAHIT + SARA AA) is recomposed to U+0E33;
    * Thai spelling is normalized by ``pythainlp.util.normalize``: marks put
      into standard order (tone mark after the vowel, "ก่ี" -> "กี่"),
      doubled vowels and marks collapsed, two SARA E made SARA AE, and marks
      dangling at the start of a word dropped, so visually identical
      spellings compare equal;
    * Thai digits ๐-๙ (and any other Unicode decimal digits) become 0-9.

    Case is preserved; callers casefold when they need to.  The function is
    idempotent and never raises for any ``str``.
    """
    if not text:
        return ""
    chars: list[str] = []
    for ch in text:
        if ch.isspace():
            chars.append(" ")
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs"):
            continue  # invisible/control characters and lone surrogates
        chars.append(ch)
    s = _nfkc_outside_thai("".join(chars))
    s = _fixed_point(_thai_normalize, s)
    s = _ascii_digits(s)
    # NFKC may have produced new whitespace (e.g. U+00A8 -> " \u0308").
    s = re.sub(r"\s+", " ", s)
    return s.strip()


def _key(text: str) -> str:
    """normalize() + casefold(): the form used for keyword comparisons."""
    return normalize(text).casefold()


# ---------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------

# A run of digits possibly containing thousands separators / a decimal point.
_NUMBER_RUN_RE = re.compile(r"[0-9](?:[0-9,. ]*[0-9])?")
_VALID_NUMBER_RE = re.compile(
    r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"  # 1,200 / 1,500.50
    r"|\d{1,3}(?: \d{3})+"  # 1 200 (space-grouped thousands)
    r"|\d+(?:\.\d+)?",  # 1200 / 1500.50
    re.ASCII,
)
_MAX_NUMBER_CHARS = 30  # guards int()/Decimal against absurd inputs

#: Thai place-value words that multiply the number before them ("2 หมื่น").
_MULTIPLIERS: dict[str, int] = {
    "ล้าน": 1_000_000,
    "แสน": 100_000,
    "หมื่น": 10_000,
    "พัน": 1_000,
}
_MULTIPLIER_RE = re.compile(r"\s*(ล้าน|แสน|หมื่น|พัน)")
_MINUS_SIGNS = "-\u2212\u2013\u2014"  # hyphen-minus, minus, en/em dash

#: parse_int reads a spelled-out number only up to this value: one word, ศูนย์ (0) to สิบ (10).
#: Compounds ("สิบห้า") are rejected on purpose; people who mean a bigger number type digits,
#: and a misread spoken number is worse than asking again.
_MAX_NUMBER_WORD = 10


def _thai_word_number(s: str) -> int | None:
    """The value of a Thai numeral spelled out in words ("ห้า" -> 5), else None."""
    try:
        return thaiword_to_num(s)
    except ValueError:  # not a Thai numeral (pythainlp raises, it never returns None)
        return None

_CURRENCY_WORDS_RE = re.compile(r"baht|thb|฿", re.IGNORECASE)


def _is_ascii_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _parse_quantity(s: str, max_decimals: int) -> Decimal | None:
    """Parse the single (possibly compound, "1 ล้าน 2 แสน") quantity in s.

    ``s`` must already be normalized.  Returns None for negative numbers,
    numbers glued to Latin letters ("1.5k", "5th"), malformed grouping
    ("1,50"), more than ``max_decimals`` decimals on a number without a
    multiplier (so "1.000" -- European grouping -- is never read as 1) and
    texts containing several different numbers.
    """
    tokens: list[tuple[Decimal, int | None]] = []
    for m in _NUMBER_RUN_RE.finditer(s):
        raw = m.group(0)
        if len(raw) > _MAX_NUMBER_CHARS or not _VALID_NUMBER_RE.fullmatch(raw):
            return None
        start, end = m.span()
        before = s[:start].rstrip(" ")
        if before and before[-1] in _MINUS_SIGNS:
            return None
        if (start > 0 and _is_ascii_letter(s[start - 1])) or (
            end < len(s) and _is_ascii_letter(s[end])
        ):
            return None
        try:
            value = Decimal(raw.replace(",", "").replace(" ", ""))
        except InvalidOperation:  # pragma: no cover - regex guarantees format
            return None
        mult_m = _MULTIPLIER_RE.match(s, end)
        decimals = len(raw.partition(".")[2])
        if mult_m is None and decimals > max_decimals:
            return None
        tokens.append((value, _MULTIPLIERS[mult_m.group(1)] if mult_m else None))
    if not tokens:
        return None
    if all(mult is None for _, mult in tokens):
        # "50 (50)" is fine; "12 หรือ 13" is not.
        values = {value for value, _ in tokens}
        return tokens[0][0] if len(values) == 1 else None
    if len(tokens) == 1:
        value, mult = tokens[0]
        return value * (mult or 1)
    # Compound amount: every part needs a multiplier, strictly descending,
    # and each part must fit below the previous place value.
    total = Decimal(0)
    prev_mult: int | None = None
    for value, mult in tokens:
        if mult is None:
            return None
        part = value * mult
        if prev_mult is not None and (mult >= prev_mult or part >= prev_mult):
            return None
        total += part
        prev_mult = mult
    return total


def _in_range(value: int | Decimal, lo: int | Decimal | None, hi: int | Decimal | None) -> bool:
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def parse_int(
    text: str, *, min_value: int | None = None, max_value: int | None = None
) -> int | None:
    """Parse a whole number from a free-text reply such as "120 คน".

    Accepts Thai/full-width digits, thousands separators ("1,200", "1 200"),
    surrounding words ("ประมาณ 50", "50 บาท"), Thai multipliers ("2 หมื่น")
    and a single Thai number word 0-10 as the whole message ("ห้า").
    Returns None for negatives, fractions, values outside
    [min_value, max_value], or texts with more than one different number
    ("12 หรือ 13") -- asking again is better than guessing.
    """
    try:
        s = normalize(text)
        word_value = _thai_word_number(s)
        if word_value is not None:
            if not 0 <= word_value <= _MAX_NUMBER_WORD:
                return None
            value = word_value
        else:
            q = _parse_quantity(s, max_decimals=0)
            if q is None or q != q.to_integral_value():
                return None
            value = int(q)
        return value if _in_range(value, min_value, max_value) else None
    except (ValueError, ArithmeticError):  # pragma: no cover - defensive
        return None


def parse_amount(
    text: str,
    *,
    min_value: Decimal | int | None = None,
    max_value: Decimal | int | None = None,
) -> Decimal | None:
    """Parse a baht amount: "1,500", "1500.50", "๑,๕๐๐ บาท", "2 หมื่น",
    "1.5 ล้าน", "1 ล้าน 2 แสน".

    Returns a Decimal with no fractional digits for whole amounts and exactly
    two (satang) otherwise; more than two decimals, negatives, "1.5k" and
    several different numbers give None.
    """
    try:
        s = _CURRENCY_WORDS_RE.sub(" ", normalize(text))
        q = _parse_quantity(s, max_decimals=2)
        if q is None:
            return None
        if q == q.to_integral_value():
            q = q.quantize(Decimal(1))
        else:
            rounded = q.quantize(Decimal("0.01"))
            if rounded != q:
                return None  # more precision than satang: probably a typo
            q = rounded
        return q if _in_range(q, min_value, max_value) else None
    except (ValueError, ArithmeticError):  # pragma: no cover - defensive
        return None


#: Words that may follow a number in an amount of money: baht, place values, polite particles.
_MONEY_FOLLOWERS = ("บาท", "บ.", "baht", "thb", "฿", "ล้าน", "แสน", "หมื่น", "พัน", "ค่ะ", "คะ", "ครับ", "นะ",
                    "จ้า", "จ้ะ", "โดยประมาณ", "กว่า", "เศษ")
_WORD_AFTER_NUMBER_RE = re.compile(r"[0-9][0-9,.]*\s*([^\s0-9,.()]+)")


def unit_after_number(text: str) -> str | None:
    """The word after a number that says it is not money ("ประมาณ 40 คน" -> "คน"), else None.

    parse_amount reads "40 คน" as 40; an amount question uses this first, so a count of people
    or of days is never saved as baht.
    """
    s = normalize(text)
    for m in _WORD_AFTER_NUMBER_RE.finditer(s):
        word = m.group(1)
        if not word.lower().startswith(_MONEY_FOLLOWERS):
            return word
    return None


# ---------------------------------------------------------------------------
# phones
# ---------------------------------------------------------------------------

_PHONE_REGION = "TH"
#: Phone kinds a person can be called on; toll-free (1800...), premium and the like are not.
_PHONE_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)
# "00 66 ..." is how a Thai number is often pasted from abroad, but 00 is not Thailand's
# international prefix (001, 007, ...), so libphonenumber would not read it as +66.
_IDD_00_66_RE = re.compile(r"(?<![0-9])00[ \-]?66")


def parse_phone(text: str) -> str | None:
    """Return a Thai phone number as national-format digits, or None.

    libphonenumber (``phonenumbers``) finds the number in the text and decides
    whether it is a valid Thai mobile (10 digits, 06/08/09) or landline
    (9 digits, 02/03/04/05/07).  Accepts separators (spaces, "-", ".",
    parentheses), Thai digits, the +66 / 66 / 0066 country code (with or
    without the trunk 0) and a label around it ("โทร 081-234-5678").  More than
    one number in the text, or anything that is not a valid Thai number,
    gives None.
    """
    s = _IDD_00_66_RE.sub("+66", normalize(text))
    if not any(ch.isdigit() for ch in s):
        return None
    found = list(
        phonenumbers.PhoneNumberMatcher(s, _PHONE_REGION, leniency=phonenumbers.Leniency.POSSIBLE)
    )
    if len(found) != 1:
        return None
    raw = found[0].raw_string
    try:
        number = phonenumbers.parse(raw, _PHONE_REGION, keep_raw_input=True)
    except phonenumbers.NumberParseException:
        return None
    if (
        number.country_code_source == phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY
        and not raw.lstrip("( ").startswith("0")
    ):
        # libphonenumber accepts "812345678" (no trunk 0, no country code); nobody in
        # Thailand writes a number that way, so it is more likely a typo than a phone.
        return None
    if (
        phonenumbers.region_code_for_number(number) != _PHONE_REGION
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in _PHONE_TYPES
    ):
        return None
    return "0" + str(number.national_number)


def format_phone(digits: str) -> str:
    """Format a Thai number for display: "081-234-5678", "02-123-4567",
    "053-123-456" (libphonenumber's national grouping, joined with "-" as
    Thais write it).  Input that is not a valid Thai number is returned as is,
    so a stored oddity is still shown rather than lost."""
    p = parse_phone(digits)
    if p is None:
        return digits
    number = phonenumbers.parse(p, _PHONE_REGION)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return national.replace(" ", "-")


# ---------------------------------------------------------------------------
# years and dates
# ---------------------------------------------------------------------------

_BE_MARK_RE = re.compile(r"พ\s*\.?\s*ศ\s*\.?|\bb\s*\.\s*e\s*\.?|\bbe\b")
_CE_MARK_RE = re.compile(r"ค\s*\.?\s*ศ\s*\.?|\bc\s*\.\s*e\s*\.?|\bce\b|\ba\s*\.?\s*d\b\.?")

_MIN_CE_YEAR = 1850  # parse_year: oldest plausible year (births, founding)
_DATE_MIN_YEAR = 1800  # parse_date: sanity range for the resulting CE year
_DATE_MAX_YEAR = 2500


def _extract_era(s: str) -> tuple[str, str | None]:
    """Remove a พ.ศ./ค.ศ. (BE/CE) marker from s and report which one it was."""
    be = _BE_MARK_RE.search(s)
    ce = _CE_MARK_RE.search(s)
    if be and ce:
        return s, "conflict"
    if be:
        return (s[: be.start()] + " " + s[be.end() :]).strip(), "BE"
    if ce:
        return (s[: ce.start()] + " " + s[ce.end() :]).strip(), "CE"
    return s, None


def parse_year(text: str, *, today: date) -> int | None:
    """Parse a 4-digit year and return it in the Gregorian (CE) era.

    Thais usually give years in the Buddhist era, so 2400-2700 is read as BE
    (minus 543) and 1850-today.year as CE; an explicit "พ.ศ."/"พศ"/"ค.ศ."/
    "คศ" marker forces the era.  An optional "ปี" prefix is allowed.  Two-digit
    years are ambiguous and give None, as do future years.
    """
    s = _key(text)
    s, era = _extract_era(s)
    if era == "conflict":
        return None
    s = re.sub(r"^(?:ปี|year)\s*", "", s).strip()
    s, era2 = _extract_era(s)  # "ปี พ.ศ. 2510"
    if era2 is not None:
        if era is not None:
            return None
        era = era2
    if not re.fullmatch(r"[0-9]{4}", s):
        return None
    y = int(s)
    if era == "BE" or (era is None and 2400 <= y <= 2700):
        if not 2400 <= y <= 2700:
            return None
        y -= BE_OFFSET
    elif not _MIN_CE_YEAR <= y <= today.year:
        return None
    return y if y <= today.year else None


def _babel_locale(locale: str) -> str:
    """Map any locale string to the two locales Khabuan supports."""
    return "th" if locale.lower().replace("-", "_").startswith("th") else "en"


@lru_cache(maxsize=8)
def _month_names(width: str, locale: str) -> dict[int, str]:
    # Babel's CLDR data for "th" abbreviated months is exactly the official
    # forms (ม.ค. ก.พ. มี.ค. เม.ย. พ.ค. มิ.ย. ก.ค. ส.ค. ก.ย. ต.ค. พ.ย. ธ.ค.);
    # tests pin this so a data change cannot slip through unnoticed.
    return dict(get_month_names(width, context="format", locale=locale))


def _month_key(name: str) -> str:
    return re.sub(r"[\s.,]", "", name.casefold())


# Colloquial Thai month short forms not in CLDR ("มีนา", "พฤศจิกา", ...).
_THAI_MONTH_COLLOQUIAL = (
    "มกรา",
    "กุมภา",
    "มีนา",
    "เมษา",
    "พฤษภา",
    "มิถุนา",
    "กรกฎา",
    "สิงหา",
    "กันยา",
    "ตุลา",
    "พฤศจิกา",
    "ธันวา",
)


@lru_cache(maxsize=1)
def _month_lookup() -> tuple[dict[str, int], frozenset[str]]:
    """Map every accepted month spelling (dots/spaces removed) to 1-12.

    Also returns the set of English keys: with an English month name a
    two-digit year is ambiguous (not necessarily Buddhist era).
    """
    lookup: dict[str, int] = {}
    english: set[str] = set()
    for width in ("abbreviated", "wide"):
        for m, name in _month_names(width, "th").items():
            lookup[_month_key(name)] = m
        for m, name in _month_names(width, "en").items():
            lookup[_month_key(name)] = m
            english.add(_month_key(name))
    for m, name in enumerate(_THAI_MONTH_COLLOQUIAL, start=1):
        lookup[_month_key(name)] = m
    lookup["sept"] = 9
    english.add("sept")
    return lookup, frozenset(english)


_RELATIVE_DAYS: dict[str, int] = {
    "วันนี้": 0,
    "today": 0,
    "เมื่อวาน": -1,
    "เมื่อวานนี้": -1,
    "yesterday": -1,
    "เมื่อวานซืน": -2,
    "พรุ่งนี้": 1,
    "tomorrow": 1,
}

_DATE_YMD_RE = re.compile(r"([0-9]{4})\s*([-/.])\s*([0-9]{1,2})\s*\2\s*([0-9]{1,2})")
_DATE_DMY_RE = re.compile(r"([0-9]{1,2})\s*([-/.])\s*([0-9]{1,2})\s*\2\s*([0-9]{4}|[0-9]{2})")
_DATE_DM_RE = re.compile(r"([0-9]{1,2})\s*/\s*([0-9]{1,2})")
_ORDINAL = r"(?:st|nd|rd|th)?"
_DATE_D_MONTH_Y_RE = re.compile(
    r"([0-9]{1,2})" + _ORDINAL + r"(?:\s*of)?[\s\-/]*([^\d]+?)[\s,\-/]*([0-9]{4}|[0-9]{2})?"
)
_DATE_MONTH_D_Y_RE = re.compile(
    r"([a-z]+)\.?\s*([0-9]{1,2})" + _ORDINAL + r"(?:\s*,?\s*([0-9]{4}|[0-9]{2}))?"
)


def _resolve_year(raw: str | None, era: str | None, english_month: bool) -> int | None:
    """Turn the year as typed into a CE year (None = no year given is handled
    by the caller).  Rules: 2 digits = Buddhist era 25xx (unless the month was
    written in English or ค.ศ. was given: then ambiguous -> None); 4 digits
    above 2400 = BE, otherwise CE; an explicit era marker wins."""
    assert raw is not None
    y = int(raw)
    if len(raw) == 2:
        if era == "CE" or (english_month and era != "BE"):
            return None
        return 2500 + y - BE_OFFSET
    if era == "BE":
        return y - BE_OFFSET if y > 2400 else None
    if era == "CE":
        return y if y <= 2400 else None
    return y - BE_OFFSET if y > 2400 else y


def _make_date(y: int | None, m: int, d: int, today: date) -> date | None:
    if y is None:
        # No year: the most recent occurrence (this year, else last year),
        # because people report things that already happened.
        for year in (today.year, today.year - 1):
            try:
                candidate = date(year, m, d)
            except ValueError:
                continue
            if candidate <= today:
                return candidate
        return None
    if not _DATE_MIN_YEAR <= y <= _DATE_MAX_YEAR:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def parse_date(text: str, *, today: date) -> date | None:
    """Parse a calendar date; day-first, Thai or English, BE or CE.

    Accepted: relative words (วันนี้/today, เมื่อวาน/yesterday, เมื่อวานซืน,
    พรุ่งนี้/tomorrow); "25/11/2569", "25/11/69", "25-11-2026", "25.11.2569",
    "2026-11-25"; "25 พ.ย. 69", "25 พย 2569", "25 พฤศจิกายน 2569",
    "25 Nov 2026", "Nov 25, 2026"; optional "วันที่" prefix and พ.ศ./ค.ศ.
    markers.  Year rules: see :func:`_resolve_year`.  Without a year
    ("25 พ.ย.", "25/11") the most recent such date not after ``today`` is
    used.  A bare day ("25") and impossible dates (31/02) give None.  Future
    dates are returned: the caller decides whether they are allowed.
    """
    s = _key(text)
    if s in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[s])
    s = re.sub(r"^(?:วันที่|ที่)\s*(?=[0-9])", "", s)
    s, era = _extract_era(s)
    if era == "conflict":
        return None
    s = s.strip(" ,")

    if m := _DATE_YMD_RE.fullmatch(s):
        y = _resolve_year(m.group(1), era, False)
        return None if y is None else _make_date(y, int(m.group(3)), int(m.group(4)), today)
    if m := _DATE_DMY_RE.fullmatch(s):
        y = _resolve_year(m.group(4), era, False)
        return None if y is None else _make_date(y, int(m.group(3)), int(m.group(1)), today)
    if m := _DATE_DM_RE.fullmatch(s):
        return None if era else _make_date(None, int(m.group(2)), int(m.group(1)), today)

    lookup, english = _month_lookup()
    if m := _DATE_D_MONTH_Y_RE.fullmatch(s):
        day_s, month_s, year_s = m.group(1), m.group(2), m.group(3)
    elif m := _DATE_MONTH_D_Y_RE.fullmatch(s):
        month_s, day_s, year_s = m.group(1), m.group(2), m.group(3)
    else:
        return None
    mkey = _month_key(month_s)
    month = lookup.get(mkey)
    if month is None:
        return None
    if year_s is None:
        if era:
            return None
        return _make_date(None, month, int(day_s), today)
    y = _resolve_year(year_s, era, mkey in english)
    return None if y is None else _make_date(y, month, int(day_s), today)


# ---------------------------------------------------------------------------
# times
# ---------------------------------------------------------------------------

_TIME_HM_RE = re.compile(
    r"([0-9]{1,2})\s*[:.]\s*([0-9]{2})(?:\s*[:.]\s*([0-9]{2}))?\s*(am|pm|น\.?|นาฬิกา)?"
)
_TIME_H_AMPM_RE = re.compile(r"([0-9]{1,2})\s*(am|pm)")
_TIME_H_THAI_RE = re.compile(r"([0-9]{1,2})\s*(?:น\.|นาฬิกา)")

# Spoken six-hour-clock forms, tried in order; ``n`` is the number as said ("2", "สอง") and
# the rule turns it into a 24-hour hour, or None when that number is not used with that word.
_SPOKEN_HOURS: tuple[tuple[re.Pattern[str], int | None, Callable[[int], int | None]], ...] = (
    (re.compile(r"(.+?)โมง(?:เช้า)?(?:ตรง)?"), None, lambda n: n if 6 <= n <= 11 else None),
    (re.compile(r"บ่าย(.*?)(?:โมง)?(?:ตรง)?"), 1, lambda n: 12 + n if 1 <= n <= 5 else None),
    (re.compile(r"(.+?)โมงเย็น"), None, lambda n: 12 + n if 4 <= n <= 6 else None),
    (re.compile(r"(.*?)ทุ่ม(?:ตรง)?"), 1, lambda n: 18 + n if 1 <= n <= 5 else None),
    (re.compile(r"ตี(.+)"), None, lambda n: n if 1 <= n <= 5 else None),
)


def _spoken_number(word: str) -> int | None:
    """A small number as said in a time: "2" or "สอง"; None if it is not a number."""
    if word.isdigit():
        return int(word) if len(word) <= 2 else None
    # "นึง" is how "หนึ่ง" is said (and typed) in chat; pythainlp only knows the written form.
    return _thai_word_number(word.replace("นึง", "หนึ่ง"))


def _thai_spoken_time(s: str) -> time | None:
    """Common Thai six-hour-clock phrases, e.g. "9 โมง", "บ่าย 2 โมง",
    "2 ทุ่ม", "ตี 3", "เที่ยง"; numbers may be words ("บ่ายสองโมง"); a
    trailing "ครึ่ง" adds half an hour.  Ambiguous forms ("2 โมง") give None."""
    s = s.replace(" ", "")
    half = s.endswith("ครึ่ง")
    if half:
        s = s[: -len("ครึ่ง")]
    minute = 30 if half else 0
    if s in ("เที่ยง", "เที่ยงวัน", "เที่ยงตรง"):
        return time(12, minute)
    if s == "เที่ยงคืน":
        return time(0, minute)
    if s in ("บ่าย", "บ่ายตรง"):
        return None  # a period of the day, not a time
    for pattern, default, rule in _SPOKEN_HOURS:
        m = pattern.fullmatch(s)
        if m is None:
            continue
        said = m.group(1)
        n = default if not said and default is not None else _spoken_number(said)
        if n is None:
            continue  # e.g. "บ่ายโมง" read as "<บ่าย> โมง": not a number, try the next form
        hour = rule(n)
        return None if hour is None else time(hour, minute)
    return None


def parse_time(text: str) -> time | None:
    """Parse a time of day: "14:30", "14.30", "14.30 น.", "14 น.", "2:30 pm",
    "2pm", and spoken Thai ("9 โมง", "บ่าย 2 โมง", "2 ทุ่ม", "ตี 3",
    "เที่ยง").  Optional "เวลา" prefix.  Returns None when not understood or
    out of range."""
    s = _key(text)
    s = re.sub(r"^เวลา\s*", "", s)
    s = s.replace("a.m.", "am").replace("p.m.", "pm").strip()
    hour: int
    minute = 0
    second = 0
    suffix: str | None = None
    if m := _TIME_HM_RE.fullmatch(s):
        hour, minute = int(m.group(1)), int(m.group(2))
        second = int(m.group(3)) if m.group(3) else 0
        suffix = m.group(4)
    elif m := _TIME_H_AMPM_RE.fullmatch(s):
        hour, suffix = int(m.group(1)), m.group(2)
    elif m := _TIME_H_THAI_RE.fullmatch(s):
        hour = int(m.group(1))
    else:
        return _thai_spoken_time(s)
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
        return None
    return time(hour, minute, second)


def parse_datetime(text: str, *, today: date, tz: str | ZoneInfo) -> datetime | None:
    """Parse a moment typed by a person (or written in an import file); aware, in UTC.

    Accepted: ISO 8601 ("2026-12-12T09:00", "2026-12-12 09:00+07:00", what LINE's
    date-time picker sends), or any :func:`parse_date` form followed by any
    :func:`parse_time` form: "25/12/2569 14:00", "12 ธ.ค. 2569 9:00",
    "๒๕/๑๒/๒๕๖๙ ๑๔.๐๐ น.", "พรุ่งนี้ บ่าย 2 โมง".  Without an offset the moment is
    in ``tz`` (the people's time zone).  Past moments are returned: the caller
    decides whether they are allowed.  The date's own rules apply, so a date
    without a year is its most recent occurrence not after ``today``.
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    s = normalize(text)
    try:
        moment: datetime | None = datetime.fromisoformat(s)
    except ValueError:
        moment = None
    if moment is None:
        words = s.split(" ")
        # The shortest time part first: "25 ธ.ค. 2569 9:00" is never read with "2569 9:00" as the time.
        for cut in range(len(words) - 1, 0, -1):
            day = parse_date(" ".join(words[:cut]), today=today)
            clock = parse_time(" ".join(words[cut:])) if day is not None else None
            if day is not None and clock is not None:
                moment = datetime.combine(day, clock)
                break
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(timezone.utc)


# ---------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------


def format_date(d: date, locale: str, *, long: bool = False) -> str:
    """Format a date the way the user expects to read it.

    th: "25 พ.ย. 2569" (Buddhist year), long: "25 พฤศจิกายน 2569".
    en: "25 Nov 2026", long: "25 November 2026".  Any locale starting with
    "th" is Thai, everything else English.  parse_date() reads both back.
    """
    loc = _babel_locale(locale)
    month = _month_names("wide" if long else "abbreviated", loc)[d.month]
    year = d.year + BE_OFFSET if loc == "th" else d.year
    return f"{d.day} {month} {year}"


def format_month(d: date, locale: str) -> str:
    """A month for a chart's axis: th "พ.ย. 69" (Buddhist year, two digits), en "Nov 26"."""
    loc = _babel_locale(locale)
    month = _month_names("abbreviated", loc)[d.month]
    year = d.year + BE_OFFSET if loc == "th" else d.year
    return f"{month} {year % 100:02d}"


def format_datetime(
    dt: datetime,
    locale: str,
    tz: str | ZoneInfo = "Asia/Bangkok",
    *,
    long: bool = False,
) -> str:
    """Format an aware datetime in ``tz`` (default Thailand time).

    th: "25 พ.ย. 2569 14:30 น.", en: "25 Nov 2026 14:30".  A naive datetime
    raises ValueError: guessing its zone would silently show wrong times.
    """
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("format_datetime() needs an aware datetime")
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    local = dt.astimezone(zone)
    text = f"{format_date(local.date(), locale, long=long)} {local:%H:%M}"
    return text + " น." if _babel_locale(locale) == "th" else text


def format_number(n: int | float | Decimal, locale: str) -> str:
    """Group thousands per locale via Babel: th/en "1,500", "1,500.5"."""
    return format_decimal(n, locale=_babel_locale(locale))


def format_baht(amount: int | float | Decimal, locale: str) -> str:
    """Format money: th "1,500 บาท", en "฿1,500"; "1,500.50" style only when
    there are satang.  Rounds half-up to satang."""
    d = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    d = d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    loc = _babel_locale(locale)
    negative = d < 0
    d = abs(d)
    if d == d.to_integral_value():
        num = format_decimal(int(d), locale=loc)
    else:
        num = format_decimal(d, format="#,##0.00", locale=loc)
    sign = "-" if negative else ""
    if loc == "th":
        return f"{sign}{num} บาท"
    return f"{sign}฿{num}"


# ---------------------------------------------------------------------------
# fuzzy name matching
# ---------------------------------------------------------------------------

# Administrative prefixes people add or omit at will ("จ.เชียงใหม่").
_PLACE_PREFIXES = (
    "จังหวัด",
    "จ.",
    "อำเภอ",
    "กิ่งอำเภอ",
    "อ.",
    "ตำบล",
    "ต.",
    "เขต",
    "แขวง",
    "changwat ",
    "amphoe ",
    "amphur ",
    "tambon ",
    "khet ",
)
_PLACE_SUFFIXES = (" province", " district", " subdistrict", " sub-district")
_MIN_PREFIX_QUERY = 3  # shorter queries would prefix-match too much


@lru_cache(maxsize=65536)  # candidate lists (tambons) are re-scanned per message
def _name_key(text: str) -> str:
    s = _key(text)
    changed = True
    while changed:
        changed = False
        for p in sorted(_PLACE_PREFIXES, key=len, reverse=True):
            if s.startswith(p) and len(s) > len(p):
                s = s[len(p) :].lstrip()
                changed = True
        for p in _PLACE_SUFFIXES:
            if s.endswith(p) and len(s) > len(p):
                s = s[: -len(p)].rstrip()
                changed = True
    # Keep letters, marks and digits only: spaces and punctuation vary.
    return "".join(ch for ch in s if unicodedata.category(ch)[0] in "LMN")


def match_name(
    text: str,
    candidates: Iterable[tuple[K, Sequence[str]]],
    *,
    limit: int = 3,
    cutoff: float = 0.75,
) -> list[K]:
    """Find which place/issue the user meant.

    ``candidates`` are ``(key, names)`` pairs where names holds the Thai and
    English names and aliases.  Both sides are normalized, casefolded,
    stripped of administrative prefixes ("จ.", "อำเภอ", "ต.", ...) and of
    spaces/punctuation.  Tiers:

    1. exact matches -- if any, only those keys are returned (several only
       when different keys share a name, e.g. two "เมือง" districts);
    2. prefix matches (query of at least 3 characters starts a name);
    3. similarity >= ``cutoff`` (catches "เชียงไหม่", "นครราชศรีมา"), measured
       by rapidfuzz's normalized Indel ratio (what difflib's ratio approximates).

    Within a tier keys are ranked by similarity, best first, deduplicated,
    at most ``limit``.  Returns [] when nothing is close.
    """
    q = _name_key(text)
    if not q or limit <= 0:
        return []
    exact: list[K] = []
    scored: dict[K, tuple[int, float, int]] = {}  # key -> (tier, -score, order)
    for order, (key, names) in enumerate(candidates):
        for name in names:
            n = _name_key(name)
            if not n:
                continue
            if n == q:
                if key not in exact:
                    exact.append(key)
                continue
            if exact:
                continue  # exact tier already wins; skip the expensive part
            if len(q) >= _MIN_PREFIX_QUERY and n.startswith(q):
                entry = (0, -_similarity(q, n), order)
            else:
                # score_cutoff lets rapidfuzz give up early (it returns 0 below the cutoff).
                score = _similarity(q, n, score_cutoff=cutoff * 100)
                if score < cutoff * 100:
                    continue
                entry = (1, -score, order)
            if key not in scored or entry < scored[key]:
                scored[key] = entry
    if exact:
        return exact[:limit]
    ranked = sorted(scored.items(), key=lambda kv: kv[1])
    return [key for key, _ in ranked[:limit]]


# ---------------------------------------------------------------------------
# LINE text limits
# ---------------------------------------------------------------------------


def utf16_len(s: str) -> int:
    """Length in UTF-16 code units, which is how LINE counts text limits
    (astral characters such as most emoji count as 2)."""
    return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)


def _attaches_to_previous(ch: str) -> bool:
    # Combining marks (Thai vowels above/below and tone marks are Mn), SARA AM
    # and SARA AA (spacing but never standalone), ZWJ/variation selectors.
    return (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or ch in "\u0e32\u0e33\u0e45\u200d"
    )


def truncate(s: str, limit: int, ellipsis: str = "…") -> str:
    """Shorten s to at most ``limit`` UTF-16 units, ending with ``ellipsis``.

    Python strings hold whole code points, so surrogate pairs are never split;
    the cut is also moved back so it does not separate a Thai consonant from
    its vowel/tone marks (which would leave a dangling or missing mark) or
    strand a Thai leading vowel (เ แ โ ใ ไ) or an emoji from its joiners.
    """
    if limit <= 0:
        return ""
    if utf16_len(s) <= limit:
        return s
    budget = limit - utf16_len(ellipsis)
    if budget < 0:
        return truncate(ellipsis, limit, "")
    used = 0
    cut = 0
    for ch in s:
        w = 2 if ord(ch) > 0xFFFF else 1
        if used + w > budget:
            break
        used += w
        cut += 1
    # Never cut right before a mark that belongs to the kept base character.
    while cut > 0 and cut < len(s) and _attaches_to_previous(s[cut]):
        cut -= 1
    kept = s[:cut]
    # A leading vowel or joiner at the end belongs to what was cut off.
    while kept and (kept[-1] in "\u0e40\u0e41\u0e42\u0e43\u0e44\u200d" or kept[-1].isspace()):
        kept = kept[:-1]
    return kept + ellipsis


# ---------------------------------------------------------------------------
# global commands
# ---------------------------------------------------------------------------

#: Whole-message words that abort the current flow.  "หยุด" is deliberately
#: absent: "หยุดเตือน" (stop reminders) is a different command.
CANCEL_WORDS: frozenset[str] = frozenset({"ยกเลิก", "cancel", "เลิก"})
#: Whole-message words that go one step back in a flow.
BACK_WORDS: frozenset[str] = frozenset({"ย้อนกลับ", "กลับ", "back", "ย้อน"})
#: Whole-message words that open the main menu, in a flow or not (the router's menu command).
MENU_WORDS: frozenset[str] = frozenset({"เมนู", "menu", "เมนูหลัก", "main menu", "หน้าหลัก"})
#: Polite particles older users append ("ยกเลิกครับ"); command_key() drops them from the end.
POLITE_PARTICLES: tuple[str, ...] = (
    "ครับผม",
    "ครับ",
    "คับ",
    "ค่ะ",
    "คะ",
    "ค่า",
    "จ้ะ",
    "จ้า",
    "จ๊ะ",
    "นะ",
    "please",
)


#: Punctuation kept by command_key: "@" marks addressing the bot ("@ขบวน" in a group is a command,
#: the movement's name said in passing is not).
_KEPT_PUNCTUATION = frozenset("@")


def command_key(text: str) -> str:
    """How a typed command is compared, everywhere (router, flows, steps): the one normalizer.

    normalize() and case-folded; punctuation dropped (unless that leaves nothing, so "?" stays "?"),
    except "@"; every space removed ("main menu" = "mainmenu"); then polite particles at the end
    ("เมนูค่ะ", "ยกเลิก นะคะ", "menu please") removed, as long as something is left ("ค่ะ" stays).
    Compare against command words put through this function too.
    """
    s = _key(text)
    unpunctuated = "".join(ch for ch in s if ch in _KEPT_PUNCTUATION or not unicodedata.category(ch).startswith("P"))
    s = "".join((unpunctuated if unpunctuated.strip() else s).split())
    changed = True
    while changed:
        changed = False
        for p in POLITE_PARTICLES:
            if s.endswith(p) and len(s) > len(p):
                s = s[: -len(p)]
                changed = True
    return s


def _keys(words: Iterable[str]) -> frozenset[str]:
    return frozenset(command_key(w) for w in words)


_CANCEL_KEYS, _BACK_KEYS, _MENU_KEYS = _keys(CANCEL_WORDS), _keys(BACK_WORDS), _keys(MENU_WORDS)


def is_cancel(text: str) -> bool:
    """True if the whole message means "cancel" (see CANCEL_WORDS)."""
    return command_key(text) in _CANCEL_KEYS


def is_back(text: str) -> bool:
    """True if the whole message means "go back" (see BACK_WORDS)."""
    return command_key(text) in _BACK_KEYS


def is_menu(text: str) -> bool:
    """True if the whole message asks for the main menu (see MENU_WORDS)."""
    return command_key(text) in _MENU_KEYS


DONE_WORDS = frozenset({"เสร็จแล้ว", "เสร็จ", "done", "พอแล้ว", "ครบแล้ว", "finish", "finished"})
YES_WORDS = frozenset({"ใช่", "ตกลง", "ยืนยัน", "บันทึก", "yes", "ok", "okay", "save", "confirm"})
#: Typed answers that skip an optional question ("no idea", "none", "didn't use any"): people type
#: these rather than look for the "ข้าม" chip. Only optional steps read them (bot/flows/steps.py).
SKIP_WORDS = frozenset({"ข้าม", "ข้ามไป", "ไม่มี", "ไม่ทราบ", "ไม่รู้", "ไม่ได้ใช้", "ไม่ใช้", "ไม่มีข้อมูล",
                        "skip", "none", "no", "n/a", "don't know", "dont know", "not used"})
_DONE_KEYS, _YES_KEYS, _SKIP_KEYS = _keys(DONE_WORDS), _keys(YES_WORDS), _keys(SKIP_WORDS)


def is_skip(text: str) -> bool:
    """True if the whole message skips an optional question (see SKIP_WORDS)."""
    return command_key(text) in _SKIP_KEYS


def is_done(text: str) -> bool:
    """True if the whole message means "done" (ends a multi-pick or photo step)."""
    return command_key(text) in _DONE_KEYS


def is_yes(text: str) -> bool:
    """True if the whole message confirms (typed instead of tapping "save")."""
    return command_key(text) in _YES_KEYS


HONORIFICS = ("นางสาว", "นาง", "นาย", "คุณ", "น.ส.", "mr.", "mrs.", "ms.", "miss", "mr", "mrs", "ms")


def given_name(full_name: str) -> str:
    """The name to greet someone by: the first name, without a title.

    Greetings say "คุณ{name}", so "นายสมชาย ใจดี" must become "สมชาย", not "คุณนายสมชาย ใจดี".
    """
    name = normalize(full_name)
    lowered = name.casefold()
    for title in HONORIFICS:
        if lowered.startswith(title) and len(name) > len(title):
            name = name[len(title):].lstrip()
            break
    return name.split(" ")[0] if name else full_name


# Letters by Unicode category but not words: Thai repetition (ๆ, Lm) and abbreviation (ฯ) marks.
_NOT_WORD_LETTERS = frozenset("\u0e46\u0e2f")


def has_words(text: str) -> bool:
    """Does this answer say something in letters, as a name, title or description must?

    Letters are Unicode category L* (Thai consonants and leading vowels are Lo, Latin Lu/Ll);
    Thai vowel and tone marks (Mn), digits, emoji and punctuation are not letters. At least two
    different letters are needed, so "555", "😀", "!!!", "ๆๆๆๆ" and "aaaaa" say nothing.
    """
    letters = {ch.casefold() for ch in text or ""
               if unicodedata.category(ch).startswith("L") and ch not in _NOT_WORD_LETTERS}
    return len(letters) >= 2


def clean_text(text: str) -> str:
    """Free text (a report, a reason) as the person wrote it, minus invisible junk.

    Unlike normalize(), line breaks, digits (Thai or Arabic) and spacing inside a line are
    kept: this is what they said, stored for people to read. Zero-width and control
    characters go, Thai marks are put in standard order and repeated vowels or marks
    collapsed (pythainlp's ``remove_repeat_vowels``), and blank runs are trimmed.
    """
    if not text:
        return ""
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        kept = "".join(ch for ch in line
                       if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
        # Spaces first: pythainlp collapses a vowel repeated across spaces ("า า").
        kept = re.sub(r"[^\S\n]+", " ", kept)
        lines.append(_fixed_point(remove_repeat_vowels, kept).strip())
    joined = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", joined).strip()
