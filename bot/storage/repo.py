"""Small repositories, one per aggregate; every function takes the session of the current update."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    Department,
    DialogueState,
    Enterprise,
    Idea,
    IdeaEvent,
    Invite,
    Membership,
    User,
    utcnow,
)


class Users:
    """Telegram users the bot has met."""

    def __init__(self, session: AsyncSession):
        self.s = session

    async def upsert(
        self, user_id: int, first_name: str, last_name: str | None, username: str | None, client_lang: str | None
    ) -> User:
        """The user row, created or refreshed with what Telegram says about them now."""
        user = await self.s.get(User, user_id)
        if user is None:
            user = User(
                id=user_id, first_name=first_name[:128], last_name=last_name, username=username, client_lang=client_lang
            )
            self.s.add(user)
            await self.s.flush()
            return user
        user.first_name = first_name[:128]
        user.last_name = last_name[:128] if last_name else None
        user.username = username[:64] if username else None
        user.client_lang = client_lang[:35] if client_lang else None
        return user

    async def get(self, user_id: int) -> User | None:
        return await self.s.get(User, user_id)


class Enterprises:
    """Enterprises, their departments and invites."""

    def __init__(self, session: AsyncSession):
        self.s = session

    async def add(self, enterprise: Enterprise, departments: list[str]) -> Enterprise:
        self.s.add(enterprise)
        await self.s.flush()
        for pos, name in enumerate(departments):
            self.s.add(Department(enterprise_id=enterprise.id, name=name, position=pos))
        await self.s.flush()
        return enterprise

    async def get(self, enterprise_id: int) -> Enterprise | None:
        return await self.s.get(Enterprise, enterprise_id)

    async def departments(self, enterprise_id: int) -> list[Department]:
        rows = await self.s.scalars(
            select(Department)
            .where(Department.enterprise_id == enterprise_id, Department.active.is_(True))
            .order_by(Department.position, Department.id)
        )
        return list(rows)

    async def department(self, enterprise_id: int, department_id: int) -> Department | None:
        dep = await self.s.get(Department, department_id)
        return dep if dep is not None and dep.enterprise_id == enterprise_id else None

    async def add_invite(self, invite: Invite) -> Invite:
        self.s.add(invite)
        await self.s.flush()
        return invite

    async def invite_by_code(self, code: str) -> Invite | None:
        return await self.s.scalar(select(Invite).where(Invite.code == code))

    async def next_idea_number(self, enterprise_id: int) -> int:
        """Atomically hands out the enterprise's next idea number (safe with concurrent submissions)."""
        return await self.s.scalar(
            update(Enterprise)
            .where(Enterprise.id == enterprise_id)
            .values(idea_seq=Enterprise.idea_seq + 1)
            .returning(Enterprise.idea_seq)
        )


class Memberships:
    """Who belongs to which enterprise, with which role."""

    def __init__(self, session: AsyncSession):
        self.s = session

    async def get(self, user_id: int, enterprise_id: int) -> Membership | None:
        return await self.s.scalar(
            select(Membership).where(Membership.user_id == user_id, Membership.enterprise_id == enterprise_id)
        )

    async def active_for(self, user_id: int) -> list[Membership]:
        rows = await self.s.scalars(
            select(Membership).where(Membership.user_id == user_id, Membership.active.is_(True)).order_by(Membership.id)
        )
        return list(rows)

    async def add(self, membership: Membership) -> Membership:
        self.s.add(membership)
        await self.s.flush()
        return membership


class Dialogues:
    """The conversation state per user."""

    def __init__(self, session: AsyncSession):
        self.s = session

    async def load(self, user_id: int) -> DialogueState:
        """The user's state, locked for this transaction where the database can (one update at a time per user)."""
        state = await self.s.scalar(select(DialogueState).where(DialogueState.user_id == user_id).with_for_update())
        if state is None:
            state = DialogueState(user_id=user_id, step="idle", draft={}, nonce=0)
            self.s.add(state)
            await self.s.flush()
        return state

    @staticmethod
    def touch(state: DialogueState, when: datetime | None = None) -> None:
        state.updated_at = when or utcnow()


class Ideas:
    """Ideas and their event log."""

    def __init__(self, session: AsyncSession):
        self.s = session

    async def add(self, idea: Idea, actor_id: int) -> Idea:
        self.s.add(idea)
        await self.s.flush()
        self.s.add(IdeaEvent(idea_id=idea.id, actor_id=actor_id, kind="created", to_status=idea.status))
        await self.s.flush()
        return idea

    async def by_author(self, author_id: int, enterprise_id: int) -> list[Idea]:
        rows = await self.s.scalars(
            select(Idea).where(Idea.author_id == author_id, Idea.enterprise_id == enterprise_id).order_by(Idea.number)
        )
        return list(rows)
