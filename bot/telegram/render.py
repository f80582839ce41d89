"""Turns dialogue replies into what Telegram accepts: HTML cut to the limits, then escaped; inline keyboards."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.dialogue.types import CAPTION_LIMIT, TEXT_LIMIT, Reply, Rich

_TAGS = {"b": ("<b>", "</b>"), "i": ("<i>", "</i>")}


def to_html(rich: Rich, limit: int = TEXT_LIMIT) -> str:
    """HTML for Telegram: cut first (Telegram counts the text without tags), escape after, so no tag is broken."""
    out = []
    for text, style in rich.cut(limit).parts:
        escaped = html.escape(text, quote=False)
        if style in _TAGS and text.strip():
            open_tag, close_tag = _TAGS[style]
            out.append(f"{open_tag}{escaped}{close_tag}")
        else:
            out.append(escaped)
    result = "".join(out)
    return result if result.strip() else "…"


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard (labels cut to a sensible length)."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label[:64], callback_data=b.data) for b in row] for row in reply.buttons]
    )


def caption_html(rich: Rich) -> str:
    return to_html(rich, CAPTION_LIMIT)
