"""Every message the code can show has a translation in es and ru with the same placeholders; plurals are right."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot import i18n

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def code_messages() -> set[str | tuple[str, str]]:
    found = set()
    for _file, _line, msg, _comments, _ctx in extract_from_dir(
        ROOT / "bot", method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        found.add(msg if isinstance(msg, str) else tuple(msg))
    return found


@pytest.mark.parametrize("lang", ["es", "ru"])
def test_every_message_is_translated_with_the_same_placeholders(lang):
    with open(ROOT / "locales" / lang / "LC_MESSAGES" / "bot.po", "rb") as fh:
        catalog = read_po(fh, locale=lang)
    problems = []
    for msg in code_messages():
        key = msg[0] if isinstance(msg, tuple) else msg
        entry = catalog.get(key)
        if entry is None or not entry.string or entry.fuzzy:
            problems.append(f"not translated: {msg!r}")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = i18n.placeholders(key)
        if lang == "ru" and isinstance(msg, tuple):
            assert len(strings) == 3, f"Russian needs 3 plural forms: {msg!r}"
        for s in strings:
            if not s:
                problems.append(f"empty plural form: {msg!r}")
            elif i18n.placeholders(s) != wanted:
                problems.append(f"placeholders differ: {key!r} -> {s!r}")
    assert problems == [], "\n".join(problems)


def test_plurals_and_numbers_per_language():
    forms = {}
    for lang in ("en", "es", "ru"):
        with i18n.use(lang):
            forms[lang] = [
                i18n.ngettext("You have sent {count} idea:", "You have sent {count} ideas:", n).format(count=n)
                for n in (1, 2, 5, 21)
            ]
            forms[lang + "_num"] = i18n.number(1234.5)
    assert forms["en"] == [
        "You have sent 1 idea:",
        "You have sent 2 ideas:",
        "You have sent 5 ideas:",
        "You have sent 21 ideas:",
    ]
    ru = forms["ru"]
    assert "1 идею" in ru[0] and "2 идеи" in ru[1] and "5 идей" in ru[2] and "21 идею" in ru[3]
    assert "idea" in forms["es"][0] and "ideas" in forms["es"][1]
    assert forms["en_num"] == "1,234.5"
    assert forms["es_num"] == "1.234,5"
    assert forms["ru_num"] == "1\xa0234,5"


def test_dates_are_shown_in_the_enterprise_time_zone():
    from datetime import UTC, datetime

    late = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)  # still the 24th in La Paz (UTC-4)
    with i18n.use("es"):
        assert "24" in i18n.date(late, "America/La_Paz")
    with i18n.use("ru"):
        assert "25" in i18n.date(late, "Asia/Bishkek")
        assert "нояб" in i18n.date(late, "Asia/Bishkek")


def test_the_catalogues_load_from_the_installed_package_without_compiled_files():
    assert not list((ROOT / "locales").rglob("*.mo"))
    with i18n.use("ru"):
        assert i18n._("Cancel") != "Cancel"
