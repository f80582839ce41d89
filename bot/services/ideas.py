"""Recording ideas: turn a confirmed draft into an idea with its enterprise number and a `created` event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import Area, Status
from bot.services import textnorm
from bot.storage.models import Idea
from bot.storage.repo import Enterprises, Ideas

MAX_PROBLEM = 1500
MAX_IDEA = 1500
MAX_BENEFITS = 600
MAX_QUANTITY_TEXT = 200


class DraftIncomplete(ValueError):
    """The draft lacks something an idea needs (a modified client skipped a step)."""


@dataclass(frozen=True, slots=True)
class Submitted:
    idea_id: int
    number: int


async def submit(
    session: AsyncSession, enterprise_id: int, author_id: int, draft: dict[str, Any], lang: str, library_version: str
) -> Submitted:
    """Records the confirmed draft as a new idea of the enterprise; returns its number for the receipt."""
    area = draft.get("area")
    problem = textnorm.clean(draft.get("problem") or "")
    idea_text = textnorm.clean(draft.get("idea") or "")
    if area not in {a.value for a in Area} or not problem.strip() or not idea_text.strip():
        raise DraftIncomplete("area, problem and idea are required")
    benefits = ", ".join(draft.get("benefits") or [])
    note = textnorm.clean(draft.get("benefits_note") or "")
    number = await Enterprises(session).next_idea_number(enterprise_id)
    idea = Idea(
        enterprise_id=enterprise_id,
        number=number,
        author_id=author_id,
        area=area,
        department_id=draft.get("department_id"),
        problem=problem[:MAX_PROBLEM],
        idea=idea_text[:MAX_IDEA],
        benefits=(benefits + ("; " if benefits and note else "") + note)[:MAX_BENEFITS],
        quantity=draft.get("quantity"),
        quantity_unit=draft.get("quantity_unit"),
        quantity_text=(textnorm.clean(draft.get("quantity_text") or "")[:MAX_QUANTITY_TEXT] or None),
        photo_file_id=draft.get("photo_file_id"),
        photo_unique_id=draft.get("photo_unique_id"),
        anonymous=bool(draft.get("anonymous")),
        practice_id=draft.get("practice_id"),
        library_version=library_version,
        lang=lang,
        status=Status.SUBMITTED,
    )
    await Ideas(session).add(idea, actor_id=author_id)
    return Submitted(idea.id, number)
