"""A good practice from the library, as the rest of the product sees it."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.enums import Area, Cost, Sector


@dataclass(frozen=True, slots=True)
class PracticeText:
    """One language's version of a practice."""

    title: str
    do: str  # what to do, 2-5 concrete sentences
    why: str  # why it pays
    keywords: tuple[str, ...]  # search words, synonyms, local words, misspellings
    safety: str = ""  # co-benefits for safety and working conditions, if any


@dataclass(frozen=True, slots=True)
class Saving:
    """A typical saving or effect, with the public source of its figure."""

    text: dict[str, str]  # lang -> sentence
    source: str


@dataclass(frozen=True, slots=True)
class Practice:
    """A curated good practice: area, sectors, cost, and its text in every language."""

    id: str
    area: Area
    sectors: tuple[Sector, ...]
    cost: Cost
    texts: dict[str, PracticeText]
    savings: tuple[Saving, ...] = field(default=())
    file: str = ""  # where it was loaded from, for messages

    def text(self, lang: str) -> PracticeText:
        """The text in `lang`, falling back to English."""
        return self.texts.get(lang) or self.texts["en"]
