"""The review loop through the real Telegram protocol: a Russian worker, an English team lead, a second enterprise's
lead replaying callback data, a worker pressing a lead's button; anonymity in everything the lead receives."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.storage.models import Idea, IdeaEvent
from tests.e2e.test_bot_e2e import act, bot, enterprise, press, refused, server  # noqa: F401 - fixtures
from tests.fakebot import FakeTelegram, FakeUser

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def review_buttons(user: FakeUser) -> list[str]:
    return [d for m in user.bot_messages for row in (m.reply_markup or []) for _t, d in row if d.startswith("0:r:")]


async def press_review(fake: FakeTelegram, user: FakeUser, prefix: str) -> str:
    """Presses the newest review button whose data starts with 0:r:<prefix>."""
    for msg in reversed(user.bot_messages):
        for row in msg.reply_markup or []:
            for _text, data in row:
                if data.startswith("0:r:" + prefix):
                    await act(fake, user.press(data, msg))
                    return data
    raise AssertionError(f"no review button {prefix} in {review_buttons(user)}")


async def test_russian_worker_english_lead_full_loop(server, bot):  # noqa: F811
    ent = await enterprise(bot, "ru", departments=("Цех",))
    other = await enterprise(bot, "en", departments=("Line",))
    worker = server.user(8001, first_name="Айгуль", last_name="Токтогулова", username="aigul_kg", language_code="ru")
    lead = server.user(8002, first_name="John", language_code="en")
    intruder = server.user(8003, first_name="Mallory", language_code="en")
    await act(server, lead.send(f"/start {ent.lead_invite.code}"))
    await act(server, intruder.send(f"/start {other.lead_invite.code}"))
    assert [c for c, _d in server.visible_commands(lead)][:2] == ["review", "notify"]  # lead's own menu
    assert "review" not in [c for c, _d in server.visible_commands(worker)]

    await act(server, worker.send(f"/start {ent.worker_invite.code}"))
    await act(server, worker.send("/new"))
    await press(server, worker, "a", "water")
    await press(server, worker, "d")
    await act(server, worker.send("Течёт кран в цеху — вода капает всю ночь 💧"))
    await press(server, worker, "pd")
    await act(server, worker.send("Поставить кран с самозакрытием"))
    await press(server, worker, "bd")
    await press(server, worker, "qs")
    await act(server, worker.send_photo(caption=None))
    await press(server, worker, "an", "1")
    await press(server, worker, "ok")
    assert any("New idea" in m.text for m in lead.bot_messages if m.text)
    assert any(m.photo for m in lead.bot_messages)  # the photo is sent again by file_id, not forwarded
    assert server.calls("forwardMessage") == [] and server.calls("copyMessage") == []

    await act(server, lead.send("/review"))
    await press_review(server, lead, "ni.")
    await act(server, lead.send("Which tap? Near the boiler?"))
    question = worker.last_bot_message().text
    assert "Which tap? Near the boiler?" in question and any("\u0400" <= c <= "\u04ff" for c in question)

    await act(server, worker.send("Да, у котла"))
    assert "Да, у котла" in lead.last_bot_message().text

    async with bot.db.transaction() as s:
        idea = await s.scalar(select(Idea))
    replayed = f"0:r:st.{idea.id}.accepted.in_review"
    # the other enterprise's lead replays the data of the lead's button; a worker presses it too
    await act(server, intruder.press_raw(intruder.last_bot_message().message_id, replayed))
    await act(server, worker.press_raw(worker.last_bot_message().message_id, replayed))
    async with bot.db.transaction() as s:
        assert (await s.scalar(select(Idea))).status == "in_review"
    assert intruder.callback_answers and worker.callback_answers

    await act(server, lead.send("/review"))
    await press_review(server, lead, f"st.{idea.id}.accepted")
    await press_review(server, lead, f"st.{idea.id}.implemented")
    worker_texts = [m.text for m in worker.bot_messages if m.text][-3:]
    assert all(any("\u0400" <= c <= "\u04ff" for c in t) for t in worker_texts)

    async with bot.db.transaction() as s:
        events = list(await s.scalars(select(IdeaEvent).where(IdeaEvent.idea_id == idea.id).order_by(IdeaEvent.id)))
    assert [(e.kind, e.to_status) for e in events] == [
        ("created", "submitted"),
        ("status", "needs_info"),
        ("answer", None),
        ("status", "in_review"),
        ("status", "accepted"),
        ("status", "implemented"),
    ]
    to_lead = "\n".join(server.bot_texts(8002))
    for secret in ("Айгуль", "Токтогулова", "aigul_kg", "8001"):
        assert secret not in to_lead
    assert refused(server) == []


async def test_the_lead_menu_follows_role_and_language_changes_made_anywhere(server, bot):  # noqa: F811
    """An administrator's CLI role change reaches the chat's menu at the person's next message; a language change
    brings the menu in the new language; a demoted lead's menu is taken away even across a restart."""
    from bot.services import admin

    ent = await enterprise(bot, "es", departments=("Corte",))
    rosa = server.user(8101, first_name="Rosa", language_code="es")
    await act(server, rosa.send(f"/start {ent.worker_invite.code}"))
    assert "review" not in [c for c, _d in server.visible_commands(rosa)]

    async with bot.db.transaction() as s:  # `scorebot member role ... lead`, from another process
        await admin.set_role(s, ent.enterprise.id, 8101, "lead")
    await act(server, rosa.send("hola"))
    menu = dict(server.visible_commands(rosa))
    assert list(menu)[:2] == ["review", "notify"] and "Cambiar el idioma" in menu.values()

    await act(server, rosa.send("/language"))
    await press(server, rosa, "lg", "ru")
    menu = dict(server.visible_commands(rosa))
    assert "review" in menu and any("\u0400" <= c <= "\u04ff" for c in menu["review"])

    async with bot.db.transaction() as s:  # demoted while the bot is down
        await admin.set_role(s, ent.enterprise.id, 8101, "worker")
    await bot.stop()
    await bot.start()
    await server.settle()
    assert "review" not in [c for c, _d in server.visible_commands(rosa)]  # fixed at start, before she writes
    calls = len(server.calls("setMyCommands")) + len(server.calls("deleteMyCommands"))
    await act(server, rosa.send("hola"))
    assert len(server.calls("setMyCommands")) + len(server.calls("deleteMyCommands")) == calls  # nothing to redo
