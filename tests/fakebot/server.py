"""A fake Telegram Bot API server plus simulated users, for end-to-end tests of a real PTB bot.

The bot under test runs its real ``telegram.ext.Application`` (PTB's httpx stack, polling or
webhook) against :class:`FakeTelegram`; the test plays one or more Telegram users::

    async with FakeTelegram() as server:
        app = (
            ApplicationBuilder()
            .token(server.token)
            .base_url(server.api_base_url)
            .base_file_url(server.file_base_url)
            .build()
        )
        ...start the app (polling or webhook)...
        ana = server.user(1001, first_name="Ana", language_code="es")
        await ana.send("/start")
        reply = await ana.next_message()
        assert "Hola" in reply.text
        await ana.press("Yes")                      # an inline button of the latest bot message
        await ana.wait_until(lambda: ana.last_bot_message().edited)

Test-facing API in short:

* ``FakeTelegram``: ``start()/stop()`` or ``async with``; ``api_base_url``, ``file_base_url``,
  ``token``, ``bot_username``; ``user(...)``; ``settle()``; ``sent`` / ``calls(method)`` /
  ``requests`` (every call with params and response); ``bot_texts()``; ``commands()`` /
  ``visible_commands(user)``; ``menu_buttons``; ``file_bytes(file_id)``; ``rate_limit()``;
  ``fail_next(method, ...)``; ``deliver_webhooks_to(url)``; ``queue_update(raw)``.
* ``FakeUser`` actions: ``send``, ``send_photo``, ``send_document``, ``send_sticker``,
  ``send_location``, ``press``, ``press_raw``, ``block``, ``unblock``.
* ``FakeUser`` observations: ``next_message``, ``next_messages``, ``wait_until``,
  ``expect_silence``, ``messages``, ``bot_messages``, ``last_bot_message()``, ``message(id)``,
  ``all_texts()``, ``callback_answers``, ``chat_actions``.
* ``ChatMessage``: one message as it looks now (``text``, ``raw_text``, ``parse_mode``,
  ``reply_markup`` rows of ``(text, callback_data)``, ``photo``, ``caption``, ``edited``,
  ``history`` …).

The server is strict the way Telegram is: it refuses what Telegram refuses, with Telegram's
error descriptions (taken from the Bot API server and TDLib), so a bot that passes here should
not be refused in production. Where it is stricter than Telegram, the docstring says so.
Only private chats exist: chat id == user id, and a chat exists once the user wrote to the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import ipaddress
import itertools
import json
import math
import mimetypes
import re
import secrets
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.fakebot.html_check import (
    EntityParseError,
    FormattedText,
    UnsupportedParseMode,
    detect_entities,
    parse_formatted,
    strip_whitespace,
    utf16_len,
)

__all__ = [
    "ApiCall",
    "ButtonNotFound",
    "CallbackAnswer",
    "ChatMessage",
    "FakeTelegram",
    "FakeUser",
    "StoredFile",
    "WaitTimeout",
    "fake_jpeg",
]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_COMMANDS = 100
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
LONG_POLL_MAX_TIMEOUT = 50
WEBHOOK_PORTS = (80, 88, 443, 8443)
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
        "my_chat_member",
        "poll",
        "poll_answer",
        "chat_join_request",
        "shipping_query",
        "pre_checkout_query",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
#: Methods that create a message in a chat; the only ones the optional rate limiter counts.
SEND_METHODS = frozenset(
    {"sendmessage", "sendphoto", "senddocument", "copymessage", "forwardmessage", "sendsticker", "sendlocation"}
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]*")


# ---------------------------------------------------------------------------------------------
# Errors and records
# ---------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional parameters."""

    def __init__(self, status: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(message: str) -> ApiError:
    """A 400 error with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {message}")


def too_many_requests(retry_after: int) -> ApiError:
    """A 429 error asking the bot to wait retry_after seconds."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


FORBIDDEN_BLOCKED = "Forbidden: bot was blocked by the user"
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)


@dataclass
class _Described:
    """A successful result that Telegram answers with an extra description (setWebhook)."""

    result: Any
    description: str


class WaitTimeout(AssertionError):
    """A test-side wait (next_message, wait_until, settle) ran out of time."""


class ButtonNotFound(AssertionError):
    """A simulated user tried to press a button that is not on the message."""


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes

    def __repr__(self) -> str:
        return f"UploadedFile({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


@dataclass
class ApiCall:
    """One request the bot made: canonical method name, decoded params, HTTP status and JSON answer."""

    method: str
    params: dict[str, Any]
    status: int = 0
    response: dict | None = None
    at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        """Whether Telegram answered ok=true."""
        return bool(self.response and self.response.get("ok"))

    @property
    def result(self) -> Any:
        """The result of a successful call (None otherwise)."""
        return (self.response or {}).get("result")

    @property
    def description(self) -> str | None:
        """The error description of a failed call."""
        return (self.response or {}).get("description")


@dataclass
class CallbackAnswer:
    """The bot's answerCallbackQuery for a button press."""

    query_id: str
    data: str | None
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int


@dataclass
class StoredFile:
    """A file known to the fake server (uploaded by the bot or sent by a simulated user)."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    file_path: str | None = None
    #: For photos: every PhotoSize of the same picture (smallest first).
    photo_sizes: list[dict] = field(default_factory=list)

    def as_photo_size(self) -> dict:
        """This file as a Bot API PhotoSize."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "width": self.width,
            "height": self.height,
        }


# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------


