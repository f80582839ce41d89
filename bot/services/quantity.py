"""Reads a rough quantity from what a worker types ("unos 20 litros por día", "1,5 кВт·ч", "3 hours a week")."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bot.services import textnorm

_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:[ .,\u00a0\u202f]\d{3})+|\d+)(?:[.,](\d+))?")
# unit id -> folded words that name it in es, ru or en (matched against the words after the number)
UNITS: dict[str, tuple[str, ...]] = {
    "kwh": ("kwh", "kw", "квт", "квтч", "кв"),
    "m3": ("m3", "m³", "cubo", "cubos", "cubico", "cubicos", "куб", "кубов", "куба", "кубометр", "кубометров"),
    "l": ("l", "lt", "lts", "litro", "litros", "liter", "liters", "litre", "litres", "л", "литр", "литра", "литров"),
    "kg": ("kg", "kilo", "kilos", "kilogramo", "kilogramos", "кг", "килограмм", "кило"),
    "t": ("t", "ton", "tons", "tonne", "tonnes", "tonelada", "toneladas", "т", "тонн", "тонна", "тонны"),
    "h": ("h", "hr", "hrs", "hour", "hours", "hora", "horas", "ч", "час", "часа", "часов"),
    "min": ("min", "mins", "minute", "minutes", "minuto", "minutos", "мин", "минут", "минуты"),
    "pcs": ("pcs", "pieces", "piece", "units", "pieza", "piezas", "unidades", "шт", "штук", "штуки"),
    "pct": ("%", "percent", "porciento", "процентов", "процента"),
    "money": ("bs", "bob", "usd", "dolares", "dollars", "$", "сом", "сомов", "kgs", "руб", "рублей"),
}
_UNIT_BY_WORD = {w: unit for unit, ws in UNITS.items() for w in ws}
# Small numbers as people write them ("una hora", "двадцать литров", "half an hour"), folded.
NUMBER_WORDS: dict[str, float] = {
    **dict.fromkeys(("un", "una", "uno", "one", "a", "an", "один", "одна", "одно", "одну"), 1.0),
    **dict.fromkeys(("dos", "two", "два", "две"), 2.0),
    **dict.fromkeys(("tres", "three", "три"), 3.0),
    **dict.fromkeys(("cuatro", "four", "четыре"), 4.0),
    **dict.fromkeys(("cinco", "five", "пять"), 5.0),
    **dict.fromkeys(("seis", "six", "шесть"), 6.0),
    **dict.fromkeys(("siete", "seven", "семь"), 7.0),
    **dict.fromkeys(("ocho", "eight", "восемь"), 8.0),
    **dict.fromkeys(("nueve", "nine", "девять"), 9.0),
    **dict.fromkeys(("diez", "ten", "десять"), 10.0),
    **dict.fromkeys(("quince", "fifteen", "пятнадцать"), 15.0),
    **dict.fromkeys(("veinte", "twenty", "двадцать"), 20.0),
    **dict.fromkeys(("treinta", "thirty", "тридцать"), 30.0),
    **dict.fromkeys(("cincuenta", "fifty", "пятьдесят"), 50.0),
    **dict.fromkeys(("cien", "ciento", "hundred", "сто"), 100.0),
    **dict.fromkeys(("mil", "thousand", "тысяча", "тысячу"), 1000.0),
    **dict.fromkeys(("media", "medio", "half", "пол", "половина"), 0.5),
}


@dataclass(frozen=True, slots=True)
class Quantity:
    value: float
    unit: str | None  # one of UNITS, or None when the worker named none we know


def _to_float(whole: str, frac: str | None) -> float:
    digits = re.sub(r"[ .,\u00a0\u202f]", "", whole)
    return float(f"{digits}.{frac}") if frac else float(digits)


def parse(text: str) -> Quantity | None:
    """The first number in the text and the unit named right after it; None when there is no number."""
    if not text:
        return None
    folded = textnorm.fold(text).replace("%", " % ")
    m = _NUMBER.search(folded)
    if not m:
        return _from_words(folded)
    whole, frac = m.group(1), m.group(2)
    if frac is None and re.fullmatch(r"\d{1,3}[.,]\d{3}", whole) is None and re.search(r"[ .,]", whole) is None:
        value = float(whole)
    elif frac is None and re.fullmatch(r"\d{1,3}[.,]\d{3}", whole):
        # "1,500" or "1.500": a thousands separator in every language we speak, unless it reads as a decimal
        value = _to_float(whole, None)
    else:
        value = _to_float(whole, frac)
    if not math.isfinite(value) or value > 1e12:
        return None
    after = folded[m.end() :]
    unit = None
    for word in re.findall(r"[^\W_]+|%|\$|m³", after)[:3]:
        unit = _UNIT_BY_WORD.get(word) or _UNIT_BY_WORD.get(textnorm._strip_accents_latin(word))
        if unit:
            break
    if unit is None and "$" in folded[: m.start()]:
        unit = "money"
    return Quantity(value, unit)


def _from_words(folded: str) -> Quantity | None:
    """A number written as a word, with the unit after it ("una hora al dia", "полчаса" -> 0.5 h)."""
    words = re.findall(r"[^\W_]+", folded)
    for i, word in enumerate(words):
        plain = textnorm._strip_accents_latin(word)
        if plain.startswith("пол") and plain[3:] in ("часа", "литра", "смены"):  # полчаса, поллитра
            return Quantity(0.5, _UNIT_BY_WORD.get(plain[3:]))
        value = NUMBER_WORDS.get(plain)
        if value is None:
            continue
        unit = None
        for after in words[i + 1 : i + 3]:
            unit = _UNIT_BY_WORD.get(after) or _UNIT_BY_WORD.get(textnorm._strip_accents_latin(after))
            if unit:
                break
        if unit or plain not in ("a", "an", "un", "una", "uno"):  # "a" alone is no quantity
            return Quantity(value, unit)
    return None
