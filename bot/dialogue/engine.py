"""The guided conversation: onboarding, the idea submission steps, the library, language; saved at every step.

`Dialogue.handle(actor, event)` runs one event in one database transaction and returns the replies to render; the
transport (Telegram or the console) sends them after the transaction is committed. Button data is parsed and checked
here, never trusted: every button carries the state's `nonce`, so a stale or forged button cannot act on a step the
user is no longer at.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import i18n
from bot.dialogue import texts
from bot.dialogue.review import ReviewMixin
from bot.dialogue.types import (
    CALLBACK_LIMIT,
    Actor,
    Button,
    ButtonIn,
    CommandIn,
    Event,
    OtherIn,
    PhotoIn,
    Reply,
    Rich,
    TextIn,
)
from bot.domain.enums import LANGS, Area, Role
from bot.domain.practice import Practice
from bot.i18n import _
from bot.services import ideas as idea_service
from bot.services import onboarding, textnorm
from bot.services.library import Library
from bot.services.matcher import Matcher
from bot.services.quantity import parse as parse_quantity
from bot.storage.db import Database
from bot.storage.models import DialogueState, Enterprise, Idea, Membership, User
from bot.storage.repo import Dialogues, Enterprises, Memberships, Users

log = logging.getLogger(__name__)

STEPS = (
    "area",
    "department",
    "problem",
    "similar",
    "practices",
    "idea",
    "benefits",
    "quantity",
    "photo",
    "anonymity",
    "confirm",
)
TEXT_STEPS = ("problem", "practices", "idea", "benefits", "quantity")  # steps that take typed text
EDITABLE = ("area", "department", "problem", "idea", "benefits", "quantity", "photo", "anonymity")
MATCHES_PER_PAGE = 3
MAX_MATCHES = 9
LIBRARY_PAGE = 6
MIN_TEXT = 3
BUTTON_LABEL = 60  # characters of a practice title on a button


@dataclass
class Ctx:
    """Everything one event needs: the session, the user, their language, enterprise and dialogue state."""

    session: AsyncSession
    user: User
    lang: str
    state: DialogueState
    draft: dict[str, Any]
    membership: Membership | None
    enterprise: Enterprise | None
    via_button: bool = False

    @property
    def in_draft(self) -> bool:
        return self.state.step in STEPS


class Dialogue(ReviewMixin):
    """The conversation engine shared by the Telegram adapter and the console."""

    def __init__(
        self,
        db: Database,
        library: Library,
        matcher: Matcher,
        bot_username: str | None = None,
        admin_ids: frozenset[int] = frozenset(),
    ):
        self.admin_ids = admin_ids
        self.db = db
        self.library = library
        self.matcher = matcher
        self.bot_username = bot_username

    # --- entry point ----------------------------------------------------------------------------------------------

    async def handle(self, actor: Actor, event: Event) -> list[Reply]:
        """Runs one event from `actor` and returns what to show; the state is committed before returning."""
        async with self.db.transaction() as session:
            ctx = await self._context(session, actor)
            with i18n.use(ctx.lang):
                replies = await self._dispatch(ctx, event)
                self._save(ctx)
            wanted = await self._menu_wanted(session, ctx.user)
            if wanted != ctx.user.menu:  # joined or left as a lead, changed language, role changed by an admin
                own = next((r for r in replies if r.to_user is None), None)
                if own is not None:
                    own.menu = wanted or ""
        return replies

    async def _menu_wanted(self, session: AsyncSession, user: User) -> str | None:
        """The command menu a user's chat should have: a team lead's own (in their language), or the general one."""
        memberships = await Memberships(session).active_for(user.id)
        if any(m.role in (Role.LEAD.value, Role.ADMIN.value) for m in memberships):
            return "lead:" + i18n.pick_language(user.lang, user.client_lang)
        return None

    async def menus_at_start(self) -> list[tuple[int, str]]:
        """(user id, menu) for every chat whose menu to set when the bot starts: every active team lead and
        administrator ("lead:<lang>"), and every chat that had a lead's menu and should not any more ("")."""
        from sqlalchemy import or_, select

        out = []
        async with self.db.transaction() as session:
            leads = select(Membership.user_id).where(
                Membership.active.is_(True), Membership.role.in_([Role.LEAD.value, Role.ADMIN.value])
            )
            users = await session.scalars(select(User).where(or_(User.id.in_(leads), User.menu.is_not(None))))
            for user in users:
                out.append((user.id, await self._menu_wanted(session, user) or ""))
        return out

    async def menu_applied(self, user_id: int, menu: str) -> None:
        """Notes that a chat now has this menu ("" the general one)."""
        async with self.db.transaction() as session:
            user = await session.get(User, user_id)
            if user is not None:
                user.menu = menu or None

    async def language_of(self, user_id: int) -> str:
        """The language a user is spoken to in (for notifications from other users' actions)."""
        async with self.db.transaction() as session:
            return await self._lang_of(session, user_id)

    async def _context(self, session: AsyncSession, actor: Actor) -> Ctx:
        user = await Users(session).upsert(
            actor.user_id,
            textnorm.clean(actor.first_name),
            textnorm.clean(actor.last_name) or None,
            actor.username,
            actor.client_lang,
        )
        state = await Dialogues(session).load(actor.user_id)
        lang = i18n.pick_language(user.lang, user.client_lang)
        membership, enterprise = await self._current_membership(session, user)
        return Ctx(session, user, lang, state, dict(state.draft or {}), membership, enterprise)

    async def _current_membership(
        self, session: AsyncSession, user: User
    ) -> tuple[Membership | None, Enterprise | None]:
        memberships = await Memberships(session).active_for(user.id)
        chosen = next((m for m in memberships if m.enterprise_id == user.current_enterprise_id), None)
        if chosen is None and len(memberships) == 1:
            chosen = memberships[0]
            user.current_enterprise_id = chosen.enterprise_id
        if chosen is None:
            return None, None
        return chosen, await Enterprises(session).get(chosen.enterprise_id)

    def _save(self, ctx: Ctx) -> None:
        ctx.state.draft = dict(ctx.draft)  # a new object, so the JSON column is written
        ctx.state.enterprise_id = ctx.enterprise.id if ctx.enterprise else None
        Dialogues.touch(ctx.state)

    async def _dispatch(self, ctx: Ctx, event: Event) -> list[Reply]:
        if isinstance(event, CommandIn):
            return await self._command(ctx, event)
        if isinstance(event, ButtonIn):
            ctx.via_button = True
            return await self._button(ctx, event)
        if isinstance(event, PhotoIn):
            return await self._photo(ctx, event)
        if isinstance(event, TextIn):
            return await self._text(ctx, event.text)
        if isinstance(event, OtherIn):
            note = _("I can only read text and photos here.")
            if ctx.in_draft:
                return [self._ask(ctx, note=note)]
            return [self._menu(ctx, note)]
        return []

    # --- buttons ----------------------------------------------------------------------------------------------------

    def _data(self, ctx: Ctx, action: str, arg: str = "") -> str:
        data = f"{ctx.state.nonce}:{action}:{arg}"
        if len(data.encode()) > CALLBACK_LIMIT:  # ids are short by schema; this guards the wire format
            raise ValueError(f"callback data too long: {data!r}")
        return data

    def _btn(self, ctx: Ctx, label: str, action: str, arg: str = "") -> Button:
        return Button(label, self._data(ctx, action, arg))

    def _bump(self, ctx: Ctx) -> None:
        ctx.state.nonce = (ctx.state.nonce + 1) % 1_000_000

    async def _button(self, ctx: Ctx, event: ButtonIn) -> list[Reply]:
        if ctx.state.awaiting and not ctx.state.awaiting.startswith("answer"):
            # the user started typing something (a reason, a comment) and pressed another button instead: drop it;
            # a question from the team ("answer") stays open until it is answered
            ctx.state.awaiting, ctx.state.awaiting_idea_id = None, None
        parts = (event.data or "").split(":", 2)
        if len(parts) != 3 or not parts[0].isdigit():
            return [self._stale(ctx)]
        nonce, action, arg = int(parts[0]), parts[1], parts[2]
        # Navigation works from any message; actions on a step only from the newest question.
        nav = {
            "mn": self._b_new_idea,
            "ml": self._b_library_areas,
            "la": self._b_library_area,
            "lp": self._b_library_card,
            "mg": self._b_language_menu,
            "lg": self._b_set_language,
            "mm": self._b_menu,
            "ent": self._b_choose_enterprise,
            "mi": self._b_my_ideas,
            "r": self._b_review,
        }
        if action in nav:
            return await nav[action](ctx, arg)
        if nonce != ctx.state.nonce:
            return [self._stale(ctx)]
        steps = {
            "a": self._b_area,
            "d": self._b_department,
            "p": self._b_pick_practice,
            "pu": self._b_use_practice,
            "pm": self._b_more_practices,
            "pb": self._b_back_to_practices,
            "pd": self._b_different,
            "k": self._b_keep_practice,
            "b": self._b_toggle_benefit,
            "bd": self._b_benefits_done,
            "qs": self._b_skip_quantity,
            "fs": self._b_skip_photo,
            "an": self._b_anonymity,
            "ok": self._b_confirm,
            "ed": self._b_edit_menu,
            "ef": self._b_edit_field,
            "eb": self._b_edit_back,
            "x": self._b_cancel,
            "xq": self._b_cancel_ask,
            "rc": self._b_resume,
            "rn": self._b_restart,
            "sq": self._b_search_to_idea,
            "ss": self._b_similar_skip,
            "sa": self._b_stash_answer,
            "sd": self._b_stash_draft,
        }
        handler = steps.get(action)
        if handler is None:
            return [self._stale(ctx)]
        return await handler(ctx, arg)

    def _stale(self, ctx: Ctx) -> Reply:
        """A button from an old message (or forged data): say so and show where the user really is."""
        alert = _("This button is no longer active.")
        reply = self._ask(ctx) if ctx.in_draft else self._menu(ctx)
        reply.alert = alert
        reply.edit = False
        return reply

    # --- commands ---------------------------------------------------------------------------------------------------

    async def _command(self, ctx: Ctx, cmd: CommandIn) -> list[Reply]:
        name = cmd.name
        if name == "start":
            return await self._start(ctx, cmd.args.strip())
        if name == "cancel":
            return [self._cancel(ctx)]
        if name == "help":
            return [self._help(ctx)]
        if name == "language":
            return [self._language_menu(ctx)]
        if name in ("new", "idea"):
            return [await self._new_idea(ctx)]
        if name in ("library", "practices"):
            return [self._library_areas(ctx)]
        if name == "myideas":
            return [await self._my_ideas(ctx)]
        if name == "enterprise":
            memberships = await Memberships(ctx.session).active_for(ctx.user.id)
            if len(memberships) > 1:
                return [await self._enterprise_chooser(ctx, memberships)]
            return [self._menu(ctx)] if memberships else [self._no_membership(ctx)]
        if name == "review":
            return await self._review_command(ctx) if ctx.membership else [self._no_membership(ctx)]
        if name == "notify":
            return await self.notify_settings(ctx) if ctx.membership else [self._no_membership(ctx)]
        note = _("I don't know that command.")
        return [self._ask(ctx, note=note)] if ctx.in_draft else [self._menu(ctx, note)]

    async def _start(self, ctx: Ctx, payload: str) -> list[Reply]:
        if payload:
            result = await onboarding.join(ctx.session, ctx.user, payload, admin=ctx.user.id in self.admin_ids)
            if result.status in ("unknown", "expired", "revoked"):
                msg = {
                    "unknown": _("This invite link is not valid. Please ask your improvement team for a new one."),
                    "expired": _("This invite link has expired. Please ask your improvement team for a new one."),
                    "revoked": _("This invite link was withdrawn. Please ask your improvement team for a new one."),
                }[result.status]
                if ctx.membership:
                    return [self._menu(ctx, msg)]
                return [Reply(Rich().add(msg))]
            ctx.membership, ctx.enterprise = await self._current_membership(ctx.session, ctx.user)
            role = _("team lead") if result.role in (Role.LEAD, Role.ADMIN) else _("worker")
            if result.status == "already":
                head = _("You are already a member of {enterprise}.").format(enterprise=result.enterprise.name)
            else:
                head = _("Welcome to {enterprise}! You joined as {role}.").format(
                    enterprise=result.enterprise.name, role=role
                )
            body = Rich().line(head, "b").line()
            body.add(
                _(
                    "Here you can share ideas to save energy, water and materials, cut waste and make work "
                    "safer. Your improvement team reads every idea and tells you what happens to it."
                )
            )
            return [self._menu(ctx, rich=body)]
        if ctx.in_draft:
            return [self._resume_offer(ctx)]
        if ctx.membership is None:
            memberships = await Memberships(ctx.session).active_for(ctx.user.id)
            if memberships:
                return [await self._enterprise_chooser(ctx, memberships)]
            return [self._no_membership(ctx)]
        return [self._menu(ctx, _("Welcome back!"))]

    def _no_membership(self, ctx: Ctx) -> Reply:
        r = (
            Rich()
            .line(
                _("Hello! I help workers share ideas to save energy, water and materials and to make work safer."), "b"
            )
            .line()
        )
        r.line(
            _(
                "To send ideas you need an invite link from your enterprise's improvement team. Open the link "
                "they send you, or type /start followed by the invite code."
            )
        )
        r.line()
        r.add(_("Meanwhile you can look at good practices from other enterprises."))
        return Reply(
            r, [[self._btn(ctx, "📚 " + _("Good practices"), "ml")], [self._btn(ctx, "🌐 " + _("Language"), "mg")]]
        )

    async def _enterprise_chooser(self, ctx: Ctx, memberships: list[Membership]) -> Reply:
        rows = []
        for m in memberships:
            ent = await Enterprises(ctx.session).get(m.enterprise_id)
            rows.append([self._btn(ctx, texts.short(ent.name, 50), "ent", str(ent.id))])
        return Reply(Rich().add(_("You belong to several enterprises. Which one are you acting for now?")), rows)

    async def _b_choose_enterprise(self, ctx: Ctx, arg: str) -> list[Reply]:
        if not arg.isdigit():
            return [self._stale(ctx)]
        membership = await Memberships(ctx.session).get(ctx.user.id, int(arg))
        if membership is None or not membership.active:
            return [Reply(Rich().add(_("You are not a member of that enterprise.")), alert=_("Not allowed."))]
        ctx.user.current_enterprise_id = membership.enterprise_id
        if ctx.in_draft and ctx.draft.get("enterprise_id") not in (None, membership.enterprise_id):
            self._clear_draft(ctx)  # a draft belongs to the enterprise it was started in
        ctx.membership, ctx.enterprise = await self._current_membership(ctx.session, ctx.user)
        return [self._menu(ctx, _("You are now acting for {enterprise}.").format(enterprise=ctx.enterprise.name))]

    def _help(self, ctx: Ctx) -> Reply:
        r = Rich().line(_("How I can help"), "b")
        r.line("/new — " + _("share a new improvement idea"))
        r.line("/library — " + _("good practices by area"))
        r.line("/myideas — " + _("your ideas and what happened to them"))
        r.line("/language — " + _("change the language"))
        r.line("/cancel — " + _("stop what you are doing"))
        if self._is_reviewer(ctx):
            r.line("/review — " + _("Ideas waiting for the team"))
            r.line("/notify — " + _("New ideas at once or once a day"))
        r.line()
        r.add(
            _(
                "You can also just write what you see (for example, a leaking tap) and I will show matching good "
                "practices, or send a photo to start an idea."
            )
        )
        if ctx.in_draft:
            return self._ask(ctx, rich=r)
        return self._menu(ctx, rich=r)

    def _cancel(self, ctx: Ctx) -> Reply:
        if ctx.state.awaiting and not ctx.state.awaiting.startswith("answer"):
            # what the user started typing (a reason, a comment); a question from the team stays open
            ctx.state.awaiting, ctx.state.awaiting_idea_id = None, None
            if not ctx.in_draft:
                return self._menu(ctx, _("Cancelled. Nothing was sent."))
        if ctx.in_draft:
            self._clear_draft(ctx)
            return self._menu(ctx, _("Cancelled. Nothing was sent."))
        return self._menu(ctx, _("There is nothing to cancel."))

    def _clear_draft(self, ctx: Ctx) -> None:
        ctx.draft = {}
        ctx.state.step = "idle"
        self._bump(ctx)

    # --- menu, language, library ------------------------------------------------------------------------------------

    def _menu(self, ctx: Ctx, note: str | None = None, rich: Rich | None = None) -> Reply:
        self._bump(ctx)
        body = rich or Rich()
        if note:
            body.line(note)
        if not body.parts:
            body.add(_("What would you like to do?"))
        rows = []
        if ctx.membership is not None:
            rows.append([self._btn(ctx, "💡 " + _("New idea"), "mn")])
        if self._is_reviewer(ctx):  # the team lead's daily work, one tap away (also /review)
            rows.append([self._rbtn("📋 " + _("Review"), "q", 0, "open", "")])
        rows.append([self._btn(ctx, "📚 " + _("Good practices"), "ml")])
        if ctx.membership is not None:
            rows.append([self._btn(ctx, "📋 " + _("My ideas"), "mi"), self._btn(ctx, "🌐 " + _("Language"), "mg")])
        else:
            rows.append([self._btn(ctx, "🌐 " + _("Language"), "mg")])
        return Reply(body, rows, edit=ctx.via_button)

    async def _b_menu(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.in_draft:
            return [self._ask(ctx)]
        return [self._menu(ctx)]

    def _language_menu(self, ctx: Ctx) -> Reply:
        rows = [[self._btn(ctx, name, "lg", code)] for code, name in texts.LANGUAGE_NAMES.items()]
        return Reply(Rich().add(_("Choose your language:")), rows, edit=ctx.via_button)

    async def _b_language_menu(self, ctx: Ctx, arg: str) -> list[Reply]:
        return [self._language_menu(ctx)]

    async def _b_set_language(self, ctx: Ctx, arg: str) -> list[Reply]:
        if arg not in LANGS:
            return [self._stale(ctx)]
        ctx.user.lang = arg
        ctx.lang = arg
        with i18n.use(arg):
            note = _("Done! I will speak English with you.")
            if ctx.in_draft:
                return [self._ask(ctx, note=note)]
            return [self._menu(ctx, note)]

    def _library_areas(self, ctx: Ctx) -> Reply:
        rows = [[self._btn(ctx, texts.area_label(a.value), "la", f"{a.value}.0")] for a in Area]
        rows.append([self._btn(ctx, "↩ " + _("Back"), "mm")])
        return Reply(Rich().add(_("Good practices from other enterprises. Choose an area:")), rows, edit=ctx.via_button)

    async def _b_library_areas(self, ctx: Ctx, arg: str) -> list[Reply]:
        return [self._library_areas(ctx)]

    async def _b_library_area(self, ctx: Ctx, arg: str) -> list[Reply]:
        area, _sep, page_s = arg.partition(".")
        if area not in {a.value for a in Area} or not page_s.isdigit():
            return [self._stale(ctx)]
        practices = self.library.by_area(area)
        pages = max(1, (len(practices) + LIBRARY_PAGE - 1) // LIBRARY_PAGE)
        page = min(int(page_s), pages - 1)
        chunk = practices[page * LIBRARY_PAGE : (page + 1) * LIBRARY_PAGE]
        rows = [[self._btn(ctx, texts.short(p.text(ctx.lang).title, BUTTON_LABEL), "lp", p.id)] for p in chunk]
        nav = []
        if page > 0:
            nav.append(self._btn(ctx, "◀", "la", f"{area}.{page - 1}"))
        if page + 1 < pages:
            nav.append(self._btn(ctx, "▶", "la", f"{area}.{page + 1}"))
        if nav:
            rows.append(nav)
        rows.append([self._btn(ctx, "↩ " + _("Areas"), "ml")])
        head = (
            Rich().line(texts.area_label(area), "b").add(_("Page {page} of {pages}").format(page=page + 1, pages=pages))
        )
        return [Reply(head, rows, edit=True)]

    async def _b_library_card(self, ctx: Ctx, arg: str) -> list[Reply]:
        practice = self.library.get(arg)
        if practice is None:
            return [self._stale(ctx)]
        rows = [[self._btn(ctx, "↩ " + texts.area_label(practice.area.value), "la", f"{practice.area.value}.0")]]
        if ctx.membership is not None and not ctx.in_draft:
            rows.insert(0, [self._btn(ctx, "💡 " + _("New idea"), "mn")])
        return [Reply(self._card(practice, ctx.lang), rows, edit=True)]

    def _card(self, practice: Practice, lang: str) -> Rich:
        t = practice.text(lang)
        r = (
            Rich()
            .line(t.title, "b")
            .line(f"{texts.area_label(practice.area.value)} · {texts.cost_label(practice.cost)}")
        )
        r.line().line(_("What to do"), "b").line(t.do).line().line(_("Why it pays"), "b").line(t.why)
        for s in practice.savings:
            r.line().add("📊 " + s.text.get(lang, s.text["en"])).add(
                " (" + _("Source: {source}").format(source=s.source) + ")", "i"
            )
        if t.safety:
            if practice.savings:
                r.line()
            r.line().add("🦺 " + t.safety)
        return r

    # --- the idea draft ---------------------------------------------------------------------------------------------

    async def _new_idea(self, ctx: Ctx) -> Reply:
        if ctx.membership is None:
            memberships = await Memberships(ctx.session).active_for(ctx.user.id)
            if memberships:
                return await self._enterprise_chooser(ctx, memberships)
            return self._no_membership(ctx)
        if ctx.in_draft:
            return self._resume_offer(ctx)
        ctx.draft = {"enterprise_id": ctx.enterprise.id}
        ctx.state.step = "area"
        return self._ask(ctx)

    async def _b_new_idea(self, ctx: Ctx, arg: str) -> list[Reply]:
        return [await self._new_idea(ctx)]

    def _resume_offer(self, ctx: Ctx) -> Reply:
        self._bump(ctx)
        r = Rich().line(_("You have an unfinished idea."), "b")
        if ctx.draft.get("problem"):
            r.line(_("Problem: {text}").format(text=texts.short(ctx.draft["problem"], 200)))
        r.add(_("Do you want to continue it?"))
        rows = [[self._btn(ctx, "▶ " + _("Continue"), "rc")], [self._btn(ctx, "🗑 " + _("Start over"), "rn")]]
        return Reply(r, rows, edit=ctx.via_button)

    async def _b_resume(self, ctx: Ctx, arg: str) -> list[Reply]:
        return [self._ask(ctx)]

    async def _b_restart(self, ctx: Ctx, arg: str) -> list[Reply]:
        self._clear_draft(ctx)
        return [await self._new_idea(ctx)]

    async def _b_cancel(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.draft.pop("editing", False):  # cancel the change of one field, not the whole idea
            ctx.state.step = "confirm"
            return [self._ask(ctx)]
        return [self._cancel(ctx)]

    def _step_done(self, ctx: Ctx, step: str) -> bool:
        d = ctx.draft
        return {
            "area": bool(d.get("area")),
            "department": "department_id" in d,
            "problem": bool(d.get("problem")),
            "similar": bool(d.get("similar_done")) or not d.get("_similar"),
            "practices": bool(d.get("practices_done")),
            "idea": bool(d.get("idea")),
            "benefits": bool(d.get("benefits_done")),
            "quantity": bool(d.get("quantity_done")),
            "photo": bool(d.get("photo_file_id") or d.get("photo_done")),
            "anonymity": "anonymous" in d,
        }.get(step, False)

    def _advance(self, ctx: Ctx, note: str | None = None) -> Reply:
        """Moves to the first step not answered yet (or back to the summary when editing) and asks it."""
        if ctx.draft.pop("editing", False):
            ctx.state.step = "confirm"
        else:
            ctx.state.step = next((s for s in STEPS if not self._step_done(ctx, s)), "confirm")
        return self._ask(ctx, note=note)

    def _ask(self, ctx: Ctx, note: str | None = None, rich: Rich | None = None) -> Reply:
        """The question of the current step, with its buttons (a fresh nonce makes older buttons stale)."""
        self._bump(ctx)
        step = ctx.state.step
        body = rich or Rich()
        if body.parts and not body.plain().endswith("\n\n"):
            body.line() if body.plain().endswith("\n") else body.line().line()
        if note:
            body.line(note, "i").line()
        cancel = self._btn(ctx, "✖ " + _("Cancel"), "x")
        rows: list[list[Button]] = []
        if step == "area":
            body.add(_("Which area is your idea about?"))
            rows = [[self._btn(ctx, texts.area_label(a.value), "a", a.value)] for a in Area]
            rows.append([cancel])
        elif step == "department":
            body.add(_("Where does it happen?"))
            rows = [
                [self._btn(ctx, texts.short(dep_name, 40), "d", str(dep_id))]
                for dep_id, dep_name in ctx.draft.get("_departments", [])
            ]
            rows.append([self._btn(ctx, _("Elsewhere / the whole enterprise"), "d", "-")])
            rows.append([cancel])
        elif step == "problem":
            if ctx.draft.get("photo_file_id") and not ctx.draft.get("editing"):
                body.add(_("Thanks for the photo! In a few words, what is the problem in it?"))
            else:
                body.add(
                    _(
                        "What is the problem? Describe in a few words what you see (for example: "
                        '"the compressor hisses at night"). You can also send a photo.'
                    )
                )
            rows = [[cancel]]
        elif step == "similar":
            body.line(
                _("Colleagues have already sent similar ideas. You can support one instead of sending a new one:"), "b"
            )
            for idea_id, number, idea_text in ctx.draft.get("_similar", []):
                body.line(_("No. {number}").format(number=number) + f": {idea_text}")
                rows.append([self._rbtn("👍 " + _("Support No. {number}").format(number=number), "sp", idea_id)])
            rows.append([self._btn(ctx, "➡ " + _("Mine is different, continue"), "ss")])
            rows.append([cancel])
        elif step == "practices":
            return self._practices_reply(ctx, body)
        elif step == "idea":
            practice = self.library.get(ctx.draft.get("practice_id") or "")
            if practice:
                body.add(
                    _(
                        'Good choice: "{title}". How would you do it here? Write your idea in a few words, '
                        "or keep the practice as it is."
                    ).format(title=practice.text(ctx.lang).title)
                )
                rows = [[self._btn(ctx, "✔ " + _("Keep it as it is"), "k")], [cancel]]
            else:
                body.add(_("What is your idea to improve it? Write it in a few words."))
                rows = [[cancel]]
        elif step == "benefits":
            chosen = set(ctx.draft.get("benefits") or [])
            body.add(_("What will it improve? Tap all that apply, then press Done. You can also write it."))
            codes = list(texts.BENEFIT_LABELS)
            for i in range(0, len(codes), 2):
                rows.append(
                    [
                        self._btn(ctx, ("✅ " if c in chosen else "") + texts.benefit_label(c), "b", c)
                        for c in codes[i : i + 2]
                    ]
                )
            rows.append([self._btn(ctx, "➡ " + _("Done"), "bd")])
            rows.append([cancel])
        elif step == "quantity":
            body.add(
                _(
                    "Roughly how much is wasted or could be saved? Write a number with its unit, for example "
                    '"20 litres a day" or "3 hours a week". You can skip this.'
                )
            )
            rows = [[self._btn(ctx, "⏭ " + _("Skip"), "qs")], [cancel]]
        elif step == "photo":
            body.add(_("A photo helps the team understand. Send one now, or skip."))
            rows = [[self._btn(ctx, "⏭ " + _("Skip"), "fs")], [cancel]]
        elif step == "anonymity":
            body.add(_("Should the improvement team see your name with this idea?"))
            rows = [
                [self._btn(ctx, "👤 " + _("Show my name"), "an", "0")],
                [self._btn(ctx, "🕶 " + _("Stay anonymous"), "an", "1")],
                [cancel],
            ]
        elif step == "confirm":
            body.parts.extend(self._summary(ctx).parts)
            rows = [
                [self._btn(ctx, "✅ " + _("Send"), "ok")],
                [self._btn(ctx, "✏ " + _("Edit"), "ed"), self._btn(ctx, "✖ " + _("Cancel"), "xq")],
            ]
        else:
            return self._menu(ctx, note)
        return Reply(body, rows, edit=ctx.via_button)

    def _summary(self, ctx: Ctx) -> Rich:
        d = ctx.draft
        r = Rich().line(_("Please check your idea:"), "b").line()
        r.add(_("Area") + ": ", "b").line(texts.area_label(d.get("area", "")))
        r.add(_("Where") + ": ", "b").line(d.get("department_name") or _("Elsewhere / the whole enterprise"))
        r.add(_("Problem") + ": ", "b").line(d.get("problem", ""))
        practice = self.library.get(d.get("practice_id") or "")
        if practice:
            r.add(_("Good practice") + ": ", "b").line(practice.text(ctx.lang).title)
        r.add(_("Idea") + ": ", "b").line(d.get("idea", ""))
        benefits = [texts.benefit_label(c) for c in d.get("benefits") or []]
        if d.get("benefits_note"):
            benefits.append(d["benefits_note"])
        r.add(_("Benefits") + ": ", "b").line(", ".join(benefits) or "—")
        r.add(_("Quantity") + ": ", "b").line(d.get("quantity_text") or "—")
        r.add(_("Photo") + ": ", "b").line(_("yes") if d.get("photo_file_id") else _("no"))
        r.add(_("Name") + ": ", "b").add(_("anonymous") if d.get("anonymous") else _("shown to the team"))
        return r

    # area, department
    async def _b_area(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "area" or arg not in {a.value for a in Area}:
            return [self._stale(ctx)]
        ctx.draft["area"] = arg
        if "department_id" not in ctx.draft:
            deps = await Enterprises(ctx.session).departments(ctx.enterprise.id) if ctx.enterprise else []
            if deps:
                ctx.draft["_departments"] = [[d.id, d.name] for d in deps]
            else:
                ctx.draft["department_id"] = None  # nothing to choose from
        if ctx.draft.get("practices_done") is None and ctx.draft.get("problem"):
            ctx.draft.pop("_matches", None)  # the area weighs the suggestions: recompute them
        if ctx.draft.get("editing") and ctx.draft.get("problem"):
            return [self._recheck_practice(ctx, ctx.draft.get("_matches"), weigh_area=True)]
        return [self._advance(ctx)]

    def _recheck_practice(self, ctx: Ctx, before: list[str] | None, weigh_area: bool) -> Reply:
        """After the area or the problem was changed from the summary: a chosen practice stays if it still fits the
        new words, else the worker chooses again among the new matches (then back to the summary). With no practice
        chosen, the new matches are offered only if the topic changed (none of the first three as before). After a
        new problem the area is not weighed: it was chosen for the old one."""
        chosen = ctx.draft.get("practice_id")
        ctx.draft.pop("_matches", None)
        matches = self._compute_matches(ctx, weigh_area)
        still_fits = chosen in matches
        same_topic = not matches or bool(set(matches[:3]) & set((before or [])[:3]))
        if still_fits or (not chosen and same_topic):
            return self._advance(ctx)
        practice = self.library.get(chosen or "")
        title = practice.text(ctx.lang).title if practice else ""
        if not matches:
            ctx.draft["practice_id"] = None
            note = _('"{title}" no longer fits what you describe, so I took it off your idea.')
            return self._advance(ctx, note=note.format(title=title))
        ctx.draft["_matches"], ctx.draft["_page"] = matches, 0
        ctx.state.step = "practices"  # still editing: after the choice, back to the summary
        if practice is None:
            note = _('These good practices fit what you describe now. Choose one, or tap "My idea is different".')
        else:
            note = _(
                '"{title}" no longer fits what you describe. Choose another practice, or tap "My idea is different".'
            ).format(title=title)
        return self._ask(ctx, note=note)

    async def _b_department(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "department" or ctx.enterprise is None:
            return [self._stale(ctx)]
        if arg == "-":
            ctx.draft["department_id"], ctx.draft["department_name"] = None, None
            return [self._advance(ctx)]
        dep = await Enterprises(ctx.session).department(ctx.enterprise.id, int(arg)) if arg.isdigit() else None
        if dep is None:  # not a department of this enterprise: forged or from another enterprise
            return [self._stale(ctx)]
        ctx.draft["department_id"], ctx.draft["department_name"] = dep.id, dep.name
        return [self._advance(ctx)]

    # practices
    def _compute_matches(self, ctx: Ctx, weigh_area: bool = True) -> list[str]:
        area = ctx.draft.get("area") if weigh_area else None
        found = self.matcher.match(ctx.draft.get("problem", ""), ctx.lang, top=MAX_MATCHES, area=area)
        return [m.practice.id for m in found]

    def _practices_reply(self, ctx: Ctx, body: Rich) -> Reply:
        if "_matches" not in ctx.draft:
            ctx.draft["_matches"] = self._compute_matches(ctx)
            ctx.draft["_page"] = 0
        ids = ctx.draft["_matches"]
        if not ids:
            ctx.draft["practices_done"] = True
            ctx.state.step = "idea"
            return self._ask(ctx, note=_("I found no matching good practice. That's fine: your idea may be new!"))
        page = ctx.draft.get("_page", 0)
        shown = ids[page * MATCHES_PER_PAGE : (page + 1) * MATCHES_PER_PAGE]
        body.line(_("Other enterprises solved similar problems like this. Tap one to read it:"), "b")
        rows = []
        for n, pid in enumerate(shown, start=1 + page * MATCHES_PER_PAGE):
            practice = self.library.get(pid)
            title = practice.text(ctx.lang).title
            body.line(f"{n}. {title}")
            rows.append([self._btn(ctx, f"{n}. {texts.short(title, BUTTON_LABEL)}", "p", pid)])
        if len(ids) > MATCHES_PER_PAGE:  # cycles back to the first suggestions after the last page
            rows.append([self._btn(ctx, "🔎 " + _("Show more"), "pm")])
        rows.append([self._btn(ctx, "💡 " + _("My idea is different"), "pd")])
        rows.append([self._btn(ctx, "✖ " + _("Cancel"), "x")])
        return Reply(body, rows, edit=ctx.via_button)

    async def _b_similar_skip(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "similar":
            return [self._stale(ctx)]
        ctx.draft["similar_done"] = True
        return [self._advance(ctx)]

    async def _b_more_practices(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "practices":
            return [self._stale(ctx)]
        ids = ctx.draft.get("_matches") or []
        pages = max(1, (len(ids) + MATCHES_PER_PAGE - 1) // MATCHES_PER_PAGE)
        ctx.draft["_page"] = (ctx.draft.get("_page", 0) + 1) % pages
        return [self._ask(ctx)]

    async def _b_pick_practice(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "practices" or arg not in (ctx.draft.get("_matches") or []):
            return [self._stale(ctx)]
        self._bump(ctx)
        practice = self.library.get(arg)
        rows = [
            [self._btn(ctx, "✔ " + _("Use this for my idea"), "pu", arg)],
            [self._btn(ctx, "↩ " + _("Back to the list"), "pb")],
            [self._btn(ctx, "💡 " + _("My idea is different"), "pd")],
        ]
        return [Reply(self._card(practice, ctx.lang), rows, edit=True)]

    async def _b_use_practice(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "practices" or arg not in (ctx.draft.get("_matches") or []):
            return [self._stale(ctx)]
        before = self.library.get(ctx.draft.get("practice_id") or "")
        chosen = self.library.get(arg)
        if before is not None and ctx.draft.get("idea") == before.text(ctx.lang).title:
            ctx.draft["idea"] = chosen.text(ctx.lang).title  # the idea was that practice, as it was
        note = None
        if ctx.draft.get("editing"):  # chosen again after the problem changed: the other answers may be stale
            note = _("Please check your other answers too: they were given for the earlier problem.")
            if chosen.area.value != ctx.draft.get("area"):
                ctx.draft["area"] = chosen.area.value
                area = texts.area_label(chosen.area.value)
                note = _("The area is now {area}, as for the practice you chose.").format(area=area) + " " + note
        ctx.draft["practice_id"] = arg
        ctx.draft["practices_done"] = True
        return [self._advance(ctx, note=note)]

    async def _b_back_to_practices(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "practices":
            return [self._stale(ctx)]
        return [self._ask(ctx)]

    async def _b_different(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "practices":
            return [self._stale(ctx)]
        ctx.draft["practice_id"] = None
        ctx.draft["practices_done"] = True
        return [self._advance(ctx)]

    async def _b_keep_practice(self, ctx: Ctx, arg: str) -> list[Reply]:
        practice = self.library.get(ctx.draft.get("practice_id") or "")
        if ctx.state.step != "idea" or practice is None:
            return [self._stale(ctx)]
        ctx.draft["idea"] = practice.text(ctx.lang).title
        return [self._advance(ctx)]

    # benefits, quantity, photo, anonymity
    async def _b_toggle_benefit(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "benefits" or arg not in texts.BENEFIT_LABELS:
            return [self._stale(ctx)]
        chosen = list(ctx.draft.get("benefits") or [])
        chosen.remove(arg) if arg in chosen else chosen.append(arg)
        ctx.draft["benefits"] = chosen
        return [self._ask(ctx)]

    async def _b_benefits_done(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "benefits":
            return [self._stale(ctx)]
        ctx.draft["benefits_done"] = True
        return [self._advance(ctx)]

    async def _b_skip_quantity(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "quantity":
            return [self._stale(ctx)]
        for key in ("quantity", "quantity_unit", "quantity_text"):
            ctx.draft.pop(key, None)
        ctx.draft["quantity_done"] = True
        return [self._advance(ctx)]

    async def _b_skip_photo(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "photo":
            return [self._stale(ctx)]
        if not ctx.draft.get("editing"):  # while editing, "skip" keeps the photo already attached
            ctx.draft.pop("photo_file_id", None)
            ctx.draft.pop("photo_unique_id", None)
        ctx.draft["photo_done"] = True
        return [self._advance(ctx)]

    async def _b_anonymity(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "anonymity" or arg not in ("0", "1"):
            return [self._stale(ctx)]
        ctx.draft["anonymous"] = arg == "1"
        return [self._advance(ctx)]

    # confirm, edit
    async def _b_confirm(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "confirm":
            return [self._stale(ctx)]
        membership = await Memberships(ctx.session).get(ctx.user.id, ctx.draft.get("enterprise_id") or -1)
        if membership is None or not membership.active:
            self._clear_draft(ctx)
            return [self._menu(ctx, _("You are no longer a member of this enterprise, so the idea cannot be sent."))]
        try:
            submitted = await idea_service.submit(
                ctx.session, membership.enterprise_id, ctx.user.id, ctx.draft, ctx.lang, self.library.version
            )
        except idea_service.DraftIncomplete:
            ctx.draft.pop("editing", None)
            return [self._advance(ctx, note=_("Something is missing in your idea. Let's complete it."))]
        self._clear_draft(ctx)
        notices = await self.new_idea_notices(ctx.session, await ctx.session.get(Idea, submitted.idea_id))
        body = (
            Rich()
            .line(
                "✅ "
                + _("Thank you! Your idea No. {number} has been sent to the improvement team.").format(
                    number=submitted.number
                ),
                "b",
            )
            .line()
        )
        body.add(_('I will tell you when they decide. You can follow it in "My ideas".'))
        return [self._menu(ctx, rich=body), *notices]

    async def _b_cancel_ask(self, ctx: Ctx, arg: str) -> list[Reply]:
        """At the summary a whole idea is one tap from lost: ask first (/cancel still works at once)."""
        if ctx.state.step != "confirm":
            return [self._stale(ctx)]
        self._bump(ctx)
        rows = [
            [self._btn(ctx, "🗑 " + _("Yes, discard it"), "x")],
            [self._btn(ctx, "↩ " + _("No, back to my idea"), "eb")],
        ]
        return [Reply(Rich().add(_("Discard this idea? Nothing of it will be sent.")), rows, edit=True)]

    async def _b_edit_menu(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "confirm":
            return [self._stale(ctx)]
        self._bump(ctx)
        labels = {
            "area": _("Area"),
            "department": _("Where"),
            "problem": _("Problem"),
            "idea": _("Idea"),
            "benefits": _("Benefits"),
            "quantity": _("Quantity"),
            "photo": _("Photo"),
            "anonymity": _("Name"),
        }
        fields = [f for f in EDITABLE if f != "department" or ctx.draft.get("_departments")]
        rows = [[self._btn(ctx, labels[f], "ef", f) for f in fields[i : i + 2]] for i in range(0, len(fields), 2)]
        rows.append([self._btn(ctx, "↩ " + _("Back"), "eb")])
        return [Reply(Rich().add(_("What do you want to change?")), rows, edit=True)]

    async def _b_edit_field(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "confirm" or arg not in EDITABLE:
            return [self._stale(ctx)]
        ctx.draft["editing"] = True
        ctx.state.step = arg
        return [self._ask(ctx)]

    async def _b_edit_back(self, ctx: Ctx, arg: str) -> list[Reply]:
        if ctx.state.step != "confirm":
            return [self._stale(ctx)]
        return [self._ask(ctx)]

    # --- free text and photos ---------------------------------------------------------------------------------------

    def _clean_text(self, text: str) -> str:
        return textnorm.clean(text).strip()

    def _meaningful(self, text: str) -> bool:
        return len(textnorm.words(text)) > 0 and len(text) >= MIN_TEXT

    def _too_long(self, ctx: Ctx, text: str, limit: int) -> Reply | None:
        if len(text) <= limit:
            return None
        note = _("That is {count} characters; please keep it under {limit}.").format(
            count=i18n.number(len(text), 0), limit=i18n.number(limit, 0)
        )
        return self._ask(ctx, note=note)

    async def _text(self, ctx: Ctx, raw: str) -> list[Reply]:
        text = self._clean_text(raw)
        if ctx.state.awaiting:  # a question to this user comes first, then the draft, then a library search
            if (
                ctx.state.awaiting.startswith("answer")
                and ctx.in_draft
                and ctx.state.step in TEXT_STEPS
                and textnorm.words(text)
            ):
                return [await self._which_text(ctx, text)]  # both want it: let the worker say which
            awaited = await self._awaited_text(ctx, text)
            if awaited is not None:
                return awaited
        return await self._draft_text(ctx, text)

    async def _which_text(self, ctx: Ctx, text: str) -> Reply:
        """A worker with an open question from the team types while writing a new idea: which is it for?"""
        idea = await ctx.session.get(Idea, ctx.state.awaiting_idea_id) if ctx.state.awaiting_idea_id else None
        if idea is None:
            ctx.state.awaiting, ctx.state.awaiting_idea_id = None, None
            return (await self._draft_text(ctx, text))[0]
        ctx.draft["_stash"] = text
        self._bump(ctx)
        body = Rich().add(
            _("Is this your answer to the team's question about idea No. {number}, or part of your new idea?").format(
                number=idea.number
            )
        )
        rows = [
            [self._btn(ctx, "💬 " + _("Answer to the team"), "sa")],
            [self._btn(ctx, "💡 " + _("Part of my new idea"), "sd")],
        ]
        return Reply(body, rows)

    async def _b_stash_answer(self, ctx: Ctx, arg: str) -> list[Reply]:
        text = ctx.draft.pop("_stash", None)
        if text is None or not ctx.state.awaiting:
            return [self._stale(ctx)]
        return await self._awaited_text(ctx, text) or [self._ask(ctx)]

    async def _b_stash_draft(self, ctx: Ctx, arg: str) -> list[Reply]:
        text = ctx.draft.pop("_stash", None)
        if text is None or not ctx.in_draft:
            return [self._stale(ctx)]
        return await self._draft_text(ctx, text)

    async def _draft_text(self, ctx: Ctx, text: str) -> list[Reply]:
        """Free text for the unfinished idea's current step, or a library search when there is none."""
        step = ctx.state.step
        if not ctx.in_draft:
            return [self._search(ctx, text)]
        if not text:
            return [self._ask(ctx, note=_("I got an empty message. Please write a few words."))]
        if not textnorm.words(text):  # only emoji or symbols
            if step in TEXT_STEPS:
                return [self._ask(ctx, note=_("Please write a few more words."))]
            return [self._ask(ctx, note=_("Please choose one of the buttons."))]
        if step == "problem":
            if (reply := self._too_long(ctx, text, idea_service.MAX_PROBLEM)) is not None:
                return [reply]
            if not self._meaningful(text):
                return [self._ask(ctx, note=_("Please write a few more words."))]
            ctx.draft["problem"] = text
            before = ctx.draft.pop("_matches", None)
            if ctx.draft.get("editing"):
                return [self._recheck_practice(ctx, before, weigh_area=False)]
            await self._look_for_similar(ctx)
            return [self._advance(ctx)]
        if step in ("idea", "practices"):
            if (reply := self._too_long(ctx, text, idea_service.MAX_IDEA)) is not None:
                return [reply]
            if not self._meaningful(text):
                return [self._ask(ctx, note=_("Please write a few more words."))]
            if step == "practices":  # the worker's own idea instead of a practice
                ctx.draft["practices_done"] = True
                ctx.draft["practice_id"] = None
            ctx.draft["idea"] = text
            return [self._advance(ctx)]
        if step == "benefits":
            if (reply := self._too_long(ctx, text, idea_service.MAX_BENEFITS)) is not None:
                return [reply]
            ctx.draft["benefits_note"] = text
            ctx.draft["benefits_done"] = True
            return [self._advance(ctx)]
        if step == "quantity":
            if (reply := self._too_long(ctx, text, idea_service.MAX_QUANTITY_TEXT)) is not None:
                return [reply]
            q = parse_quantity(text)
            if q is None:
                return [
                    self._ask(
                        ctx,
                        note=_(
                            "I could not find a number in that. Please write a number, for example "
                            '"20 litres a day", or press Skip.'
                        ),
                    )
                ]
            ctx.draft.update(quantity=q.value, quantity_unit=q.unit, quantity_text=text, quantity_done=True)
            return [self._advance(ctx)]
        if step in ("area", "department") and (chosen := self._typed_choice(ctx, text)) is not None:
            return await (self._b_area(ctx, chosen) if step == "area" else self._b_department(ctx, chosen))
        if step in ("area", "department") and not ctx.draft.get("problem") and self._meaningful(text):
            if len(text) <= idea_service.MAX_PROBLEM:
                ctx.draft["problem"] = text  # keep what they wrote: it answers a later question
                await self._look_for_similar(ctx)
                return [self._ask(ctx, note=_("I noted your description. Now please choose with the buttons."))]
        if step == "photo":
            return [self._ask(ctx, note=_("Please send a photo, or press Skip."))]
        return [self._ask(ctx, note=_("Please choose one of the buttons."))]

    def _typed_choice(self, ctx: Ctx, text: str) -> str | None:
        """The button a worker typed instead of pressing ("agua", "Almacén"): an area, or a department's id; None
        when the words name no single choice."""
        said = textnorm.terms(text, ctx.lang)
        if not said or len(said) > 3:
            return None
        if ctx.state.step == "area":
            found = set()
            for area in Area:
                names = [
                    texts.area_label(area.value),
                    area.value,
                    *self.library.area_words.get(area.value, {}).get(ctx.lang, ()),
                ]
                stems = {t for name in names for t in textnorm.terms(name, ctx.lang)}
                if all(t in stems for t in said):
                    found.add(area.value)
            return found.pop() if len(found) == 1 else None
        matching = [str(i) for i, name in ctx.draft.get("_departments", []) if textnorm.terms(name, ctx.lang) == said]
        return matching[0] if len(matching) == 1 else None

    async def _look_for_similar(self, ctx: Ctx) -> None:
        """Open ideas of colleagues worded like the draft's problem, however the problem arrived (typed at its step
        or earlier, a photo's caption, a search shared as an idea): the worker may support one instead."""
        if ctx.enterprise is not None and ctx.draft.get("problem") and not ctx.draft.get("editing"):
            similar = await self._similar_open_ideas(ctx, ctx.draft["problem"])
            ctx.draft["_similar"] = [[i.id, i.number, texts.short(i.idea, 80)] for i in similar]

    async def _photo(self, ctx: Ctx, photo: PhotoIn) -> list[Reply]:
        caption = self._clean_text(photo.caption or "")
        if ctx.state.awaiting in ("answer", "author_comment") and not ctx.in_draft:
            return await self._awaited_photo(ctx, photo.file_id, caption)
        if not ctx.in_draft:
            if ctx.membership is None:
                return [self._no_membership(ctx)]
            ctx.draft = {"enterprise_id": ctx.enterprise.id}
            ctx.state.step = "area"
        ctx.draft["photo_file_id"], ctx.draft["photo_unique_id"] = photo.file_id, photo.unique_id
        if caption and self._meaningful(caption) and not ctx.draft.get("problem"):
            ctx.draft["problem"] = caption[: idea_service.MAX_PROBLEM]
            await self._look_for_similar(ctx)
        if ctx.state.step == "problem" and caption and self._meaningful(caption):
            ctx.draft["problem"] = caption[: idea_service.MAX_PROBLEM]
            ctx.draft.pop("_matches", None)
            await self._look_for_similar(ctx)
        if ctx.state.step in ("photo", "problem"):
            return [self._advance(ctx, note=_("Photo saved."))]
        return [self._ask(ctx, note=_("Photo saved."))]

    # --- search outside the flow ------------------------------------------------------------------------------------

    def _search(self, ctx: Ctx, text: str) -> Reply:
        if not text:
            return self._menu(ctx, _("I got an empty message. Please write a few words."))
        if not textnorm.words(text):
            return self._menu(ctx, _("Please write a few more words."))
        found = self.matcher.match(text, ctx.lang, top=3)
        self._bump(ctx)
        if not found:
            body = Rich().line(_("I found no good practice for that. Try other words, or share it as an idea."))
        else:
            body = Rich().line(_("Good practices that may fit:"), "b")
        rows = [
            [self._btn(ctx, texts.short(m.practice.text(ctx.lang).title, BUTTON_LABEL), "lp", m.practice.id)]
            for m in found
        ]
        if ctx.membership is not None and self._meaningful(text) and len(text) <= idea_service.MAX_PROBLEM:
            ctx.draft = {"_search": text}
            rows.append([self._btn(ctx, "💡 " + _("Share this as an idea"), "sq")])
        rows.append([self._btn(ctx, "📚 " + _("All good practices"), "ml")])
        return Reply(body, rows)

    async def _b_search_to_idea(self, ctx: Ctx, arg: str) -> list[Reply]:
        text = ctx.draft.get("_search")
        if ctx.in_draft or not text or ctx.membership is None:
            return [self._stale(ctx)]
        ctx.draft = {"enterprise_id": ctx.enterprise.id, "problem": text}
        ctx.state.step = "area"
        await self._look_for_similar(ctx)
        return [self._ask(ctx)]

    # --- the worker's ideas (list only; follow-up comes with the review issue) --------------------------------------

    async def _b_my_ideas(self, ctx: Ctx, arg: str) -> list[Reply]:
        return [await self._my_ideas(ctx)]

    async def _my_ideas(self, ctx: Ctx) -> Reply:
        if ctx.membership is None:
            return self._no_membership(ctx)
        return await self._my_ideas_list(ctx)
