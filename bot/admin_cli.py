"""Administrator commands of `scorebot` that work on the database (enterprise create)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from bot.config import get_settings
from bot.services.onboarding import create_enterprise, deep_link
from bot.storage.db import Database
from bot.storage.migrate import upgrade


def cmd_enterprise_create(args: argparse.Namespace) -> int:
    """`scorebot enterprise create NAME [--lang L] [--departments "A,B"] [--json]`: prints the invites."""
    settings = get_settings()
    departments = [d.strip() for d in args.departments.split(",") if d.strip()]
    sectors = [s.strip() for s in args.sectors.split(",") if s.strip()]

    async def go():
        db = Database(settings.database_url)
        try:
            if settings.uses_default_sqlite:
                await upgrade(db.engine)  # the embedded default needs no separate set-up step
            async with db.transaction() as session:
                return await create_enterprise(
                    session, args.name, args.lang, departments, sectors, args.currency, args.timezone
                )
        finally:
            await db.dispose()

    try:
        created = asyncio.run(go())
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    username = settings.bot_username
    out = {
        "id": created.enterprise.id,
        "name": created.enterprise.name,
        "lang": created.enterprise.default_lang,
        "worker_invite": deep_link(created.worker_invite.code, username),
        "lead_invite": deep_link(created.lead_invite.code, username),
    }
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(f"enterprise {out['id']}: {out['name']} ({out['lang']})")
        print(f"  worker invite:    {out['worker_invite']}")
        print(f"  team lead invite: {out['lead_invite']}")
        if not username:
            print("  (set BOT_USERNAME to print these as t.me deep links; workers send /start <code> to the bot)")
    return 0


def _run(coro_fn):
    """Runs one administrator action in a transaction; prints a one-line error for a wrong id or code."""
    from bot.services.admin import AdminError

    settings = get_settings()

    async def go():
        db = Database(settings.database_url)
        try:
            if settings.uses_default_sqlite:
                await upgrade(db.engine)
            async with db.transaction() as session:
                return await coro_fn(session)
        finally:
            await db.dispose()

    try:
        return asyncio.run(go()), 0
    except (AdminError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return None, 1


def cmd_department_add(args: argparse.Namespace) -> int:
    """`scorebot department add ENTERPRISE_ID NAME`."""
    from bot.services import admin

    dep, rc = _run(lambda s: admin.add_department(s, args.enterprise_id, args.name))
    if dep is not None:
        print(f"department {dep.id}: {dep.name}")
    return rc


def cmd_invite_create(args: argparse.Namespace) -> int:
    """`scorebot invite create ENTERPRISE_ID --role R [--days N] [--json]`."""
    from bot.services import admin

    inv, rc = _run(lambda s: admin.create_invite(s, args.enterprise_id, args.role, args.days))
    if inv is not None:
        link = deep_link(inv.code, get_settings().bot_username)
        print(json.dumps({"code": inv.code, "role": inv.role, "invite": link}) if args.json else link)
    return rc


def cmd_invite_revoke(args: argparse.Namespace) -> int:
    """`scorebot invite revoke CODE`: the link stops working; people who joined stay."""
    from bot.services import admin

    inv, rc = _run(lambda s: admin.revoke_invite(s, args.code))
    if inv is not None:
        print(f"invite {inv.code} revoked")
    return rc


def cmd_member_list(args: argparse.Namespace) -> int:
    """`scorebot member list ENTERPRISE_ID [--json]`."""
    from bot.services import admin

    rows, rc = _run(lambda s: admin.members(s, args.enterprise_id))
    if rows is None:
        return rc
    out = [
        {
            "user_id": u.id,
            "name": u.full_name,
            "username": u.username,
            "role": m.role,
            "active": m.active,
        }
        for m, u in rows
    ]
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        for r in out:
            print(f"{r['user_id']:>14}  {r['role']:<7} {'active' if r['active'] else 'removed':<8} {r['name']}")
    return rc


def cmd_member_role(args: argparse.Namespace) -> int:
    """`scorebot member role ENTERPRISE_ID USER_ID ROLE`."""
    from bot.services import admin

    m, rc = _run(lambda s: admin.set_role(s, args.enterprise_id, args.user_id, args.role))
    if m is not None:
        print(f"user {m.user_id} is now {m.role} (the lead menu updates when the bot restarts or they rejoin)")
    return rc


def cmd_member_remove(args: argparse.Namespace) -> int:
    """`scorebot member remove ENTERPRISE_ID USER_ID`."""
    from bot.services import admin

    m, rc = _run(lambda s: admin.remove_member(s, args.enterprise_id, args.user_id))
    if m is not None:
        print(f"user {m.user_id} removed from enterprise {m.enterprise_id}")
    return rc
