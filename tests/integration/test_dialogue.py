"""The guided submission on a real database: what a worker types is kept exactly, nothing is lost, nothing breaks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.dialogue.engine import Dialogue
from bot.services.onboarding import create_enterprise
from bot.storage.db import Database
from bot.storage.models import DialogueState, Idea, IdeaEvent, Invite, utcnow
from tests.integration.chat import Chat


@pytest.fixture
async def dialogue(database, library, matcher):
    return Dialogue(database, library, matcher)


async def make_enterprise(database, name="Textiles Andinos", lang="es", departments=("Corte", "Costura")):
    async with database.transaction() as s:
        return await create_enterprise(s, name, lang, list(departments))


async def joined(dialogue, database, user_id=101, lang="es", **kw) -> tuple[Chat, object]:
    ent = await make_enterprise(database, **kw)
    chat = Chat(dialogue, user_id, lang)
    await chat.send(f"/start {ent.worker_invite.code}")
    return chat, ent


async def state_of(database, user_id) -> DialogueState:
    async with database.transaction() as s:
        return await s.get(DialogueState, user_id)


async def ideas(database) -> list[Idea]:
    async with database.transaction() as s:
        return list(await s.scalars(select(Idea).order_by(Idea.id)))


PROBLEM = "La manguera del compresor pierde aire 💨 día y noche — ¿qué hacemos? <b>{x}</b> %s & ñandú"
IDEA = "Cambiar los acoples gastados y revisar cada viernes ✅ «sí»"


async def walk_to_confirm(chat: Chat, problem: str = PROBLEM, idea: str = IDEA) -> None:
    await chat.send("/new")
    await chat.press("a", "energy")
    await chat.press("d")  # the first department
    await chat.send(problem)
    await chat.press("pd")  # my idea is different
    await chat.send(idea)
    await chat.press("b", "energy")
    await chat.press("b", "money")
    await chat.press("bd")
    await chat.send("unos 1.500 litros por semana")
    await chat.press("fs")
    await chat.press("an", "1")


async def test_spanish_worker_submits_an_idea_kept_exactly_as_typed(dialogue, database):
    chat, ent = await joined(dialogue, database)
    await walk_to_confirm(chat)
    assert PROBLEM in chat.text and IDEA in chat.text  # the summary shows it all before sending
    await chat.press("ok")
    assert "1" in chat.text
    (idea,) = await ideas(database)
    assert idea.number == 1 and idea.enterprise_id == ent.enterprise.id
    assert idea.problem == PROBLEM
    assert idea.idea == IDEA
    assert (idea.area, idea.lang, idea.anonymous, idea.status) == ("energy", "es", True, "submitted")
    assert idea.quantity == 1500 and idea.quantity_unit == "l" and idea.quantity_text == "unos 1.500 litros por semana"
    assert idea.benefits == "energy, money"
    assert idea.created_at.tzinfo is not None
    async with database.transaction() as s:
        events = list(await s.scalars(select(IdeaEvent).where(IdeaEvent.idea_id == idea.id)))
    assert [(e.kind, e.to_status, e.actor_id) for e in events] == [("created", "submitted", 101)]
    assert (await state_of(database, 101)).step == "idle"


async def test_numbers_are_per_enterprise(dialogue, database):
    a, _ = await joined(dialogue, database, user_id=1)
    b, _ = await joined(dialogue, database, user_id=2, name="Otra")
    for chat in (a, b, a):
        await walk_to_confirm(chat)
        await chat.press("ok")
    assert [(i.author_id, i.number) for i in await ideas(database)] == [(1, 1), (2, 1), (1, 2)]


async def test_a_restart_in_the_middle_loses_nothing(database, library, matcher, db_url):
    first = Dialogue(database, library, matcher)
    chat, _ = await joined(first, database, user_id=7, lang="ru")
    await chat.send("/new")
    await chat.press("a", "water")
    await chat.press("d", None)
    await chat.send("Течёт кран в цеху, вода капает всю ночь")
    # the bot process stops; a new one starts on the same database
    await database.dispose()
    fresh_db = Database(db_url)
    try:
        restarted = Chat(Dialogue(fresh_db, library, matcher), 7, "ru")
        await restarted.send("/start")
        await restarted.press("rc")  # continue the unfinished idea
        await restarted.press("pd")
        await restarted.send("Поставить новый кран с самозакрытием")
        await restarted.press("bd")
        await restarted.press("qs")
        await restarted.press("fs")
        await restarted.press("an", "0")
        await restarted.press("ok")
        (idea,) = await ideas(fresh_db)
        assert idea.problem == "Течёт кран в цеху, вода капает всю ночь"
        assert idea.idea == "Поставить новый кран с самозакрытием"
        assert idea.area == "water" and idea.lang == "ru" and idea.anonymous is False
    finally:
        await fresh_db.dispose()


HOSTILE_TEXTS = [
    "",
    "   ",
    "\u200b\u200f\u202e",
    "x" * 5000,
    "<b>unclosed <i>tags & {name} {} %s %(x)s",
    "**_markdown_** `code` [link](http://x)",
]


async def test_hostile_input_at_every_step_keeps_the_step_and_the_answers(dialogue, database):
    chat, _ = await joined(dialogue, database, user_id=55)
    await chat.send("/new")
    steps_and_moves = [
        ("area", lambda: chat.press("a", "waste")),
        ("department", lambda: chat.press("d")),
        ("problem", lambda: chat.send("Se bota mucho retazo de tela en corte")),
        ("practices", lambda: chat.press("pd")),
        ("idea", lambda: chat.send("Vender los retazos a un taller de peluches")),
        ("benefits", lambda: chat.press("bd")),
        ("quantity", lambda: chat.press("qs")),
        ("photo", lambda: chat.press("fs")),
        ("anonymity", lambda: chat.press("an", "0")),
    ]
    old_button = None
    for step, move in steps_and_moves:
        for hostile in HOSTILE_TEXTS:
            if step not in ("quantity", "photo", "anonymity") and hostile.startswith(("<b>", "**")):
                continue  # real words: a free-text step takes them as its answer, a button step keeps them
            before = await state_of(database, 55)
            await chat.send(hostile)
            after = await state_of(database, 55)
            assert after.step == step, (step, hostile)
            kept = {k: v for k, v in before.draft.items() if not k.startswith("_")}
            assert all(after.draft.get(k) == v for k, v in kept.items()), (step, hostile)
            assert chat.replies and chat.buttons, "the question is asked again"
        await chat.other("sticker")
        assert (await state_of(database, 55)).step == step
        if old_button is not None:
            await chat.press_data(old_button)
            assert (await state_of(database, 55)).step == step
            assert chat.replies[0].alert  # "this button is no longer active"
        old_button = chat.buttons[0].data
        await move()
    await chat.press("ok")
    (idea,) = await ideas(database)
    assert idea.problem == "Se bota mucho retazo de tela en corte" and idea.area == "waste"


async def test_forged_and_foreign_buttons_do_nothing(dialogue, database):
    chat, _ = await joined(dialogue, database, user_id=60)
    other = await make_enterprise(database, name="Ajena", departments=("Secreto",))
    async with database.transaction() as s:
        from bot.storage.models import Department

        foreign_dep = await s.scalar(select(Department).where(Department.enterprise_id == other.enterprise.id))
    await chat.send("/new")
    await chat.press("a", "energy")
    nonce = chat.buttons[0].data.split(":")[0]
    for data in (
        f"{nonce}:d:{foreign_dep.id}",
        f"{nonce}:d:abc",
        f"{nonce}:zz:1",
        "garbage",
        "",
        "9" * 64,
        f"{nonce}:ok:",
        f"{nonce}:a:energy",
        f"{int(nonce) - 1}:d:-",
        f"{nonce}:lp:no-such-practice",
        f"{nonce}:ent:{other.enterprise.id}",
    ):
        await chat.press_data(data)
        state = await state_of(database, 60)
        assert state.step == "department", data
        assert "department_id" not in state.draft, data
    assert await ideas(database) == []


async def test_cancel_works_at_every_step(dialogue, database):
    chat, _ = await joined(dialogue, database, user_id=70)
    answers = [
        lambda: chat.press("a", "safety"),
        lambda: chat.press("d"),
        lambda: chat.send("El piso del almacén es resbaloso cuando llueve"),
        lambda: chat.press("pd"),
        lambda: chat.send("Poner cinta antideslizante en la entrada"),
        lambda: chat.press("bd"),
        lambda: chat.press("qs"),
        lambda: chat.press("fs"),
        lambda: chat.press("an", "1"),
    ]
    for n in range(len(answers) + 1):
        await chat.send("/new")
        if (await state_of(database, 70)).step != "area":
            await chat.press("rn")  # start over
        for answer in answers[:n]:
            await answer()
        await chat.send("/cancel")
        assert (await state_of(database, 70)).step == "idle"
        assert (await state_of(database, 70)).draft == {}
    assert await ideas(database) == []


async def test_edit_a_field_from_the_summary(dialogue, database):
    chat, _ = await joined(dialogue, database, user_id=80)
    await walk_to_confirm(chat)
    await chat.press("ed")
    await chat.press("ef", "idea")
    await chat.send("Otra idea mejor")
    assert (await state_of(database, 80)).step == "confirm"
    await chat.press("ok")
    (idea,) = await ideas(database)
    assert idea.idea == "Otra idea mejor" and idea.problem == PROBLEM


async def air_leak_problem(chat: Chat) -> None:
    """A new energy idea, first department, about a compressor losing air: the practices are offered next."""
    await chat.send("/new")
    await chat.press("a", "energy")
    await chat.press("d")
    await chat.send("el compresor pierde aire por las mangueras, silba toda la noche")


async def test_practice_suggestions_follow_the_problem(dialogue, database):
    chat, _ = await joined(dialogue, database, user_id=90)
    await air_leak_problem(chat)
    chat.find("p", "compressed-air-leaks")
    await chat.press("p", "compressed-air-leaks")
    assert "aire comprimido" in chat.text.lower()
    await chat.press("pu", "compressed-air-leaks")
    await chat.press("k")  # keep the practice as the idea
    state = await state_of(database, 90)
    assert state.draft["practice_id"] == "compressed-air-leaks"
    assert state.step == "benefits"


async def air_leak_idea_to_summary(chat: Chat, idea: str | None) -> None:
    """An air-leak idea on the practice it was matched to, up to the summary; `idea` None keeps the practice as
    it is as the idea."""
    await air_leak_problem(chat)
    await chat.press("p", "compressed-air-leaks")
    await chat.press("pu", "compressed-air-leaks")
    await (chat.press("k") if idea is None else chat.send(idea))
    await chat.press("bd")
    await chat.press("qs")
    await chat.press("fs")
    await chat.press("an", "0")


async def change_problem(chat: Chat, text: str) -> None:
    await chat.press("ed")
    await chat.press("ef", "problem")
    await chat.send(text)


LIGHTS = "los focos del galpon quedan prendidos toda la noche aunque no hay nadie"


async def test_changing_the_problem_from_the_summary_rechecks_the_chosen_practice(dialogue, database):
    chat, _ = await joined(dialogue, database, user_id=92)
    await air_leak_idea_to_summary(chat, None)
    kept_title = (await state_of(database, 92)).draft["idea"]

    # a wording change that still fits: straight back to the summary
    await change_problem(chat, "la manguera del compresor tiene fugas de aire, se escucha el silbido")
    state = await state_of(database, 92)
    assert state.step == "confirm" and state.draft["practice_id"] == "compressed-air-leaks"

    await change_problem(chat, LIGHTS)  # now a different problem: the old practice no longer fits, choose again
    state = await state_of(database, 92)
    assert state.step == "practices" and "ya no corresponde" in chat.text
    assert "compressed-air-leaks" not in state.draft["_matches"]
    await chat.press("p", "lights-off-zones-sensors")
    await chat.press("pu", "lights-off-zones-sensors")
    state = await state_of(database, 92)
    assert state.step == "confirm" and state.draft["practice_id"] == "lights-off-zones-sensors"
    assert state.draft["idea"] != kept_title  # the idea was the old practice as it was: it follows the new one
    assert "Revise también sus otras respuestas" in chat.text and state.draft["area"] == "energy"
    await chat.press("ok")
    (idea,) = await ideas(database)
    assert idea.practice_id == "lights-off-zones-sensors" and idea.problem.startswith("los focos")


async def test_typing_an_own_idea_instead_of_a_new_practice_drops_the_old_one(dialogue, database):
    chat, _ = await joined(dialogue, database, user_id=93)
    await air_leak_idea_to_summary(chat, "Cambiar los acoples")
    await change_problem(chat, LIGHTS)
    await chat.send("Apagar los focos al salir")  # own words instead of one of the new practices
    state = await state_of(database, 93)
    assert state.step == "confirm" and state.draft["practice_id"] is None
    assert state.draft["idea"] == "Apagar los focos al salir"


async def test_a_new_problem_in_another_area_moves_the_idea_with_the_practice_chosen(dialogue, database):
    chat, _ = await joined(dialogue, database, user_id=94)
    await air_leak_idea_to_summary(chat, "Cambiar los acoples")
    await change_problem(chat, "la manguera de lavar el piso queda abierta y el agua se va al desague todo el turno")
    state = await state_of(database, 94)
    assert state.step == "practices" and "hose-shutoff-nozzles" in state.draft["_matches"][:3]
    await chat.press("p", "hose-shutoff-nozzles")
    await chat.press("pu", "hose-shutoff-nozzles")
    state = await state_of(database, 94)
    assert state.step == "confirm" and state.draft["area"] == "water"
    assert "El área ahora es 💧 Agua" in chat.text and "Cambiar los acoples" in chat.text  # shown, to be checked


async def test_with_no_practice_chosen_a_new_topic_offers_practices_and_a_rewording_does_not(dialogue, database):
    chat, _ = await joined(dialogue, database, user_id=95)
    await air_leak_problem(chat)
    await chat.press("pd")  # my idea is different
    await chat.send("Revisar las mangueras cada viernes")
    for op, arg in (("bd", None), ("qs", None), ("fs", None), ("an", "0")):
        await chat.press(op, arg) if arg else await chat.press(op)
    await change_problem(chat, "las mangueras del compresor pierden aire, se oye el silbido")
    assert (await state_of(database, 95)).step == "confirm"  # the same topic: nothing to choose again
    await change_problem(chat, LIGHTS)
    state = await state_of(database, 95)
    assert state.step == "practices" and "Estas buenas prácticas corresponden" in chat.text
    await chat.press("pd")
    state = await state_of(database, 95)
    assert state.step == "confirm" and state.draft["practice_id"] is None


async def test_an_area_or_department_typed_instead_of_pressed_is_chosen(dialogue, database):
    chat, _ = await joined(dialogue, database, user_id=96)
    await chat.send("/new")
    await chat.send("<b>Agua</b>")
    state = await state_of(database, 96)
    assert state.draft["area"] == "water" and "problem" not in state.draft and state.step == "department"
    await chat.send("costura")
    state = await state_of(database, 96)
    assert state.draft["department_name"] == "Costura" and state.step == "problem"

    await chat.send("/cancel")
    await chat.send("/new")
    await chat.send("se desperdicia el agua en el baño de mujeres")  # a description, not an area: kept for later
    state = await state_of(database, 96)
    assert "area" not in state.draft and state.draft["problem"].startswith("se desperdicia")


async def test_cancel_on_the_summary_asks_first(dialogue, database):
    chat, _ = await joined(dialogue, database, user_id=97)
    await walk_to_confirm(chat)
    await chat.press("xq")
    assert "¿Descartar esta idea?" in chat.text and (await state_of(database, 97)).draft["idea"] == IDEA
    await chat.press("eb")  # no: back to the summary, nothing lost
    assert (await state_of(database, 97)).step == "confirm" and IDEA in chat.text
    await chat.press("xq")
    await chat.press("x")  # yes
    assert (await state_of(database, 97)).draft == {} and await ideas(database) == []


async def test_photo_first_with_and_without_caption(dialogue, database):
    chat, _ = await joined(dialogue, database, user_id=91)
    await chat.photo("Goteo en el baño de mujeres")
    state = await state_of(database, 91)
    assert state.step == "area" and state.draft["problem"] == "Goteo en el baño de mujeres"
    assert state.draft["photo_file_id"] == "photo-91-1"
    await chat.send("/cancel")
    await chat.photo(None)
    await chat.press("a", "water")
    await chat.press("d")
    assert (await state_of(database, 91)).step == "problem"  # no caption: it asks for a few words
    await chat.send("Gotea el lavamanos")
    state = await state_of(database, 91)
    assert state.step == "practices" and state.draft["photo_file_id"] == "photo-91-2"


async def test_nul_and_lone_surrogates_are_stripped_the_same_on_every_database(dialogue, database):
    chat, _ = await joined(dialogue, database, user_id=92)
    await walk_to_confirm(chat, problem="agua\x00 que se pierde\ud800 en lavado", idea="reusar\x00 el agua")
    await chat.press("ok")
    (idea,) = await ideas(database)
    assert idea.problem == "agua que se pierde en lavado" and idea.idea == "reusar el agua"


async def test_invites_wrong_expired_revoked_and_missing(dialogue, database):
    ent = await make_enterprise(database)
    chat = Chat(dialogue, 300, "es")
    await chat.send("/start")
    assert "invit" in chat.text.lower()
    await chat.send("/start NoSuchCode123")
    assert (await state_of(database, 300)).enterprise_id is None
    await chat.send("/start ../../etc/passwd")  # not even a valid payload
    async with database.transaction() as s:
        inv = await s.get(Invite, ent.worker_invite.id)
        inv.expires_at = utcnow() - timedelta(days=1)
        lead = await s.get(Invite, ent.lead_invite.id)
        lead.revoked_at = utcnow()
    for code in (ent.worker_invite.code, ent.lead_invite.code):
        await chat.send(f"/start {code}")
        assert "💡" not in " ".join(b.label for b in chat.buttons)  # no "new idea": not a member
    await chat.send("/new")
    assert await ideas(database) == []


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        ("es-BO", "es"),
        ("ru", "ru"),
        ("ky", "ru"),
        ("kk", "ru"),
        ("uk", "ru"),
        ("de", "en"),
        ("", "en"),
        (None, "en"),
        ("zz-Foo-1", "en"),
        ("EN_us", "en"),
    ],
)
def test_language_from_the_client(client, expected):
    from bot.i18n import pick_language

    assert pick_language(None, client) == expected


async def test_language_can_be_changed_and_is_remembered(dialogue, database):
    chat, _ = await joined(dialogue, database, user_id=93, lang="de")
    await chat.send("/language")
    await chat.press("lg", "ru")
    async with database.transaction() as s:
        from bot.storage.models import User

        assert (await s.get(User, 93)).lang == "ru"
    await chat.send("/new")
    assert any("\u0400" <= c <= "\u04ff" for c in chat.text)
