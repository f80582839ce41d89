"""Self-check of the fake Telegram server: a tiny real PTB Application talks to it by polling and by webhook."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, MenuButtonCommands, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from tests.fakebot import ButtonNotFound, EntityParseError, FakeTelegram, FakeUser, fake_jpeg, parse_html
from tests.fakebot.html_check import parse_markdown_v2

WEBHOOK_SECRET = "s3cr3t-Token_42"

# --------------------------------------------------------------------------------------------
# The tiny bot under test
# --------------------------------------------------------------------------------------------


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start [payload]: greet the user by name."""
    payload = " ".join(context.args or [])
    await update.message.reply_text(f"Hola {update.effective_user.first_name}! payload={payload}")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo text in bold with one inline button."""
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Press me", callback_data="pressed")]])
    await update.message.reply_html(f"echo: <b>{html.escape(update.message.text)}</b>", reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press and edit the message in place (which also removes the keyboard)."""
    query = update.callback_query
    await query.answer("Done")
    await query.edit_message_text(f"pressed: {query.data}")


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the largest photo size through getFile and report its size and hash."""
    file = await update.message.photo[-1].get_file()
    data = await file.download_as_bytearray()
    await update.message.reply_text(f"photo {len(data)} bytes {hashlib.sha256(data).hexdigest()[:16]}")


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anything else (stickers, locations, documents) gets a hint."""
    await update.message.reply_text("Please send text or a photo.")


def build_app(server: FakeTelegram) -> Application:
    """The bot wired to the fake server exactly as production code would be."""
    app = (
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.api_base_url)
        .base_file_url(server.file_base_url)
        .build()
    )
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(filters.PHOTO, on_photo))
    app.add_handler(MessageHandler(filters.Sticker.ALL | filters.LOCATION | filters.Document.ALL, on_other))
    app.add_handler(CallbackQueryHandler(on_button))
    return app


def free_port() -> int:
    """A currently unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def stop_app(app: Application) -> None:
    """Stop and shut down an application whatever state it reached."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    """A running fake Telegram server."""
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def polling_app(server: FakeTelegram) -> AsyncIterator[Application]:
    """The bot, getting updates by long polling."""
    app = build_app(server)
    await app.initialize()
    try:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=5)
        yield app
    finally:
        await stop_app(app)


@pytest.fixture
async def webhook_app(server: FakeTelegram) -> AsyncIterator[Application]:
    """The bot behind a webhook: a public https URL, delivered by the fake to the local listener."""
    port = free_port()
    server.deliver_webhooks_to(f"http://127.0.0.1:{port}/hook")
    app = build_app(server)
    await app.initialize()
    try:
        await app.start()
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            secret_token=WEBHOOK_SECRET,
            webhook_url="https://bot.example.org/hook",
        )
        yield app
    finally:
        await stop_app(app)


async def raw_call(server: FakeTelegram, method: str, **params: object) -> dict:
    """Call the fake API directly with a JSON body (no PTB in between); returns the JSON answer."""
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{server.api_base_url}{server.token}/{method}", json=params)
    return answer.json()


async def open_chat(user: FakeUser) -> None:
    """Have the user write first (a private chat exists only after that) and consume the echo."""
    await user.send("hi")
    await user.next_message()


async def round_trip_and_press(server: FakeTelegram, user: FakeUser) -> None:
    """Shared scenario: a text round trip, then a button press that edits the message in place."""
    await user.send("/start ref42")
    greeting = await user.next_message()
    assert greeting.text == "Hola Ana! payload=ref42"

    await user.send("a < b & c")
    echo = await user.next_message()
    assert echo.text == "echo: a < b & c"
    assert echo.raw_text == "echo: <b>a &lt; b &amp; c</b>"
    assert echo.parse_mode == "HTML"
    assert echo.entities == [{"offset": 6, "length": 9, "type": "bold"}]
    assert echo.reply_markup == [[("Press me", "pressed")]]

    await user.press("Press me")
    edited = await user.wait_until(lambda: user.message(echo.message_id).edited and user.message(echo.message_id))
    assert edited.text == "pressed: pressed"
    assert edited.reply_markup == []  # editMessageText without reply_markup drops the keyboard
    assert [a.text for a in user.callback_answers] == ["Done"]
    assert [m.message_id for m in user.bot_messages] == [greeting.message_id, echo.message_id]
    assert "echo: a < b & c" in user.all_texts()
    await server.settle()
    assert server.unanswered_callback_queries() == []


# --------------------------------------------------------------------------------------------
# Polling
# --------------------------------------------------------------------------------------------


async def test_polling_round_trip_and_button_press(server: FakeTelegram, polling_app: Application) -> None:
    """Text in, reply out, press a button, see the message edited in place."""
    ana = server.user(1001, "Ana", language_code="es-BO")
    await round_trip_and_press(server, ana)
    with pytest.raises(ButtonNotFound):
        await ana.press("Press me")  # the edit removed the keyboard
    with pytest.raises(ButtonNotFound):
        await ana.press("No such button", message=ana.bot_messages[0])


async def test_command_entity_and_update_shape(server: FakeTelegram, polling_app: Application) -> None:
    """User updates look like Telegram's: bot_command entity in UTF-16, from/chat objects, dates."""
    bo = server.user(1002, "Bo", last_name="Li", username="bo_li", language_code="")
    sent = await bo.send("/start 🙂")
    assert sent.entities == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert (await bo.next_message()).text == "Hola Bo! payload=🙂"
    polls = [call for call in server.calls("getUpdates") if call.result]
    message = polls[0].result[0]["message"]
    assert message["from"] == {
        "id": 1002,
        "is_bot": False,
        "first_name": "Bo",
        "last_name": "Li",
        "username": "bo_li",
        "language_code": "",
    }
    assert message["chat"]["type"] == "private" and isinstance(message["date"], int)


