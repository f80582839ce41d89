"""The real bot (python-telegram-bot Application, real HTTP) against the fake Bot API server: workers in Spanish,
Russian and English join with an invite and submit ideas with a photo; a restart loses nothing; hostile input never
makes the bot send something Telegram would refuse."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from telegram.ext import Application

from bot.config import Settings
from bot.dialogue.engine import Dialogue
from bot.services.onboarding import create_enterprise
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import Idea
from bot.telegram.app import ALLOWED_UPDATES, build_application
from tests.fakebot import FakeTelegram, FakeUser

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bot:
    """The bot process: Application + dialogue over a database URL; can be stopped and started again."""

    def __init__(self, server: FakeTelegram, db_url: str, library, matcher):
        self.server, self.db_url, self.library, self.matcher = server, db_url, library, matcher
        self.app: Application | None = None
        self.db: Database | None = None

    def settings(self) -> Settings:
        return Settings(
            bot_token=self.server.token,
            database_url=self.db_url,
            telegram_api_base_url=self.server.api_base_url,
            telegram_file_base_url=self.server.file_base_url,
            _env_file=None,
        )

    async def start(self, webhook: bool = False) -> None:
        self.db = Database(self.db_url)
        await upgrade(self.db.engine)
        dialogue = Dialogue(self.db, self.library, self.matcher)
        self.app = build_application(self.settings(), dialogue, with_timer=False)
        await self.app.initialize()
        await self.app.post_init(self.app)  # run_polling() would call it; here the test drives the start-up
        await self.app.start()
        if webhook:
            port = free_port()
            self.server.deliver_webhooks_to(f"http://127.0.0.1:{port}/telegram")
            await self.app.updater.start_webhook(
                listen="127.0.0.1",
                port=port,
                url_path="telegram",
                secret_token="e2e-Secret_1",
                webhook_url="https://bot.example.org/telegram",
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            await self.app.updater.start_polling(poll_interval=0, timeout=2, allowed_updates=ALLOWED_UPDATES)

    async def stop(self) -> None:
        if self.app is not None:
            with contextlib.suppress(Exception):
                if self.app.updater.running:
                    await self.app.updater.stop()
                if self.app.running:
                    await self.app.stop()
                await self.app.shutdown()
            self.app = None
        if self.db is not None:
            await self.db.dispose()
            self.db = None


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    # "settled" = no request from the bot for this long: a loaded 2-core CI machine can pause a handler for more
    # than the default 0.2 s between two of its requests
    async with FakeTelegram(quiet_period=0.35) as fake:
        yield fake


@pytest.fixture
async def bot(server, tmp_path, library, matcher) -> AsyncIterator[Bot]:
    b = Bot(server, f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}", library, matcher)
    await b.start()
    yield b
    await b.stop()


async def enterprise(bot: Bot, lang: str, departments=("Corte", "Costura")):
    async with bot.db.transaction() as s:
        return await create_enterprise(s, f"Empresa {lang}", lang, list(departments))


def buttons(user: FakeUser) -> list[tuple[str, str]]:
    msg = user.last_bot_message()
    return [b for row in (msg.reply_markup or []) for b in row] if msg else []


async def act(server: FakeTelegram, coro) -> None:
    await coro
    await server.settle()


async def press(server: FakeTelegram, user: FakeUser, action: str, arg: str | None = None) -> None:
    """Presses the button of the newest keyboard whose callback data has this action (and argument)."""
    for _text, data in buttons(user):
        _, act_, a = data.split(":", 2)
        if act_ == action and (arg is None or a == arg):
            await act(server, user.press(data))
            return
    raise AssertionError(f"no button {action}:{arg} in {buttons(user)}")


def refused(server: FakeTelegram) -> list:
    """Calls Telegram would have refused (a double-tap edit that changed nothing is handled, not an error here)."""
    return [
        c
        for c in server.calls(ok=False)
        if c.method != "getUpdates" and c.status != 0 and "not modified" not in (c.description or "")
    ]


async def submit_with_photo(server, user, invite_code, problem, idea_text, area="energy"):
    await act(server, user.send(f"/start {invite_code}"))
    await act(server, user.send("/new"))
    await press(server, user, "a", area)
    await press(server, user, "d")
    await act(server, user.send(problem))
    await press(server, user, "pd")
    await act(server, user.send(idea_text))
    await press(server, user, "b", "energy")
    await press(server, user, "bd")
    await press(server, user, "qs")
    await act(server, user.send_photo(caption=None))
    await press(server, user, "an", "1")
    await press(server, user, "ok")


CASES = [
    (
        "es",
        "Ana",
        "El compresor pierde aire 💨 en la línea de costura — ¡se oye todo el día! <3 & {x}",
        "Revisar los acoples cada viernes y cambiar los gastados ✅",
        "N.º 1",
    ),
    (
        "ru",
        "Айгуль",
        "В цеху всю ночь горит свет 💡, даже когда никого нет — «экономия» ноль",
        "Поставить датчики движения и выключатели по зонам ✅",
        "№ 1",
    ),
    (
        "en",
        "John",
        "Lights stay on all night in the warehouse 💡 <b>nobody</b> switches them off",
        "Motion sensors and one switch per zone ✅",
        "No. 1",
    ),
]


@pytest.mark.parametrize(("lang", "name", "problem", "idea_text", "receipt"), CASES)
async def test_a_worker_submits_an_idea_with_a_photo_in_their_language(
    server, bot, lang, name, problem, idea_text, receipt
):
    ent = await enterprise(bot, lang)
    user = server.user(1000 + len(lang) + ord(lang[0]), first_name=name, language_code=lang)
    await submit_with_photo(server, user, ent.worker_invite.code, problem, idea_text)
    assert receipt in user.last_bot_message().text
    if lang == "ru":
        assert "отправлена" in user.last_bot_message().text
    if lang == "es":
        assert "enviada" in user.last_bot_message().text
    async with bot.db.transaction() as s:
        (idea,) = list(await s.scalars(select(Idea)))
    assert idea.problem == problem and idea.idea == idea_text and idea.lang == lang
    photo_file = idea.photo_file_id
    assert photo_file and server.file(photo_file)  # Telegram's file_id kept, not the bytes
    assert refused(server) == []


async def test_every_text_the_worker_sees_is_in_their_language(server, bot):
    ent = await enterprise(bot, "ru")
    user = server.user(2001, first_name="Бакыт", language_code="ky")  # Kyrgyz client: Russian is served
    await submit_with_photo(
        server, user, ent.worker_invite.code, "Течёт кран в туалете", "Поменять прокладку", area="water"
    )
    for text in server.bot_texts(2001):
        letters = [c for c in text if c.isalpha()]
        latin = [c for c in letters if c.isascii()]
        # Department names and the enterprise name were typed in Spanish; everything else must be Russian.
        stripped = text.replace("Corte", "").replace("Costura", "").replace("Empresa ru", "")
        assert not any(w in stripped for w in ("the ", "The ", "your ", "Your ")), text
        assert len(latin) <= max(8, len(letters) // 4), text


async def test_the_bot_restarts_in_the_middle_and_nothing_is_lost(server, bot):
    ent = await enterprise(bot, "es")
    user = server.user(3001, first_name="Rosa", language_code="es-BO")
    await act(server, user.send(f"/start {ent.worker_invite.code}"))
    await act(server, user.send("/new"))
    await press(server, user, "a", "water")
    await press(server, user, "d")
    await act(server, user.send("La pila del baño gotea día y noche"))
    await bot.stop()  # the process dies
    await user.send("/start")  # typed while the bot is down: Telegram keeps it for the next process
    await bot.start()  # a new process on the same database
    await server.settle()
    assert "rc" in [d.split(":")[1] for _t, d in buttons(user)]  # offered to continue the unfinished idea
    await press(server, user, "rc")
    await press(server, user, "pd")
    await act(server, user.send("Cambiar el cuerito de la pila"))
    await press(server, user, "bd")
    await press(server, user, "qs")
    await press(server, user, "fs")
    await press(server, user, "an", "0")
    await press(server, user, "ok")
    async with bot.db.transaction() as s:
        (idea,) = list(await s.scalars(select(Idea)))
    assert idea.problem == "La pila del baño gotea día y noche"
    assert idea.idea == "Cambiar el cuerito de la pila" and idea.area == "water"
    assert refused(server) == []


HOSTILE = [
    "<b>",
    "</i>&amp;",
    "a < b & c > d",
    "*bold* _it_ [x](y) `z`",
    "{} {0} {name} %s %d %(x)s",
    "\u200b\u200f\u202eevil",
    "x" * 4096,
    "ñ" * 3000 + "💧" * 600,
    "🙂" * 2000,
    "\\",
    "\x01\x02\x7f",
]


async def answer_current_step(server: FakeTelegram, user: FakeUser) -> bool:
    """Answers whatever the bot asks now with a valid answer; False once the summary (Send) is shown."""
    actions = {d.split(":")[1]: d for _t, d in buttons(user)}
    for action, arg in (
        ("ok", None),
        ("a", "chemicals"),
        ("d", None),
        ("pd", None),
        ("bd", None),
        ("qs", None),
        ("fs", None),
        ("an", "0"),
    ):
        if action in actions:
            if action == "ok":
                return False
            await press(server, user, action, arg)
            return True
    text = user.last_bot_message().text
    answer = (
        "Close the lids & label them <u>now</u>"
        if "idea" in text
        else "Drums of solvent < 50% & open {lid} *all day* <i>"
    )
    await act(server, user.send(answer))
    return True


async def test_hostile_input_at_every_step_never_breaks_the_bot(server, bot):
    ent = await enterprise(bot, "en")
    user = server.user(4001, first_name="<b>Eve</b> & {name}", username="eve_1", language_code="")
    await act(server, user.send(f"/start {ent.worker_invite.code}"))
    await act(server, user.send("/new"))
    for _ in range(20):
        for text in HOSTILE:
            await act(server, user.send(text))
            assert user.last_bot_message().text  # every message is answered
        await act(server, user.send_sticker())
        await act(server, user.send_location())
        await act(server, user.send("/nonsense"))
        if not await answer_current_step(server, user):
            break
    await press(server, user, "ok")
    async with bot.db.transaction() as s:
        ideas = list(await s.scalars(select(Idea)))
    assert len(ideas) == 1 and ideas[0].area == "chemicals"
    assert refused(server) == [], [(c.method, c.description) for c in refused(server)]
    assert "Eve" not in "".join(server.bot_texts(4001))  # nothing echoes the user's name markup back


async def test_stale_and_forged_buttons_are_answered_not_obeyed(server, bot):
    ent = await enterprise(bot, "es")
    user = server.user(5001, language_code="es")
    await act(server, user.send(f"/start {ent.worker_invite.code}"))
    await act(server, user.send("/new"))
    area_message = user.last_bot_message()
    await press(server, user, "a", "energy")
    await act(server, user.press_raw(area_message.message_id, buttons(user)[0][1].split(":")[0] + ":ok:"))
    await act(server, user.press_raw(area_message.message_id, "0:a:water"))
    await act(server, user.press_raw(area_message.message_id, "🙂" * 16))
    assert len(user.callback_answers) >= 3
    async with bot.db.transaction() as s:
        assert list(await s.scalars(select(Idea))) == []
    assert refused(server) == []


async def test_command_menus_are_set_per_language(server, bot):
    ru = dict(server.commands("all_private_chats", "ru"))
    es = dict(server.commands("all_private_chats", "es"))
    en = dict(server.commands("all_private_chats", ""))
    assert set(ru) == set(es) == set(en) >= {"new", "myideas", "cancel", "help", "language"}
    assert ru["new"] != en["new"] != es["new"]
    assert any("\u0400" <= c <= "\u04ff" for c in ru["new"])


async def test_start_without_invite_explains_and_bad_codes_are_answered(server, bot):
    user = server.user(6001, language_code="ru")
    await act(server, user.send("/start"))
    assert "приглаш" in user.last_bot_message().text.lower()
    await act(server, user.send("/start WrongCode_123"))
    assert "приглаш" in user.last_bot_message().text.lower()
    assert refused(server) == []


async def test_webhook_mode_with_a_secret_token(server, tmp_path, library, matcher):
    b = Bot(server, f"sqlite+aiosqlite:///{tmp_path / 'wh.db'}", library, matcher)
    await b.start(webhook=True)
    try:
        ent = await enterprise(b, "en")
        user = server.user(7001, language_code="en")
        await act(server, user.send(f"/start {ent.worker_invite.code}"))
        await act(server, user.send("/new"))
        assert "Which area" in user.last_bot_message().text
        await press(server, user, "a", "waste")
        assert user.last_bot_message().edited  # the question was edited in place, not piled up
    finally:
        await b.stop()
