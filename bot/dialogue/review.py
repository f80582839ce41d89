"""The review loop in the conversation: the team lead's queue and idea cards, decisions, questions and comments;
the worker's own ideas, answers, withdrawals and support. Mixed into `Dialogue`; all rules live in
`bot.services.review`, which checks every action against the actor's role and enterprise."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot import i18n
from bot.dialogue import texts
from bot.dialogue.types import Button, Reply, Rich
from bot.domain import lifecycle
from bot.domain.enums import Area, Status
from bot.i18n import N_, _, ngettext
from bot.services import review
from bot.services.review import Conflict, NotAllowed, QueueFilter
from bot.storage.models import Idea, IdeaEvent, Membership, User, utcnow
from bot.storage.repo import Dialogues, Enterprises, Ideas

REJECT_REASONS = {
    "cost": N_("Too expensive for now"),
    "dup": N_("Already planned or done"),
    "tech": N_("Not technically possible"),
    "safe": N_("Not safe"),
}
QUEUE_STATUSES = (
    "open",
    "submitted",
    "in_review",
    "needs_info",
    "accepted",
    "in_progress",
    "implemented",
    "rejected",
    "withdrawn",
    "all",
)
NOTIFY_MODES = ("instant", "daily")


class ReviewMixin:
    """Team-lead and follow-up handlers of the dialogue (see the module docstring)."""

    # --- helpers ------------------------------------------------------------------------------------------------

    def _rbtn(self, label: str, op: str, *args: object) -> Button:
        """A review button: not tied to the step nonce, because every press is authorised from scratch."""
        data = "0:r:" + ".".join([op, *(str(a) for a in args)])
        return Button(label, data)

    def _is_reviewer(self, ctx) -> bool:
        return ctx.membership is not None and ctx.membership.role in lifecycle.REVIEWERS

    async def _lang_of(self, session, user_id: int) -> str:
        user = await session.get(User, user_id)
        return i18n.pick_language(user.lang, user.client_lang) if user else i18n.FALLBACK

    def _age(self, when: datetime) -> str:
        days = max(0, (utcnow() - when).days)
        if days == 0:
            return _("today")
        return ngettext("{count} day ago", "{count} days ago", days).format(count=days)

    async def _card_text(self, ctx_session, idea: Idea, lang: str, tz: str, for_lead: bool) -> Rich:
        """An idea as a card; the submitter's name only for a lead and only when the idea is not anonymous."""
        r = Rich().line(_("Idea No. {number}").format(number=idea.number) + " · " + texts.area_label(idea.area), "b")
        dep = await review.department_name(ctx_session, idea.department_id)
        r.line(
            _("Status: {status}").format(status=texts.status_label(idea.status))
            + " · "
            + i18n.date(idea.created_at, tz)
            + " · "
            + self._age(idea.created_at)
        )
        if dep:
            r.line(_("Where") + ": " + dep)
        if for_lead:
            if idea.anonymous:
                r.line(_("From: anonymous"))
            else:
                author = await ctx_session.get(User, idea.author_id)
                name = author.full_name if author else "?"
                r.line(_("From: {name}").format(name=name))
        r.line()
        # the lead sees which language the worker wrote in; the author needs no such tag
        r.add(_("Problem") + (f" ({idea.lang})" if for_lead else "") + ": ", "b").line(idea.problem)
        r.add(_("Idea") + ": ", "b").line(idea.idea)
        practice = self.library.get(idea.practice_id or "")
        if practice:
            r.add(_("Good practice") + ": ", "b").line(practice.text(lang).title)
        if idea.benefits:
            codes = [c.strip() for c in idea.benefits.split(";")[0].split(",")]
            if all(c in texts.BENEFIT_LABELS for c in codes):
                shown = ", ".join(texts.benefit_label(c) for c in codes)
                shown += ("; " + idea.benefits.split(";", 1)[1].strip()) if ";" in idea.benefits else ""
            else:
                shown = idea.benefits
            r.add(_("Benefits") + ": ", "b").line(shown)
        if idea.quantity_text:
            r.add(_("Quantity") + ": ", "b").line(idea.quantity_text)
        if idea.support_count:
            r.line(
                "👍 "
                + ngettext("{count} colleague supports it", "{count} colleagues support it", idea.support_count).format(
                    count=idea.support_count
                )
            )
        if idea.reject_reason and idea.status == Status.REJECTED:
            r.add(_("Reason") + ": ", "b").line(idea.reject_reason)
        if for_lead and idea.assignee_id is not None:
            assignee = await ctx_session.get(User, idea.assignee_id)
            name = assignee.full_name if assignee else "?"
            r.add(_("Carried out by") + ": ", "b").line(name or str(idea.assignee_id))
        if for_lead:
            talk = list(
                await ctx_session.scalars(
                    select(IdeaEvent)
                    .where(
                        IdeaEvent.idea_id == idea.id,
                        IdeaEvent.kind.in_(["status", "answer", "comment", "author_comment"]),
                        IdeaEvent.text.is_not(None),
                    )
                    .order_by(IdeaEvent.id)
                )
            )
            if talk:  # the conversation, so an answer missed in a notification is not lost
                r.line().line(_("Conversation"), "b")
                for e in talk[-6:]:
                    who = _("team") if e.kind in ("status", "comment") else _("worker")
                    r.line(f"{i18n.date(e.created_at, tz)} · {who}: " + texts.short(e.text or "", 300))
        return r

    def _lead_buttons(self, idea: Idea) -> list[list[Button]]:
        s = idea.status
        rows: list[list[Button]] = []
        # the moves the lead may make from this status, two to a row; "st" moves carry the status they go to
        for pair in (
            ((Status.IN_REVIEW, "🔍 " + _("Start review"), "st"), (Status.ACCEPTED, "✅ " + _("Accept"), "st")),
            ((Status.NEEDS_INFO, "❓ " + _("Ask"), "ni"), (Status.REJECTED, "✖ " + _("Reject"), "rj")),
            ((Status.IN_PROGRESS, "🛠 " + _("In progress"), "st"), (Status.IMPLEMENTED, "🏁 " + _("Implemented"), "st")),
        ):
            row = [
                self._rbtn(label, action, idea.id, *((to.value, s) if action == "st" else (s,)))
                for to, label, action in pair
                if lifecycle.lead_may(s, to)
            ]
            if row:
                rows.append(row)
        rows.append([self._rbtn("💬 " + _("Comment"), "cm", idea.id), self._rbtn("👷 " + _("Assign"), "as", idea.id)])
        rows.append([self._rbtn("📋 " + _("Review"), "q", 0, "open", "")])
        return rows

    async def _notify_author(self, session, idea: Idea, build) -> list[Reply]:
        """A message to the submitter, built in the submitter's own language."""
        return await self._notify(session, [idea.author_id], build)

    async def _notify(self, session, user_ids, build) -> list[Reply]:
        """A message to each of these users, built in each one's own language."""
        out = []
        for user_id in user_ids:
            with i18n.use(await self._lang_of(session, user_id)):
                reply = build()
            reply.to_user = user_id
            out.append(reply)
        return out

    # --- the queue ------------------------------------------------------------------------------------------------

    async def _review_command(self, ctx) -> list[Reply]:
        if not self._is_reviewer(ctx):
            return [self._menu(ctx, _("Only members of the improvement team can review ideas."))]
        return await self._queue_page(ctx, 0, "open", "")

    async def _queue_page(self, ctx, pos: int, status: str, area: str, dep: str = "") -> list[Reply]:
        if status not in QUEUE_STATUSES or (area and area not in {a.value for a in Area}):
            return [self._stale(ctx)]
        department = None
        if dep:
            department = (
                await Enterprises(ctx.session).department(ctx.enterprise.id, int(dep)) if dep.isdigit() else None
            )
            if department is None:  # not a department of this lead's enterprise
                return [self._stale(ctx)]
        flt_ = QueueFilter(status, area or None, department.id if department else None)
        ideas = await review.queue(ctx.session, ctx.enterprise.id, flt_)
        flt = (
            texts.status_label(status)
            if status not in ("open", "all")
            else (_("waiting for the team") if status == "open" else _("all"))
        )
        if area:
            flt += " · " + texts.area_label(area)
        if department:
            flt += " · " + department.name
        if not ideas:
            body = Rich().line(_("No ideas here ({filter}).").format(filter=flt))
            return [Reply(body, [[self._rbtn("🔎 " + _("Filter"), "fl")]], edit=ctx.via_button)]
        pos = max(0, min(pos, len(ideas) - 1))
        idea = ideas[pos]
        head = Rich().line(_("Review: {n} of {total} ({filter})").format(n=pos + 1, total=len(ideas), filter=flt), "i")
        card = await self._card_text(ctx.session, idea, ctx.lang, ctx.enterprise.timezone, for_lead=True)
        head.parts.extend(card.parts)
        rows = self._lead_buttons(idea)
        nav = []
        if pos > 0:
            nav.append(self._rbtn("◀", "q", pos - 1, status, area, dep))
        nav.append(self._rbtn("🔎 " + _("Filter"), "fl"))
        if pos + 1 < len(ideas):
            nav.append(self._rbtn("▶", "q", pos + 1, status, area, dep))
        rows.append(nav)
        replies = []
        if idea.photo_file_id:
            replies.append(
                Reply(
                    Rich().add(_("Photo of idea No. {number}").format(number=idea.number)),
                    photo_file_id=idea.photo_file_id,
                )
            )
        replies.append(Reply(head, rows, edit=ctx.via_button and not idea.photo_file_id))
        return replies

    async def _filters(self, ctx) -> list[Reply]:
        rows = []
        statuses = list(QUEUE_STATUSES)
        for i in range(0, len(statuses), 2):
            rows.append(
                [
                    self._rbtn(
                        texts.status_label(s)
                        if s not in ("open", "all")
                        else (_("waiting for the team") if s == "open" else _("all")),
                        "q",
                        0,
                        s,
                        "",
                    )
                    for s in statuses[i : i + 2]
                ]
            )
        for a in Area:
            rows.append([self._rbtn(texts.area_label(a.value), "q", 0, "all", a.value)])
        for d in (await Enterprises(ctx.session).departments(ctx.enterprise.id))[:12]:
            rows.append([self._rbtn("📍 " + texts.short(d.name, 40), "q", 0, "all", "", d.id)])
        return [Reply(Rich().add(_("Show which ideas?")), rows, edit=ctx.via_button)]

    async def _card_for_lead(self, ctx, idea: Idea, note: str | None = None) -> list[Reply]:
        body = Rich()
        if note:
            body.line(note, "i").line()
        body.parts.extend((await self._card_text(ctx.session, idea, ctx.lang, ctx.enterprise.timezone, True)).parts)
        replies = []
        if idea.photo_file_id and not ctx.via_button:
            replies.append(
                Reply(
                    Rich().add(_("Photo of idea No. {number}").format(number=idea.number)),
                    photo_file_id=idea.photo_file_id,
                )
            )
        replies.append(Reply(body, self._lead_buttons(idea), edit=ctx.via_button))
        return replies

    # --- button router ----------------------------------------------------------------------------------------------

    async def _b_review(self, ctx, arg: str) -> list[Reply]:
        parts = arg.split(".")
        op, args = parts[0], parts[1:]
        author_ops = {
            "ls": self._b_my_ideas,
            "mc": self._my_card,
            "wd": self._ask_withdraw,
            "wy": self._do_withdraw,
            "an": self._start_answer,
            "wc": self._start_author_comment,
            "sp": self._do_support,
        }
        try:
            if op in author_ops:
                return await author_ops[op](ctx, *args)
            if not self._is_reviewer(ctx):
                return [self._refuse(ctx)]
            if op == "q" and len(args) in (3, 4) and args[0].isdigit():
                return await self._queue_page(ctx, int(args[0]), *args[1:])
            if op == "fl":
                return await self._filters(ctx)
            if not args or not args[0].isdigit():
                return [self._stale(ctx)]
            idea_id = int(args[0])
            idea, member = await review.idea_for_lead(ctx.session, ctx.user.id, idea_id)
            if member.enterprise_id != ctx.enterprise.id:
                # acting for another enterprise: switch, so the card and what follows are consistent
                ctx.user.current_enterprise_id = member.enterprise_id
                ctx.membership, ctx.enterprise = await self._current_membership(ctx.session, ctx.user)
            if op == "c":
                return await self._card_for_lead(ctx, idea)
            seen = args[-1] if len(args) >= 2 and args[-1] in {st.value for st in Status} else None
            if seen is not None and idea.status != seen and op in ("st", "rj", "rr", "rt", "ni"):
                return await self._already_decided(ctx, idea)
            if op == "st" and len(args) == 3:
                return await self._lead_decide(ctx, idea_id, args[1], None, expected=seen)
            if op == "rj":
                # a reason typed now, without pressing "Type a reason" first, is the reason too (not a search)
                ctx.state.awaiting, ctx.state.awaiting_idea_id = f"reason:{idea.status}", idea_id
                rows = [
                    [self._rbtn(_(label), "rr", idea_id, code, idea.status)] for code, label in REJECT_REASONS.items()
                ]
                rows.append([self._rbtn("✍ " + _("Type a reason"), "rt", idea_id, idea.status)])
                rows.append([self._rbtn("↩ " + _("Back"), "c", idea_id)])
                body = Rich().line(
                    _("Why is idea No. {number} rejected? The worker will see this reason.").format(number=idea.number)
                )
                body.add(_("Tap a reason, or just write your own."))
                return [Reply(body, rows, edit=True)]
            if op == "rr" and len(args) == 3 and args[1] in REJECT_REASONS:
                with i18n.use(await self._lang_of(ctx.session, idea.author_id)):
                    reason = _(REJECT_REASONS[args[1]])  # recorded in the words the worker will read
                return await self._lead_decide(ctx, idea_id, Status.REJECTED.value, reason, expected=seen)
            if op in ("rt", "ni", "cm"):
                kind = {"rt": "reason", "ni": "question", "cm": "lead_comment"}[op]
                # a decision typed later still remembers the status the lead saw
                ctx.state.awaiting = kind if kind == "lead_comment" else f"{kind}:{idea.status}"
                ctx.state.awaiting_idea_id = idea_id
                prompt = {
                    "reason": _("Write the reason for rejecting idea No. {number}:"),
                    "question": _("Write your question about idea No. {number}. I will pass it on to the worker:"),
                    "lead_comment": _("Write your comment on idea No. {number}. I will pass it on to the worker:"),
                }[kind].format(number=idea.number)
                return [Reply(Rich().add(prompt), [[self._rbtn("✖ " + _("Cancel"), "c", idea_id)]])]
            if op == "as":
                return await self._assign_menu(ctx, idea)
            if op == "ap" and len(args) == 2 and args[1].lstrip("-").isdigit():
                idea, assignee = await review.assign(ctx.session, ctx.user.id, idea_id, int(args[1]))
                name = assignee.first_name if assignee else "?"
                replies = await self._card_for_lead(ctx, idea, _("Assigned to {name}.").format(name=name))
                if assignee is None or assignee.id == ctx.user.id:
                    return replies

                dep = await review.department_name(ctx.session, idea.department_id)

                def build() -> Reply:
                    body = Rich().line(
                        _("The improvement team asks you to carry out idea No. {number}.").format(number=idea.number),
                        "b",
                    )
                    body.line(texts.area_label(idea.area) + (f" · {dep}" if dep else ""))
                    body.add(_("Problem") + ": ", "b").line(texts.short(idea.problem, 300))
                    body.add(_("Idea") + ": ", "b").line(texts.short(idea.idea, 300))
                    body.add(_("Ask the team lead if anything is unclear."))
                    return Reply(body)

                return replies + await self._notify(ctx.session, [assignee.id], build)
        except NotAllowed:
            return [self._refuse(ctx)]
        return [self._stale(ctx)]

    def _refuse(self, ctx) -> Reply:
        reply = self._menu(ctx, _("You are not allowed to do that."))
        reply.alert = _("Not allowed.")
        reply.edit = False
        return reply

    async def _assign_menu(self, ctx, idea: Idea) -> list[Reply]:
        members = list(
            await ctx.session.scalars(
                select(Membership)
                .where(Membership.enterprise_id == idea.enterprise_id, Membership.active.is_(True))
                .order_by(Membership.id)
                .limit(30)
            )
        )
        rows = []
        for m in members:
            user = await ctx.session.get(User, m.user_id)
            label = user.full_name or str(user.id)
            rows.append([self._rbtn(texts.short(label, 40), "ap", idea.id, user.id)])
        rows.append([self._rbtn("↩ " + _("Back"), "c", idea.id)])
        return [
            Reply(Rich().add(_("Who will carry out idea No. {number}?").format(number=idea.number)), rows, edit=True)
        ]

    # --- decisions and what the worker hears ------------------------------------------------------------------------

    async def _lead_decide(
        self, ctx, idea_id: int, target: str, text: str | None, expected: str | None = None
    ) -> list[Reply]:
        try:
            decision = await review.decide(ctx.session, ctx.user.id, idea_id, target, text, expected)
        except Conflict:
            return await self._already_decided(ctx, await ctx.session.get(Idea, idea_id))
        except ValueError:
            return [self._stale(ctx)]
        idea = decision.idea
        if target == Status.NEEDS_INFO:
            await self._await_from(ctx.session, idea.author_id, "answer", idea.id)
        note = _("Idea No. {number}: {status}.").format(number=idea.number, status=texts.status_label(target))
        replies = await self._card_for_lead(ctx, idea, note)

        def build() -> Reply:
            body = Rich()
            if target == Status.NEEDS_INFO:
                body.line(
                    _("The improvement team has a question about your idea No. {number}:").format(number=idea.number),
                    "b",
                ).line(text or "").line()
                body.add(_("Just write your answer here."))
                return Reply(body)
            msg = {
                Status.IN_REVIEW: _("Your idea No. {number} is being reviewed by the improvement team."),
                Status.ACCEPTED: _("Good news! Your idea No. {number} was accepted by the improvement team."),
                Status.IN_PROGRESS: _("Your idea No. {number} is being put into practice."),
                Status.IMPLEMENTED: _("Your idea No. {number} has been implemented. Thank you for making work better!"),
                Status.REJECTED: _("Your idea No. {number} was not accepted this time."),
            }[Status(target)].format(number=idea.number)
            body.line(msg, "b")
            if target == Status.REJECTED and text:
                body.add(_("Reason") + ": ", "b").line(text)
            body.add(_("Idea") + ": ").add(texts.short(idea.idea, 200))
            return Reply(body, [[self._rbtn("📋 " + _("My ideas"), "mc", idea.id)]])

        return (
            replies
            + await self._notify_author(ctx.session, idea, build)
            + await self._notify_supporters(ctx.session, idea, Status(target))
        )

    async def _notify_supporters(self, session, idea: Idea, target: Status) -> list[Reply]:
        """Colleagues who supported the idea (+1) hear of the team's decisions on it, not of its questions."""
        messages = {
            Status.ACCEPTED: N_("Idea No. {number}, which you support, was accepted by the improvement team."),
            Status.IN_PROGRESS: N_("Idea No. {number}, which you support, is being put into practice."),
            Status.IMPLEMENTED: N_("Idea No. {number}, which you support, has been implemented. Thank you!"),
            Status.REJECTED: N_("Idea No. {number}, which you support, was not accepted this time."),
        }
        if target not in messages:
            return []

        def build() -> Reply:
            body = Rich().line(_(messages[target]).format(number=idea.number), "b")
            body.add(_("Idea") + ": ").add(texts.short(idea.idea, 200))
            return Reply(body)

        return await self._notify(session, await review.supporters(session, idea), build)

    async def _already_decided(self, ctx, idea: Idea) -> list[Reply]:
        """The card as it is now, with a toast: another lead (or the worker) changed it since it was shown."""
        note = _("Already decided: idea No. {number} is now {status}.").format(
            number=idea.number, status=texts.status_label(idea.status)
        )
        replies = await self._card_for_lead(ctx, idea, note)
        replies[-1].alert = note
        return replies

    async def _await_from(self, session, user_id: int, kind: str, idea_id: int) -> None:
        state = await Dialogues(session).load(user_id)
        state.awaiting, state.awaiting_idea_id = kind, idea_id

    async def _awaited_text(self, ctx, text: str) -> list[Reply] | None:
        """A text the user owes: a lead's question, reason or comment; a worker's answer or message to the team."""
        awaited, idea_id = ctx.state.awaiting, ctx.state.awaiting_idea_id
        if not awaited:
            return None
        kind, _sep, seen = awaited.partition(":")
        ctx.state.awaiting, ctx.state.awaiting_idea_id = None, None
        if idea_id is None:
            return None
        if not text.strip() or len(text) > review.MAX_COMMENT:
            ctx.state.awaiting, ctx.state.awaiting_idea_id = awaited, idea_id  # still waiting for it
            if text.strip():
                note = _("That is {count} characters; please keep it under {limit}.").format(
                    count=i18n.number(len(text), 0), limit=i18n.number(review.MAX_COMMENT, 0)
                )
            else:
                note = _("I got an empty message. Please write a few words.")
            return [Reply(Rich().add(note))]
        try:
            if kind == "reason":
                return await self._lead_decide(ctx, idea_id, Status.REJECTED.value, text, seen or None)
            if kind == "question":
                return await self._lead_decide(ctx, idea_id, Status.NEEDS_INFO.value, text, seen or None)
            if kind == "lead_comment":
                idea = await review.comment(ctx.session, ctx.user.id, idea_id, text, as_lead=True)
                replies = await self._card_for_lead(ctx, idea, _("Comment sent."))

                def build() -> Reply:
                    body = (
                        Rich()
                        .line(
                            _("The improvement team wrote about your idea No. {number}:").format(number=idea.number),
                            "b",
                        )
                        .line(text)
                    )
                    return Reply(body, [[self._rbtn("💬 " + _("Reply"), "wc", idea.id)]])

                return replies + await self._notify_author(ctx.session, idea, build)
            if kind in ("answer", "author_comment"):
                if kind == "answer":
                    idea = await review.answer(ctx.session, ctx.user.id, idea_id, text)
                else:
                    idea = await review.comment(ctx.session, ctx.user.id, idea_id, text, as_lead=False)
                if kind == "answer":
                    await self._next_open_question(ctx)
                return [
                    self._menu(ctx, self._passed_on(idea)),
                    *await self._to_reviewers(ctx.session, idea, kind, text),
                ]
        except NotAllowed:
            return [self._refuse(ctx)]
        return None

    def _passed_on(self, idea: Idea) -> str:
        """The worker's receipt for an answer or a message to the team."""
        number = _("No. {number}").format(number=idea.number)
        return f"{number}: " + _("Thank you! I passed it on to the improvement team.")

    async def _next_open_question(self, ctx) -> None:
        """After one answer, free text goes to the author's next idea that still waits for information."""
        waiting = await ctx.session.scalar(
            select(Idea)
            .where(Idea.author_id == ctx.user.id, Idea.status == Status.NEEDS_INFO.value)
            .order_by(Idea.updated_at)
            .limit(1)
        )
        if waiting is not None:
            ctx.state.awaiting, ctx.state.awaiting_idea_id = "answer", waiting.id

    async def _awaited_photo(self, ctx, file_id: str, caption: str) -> list[Reply]:
        """A photo sent as the answer or message to the team: recorded, and sent to the leads by file_id."""
        kind, idea_id = ctx.state.awaiting, ctx.state.awaiting_idea_id
        ctx.state.awaiting, ctx.state.awaiting_idea_id = None, None
        text = ("📷 " + caption) if caption else "📷"
        try:
            if kind == "answer":
                idea = await review.answer(ctx.session, ctx.user.id, idea_id, text)
                await self._next_open_question(ctx)
            else:
                idea = await review.comment(ctx.session, ctx.user.id, idea_id, text, as_lead=False)
        except NotAllowed:
            return [self._refuse(ctx)]
        out = [self._menu(ctx, self._passed_on(idea))]
        for reply in await self._to_reviewers(ctx.session, idea, kind, text):
            out.append(reply)
            with i18n.use(await self._lang_of(ctx.session, reply.to_user)):
                caption_text = Rich().add(_("Photo of idea No. {number}").format(number=idea.number))
            out.append(Reply(caption_text, photo_file_id=file_id, to_user=reply.to_user))
        return out

    async def _to_reviewers(self, session, idea: Idea, kind: str, text: str) -> list[Reply]:
        """The submitter's words to every team lead of the enterprise, never with the name of an anonymous one."""
        out = []
        for member in await review.reviewers(session, idea.enterprise_id):
            if member.user_id == idea.author_id:
                continue
            with i18n.use(await self._lang_of(session, member.user_id)):
                head = (
                    _("The worker answered your question about idea No. {number}:")
                    if kind == "answer"
                    else _("The author of idea No. {number} writes:")
                ).format(number=idea.number)
                body = Rich().line(head, "b").line(text)
                reply = Reply(body, [[self._rbtn("📄 " + _("Open idea"), "c", idea.id)]], to_user=member.user_id)
            out.append(reply)
        return out

    async def new_idea_notices(self, session, idea: Idea) -> list[Reply]:
        """Tells the enterprise's team leads who want it at once about a new idea (others get the daily digest)."""
        out = []
        ent = await Enterprises(session).get(idea.enterprise_id)
        for member in await review.reviewers(session, idea.enterprise_id):
            if member.user_id == idea.author_id or member.notify != "instant":
                continue
            lang = await self._lang_of(session, member.user_id)
            with i18n.use(lang):
                body = Rich().line("🆕 " + _("New idea"), "b")
                body.parts.extend((await self._card_text(session, idea, lang, ent.timezone, True)).parts)
                rows = self._lead_buttons(idea)
            if idea.photo_file_id:
                out.append(
                    Reply(
                        Rich().add(_("Photo of idea No. {number}").format(number=idea.number)),
                        photo_file_id=idea.photo_file_id,
                        to_user=member.user_id,
                    )
                )
            out.append(Reply(body, rows, to_user=member.user_id))
        return out

    # --- the worker's side --------------------------------------------------------------------------------------

    async def _my_ideas_list(self, ctx) -> Reply:
        mine = await Ideas(ctx.session).by_author(ctx.user.id, ctx.enterprise.id)
        if not mine:
            return self._menu(ctx, _("You have not sent any ideas yet."))
        body = Rich().line(
            ngettext("You have sent {count} idea:", "You have sent {count} ideas:", len(mine)).format(count=len(mine)),
            "b",
        )
        rows = []
        for idea in reversed(mine[-10:]):
            number = _("No. {number}").format(number=idea.number)
            body.line(f"{number} · {texts.status_label(idea.status)} · {texts.short(idea.idea, 60)}")
            rows.append([self._rbtn(f"{number} · {texts.status_label(idea.status)}", "mc", idea.id)])
        rows.append([self._btn(ctx, "↩ " + _("Back"), "mm")])
        return Reply(body, rows, edit=ctx.via_button)

    async def _my_card(self, ctx, idea_id: str = "", *_rest) -> list[Reply]:
        if not idea_id.isdigit():
            return [self._stale(ctx)]
        idea = await review.idea_for_author(ctx.session, ctx.user.id, int(idea_id))
        ent = await Enterprises(ctx.session).get(idea.enterprise_id)
        body = await self._card_text(ctx.session, idea, ctx.lang, ent.timezone, for_lead=False)
        events = list(
            await ctx.session.scalars(select(IdeaEvent).where(IdeaEvent.idea_id == idea.id).order_by(IdeaEvent.id))
        )
        body.line().line(_("History"), "b")
        for e in events[-12:]:
            when = i18n.date(e.created_at, ent.timezone)
            if e.kind == "created":
                body.line(f"{when}: " + _("sent"))
            elif e.kind == "status":
                body.line(f"{when}: " + texts.status_label(e.to_status) + (f" — {e.text}" if e.text else ""))
            elif e.kind == "comment":
                body.line(f"{when}: 💬 " + _("team") + f": {e.text}")
            elif e.kind in ("answer", "author_comment"):
                body.line(f"{when}: 💬 " + _("you") + f": {e.text}")
            elif e.kind == "support":
                body.line(f"{when}: 👍")
        rows = []
        if idea.status == Status.NEEDS_INFO:
            rows.append([self._rbtn("✍ " + _("Answer the question"), "an", idea.id)])
        rows.append([self._rbtn("💬 " + _("Write to the team"), "wc", idea.id)])
        if lifecycle.author_may_withdraw(idea.status):
            rows.append([self._rbtn("🗑 " + _("Withdraw"), "wd", idea.id)])
        rows.append([self._rbtn("📋 " + _("My ideas"), "ls")])
        return [Reply(body, rows, edit=ctx.via_button)]

    async def _ask_withdraw(self, ctx, idea_id: str = "", *_rest) -> list[Reply]:
        if not idea_id.isdigit():
            return [self._stale(ctx)]
        idea = await review.idea_for_author(ctx.session, ctx.user.id, int(idea_id))
        rows = [[self._rbtn("✔ " + _("Yes, withdraw it"), "wy", idea.id)], [self._rbtn("↩ " + _("No"), "mc", idea.id)]]
        return [
            Reply(
                Rich().add(
                    _("Withdraw idea No. {number}? The team will stop working on it.").format(number=idea.number)
                ),
                rows,
                edit=True,
            )
        ]

    async def _do_withdraw(self, ctx, idea_id: str = "", *_rest) -> list[Reply]:
        if not idea_id.isdigit():
            return [self._stale(ctx)]
        try:
            decision = await review.withdraw(ctx.session, ctx.user.id, int(idea_id))
        except Conflict as c:
            return [
                self._menu(
                    ctx, _("It can no longer be withdrawn: it is {status}.").format(status=texts.status_label(c.status))
                )
            ]
        return [self._menu(ctx, _("Idea No. {number} was withdrawn.").format(number=decision.idea.number))]

    async def _start_answer(self, ctx, idea_id: str = "", *_rest) -> list[Reply]:
        return await self._start_author_text(ctx, idea_id, "answer")

    async def _start_author_comment(self, ctx, idea_id: str = "", *_rest) -> list[Reply]:
        return await self._start_author_text(ctx, idea_id, "author_comment")

    async def _start_author_text(self, ctx, idea_id: str, kind: str) -> list[Reply]:
        if not idea_id.isdigit():
            return [self._stale(ctx)]
        idea = await review.idea_for_author(ctx.session, ctx.user.id, int(idea_id))
        ctx.state.awaiting, ctx.state.awaiting_idea_id = kind, idea.id
        prompt = _("Write your message to the improvement team about idea No. {number}:").format(number=idea.number)
        return [Reply(Rich().add(prompt), [[self._rbtn("↩ " + _("Back"), "mc", idea.id)]])]

    async def _do_support(self, ctx, idea_id: str = "", *_rest) -> list[Reply]:
        if not idea_id.isdigit():
            return [self._stale(ctx)]
        idea, added = await review.support(ctx.session, ctx.user.id, int(idea_id))
        self._clear_draft(ctx)  # supporting replaces filing a duplicate
        note = (
            _("Thank you! You support idea No. {number}.") if added else _("You already support idea No. {number}.")
        ).format(number=idea.number)
        return [self._menu(ctx, note)]

    async def _similar_open_ideas(self, ctx, text: str) -> list[Idea]:
        """Open ideas of the enterprise worded like `text` (for the duplicate check)."""
        from bot.services.matcher import find_similar

        candidates = await review.queue(ctx.session, ctx.enterprise.id, QueueFilter("open"))
        candidates = [i for i in candidates if i.author_id != ctx.user.id]
        found = find_similar(
            self.matcher,
            text,
            ctx.lang,
            ((i.id, (i.problem, f"{i.problem} {i.idea}"), i.lang) for i in candidates),
            threshold=0.45,
        )
        by_id = {i.id: i for i in candidates}
        return [by_id[s.key] for s in found]

    async def notify_settings(self, ctx) -> list[Reply]:
        """/notify: a team lead chooses new-idea messages at once or one daily digest."""
        if not self._is_reviewer(ctx):
            return [self._menu(ctx, _("Only members of the improvement team can review ideas."))]
        mode = "daily" if ctx.membership.notify == "instant" else "instant"
        ctx.membership.notify = mode
        msg = (
            _("From now on I will send you each new idea at once.")
            if mode == "instant"
            else _("From now on I will send you one summary of new ideas a day.")
        )
        return [self._menu(ctx, msg + " " + _("Send /notify again to change."))]

    # --- reminders and digests (run by a timer in every bot process; each is sent once) ---------------------------

    async def due_messages(self, now: datetime, remind_after_days: int) -> list[Reply]:
        """Reminders of ideas waiting too long, and daily digests; each claimed once across processes."""
        out: list[Reply] = []
        async with self.db.transaction() as session:
            for idea in await review.waiting_too_long(session, now, remind_after_days):
                period = (now - idea.updated_at).days // remind_after_days
                if not await review.claim_once(session, f"remind:{idea.id}:{idea.status}:{period}"):
                    continue
                ent = await Enterprises(session).get(idea.enterprise_id)
                for member in await review.reviewers(session, idea.enterprise_id):
                    lang = await self._lang_of(session, member.user_id)
                    with i18n.use(lang):
                        days = (now - idea.updated_at).days
                        body = Rich().line(
                            "⏰ "
                            + ngettext(
                                "Idea No. {number} has been waiting for {count} day.",
                                "Idea No. {number} has been waiting for {count} days.",
                                days,
                            ).format(number=idea.number, count=days),
                            "b",
                        )
                        body.parts.extend((await self._card_text(session, idea, lang, ent.timezone, True)).parts)
                        out.append(Reply(body, self._lead_buttons(idea), to_user=member.user_id))
            out.extend(await self._digests(session, now))
        return out

    async def _digests(self, session, now: datetime) -> list[Reply]:
        out = []
        daily = list(
            await session.scalars(
                select(Membership).where(
                    Membership.notify == "daily",
                    Membership.active.is_(True),
                    Membership.role.in_([r.value for r in lifecycle.REVIEWERS]),
                )
            )
        )
        for member in daily:
            ent = await Enterprises(session).get(member.enterprise_id)
            local = now.astimezone(i18n.zone(ent.timezone))
            if local.hour < 8:
                continue
            if not await review.claim_once(session, f"digest:{member.id}:{local.date().isoformat()}"):
                continue
            since = now - timedelta(days=1)
            new = [i for i in await review.queue(session, ent.id, QueueFilter("submitted")) if i.created_at >= since]
            if not new:
                continue
            lang = await self._lang_of(session, member.user_id)
            with i18n.use(lang):
                body = Rich().line(
                    ngettext(
                        "{count} new idea since yesterday:", "{count} new ideas since yesterday:", len(new)
                    ).format(count=len(new)),
                    "b",
                )
                for idea in new[:20]:
                    body.line(
                        _("No. {number}").format(number=idea.number)
                        + f" · {texts.area_label(idea.area)} · "
                        + texts.short(idea.idea, 60)
                    )
                rows = [[self._rbtn("🔍 " + _("Review"), "q", 0, "open", "")]]
            out.append(Reply(body, rows, to_user=member.user_id))
        return out