async def test_edit_to_same_content_is_not_modified(server: FakeTelegram, polling_app: Application) -> None:
    """Editing to identical text and markup raises BadRequest like Telegram."""
    ana = server.user(1001)
    await open_chat(ana)
    bot = polling_app.bot
    sent = await bot.send_message(ana.id, "same")
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("same", chat_id=ana.id, message_id=sent.message_id)
    assert server.calls("editMessageText")[-1].description == (
        "Bad Request: message is not modified: specified new message content and reply markup are exactly the "
        "same as a current content and reply markup of the message"
    )
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("other", chat_id=ana.id, message_id=999)
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("other", chat_id=ana.id, message_id=1)  # the user's own message
    await bot.edit_message_text("<i>same</i>", chat_id=ana.id, message_id=sent.message_id, parse_mode="HTML")
    assert ana.message(sent.message_id).entities == [{"offset": 0, "length": 4, "type": "italic"}]


async def test_callback_data_limit_and_keyboard_shape(server: FakeTelegram, polling_app: Application) -> None:
    """callback_data is limited to 64 UTF-8 bytes; buttons need exactly one action."""
    ana = server.user(1001)
    await open_chat(ana)
    bot = polling_app.bot

    def keyboard(**button: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("B", **button)]])

    await bot.send_message(ana.id, "ok", reply_markup=keyboard(callback_data="é" * 32))  # 64 bytes
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(ana.id, "too long", reply_markup=keyboard(callback_data="é" * 32 + "x"))
    assert server.calls("sendMessage")[-1].description == "Bad Request: BUTTON_DATA_INVALID"
    with pytest.raises(BadRequest, match=r"(?i)exactly one of url/callback_data"):
        await bot.send_message(ana.id, "x", reply_markup=keyboard(callback_data="a", url="https://x.org"))
    answer = await raw_call(
        server, "sendMessage", chat_id=ana.id, text="x", reply_markup={"inline_keyboard": [[{"text": "t"}]]}
    )
    assert answer["description"] == (
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
    )
    assert len(ana.bot_messages) == 2


async def test_text_length_counts_parsed_utf16(server: FakeTelegram, polling_app: Application) -> None:
    """4096 characters after entity parsing pass, 4097 fail; UTF-16 units count, as on Telegram."""
    ana = server.user(1001)
    await open_chat(ana)
    bot = polling_app.bot
    accepted = await bot.send_message(ana.id, "&lt;" * 4096, parse_mode=ParseMode.HTML)
    assert accepted.text == "<" * 4096
    await bot.send_message(ana.id, "😀" * 2048)  # 4096 UTF-16 code units
    for text, mode in (("x" * 4097, None), ("&amp;" * 4097, ParseMode.HTML), ("😀" * 2049, None)):
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(ana.id, text, parse_mode=mode)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(ana.id, "<b> </b>", parse_mode=ParseMode.HTML)


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
    ],
)
async def test_broken_html_is_refused(
    server: FakeTelegram, polling_app: Application, text: str, description: str
) -> None:
    """Malformed HTML gets Telegram's "can't parse entities" error."""
    ana = server.user(1001)
    await open_chat(ana)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await polling_app.bot.send_message(ana.id, text, parse_mode=ParseMode.HTML)
    assert server.calls("sendMessage")[-1].description == f"Bad Request: can't parse entities: {description}"


