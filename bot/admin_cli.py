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
