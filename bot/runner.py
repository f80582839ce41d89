"""`scorebot run` (the bot) and `scorebot start` (the bot with a token, else the offline demo)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import MissingTokenError, Settings, get_settings
from bot.dialogue.engine import Dialogue
from bot.services.library import LibraryError, load
from bot.services.matcher import Matcher
from bot.storage.db import Database
from bot.storage.migrate import upgrade

log = logging.getLogger("bot")


def build_dialogue(settings: Settings) -> Dialogue:
    """The dialogue over the configured database and the installed library (index built once, here)."""
    library = load()
    return Dialogue(
        Database(settings.database_url),
        library,
        Matcher(library.practices, library.area_words),
        settings.bot_username,
        settings.admin_ids,
    )


def cmd_run(args: argparse.Namespace) -> int:
    """Runs the bot: webhook when WEBHOOK_URL is set, else long polling."""
    settings = get_settings()
    try:
        settings.require_token()
    except MissingTokenError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token in URLs
    try:
        dialogue = build_dialogue(settings)
    except LibraryError as e:
        print(f"error: the good-practice library is broken (run `scorebot kb check`):\n{e}", file=sys.stderr)
        return 1
    if settings.uses_default_sqlite:
        asyncio.run(_upgrade(dialogue.db))
    from bot.telegram.app import ALLOWED_UPDATES, build_application

    app = build_application(settings, dialogue)
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path="telegram",
            webhook_url=settings.webhook_url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
        )
    else:
        app.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


async def _upgrade(db: Database) -> None:
    await upgrade(db.engine)
    await db.engine.dispose()  # the bot's own loop opens fresh connections


def cmd_start(args: argparse.Namespace) -> int:
    """With BOT_TOKEN: the bot. Without: how to get a token, then the product in this terminal."""
    settings = get_settings()
    if settings.bot_token is not None and settings.bot_token.get_secret_value().strip():
        return cmd_run(args)
    print(
        "No BOT_TOKEN set, so here is the bot offline, in this terminal, on a demo enterprise.\n"
        "To run it in Telegram: open @BotFather in Telegram, send /newbot, copy the token it gives you, then\n"
        "  BOT_TOKEN=123456:ABC... .venv/bin/scorebot start\n"
    )
    from bot.console.app import cmd_console, cmd_demo

    if sys.stdin.isatty():
        return cmd_console(argparse.Namespace(lang=args.lang, user=1, role="worker"))
    print("(standard input is not a terminal: playing a recorded demo; run `scorebot console` to type yourself)\n")
    return cmd_demo(settings, args.lang or "es")