async def test_photo_upload_and_download(server: FakeTelegram, polling_app: Application) -> None:
    """A user's photo is downloadable through getFile; the bot can upload photos with captions."""
    ana = server.user(1001)
    sent = await ana.send_photo(caption="my idea", width=1280, height=960)
    assert [(s["width"], s["height"]) for s in sent.photo_sizes] == [(90, 68), (320, 240), (800, 600), (1280, 960)]
    reply = await ana.next_message()
    original = server.file_bytes(sent.photo)
    assert reply.text == f"photo {len(original)} bytes {hashlib.sha256(original).hexdigest()[:16]}"

    bot = polling_app.bot
    await bot.send_photo(ana.id, photo=fake_jpeg(640, 480), caption="<b>nice</b>", parse_mode=ParseMode.HTML)
    photo = await ana.next_message()
    assert photo.caption == "nice" and photo.raw_caption == "<b>nice</b>"
    assert server.file(photo.photo).width == 640
    await bot.send_photo(ana.id, photo=sent.photo)  # resend by file_id
    assert (await ana.next_message()).photo == sent.photo
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(ana.id, photo=sent.photo, caption="c" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(ana.id, photo=b"not an image")


async def test_wrong_kind_of_input(server: FakeTelegram, polling_app: Application) -> None:
    """Stickers, locations and documents reach the bot as such (no text)."""
    ana = server.user(1001)
    sticker = await ana.send_sticker()
    assert sticker.text is None and sticker.sticker["emoji"] == "👍"
    assert (await ana.next_message()).text == "Please send text or a photo."
    await ana.send_location()
    assert (await ana.next_message()).text == "Please send text or a photo."
    await ana.send_document(b"a,b\n1,2\n", file_name="data.csv")
    assert (await ana.next_message()).text == "Please send text or a photo."


async def test_blocked_user_gives_403(server: FakeTelegram, polling_app: Application) -> None:
    """After block() every send to that user fails with Forbidden; unknown chats give chat not found."""
    ana = server.user(1001)
    await open_chat(ana)
    ana.block()
    with pytest.raises(Forbidden, match=r"bot was blocked by the user"):
        await polling_app.bot.send_message(ana.id, "are you there?")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await polling_app.bot.send_message(424242, "hello stranger")
    stranger = server.user(555, "Never wrote")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await polling_app.bot.send_message(stranger.id, "hello")


async def test_commands_are_stored_per_scope_and_language(server: FakeTelegram, polling_app: Application) -> None:
    """setMyCommands keeps one list per (scope, language_code) and validates like Telegram."""
    bot = polling_app.bot
    await bot.set_my_commands([("start", "Start"), ("help", "Help")])
    await bot.set_my_commands([("start", "Empezar")], language_code="es")
    assert server.commands() == [("start", "Start"), ("help", "Help")]
    assert server.commands(language_code="es") == [("start", "Empezar")]
    assert [c.command for c in await bot.get_my_commands(language_code="es")] == ["start"]
    assert server.visible_commands(server.user(1001, language_code="es-BO")) == [("start", "Empezar")]
    assert server.visible_commands(server.user(1002, language_code="ru")) == [("start", "Start"), ("help", "Help")]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([("Start-Now", "x")])
    with pytest.raises(BadRequest, match=r"(?i)description length"):
        await bot.set_my_commands([("start", "x" * 257)])
    with pytest.raises(BadRequest, match=r"(?i)bot_commands_too_much"):
        await bot.set_my_commands([(f"c{i}", "x") for i in range(101)])
    await bot.delete_my_commands(language_code="es")
    assert server.commands(language_code="es") == []


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limit_answers_429(server: FakeTelegram, polling_app: Application) -> None:
    """With flood control on, a second message to the same chat within a second gets retry_after."""
    ana = server.user(1001)
    await open_chat(ana)
    server.rate_limit(per_chat_per_second=1, overall_per_second=30)
    await polling_app.bot.send_message(ana.id, "one")
    with pytest.raises(RetryAfter):
        await polling_app.bot.send_message(ana.id, "two")
    assert server.calls("sendMessage")[-1].response["parameters"] == {"retry_after": 1}


async def test_auth_unknown_method_and_webhook_rules(server: FakeTelegram, polling_app: Application) -> None:
    """Wrong token → 401, unknown method → 404, bad webhook URLs and getUpdates conflicts like Telegram."""
    async with httpx.AsyncClient() as client:
        wrong = await client.post(f"{server.api_base_url}999:WRONG-token/getMe")
        unknown = await client.post(f"{server.api_base_url}{server.token}/fooBar")
    assert (wrong.status_code, wrong.json()) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    assert (unknown.status_code, unknown.json()["description"]) == (404, "Not Found")
    request = HTTPXRequest()
    other = Bot("999:WRONG-token", base_url=server.api_base_url, request=request)
    try:
        with pytest.raises(InvalidToken):
            await other.get_me()
    finally:
        await request.shutdown()

    bot = polling_app.bot
    with pytest.raises(BadRequest, match=r"(?i)an https url must be provided"):
        await bot.set_webhook("http://bot.example.org/hook")
    with pytest.raises(BadRequest, match=r"(?i)ports 80, 88, 443 or 8443"):
        await bot.set_webhook("https://bot.example.org:9000/hook")
    with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="not allowed!")
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0