@dataclass
class ChatMessage:
    """A message of a private chat as it looks now (after edits); from the bot or from the user.

    ``text`` / ``caption`` are the plain text users see (entities removed); ``raw_text`` /
    ``raw_caption`` are what the bot sent (with markup), ``parse_mode`` how it was parsed.
    ``reply_markup`` is the inline keyboard as rows of ``(text, callback_data)`` (callback_data is
    None for url and other buttons); ``raw_reply_markup`` the markup object as the bot sent it.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    sender: dict
    chat: dict
    text: str | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    entities: list[dict] = field(default_factory=list)
    caption: str | None = None
    raw_caption: str | None = None
    caption_entities: list[dict] = field(default_factory=list)
    photo_sizes: list[dict] = field(default_factory=list)
    document: dict | None = None
    sticker: dict | None = None
    location: dict | None = None
    raw_reply_markup: dict | None = None
    reply_to: ChatMessage | None = None
    forward_origin: dict | None = None
    link_preview_options: dict | None = None
    edited: bool = False
    edit_date: int | None = None
    deleted: bool = False
    #: Earlier states, oldest first: dicts with text, caption and reply_markup before each edit.
    history: list[dict] = field(default_factory=list)

    @property
    def photo(self) -> str | None:
        """file_id of the largest size of the photo, if this is a photo message."""
        return self.photo_sizes[-1]["file_id"] if self.photo_sizes else None

    @property
    def reply_markup(self) -> list[list[tuple[str, str | None]]]:
        """The inline keyboard as rows of (text, callback_data); [] when there is none."""
        rows = (self.raw_reply_markup or {}).get("inline_keyboard") or []
        return [[(button["text"], button.get("callback_data") or None) for button in row] for row in rows]

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """All inline buttons, row by row, as (text, callback_data)."""
        return [button for row in self.reply_markup for button in row]

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """A custom reply keyboard shown with this message, as rows of button texts."""
        rows = (self.raw_reply_markup or {}).get("keyboard")
        if not rows:
            return None
        return [[b if isinstance(b, str) else b["text"] for b in row] for row in rows]

    @property
    def removes_keyboard(self) -> bool:
        """Whether this message removed the custom reply keyboard."""
        return bool((self.raw_reply_markup or {}).get("remove_keyboard"))

    @property
    def content(self) -> str:
        """The visible text of the message: its text or caption ("" when there is neither)."""
        return self.text if self.text is not None else (self.caption or "")

    def all_texts(self) -> list[str]:
        """Every text and caption this message has shown, including the ones edited away."""
        texts = [old.get("text") or old.get("caption") or "" for old in self.history]
        texts.append(self.content)
        return [t for t in texts if t]

    def inline_button(self, text_or_data: str) -> dict:
        """The inline button whose text (preferred) or callback_data equals text_or_data."""
        rows = (self.raw_reply_markup or {}).get("inline_keyboard") or []
        flat = [button for row in rows for button in row]
        for key in ("text", "callback_data"):
            for button in flat:
                if button.get(key) == text_or_data:
                    return button
        available = ", ".join(repr(b["text"]) for b in flat) or "none"
        raise ButtonNotFound(
            f"message {self.message_id} has no button {text_or_data!r} (buttons: {available}); text: {self.content!r}"
        )

    def _inline_markup(self) -> dict | None:
        """The markup as it appears inside a Message object (only inline keyboards do)."""
        markup = self.raw_reply_markup or {}
        if markup.get("inline_keyboard"):
            return {"inline_keyboard": markup["inline_keyboard"]}
        return None

    def to_api(self, *, with_reply: bool = True) -> dict:
        """This message as a Bot API Message object."""
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.forward_origin is not None:
            data["forward_origin"] = self.forward_origin
        if with_reply and self.reply_to is not None and not self.reply_to.deleted:
            data["reply_to_message"] = self.reply_to.to_api(with_reply=False)
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.link_preview_options is not None:
            data["link_preview_options"] = self.link_preview_options
        if self.photo_sizes:
            data["photo"] = self.photo_sizes
        if self.document is not None:
            data["document"] = self.document
        if self.sticker is not None:
            data["sticker"] = self.sticker
        if self.location is not None:
            data["location"] = self.location
        if self.caption:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = self.caption_entities
        markup = self._inline_markup()
        if markup is not None:
            data["reply_markup"] = markup
        return data

    def _snapshot(self) -> dict:
        """The editable state, for history and "not modified" checks."""
        return {
            "text": self.text,
            "entities": self.entities,
            "caption": self.caption,
            "caption_entities": self.caption_entities,
            "reply_markup": self._inline_markup(),
            "date": self.edit_date or self.date,
        }

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else "user"
        flags = "".join(f" {flag}" for flag in ("edited", "deleted") if getattr(self, flag))
        kind = "photo " if self.photo_sizes else "document " if self.document else ""
        buttons = f" buttons={self.buttons}" if self.buttons else ""
        return f"<ChatMessage #{self.message_id} {who}{flags} {kind}{self.content!r}{buttons}>"


# ---------------------------------------------------------------------------------------------
# Media helpers
# ---------------------------------------------------------------------------------------------


def fake_jpeg(width: int, height: int) -> bytes:
    """A valid baseline JPEG of the given size (plain mid-grey), a few KB at most."""
    if not (1 <= width <= 65535 and 1 <= height <= 65535):
        raise ValueError("JPEG dimensions must be 1..65535")

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    one_code = bytes([1] + [0] * 15) + b"\x00"  # a Huffman table with a single 1-bit code for symbol 0
    header = b"".join(
        [
            b"\xff\xd8",
            segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            segment(0xDB, b"\x00" + b"\x01" * 64),
            segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"),
            segment(0xC4, b"\x00" + one_code),  # DC table: only "difference category 0"
            segment(0xC4, b"\x10" + one_code),  # AC table: only "end of block"
            segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
        ]
    )
    blocks = math.ceil(width / 8) * math.ceil(height / 8)
    bits = 2 * blocks  # every 8x8 block is "DC diff 0, EOB": mid-grey everywhere
    body = bytearray(bits // 8)
    if bits % 8:
        body.append(0xFF >> (bits % 8))  # pad the last byte with 1-bits
    return header + bytes(body) + b"\xff\xd9"


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a JPEG, PNG, GIF or WebP image; None when data is not one."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP" and len(data) >= 30:
        if data[12:16] == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        return 512, 512
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            length = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + length
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return width, abs(height)
    return None


def _photo_dimensions(width: int, height: int) -> list[tuple[int, int]]:
    """The PhotoSize dimensions Telegram keeps for a picture (90/320/800/1280/2560 px variants)."""
    longest = max(width, height)
    sizes = []
    for bound in (90, 320, 800, 1280):
        if longest > bound:
            scale = bound / longest
            sizes.append((max(1, round(width * scale)), max(1, round(height * scale))))
    scale = min(1.0, 2560 / longest)
    sizes.append((max(1, round(width * scale)), max(1, round(height * scale))))
    return sizes


def _new_file_ids(kind: str) -> tuple[str, str]:
    """A (file_id, file_unique_id) pair shaped like Telegram's."""
    prefix = {"photo": "AgACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI", "sticker": "CAACAgIAAxkBAAI"}[kind]
    return prefix + secrets.token_urlsafe(48), "AQAD" + secrets.token_urlsafe(9)


