"""A fake Telegram Bot API server and simulated users for end-to-end tests (see server.py)."""

from tests.fakebot.html_check import EntityParseError, FormattedText, parse_formatted, parse_html, utf16_len
from tests.fakebot.server import (
    ApiCall,
    ButtonNotFound,
    CallbackAnswer,
    ChatMessage,
    FakeTelegram,
    FakeUser,
    StoredFile,
    WaitTimeout,
    fake_jpeg,
)

__all__ = [
    "ApiCall",
    "ButtonNotFound",
    "CallbackAnswer",
    "ChatMessage",
    "EntityParseError",
    "FakeTelegram",
    "FakeUser",
    "FormattedText",
    "StoredFile",
    "WaitTimeout",
    "fake_jpeg",
    "parse_formatted",
    "parse_html",
    "utf16_len",
]
