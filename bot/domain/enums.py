"""The product's fixed vocabularies: areas, sectors, cost levels, roles, statuses, languages."""

from __future__ import annotations

from enum import StrEnum


class Area(StrEnum):
    """Where the waste is; the identifiers are a public interface (PRODUCT.md)."""

    ENERGY = "energy"
    WATER = "water"
    MATERIALS = "materials"
    CHEMICALS = "chemicals"
    WASTE = "waste"
    EMISSIONS = "emissions"
    SAFETY = "safety"


class Sector(StrEnum):
    """Sectors of the SME pilots; `general` means the practice fits any workplace."""

    GENERAL = "general"
    FOOD = "food"  # food processing and bakery
    DAIRY_MEAT = "dairy_meat"
    BEVERAGES = "beverages"
    TEXTILE = "textile"  # textile and garment
    LEATHER = "leather"
    PRINTING = "printing"
    METALWORK = "metalwork"
    FURNITURE = "furniture"  # furniture and woodwork
    CONSTRUCTION = "construction"  # bricks and construction materials
    PLASTICS = "plastics"
    HOSPITALITY = "hospitality"  # hotels and laundries
    VEHICLE_REPAIR = "vehicle_repair"
    AGRICULTURE = "agriculture"  # agriculture and packing houses


class Cost(StrEnum):
    """Rough cost of putting a practice in place."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Lang(StrEnum):
    """The languages the product speaks."""

    EN = "en"
    ES = "es"
    RU = "ru"


LANGS: tuple[str, ...] = tuple(lang.value for lang in Lang)


class Role(StrEnum):
    """A membership's role in one enterprise."""

    WORKER = "worker"
    LEAD = "lead"  # member of the enterprise improvement team who reviews ideas
    ADMIN = "admin"  # the enterprise's coordinator or a SCORE trainer


class Status(StrEnum):
    """The life of an idea (PRODUCT.md, "Statuses")."""

    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    NEEDS_INFO = "needs_info"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
