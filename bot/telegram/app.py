"""Builds the python-telegram-bot Application: API base URLs, rate limiter, handlers, command menus."""

from __future__ import annotations

import asyncio
import logging

from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat, Update
from telegram.error import TelegramError
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
    ("enterprise", N_("Switch enterprise")),
    ("help", N_("What I can do")),
    ("cancel", N_("Stop what you are doing")),
)
LEAD_COMMANDS = (
    ("review", N_("Ideas waiting for the team")),
    ("notify", N_("New ideas at once or once a day")),
)
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
TICK_SECONDS = 600  # how often each process looks for due reminders and digests


def commands_for(lang: str, lead: bool = False) -> list[BotCommand]:
    """The command menu in one language; team leads get their commands first."""
    with i18n.use(lang):
        extra = [BotCommand(name, _(d)) for name, d in LEAD_COMMANDS] if lead else []
        return extra + [BotCommand(name, _(description)) for name, description in WORKER_COMMANDS]


async def set_menu(bot, dialogue: Dialogue, user_id: int, menu: str) -> None:
    """Gives one chat its command menu: "lead:<lang>", the team lead's own (for their chat only: others never see
    the lead commands), or "", the general menu in the user's language (the chat's own menu removed). Noted only
    once Telegram took it, so a failure is retried at the user's next message."""
    scope = BotCommandScopeChat(user_id)
    try:
        if menu.startswith("lead:"):
            await bot.set_my_commands(commands_for(menu.removeprefix("lead:"), lead=True), scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except TelegramError as e:  # blocked the bot, or Telegram is busy: the chat keeps its menu for now
        log.info("menu for %s not set: %s", user_id, e)
        return
    await dialogue.menu_applied(user_id, menu)


async def set_commands(app: Application) -> None:
    """Sets the command menu for every language (and the English default for other languages)."""
    scope = BotCommandScopeAllPrivateChats()
    await app.bot.set_my_commands(commands_for("en"), scope=scope)
    for lang in LANGS:
        await app.bot.set_my_commands(commands_for(lang), scope=scope, language_code=lang)
    dialogue: Dialogue = app.bot_data["dialogue"]
    for user_id, menu in await dialogue.menus_at_start():
        await set_menu(app.bot, dialogue, user_id, menu)


async def tick(app: Application, settings: Settings) -> None:
    """Sends due reminders and digests; safe to run in every replica (each message is claimed once)."""
    from bot.storage.models import utcnow
    from bot.telegram.handlers import send_reply

    dialogue: Dialogue = app.bot_data["dialogue"]
    for reply in await dialogue.due_messages(utcnow(), settings.reminder_days):
        await send_reply(app, reply.to_user, reply, None)


async def _tick_forever(app: Application, settings: Settings) -> None:
    while True:
        try:
            await tick(app, settings)
        except Exception:
            log.exception("reminder tick failed")
        await asyncio.sleep(TICK_SECONDS)


def build_application(settings: Settings, dialogue: Dialogue, with_timer: bool = True) -> Application:
    """The Application for the configured token and Bot API server, with the dialogue in bot_data."""

    async def post_init(app: Application) -> None:
        dialogue.bot_username = app.bot.username or dialogue.bot_username
        try:
            await set_commands(app)
        except Exception:  # a menu that failed to update must not keep the bot from working
            log.exception("could not set the command menus")
        if with_timer:  # not app.create_task: stop() would wait for this endless loop
            app.bot_data["timer"] = asyncio.create_task(_tick_forever(app, settings), name="reminders")

    async def post_stop(app: Application) -> None:
        timer = app.bot_data.pop("timer", None)
        if timer is not None:
            timer.cancel()

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
        .post_stop(post_stop)
    )
    app = builder.build()
    app.bot_data["dialogue"] = dialogue
    app.add_handler(TypeHandler(Update, on_update))
    app.add_error_handler(on_error)
    return app
