"""Tests for bot.thai: table-driven examples plus hypothesis properties."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import thai
from bot.thai import (
    BACK_WORDS,
    CANCEL_WORDS,
    MENU_WORDS,
    format_baht,
    format_date,
    format_datetime,
    format_number,
    format_phone,
    is_back,
    is_cancel,
    is_menu,
    match_name,
    normalize,
    parse_amount,
    parse_date,
    parse_int,
    parse_phone,
    parse_time,
    parse_year,
    truncate,
    utf16_len,
)

TODAY = date(2026, 11, 25)

# ---------------------------------------------------------------------------
# normalize
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  hello  ", "hello"),
        ("１２０", "120"),
        ("ＡＢＣ", "ABC"),
        ("๑๒๓", "123"),
        ("๐๘๑-๒๓๔-๕๖๗๘", "081-234-5678"),
        ("a\u200bb", "ab"),
        ("a\u200cb\u200dc\u2060d\ufeffe", "abcde"),
        ("\ufeffยกเลิก", "ยกเลิก"),
        ("a\u00a0b", "a b"),
        ("a\u3000b", "a b"),
        ("a \t\n\r b", "a b"),
        ("a\u00adb", "ab"),  # soft hyphen (format char)
        ("a\x00b\x07", "ab"),  # control chars
        ("น้ำ", "น้ำ"),
        ("จำนวน", "จำนวน"),
        ("กำนัน", "กำนัน"),
        ("ผู้ใหญ่บ้าน", "ผู้ใหญ่บ้าน"),
        ("เชียงใหม่", "เชียงใหม่"),
        # SARA AM typed as NIKHAHIT + SARA AA (what NFKC would produce)
        ("น\u0e49\u0e4d\u0e32", "น้ำ"),
        ("น\u0e4d\u0e49\u0e32", "น้ำ"),
        ("จ\u0e4d\u0e32นวน", "จำนวน"),
        # tone mark typed before the upper vowel, doubled tone mark
        ("ก\u0e48\u0e35", "กี่"),
        ("ก\u0e48\u0e48", "ก่"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_keeps_thai_block_out_of_nfkc() -> None:
    # The whole point: NFKC alone would break SARA AM.
    assert unicodedata.normalize("NFKC", "น้ำ") != "น้ำ"
    assert normalize("น้ำท่วม") == "น้ำท่วม"
    assert "\u0e33" in normalize("ทำ")


def test_normalize_mixed_fullwidth_and_thai() -> None:
    assert normalize("ＡＢＣ น้ำ １２") == "ABC น้ำ 12"


# ---------------------------------------------------------------------------
# parse_int
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("120", 120),
        ("๑๒๐", 120),
        ("１２０", 120),
        ("1,200", 1200),
        ("1 200", 1200),
        ("1,200,000", 1_200_000),
        ("120 คน", 120),
        ("120คน", 120),
        ("ประมาณ 50", 50),
        ("50 บาท", 50),
        ("0", 0),
        ("007", 7),
        ("+5", 5),
        ("50 (50)", 50),
        ("2 หมื่น", 20_000),
        ("ห้า", 5),
        ("สิบ", 10),
        (" 42 ", 42),
        ("-5", None),
        ("- 5", None),
        ("−5", None),
        ("1.5", None),
        ("1.0", None),
        ("1.000", None),  # European grouping: never read as 1
        ("1.5 พัน", 1500),
        ("12 หรือ 13", None),
        ("10-20", None),
        ("1,50", None),
        ("12,34", None),
        ("5k", None),
        ("abc", None),
        ("", None),
        ("สิบห้า", None),
        ("1" * 100, None),
    ],
)
def test_parse_int(raw: str, expected: int | None) -> None:
    assert parse_int(raw) == expected


@pytest.mark.parametrize(
    ("raw", "lo", "hi", "expected"),
    [
        ("5", 1, 10, 5),
        ("1", 1, 10, 1),
        ("10", 1, 10, 10),
        ("0", 1, 10, None),
        ("11", 1, 10, None),
        ("11", None, 10, None),
        ("11", 1, None, 11),
    ],
)
def test_parse_int_range(raw: str, lo: int | None, hi: int | None, expected: int | None) -> None:
    assert parse_int(raw, min_value=lo, max_value=hi) == expected


# ---------------------------------------------------------------------------
# parse_amount
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,500", Decimal("1500")),
        ("1500", Decimal("1500")),
        ("1500.50", Decimal("1500.50")),
        ("1500.5", Decimal("1500.50")),
        ("๑,๕๐๐ บาท", Decimal("1500")),
        ("1,500 บาท", Decimal("1500")),
        ("฿1,500", Decimal("1500")),
        ("1500 baht", Decimal("1500")),
        ("1500THB", Decimal("1500")),
        ("2 หมื่น", Decimal("20000")),
        ("2หมื่น", Decimal("20000")),
        ("1.5 ล้าน", Decimal("1500000")),
        ("3 แสน", Decimal("300000")),
        ("5 พัน", Decimal("5000")),
        ("1 ล้าน 2 แสน", Decimal("1200000")),
        ("2 หมื่น 5 พัน บาท", Decimal("25000")),
        ("ประมาณ 3,000 บาท", Decimal("3000")),
        ("0", Decimal("0")),
        ("1.5k", None),
        ("0.001", None),
        ("-100", None),
        ("100 หรือ 200", None),
        ("2 พัน 3 หมื่น", None),  # multipliers must descend
        ("1 ล้าน 500", None),  # ambiguous colloquial form
        ("ล้าน", None),
        ("", None),
        ("1.500", None),  # European grouping: too many decimals for baht
    ],
)
def test_parse_amount(raw: str, expected: Decimal | None) -> None:
    result = parse_amount(raw)
    assert result == expected
    if expected is not None:
        assert result is not None
        # whole amounts carry no fractional digits, others exactly two
        exponent = result.as_tuple().exponent
        assert exponent == (0 if expected == expected.to_integral_value() else -2)


def test_parse_amount_range() -> None:
    assert parse_amount("500", min_value=1, max_value=1000) == Decimal(500)
    assert parse_amount("5000", min_value=1, max_value=1000) is None
    assert parse_amount("0", min_value=1) is None


@pytest.mark.parametrize(
    ("raw", "unit"),
    [
        ("ประมาณ 40 คน", "คน"),
        ("40คน", "คน"),
        ("3 วัน", "วัน"),
        ("about 40 people", "people"),
        ("2,500 บาท", None),
        ("๑,๕๐๐ บาทค่ะ", None),
        ("2 หมื่น", None),
        ("1 ล้าน 2 แสน", None),
        ("800", None),
        ("2000 Baht", None),
        ("฿800", None),
        ("ราว 2000 บาท", None),
    ],
)
def test_unit_after_number_tells_people_from_baht(raw: str, unit: str | None) -> None:
    assert thai.unit_after_number(raw) == unit


@pytest.mark.parametrize("raw", ["ข้าม", "ข้ามค่ะ", "ไม่มี", "ไม่มีครับ", "ไม่ทราบ", "ไม่ทราบค่ะ", "ไม่ได้ใช้", "Skip"])
def test_skip_words(raw: str) -> None:
    assert thai.is_skip(raw)


@pytest.mark.parametrize("raw", ["ไม่มีรูป", "มี", "2550", "ไม่ใช่"])
def test_not_skip_words(raw: str) -> None:
    assert not thai.is_skip(raw)


# ---------------------------------------------------------------------------
# phones
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("081-234-5678", "0812345678"),
        ("081 234 5678", "0812345678"),
        ("0812345678", "0812345678"),
        ("+66812345678", "0812345678"),
        ("+66 81 234 5678", "0812345678"),
        ("+66-81-234-5678", "0812345678"),
        ("+66 (0)81 234 5678", "0812345678"),
        ("66812345678", "0812345678"),
        ("0066812345678", "0812345678"),
        ("๐๘๑๒๓๔๕๖๗๘", "0812345678"),
        ("061-234-5678", "0612345678"),
        ("091.234.5678", "0912345678"),
        ("โทร 081-234-5678", "0812345678"),
        ("02-123-4567", "021234567"),
        ("(02) 123 4567", "021234567"),
        ("053 123 456", "053123456"),
        ("+6621234567", "021234567"),
        ("6621234567", "021234567"),
        ("074-123-456", "074123456"),
        ("0712345678", None),  # 07 is landline: 9 digits
        ("061234567", None),  # 06 is mobile: 10 digits
        ("0112345678", None),
        ("01-123-4567", None),
        ("081234567", None),
        ("08123456789", None),
        ("812345678", None),
        ("+1 212 555 1234", None),
        ("081-234-5678 หรือ 089-999-9999", None),
        ("08x-234-5678", None),
        ("", None),
        ("abc", None),
    ],
)
def test_parse_phone(raw: str, expected: str | None) -> None:
    assert parse_phone(raw) == expected


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("0812345678", "081-234-5678"),
        ("021234567", "02-123-4567"),
        ("053123456", "053-123-456"),
        ("+66812345678", "081-234-5678"),
        ("12345", "12345"),  # not a Thai number: shown unchanged
    ],
)
def test_format_phone(digits: str, expected: str) -> None:
    assert format_phone(digits) == expected


# ---------------------------------------------------------------------------
# parse_year
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2510", 1967),
        ("๒๕๑๐", 1967),
        ("พ.ศ. 2510", 1967),
        ("พ.ศ.2510", 1967),
        ("พศ 2510", 1967),
        ("พศ.2510", 1967),
        ("ปี 2510", 1967),
        ("ปี พ.ศ. 2510", 1967),
        ("2569", 2026),
        ("1967", 1967),
        ("ค.ศ. 1967", 1967),
        ("คศ 1967", 1967),
        ("ปี 1990", 1990),
        ("1850", 1850),
        ("2400", 1857),
        ("2026", 2026),
        ("2570", None),  # future (2027)
        ("2027", None),  # future
        ("1849", None),
        ("2701", None),
        ("67", None),  # two digits: ambiguous
        ("พ.ศ. 1990", None),  # contradicts the era
        ("ค.ศ. 2510", None),
        ("ปี", None),
        ("2510 2511", None),
        ("", None),
    ],
)
def test_parse_year(raw: str, expected: int | None) -> None:
    assert parse_year(raw, today=TODAY) == expected


# ---------------------------------------------------------------------------
# parse_date
# ---------------------------------------------------------------------------

D = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("วันนี้", D),
        ("today", D),
        ("Today", D),
        ("เมื่อวาน", date(2026, 11, 24)),
        ("yesterday", date(2026, 11, 24)),
        ("เมื่อวานซืน", date(2026, 11, 23)),
        ("พรุ่งนี้", date(2026, 11, 26)),
        ("25/11/2569", D),
        ("25/11/69", D),
        ("๒๕/๑๑/๒๕๖๙", D),
        ("25-11-2026", D),
        ("25.11.2569", D),
        ("25/11/2026", D),
        ("2026-11-25", D),
        ("2569-11-25", D),
        ("1/1/2569", date(2026, 1, 1)),
        ("25 พ.ย. 69", D),
        ("25 พ.ย. 2569", D),
        ("25 พ.ย.2569", D),
        ("25พ.ย.69", D),
        ("25 พฤศจิกายน 2569", D),
        ("25 พย 69", D),
        ("25 พ.ย 69", D),
        ("25 พฤศจิกา 69", D),
        ("วันที่ 25 พ.ย. 2569", D),
        ("25 พ.ย. พ.ศ. 2569", D),
        ("25 Nov 2026", D),
        ("25 nov 2026", D),
        ("25 November 2026", D),
        ("25-Nov-2026", D),
        ("25th November 2026", D),
        ("Nov 25, 2026", D),
        ("November 25 2026", D),
        ("1 มี.ค. 2569", date(2026, 3, 1)),
        ("1 มีนา 69", date(2026, 3, 1)),
        ("13 เม.ย. 2510", date(1967, 4, 13)),
        ("5 Sept 2026", date(2026, 9, 5)),
        # no year: this year, or last year if that would be in the future
        ("25 พ.ย.", D),
        ("24 พ.ย.", date(2026, 11, 24)),
        ("26 พ.ย.", date(2025, 11, 26)),
        ("1 ม.ค.", date(2026, 1, 1)),
        ("31 ธ.ค.", date(2025, 12, 31)),
        ("Nov 25", D),
        ("25/11", D),
        ("26/11", date(2025, 11, 26)),
        # future dates are returned; the caller decides
        ("1/1/2570", date(2027, 1, 1)),
        # rejected
        ("25", None),
        ("31/02/2569", None),
        ("29/02/2569", None),  # 2026 is not a leap year
        ("29/02/2567", date(2024, 2, 29)),
        ("32/01/2569", None),
        ("25/13/2569", None),
        ("25 Nov 26", None),  # English month + 2-digit year: ambiguous
        ("25 ค.ศ. 2569", None),
        ("25 ฟหกด 2569", None),
        ("25 พ.ย. 69 14:30", None),
        ("25/11/069", None),
        ("", None),
        ("hello", None),
        ("14.30", None),
    ],
)
def test_parse_date(raw: str, expected: date | None) -> None:
    assert parse_date(raw, today=TODAY) == expected


def test_parse_date_two_digit_year_is_buddhist_era() -> None:
    assert parse_date("1/1/00", today=TODAY) == date(1957, 1, 1)
    assert parse_date("1/1/99", today=TODAY) == date(2056, 1, 1)
    assert parse_date("1 ม.ค. 10", today=TODAY) == date(1967, 1, 1)


def test_parse_date_no_year_leap_day() -> None:
    assert parse_date("29 ก.พ.", today=date(2024, 3, 1)) == date(2024, 2, 29)
    assert parse_date("29 ก.พ.", today=date(2026, 3, 1)) is None


# ---------------------------------------------------------------------------
# parse_time
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("14:30", time(14, 30)),
        ("14.30", time(14, 30)),
        ("14.30 น.", time(14, 30)),
        ("14.30น.", time(14, 30)),
        ("14:30 นาฬิกา", time(14, 30)),
        ("๑๔.๓๐ น.", time(14, 30)),
        ("เวลา 14:30", time(14, 30)),
        ("9:05", time(9, 5)),
        ("09:05", time(9, 5)),
        ("0:00", time(0, 0)),
        ("23:59", time(23, 59)),
        ("14:30:15", time(14, 30, 15)),
        ("14 น.", time(14, 0)),
        ("2:30 pm", time(14, 30)),
        ("2:30 PM", time(14, 30)),
        ("2:30pm", time(14, 30)),
        ("2:30 p.m.", time(14, 30)),
        ("12:15 am", time(0, 15)),
        ("12:15 pm", time(12, 15)),
        ("2pm", time(14, 0)),
        ("11 am", time(11, 0)),
        ("9 โมง", time(9, 0)),
        ("9 โมงเช้า", time(9, 0)),
        ("เก้าโมง", time(9, 0)),
        ("บ่ายโมง", time(13, 0)),
        ("บ่าย 2 โมง", time(14, 0)),
        ("บ่ายสองโมงครึ่ง", time(14, 30)),
        ("บ่าย 3", time(15, 0)),
        ("5 โมงเย็น", time(17, 0)),
        ("2 ทุ่ม", time(20, 0)),
        ("ทุ่มครึ่ง", time(19, 30)),
        ("ตี 3", time(3, 0)),
        ("เที่ยง", time(12, 0)),
        ("เที่ยงคืน", time(0, 0)),
        ("24:00", None),
        ("25:00", None),
        ("14:60", None),
        ("13:00 pm", None),
        ("0 am", None),
        ("2 โมง", None),  # ambiguous on the Thai six-hour clock
        ("บ่าย", None),
        ("14", None),
        ("", None),
        ("hello", None),
    ],
)
def test_parse_time(raw: str, expected: time | None) -> None:
    assert parse_time(raw) == expected


# ---------------------------------------------------------------------------
# parse_datetime: the one reader of typed moments (meetings, voting, agenda imports)
# ---------------------------------------------------------------------------

BKK = ZoneInfo("Asia/Bangkok")


def _utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # what LINE's date-time picker sends, and ISO 8601 typed or imported
        ("2026-12-25T14:00", _utc(2026, 12, 25, 7)),
        ("2026-12-12 09:00+07:00", _utc(2026, 12, 12, 2)),
        ("2026-12-12T02:00:00+00:00", _utc(2026, 12, 12, 2)),
        # Buddhist and Christian years, Thai digits, Thai and English months
        ("25/12/2569 14:00", _utc(2026, 12, 25, 7)),
        ("25/12/69 14.00 น.", _utc(2026, 12, 25, 7)),
        ("๒๕/๑๒/๒๕๖๙ ๑๔:๐๐", _utc(2026, 12, 25, 7)),
        ("12 ธ.ค. 2569 9:00", _utc(2026, 12, 12, 2)),
        ("12 ธันวาคม พ.ศ. 2569 เวลา 09.30 น.", _utc(2026, 12, 12, 2, 30)),
        ("12 Dec 2026 2pm", _utc(2026, 12, 12, 7)),
        ("25-12-2026 14:00", _utc(2026, 12, 25, 7)),
        # spoken Thai times after a relative day (the meetings prompt's example)
        ("พรุ่งนี้ บ่าย 2 โมง", _utc(2026, 11, 26, 7)),
        ("พรุ่งนี้ 9 โมง", _utc(2026, 11, 26, 2)),
        ("วันนี้ 2 ทุ่ม", _utc(2026, 11, 25, 13)),
        # a time of more than three words (voting's old reader stopped at three)
        ("12 ธ.ค. 2569 เวลา บ่าย 2 โมง ครึ่ง", _utc(2026, 12, 12, 7, 30)),
        # odd spacing
        ("  25/12/2569\u00a0 14:00 ", _utc(2026, 12, 25, 7)),
        # not understood: ask again
        ("25/12/2569", None),
        ("14:00", None),
        ("พรุ่งนี้", None),
        ("31/02/2569 10:00", None),
        ("25/12/2569 25:00", None),
        ("เร็ว ๆ นี้", None),
        ("", None),
    ],
)
def test_parse_datetime(raw: str, expected: datetime | None) -> None:
    assert thai.parse_datetime(raw, today=TODAY, tz=BKK) == expected


def test_parse_datetime_is_utc_and_takes_the_zone_by_name() -> None:
    moment = thai.parse_datetime("25/12/2569 14:00", today=TODAY, tz="Asia/Bangkok")
    assert moment is not None and moment.utcoffset() == timedelta(0)
    assert moment == _utc(2026, 12, 25, 7)


def test_parse_datetime_returns_past_moments() -> None:
    # Refusing the past is the caller's rule (a vote may open "now", a meeting may not be past).
    assert thai.parse_datetime("เมื่อวาน 10:00", today=TODAY, tz=BKK) == _utc(2026, 11, 24, 3)


# ---------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------

THAI_ABBREVIATIONS = [
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
]  # fmt: skip


def test_babel_thai_month_abbreviations_are_the_official_forms() -> None:
    for month, abbr in enumerate(THAI_ABBREVIATIONS, start=1):
        assert format_date(date(2026, month, 1), "th") == f"1 {abbr} 2569"


@pytest.mark.parametrize(
    ("d", "locale", "long", "expected"),
    [
        (D, "th", False, "25 พ.ย. 2569"),
        (D, "th", True, "25 พฤศจิกายน 2569"),
        (D, "th_TH", False, "25 พ.ย. 2569"),
        (D, "th-TH", False, "25 พ.ย. 2569"),
        (D, "en", False, "25 Nov 2026"),
        (D, "en", True, "25 November 2026"),
        (D, "en_US", False, "25 Nov 2026"),
        (date(2026, 1, 5), "th", False, "5 ม.ค. 2569"),
        (date(1967, 4, 13), "th", True, "13 เมษายน 2510"),
    ],
)
def test_format_date(d: date, locale: str, long: bool, expected: str) -> None:
    assert format_date(d, locale, long=long) == expected


def test_format_datetime() -> None:
    dt = datetime(2026, 11, 25, 7, 30, tzinfo=timezone.utc)
    assert format_datetime(dt, "th") == "25 พ.ย. 2569 14:30 น."
    assert format_datetime(dt, "en") == "25 Nov 2026 14:30"
    assert format_datetime(dt, "en", ZoneInfo("UTC")) == "25 Nov 2026 07:30"
    assert format_datetime(dt, "th", "UTC", long=True) == "25 พฤศจิกายน 2569 07:30 น."
    # crossing midnight changes the date
    late = datetime(2026, 11, 25, 20, 0, tzinfo=timezone.utc)
    assert format_datetime(late, "en") == "26 Nov 2026 03:00"


def test_format_datetime_rejects_naive() -> None:
    with pytest.raises(ValueError):
        format_datetime(datetime(2026, 11, 25, 14, 30), "th")


@pytest.mark.parametrize(
    ("n", "locale", "expected"),
    [
        (1500, "th", "1,500"),
        (1500, "en", "1,500"),
        (1234567, "th", "1,234,567"),
        (0, "th", "0"),
        (1500.5, "th", "1,500.5"),
        (Decimal("1500.25"), "en", "1,500.25"),
    ],
)
def test_format_number(n: int | float | Decimal, locale: str, expected: str) -> None:
    assert format_number(n, locale) == expected


@pytest.mark.parametrize(
    ("amount", "locale", "expected"),
    [
        (1500, "th", "1,500 บาท"),
        (1500, "en", "฿1,500"),
        (Decimal("1500.00"), "th", "1,500 บาท"),
        (Decimal("1500.5"), "th", "1,500.50 บาท"),
        (1500.5, "en", "฿1,500.50"),
        (Decimal("0.25"), "th", "0.25 บาท"),
        (Decimal("1999.999"), "th", "2,000 บาท"),
        (0, "en", "฿0"),
        (-250, "en", "-฿250"),
        (-250, "th", "-250 บาท"),
        (1_200_000, "th", "1,200,000 บาท"),
    ],
)
def test_format_baht(amount: int | float | Decimal, locale: str, expected: str) -> None:
    assert format_baht(amount, locale) == expected


def test_format_baht_parse_amount_round_trip() -> None:
    for amount in (Decimal("1500"), Decimal("1500.50"), Decimal("0.01"), Decimal("1200000")):
        for locale in ("th", "en"):
            assert parse_amount(format_baht(amount, locale)) == amount


# ---------------------------------------------------------------------------
# match_name
# ---------------------------------------------------------------------------

PROVINCES: list[tuple[str, list[str]]] = [
    ("CNX", ["เชียงใหม่", "Chiang Mai"]),
    ("CRI", ["เชียงราย", "Chiang Rai"]),
    ("NPT", ["นครปฐม", "Nakhon Pathom"]),
    ("NPM", ["นครพนม", "Nakhon Phanom"]),
    ("NMA", ["นครราชสีมา", "Nakhon Ratchasima", "โคราช", "Korat"]),
    ("NST", ["นครศรีธรรมราช", "Nakhon Si Thammarat"]),
    ("NSN", ["นครสวรรค์", "Nakhon Sawan"]),
    ("BKK", ["กรุงเทพมหานคร", "กรุงเทพ", "กทม", "Bangkok"]),
    ("LPN", ["ลำพูน", "Lamphun"]),
    ("LPG", ["ลำปาง", "Lampang"]),
    ("NAN", ["น่าน", "Nan"]),
    ("TAK", ["ตาก", "Tak"]),
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("เชียงใหม่", ["CNX"]),
        ("จ.เชียงใหม่", ["CNX"]),
        ("จังหวัดเชียงใหม่", ["CNX"]),
        ("จังหวัด เชียงใหม่", ["CNX"]),
        ("chiang mai", ["CNX"]),
        ("Chiangmai", ["CNX"]),
        ("CHIANG-MAI", ["CNX"]),
        ("Chiang Mai Province", ["CNX"]),
        ("นครปฐม", ["NPT"]),
        ("นครพนม", ["NPM"]),
        ("โคราช", ["NMA"]),
        ("กทม.", ["BKK"]),
        ("น่าน", ["NAN"]),
        ("Nan", ["NAN"]),
        ("๋ตาก", ["TAK"]),  # stray tone mark: a typo, still close enough
        ("xyz", []),
        ("", []),
        ("   ", []),
        ("ภูเก็ต", []),
    ],
)
def test_match_name_exact(query: str, expected: list[str]) -> None:
    assert match_name(query, PROVINCES) == expected


@pytest.mark.parametrize(
    ("query", "top"),
    [
        ("เชียงไหม่", "CNX"),
        ("เชียงใม่", "CNX"),
        ("chaing mai", "CNX"),
        ("chang mai", "CNX"),
        ("นครราชศรีมา", "NMA"),
        ("นครราชสีมาา", "NMA"),
        ("นครปธม", "NPT"),
        ("นครพะนม", "NPM"),
        ("nakhon pathom", "NPT"),
        ("nakorn pathom", "NPT"),
        ("bangkock", "BKK"),
        ("กรุงเทพฯ", "BKK"),
        ("ลำพูล", "LPN"),
    ],
)
def test_match_name_typos(query: str, top: str) -> None:
    result = match_name(query, PROVINCES)
    assert result, query
    assert result[0] == top


def test_match_name_nakhon_pathom_vs_phanom() -> None:
    assert match_name("นครปธม", PROVINCES)[0] == "NPT"
    assert "NPM" not in match_name("นครปธม", PROVINCES)
    assert match_name("นครปฐม", PROVINCES) == ["NPT"]


def test_match_name_prefix() -> None:
    result = match_name("เชียง", PROVINCES)
    assert set(result) == {"CNX", "CRI"}
    result = match_name("นคร", PROVINCES, limit=10)
    assert set(result) == {"NPT", "NPM", "NMA", "NST", "NSN"}
    assert len(match_name("นคร", PROVINCES)) == 3  # default limit


def test_match_name_prefix_needs_three_chars() -> None:
    assert match_name("นค", PROVINCES) == []


def test_match_name_dedupes_by_key_and_respects_limit() -> None:
    result = match_name("chiang", PROVINCES, limit=5)
    assert len(result) == len(set(result))
    assert match_name("นคร", PROVINCES, limit=1) and len(match_name("นคร", PROVINCES, limit=1)) == 1
    assert match_name("นคร", PROVINCES, limit=0) == []


def test_match_name_exact_shared_by_several_keys() -> None:
    districts = [
        (1, ["อำเภอเมืองเชียงใหม่", "เมือง"]),
        (2, ["อำเภอเมืองลำพูน", "เมือง"]),
        (3, ["อำเภอเมืองน่าน"]),
    ]
    assert match_name("อ.เมือง", districts) == [1, 2]
    assert match_name("อ.เมืองลำพูน", districts) == [2]


def test_match_name_prefix_stripping_district_and_subdistrict() -> None:
    cands = [("a", ["ตำบลสันทราย"]), ("b", ["อำเภอหางดง"])]
    assert match_name("ต.สันทราย", cands) == ["a"]
    assert match_name("สันทราย", cands) == ["a"]
    assert match_name("อ. หางดง", cands) == ["b"]


def test_match_name_accepts_generators_and_int_keys() -> None:
    gen = ((i, [name]) for i, name in enumerate(["ลำปาง", "ลำพูน"]))
    assert match_name("ลำปาง", gen) == [0]


def test_match_name_cutoff() -> None:
    assert match_name("เชียงไหม่", PROVINCES, cutoff=0.99) == []


# ---------------------------------------------------------------------------
# utf16_len / truncate
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("s", "expected"),
    [("", 0), ("abc", 3), ("น้ำ", 3), ("😀", 2), ("a😀b", 4), ("👨‍👩‍👧", 8)],
)
def test_utf16_len(s: str, expected: int) -> None:
    assert utf16_len(s) == expected


@pytest.mark.parametrize(
    ("s", "limit", "expected"),
    [
        ("hello", 10, "hello"),
        ("hello", 5, "hello"),
        ("hello world", 6, "hello…"),
        ("hello world", 7, "hello…"),  # trailing space dropped
        ("😀😀😀", 4, "😀…"),
        ("😀😀😀", 3, "😀…"),
        ("😀😀😀", 2, "…"),  # no room for half an emoji
        ("abc", 0, ""),
        ("abcdef", 1, "…"),
        ("น้ำท่วม", 3, "…"),  # never "น้…" (SARA AM cut off) nor "น…"
        ("น้ำท่วม", 4, "น้ำ…"),
        ("น้ำท่วม", 5, "น้ำ…"),  # not "น้ำท…" without its tone mark
        ("กี่คน", 2, "…"),
        ("กี่คน", 4, "กี่…"),
        ("ไปไหน", 2, "…"),  # "ไ" alone would be a stranded leading vowel
        ("ไปไหน", 4, "ไป…"),
    ],
)
def test_truncate(s: str, limit: int, expected: str) -> None:
    assert truncate(s, limit) == expected


def test_truncate_custom_ellipsis() -> None:
    assert truncate("abcdefgh", 6, "...") == "abc..."
    assert truncate("abcdefgh", 2, "...") == ".."
    assert truncate("abcdefgh", 5, "") == "abcde"


# ---------------------------------------------------------------------------
# global commands
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("word", sorted(CANCEL_WORDS))
def test_cancel_words(word: str) -> None:
    assert is_cancel(word)
    assert not is_back(word)
    assert not is_menu(word)


@pytest.mark.parametrize("word", sorted(BACK_WORDS))
def test_back_words(word: str) -> None:
    assert is_back(word)
    assert not is_cancel(word)
    assert not is_menu(word)


@pytest.mark.parametrize("word", sorted(MENU_WORDS))
def test_menu_words(word: str) -> None:
    assert is_menu(word)
    assert not is_cancel(word)
    assert not is_back(word)


@pytest.mark.parametrize(
    ("raw", "cancel", "back", "menu"),
    [
        ("ยกเลิก", True, False, False),
        ("  ยกเลิก  ", True, False, False),
        ("ยกเลิก\u200b", True, False, False),
        ("ยกเลิก!", True, False, False),
        ("ยกเลิกครับ", True, False, False),
        ("ยกเลิก ค่ะ", True, False, False),
        ("CANCEL", True, False, False),
        ("Cancel.", True, False, False),
        ("ＣＡＮＣＥＬ", True, False, False),
        ("เลิก", True, False, False),
        ("หยุด", False, False, False),
        ("หยุดเตือน", False, False, False),
        ("ยกเลิกการแจ้ง", False, False, False),
        ("ไม่ยกเลิก", False, False, False),
        ("ย้อนกลับ", False, True, False),
        ("กลับ", False, True, False),
        ("Back", False, True, False),
        ("ย้อน", False, True, False),
        ("กลับบ้าน", False, False, False),
        ("เมนู", False, False, True),
        ("เมนูหลัก", False, False, True),
        ("MENU", False, False, True),
        ("เมนูครับ", False, False, True),
        ("", False, False, False),
    ],
)
def test_commands(raw: str, cancel: bool, back: bool, menu: bool) -> None:
    assert (is_cancel(raw), is_back(raw), is_menu(raw)) == (cancel, back, menu)


def test_command_word_lists_are_disjoint_and_normalized() -> None:
    assert not CANCEL_WORDS & BACK_WORDS
    assert not CANCEL_WORDS & MENU_WORDS
    assert not BACK_WORDS & MENU_WORDS
    assert "หยุด" not in CANCEL_WORDS
    for word in CANCEL_WORDS | BACK_WORDS | MENU_WORDS:
        assert normalize(word).casefold() == word


# ---------------------------------------------------------------------------
# hypothesis properties
# ---------------------------------------------------------------------------

THAI_ALPHABET = st.sampled_from(
    [chr(c) for c in range(0x0E01, 0x0E5C) if unicodedata.category(chr(c)) != "Cn"]
    + [" ", "\u200b", "\u00a0", "1", "a", "Ａ", ".", ",", "/", ":"]
)
thai_text = st.text(THAI_ALPHABET, max_size=40)
any_text = st.one_of(st.text(), thai_text)


@given(any_text)
def test_normalize_idempotent(s: str) -> None:
    once = normalize(s)
    assert normalize(once) == once


@given(any_text)
def test_normalize_output_is_clean(s: str) -> None:
    out = normalize(s)
    assert out == out.strip()
    assert "  " not in out
    for ch in out:
        assert unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
        assert not ch.isspace() or ch == " "
        assert not ("\u0e50" <= ch <= "\u0e59")


@given(any_text)
def test_parsers_never_raise(s: str) -> None:
    parse_int(s)
    parse_int(s, min_value=0, max_value=100)
    parse_amount(s)
    parse_phone(s)
    parse_year(s, today=TODAY)
    parse_date(s, today=TODAY)
    parse_time(s)
    format_phone(s)
    is_cancel(s)
    is_back(s)
    is_menu(s)
    match_name(s, PROVINCES)


@given(
    st.lists(st.sampled_from(["1", "2", "0", ",", ".", " ", "-", "+", "/", ":", "พ", "ค", "ศ", "ม", "ย", "น"]), max_size=20)
)
def test_parsers_never_raise_on_digit_soup(chars: list[str]) -> None:
    s = "".join(chars)
    parse_int(s)
    parse_amount(s)
    parse_phone(s)
    parse_year(s, today=TODAY)
    parse_date(s, today=TODAY)
    parse_time(s)


@given(st.integers(min_value=0, max_value=10**12))
def test_parse_int_round_trips_formatted_numbers(n: int) -> None:
    assert parse_int(str(n)) == n
    assert parse_int(format_number(n, "th")) == n
    thai_digits = str(n).translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
    assert parse_int(thai_digits) == n


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_parse_amount_round_trips_format_baht(amount: Decimal) -> None:
    for locale in ("th", "en"):
        assert parse_amount(format_baht(amount, locale)) == amount


@given(
    st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)),
    st.sampled_from(["th", "en"]),
    st.booleans(),
)
def test_format_date_parse_date_round_trip(d: date, locale: str, long: bool) -> None:
    assert parse_date(format_date(d, locale, long=long), today=TODAY) == d


@given(st.dates(min_value=date(1957, 1, 1), max_value=date(2056, 12, 31)))
def test_numeric_two_digit_be_round_trip(d: date) -> None:
    be2 = (d.year + 543) % 100
    assert parse_date(f"{d.day}/{d.month}/{be2:02d}", today=TODAY) == d


@given(st.integers(min_value=1850, max_value=TODAY.year))
def test_parse_year_round_trip(y: int) -> None:
    assert parse_year(str(y), today=TODAY) == y
    assert parse_year(f"ค.ศ. {y}", today=TODAY) == y
    if y + 543 >= 2400:
        assert parse_year(str(y + 543), today=TODAY) == y
        assert parse_year(f"พ.ศ. {y + 543}", today=TODAY) == y


@given(st.sampled_from(["0812345678", "0912345678", "0612345678", "021234567", "053123456"]))
def test_format_phone_parse_phone_round_trip(p: str) -> None:
    assert parse_phone(format_phone(p)) == p


@given(
    st.times(),
    st.sampled_from(["{h:02d}:{m:02d}", "{h}.{m:02d}", "{h}.{m:02d} น.", "{h12}:{m:02d} {ap}"]),
)
def test_parse_time_round_trip(t: time, fmt: str) -> None:
    h12 = t.hour % 12 or 12
    ap = "pm" if t.hour >= 12 else "am"
    text = fmt.format(h=t.hour, m=t.minute, h12=h12, ap=ap)
    assert parse_time(text) == time(t.hour, t.minute)


@given(
    st.text(
        st.one_of(
            st.characters(),
            st.sampled_from(["น", "้", "ำ", "ี", "่", "เ", "😀", "\u200d", "\ufe0f", "👍"]),
        ),
        max_size=60,
    ),
    st.integers(min_value=0, max_value=70),
    st.sampled_from(["…", "...", "", "😀"]),
)
def test_truncate_properties(s: str, limit: int, ellipsis: str) -> None:
    out = truncate(s, limit, ellipsis)
    assert utf16_len(out) <= limit
    # The result encodes to valid UTF-16 (no half surrogate pair) whenever the
    # input did.
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in s + ellipsis):
        out.encode("utf-16")
    if utf16_len(s) <= limit:
        assert out == s
    elif ellipsis and utf16_len(ellipsis) <= limit:
        assert out.endswith(ellipsis)
        body = out[: len(out) - len(ellipsis)]
        assert s.startswith(body)
        # never ends right before a mark that belonged to the kept character
        if body:
            assert not thai._attaches_to_previous(s[len(body)]) or body[-1].isspace()


@settings(max_examples=50)
@given(st.lists(st.sampled_from([name for _, names in PROVINCES for name in names]), min_size=1, max_size=1))
def test_match_name_every_name_matches_its_own_key(names: list[str]) -> None:
    name = names[0]
    keys = [k for k, ns in PROVINCES if name in ns]
    assert match_name(name, PROVINCES) == keys


@pytest.mark.parametrize("text", ["เสร็จแล้ว", "เสร็จแล้วค่ะ", "Done", "พอแล้ว"])
def test_is_done(text):
    assert thai.is_done(text)


@pytest.mark.parametrize("text", ["ตกลง", "ใช่ครับ", "OK", "บันทึก"])
def test_is_yes(text):
    assert thai.is_yes(text)


def test_yes_and_done_are_whole_words():
    assert not thai.is_yes("ตกลงไม่ได้")
    assert not thai.is_done("ยังไม่เสร็จ")


@pytest.mark.parametrize("full, given", [
    ("นายสมชาย ใจดี", "สมชาย"), ("นางสาว สมศรี ใจงาม", "สมศรี"), ("นางมาลี", "มาลี"),
    ("สมศรี ใจดี", "สมศรี"), ("Mr. John Smith", "John"), ("คุณป้าแดง", "ป้าแดง"),
])
def test_given_name(full, given):
    assert thai.given_name(full) == given


def test_clean_text_keeps_lines_and_digits():
    raw = "ประชุม\u200b ๑๒ คน\r\n\r\n\r\n  วางแผนออม  ทรัพย์  \n"
    assert thai.clean_text(raw) == "ประชุม ๑๒ คน\n\nวางแผนออม ทรัพย์"
    assert thai.clean_text("\u200b\u200b") == ""


@given(st.text())
def test_clean_text_never_raises_and_is_idempotent(text):
    once = thai.clean_text(text)
    assert thai.clean_text(once) == once


@pytest.mark.parametrize("text", ["สมศรี ใจดี", "Somsri Jaidee", "กลุ่มออมทรัพย์บ้านแม่แฝก", "ปลูกป่า 20 ไร่",
                                  "หมู่ 5", "Li", "ก่อ", "ประชุม 🙏", "น้ำ", "李明"])
def test_has_words_takes_anything_written_in_letters(text):
    assert thai.has_words(text)


@pytest.mark.parametrize("text", ["", "   ", "555", "๕๕๕", "12345", "😀😀", "🙏", "!!!", "...", "-_-", "ๆๆๆๆ",
                                  "ฯฯ", "aaaaa", "AaAa", "กกกก", "ก", "ก่ก่ก่", "๑๒๓", "x", "😀 5 !", "ๆ ๆ",
                                  "\u0e31\u0e34\u0e48"])  # Thai vowel and tone marks alone (Mn)
def test_has_words_refuses_answers_that_say_nothing(text):
    assert not thai.has_words(text)


@given(st.text())
def test_has_words_needs_two_different_letters(text):
    letters = {ch.casefold() for ch in text if unicodedata.category(ch).startswith("L")} - {"ๆ", "ฯ"}
    assert thai.has_words(text) == (len(letters) >= 2)
