"""Administrators: departments, invites (expiring, revoked), roles, removing a member, configured admin ids."""

from __future__ import annotations

import json
import subprocess
import sys

from sqlalchemy import select

from bot.dialogue.engine import Dialogue
from bot.services import admin
from bot.services.onboarding import create_enterprise
from bot.storage.models import Membership
from tests.integration.chat import Chat


async def test_invites_roles_and_removal(database, library, matcher):
    dialogue = Dialogue(database, library, matcher, admin_ids=frozenset({900}))
    async with database.transaction() as s:
        ent = await create_enterprise(s, "Planta", "es", ["Corte"])
        dep = await admin.add_department(s, ent.enterprise.id, "Empaque")
        lead_inv = await admin.create_invite(s, ent.enterprise.id, "lead", days=7)
    worker = Chat(dialogue, 901, "es")
    await worker.send(f"/start {ent.worker_invite.code}")
    await worker.send("/review")
    assert "0:r:fl" not in [b.data for b in worker.buttons]  # a worker has no review queue
    async with database.transaction() as s:
        await admin.set_role(s, ent.enterprise.id, 901, "lead")
    await worker.send("/review")  # now allowed: an empty queue
    assert "0:r:fl" in [b.data for b in worker.buttons]
    async with database.transaction() as s:
        await admin.revoke_invite(s, lead_inv.code)
        await admin.remove_member(s, ent.enterprise.id, 901)
    await worker.send("/review")
    assert "0:r:fl" not in [b.data for b in worker.buttons]  # removed: no review any more
    newcomer = Chat(dialogue, 902, "es")
    await newcomer.send(f"/start {lead_inv.code}")  # revoked
    async with database.transaction() as s:
        assert await s.scalar(select(Membership).where(Membership.user_id == 902)) is None
    configured = Chat(dialogue, 900, "en")
    await configured.send(f"/start {ent.worker_invite.code}")
    async with database.transaction() as s:
        m = await s.scalar(select(Membership).where(Membership.user_id == 900))
        assert m.role == "admin"  # ADMIN_IDS join as administrators whatever the invite
        deps = await s.get(type(dep), dep.id)
        assert deps.name == "Empaque"


def test_cli_admin_commands(tmp_path):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", "PATH": ""}

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env, timeout=120
        )

    created = json.loads(run("enterprise", "create", "Planta", "--lang", "ru", "--json").stdout)
    assert run("department", "add", str(created["id"]), "Склад").returncode == 0
    inv = json.loads(run("invite", "create", str(created["id"]), "--role", "lead", "--json").stdout)
    assert inv["role"] == "lead" and inv["code"] != created["lead_invite"]
    assert run("invite", "revoke", inv["code"]).returncode == 0
    bad = run("member", "remove", str(created["id"]), "12345")
    assert bad.returncode == 1 and "not a member" in bad.stderr and "Traceback" not in bad.stderr
    assert json.loads(run("member", "list", str(created["id"]), "--json").stdout) == []
