"""The national assembly in chat: delegates vote and see their ballots; the secretariat sets up
sessions and agenda items, opens and closes voting, and reads results.

The rules themselves (who may vote, windows, counting, secrecy) live in bot/assembly.py; this
module checks who is asking (on every action, whatever the button said) and says it kindly.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from linebot.v3.messaging import FlexMessage, Message
from sqlalchemy import func, select

from .. import assembly, digests, menus, postback, thai, ui
from ..assembly import Cast
from ..cards import assembly as cards
from ..context import Context, Input
from ..flows.engine import Flow
from ..flows.steps import Answer, Choice, DateStep, DateTime, Number, Option, Outcome, Retry, StepView, Text
from ..i18n import N_, _
from ..models import (
    AgendaItem,
    AssemblySession,
    Ballot,
    DecisionRule,
    ItemStatus,
    Member,
    Role,
)
from ..models.assembly import MAX_DESCRIPTION, MAX_OPTION_LABEL, MAX_OPTIONS
from ..refusal import Refusal, guard
from ..roles import has_role
from ..router import Router
from .menu import menu_chips

MAX_CARDS = 10  # ballots and results shown at once: fewer than LINE's 12, to keep the carousel readable


# ---- delegates: voting ------------------------------------------------------------------------

CAST_REPLY = {
    Cast.UNKNOWN: N_("vote.unknown"),
    Cast.NOT_ELIGIBLE: N_("vote.not_eligible"),
    Cast.NOT_OPEN: N_("vote.not_open"),
    Cast.CLOSED: N_("vote.closed"),
    Cast.WITHDRAWN: N_("vote.withdrawn"),
    Cast.LOCKED: N_("vote.locked"),
}


def vote(ctx: Context, inp: Input) -> list[Message]:
    """A tap on a ballot button. Only the token and option index come from the tap."""
    assert ctx.member is not None
    token, option = inp.data["b"], inp.data["o"]
    outcome = None
    if inp.data.get("x") != "1":
        outcome = assembly.check_vote(ctx.session, token, option, ctx.member, ctx.now)
    if outcome is not None and outcome.status is Cast.CONFIRM:
        return [_confirm_vote(ctx, outcome)]
    if outcome is None:
        outcome = assembly.cast_vote(ctx.session, token, option, ctx.member, ctx.now)
    item = outcome.item
    if outcome.status in CAST_REPLY:
        title = item.title if item is not None else ""
        # (vote.unknown names the button that lists one's ballots, in the button's own words)
        return [ui.text(_(CAST_REPLY[outcome.status], title=title, button=_(menus.ENTRIES["my_ballots"].label_id)),
                        _ballot_chips(ctx))]
    assert item is not None and outcome.option is not None
    choice = cards.option_labels(item)[outcome.option]
    key = {Cast.RECORDED: N_("vote.recorded"), Cast.CHANGED: N_("vote.changed"), Cast.SAME: N_("vote.same")}
    lines = [_(key[outcome.status], title=item.title, choice=choice)]
    if item.allow_change:
        lines.append(_("vote.how_to_change",
                       time=thai.format_datetime(item.closes_at, ctx.locale, ctx.settings.timezone)))
    else:
        lines.append(_("vote.final"))
    return [ui.text("\n".join(lines), _ballot_chips(ctx, outcome.more_ballots))]


def _confirm_vote(ctx: Context, outcome: assembly.CastResult) -> Message:
    """A vote that cannot be changed is asked once more: the second tap carries the same ballot
    token and option, and cast_vote checks everything again then."""
    item, option = outcome.item, outcome.option
    assert item is not None and option is not None
    choice = cards.option_labels(item)[option]
    return ui.text(_("vote.confirm_final", title=item.title, choice=choice), [
        ui.Chip(_("vote.confirm_yes"), postback.encode(a="vote", b=item.token, o=option, x=1),
                display=_("vote.confirm_yes")),
        ui.Chip(_("common.cancel"), postback.encode(cmd="my_ballots"), display=_("common.cancel")),
    ])


def _ballot_chips(ctx: Context, more: bool | None = None) -> list[ui.Chip]:
    """Straight to the next ballot if any remain (`more`, when the vote already read it), then the menu."""
    assert ctx.member is not None
    chips = menu_chips(ctx)
    if more is None:
        more = bool(assembly.unvoted_open_items(ctx.session, ctx.member, ctx.now))
    if more:
        chips = [c for c in chips if c.data != postback.encode(cmd="my_ballots")]
        chips.insert(0, ui.Chip(_("vote.next_ballot"), postback.encode(cmd="my_ballots")))
    return chips[:ui.MAX_QUICK_REPLIES]


def my_ballots(ctx: Context, inp: Input) -> list[Message]:
    """Open items this delegate has not voted on yet, each as its ballot."""
    assert ctx.member is not None
    items = assembly.unvoted_open_items(ctx.session, ctx.member, ctx.now)
    if not items:
        has_ballots = ctx.session.scalar(select(func.count()).where(Ballot.member_id == ctx.member.id))
        if not has_ballots and not has_role(ctx.member, Role.DELEGATE):
            return [_not_a_delegate(ctx)]
        key = N_("vote.no_ballots_left") if has_ballots else N_("vote.no_ballots")
        return [ui.text(_(key), menu_chips(ctx))]
    tz = ctx.settings.timezone
    bubbles = [cards.ballot_message(item, tz, ctx.locale).contents for item in items[:MAX_CARDS]]
    message, shown = ui.carousel(_("vote.my_ballots_alt", n=len(items)), bubbles)
    return [ui.text(_("vote.my_ballots_intro", n=len(items), shown=shown)), ui.with_chips(message, menu_chips(ctx))]


def _not_a_delegate(ctx: Context) -> Message:
    """"ลงคะแนน" is on everyone's rich menu, but ballots are for assembly delegates: say so, and
    who to ask (their province's coordinator) if they think they should have one."""
    member = ctx.member
    assert member is not None
    if member.is_registered and member.province is not None:
        text = _("vote.not_a_delegate", province=member.province.label(ctx.locale))
    else:
        text = _("vote.not_a_delegate_no_province")
    return ui.text(text, menu_chips(ctx))


# ---- results (delegates and the secretariat) --------------------------------------------------


RESULT_READERS = guard(lambda ctx: assembly.is_assembly_secretariat(ctx.member) or has_role(ctx.member, Role.DELEGATE),
                       N_("vote.results_not_allowed"))


def results(ctx: Context, inp: Input) -> list[Message]:
    """Results of the latest closed items. Aggregates only: the same for every reader."""
    items = ctx.session.scalars(select(AgendaItem).where(AgendaItem.status == ItemStatus.CLOSED)
                                .order_by(AgendaItem.closed_at.desc(), AgendaItem.id.desc()).limit(MAX_CARDS)).all()
    if not items:
        return [ui.text(_("vote.no_results"), menu_chips(ctx))]
    tz = ctx.settings.timezone
    bubbles = [cards.result_card(item, assembly.tally(ctx.session, item), tz, ctx.locale).contents
               for item in items]
    message, _shown = ui.carousel(_("vote.results_alt", n=len(items)), bubbles)
    return [ui.with_chips(message, menu_chips(ctx))]


# ---- the secretariat: overview and actions ----------------------------------------------------


# Every secretariat command and action declares it (and saving checks it again), whatever the button said.
SECRETARIAT = guard(lambda ctx: assembly.is_assembly_secretariat(ctx.member), N_("vote.secretariat_only"))


STATUS_TEXT = {ItemStatus.SCHEDULED: N_("vote.status_scheduled"), ItemStatus.OPEN: N_("vote.status_open"),
               ItemStatus.CLOSED: N_("vote.status_closed"), ItemStatus.WITHDRAWN: N_("vote.status_withdrawn")}


def item_card(ctx: Context, item: AgendaItem) -> FlexMessage:
    """An agenda item as the secretariat sees it, with what can be done to it now."""
    tz, locale = ctx.settings.timezone, ctx.locale
    window = _("vote.window_value", opens=thai.format_datetime(item.opens_at, locale, tz),
               closes=thai.format_datetime(item.closes_at, locale, tz))
    rows = [ui.Row(_("vote.status"), _(STATUS_TEXT[item.status])),
            ui.Row(_("vote.window"), window),
            ui.Row(_("vote.options"), ", ".join(cards.option_labels(item))),
            ui.Row(_("vote.ballot_kind"), _("vote.ballot_secret") if item.secret else _("vote.ballot_open")),
            ui.Row(_("vote.rule"), _(cards.RULE_TEXT[item.rule])),
            ui.Row(_("vote.quorum"), _("vote.quorum_value", pct=item.quorum_percent))]
    if item.status in (ItemStatus.OPEN, ItemStatus.CLOSED):
        voted, eligible = assembly.turnout(ctx.session, item)
        rows.append(ui.Row(_("vote.turnout"), _("vote.turnout_value", voted=thai.format_number(voted, locale),
                                                    eligible=thai.format_number(eligible, locale),
                                                    pct=cards.percent(voted, eligible, locale))))
    buttons = []
    if item.status is ItemStatus.SCHEDULED:
        buttons.append(ui.button(_("vote.open_now"), postback.encode(a="vote.open", id=item.id), style="primary"))
    if item.status is ItemStatus.OPEN:
        buttons.append(ui.button(_("vote.close_now"), postback.encode(a="vote.close", id=item.id), style="primary"))
    if item.status in (ItemStatus.OPEN, ItemStatus.CLOSED):
        buttons.append(ui.button(_("vote.show_voters"), postback.encode(a="vote.voters", id=item.id)))
    if item.status is ItemStatus.CLOSED:
        buttons.append(ui.button(_("vote.show_result"), postback.encode(a="vote.result", id=item.id)))
    if item.status in (ItemStatus.SCHEDULED, ItemStatus.OPEN):
        buttons.append(ui.button(_("vote.withdraw"), postback.encode(a="vote.withdraw", id=item.id)))
    return ui.card(_("vote.item_title", n=item.position, title=item.title), rows,
                   note=item.session.name, buttons=buttons)


def assembly_overview(ctx: Context, inp: Input) -> list[Message]:
    """Every open or upcoming session and its items (as many item cards as a carousel holds)."""
    sessions = assembly.current_sessions(ctx.session, ctx.today)
    chips = [ui.Chip(_("vote.new_session"), postback.encode(cmd="assembly_new_session")),
             ui.Chip(_("vote.new_item"), postback.encode(cmd="assembly_new_item")),
             ui.Chip(_("vote.results_chip"), postback.encode(cmd="vote_results")),
             ui.Chip(_("menu.help"), postback.encode(cmd="help"))]
    if not sessions:
        return [ui.text(_("vote.no_session"), chips)]
    intros = [_("vote.session_intro", name=s.name, date=thai.format_date(s.held_on, ctx.locale), place=s.place,
                n=len([i for i in s.items if i.status is not ItemStatus.WITHDRAWN])) for s in sessions]
    # Open items first, then those waiting to open, then closed ones: what needs acting on leads.
    order = {ItemStatus.OPEN: 0, ItemStatus.SCHEDULED: 1, ItemStatus.CLOSED: 2}
    items = sorted((i for s in sessions for i in s.items if i.status is not ItemStatus.WITHDRAWN),
                   key=lambda i: order[i.status])
    intro = "\n\n".join(intros)
    if len(sessions) > 1:
        intro = _("vote.sessions_intro", n=len(sessions)) + "\n\n" + intro
    if not items:
        return [ui.text(intro, chips)]
    message, shown = ui.carousel(intro, [item_card(ctx, item).contents for item in items])
    if shown < len(items):
        intro += "\n\n" + _("vote.items_shown", shown=shown, total=len(items))
    return [ui.text(intro), ui.with_chips(message, chips)]


def _item(ctx: Context, inp: Input) -> AgendaItem:
    item = ctx.session.get(AgendaItem, inp.data["id"])
    if item is None:
        raise Refusal(_("common.unknown_button"))
    return item


def _confirm(ctx: Context, inp: Input, item: AgendaItem, action: str, question: str) -> list[Message] | None:
    """Closing early and withdrawing cannot be undone: ask once more."""
    if inp.data.get("x") == "1":
        return None
    return [ui.text(_(question, title=item.title), [
        ui.Chip(_("vote.confirm_yes"), postback.encode(a=action, id=item.id, x=1)),
        ui.Chip(_("common.cancel"), postback.encode(cmd="assembly"), display=_("common.cancel")),
    ])]


def open_now(ctx: Context, inp: Input) -> list[Message]:
    item = _item(ctx, inp)
    if item.status is not ItemStatus.SCHEDULED:
        return [ui.text(_("vote.cannot_open", title=item.title, status=_(STATUS_TEXT[item.status])))]
    if item.closes_at <= ctx.now:
        return [ui.text(_("vote.window_passed", title=item.title))]
    opened = assembly.open_item(ctx.session, item, ctx.now, ctx.settings.timezone)
    if opened is None:  # the minute job opened it a moment ago
        return [ui.text(_("vote.cannot_open", title=item.title, status=_(STATUS_TEXT[ItemStatus.OPEN])))]
    ctx.after_commit.extend(opened.outbox_ids)
    return [ui.text(_("vote.opened", title=item.title, n=thai.format_number(opened.ballots, ctx.locale)),
                    [ui.Chip(_("vote.assembly_chip"), postback.encode(cmd="assembly"))])]


def close_now(ctx: Context, inp: Input) -> list[Message]:
    item = _item(ctx, inp)
    if item.status is not ItemStatus.OPEN:
        return [ui.text(_("vote.cannot_close", title=item.title, status=_(STATUS_TEXT[item.status])))]
    asked = _confirm(ctx, inp, item, "vote.close", N_("vote.confirm_close"))
    if asked:
        return asked
    closed = assembly.close_item(ctx.session, item, ctx.now, ctx.settings.timezone)
    if closed is None:
        return [ui.text(_("vote.cannot_close", title=item.title, status=_(STATUS_TEXT[item.status])))]
    ctx.after_commit.extend(closed.outbox_ids)
    # Groups bound for assembly results hear at once (the minute job would catch it up anyway).
    ctx.after_commit.extend(digests.group_results(ctx.session, ctx.now, ctx.settings.timezone))
    card = cards.result_card(item, closed.result, ctx.settings.timezone, ctx.locale)
    return [ui.text(_("vote.closed_early", title=item.title)), ui.with_chips(card, menu_chips(ctx))]


def withdraw(ctx: Context, inp: Input) -> list[Message]:
    item = _item(ctx, inp)
    if item.status not in (ItemStatus.SCHEDULED, ItemStatus.OPEN):
        return [ui.text(_("vote.cannot_withdraw", title=item.title, status=_(STATUS_TEXT[item.status])))]
    asked = _confirm(ctx, inp, item, "vote.withdraw", N_("vote.confirm_withdraw"))
    if asked:
        return asked
    if not assembly.withdraw_item(ctx.session, item, ctx.now):
        return [ui.text(_("vote.cannot_withdraw", title=item.title, status=_(STATUS_TEXT[item.status])))]
    return [ui.text(_("vote.withdrawn_done", title=item.title), menu_chips(ctx))]


def show_result(ctx: Context, inp: Input) -> list[Message]:
    item = _item(ctx, inp)
    if item.status is not ItemStatus.CLOSED:
        # No counts per option before the close: a running score could sway who has not voted.
        voted, eligible = assembly.turnout(ctx.session, item)
        return [ui.text(_("vote.not_closed_yet", title=item.title, voted=thai.format_number(voted, ctx.locale),
                          eligible=thai.format_number(eligible, ctx.locale)))]
    result = assembly.tally(ctx.session, item)
    return [ui.with_chips(cards.result_card(item, result, ctx.settings.timezone, ctx.locale), menu_chips(ctx))]


def _name(member_id: int, full: str | None, display: str | None) -> str:
    return full or display or _("vote.delegate_no_name", id=member_id)


def show_voters(ctx: Context, inp: Input) -> list[Message]:
    """Who has voted (any ballot) and, for an open ballot only, who voted what."""
    item = _item(ctx, inp)
    voters = ctx.session.execute(
        select(Member.id, Member.full_name, Member.display_name, Ballot.voted_at.is_not(None))
        .join(Ballot, Ballot.member_id == Member.id).where(Ballot.item_id == item.id).order_by(Member.id)).all()
    voted = [_name(i, f, d) for i, f, d, has in voters if has]
    waiting = [_name(i, f, d) for i, f, d, has in voters if not has]
    lines = [_("vote.voters_title", title=item.title, voted=len(voted), eligible=len(voters))]
    if item.secret:
        lines.append(_("vote.voters_secret_note"))
        lines.append(_("vote.voters_list", names=", ".join(voted) or "–"))
    else:
        labels = cards.option_labels(item)
        by_option: dict[int, list[str]] = {}
        for member_id, _line_id, name, option in assembly.open_ballot_votes(ctx.session, item):
            by_option.setdefault(option, []).append(name or _("vote.delegate_no_name", id=member_id))
        for index, label in enumerate(labels):
            people = by_option.get(index, [])
            lines.append(_("vote.voters_option", option=label, n=len(people), names=", ".join(people) or "–"))
    if item.status is ItemStatus.OPEN:
        lines.append(_("vote.voters_waiting", n=len(waiting), names=", ".join(waiting) or "–"))
    return [ui.text("\n\n".join(lines), menu_chips(ctx))]


# ---- the secretariat: setting up, by chat ------------------------------------------------------


def _after_save_chips() -> list[ui.Chip]:
    """After saving a session or an item, the secretariat usually adds another item."""
    return [ui.Chip(_("vote.new_item"), postback.encode(cmd="assembly_new_item")),
            ui.Chip(_("vote.assembly_chip"), postback.encode(cmd="assembly"))]


def _save_session(ctx: Context, answers: dict[str, Any]) -> list[Message]:
    SECRETARIAT(ctx)  # again when saving: the role may have been revoked while the flow was open
    assert ctx.member is not None
    session = AssemblySession(name=answers["name"], held_on=date.fromisoformat(answers["held_on"]),
                              place=answers["place"], created_by_id=ctx.member.id)
    ctx.session.add(session)
    ctx.session.flush()
    return [ui.text(_("vote.session_saved", name=session.name), _after_save_chips())]


NEW_SESSION = Flow(
    "assembly_session",
    title=N_("vote.session_flow_title"),
    confirm_title=N_("vote.session_confirm_title"),
    steps=[
        Text("name", N_("vote.ask_session_name"), label=N_("vote.field_session_name"), min_len=3, max_len=200),
        DateStep("held_on", N_("vote.ask_session_date"), label=N_("vote.field_session_date"), allow_future=True,
                 max_past_days=30),
        Text("place", N_("vote.ask_session_place"), label=N_("vote.field_session_place"), min_len=2, max_len=200),
    ],
    on_complete=_save_session,
)


class OptionsStep(Text):
    def parse_text(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        parsed = assembly.parse_option_lines(value)
        if isinstance(parsed, str):
            return Retry(_(parsed, max=MAX_OPTIONS, length=MAX_OPTION_LABEL))
        return Answer(parsed[0])

    def show(self, ctx: Context, value: Any) -> str:
        return ", ".join(value) if value else _("common.not_given")


def _session_options(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    sessions = ctx.session.scalars(select(AssemblySession).order_by(AssemblySession.held_on.desc(),
                                                                    AssemblySession.id.desc()).limit(10))
    return [Option(str(s.id), thai.truncate(s.name, 20), (s.name,)) for s in sessions]


def _options_kind(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    return [Option("default", _("vote.options_default")), Option("custom", _("vote.options_custom"))]


def _ballot_kinds(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    return [Option("secret", _("vote.ballot_secret")), Option("open", _("vote.ballot_open"))]


def _rules(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    return [Option(DecisionRule.MAJORITY.value, _("vote.rule_majority_short")),
            Option(DecisionRule.TWO_THIRDS.value, _("vote.rule_two_thirds_short"))]


def _change_choices(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    return [Option("yes", _("vote.change_yes")), Option("no", _("vote.change_no"))]


def _save_item(ctx: Context, answers: dict[str, Any]) -> list[Message]:
    SECRETARIAT(ctx)  # again when saving: the role may have been revoked while the flow was open
    assert ctx.member is not None
    session = ctx.session.get(AssemblySession, int(answers["session"]))
    if session is None:
        raise Refusal(_("vote.item_not_found"))
    opens, closes = datetime.fromisoformat(answers["opens_at"]), datetime.fromisoformat(answers["closes_at"])
    if closes <= opens or closes <= ctx.now:
        raise Refusal(_("vote.when_before_open"), end_flow=False)
    custom = answers.get("custom_options") if answers["options_kind"] == "custom" else None
    abstain = assembly.DEFAULT_ABSTAIN
    if custom:
        parsed = assembly.parse_option_lines("\n".join(custom))
        abstain = parsed[1] if not isinstance(parsed, str) else None
    position = (ctx.session.scalar(select(func.max(AgendaItem.position)).where(AgendaItem.session_id == session.id))
                or 0) + 1
    item = AgendaItem(session=session, position=position, token=assembly.new_token(), title=answers["title"],
                      description=answers.get("description") or "", custom_options=custom, abstain_index=abstain,
                      secret=answers["ballot"] == "secret", quorum_percent=answers["quorum"],
                      rule=DecisionRule(answers["rule"]), opens_at=opens, closes_at=closes,
                      allow_change=answers["allow_change"] == "yes", created_by_id=ctx.member.id)
    ctx.session.add(item)
    ctx.session.flush()
    when = thai.format_datetime(opens, ctx.locale, ctx.settings.timezone)
    return [ui.text(_("vote.item_saved", title=item.title, time=when), _after_save_chips())]


NEW_ITEM = Flow(
    "agenda_item",
    title=N_("vote.item_flow_title"),
    confirm_title=N_("vote.item_confirm_title"),
    steps=[
        Choice("session", N_("vote.ask_item_session"), label=N_("vote.field_session"), options=_session_options),
        Text("title", N_("vote.ask_item_title"), label=N_("vote.field_title"), min_len=3, max_len=200),
        Text("description", N_("vote.ask_item_description"), label=N_("vote.field_description"),
             max_len=MAX_DESCRIPTION, optional=True),
        Choice("options_kind", N_("vote.ask_options_kind"), label=N_("vote.options"), options=_options_kind),
        OptionsStep("custom_options", N_("vote.ask_custom_options"), label=N_("vote.field_custom_options"),
                    max_len=MAX_OPTIONS * (MAX_OPTION_LABEL + 1),
                    skip_if=lambda ctx, a: a.get("options_kind") != "custom"),
        Choice("ballot", N_("vote.ask_ballot_kind"), label=N_("vote.ballot_kind"), options=_ballot_kinds),
        Number("quorum", N_("vote.ask_quorum"), label=N_("vote.quorum"), min_value=0, max_value=99,
               suggestions=(50, 60, 66, 75)),
        Choice("rule", N_("vote.ask_rule"), label=N_("vote.rule"), options=_rules),
        DateTime("opens_at", N_("vote.ask_opens_at"), label=N_("vote.field_opens_at"), future_only=False),
        DateTime("closes_at", N_("vote.ask_closes_at"), label=N_("vote.field_closes_at"), after="opens_at",
                 after_message=N_("vote.when_before_open")),
        Choice("allow_change", N_("vote.ask_allow_change"), label=N_("vote.field_allow_change"),
               options=_change_choices),
    ],
    on_complete=_save_item,
)


def start_new_session(ctx: Context, inp: Input) -> list[Message]:
    return ctx.flows.start(ctx, "assembly_session")


def start_new_item(ctx: Context, inp: Input) -> list[Message]:
    if ctx.session.scalar(select(AssemblySession.id).limit(1)) is None:
        return [ui.text(_("vote.no_session"), [ui.Chip(_("vote.new_session"), postback.encode(cmd="assembly_new_session"))])]
    return ctx.flows.start(ctx, "agenda_item")


def register(router: Router) -> None:
    router.flow(NEW_SESSION)
    router.flow(NEW_ITEM)
    router.command("my_ballots", my_ballots, ["บัตรของฉัน", "my ballots", "ลงคะแนน", "ballots", "vote"])
    router.command("vote_results", results, ["ผลโหวต", "ผลการลงคะแนน", "results", "vote results"],
                   requires=RESULT_READERS)
    router.command("assembly", assembly_overview, ["สมัชชา", "assembly", "วาระสมัชชา"], requires=SECRETARIAT)
    router.command("assembly_new_session", start_new_session, ["สร้างสมัชชา", "new assembly"], starts_flow=True,
                   requires=SECRETARIAT)
    router.command("assembly_new_item", start_new_item, ["เพิ่มวาระ", "new agenda item"], starts_flow=True,
                   requires=SECRETARIAT)
    router.action("vote", vote)
    router.action("vote.open", open_now, requires=SECRETARIAT)
    router.action("vote.close", close_now, requires=SECRETARIAT)
    router.action("vote.withdraw", withdraw, requires=SECRETARIAT)
    router.action("vote.result", show_result, requires=SECRETARIAT)
    router.action("vote.voters", show_voters, requires=SECRETARIAT)
