"""What bot.thai gains from (and must guard against in) the libraries it delegates to."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.thai import format_phone, normalize, parse_phone, parse_time


def test_importing_thai_writes_nothing_to_home(tmp_path: Path) -> None:
    # pythainlp would create ~/pythainlp-data (and could download corpora) unless bot.thai
    # switches it to read-only, offline mode before importing it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHAINLP")}
    env["HOME"] = str(tmp_path)
    code = "import bot.thai as t; t.normalize('น\u0e4d\u0e32'); t.parse_int('ห้า'); t.parse_time('ตีสาม')"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=Path(__file__).parents[1])
    assert list(tmp_path.iterdir()) == []


def test_toll_free_and_premium_numbers_are_not_personal_phones() -> None:
    # libphonenumber knows 1800 numbers are toll-free: nobody registers one as their phone.
    assert parse_phone("1800 123 456") is None
    assert format_phone("1800123456") == "1800123456"


def test_dangling_tone_mark_is_dropped() -> None:
    # A tone mark typed before any consonant (a common slip) is invisible junk.
    assert normalize("\u0e4bตาก") == "ตาก"
    assert normalize("คำ \u0e48ที่สอง") == "คำ ที่สอง"


def test_spoken_hours_read_number_words() -> None:
    assert parse_time("สิบเอ็ดโมง").hour == 11  # type: ignore[union-attr]
    assert parse_time("ตีสาม").hour == 3  # type: ignore[union-attr]
    assert parse_time("บ่ายนึงโมง").hour == 13  # type: ignore[union-attr]
    assert parse_time("ตีร้อย") is None
