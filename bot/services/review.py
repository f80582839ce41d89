"""The review loop: team leads decide on ideas, ask for information, comment and assign; submitters withdraw,
answer, comment and support. Every action is authorised here against the actor's current role and enterprise,
never trusted from button data, and every change is written to the idea's event log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import lifecycle
from bot.domain.enums import Role, Status
from bot.services import textnorm
from bot.storage.models import Department, Idea, IdeaEvent, Membership, SentOnce, Support, User, utcnow

MAX_COMMENT = 1500


class NotAllowed(Exception):
    """The actor may not do this (wrong role, another enterprise, removed, not the author)."""


class Conflict(Exception):
    """The idea changed in the meantime (another lead decided first); `status` is what it is now."""

    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


@dataclass(frozen=True, slots=True)
class Decision:
    idea: Idea
    from_status: str
    to_status: str


async def idea_for_lead(session: AsyncSession, user_id: int, idea_id: int) -> tuple[Idea, Membership]:
    """The idea, if the user is an active team lead or administrator of its enterprise; else NotAllowed."""
    idea = await session.get(Idea, idea_id)
    if idea is None:
        raise NotAllowed("no such idea")
    member = await session.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.enterprise_id == idea.enterprise_id)
    )
    if member is None or not member.active or member.role not in lifecycle.REVIEWERS:
        raise NotAllowed("not a team lead of this enterprise")
    return idea, member


async def idea_for_author(session: AsyncSession, user_id: int, idea_id: int) -> Idea:
    """The idea, if the user wrote it and is still an active member of its enterprise; else NotAllowed."""
    idea = await session.get(Idea, idea_id)
    if idea is None or idea.author_id != user_id:
        raise NotAllowed("not the author")
    member = await session.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.enterprise_id == idea.enterprise_id)
    )
    if member is None or not member.active:
        raise NotAllowed("no longer a member")
    return idea


async def _move(session: AsyncSession, idea: Idea, actor_id: int, target: str, text: str | None) -> Decision:
    """Moves the idea if it is still in the status we read (one atomic UPDATE: two leads cannot both win)."""
    current = idea.status
    now = utcnow()
    values = {"status": target, "updated_at": now}
    if target in (Status.ACCEPTED, Status.REJECTED) and idea.decided_at is None:
        values["decided_at"] = now
    if target == Status.REJECTED:
        values["reject_reason"] = text
    result = await session.execute(
        update(Idea)
        .where(Idea.id == idea.id, Idea.status == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        await session.refresh(idea)
        raise Conflict(idea.status)
    session.add(
        IdeaEvent(idea_id=idea.id, actor_id=actor_id, kind="status", from_status=current, to_status=target, text=text)
    )
    await session.flush()
    await session.refresh(idea)
    return Decision(idea, current, target)


async def decide(
    session: AsyncSession, lead_id: int, idea_id: int, target: str, text: str | None = None, expected: str | None = None
) -> Decision:
    """A team lead moves an idea to `target` (with a reason for a rejection, a question for needs-info).

    `expected` is the status the lead saw when deciding: if another lead changed it meanwhile, nothing happens and
    Conflict says what it is now (so "reject" pressed on a card that another lead just accepted does not override)."""
    idea, _member = await idea_for_lead(session, lead_id, idea_id)
    if (expected is not None and idea.status != expected) or not lifecycle.lead_may(idea.status, target):
        raise Conflict(idea.status)
    text = textnorm.clean(text or "").strip()[:MAX_COMMENT] or None
    if target in (Status.REJECTED, Status.NEEDS_INFO) and not text:
        raise ValueError("a reason or question is needed")
    return await _move(session, idea, lead_id, target, text)


async def withdraw(session: AsyncSession, author_id: int, idea_id: int) -> Decision:
    """The submitter withdraws an idea the team has not decided on yet."""
    idea = await idea_for_author(session, author_id, idea_id)
    if not lifecycle.author_may_withdraw(idea.status):
        raise Conflict(idea.status)
    return await _move(session, idea, author_id, Status.WITHDRAWN, None)


async def answer(session: AsyncSession, author_id: int, idea_id: int, text: str) -> Idea:
    """The submitter answers a lead's question: recorded, and the idea goes back to review."""
    idea = await idea_for_author(session, author_id, idea_id)
    text = textnorm.clean(text).strip()[:MAX_COMMENT]
    session.add(IdeaEvent(idea_id=idea.id, actor_id=author_id, kind="answer", text=text))
    if idea.status == Status.NEEDS_INFO:
        await _move(session, idea, author_id, Status.IN_REVIEW, None)
    await session.flush()
    return idea


async def comment(session: AsyncSession, actor_id: int, idea_id: int, text: str, as_lead: bool) -> Idea:
    """A comment on an idea, from a lead to the submitter or from the submitter to the team."""
    if as_lead:
        idea, _m = await idea_for_lead(session, actor_id, idea_id)
    else:
        idea = await idea_for_author(session, actor_id, idea_id)
    text = textnorm.clean(text).strip()[:MAX_COMMENT]
    session.add(
        IdeaEvent(idea_id=idea.id, actor_id=actor_id, kind="comment" if as_lead else "author_comment", text=text)
    )
    await session.flush()
    return idea


