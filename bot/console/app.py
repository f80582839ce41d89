"""`scorebot console`: play the conversation in a terminal against the same database, on a seeded demo enterprise."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable

from sqlalchemy import select

from bot import i18n
from bot.config import Settings, get_settings
from bot.dialogue.engine import Dialogue
from bot.dialogue.types import Actor, Button, ButtonIn, CommandIn, Event, PhotoIn, Reply, TextIn
from bot.services.library import load
from bot.services.matcher import get_matcher
from bot.services.onboarding import create_enterprise
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import Enterprise, Invite

# One demo enterprise per language, named and organised as a real one there would be.
DEMOS = {
    "en": ("SCORE4Climate Demo Enterprise", ["Production", "Warehouse", "Maintenance", "Kitchen"]),
    "es": ("Empresa de demostración SCORE4Climate", ["Producción", "Almacén", "Mantenimiento", "Cocina"]),
    "ru": ("Демо-предприятие SCORE4Climate", ["Производство", "Склад", "Ремонтная служба", "Столовая"]),
}
HELP = (
    "Type an answer, a number to press a button, /photo [caption] to send a photo, /quit to leave.\n"
    "Commands work as in Telegram: /start, /new, /cancel, /help, /language, /library, /myideas."
)
# A Spanish-speaking worker sends an idea, for `scorebot start` with no token and no terminal.
DEMO_SCRIPT = [  # button numbers, so the script works in every language
    "/new",
    "1",  # energy
    "1",  # the first department
    "El compresor pierde aire por las mangueras, se escucha el silbido toda la noche",
    "1",  # the first suggested practice
    "1",  # use it for my idea
    "Revisar las mangueras cada viernes y cambiar los acoples gastados",
    "1",  # less energy
    "9",  # done
    "unos 20 kWh por semana",
    "1",  # no photo
    "2",  # anonymous
    "1",  # send
    "/myideas",
]


async def demo_invite(db: Database, role: str, lang: str = "en") -> str:
    """The invite code for `role` of the demo enterprise in this language, creating the enterprise on first use."""
    lang = lang if lang in DEMOS else "en"
    name, departments = DEMOS[lang]
    async with db.transaction() as session:
        ent = await session.scalar(select(Enterprise).where(Enterprise.name == name))
        if ent is None:
            created = await create_enterprise(session, name, lang, departments, ["general"])
            ent = created.enterprise
        invite = await session.scalar(
            select(Invite).where(Invite.enterprise_id == ent.id, Invite.role == role, Invite.revoked_at.is_(None))
        )
        return invite.code


def render(reply: Reply, out=sys.stdout) -> list[Button]:
    """Prints a reply as plain text with numbered buttons; returns the buttons in that order."""
    if reply.alert:
        print(f"  [{reply.alert}]", file=out)
    if reply.photo_file_id:
        print("  [photo]", file=out)
    print(reply.text.plain().rstrip(), file=out)
    buttons = [b for row in reply.buttons for b in row]
    for n, b in enumerate(buttons, start=1):
        print(f"  {n}) {b.label}", file=out)
    print(file=out)
    return buttons


def to_event(line: str, buttons: list[Button], photo_seq: int) -> Event | None:
    """What the typed line means: a button number, a '#label' (scripts), /photo, a command, or text."""
    stripped = line.strip()
    if stripped.isdigit() and buttons and 1 <= int(stripped) <= len(buttons):
        return ButtonIn(buttons[int(stripped) - 1].data)
    if stripped.startswith("#") and len(stripped) > 1:
        wanted = stripped[1:].casefold()
        for b in buttons:
            if wanted in b.label.casefold():
                return ButtonIn(b.data)
        return None
    if stripped.startswith("/photo"):
        caption = stripped[len("/photo") :].strip() or None
        return PhotoIn(file_id=f"console-photo-{photo_seq}", unique_id=f"console-{photo_seq}", caption=caption)
    if stripped.startswith("/") and len(stripped) > 1:
        name, _, args = stripped[1:].partition(" ")
        return CommandIn(name.split("@")[0].lower(), args)
    return TextIn(line.rstrip("\n"))


async def play(settings: Settings, lines: Iterable[str], lang: str | None, user_id: int, role: str, echo: bool) -> int:
    """Runs the conversation over `lines` (a terminal or a script) and prints every reply."""
    db = Database(settings.database_url)
    try:
        if settings.uses_default_sqlite:
            await upgrade(db.engine)
        library = load()
        dialogue = Dialogue(db, library, get_matcher(), settings.bot_username)
        actor = Actor(user_id=user_id, first_name="Console", client_lang=lang or "en")
        code = await demo_invite(db, "lead" if role == "lead" else "worker", i18n.pick_language(None, lang))
        buttons: list[Button] = []
        for reply in await dialogue.handle(actor, CommandIn("start", code)):
            buttons = render(reply) or buttons
        photo_seq = 0
        for line in lines:
            if line.strip() in ("/quit", "/exit"):
                break
            if echo:
                print(f"> {line.rstrip()}")
            photo_seq += 1
            event = to_event(line, buttons, photo_seq)
            if event is None:
                print("  (no such button)\n")
                continue
            for reply in await dialogue.handle(actor, event):
                if reply.to_user not in (None, user_id):
                    # a notification for someone else (another console user id sees it in their own session)
                    print(f"  (a message was sent to user {reply.to_user})\n")
                    continue
                buttons = render(reply) or buttons
        return 0
    finally:
        await db.dispose()


def _terminal_lines() -> Iterable[str]:
    while True:
        try:
            yield input("> ")
        except EOFError:
            return


def cmd_console(args: argparse.Namespace) -> int:
    """`scorebot console [--lang ru]`: an interactive session, or the lines of standard input when piped."""
    settings = get_settings()
    interactive = sys.stdin.isatty()
    if interactive:
        print(HELP + "\n")
    lines = _terminal_lines() if interactive else sys.stdin
    return asyncio.run(play(settings, lines, args.lang, args.user, args.role, echo=not interactive))


def cmd_demo(settings: Settings, lang: str = "es") -> int:
    """Plays the scripted demo conversation (used by `scorebot start` without a token or a terminal)."""
    return asyncio.run(play(settings, DEMO_SCRIPT, lang, user_id=999_000_001, role="worker", echo=True))
