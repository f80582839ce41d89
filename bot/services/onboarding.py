"""Enterprises and invites: create an enterprise with its invite codes; join one with a code."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import Role, Sector
from bot.services import textnorm
from bot.storage.models import Enterprise, Invite, Membership, User, utcnow
from bot.storage.repo import Enterprises, Memberships

INVITE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what Telegram allows in a /start payload
DEFAULTS = {  # currency and time zone of the pilots, by the enterprise's language
    "es": ("BOB", "America/La_Paz"),
    "ru": ("KGS", "Asia/Bishkek"),
    "en": ("USD", "UTC"),
}


def new_invite_code() -> str:
    """An unguessable deep-link payload (96 random bits, 16 characters of A-Z a-z 0-9 _ -)."""
    return secrets.token_urlsafe(12)


def deep_link(code: str, bot_username: str | None) -> str:
    """`https://t.me/<bot>?start=<code>` when the bot's username is known, else the bare code."""
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}" if bot_username else code


@dataclass(frozen=True, slots=True)
class CreatedEnterprise:
    enterprise: Enterprise
    worker_invite: Invite
    lead_invite: Invite


async def create_enterprise(
    session: AsyncSession,
    name: str,
    lang: str = "en",
    departments: list[str] | None = None,
    sectors: list[str] | None = None,
    currency: str | None = None,
    timezone: str | None = None,
) -> CreatedEnterprise:
    """Creates an enterprise with its departments and one worker and one team-lead invite."""
    name = textnorm.clean(name).strip()
    if not name:
        raise ValueError("the enterprise needs a name")
    for s in sectors or []:
        Sector(s)  # raises ValueError on an unknown sector id
    default_currency, default_tz = DEFAULTS.get(lang, DEFAULTS["en"])
    deps = [d for d in dict.fromkeys(textnorm.clean(d).strip()[:100] for d in departments or []) if d]
    enterprises = Enterprises(session)
    ent = await enterprises.add(
        Enterprise(
            name=name[:200],
            default_lang=lang,
            currency=(currency or default_currency).upper()[:3],
            timezone=timezone or default_tz,
            sectors=",".join(sectors or []),
        ),
        deps,
    )
    worker = await enterprises.add_invite(Invite(enterprise_id=ent.id, code=new_invite_code(), role=Role.WORKER))
    lead = await enterprises.add_invite(Invite(enterprise_id=ent.id, code=new_invite_code(), role=Role.LEAD))
    return CreatedEnterprise(ent, worker, lead)


@dataclass(frozen=True, slots=True)
class JoinResult:
    status: str  # joined | rejoined | already | unknown | expired | revoked
    enterprise: Enterprise | None = None
    role: str | None = None


_RANK = {Role.WORKER: 0, Role.LEAD: 1, Role.ADMIN: 2}


async def join(
    session: AsyncSession, user: User, code: str, now: datetime | None = None, admin: bool = False
) -> JoinResult:
    """Joins the enterprise of an invite code with its role (never lowers a role the user already has);
    a configured administrator (ADMIN_IDS) joins as administrator whatever the invite says."""
    code = (code or "").strip()
    if not INVITE_PATTERN.match(code):
        return JoinResult("unknown")
    enterprises = Enterprises(session)
    invite = await enterprises.invite_by_code(code)
    if invite is None:
        return JoinResult("unknown")
    if invite.revoked_at is not None:
        return JoinResult("revoked")
    if invite.expires_at is not None and invite.expires_at <= (now or utcnow()):
        return JoinResult("expired")
    ent = await enterprises.get(invite.enterprise_id)
    members = Memberships(session)
    membership = await members.get(user.id, ent.id)
    invite.uses += 1
    user.current_enterprise_id = ent.id
    role = Role.ADMIN.value if admin else invite.role
    if membership is None:
        await members.add(Membership(user_id=user.id, enterprise_id=ent.id, role=role))
        return JoinResult("joined", ent, role)
    status = "already" if membership.active else "rejoined"
    membership.active, membership.removed_at = True, None
    if _RANK[Role(role)] > _RANK[Role(membership.role)]:
        membership.role = role
        status = "joined"
    return JoinResult(status, ent, membership.role)
