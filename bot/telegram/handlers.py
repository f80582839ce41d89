"""Thin handlers: parse the update into a dialogue event, run it, render the replies."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import i18n
from bot.dialogue.engine import Dialogue
from bot.dialogue.types import Actor, ButtonIn, CommandIn, Event, OtherIn, PhotoIn, Reply, TextIn
from bot.telegram.render import caption_html, keyboard, to_html

log = logging.getLogger(__name__)


def to_event(update: Update) -> Event | None:
    """The dialogue event an update stands for (None for what the bot ignores)."""
    if update.callback_query is not None:
        q = update.callback_query
        return ButtonIn(q.data or "", q.message.message_id if q.message else None)
    msg = update.effective_message
    if msg is None:
        return None
    if msg.photo:
        largest = max(msg.photo, key=lambda p: (p.width or 0) * (p.height or 0))
        return PhotoIn(largest.file_id, largest.file_unique_id, msg.caption)
    if msg.text is not None:
        text = msg.text
        if text.startswith("/") and len(text) > 1 and not text[1].isspace():
            head, _, args = text[1:].partition(" ")
            return CommandIn(head.split("@")[0].lower()[:32], args)
        return TextIn(text)
    if msg.document is not None and (msg.document.mime_type or "").startswith("image/"):
        return PhotoIn(msg.document.file_id, msg.document.file_unique_id, msg.caption)
    kind = next(
        (k for k in ("sticker", "voice", "video", "audio", "document", "location", "contact") if getattr(msg, k, None)),
        "other",
    )
    return OtherIn(kind)


def actor_of(update: Update) -> Actor | None:
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    return Actor(user.id, user.first_name or "", user.last_name, user.username, user.language_code)


async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every private message and button press goes through the dialogue; replies are sent after it committed."""
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        return
    actor = actor_of(update)
    event = to_event(update)
    if actor is None or event is None:
        return
    dialogue: Dialogue = context.bot_data["dialogue"]
    query = update.callback_query
    replies = await dialogue.handle(actor, event)
    if query is not None:
        alert = next((r.alert for r in replies if r.alert), None)
        try:
            await query.answer(alert[:200] if alert else None)
        except BadRequest as e:  # "query is too old": the user waited; the reply below still arrives
            log.info("callback answer failed: %s", e)
    source: Message | None = query.message if query is not None and isinstance(query.message, Message) else None
    for reply in replies:
        await send_reply(context, actor.user_id, reply, source)
        if reply.menu is not None:
            from bot.telegram.app import set_menu

            await set_menu(context.bot, dialogue, actor.user_id, reply.menu)


async def send_reply(context, chat_id: int, reply: Reply, source: Message | None) -> None:
    """Edits the pressed message in place when the reply allows it, else sends a new message (never fails the
    sender's action because someone else blocked the bot)."""
    bot = context.bot
    markup = keyboard(reply)
    target = reply.to_user or chat_id
    try:
        if reply.photo_file_id:
            await bot.send_photo(
                target,
                reply.photo_file_id,
                caption=caption_html(reply.text),
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
            return
        text = to_html(reply.text)
        if reply.edit and source is not None and source.text is not None and reply.to_user is None:
            try:
                await bot.edit_message_text(
                    text, chat_id=chat_id, message_id=source.message_id, parse_mode=ParseMode.HTML, reply_markup=markup
                )
                return
            except BadRequest as e:
                if "not modified" in str(e).lower():
                    return  # a double tap: the message already shows this
                log.info("edit failed, sending instead: %s", e)
        await bot.send_message(target, text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except Forbidden:
        log.info("user %s blocked the bot; message not delivered", target)
    except BadRequest as e:  # e.g. "chat not found" for a notified user who never opened the bot
        if reply.to_user is None:
            raise
        log.info("notification to %s not delivered: %s", target, e)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Logs the error and tells the user, in their language, that nothing they sent was lost."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_user is None:
        return
    user = update.effective_user
    try:
        lang = await context.bot_data["dialogue"].language_of(user.id)
    except Exception:  # the database itself may be what failed
        lang = i18n.pick_language(None, user.language_code)
    with i18n.use(lang):
        text = i18n._("Sorry, something went wrong on my side. What you entered so far is saved; please try again.")
    try:
        await context.bot.send_message(user.id, text)
    except TelegramError:
        log.warning("could not tell user %s about the error", user.id)
