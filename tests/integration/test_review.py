"""The review loop on a real database: decisions, questions and answers, notifications in the submitter's language,
authorisation on every press, anonymity, concurrent decisions, withdraw, support, reminders sent once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.dialogue.engine import Dialogue
from bot.dialogue.types import ButtonIn
from bot.services.onboarding import create_enterprise
from bot.storage.models import Idea, IdeaEvent, Membership, utcnow
from tests.integration.chat import Chat


@pytest.fixture
async def dialogue(database, library, matcher):
    return Dialogue(database, library, matcher)


async def setup(dialogue, database, lang="ru", name="Фабрика", departments=("Цех",)):
    async with database.transaction() as s:
        ent = await create_enterprise(s, name, lang, list(departments))
    return ent


async def submit(chat: Chat, problem: str, idea: str, anonymous: bool = True, area: str = "water") -> None:
    await chat.send("/new")
    await chat.press("a", area)
    await chat.press("d")
    await chat.send(problem)
    if any(b.data.split(":")[1] == "ss" for b in chat.buttons):
        await chat.press("ss")
    await chat.press("pd")
    await chat.send(idea)
    await chat.press("bd")
    await chat.press("qs")
    await chat.press("fs")
    await chat.press("an", "1" if anonymous else "0")
    await chat.press("ok")


def to(chat_replies, user_id):
    return [r for r in chat_replies if r.to_user == user_id]


def rbutton(replies, op: str) -> str:
    for r in replies:
        for row in r.buttons:
            for b in row:
                if b.data.startswith(f"0:r:{op}."):
                    return b.data
    raise AssertionError(f"no review button {op}")


async def idea_row(database, number=1, enterprise_id=None) -> Idea:
    async with database.transaction() as s:
        q = select(Idea).where(Idea.number == number)
        if enterprise_id:
            q = q.where(Idea.enterprise_id == enterprise_id)
        return await s.scalar(q)


async def test_question_answer_accept_implement_with_the_worker_told_in_russian(dialogue, database):
    ent = await setup(dialogue, database)
    worker = Chat(dialogue, 11, "ru", first_name="Айгуль")
    worker.actor = worker.actor.__class__(11, "Айгуль", "Токтогулова", "aigul_t", "ru")
    lead = Chat(dialogue, 21, "en", first_name="John")
    await lead.send(f"/start {ent.lead_invite.code}")
    await worker.send(f"/start {ent.worker_invite.code}")
    await submit(worker, "Течёт кран в цеху, вода капает всю ночь", "Поставить новый кран с самозакрытием")
    notice = to(worker.replies, 21)
    assert notice and "New idea" in notice[0].text.plain()  # the lead hears of it at once, in English
    idea = await idea_row(database)

    await lead.send("/review")
    assert "Течёт кран в цеху" in lead.text and "anonymous" in lead.text
    await lead.send("/start")  # the lead's main menu has the queue one tap away too
    await lead.press_data(rbutton(lead.replies, "q"))
    assert "Течёт кран в цеху" in lead.text
    await worker.send("/start")
    assert not any(b.data.startswith("0:r:q.") for r in to(worker.replies, None) for row in r.buttons for b in row)
    await lead.press_data(rbutton(lead.replies, "ni"))
    await lead.send("Which tap exactly? The one near the boiler?")
    told = to(lead.replies, 11)
    assert "вопрос" in told[0].text.plain() and "Which tap exactly?" in told[0].text.plain()

    await worker.send("Да, у котла, второй слева")  # a pending question gets the free text first
    to_lead = to(worker.replies, 21)
    assert "Да, у котла, второй слева" in to_lead[0].text.plain()
    assert (await idea_row(database)).status == "in_review"

    stale_card = rbutton(lead.replies, f"st.{idea.id}.accepted")  # shown while it still needed information
    await lead.press_data(stale_card)
    assert lead.replies[-1].alert and (await idea_row(database)).status == "in_review"  # refused, not applied
    await lead.press_data(rbutton(to_lead, "c"))  # "Open idea" from the answer notice: the card as it is now
    for target, word in (("accepted", "приняла"), ("in_progress", "внедр"), ("implemented", "внедрен")):
        await lead.press_data(rbutton(lead.replies, f"st.{idea.id}.{target}"))
        told = to(lead.replies, 11)
        assert word in told[0].text.plain().lower(), told[0].text.plain()
    async with database.transaction() as s:
        events = list(await s.scalars(select(IdeaEvent).where(IdeaEvent.idea_id == idea.id).order_by(IdeaEvent.id)))
    assert [(e.kind, e.to_status) for e in events] == [
        ("created", "submitted"),
        ("status", "needs_info"),
        ("answer", None),
        ("status", "in_review"),
        ("status", "accepted"),
        ("status", "in_progress"),
        ("status", "implemented"),
    ]
    assert all(e.created_at.tzinfo for e in events) and events[1].actor_id == 21 and events[2].actor_id == 11
    assert events[1].text == "Which tap exactly? The one near the boiler?"


async def test_an_anonymous_submitter_never_appears_in_what_leads_receive(dialogue, database):
    ent = await setup(dialogue, database)
    worker = Chat(dialogue, 12, "ru")
    worker.actor = worker.actor.__class__(12, "Бакыт", "Асанов", "bakyt_secret", "ru")
    lead = Chat(dialogue, 22, "en")
    await lead.send(f"/start {ent.lead_invite.code}")
    await worker.send(f"/start {ent.worker_invite.code}")
    seen = []
    await submit(worker, "Свет горит всю ночь в складе", "Датчики движения", anonymous=True, area="energy")
    seen += [r.text.plain() for r in to(worker.replies, 22)]
    idea = await idea_row(database)
    await lead.send("/review")
    seen += [r.text.plain() for r in lead.replies]
    await lead.press_data(f"0:r:cm.{idea.id}")
    await lead.send("Thanks, which warehouse?")
    await worker.press_data(f"0:r:wc.{idea.id}")
    await worker.send("Второй склад")
    seen += [r.text.plain() for r in to(worker.replies, 22)]
    all_text = "\n".join(seen)
    for secret in ("Бакыт", "Асанов", "bakyt_secret", "12 "):
        assert secret not in all_text
    assert "Второй склад" in all_text


async def test_authorisation_on_every_press(dialogue, database):
    ent_a = await setup(dialogue, database, name="A")
    ent_b = await setup(dialogue, database, name="B")
    worker = Chat(dialogue, 13, "ru")
    lead_a = Chat(dialogue, 23, "en")
    lead_b = Chat(dialogue, 33, "en")
    await worker.send(f"/start {ent_a.worker_invite.code}")
    await lead_a.send(f"/start {ent_a.lead_invite.code}")
    await lead_b.send(f"/start {ent_b.lead_invite.code}")
    await submit(worker, "Протекает шланг мойки", "Заменить шланг")
    idea = await idea_row(database)
    forged = [
        f"0:r:st.{idea.id}.accepted.submitted",
        f"0:r:rr.{idea.id}.cost.submitted",
        f"0:r:c.{idea.id}",
        f"0:r:ap.{idea.id}.33",
        f"0:r:ni.{idea.id}.submitted",
        f"0:r:st.{idea.id + 999}.accepted.submitted",
        f"0:r:st.{idea.id}.accepted",
    ]
    for data in forged:  # the other enterprise's lead replays the callback data
        await lead_b.press_data(data)
        assert lead_b.replies[0].alert, data
        assert "Протекает" not in lead_b.text
    for data in forged:  # a worker presses a lead's button
        await worker.press_data(data)
        assert worker.replies[0].alert, data
    assert (await idea_row(database)).status == "submitted"
    # a removed lead's old buttons do nothing but say so
    async with database.transaction() as s:
        m = await s.scalar(select(Membership).where(Membership.user_id == 23))
        m.active, m.removed_at = False, utcnow()
    await lead_a.press_data(f"0:r:st.{idea.id}.accepted.submitted")
    assert lead_a.replies[0].alert
    assert (await idea_row(database)).status == "submitted"
    # lead B cannot withdraw or answer for the author either
    await lead_b.press_data(f"0:r:wy.{idea.id}")
    assert (await idea_row(database)).status == "submitted"


async def test_two_leads_deciding_at_once_leave_one_decision(dialogue, database):
    ent = await setup(dialogue, database)
    worker = Chat(dialogue, 14, "ru")
    leads = [Chat(dialogue, 24, "en"), Chat(dialogue, 25, "es")]
    await worker.send(f"/start {ent.worker_invite.code}")
    for lead in leads:
        await lead.send(f"/start {ent.lead_invite.code}")
    await submit(worker, "Пыль в цеху", "Поставить вытяжку", area="emissions")
    idea = await idea_row(database)
    results = await asyncio.gather(
        dialogue.handle(leads[0].actor, ButtonIn(f"0:r:st.{idea.id}.accepted.submitted")),
        dialogue.handle(leads[1].actor, ButtonIn(f"0:r:rr.{idea.id}.cost.submitted")),
    )
    final = await idea_row(database)
    assert final.status in ("accepted", "rejected")
    async with database.transaction() as s:
        decisions = list(
            await s.scalars(select(IdeaEvent).where(IdeaEvent.idea_id == idea.id, IdeaEvent.kind == "status"))
        )
    assert len(decisions) == 1
    alerts = [r.alert for replies in results for r in replies if r.alert]
    assert len(alerts) == 1  # the loser is told it was already decided
    told_worker = [r for replies in results for r in replies if r.to_user == 14]
    assert len(told_worker) == 1


async def test_withdraw_only_before_a_decision(dialogue, database):
    ent = await setup(dialogue, database)
    worker = Chat(dialogue, 15, "ru")
    lead = Chat(dialogue, 26, "en")
    await worker.send(f"/start {ent.worker_invite.code}")
    await lead.send(f"/start {ent.lead_invite.code}")
    await submit(worker, "Капает кран", "Поменять прокладку")
    await submit(worker, "Шипит компрессор", "Найти утечки", area="energy")
    first, second = await idea_row(database, 1), await idea_row(database, 2)
    await worker.send("/myideas")
    await worker.press_data(f"0:r:wd.{first.id}")
    await worker.press_data(f"0:r:wy.{first.id}")
    assert (await idea_row(database, 1)).status == "withdrawn"
    await lead.press_data(f"0:r:st.{second.id}.accepted.submitted")
    await worker.press_data(f"0:r:wy.{second.id}")
    assert (await idea_row(database, 2)).status == "accepted"


async def test_a_similar_open_idea_can_be_supported_instead(dialogue, database):
    ent = await setup(dialogue, database, lang="es", name="Textil")
    a, b = Chat(dialogue, 16, "es"), Chat(dialogue, 17, "es")
    for c in (a, b):
        await c.send(f"/start {ent.worker_invite.code}")
    await submit(a, "La manguera del compresor pierde aire toda la noche", "Cambiar la manguera", area="energy")
    await b.send("/new")
    await b.press("a", "energy")
    await b.press("d")
    await b.send("el compresor pierde aire por la manguera")
    idea = await idea_row(database)
    await b.press_data(rbutton(b.replies, "sp"))
    assert (await idea_row(database)).support_count == 1
    await b.press_data(f"0:r:sp.{idea.id}")  # a second +1 from the same person does not count
    assert (await idea_row(database)).support_count == 1
    async with database.transaction() as s:
        assert len(list(await s.scalars(select(Idea)))) == 1  # no duplicate was filed


async def test_supporters_hear_of_decisions_and_the_assignee_of_the_task_in_their_language(dialogue, database):
    ent = await setup(dialogue, database, lang="es", name="Textil")
    author, fan, gone = Chat(dialogue, 31, "es"), Chat(dialogue, 32, "es"), Chat(dialogue, 33, "ru")
    lead = Chat(dialogue, 34, "en")
    for c in (author, fan, gone):
        await c.send(f"/start {ent.worker_invite.code}")
    await lead.send(f"/start {ent.lead_invite.code}")
    await submit(author, "La manguera del compresor pierde aire toda la noche", "Cambiar la manguera", area="energy")
    idea = await idea_row(database)
    for c in (fan, gone):
        await c.press_data(f"0:r:sp.{idea.id}")
    async with database.transaction() as s:  # one supporter has left the enterprise since
        member = await s.scalar(select(Membership).where(Membership.user_id == 33))
        member.active = False

    await lead.press_data(f"0:r:ni.{idea.id}")
    await lead.send("Which hose?")
    assert to(lead.replies, 32) == []  # a question is between the team and the author
    await author.send("La del fondo")
    await lead.press_data(rbutton(to(author.replies, 34), "c"))  # the card as it is now
    await lead.press_data(rbutton(lead.replies, f"st.{idea.id}.accepted"))
    told = to(lead.replies, 32)
    assert len(told) == 1 and "que usted apoya" in told[0].text.plain()
    assert "Cambiar la manguera" in told[0].text.plain()
    assert to(lead.replies, 33) == []  # no longer a member: not told

    await lead.press_data(f"0:r:as.{idea.id}")
    await lead.press_data(f"0:r:ap.{idea.id}.32")
    told = to(lead.replies, 32)
    assert len(told) == 1 and "le pide que lleve a cabo la idea" in told[0].text.plain()
    assert "Cambiar la manguera" in told[0].text.plain() and "pierde aire" in told[0].text.plain()  # idea, problem
    assert (await idea_row(database)).assignee_id == 32
    assert "Carried out by" in lead.text  # the lead's card says who
    await lead.press_data(f"0:r:as.{idea.id}")
    await lead.press_data(f"0:r:ap.{idea.id}.34")  # the lead takes it on: no message to themself
    assert [r.to_user for r in lead.replies] == [None]  # only the card, in the lead's own chat
    assert "Assigned to" in lead.text


async def test_a_reason_typed_right_after_reject_rejects_with_it(dialogue, database):
    ent = await setup(dialogue, database, lang="es", name="Textil")
    worker, lead = Chat(dialogue, 41, "es"), Chat(dialogue, 42, "es")
    await worker.send(f"/start {ent.worker_invite.code}")
    await lead.send(f"/start {ent.lead_invite.code}")
    await submit(worker, "La manguera del compresor pierde aire toda la noche", "Cambiar la manguera", area="energy")
    await lead.send("/review")
    await lead.press_data(rbutton(lead.replies, "rj"))
    assert "escriba el suyo" in lead.text
    await lead.send("no hay presupuesto este año")  # no "Type a reason" first: still the reason, not a search
    row = await idea_row(database)
    assert row.status == "rejected" and row.reject_reason == "no hay presupuesto este año"
    told = to(lead.replies, 41)
    assert "no hay presupuesto este año" in told[0].text.plain()

    await submit(worker, "Gotea el caño del baño", "Cambiar el cuerito", area="water")
    second = await idea_row(database, 2)
    await lead.press_data(f"0:r:rj.{second.id}.submitted")
    await lead.press_data(f"0:r:c.{second.id}")  # another button drops the reason not yet typed
    await lead.send("fuga de aire")
    assert (await idea_row(database, 2)).status == "submitted"


async def test_a_repeat_is_offered_support_however_its_problem_arrives(dialogue, database):
    ent = await setup(dialogue, database, lang="es", name="Textil")
    a, b, c = Chat(dialogue, 51, "es"), Chat(dialogue, 52, "es"), Chat(dialogue, 53, "es")
    for chat in (a, b, c):
        await chat.send(f"/start {ent.worker_invite.code}")
    long_problem = "El compresor pierde aire por las mangueras, se escucha el silbido toda la noche"
    await submit(a, long_problem, "Revisar las mangueras cada viernes y cambiar los acoples gastados", area="energy")
    idea = await idea_row(database)

    await b.send("/new")  # the same problem in fewer words, typed before choosing the area
    await b.send("El compresor pierde aire por las mangueras")
    await b.press("a", "energy")
    await b.press("d")
    assert rbutton(b.replies, "sp") == f"0:r:sp.{idea.id}"

    await c.photo("el conpresor pierde aire por las mangeras toda la noche")  # a photo's caption, misspelt
    await c.press("a", "energy")
    await c.press("d")
    assert rbutton(c.replies, "sp") == f"0:r:sp.{idea.id}"


async def test_reminders_are_sent_once_even_with_two_processes(dialogue, database, library, matcher):
    ent = await setup(dialogue, database)
    worker, lead = Chat(dialogue, 18, "ru"), Chat(dialogue, 28, "es")
    await worker.send(f"/start {ent.worker_invite.code}")
    await lead.send(f"/start {ent.lead_invite.code}")
    await submit(worker, "Течёт бак", "Починить поплавок")
    later = utcnow() + timedelta(days=8)
    other_process = Dialogue(database, library, matcher)
    first, second = await asyncio.gather(dialogue.due_messages(later, 7), other_process.due_messages(later, 7))
    reminders = [r for r in first + second if r.to_user == 28]
    assert len(reminders) == 1
    assert "8" in reminders[0].text.plain() and "espera" in reminders[0].text.plain().lower()
    assert await dialogue.due_messages(later, 7) == []  # and not again at the next tick


async def test_queue_filters_by_department_and_refuses_a_foreign_one(dialogue, database):
    ent = await setup(dialogue, database, departments=("Цех", "Склад"))
    other = await setup(dialogue, database, name="Другая", departments=("Чужой",))
    worker, lead = Chat(dialogue, 19, "ru"), Chat(dialogue, 29, "en")
    await worker.send(f"/start {ent.worker_invite.code}")
    await lead.send(f"/start {ent.lead_invite.code}")
    await submit(worker, "Капает кран в цеху", "Заменить прокладку")  # first department: Цех
    await lead.send("/review")
    await lead.press_data("0:r:fl")
    deps = [b.data for b in lead.buttons if b.label.startswith("📍")]
    assert len(deps) == 2
    await lead.press_data(deps[0])
    assert "Капает кран" in lead.text
    await lead.press_data(deps[1])
    assert "Капает кран" not in lead.text
    async with database.transaction() as s:
        from bot.storage.models import Department

        foreign = await s.scalar(select(Department).where(Department.enterprise_id == other.enterprise.id))
    await lead.press_data(f"0:r:q.0.all..{foreign.id}")
    assert lead.replies[0].alert


async def test_a_person_in_two_enterprises_switches_with_enterprise(dialogue, database):
    a = await setup(dialogue, database, name="Alfa")
    b = await setup(dialogue, database, name="Beta")
    chat = Chat(dialogue, 30, "ru")
    await chat.send(f"/start {a.worker_invite.code}")
    await chat.send(f"/start {b.lead_invite.code}")
    await chat.send("/enterprise")
    choices = {b_.label: b_.data for b_ in chat.buttons}
    assert set(choices) == {"Alfa", "Beta"}
    await chat.press_data(choices["Alfa"])
    await chat.send("/review")  # a worker in Alfa
    assert "0:r:fl" not in [x.data for x in chat.buttons]
    await chat.send("/enterprise")
    await chat.press_data({b_.label: b_.data for b_ in chat.buttons}["Beta"])
    await chat.send("/review")  # a lead in Beta
    assert "0:r:fl" in [x.data for x in chat.buttons]


async def test_a_started_question_is_dropped_by_another_button_and_a_long_one_refused(dialogue, database):
    ent = await setup(dialogue, database)
    worker, lead = Chat(dialogue, 31, "ru"), Chat(dialogue, 32, "en")
    await worker.send(f"/start {ent.worker_invite.code}")
    await lead.send(f"/start {ent.lead_invite.code}")
    await submit(worker, "Капает кран", "Поменять прокладку")
    idea = await idea_row(database)
    await lead.send("/review")
    await lead.press_data(rbutton(lead.replies, "ni"))
    await lead.press_data("0:r:fl")  # changed their mind
    await lead.send("compressed air leaks")  # now just a library search
    assert (await idea_row(database)).status == "submitted"
    await lead.press_data(f"0:r:c.{idea.id}")
    await lead.press_data(rbutton(lead.replies, "ni"))
    await lead.send("x" * 3000)
    assert (await idea_row(database)).status == "submitted" and "1,500" in lead.text
    await lead.send("Which tap?")  # still waiting for the question: the short one goes through
    assert (await idea_row(database)).status == "needs_info"


async def test_open_question_and_new_idea_the_worker_chooses_where_text_goes(dialogue, database):
    ent = await setup(dialogue, database)
    worker, lead = Chat(dialogue, 40, "ru"), Chat(dialogue, 41, "en")
    await worker.send(f"/start {ent.worker_invite.code}")
    await lead.send(f"/start {ent.lead_invite.code}")
    await submit(worker, "Капает кран", "Поменять прокладку")
    await submit(worker, "Шипит компрессор", "Найти утечки", area="energy")
    first, second = await idea_row(database, 1), await idea_row(database, 2)
    for idea in (first, second):  # two open questions
        await lead.press_data(f"0:r:c.{idea.id}")
        await lead.press_data(rbutton(lead.replies, "ni"))
        await lead.send(f"Question about {idea.number}?")
    # the worker starts a new idea: typing there asks which it is for, and nothing is lost
    await worker.send("/new")
    await worker.press("a", "waste")
    await worker.press("d")
    await worker.send("Много обрезков ткани выбрасываем")
    await worker.press("sd")  # part of my new idea
    state = await dialogue_state(database, 40)
    assert state.draft["problem"] == "Много обрезков ткани выбрасываем" and state.awaiting == "answer"
    await worker.send("/cancel")
    await worker.send("Ответ про вторую")  # both open questions get their answers, in turn
    await worker.send("Ответ про первую")
    assert (await idea_row(database, 1)).status == "in_review" and (await idea_row(database, 2)).status == "in_review"


async def dialogue_state(database, user_id):
    from bot.storage.models import DialogueState

    async with database.transaction() as s:
        return await s.get(DialogueState, user_id)


async def test_a_photo_answers_the_question_and_reaches_the_lead(dialogue, database):
    ent = await setup(dialogue, database)
    worker, lead = Chat(dialogue, 42, "es"), Chat(dialogue, 43, "en")
    await worker.send(f"/start {ent.worker_invite.code}")
    await lead.send(f"/start {ent.lead_invite.code}")
    await submit(worker, "La pila gotea", "Cambiar el cuerito")
    idea = await idea_row(database)
    await lead.press_data(f"0:r:c.{idea.id}")
    await lead.press_data(rbutton(lead.replies, "ni"))
    await lead.send("Can you send a photo?")
    await worker.photo("aqui esta")
    photos = [r for r in worker.replies if r.to_user == 43 and r.photo_file_id]
    assert photos and photos[0].photo_file_id == "photo-42-1"
    assert (await idea_row(database)).status == "in_review"
    async with database.transaction() as s:
        assert (await s.scalar(select(Idea))).photo_file_id is None  # the answer's photo is not a new idea


async def test_cancel_while_editing_one_field_keeps_the_idea(dialogue, database):
    ent = await setup(dialogue, database, lang="es", name="Planta")
    worker = Chat(dialogue, 44, "es")
    await worker.send(f"/start {ent.worker_invite.code}")
    await worker.send("/new")
    await worker.press("a", "water")
    await worker.press("d")
    await worker.send("La manguera gotea en el patio")
    await worker.press("pd")
    await worker.send("Poner una pistola de cierre")
    await worker.press("bd")
    await worker.press("qs")
    await worker.press("fs")
    await worker.press("an", "0")
    await worker.press("ed")
    await worker.press("ef", "quantity")
    await worker.press("x")  # cancel the change, not the idea
    assert (await dialogue_state(database, 44)).step == "confirm"
    await worker.press("ok")
    assert (await idea_row(database)).idea == "Poner una pistola de cierre"