def _is_loopback(host: str) -> bool:
    """Whether host names this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------
# Request parameters
# ---------------------------------------------------------------------------------------------

_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "commands",
        "scope",
        "menu_button",
        "allowed_updates",
    }
)


class Params:
    """The parameters of one Bot API call with Telegram's lenient typing (strings, JSON, numbers)."""

    def __init__(self, values: dict[str, Any], files: dict[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def raw(self, name: str) -> Any:
        """The value as received; None when absent or an empty string (Telegram treats both alike)."""
        value = self.values.get(name)
        return None if value == "" else value

    def has(self, name: str) -> bool:
        """Whether the parameter (or a file part of that name) was given."""
        return self.raw(name) is not None or name in self.files

    def str(self, name: str) -> str | None:
        """A string parameter (numbers from JSON bodies are converted)."""
        value = self.raw(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        return json.dumps(value)

    def int(self, name: str, default: int = 0) -> int:
        """An integer parameter; unparsable values count as 0 like Telegram's to_integer."""
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            return 0

    def bool(self, name: str) -> bool:
        """A boolean parameter ("true"/"1" or JSON true)."""
        value = self.raw(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def json(self, name: str, error: str) -> Any:
        """A JSON-serialized parameter, decoded; error is the Bad Request text for broken JSON."""
        value = self.raw(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(error) from None

    def file(self, name: str) -> UploadedFile | None:
        """The uploaded file for a parameter, following attach://name references."""
        if name in self.files:
            return self.files[name]
        value = self.str(name)
        if value and value.startswith("attach://"):
            return self.files.get(value[len("attach://") :])
        return None

    def decoded(self) -> dict[str, Any]:
        """All values with JSON parameters decoded where possible and files summarized (for records)."""
        result: dict[str, Any] = {}
        for name, value in self.values.items():
            if name in _JSON_PARAMS and isinstance(value, str):
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            result[name] = value
        result.update(self.files)
        return result


# ---------------------------------------------------------------------------------------------
# Simulated users
# ---------------------------------------------------------------------------------------------


@dataclass
class _PendingQuery:
    """A callback query waiting for answerCallbackQuery."""

    query_id: str
    user: FakeUser
    data: str | None
    created: float
    answered: bool = False


class FakeUser:
    """A Telegram user talking to the bot in a private chat (chat id == user id).

    Actions (``send``, ``send_photo``, ``press`` …) queue updates for the bot; observations
    (``next_message``, ``messages``, ``callback_answers`` …) show what the bot did in the chat.
    """

    def __init__(
        self,
        server: FakeTelegram,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        is_premium: bool | None,
    ) -> None:
        self.server = server
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.is_premium = is_premium
        #: True once the user has written to the bot (before that the bot gets "chat not found").
        self.has_chat = False
        #: True while the user has blocked the bot (sends then fail with 403).
        self.blocked = False
        #: Every answerCallbackQuery the bot made for this user's button presses, in order.
        self.callback_answers: list[CallbackAnswer] = []
        #: Every sendChatAction action the bot sent to this chat ("typing", ...), in order.
        self.chat_actions: list[str] = []
        #: The chat_instance value Telegram sends with callback queries from this chat.
        self.chat_instance = str(secrets.randbelow(2**62) - 2**61)
        self._messages: dict[int, ChatMessage] = {}
        self._message_ids = itertools.count(1)
        self._inbox: deque[ChatMessage] = deque()

    # -- identity -------------------------------------------------------------------------------

    @property
    def chat_id(self) -> int:
        """The private chat's id (equal to the user id)."""
        return self.id

    def as_user(self) -> dict:
        """This user as a Bot API User object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        if self.is_premium:
            data["is_premium"] = True
        return data

    def as_chat(self) -> dict:
        """The private chat as a Bot API Chat object."""
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        return data

    def __repr__(self) -> str:
        return f"<FakeUser {self.id} {self.first_name!r}{' blocked' if self.blocked else ''}>"

    # -- actions --------------------------------------------------------------------------------

    async def send(self, text: str, *, reply_to: ChatMessage | int | None = None) -> ChatMessage:
        """Send a text message to the bot (a leading /command gets its bot_command entity)."""
        if not text or not text.strip():
            raise ValueError("Telegram clients cannot send an empty message")
        message = self._new_user_message(reply_to=reply_to)
        message.text = text
        message.raw_text = text
        message.entities = detect_entities(text)
        return await self._deliver(message)

    async def send_photo(self, caption: str | None = None, *, width: int = 1280, height: int = 960) -> ChatMessage:
        """Send a photo (a generated grey JPEG, in Telegram's usual PhotoSize variants)."""
        message = self._new_user_message()
        message.photo_sizes = self.server._register_photo(fake_jpeg(width, height), width, height)
        self._set_user_caption(message, caption)
        return await self._deliver(message)

    async def send_document(
        self,
        content: bytes = b"%PDF-1.4\n% fake document\n",
        *,
        file_name: str = "document.pdf",
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> ChatMessage:
        """Send a file as a document."""
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = self.server._register_file("document", content, file_name=file_name, mime_type=mime)
        message = self._new_user_message()
        message.document = self.server._document_object(stored)
        self._set_user_caption(message, caption)
        return await self._deliver(message)

    async def send_sticker(self, emoji: str = "👍") -> ChatMessage:
        """Send a (static) sticker: a message without text."""
        stored = self.server._register_file("sticker", fake_jpeg(512, 512), mime_type="image/webp")
        stored.width = stored.height = 512
        message = self._new_user_message()
        message.sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "FakeStickers",
            "file_size": len(stored.data),
        }
        return await self._deliver(message)

    async def send_location(self, latitude: float = -16.5, longitude: float = -68.15) -> ChatMessage:
        """Share a location: a message without text."""
        message = self._new_user_message()
        message.location = {"latitude": latitude, "longitude": longitude}
        return await self._deliver(message)

    async def press(self, button: str, message: ChatMessage | int | None = None) -> str:
        """Press an inline button by its text (or callback_data); returns the callback query id.

        Without ``message`` the latest bot message that has an inline keyboard is used. Raises
        :class:`ButtonNotFound` if that message has no such callback button -- a real client can
        only press buttons that are there.
        """
        target = self._pressable_message(message)
        chosen = target.inline_button(button)
        data = chosen.get("callback_data")
        if not data:
            raise ButtonNotFound(f"button {chosen['text']!r} is not a callback button: {chosen}")
        return await self._queue_callback(target, data)

    async def press_raw(self, message_id: int, data: str) -> str:
        """Send a callback query with arbitrary data for a message, like a modified client could."""
        target = self._messages.get(message_id)
        if target is None or target.deleted or not target.from_bot:
            raise ButtonNotFound(f"there is no bot message {message_id} in the chat with {self.id}")
        return await self._queue_callback(target, data)

    def block(self) -> None:
        """Block the bot: its sends to this user now fail with 403 (a my_chat_member update is queued)."""
        if not self.blocked:
            self.blocked = True
            self.server._queue_my_chat_member(self, "member", "kicked")

    def unblock(self) -> None:
        """Unblock the bot again (a my_chat_member update is queued)."""
        if self.blocked:
            self.blocked = False
            self.server._queue_my_chat_member(self, "kicked", "member")

    # -- observations ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[ChatMessage]:
        """Every message of the chat (user's and bot's) in its current state, deleted ones left out."""
        return [m for m in sorted(self._messages.values(), key=lambda m: m.message_id) if not m.deleted]

    @property
    def bot_messages(self) -> list[ChatMessage]:
        """The bot's messages in the chat, current state, oldest first."""
        return [m for m in self.messages if m.from_bot]

    def last_bot_message(self) -> ChatMessage | None:
        """The newest bot message still in the chat."""
        bot_messages = self.bot_messages
        return bot_messages[-1] if bot_messages else None

    def message(self, message_id: int) -> ChatMessage:
        """A message of this chat by id (deleted ones included)."""
        return self._messages[message_id]

    @property
    def unread(self) -> list[ChatMessage]:
        """Bot messages not yet returned by next_message()."""
        return list(self._inbox)

    def all_texts(self) -> list[str]:
        """Every text/caption the bot ever showed this user, including edited-away and deleted ones."""
        return [
            text
            for m in sorted(self._messages.values(), key=lambda m: m.message_id)
            if m.from_bot
            for text in m.all_texts()
        ]

    async def next_message(self, timeout: float = 5.0) -> ChatMessage:  # noqa: ASYNC109
        """The next bot message in this chat the test has not consumed yet (waits for it)."""
        await self.server._wait_for(lambda: bool(self._inbox), timeout, lambda: f"a new bot message to {self!r}")
        return self._inbox.popleft()

    async def next_messages(self, count: int, timeout: float = 5.0) -> list[ChatMessage]:  # noqa: ASYNC109
        """The next count bot messages, in order."""
        return [await self.next_message(timeout) for _ in range(count)]

    async def wait_until(self, predicate: Callable[..., Any], timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """Wait until predicate() (or predicate(user)) is truthy; returns its value."""
        try:
            wants_user = bool(inspect.signature(predicate).parameters)
        except (TypeError, ValueError):
            wants_user = False
        holder: list[Any] = []

        def check() -> bool:
            value = predicate(self) if wants_user else predicate()
            if value:
                holder.append(value)
            return bool(value)

        await self.server._wait_for(check, timeout, lambda: f"the condition for {self!r}")
        return holder[-1]

    async def expect_silence(self, duration: float = 0.3) -> None:
        """Assert that the bot sends this user no new message within duration seconds."""
        before = len(self._inbox)
        await asyncio.sleep(duration)
        if len(self._inbox) > before:
            raise AssertionError(f"expected no new bot message to {self!r}, got {list(self._inbox)[before:]}")

    # -- internals ------------------------------------------------------------------------------

    def _new_user_message(self, reply_to: ChatMessage | int | None = None) -> ChatMessage:
        """A fresh message from the user (not yet delivered)."""
        if isinstance(reply_to, int):
            reply_to = self._messages[reply_to]
        return ChatMessage(
            message_id=next(self._message_ids),
            chat_id=self.id,
            from_bot=False,
            date=int(time.time()),
            sender=self.as_user(),
            chat=self.as_chat(),
            reply_to=reply_to,
        )

    def _set_user_caption(self, message: ChatMessage, caption: str | None) -> None:
        """Attach a caption typed by the user."""
        if caption:
            message.caption = message.raw_caption = caption
            message.caption_entities = detect_entities(caption)

    async def _deliver(self, message: ChatMessage) -> ChatMessage:
        """Store the user's message and queue it for the bot (unblocking the bot like a client does)."""
        if self.blocked:
            self.unblock()
        self.has_chat = True
        self._messages[message.message_id] = message
        self.server._queue_update({"message": message.to_api()})
        await asyncio.sleep(0)
        return message

    def _pressable_message(self, message: ChatMessage | int | None) -> ChatMessage:
        """The message whose button is pressed."""
        if isinstance(message, ChatMessage):
            message = message.message_id
        if message is not None:
            target = self._messages.get(message)
            if target is None or target.deleted or not target.from_bot:
                raise ButtonNotFound(f"there is no bot message {message} in the chat with {self.id}")
            return target
        for candidate in reversed(self.bot_messages):
            if candidate.reply_markup:
                return candidate
        raise ButtonNotFound(f"no bot message with an inline keyboard in the chat with {self.id}: {self.messages}")

    async def _queue_callback(self, target: ChatMessage, data: str) -> str:
        """Queue a callback_query update for a press on target."""
        query_id = str(secrets.randbelow(2**63 - 1) + 1)
        self.server._callback_queries[query_id] = _PendingQuery(query_id, self, data, time.monotonic())
        self.server._queue_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.as_user(),
                    "message": target.to_api(),
                    "chat_instance": self.chat_instance,
                    "data": data,
                }
            }
        )
        await asyncio.sleep(0)
        return query_id

    def _add_bot_message(self, message: ChatMessage) -> ChatMessage:
        """Store a message the bot sent and make it visible to next_message()."""
        self._messages[message.message_id] = message
        self._inbox.append(message)
        return message


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


@dataclass
class _Webhook:
    """The webhook the bot registered with setWebhook."""

    url: str
    secret_token: str | None
    max_connections: int
    ip_address: str | None
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None
    task: asyncio.Task | None = None


@dataclass
class _RateLimit:
    """Sliding one-second windows for the optional flood control."""

    per_chat: float | None
    overall: float | None
    methods: frozenset[str]
    chat_stamps: dict[int, deque] = field(default_factory=dict)
    all_stamps: deque = field(default_factory=deque)

    def check(self, chat_id: int | None, now: float) -> int | None:
        """Seconds to wait if one more message now would exceed a limit, else None."""
        waits = []
        for limit, stamps in ((self.per_chat, self.chat_stamps.get(chat_id)), (self.overall, self.all_stamps)):
            if limit is None or stamps is None:
                continue
            while stamps and now - stamps[0] >= 1.0:
                stamps.popleft()
            if len(stamps) >= limit:
                waits.append(1.0 - (now - stamps[0]))
        return max(1, math.ceil(max(waits))) if waits else None

    def record(self, chat_id: int | None, now: float) -> None:
        """Count one message."""
        self.all_stamps.append(now)
        if chat_id is not None:
            self.chat_stamps.setdefault(chat_id, deque()).append(now)


class FakeTelegram:
    """The fake Bot API server; see the module docstring for a walk-through.

    Args:
        token: the bot token the bot must use (others get 401 Unauthorized).
        bot_username / bot_first_name: what getMe reports.
        strict_html_ampersand: refuse a bare ``&`` in HTML (stricter than Telegram; see html_check).
        callback_answer_timeout: seconds after which answerCallbackQuery says the query is too old.
        quiet_period: default quiet time for :meth:`settle`.
        webhook_retry_delay: first delay before re-delivering an update the webhook refused (doubles).
        allow_local_webhook: accept http:// webhook URLs on loopback addresses (Telegram needs https
            on ports 80/88/443/8443; for other URLs use :meth:`deliver_webhooks_to`).
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        bot_username: str = "score_test_bot",
        bot_first_name: str = "Score Test Bot",
        host: str = "127.0.0.1",
        strict_html_ampersand: bool = True,
        callback_answer_timeout: float = 15.0,
        quiet_period: float = 0.2,
        webhook_retry_delay: float = 0.05,
        allow_local_webhook: bool = True,
    ) -> None:
        if not _TOKEN_RE.fullmatch(token):
            raise ValueError(f"not a bot token: {token!r}")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.host = host
        self.strict_html_ampersand = strict_html_ampersand
        self.callback_answer_timeout = callback_answer_timeout
        self.quiet_period = quiet_period
        self.webhook_retry_delay = webhook_retry_delay
        self.allow_local_webhook = allow_local_webhook
        #: Every API request the bot made, in order (getUpdates included).
        self.requests: list[ApiCall] = []
        #: Menu buttons the bot set with setChatMenuButton, by chat id (None: the default button).
        self.menu_buttons: dict[int | None, dict] = {}
        self.closed = False
        self.logged_out = False
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._users: dict[int, FakeUser] = {}
        self._updates: list[tuple[int, dict]] = []
        self._update_ids = itertools.count(100_000_001)
        self._delivered_up_to = 0
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_paths = itertools.count()
        self._callback_queries: dict[str, _PendingQuery] = {}
        self._commands: dict[tuple[tuple, str], list[dict]] = {}
        self._webhook: _Webhook | None = None
        self._webhook_target: str | None = None
        self._next_set_webhook = 0.0
        self._rate: _RateLimit | None = None
        self._failures: dict[str, deque[ApiError]] = {}
        self._poll_abort: asyncio.Future | None = None
        self._inflight = 0
        self._last_activity = time.monotonic()
        self._changed = asyncio.Event()
        self._closing = False
        self._methods: dict[str, tuple[str, Callable[[Params], Awaitable[Any]]]] = {}
        for name in (
            "getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo", "sendMessage",
            "editMessageText", "editMessageReplyMarkup", "editMessageCaption", "deleteMessage",
            "answerCallbackQuery", "sendPhoto", "sendDocument", "getFile", "copyMessage", "forwardMessage",
            "setMyCommands", "getMyCommands", "deleteMyCommands", "setChatMenuButton", "getChatMenuButton",
            "sendChatAction", "close", "logOut",
        ):  # fmt: skip
            handler = getattr(self, "_api_" + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower())
            self._methods[name.lower()] = (name, handler)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        """Start listening on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession()
        self._changed = asyncio.Event()
        return self

    async def stop(self) -> None:
        """Stop the server, ending long polls and webhook deliveries."""
        self._closing = True
        self._notify()
        if self._webhook is not None:
            await self._stop_webhook_task(self._webhook)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        """For ApplicationBuilder.base_url (PTB appends the token)."""
        return f"{self.base_url}/bot"

    @property
    def file_base_url(self) -> str:
        """For ApplicationBuilder.base_file_url (PTB appends the token)."""
        return f"{self.base_url}/file/bot"

    def bot_user(self) -> dict:
        """The bot as a Bot API User object (what getMe returns)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # -- test-facing API ------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Ana",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "es",
        *,
        is_premium: bool | None = None,
    ) -> FakeUser:
        """The simulated user with this id (created on first call; later calls return the same one)."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        if user_id not in self._users:
            self._users[user_id] = FakeUser(self, user_id, first_name, last_name, username, language_code, is_premium)
        return self._users[user_id]

    @property
    def users(self) -> list[FakeUser]:
        """All simulated users."""
        return list(self._users.values())

    @property
    def sent(self) -> list[ApiCall]:
        """Every call the bot made except getUpdates (failed ones included; check .ok)."""
        return [call for call in self.requests if call.method != "getUpdates"]

    def calls(self, method: str | None = None, *, ok: bool | None = None) -> list[ApiCall]:
        """Recorded calls, optionally only of one method and only (un)successful ones."""
        wanted = method.lower() if method else None
        return [
            call
            for call in self.requests
            if (wanted is None or call.method.lower() == wanted) and (ok is None or call.ok == ok)
        ]

    def bot_texts(self, chat_id: int | None = None) -> list[str]:
        """Every text/caption the bot showed (all chats or one), including edited-away versions."""
        users = [self._users[chat_id]] if chat_id is not None else self.users
        return [text for user in users for text in user.all_texts()]

    def file_bytes(self, file_id: str) -> bytes:
        """The content of a known file."""
        return self._files[file_id].data

    def file(self, file_id: str) -> StoredFile:
        """A known file by id."""
        return self._files[file_id]

    def commands(self, scope: dict | str | None = None, language_code: str = "") -> list[tuple[str, str]]:
        """The command list the bot stored for exactly this scope and language, as (command, description)."""
        if isinstance(scope, str):
            scope = {"type": scope}
        key = (self._scope_key(scope or {"type": "default"}, check_chat=False), language_code)
        return [(c["command"], c["description"]) for c in self._commands.get(key, [])]

    def visible_commands(self, user: FakeUser) -> list[tuple[str, str]]:
        """The commands a user's client shows in the private chat (Telegram's scope/language fallback)."""
        language = (user.language_code or "")[:2].lower()
        for scope in (("chat", user.id), ("all_private_chats",), ("default",)):
            for lang in dict.fromkeys((language, "")):
                if (scope, lang) in self._commands:
                    return [(c["command"], c["description"]) for c in self._commands[(scope, lang)]]
        return []

    def rate_limit(
        self,
        per_chat_per_second: float | None = 1,
        overall_per_second: float | None = 30,
        *,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Answer 429 (with parameters.retry_after) when sends exceed these rates; off by default."""
        chosen = frozenset(m.lower() for m in methods) if methods is not None else SEND_METHODS
        self._rate = _RateLimit(per_chat_per_second, overall_per_second, chosen)

    def rate_limit_off(self) -> None:
        """Switch the flood control off again."""
        self._rate = None

    def fail_next(
        self,
        method: str,
        status: int = 500,
        description: str = "Internal Server Error",
        *,
        parameters: dict | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of a method fail with the given error (e.g. 502, 429)."""
        queue = self._failures.setdefault(method.lower(), deque())
        queue.extend(ApiError(status, description, parameters) for _ in range(times))

    def deliver_webhooks_to(self, url: str | None) -> None:
        """POST webhook updates to this local URL whatever public https URL the bot registered."""
        self._webhook_target = url

    @property
    def webhook_url(self) -> str | None:
        """The webhook URL the bot set (None while it uses getUpdates)."""
        return self._webhook.url if self._webhook else None

    @property
    def pending_updates(self) -> list[dict]:
        """Updates not yet confirmed by the bot."""
        return [update for _, update in self._updates]

    def unanswered_callback_queries(self) -> list[str]:
        """Ids of button presses the bot never answered with answerCallbackQuery."""
        return [q.query_id for q in self._callback_queries.values() if not q.answered]

    def queue_update(self, update: dict) -> int:
        """Queue an arbitrary update (update_id is added); returns its id."""
        return self._queue_update(update)

    async def settle(self, quiet: float | None = None, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has taken every queued update and made no request for `quiet` seconds."""
        quiet = self.quiet_period if quiet is None else quiet
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            undelivered = [uid for uid, update in self._updates if uid > self._delivered_up_to and self._wanted(update)]
            if not undelivered and self._inflight == 0 and now - self._last_activity >= quiet:
                return
            if now >= deadline:
                raise WaitTimeout(
                    f"the bot did not settle within {timeout}s: {len(undelivered)} updates not taken, "
                    f"{self._inflight} requests in progress (is the bot polling / is the webhook set?)"
                )
            await asyncio.sleep(0.02)

    # -- waiting --------------------------------------------------------------------------------

    def _notify(self) -> None:
        """Wake everything waiting for a state change."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, seconds: float) -> None:
        """Wait for the next state change, at most `seconds`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)

    async def _wait_for(self, check: Callable[[], bool], seconds: float, what: Callable[[], str]) -> None:
        """Wait until check() holds; raise WaitTimeout describing `what` after `seconds`."""
        deadline = time.monotonic() + seconds
        while not check():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = [c.method + ("" if c.ok else f" -> {c.description}") for c in self.sent[-8:]]
                raise WaitTimeout(f"timed out after {seconds}s waiting for {what()}; last bot calls: {recent}")
            await self._wait_change(remaining)

    # -- updates --------------------------------------------------------------------------------

    def _queue_update(self, body: dict) -> int:
        """Append an update to the bot's queue."""
        update_id = next(self._update_ids)
        self._updates.append((update_id, {"update_id": update_id, **body}))
        self._notify()
        return update_id

    def _queue_my_chat_member(self, user: FakeUser, old: str, new: str) -> None:
        """Queue the my_chat_member update Telegram sends when a user (un)blocks the bot."""
        now = int(time.time())
        member = {"user": self.bot_user()}
        old_member = {**member, "status": old}
        new_member = {**member, "status": new}
        if old == "kicked":
            old_member["until_date"] = 0
        if new == "kicked":
            new_member["until_date"] = 0
        self._queue_update(
            {
                "my_chat_member": {
                    "chat": user.as_chat(),
                    "from": user.as_user(),
                    "date": now,
                    "old_chat_member": old_member,
                    "new_chat_member": new_member,
                }
            }
        )

    def _wanted(self, update: dict, allowed: Iterable[str] | None = None) -> bool:
        """Whether the update's type is among the allowed_updates in force."""
        kinds = frozenset(allowed) if allowed else self._allowed_updates
        return any(key in kinds for key in update if key != "update_id")

    def _confirm(self, offset: int) -> None:
        """Forget updates the bot confirmed with getUpdates' offset (negative: keep the last -offset)."""
        if offset > 0:
            self._updates = [(uid, u) for uid, u in self._updates if uid >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _ready_updates(self, limit: int) -> list[tuple[int, dict]]:
        """Up to limit pending updates of an allowed type (others are dropped, as Telegram never sends them)."""
        self._updates = [(uid, u) for uid, u in self._updates if self._wanted(u)]
        return self._updates[:limit]

    def _mark_delivered(self, update_id: int) -> None:
        """Note that the bot has been given everything up to update_id."""
        self._delivered_up_to = max(self._delivered_up_to, update_id)
        self._last_activity = time.monotonic()
        self._notify()

    # -- HTTP -----------------------------------------------------------------------------------

    async def _read_params(self, request: web.Request) -> Params:
        """Collect parameters from the query string and a urlencoded, multipart or JSON body."""
        values: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON object") from None
                if not isinstance(body, dict):
                    raise bad_request("JSON object expected")
                values.update(body)
            elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for name, value in form.items():
                    if isinstance(value, web.FileField):
                        files[name] = UploadedFile(value.filename, value.content_type, value.file.read())
                    else:
                        values[name] = value
        return Params(values, files)

    async def _handle_api(self, request: web.Request) -> web.Response:
        """Serve POST/GET /bot<token>/<method>."""
        token = request.match_info["token"]
        if token != self.token:
            status, description = (401, "Unauthorized") if _TOKEN_RE.fullmatch(token) else (404, "Not Found")
            return web.json_response({"ok": False, "error_code": status, "description": description}, status=status)
        method_name = request.match_info["method"]
        entry = self._methods.get(method_name.lower())
        call = ApiCall(method=entry[0] if entry else method_name, params={})
        self.requests.append(call)
        polling = entry is not None and entry[0] == "getUpdates"
        if not polling:
            self._inflight += 1
            self._last_activity = time.monotonic()
        try:
            params = await self._read_params(request)
            call.params = params.decoded()
            if entry is None:
                raise ApiError(404, "Not Found")
            result = await self._dispatch(entry[0], entry[1], params)
            body: dict[str, Any] = {"ok": True, "result": result}
            if isinstance(result, _Described):
                body = {"ok": True, "result": result.result, "description": result.description}
            status = 200
        except ApiError as error:
            body, status = error.body(), error.status
        finally:
            if not polling:
                self._inflight -= 1
                self._last_activity = time.monotonic()
        call.status, call.response = status, body
        self._notify()
        return web.json_response(body, status=status)

    async def _dispatch(self, name: str, handler: Callable[[Params], Awaitable[Any]], params: Params) -> Any:
        """Run a method handler after injected failures and flood control."""
        failures = self._failures.get(name.lower())
        if failures:
            raise failures.popleft()
        rate = self._rate
        chat_id = params.int("chat_id") if params.has("chat_id") else None
        if rate is not None and name.lower() in rate.methods:
            wait = rate.check(chat_id, time.monotonic())
            if wait is not None:
                raise too_many_requests(wait)
        result = await handler(params)
        if rate is not None and name.lower() in rate.methods:
            rate.record(chat_id, time.monotonic())
        return result

    async def _handle_file(self, request: web.Request) -> web.Response:
        """Serve GET /file/bot<token>/<file_path>."""
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        self._last_activity = time.monotonic()
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    # -- shared validation ----------------------------------------------------------------------

    def _chat(self, params: Params, name: str = "chat_id") -> FakeUser:
        """The chat named by a chat_id parameter (only private chats with simulated users exist)."""
        raw = params.str(name)
        if raw is None:
            raise bad_request(f"{name} is empty")
        try:
            chat_id = int(raw.strip())
        except ValueError:
            raise bad_request("chat not found") from None
        user = self._users.get(chat_id)
        if user is None or not user.has_chat:
            raise bad_request("chat not found")
        return user

    @staticmethod
    def _writable(user: FakeUser) -> None:
        """Refuse writing to a user who blocked the bot."""
        if user.blocked:
            raise ApiError(403, FORBIDDEN_BLOCKED)

    def _format(self, params: Params, text_name: str, entities_name: str) -> FormattedText:
        """Parse a text/caption parameter per parse_mode, trim it and add auto-detected entities."""
        source = params.str(text_name) or ""
        if len(source.encode("utf-8", "surrogatepass")) > 1 << 15:
            raise bad_request("text is too long")
        parse_mode = params.str("parse_mode")
        if parse_mode and parse_mode.lower() != "none":
            try:
                formatted = parse_formatted(source, parse_mode, strict_ampersand=self.strict_html_ampersand)
            except UnsupportedParseMode:
                raise bad_request("unsupported parse_mode") from None
            except EntityParseError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        else:
            formatted = FormattedText(source, self._explicit_entities(params, entities_name, source))
        formatted = strip_whitespace(formatted)
        for entity in formatted.entities:
            if entity["type"] == "text_mention" and entity["user"]["id"] in self._users:
                entity["user"] = self._users[entity["user"]["id"]].as_user()
        formatted.entities = sorted(
            formatted.entities + detect_entities(formatted.text, formatted.entities),
            key=lambda e: (e["offset"], -e["length"]),
        )
        return formatted

    @staticmethod
    def _explicit_entities(params: Params, name: str, text: str) -> list[dict]:
        """Validate an entities/caption_entities parameter given instead of parse_mode."""
        entities = params.json(name, f"can't parse {name} JSON object")
        if entities is None:
            return []
        if not isinstance(entities, list):
            raise bad_request(f"can't parse {name} JSON object")
        result = []
        length = utf16_len(text)
        for entity in entities:
            if not isinstance(entity, dict) or not isinstance(entity.get("type"), str):
                raise bad_request("can't parse MessageEntity: expected an Object")
            offset, size = entity.get("offset"), entity.get("length")
            if not isinstance(offset, int) or not isinstance(size, int) or offset < 0 or size < 0:
                raise bad_request('can\'t parse MessageEntity: Field "offset" must be of type Number')
            if entity["type"] in ("mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number"):
                continue
            if offset + size > length:
                raise bad_request("entity end is out of the message text")
            result.append(dict(entity))
        return result

    @staticmethod
    def _check_text(formatted: FormattedText) -> None:
        """Telegram's limits for a message text."""
        if not formatted.text:
            raise bad_request("message text is empty")
        if utf16_len(formatted.text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")

    @staticmethod
    def _check_caption(formatted: FormattedText) -> None:
        """Telegram's limit for a media caption."""
        if utf16_len(formatted.text) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")

    def _reply_markup(self, params: Params, *, inline_only: bool = False) -> dict | None:
        """Validate reply_markup like Telegram; returns the markup dict or None."""
        value = params.json("reply_markup", "can't parse reply keyboard markup JSON object")
        if value is None:
            return None
        if not isinstance(value, dict):
            raise bad_request("object expected as reply markup")
        inline_rows = value.get("inline_keyboard")
        rows = value.get("keyboard")
        if inline_rows is not None:
            self._check_inline_keyboard(inline_rows)
        if rows is not None:
            self._check_reply_keyboard(rows)
        if inline_rows:
            return {"inline_keyboard": inline_rows}
        if inline_only:
            if rows or value.get("remove_keyboard") or value.get("force_reply"):
                raise bad_request("inline keyboard expected")
            return None
        if rows:
            return value
        if value.get("remove_keyboard") or value.get("hide_keyboard"):
            return value
        if value.get("force_reply"):
            return value
        return None

    @staticmethod
    def _check_inline_keyboard(rows: Any) -> None:
        """Shape and content rules of an InlineKeyboardMarkup."""
        array_error = bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        if not isinstance(rows, list):
            raise array_error
        count = 0
        for row in rows:
            if not isinstance(row, list):
                raise array_error
            for button in row:
                count += 1
                if not isinstance(button, dict):
                    raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
                if "text" not in button:
                    raise bad_request("can't parse inline keyboard button: Can't find field \"text\"")
                if not isinstance(button["text"], str):
                    raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
                if not button["text"].strip():
                    raise bad_request("BUTTON_TEXT_INVALID")
                for key in ("url", "callback_data"):
                    if key in button and not isinstance(button[key], str):
                        raise bad_request(f'can\'t parse inline keyboard button: Field "{key}" must be of type String')
                actions = [key for key in INLINE_BUTTON_ACTIONS if key in button and button[key] not in ("", None)]
                if not actions:
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                if len(actions) > 1:
                    raise bad_request(
                        "can't parse inline keyboard button: a button must have exactly one of "
                        f"{'/'.join(actions)} (fake server rule; Telegram silently uses only one)"
                    )
                data = button.get("callback_data")
                if data is not None and len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"(?i)^(https?://[^\s/?#]+\.[^\s/?#]+|tg://\S+)", url):
                    raise bad_request("BUTTON_URL_INVALID")
        if count > 100:
            raise bad_request("reply markup is too long")

    @staticmethod
    def _check_reply_keyboard(rows: Any) -> None:
        """Shape rules of a ReplyKeyboardMarkup."""
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('field "keyboard" must be an Array of Arrays')
        for row in rows:
            for button in row:
                if isinstance(button, dict):
                    if not isinstance(button.get("text"), str):
                        raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
                    text = button["text"]
                elif isinstance(button, str):
                    text = button
                else:
                    raise bad_request("can't parse keyboard button: KeyboardButton must be a String or an Object")
                if not text.strip():
                    raise bad_request("BUTTON_TEXT_INVALID")

    def _reply_target(self, params: Params, user: FakeUser) -> ChatMessage | None:
        """The message a new message replies to (reply_parameters or reply_to_message_id)."""
        reply = params.json("reply_parameters", "can't parse reply parameters JSON object")
        if reply is None:
            if not params.has("reply_to_message_id"):
                return None
            reply = {
                "message_id": params.int("reply_to_message_id"),
                "allow_sending_without_reply": params.bool("allow_sending_without_reply"),
            }
        if not isinstance(reply, dict):
            raise bad_request("object expected as reply parameters")
        message_id = reply.get("message_id")
        if not isinstance(message_id, int):
            raise bad_request('can\'t parse reply parameters: Field "message_id" must be of type Number')
        target = user._messages.get(message_id)
        if target is None or target.deleted:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return target

    def _new_bot_message(self, user: FakeUser, params: Params, markup: dict | None) -> ChatMessage:
        """A fresh message from the bot to user, with reply markup and reply target."""
        return ChatMessage(
            message_id=next(user._message_ids),
            chat_id=user.id,
            from_bot=True,
            date=int(time.time()),
            sender=self.bot_user(),
            chat=user.as_chat(),
            raw_reply_markup=markup,
            reply_to=self._reply_target(params, user),
        )

    def _message_to_edit(self, params: Params) -> tuple[FakeUser, ChatMessage]:
        """Resolve chat_id + message_id of an edit method."""
        if params.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        if not params.has("chat_id") and not params.has("message_id"):
            raise bad_request("message identifier is not specified")
        user = self._chat(params)
        message = user._messages.get(params.int("message_id"))
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        self._writable(user)
        return user, message

    @staticmethod
    def _apply_edit(message: ChatMessage, changes: dict[str, Any]) -> dict:
        """Apply an edit unless nothing would change ("message is not modified")."""
        before = message._snapshot()
        old = {key: getattr(message, key) for key in changes}
        for key, value in changes.items():
            setattr(message, key, value)
        after = message._snapshot()
        if {k: v for k, v in after.items() if k != "date"} == {k: v for k, v in before.items() if k != "date"}:
            for key, value in old.items():
                setattr(message, key, value)
            raise bad_request(NOT_MODIFIED)
        message.history.append(before)
        message.edited = True
        message.edit_date = int(time.time())
        return message.to_api()

    # -- files ----------------------------------------------------------------------------------

    def _register_file(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        """Store file content under fresh Telegram-like ids."""
        file_id, unique_id = _new_file_ids(kind)
        stored = StoredFile(file_id, unique_id, kind, data, file_name, mime_type, width, height)
        self._files[file_id] = stored
        return stored

    def _register_photo(self, data: bytes, width: int, height: int) -> list[dict]:
        """Store a picture and its smaller variants; returns the PhotoSize list (smallest first)."""
        dimensions = _photo_dimensions(width, height)
        sizes = []
        for w, h in dimensions:
            content = data if (w, h) == dimensions[-1] else fake_jpeg(w, h)
            sizes.append(self._register_file("photo", content, mime_type="image/jpeg", width=w, height=h))
        photo_sizes = [s.as_photo_size() for s in sizes]
        for stored in sizes:
            stored.photo_sizes = photo_sizes
        return photo_sizes

    @staticmethod
    def _document_object(stored: StoredFile) -> dict:
        """A Bot API Document for a stored file."""
        document = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": len(stored.data)}
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        return document

    def _input_file(self, params: Params, name: str, kind: str) -> tuple[StoredFile | None, UploadedFile | None]:
        """Resolve a photo/document parameter: a known file_id, or an upload (URLs cannot be fetched)."""
        upload = params.file(name)
        if upload is not None:
            if not upload.data:
                raise bad_request("file must be non-empty")
            if len(upload.data) > MAX_UPLOAD_BYTES:
                raise ApiError(413, "Request Entity Too Large")
            return None, upload
        value = params.str(name)
        if value is None:
            raise bad_request(f"there is no {name} in the request")
        if re.match(r"(?i)^https?://", value):
            raise bad_request("failed to get HTTP URL content")
        stored = self._files.get(value.strip())
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request(f"can't use file of type {stored.kind.capitalize()} as {kind.capitalize()}")
        return stored, None

    # -- methods: bot and updates ---------------------------------------------------------------

    async def _api_get_me(self, params: Params) -> dict:
        """getMe."""
        return self.bot_user()

    async def _api_get_updates(self, params: Params) -> list[dict]:
        """getUpdates with Telegram's offset confirmation and long polling."""
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
                "webhook first",
            )
        offset = params.int("offset")
        limit = min(max(params.int("limit", 100), 1), 100)
        timeout = min(max(params.int("timeout"), 0), LONG_POLL_MAX_TIMEOUT)
        if params.has("allowed_updates"):
            allowed = params.json("allowed_updates", "can't parse allowed updates JSON object")
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
        self._confirm(offset)
        if self._poll_abort is not None and not self._poll_abort.done():
            self._poll_abort.set_result(
                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
            )
        abort: asyncio.Future = asyncio.get_running_loop().create_future()
        self._poll_abort = abort
        deadline = time.monotonic() + timeout
        try:
            while True:
                ready = self._ready_updates(limit)
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._closing:
                    break
                changed = asyncio.ensure_future(self._changed.wait())
                try:
                    await asyncio.wait({changed, abort}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    changed.cancel()
                if abort.done():
                    raise ApiError(409, abort.result())
        finally:
            if self._poll_abort is abort:
                self._poll_abort = None
        if ready:
            self._mark_delivered(ready[-1][0])
        return [update for _, update in ready]

    async def _api_set_webhook(self, params: Params) -> Any:
        """setWebhook: validate like Telegram and start delivering updates by POST."""
        url = params.str("url")
        if not url:
            return await self._api_delete_webhook(params)
        parsed = urlsplit(url if "://" in url else "https://" + url)
        host = parsed.hostname or ""
        try:
            port = parsed.port or (443 if parsed.scheme == "https" else 80)
        except ValueError:
            raise bad_request("invalid webhook URL specified") from None
        if parsed.scheme not in ("http", "https") or not host:
            raise bad_request("invalid webhook URL specified")
        local = _is_loopback(host) and self.allow_local_webhook
        if parsed.scheme != "https" and not local:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if not local and port not in WEBHOOK_PORTS:
            raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        if not local and self._webhook_target is None:
            raise bad_request(
                "bad webhook: Failed to resolve host: Name or service not known "
                "(fake server: call server.deliver_webhooks_to(local_url) for public webhook URLs)"
            )
        secret = params.str("secret_token")
        if secret is not None and len(secret) > 256:
            raise bad_request("secret token is too long")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = params.int("max_connections", 40)
        if not 1 <= max_connections <= 100:
            raise bad_request("max_connections must be between 1 and 100")
        allowed = params.json("allowed_updates", "can't parse allowed updates JSON object")
        now = time.monotonic()
        if now < self._next_set_webhook:
            raise too_many_requests(1)
        self._next_set_webhook = now + 1
        if self._poll_abort is not None and not self._poll_abort.done():
            self._poll_abort.set_result("Conflict: terminated by setWebhook request")
        if params.bool("drop_pending_updates"):
            self._updates.clear()
        if self._webhook is not None:
            await self._stop_webhook_task(self._webhook)
        if allowed is not None:
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
        hook = _Webhook(url, secret, max_connections, params.str("ip_address"), allowed or None)
        self._webhook = hook
        hook.task = asyncio.create_task(self._deliver_webhooks(hook))
        return _Described(True, "Webhook was set")

    async def _api_delete_webhook(self, params: Params) -> Any:
        """deleteWebhook (and setWebhook with an empty url)."""
        if params.bool("drop_pending_updates"):
            self._updates.clear()
            self._notify()
        hook, self._webhook = self._webhook, None
        if hook is None:
            return _Described(True, "Webhook is already deleted")
        await self._stop_webhook_task(hook)
        return _Described(True, "Webhook was deleted")

    async def _api_get_webhook_info(self, params: Params) -> dict:
        """getWebhookInfo."""
        hook = self._webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.ip_address:
                info["ip_address"] = hook.ip_address
            if hook.allowed_updates:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    async def _stop_webhook_task(self, hook: _Webhook) -> None:
        """Cancel a webhook's delivery loop."""
        if hook.task is not None:
            hook.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await hook.task
            hook.task = None

    async def _deliver_webhooks(self, hook: _Webhook) -> None:
        """POST queued updates to the webhook one by one, retrying refused ones with backoff."""
        delay = self.webhook_retry_delay
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        while not self._closing:
            ready = self._ready_updates(1)
            if not ready:
                await self._wait_change(1.0)
                continue
            update_id, update = ready[0]
            target = hook.url
            if self._webhook_target and not _is_loopback(urlsplit(hook.url).hostname or ""):
                target = self._webhook_target
            error = None
            self._inflight += 1
            try:
                assert self._session is not None
                timeout = aiohttp.ClientTimeout(total=10)
                async with self._session.post(
                    target, data=json.dumps(update), headers=headers, timeout=timeout
                ) as resp:
                    if not 200 <= resp.status < 300:
                        error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                error = f"Connection failed: {exc}"
            finally:
                self._inflight -= 1
                self._last_activity = time.monotonic()
            if error is None:
                self._updates = [(uid, u) for uid, u in self._updates if uid != update_id]
                self._mark_delivered(update_id)
                delay = self.webhook_retry_delay
            else:
                hook.last_error_date, hook.last_error_message = int(time.time()), error
                self._notify()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    # -- methods: messages ----------------------------------------------------------------------

    async def _api_send_message(self, params: Params) -> dict:
        """sendMessage."""
        user = self._chat(params)
        if not params.str("text"):
            raise bad_request("message text is empty")
        markup = self._reply_markup(params)
        formatted = self._format(params, "text", "entities")
        preview = params.json("link_preview_options", "can't parse link preview options JSON object")
        if preview is not None and not isinstance(preview, dict):
            raise bad_request("object expected as link preview options")
        self._writable(user)
        self._check_text(formatted)
        message = self._new_bot_message(user, params, markup)
        message.text, message.entities = formatted.text, formatted.entities
        message.raw_text, message.parse_mode = params.str("text"), params.str("parse_mode")
        if preview and any(e["type"] in ("url", "text_link") for e in formatted.entities):
            message.link_preview_options = preview
        return user._add_bot_message(message).to_api()

    async def _api_send_photo(self, params: Params) -> dict:
        """sendPhoto (an upload or a known photo file_id)."""
        user = self._chat(params)
        markup = self._reply_markup(params)
        stored, upload = self._input_file(params, "photo", "photo")
        formatted = self._format(params, "caption", "caption_entities")
        self._writable(user)
        self._check_caption(formatted)
        if upload is not None:
            if len(upload.data) > MAX_PHOTO_BYTES:
                raise bad_request("PHOTO_SAVE_FILE_INVALID")
            size = image_size(upload.data)
            if size is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            width, height = size
            if width + height > 10000 or max(width, height) > 20 * min(width, height):
                raise bad_request("PHOTO_INVALID_DIMENSIONS")
            photo_sizes = self._register_photo(upload.data, width, height)
        else:
            assert stored is not None
            photo_sizes = stored.photo_sizes
        message = self._new_bot_message(user, params, markup)
        message.photo_sizes = photo_sizes
        self._set_bot_caption(message, params, formatted)
        return user._add_bot_message(message).to_api()

    async def _api_send_document(self, params: Params) -> dict:
        """sendDocument (an upload or a known document file_id)."""
        user = self._chat(params)
        markup = self._reply_markup(params)
        stored, upload = self._input_file(params, "document", "document")
        formatted = self._format(params, "caption", "caption_entities")
        self._writable(user)
        self._check_caption(formatted)
        if upload is not None:
            name = upload.filename or "document"
            mime = (
                upload.content_type
                if upload.content_type and upload.content_type != "application/octet-stream"
                else mimetypes.guess_type(name)[0] or "application/octet-stream"
            )
            stored = self._register_file("document", upload.data, file_name=name, mime_type=mime)
        assert stored is not None
        message = self._new_bot_message(user, params, markup)
        message.document = self._document_object(stored)
        self._set_bot_caption(message, params, formatted)
        return user._add_bot_message(message).to_api()

    @staticmethod
    def _set_bot_caption(message: ChatMessage, params: Params, formatted: FormattedText) -> None:
        """Attach a parsed caption to a media message."""
        if formatted.text:
            message.caption, message.caption_entities = formatted.text, formatted.entities
            message.raw_caption, message.parse_mode = params.str("caption"), params.str("parse_mode")

    async def _api_edit_message_text(self, params: Params) -> dict:
        """editMessageText (omitting reply_markup removes the inline keyboard, as on Telegram)."""
        if not params.str("text"):
            raise bad_request("message text is empty")
        formatted = self._format(params, "text", "entities")
        markup = self._reply_markup(params, inline_only=True)
        _, message = self._message_to_edit(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        self._check_text(formatted)
        changes = {"text": formatted.text, "entities": formatted.entities, "raw_reply_markup": markup}
        result = self._apply_edit(message, changes)
        message.raw_text, message.parse_mode = params.str("text"), params.str("parse_mode")
        return result

    async def _api_edit_message_caption(self, params: Params) -> dict:
        """editMessageCaption."""
        formatted = self._format(params, "caption", "caption_entities")
        markup = self._reply_markup(params, inline_only=True)
        _, message = self._message_to_edit(params)
        if message.text is not None:
            raise bad_request("there is no caption in the message to edit")
        self._check_caption(formatted)
        changes = {
            "caption": formatted.text or None,
            "caption_entities": formatted.entities,
            "raw_reply_markup": markup,
        }
        result = self._apply_edit(message, changes)
        message.raw_caption, message.parse_mode = params.str("caption"), params.str("parse_mode")
        return result

    async def _api_edit_message_reply_markup(self, params: Params) -> dict:
        """editMessageReplyMarkup (no reply_markup removes the keyboard)."""
        markup = self._reply_markup(params, inline_only=True)
        _, message = self._message_to_edit(params)
        return self._apply_edit(message, {"raw_reply_markup": markup})

    async def _api_delete_message(self, params: Params) -> bool:
        """deleteMessage (the bot may delete its own and the user's messages in a private chat)."""
        user = self._chat(params)
        if not params.has("message_id"):
            raise bad_request("message identifier is not specified")
        message = user._messages.get(params.int("message_id"))
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        return True

    async def _api_copy_message(self, params: Params) -> dict:
        """copyMessage: a new bot message with the same content; returns its MessageId."""
        message = await self._copy_or_forward(params, "message to copy not found", forward=False)
        return {"message_id": message.message_id}

    async def _api_forward_message(self, params: Params) -> dict:
        """forwardMessage: a new bot message with forward_origin."""
        message = await self._copy_or_forward(params, "message to forward not found", forward=True)
        return message.to_api()

    async def _copy_or_forward(self, params: Params, not_found: str, *, forward: bool) -> ChatMessage:
        """Shared part of copyMessage and forwardMessage."""
        target_user = self._chat(params)
        source_user = self._chat(params, "from_chat_id")
        if not params.has("message_id"):
            raise bad_request("message identifier is not specified")
        source = source_user._messages.get(params.int("message_id"))
        if source is None or source.deleted:
            raise bad_request(not_found)
        markup = None if forward else self._reply_markup(params)
        caption = None
        if not forward and params.has("caption"):
            caption = self._format(params, "caption", "caption_entities")
            self._check_caption(caption)
        self._writable(target_user)
        message = self._new_bot_message(target_user, params, markup if not forward else None)
        message.text, message.entities, message.raw_text = source.text, source.entities, source.raw_text
        message.photo_sizes, message.document = source.photo_sizes, source.document
        message.sticker, message.location = source.sticker, source.location
        message.caption, message.caption_entities = source.caption, source.caption_entities
        if caption is not None:
            message.caption, message.caption_entities = caption.text or None, caption.entities
        if forward:
            message.forward_origin = {"type": "user", "sender_user": source.sender, "date": source.date}
            if source.raw_reply_markup and source.raw_reply_markup.get("inline_keyboard"):
                message.raw_reply_markup = source.raw_reply_markup
        return target_user._add_bot_message(message)

    async def _api_answer_callback_query(self, params: Params) -> bool:
        """answerCallbackQuery: once per query, within callback_answer_timeout."""
        query = self._callback_queries.get(params.str("callback_query_id") or "")
        text = params.str("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        if query is None or query.answered or time.monotonic() - query.created > self.callback_answer_timeout:
            raise bad_request(QUERY_TOO_OLD)
        query.answered = True
        query.user.callback_answers.append(
            CallbackAnswer(
                query_id=query.query_id,
                data=query.data,
                text=text,
                show_alert=params.bool("show_alert"),
                url=params.str("url"),
                cache_time=params.int("cache_time"),
            )
        )
        return True

    async def _api_get_file(self, params: Params) -> dict:
        """getFile: assigns a file_path for downloads at /file/bot<token>/<file_path>."""
        stored = self._files.get((params.str("file_id") or "").strip())
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        if stored.file_path is None:
            folder = {"photo": "photos", "document": "documents", "sticker": "stickers"}[stored.kind]
            extension = {"photo": ".jpg", "sticker": ".webp"}.get(stored.kind)
            if extension is None:
                extension = (
                    "." + stored.file_name.rsplit(".", 1)[-1] if stored.file_name and "." in stored.file_name else ""
                )
            stored.file_path = f"{folder}/file_{next(self._file_paths)}{extension}"
            self._files_by_path[stored.file_path] = stored
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    async def _api_send_chat_action(self, params: Params) -> bool:
        """sendChatAction."""
        user = self._chat(params)
        action = params.str("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._writable(user)
        user.chat_actions.append(action)
        return True

    # -- methods: commands, menu, session -------------------------------------------------------

    def _scope_key(self, scope: Any, *, check_chat: bool = True) -> tuple:
        """A hashable key for a BotCommandScope, validated like Telegram."""
        if not isinstance(scope, dict):
            raise bad_request("can't parse BotCommandScope: BotCommandScope must be an Object")
        kind = scope.get("type")
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return (kind,)
        if kind not in ("chat", "chat_administrators", "chat_member"):
            raise bad_request("can't parse BotCommandScope: Unsupported type specified")
        raw_chat = scope.get("chat_id")
        if raw_chat in (None, ""):
            raise bad_request("can't parse BotCommandScope: Empty chat_id specified")
        try:
            chat_id = int(raw_chat)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        if check_chat and (chat_id not in self._users or not self._users[chat_id].has_chat):
            raise bad_request("chat not found")
        if kind == "chat_member":
            user_id = scope.get("user_id")
            if not isinstance(user_id, int) or user_id <= 0:
                raise bad_request("can't parse BotCommandScope: Invalid user_id specified")
            return (kind, chat_id, user_id)
        return (kind, chat_id)

    def _commands_key(self, params: Params) -> tuple[tuple, str]:
        """(scope key, language_code) of a *MyCommands call."""
        scope = params.json("scope", "can't parse BotCommandScope JSON object")
        language = params.str("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return self._scope_key(scope if scope is not None else {"type": "default"}), language

    async def _api_set_my_commands(self, params: Params) -> bool:
        """setMyCommands, stored per (scope, language_code)."""
        commands = params.json("commands", "can't parse commands JSON object")
        if commands is None:
            commands = []
        if not isinstance(commands, list):
            raise bad_request("expected an Array of BotCommand")
        cleaned = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad_request("can't parse BotCommand: expected an Object")
            for key in ("command", "description"):
                if key not in item:
                    raise bad_request(f"can't parse BotCommand: Can't find field \"{key}\"")
                if not isinstance(item[key], str):
                    raise bad_request(f'can\'t parse BotCommand: Field "{key}" must be of type String')
            command = item["command"].strip().removeprefix("/")
            description = item["description"].strip()
            if not command:
                raise bad_request("command must be non-empty")
            if len(command) > 32:
                raise bad_request("command length must not exceed 32")
            if not description:
                raise bad_request("command description must be non-empty")
            if len(description) > 256:
                raise bad_request("command description length must not exceed 256")
            if not _COMMAND_RE.fullmatch(command):
                raise bad_request("BOT_COMMAND_INVALID")
            cleaned.append({"command": command, "description": description})
        if len(cleaned) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        key = self._commands_key(params)
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    async def _api_get_my_commands(self, params: Params) -> list[dict]:
        """getMyCommands for exactly the given scope and language."""
        return list(self._commands.get(self._commands_key(params), []))

    async def _api_delete_my_commands(self, params: Params) -> bool:
        """deleteMyCommands."""
        self._commands.pop(self._commands_key(params), None)
        return True

    async def _api_set_chat_menu_button(self, params: Params) -> bool:
        """setChatMenuButton (default button when chat_id is omitted)."""
        chat_id = self._chat(params).id if params.has("chat_id") else None
        button = params.json("menu_button", "can't parse menu button JSON object")
        if button is None:
            button = {"type": "default"}
        if not isinstance(button, dict):
            raise bad_request("can't parse menu button: MenuButton must be an Object")
        kind = button.get("type")
        if kind not in ("default", "commands", "web_app"):
            raise bad_request("can't parse menu button: Unsupported type specified")
        if kind == "web_app":
            url = (button.get("web_app") or {}).get("url", "")
            if not isinstance(button.get("text"), str) or not button["text"]:
                raise bad_request("can't parse menu button: Can't find field \"text\"")
            if not str(url).startswith("https://"):
                raise bad_request("can't parse menu button: Only HTTPS links are allowed")
        self.menu_buttons[chat_id] = button
        return True

    async def _api_get_chat_menu_button(self, params: Params) -> dict:
        """getChatMenuButton."""
        chat_id = self._chat(params).id if params.has("chat_id") else None
        button = self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "commands"}
        return button if button.get("type") != "default" else {"type": "commands"}

    async def _api_close(self, params: Params) -> bool:
        """close (recorded; the fake keeps serving)."""
        self.closed = True
        return True

    async def _api_log_out(self, params: Params) -> bool:
        """logOut (recorded; the fake keeps serving)."""
        self.logged_out = True
        return True
