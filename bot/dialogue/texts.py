"""Labels the dialogue shows: areas, benefits, cost levels, statuses (marked for translation, translated on use)."""

from __future__ import annotations

from bot.i18n import N_, _

AREA_LABELS = {
    "energy": ("⚡", N_("Energy")),
    "water": ("💧", N_("Water")),
    "materials": ("📦", N_("Materials")),
    "chemicals": ("🧪", N_("Chemicals")),
    "waste": ("🗑", N_("Waste")),
    "emissions": ("🏭", N_("Emissions, dust and fumes")),
    "safety": ("🦺", N_("Safety and working conditions")),
}

BENEFIT_LABELS = {
    "energy": N_("Less energy"),
    "water": N_("Less water"),
    "material": N_("Less material"),
    "waste": N_("Less waste"),
    "safety": N_("Safer work"),
    "time": N_("Saves time"),
    "money": N_("Saves money"),
    "quality": N_("Better quality"),
}

COST_LABELS = {
    "none": N_("no cost"),
    "low": N_("low cost"),
    "medium": N_("medium cost"),
    "high": N_("high cost"),
}

STATUS_LABELS = {
    "submitted": N_("submitted"),
    "in_review": N_("in review"),
    "needs_info": N_("needs information"),
    "accepted": N_("accepted"),
    "in_progress": N_("in progress"),
    "implemented": N_("implemented"),
    "rejected": N_("rejected"),
    "withdrawn": N_("withdrawn"),
}

LANGUAGE_NAMES = {"es": "Español", "ru": "Русский", "en": "English"}


def area_label(area: str, with_icon: bool = True) -> str:
    """The translated name of an area."""
    icon, label = AREA_LABELS.get(area, ("", area))
    return f"{icon} {_(label)}" if with_icon and icon else _(label)


def benefit_label(code: str) -> str:
    return _(BENEFIT_LABELS.get(code, code))


def cost_label(code: str) -> str:
    return _(COST_LABELS.get(code, code))


def status_label(code: str) -> str:
    return _(STATUS_LABELS.get(code, code))


def short(text: str, limit: int) -> str:
    """One line of at most `limit` characters, with an ellipsis when cut (button labels, list lines)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
