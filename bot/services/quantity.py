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
    "pct": ("%", "percent", "por", "porciento", "процентов", "процента"),
    "money": ("bs", "bob", "usd", "dolares", "dollars", "$", "сом", "сомов", "kgs", "руб", "рублей"),
}
_UNIT_BY_WORD = {w: unit for unit, ws in UNITS.items() for w in ws}


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
        return None
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
