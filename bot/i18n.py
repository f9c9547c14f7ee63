"""Translation: code names a message id, the Thai and English catalogs hold the words.

Catalogs are read from the .po files and compiled in memory when first used,
so no compiled .mo binary is committed or can drift from its source.
Every event sets the locale of the person (or group) it speaks to, once, and
everything rendered while handling it uses that locale.
"""
from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from .config import SUPPORTED_LOCALES

_current: ContextVar[str] = ContextVar("locale", default="th")


def N_(message_id: str) -> str:
    """Mark a message id for extraction without translating it yet (flow prompts, labels)."""
    return message_id


@cache
def catalog(locale: str):
    with resources.files("bot").joinpath(f"locales/{locale}/LC_MESSAGES/messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


@cache
def translations(locale: str) -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog(locale))
    buffer.seek(0)
    return Translations(buffer)


def current_locale() -> str:
    return _current.get()


@contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    chosen = locale if locale in SUPPORTED_LOCALES else "th"
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def set_locale(locale: str | None) -> None:
    """Set the locale for the rest of this event (the webhook resets it per event)."""
    _current.set(locale if locale in SUPPORTED_LOCALES else "th")


def _(message_id: str, /, **params: object) -> str:
    """Translate a message id into the current locale and fill its {named} fields."""
    text = translations(_current.get()).gettext(message_id)
    return text.format(**params) if params else text


def ngettext(singular_id: str, plural_id: str, n: int, /, **params: object) -> str:
    text = translations(_current.get()).ngettext(singular_id, plural_id, n)
    return text.format(n=n, **params)


def in_both_languages(message_id: str, /) -> tuple[str, ...]:
    """A message in every catalog, so a typed word matches whichever language the person uses."""
    found = []
    for locale in SUPPORTED_LOCALES:
        with use_locale(locale):
            found.append(_(message_id))
    return tuple(found)
