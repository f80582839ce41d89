"""A test user talking to the dialogue directly (no Telegram): keeps the latest buttons so tests can press them."""

from __future__ import annotations

from bot.dialogue.engine import Dialogue
from bot.dialogue.types import Actor, Button, ButtonIn, CommandIn, OtherIn, PhotoIn, Reply, TextIn


class Chat:
    def __init__(self, dialogue: Dialogue, user_id: int, lang: str | None = "es", first_name: str = "Ana"):
        self.dialogue = dialogue
        self.actor = Actor(user_id, first_name, client_lang=lang)
        self.buttons: list[Button] = []
        self.replies: list[Reply] = []
        self._photos = 0

    async def _run(self, event) -> list[Reply]:
        self.replies = await self.dialogue.handle(self.actor, event)
        for r in self.replies:
            if r.buttons:
                self.buttons = [b for row in r.buttons for b in row]
        return self.replies

    @property
    def text(self) -> str:
        return "\n".join(r.text.plain() for r in self.replies)

    async def send(self, text: str):
        if text.startswith("/") and len(text) > 1:
            name, _, args = text[1:].partition(" ")
            return await self._run(CommandIn(name.lower(), args))
        return await self._run(TextIn(text))

    async def photo(self, caption: str | None = None):
        self._photos += 1
        return await self._run(PhotoIn(f"photo-{self.actor.user_id}-{self._photos}", f"u{self._photos}", caption))

    async def other(self, kind: str = "sticker"):
        return await self._run(OtherIn(kind))

    def find(self, action: str, arg: str | None = None) -> Button:
        for b in self.buttons:
            _, act, a = b.data.split(":", 2)
            if act == action and (arg is None or a == arg):
                return b
        raise AssertionError(f"no button {action}:{arg} among {[b.data for b in self.buttons]}")

    async def press(self, action: str, arg: str | None = None):
        return await self._run(ButtonIn(self.find(action, arg).data))

    async def press_data(self, data: str):
        return await self._run(ButtonIn(data))
