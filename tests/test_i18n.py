"""Every message id the code uses has Thai and English wording, with the same placeholders."""
from __future__ import annotations

import string
from pathlib import Path

from babel.messages.extract import extract_from_dir

from bot import i18n

ROOT = Path(__file__).parent.parent / "bot"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def used_ids() -> set[str]:
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")],
            keywords=KEYWORDS):
        ids.update([message] if isinstance(message, str) else [m for m in message if m])
    return ids


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_id_is_translated_in_both_languages():
    ids = used_ids()
    assert len(ids) > 100
    for locale in ("th", "en"):
        catalog = i18n.catalog(locale)
        missing = sorted(i for i in ids if not (catalog.get(i) and catalog.get(i).string))
        assert not missing, f"{locale} lacks: {missing}"


def test_placeholders_match_between_languages():
    th, en = i18n.catalog("th"), i18n.catalog("en")
    for message in th:
        if message.id and en.get(message.id):
            assert fields(message.string) == fields(en.get(message.id).string), message.id


def test_no_orphan_ids_in_catalogs():
    ids = used_ids()
    for locale in ("th", "en"):
        orphans = sorted(m.id for m in i18n.catalog(locale) if m.id and m.id not in ids)
        assert not orphans, f"{locale} has unused ids: {orphans}"


def test_locale_switches_per_use():
    with i18n.use_locale("en"):
        assert i18n._("common.cancel") == "Cancel"
    with i18n.use_locale("th"):
        assert i18n._("common.cancel") == "ยกเลิก"
