"""Languages: the locale of the current update (a ContextVar), gettext catalogues, Babel numbers and dates.

Catalogues are read from the `.po` files at start-up and compiled in memory, so a checkout, an editable install and a
regular install all translate without a separate compile step (and no `.mo` file is ever committed).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, tzinfo
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from bot.domain.enums import LANGS

FALLBACK = "en"
DOMAIN = "bot"
# Client languages of the region that are better served in Russian than in English (PRODUCT.md).
RUSSIAN_SERVED = frozenset({"ru", "ky", "kk", "uz", "tg", "uk", "be"})

_current: ContextVar[str] = ContextVar("lang", default=FALLBACK)


def locales_dir() -> Path:
    """The installed `locales` folder."""
    return Path(str(resources.files("locales")))


def pick_language(stored: str | None, client_code: str | None) -> str:
    """The language to speak: the stored choice, else the client's language_code, else English. Never raises."""
    if stored in LANGS:
        return stored
    if not client_code or not isinstance(client_code, str):
        return FALLBACK
    try:
        language = Locale.parse(client_code.strip().replace("_", "-"), sep="-").language
    except (UnknownLocaleError, ValueError, TypeError):
        language = client_code.strip().split("-")[0].split("_")[0].lower()
    if language in LANGS:
        return language
    if language in RUSSIAN_SERVED:
        return "ru"
    return FALLBACK


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of one language (English is the source language: identity, with English plurals)."""
    po = locales_dir() / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == FALLBACK or not po.is_file():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def current() -> str:
    """The language of the update being handled."""
    return _current.get()


def set_current(lang: str) -> None:
    """Sets the language for the rest of this task (each update runs in its own task)."""
    _current.set(lang if lang in LANGS else FALLBACK)


@contextmanager
def use(lang: str) -> Iterator[None]:
    """Speaks `lang` inside the block (e.g. to notify another user in their own language)."""
    token = _current.set(lang if lang in LANGS else FALLBACK)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """`message` in the current language."""
    return translations(current()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The right plural form for `n` in the current language (Russian has three)."""
    return translations(current()).ungettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a string for extraction; translated later with `_`."""
    return message


_ = gettext


def number(value: float | int | Decimal, digits: int = 2) -> str:
    """A number as people of the current language write it (1 234,5 / 1.234,5 / 1,234.5)."""
    fmt = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=fmt, locale=current())


def zone(name: str | None) -> tzinfo:
    """A time zone by name; UTC when unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def date(value: datetime, tz: str | None = None) -> str:
    """A date in the enterprise's time zone, in the current language ("24 nov 2026", "24 нояб. 2026 г.")."""
    return _babel_date(value.astimezone(zone(tz)), format="medium", locale=current())


def datetime_short(value: datetime, tz: str | None = None) -> str:
    """Date and time in the enterprise's time zone, in the current language."""
    return _babel_datetime(value.astimezone(zone(tz)), format="short", tzinfo=zone(tz), locale=current())


_PLACEHOLDER = re.compile(r"\{[a-zA-Z_][a-zA-Z0-9_]*\}")


def placeholders(text: str) -> set[str]:
    """The `{name}` placeholders of a message (a translation must keep exactly these)."""
    return set(_PLACEHOLDER.findall(text))
