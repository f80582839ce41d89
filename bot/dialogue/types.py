"""What goes into the dialogue (events from any transport) and what comes out (replies to render)."""

from __future__ import annotations

from dataclasses import dataclass, field

TEXT_LIMIT = 4096  # Telegram's limit for a message, counted after formatting is parsed
CAPTION_LIMIT = 1024
CALLBACK_LIMIT = 64  # bytes


@dataclass(frozen=True, slots=True)
class Actor:
    """Who sent the event, as the transport knows them."""

    user_id: int
    first_name: str = ""
    last_name: str | None = None
    username: str | None = None
    client_lang: str | None = None


@dataclass(frozen=True, slots=True)
class TextIn:
    text: str


@dataclass(frozen=True, slots=True)
class PhotoIn:
    file_id: str
    unique_id: str
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class ButtonIn:
    data: str  # as it came from the client: never trusted, always parsed and checked
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class CommandIn:
    name: str  # without the slash, lower case
    args: str = ""


@dataclass(frozen=True, slots=True)
class OtherIn:
    """A sticker, a voice note, a location...: something the dialogue cannot use."""

    kind: str


Event = TextIn | PhotoIn | ButtonIn | CommandIn | OtherIn


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str


@dataclass(slots=True)
class Rich:
    """Text with light formatting, built from segments so user text is escaped after it is cut, never before."""

    parts: list[tuple[str, str | None]] = field(default_factory=list)

    def add(self, text: str, style: str | None = None) -> Rich:
        """Appends plain (style None) or bold ("b") / italic ("i") text."""
        if text:
            self.parts.append((text, style))
        return self

    def line(self, text: str = "", style: str | None = None) -> Rich:
        """Appends text and a line break."""
        return self.add(text, style).add("\n")

    def plain(self) -> str:
        """The text without formatting (the console, and Telegram's length count)."""
        return "".join(t for t, _ in self.parts)

    def cut(self, limit: int) -> Rich:
        """The first `limit` characters (UTF-16 units, as Telegram counts), with an ellipsis if anything was cut."""
        if _utf16_len(self.plain()) <= limit:
            return self
        out, used = Rich(), 0
        for text, style in self.parts:
            room = limit - 1 - used
            if room <= 0:
                break
            piece = _utf16_prefix(text, room)
            out.add(piece, style)
            used += _utf16_len(piece)
            if len(piece) < len(text):
                break
        return out.add("…")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _utf16_prefix(text: str, units: int) -> str:
    """The longest prefix of `text` that fits in `units` UTF-16 code units, never splitting a character."""
    total = 0
    for i, ch in enumerate(text):
        total += 2 if ord(ch) > 0xFFFF else 1
        if total > units:
            return text[:i]
    return text


@dataclass(slots=True)
class Reply:
    """One message to show: text, buttons (rows), an optional photo; `edit` lets the transport edit in place."""

    text: Rich
    buttons: list[list[Button]] = field(default_factory=list)
    photo_file_id: str | None = None
    edit: bool = False
    to_user: int | None = None  # None: the user who sent the event; else a notification to someone else
    alert: str | None = None  # a short toast for the button press (callback answer), if any
    menu: str | None = None  # the chat's command menu becomes "lead:<lang>" (a team lead's), or "" (the general one)