async def test_other_methods(server: FakeTelegram, polling_app: Application) -> None:
    """Documents, copies, forwards, deletions, replies, chat actions, menu button, callback answers."""
    ana = server.user(1001)
    await open_chat(ana)
    bot = polling_app.bot
    first = await bot.send_message(ana.id, "first")
    reply = await bot.send_message(ana.id, "a reply", reply_to_message_id=first.message_id)
    assert reply.reply_to_message.text == "first"
    copy = await bot.copy_message(ana.id, ana.id, first.message_id)
    forward = await bot.forward_message(ana.id, ana.id, first.message_id)
    assert forward.forward_origin.sender_user.id == server.bot_id
    await bot.delete_message(ana.id, copy.message_id)
    assert copy.message_id not in [m.message_id for m in ana.messages]
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(ana.id, copy.message_id)
    await bot.send_chat_action(ana.id, "typing")
    assert ana.chat_actions == ["typing"]
    await bot.set_chat_menu_button(ana.id, MenuButtonCommands())
    assert server.menu_buttons[ana.id] == {"type": "commands"}

    export = await bot.send_document(ana.id, document=b"id;idea\n1;LED\n", filename="export.csv")
    assert export.document.file_name == "export.csv" and export.document.mime_type == "text/csv"
    downloaded = await (await bot.get_file(export.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"id;idea\n1;LED\n"
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nonsense")

    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("12345")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
    await bot.send_message(ana.id, "press", reply_markup=keyboard)
    await ana.press_raw(ana.last_bot_message().message_id, "forged:data")
    await ana.wait_until(lambda: ana.callback_answers)
    assert ana.callback_answers[0].data == "forged:data"
    unread = await ana.next_messages(6)  # next_message() also returns messages deleted since
    assert [(m.message_id, m.deleted) for m in unread][1:4] == [(4, False), (5, True), (6, False)]


async def test_get_updates_semantics(server: FakeTelegram) -> None:
    """Offsets confirm updates, long polls return as soon as an update arrives, a second poller conflicts."""
    ana = server.user(1001)
    await ana.send("one")
    await ana.send("two")
    first = (await raw_call(server, "getUpdates"))["result"]
    assert [u["message"]["text"] for u in first] == ["one", "two"]
    assert (await raw_call(server, "getUpdates"))["result"] == first  # not confirmed yet
    ids = [u["update_id"] for u in first]
    assert ids[1] == ids[0] + 1
    assert [u["update_id"] for u in (await raw_call(server, "getUpdates", offset=ids[1]))["result"]] == [ids[1]]
    assert (await raw_call(server, "getUpdates", offset=ids[1] + 1))["result"] == []

    poll = asyncio.create_task(raw_call(server, "getUpdates", offset=ids[1] + 1, timeout=5))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await ana.send("three")
    answer = await poll
    assert [u["message"]["text"] for u in answer["result"]] == ["three"]
    assert time.monotonic() - started < 1

    waiting = asyncio.create_task(raw_call(server, "getUpdates", offset=ids[1] + 2, timeout=5))
    await asyncio.sleep(0.05)
    await raw_call(server, "getUpdates", offset=ids[1] + 2)
    conflict = await waiting
    assert conflict["error_code"] == 409 and "terminated by other getUpdates request" in conflict["description"]


async def test_settle_and_privacy_assertions(server: FakeTelegram, polling_app: Application) -> None:
    """settle() waits until the bot is idle; server.sent and bot_texts() allow "never showed X" checks."""
    ana, bo = server.user(1001, "Ana"), server.user(1002, "Bo")
    await ana.send("idea from Ana")
    await bo.send("/start")
    await server.settle()
    assert [m.text for m in bo.bot_messages] == ["Hola Bo! payload="]
    assert not any("Ana" in text for text in server.bot_texts(bo.id))
    assert {call.method for call in server.sent} >= {"getMe", "deleteWebhook", "sendMessage"}
    await bo.expect_silence(0.05)


# --------------------------------------------------------------------------------------------
# Webhook
# --------------------------------------------------------------------------------------------


async def test_webhook_round_trip_and_button_press(server: FakeTelegram, webhook_app: Application) -> None:
    """The same scenario with updates POSTed to PTB's webhook server (secret token checked by PTB)."""
    assert server.webhook_url == "https://bot.example.org/hook"
    ana = server.user(1001, "Ana")
    await round_trip_and_press(server, ana)
    info = await webhook_app.bot.get_webhook_info()
    assert info.url == "https://bot.example.org/hook" and info.last_error_date is None
    with pytest.raises(Conflict, match=r"webhook is active"):
        await webhook_app.bot.get_updates()


async def test_webhook_retries_refused_deliveries(server: FakeTelegram) -> None:
    """An update the webhook refuses (non-2xx) is delivered again, like Telegram does."""
    from aiohttp import web

    seen: list[int] = []

    async def flaky(request: web.Request) -> web.Response:
        seen.append((await request.json())["update_id"])
        assert request.headers["X-Telegram-Bot-Api-Secret-Token"] == "abc"
        return web.Response(status=500 if len(seen) == 1 else 200)

    hook_app = web.Application()
    hook_app.router.add_post("/hook", flaky)
    runner = web.AppRunner(hook_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"{server.api_base_url}{server.token}/setWebhook",
                data={"url": f"http://127.0.0.1:{port}/hook", "secret_token": "abc"},
            )
        assert answer.json() == {"ok": True, "result": True, "description": "Webhook was set"}
        await server.user(7).send("hello")
        await server.settle()
        assert len(seen) == 2 and seen[0] == seen[1]
        assert server.pending_updates == []
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------------------------
# The formatting checker on its own
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "plain", "types"),
    [
        ("<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins>", "bsieun", ["bold"] * 2),
        ('<s>s</s><a href="https://x.org">l</a><code>c</code>', "slc", ["strikethrough", "text_link", "code"]),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1", ["pre"]),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "st", ["spoiler", "spoiler"]),
        ("<blockquote expandable>q</blockquote>", "q", ["expandable_blockquote"]),
        ("&lt;&gt;&amp;&quot;&#39;&#x41;", "<>&\"'A", []),
        ("<b>bold <i>both</i></b>", "bold both", ["bold", "italic"]),
    ],
)
def test_html_checker_accepts_telegram_subset(source: str, plain: str, types: list[str]) -> None:
    """The supported tags and entities parse to Telegram's plain text and entity types."""
    parsed = parse_html(source)
    assert parsed.text == plain
    assert [e["type"] for e in parsed.entities][: len(types)] == types


@pytest.mark.parametrize("source", ["<p>x</p>", "<b>x", "<b><i>x</b></i>", "AT&T", "1 < 2", '<span class="x">y</span>'])
def test_html_checker_refuses(source: str) -> None:
    """Unknown tags, unclosed or misnested tags and bare '<' / '&' are errors."""
    with pytest.raises(EntityParseError):
        parse_html(source)


def test_markdown_v2_reserved_characters() -> None:
    """MarkdownV2 needs reserved characters escaped outside entities."""
    with pytest.raises(EntityParseError, match=r"Character '.' is reserved"):
        parse_markdown_v2("Version 2.0")
    assert parse_markdown_v2("Version 2\\.0 *bold*").text == "Version 2.0 bold"
    with contextlib.suppress(EntityParseError):
        parse_markdown_v2("*unclosed")
        pytest.fail("an unclosed entity must be refused")
