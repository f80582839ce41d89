"""Administrator actions: departments, invites, roles and removal of members (used by the `scorebot` CLI)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import Role
from bot.services import textnorm
from bot.services.onboarding import new_invite_code
from bot.storage.models import Department, DialogueState, Enterprise, Invite, Membership, User, utcnow


class AdminError(ValueError):
    """The administrator asked for something that does not exist or is not allowed."""


async def enterprise(session: AsyncSession, enterprise_id: int) -> Enterprise:
    ent = await session.get(Enterprise, enterprise_id)
    if ent is None:
        raise AdminError(f"no enterprise {enterprise_id}")
    return ent


async def add_department(session: AsyncSession, enterprise_id: int, name: str) -> Department:
    """A new department at the end of the list (or the existing one of that name, re-activated)."""
    await enterprise(session, enterprise_id)
    name = textnorm.clean(name).strip()[:100]
    if not name:
        raise AdminError("the department needs a name")
    dep = await session.scalar(
        select(Department).where(Department.enterprise_id == enterprise_id, Department.name == name)
    )
    if dep is None:
        count = len(list(await session.scalars(select(Department.id).where(Department.enterprise_id == enterprise_id))))
        dep = Department(enterprise_id=enterprise_id, name=name, position=count)
        session.add(dep)
    dep.active = True
    await session.flush()
    return dep


async def create_invite(session: AsyncSession, enterprise_id: int, role: str, days: int | None = None) -> Invite:
    """A new invite code for a role, optionally expiring after `days`."""
    await enterprise(session, enterprise_id)
    Role(role)
    invite = Invite(
        enterprise_id=enterprise_id,
        code=new_invite_code(),
        role=role,
        expires_at=utcnow() + timedelta(days=days) if days else None,
    )
    session.add(invite)
    await session.flush()
    return invite


async def revoke_invite(session: AsyncSession, code: str) -> Invite:
    invite = await session.scalar(select(Invite).where(Invite.code == code))
    if invite is None:
        raise AdminError("no such invite")
    invite.revoked_at = invite.revoked_at or utcnow()
    return invite


async def members(session: AsyncSession, enterprise_id: int) -> list[tuple[Membership, User]]:
    await enterprise(session, enterprise_id)
    rows = await session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.enterprise_id == enterprise_id)
        .order_by(Membership.id)
    )
    return list(rows.tuples())


async def _membership(session: AsyncSession, enterprise_id: int, user_id: int) -> Membership:
    m = await session.scalar(
        select(Membership).where(Membership.enterprise_id == enterprise_id, Membership.user_id == user_id)
    )
    if m is None:
        raise AdminError(f"user {user_id} is not a member of enterprise {enterprise_id}")
    return m


async def set_role(session: AsyncSession, enterprise_id: int, user_id: int, role: str) -> Membership:
    m = await _membership(session, enterprise_id, user_id)
    m.role = Role(role).value
    return m


async def remove_member(session: AsyncSession, enterprise_id: int, user_id: int) -> Membership:
    """Deactivates the membership: the person's old buttons stop working, their ideas stay."""
    m = await _membership(session, enterprise_id, user_id)
    m.active, m.removed_at = False, utcnow()
    state = await session.get(DialogueState, user_id)
    if state is not None and state.enterprise_id == enterprise_id:
        state.step, state.draft, state.awaiting, state.awaiting_idea_id = "idle", {}, None, None
        state.nonce += 1
    return m