async def assign(session: AsyncSession, lead_id: int, idea_id: int, member_user_id: int) -> tuple[Idea, User]:
    """A lead gives an idea to an active member of the same enterprise to carry out."""
    idea, _m = await idea_for_lead(session, lead_id, idea_id)
    target = await session.scalar(
        select(Membership).where(
            Membership.user_id == member_user_id,
            Membership.enterprise_id == idea.enterprise_id,
            Membership.active.is_(True),
        )
    )
    if target is None:
        raise NotAllowed("not a member of this enterprise")
    idea.assignee_id = member_user_id
    idea.updated_at = utcnow()
    session.add(IdeaEvent(idea_id=idea.id, actor_id=lead_id, kind="assign", text=str(member_user_id)))
    await session.flush()
    return idea, await session.get(User, member_user_id)


async def support(session: AsyncSession, user_id: int, idea_id: int) -> tuple[Idea, bool]:
    """A member supports (+1) an open idea of their own enterprise; once per person; not their own idea."""
    idea = await session.get(Idea, idea_id)
    if idea is None:
        raise NotAllowed("no such idea")
    member = await session.scalar(
        select(Membership).where(
            Membership.user_id == user_id, Membership.enterprise_id == idea.enterprise_id, Membership.active.is_(True)
        )
    )
    if member is None or idea.status not in lifecycle.OPEN:
        raise NotAllowed("cannot support this idea")
    if idea.author_id == user_id:
        return idea, False
    exists = await session.get(Support, (idea.id, user_id))
    if exists is not None:
        return idea, False
    session.add(Support(idea_id=idea.id, user_id=user_id))
    await session.flush()
    await session.execute(update(Idea).where(Idea.id == idea.id).values(support_count=Idea.support_count + 1))
    session.add(IdeaEvent(idea_id=idea.id, actor_id=user_id, kind="support"))
    await session.flush()
    await session.refresh(idea)
    return idea, True


async def supporters(session: AsyncSession, idea: Idea) -> list[int]:
    """The users who support an idea and are still active members of its enterprise (not its author)."""
    rows = await session.scalars(
        select(Support.user_id)
        .join(
            Membership,
            (Membership.user_id == Support.user_id) & (Membership.enterprise_id == idea.enterprise_id),
        )
        .where(Support.idea_id == idea.id, Membership.active.is_(True), Support.user_id != idea.author_id)
        .order_by(Support.created_at, Support.user_id)
    )
    return list(rows)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: str = "open"  # "open" (waiting for the team), "all", or one status
    area: str | None = None
    department_id: int | None = None


async def queue(session: AsyncSession, enterprise_id: int, flt: QueueFilter) -> list[Idea]:
    """The enterprise's ideas for review, oldest first."""
    q = select(Idea).where(Idea.enterprise_id == enterprise_id)
    if flt.status == "open":
        q = q.where(Idea.status.in_([s.value for s in lifecycle.OPEN]))
    elif flt.status != "all":
        q = q.where(Idea.status == flt.status)
    if flt.area:
        q = q.where(Idea.area == flt.area)
    if flt.department_id:
        q = q.where(Idea.department_id == flt.department_id)
    return list(await session.scalars(q.order_by(Idea.created_at, Idea.id)))


async def department_name(session: AsyncSession, department_id: int | None) -> str | None:
    if department_id is None:
        return None
    dep = await session.get(Department, department_id)
    return dep.name if dep else None


async def reviewers(session: AsyncSession, enterprise_id: int) -> list[Membership]:
    """Active team leads and administrators of an enterprise."""
    rows = await session.scalars(
        select(Membership).where(
            Membership.enterprise_id == enterprise_id,
            Membership.active.is_(True),
            Membership.role.in_([Role.LEAD.value, Role.ADMIN.value]),
        )
    )
    return list(rows)


async def waiting_too_long(session: AsyncSession, now: datetime, days: int) -> list[Idea]:
    """Ideas still waiting for the team (submitted, in review) with no change for `days` days."""
    cutoff = now - timedelta(days=days)
    rows = await session.scalars(
        select(Idea)
        .where(Idea.status.in_([Status.SUBMITTED.value, Status.IN_REVIEW.value]), Idea.updated_at < cutoff)
        .order_by(Idea.enterprise_id, Idea.number)
    )
    return list(rows)


async def claim_once(session: AsyncSession, key: str) -> bool:
    """True for exactly one caller per key, across processes (the insert of a primary key decides)."""
    try:
        async with session.begin_nested():
            await session.execute(insert(SentOnce).values(key=key[:120], created_at=utcnow()))
        return True
    except IntegrityError:
        return False
