"""Builds the python-telegram-bot Application: API base URLs, rate limiter, handlers, command menus."""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeAllPrivateChats, Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, TypeHandler

from bot import i18n
from bot.config import Settings
from bot.dialogue.engine import Dialogue
from bot.domain.enums import LANGS
from bot.i18n import N_, _
from bot.telegram.handlers import on_error, on_update

log = logging.getLogger(__name__)

WORKER_COMMANDS = (
    ("new", N_("Share a new improvement idea")),
    ("myideas", N_("My ideas and their status")),
    ("library", N_("Good practices by area")),
    ("language", N_("Change the language")),
    ("help", N_("What I can do")),
    ("cancel", N_("Stop what you are doing")),
)
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]


def commands_for(lang: str) -> list[BotCommand]:
    """The worker's command menu in one language."""
    with i18n.use(lang):
        return [BotCommand(name, _(description)) for name, description in WORKER_COMMANDS]


async def set_commands(app: Application) -> None:
    """Sets the command menu for every language (and the English default for other languages)."""
    scope = BotCommandScopeAllPrivateChats()
    await app.bot.set_my_commands(commands_for("en"), scope=scope)
    for lang in LANGS:
        await app.bot.set_my_commands(commands_for(lang), scope=scope, language_code=lang)


def build_application(settings: Settings, dialogue: Dialogue) -> Application:
    """The Application for the configured token and Bot API server, with the dialogue in bot_data."""

    async def post_init(app: Application) -> None:
        dialogue.bot_username = app.bot.username or dialogue.bot_username
        try:
            await set_commands(app)
        except Exception:  # a menu that failed to update must not keep the bot from working
            log.exception("could not set the command menus")

    builder = (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .rate_limiter(
            AIORateLimiter(
                overall_max_rate=settings.rate_overall_per_second,
                group_max_rate=settings.rate_group_per_minute,
                max_retries=settings.rate_max_retries,
            )
        )
        .post_init(post_init)
    )
    app = builder.build()
    app.bot_data["dialogue"] = dialogue
    app.add_handler(TypeHandler(Update, on_update))
    app.add_error_handler(on_error)
    return app
