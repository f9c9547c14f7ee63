"""Appointments in chat: "แต่งตั้ง" and "ถอดถอน" for coordinators and the secretariat, the seats
waiting for confirmation, open invitations, the appointment history, and invitation codes typed
by the people invited.

Conversation only: who may appoint whom, seats and invitations are decided in bot/appointments.py
(checked again when the card is saved, whatever the chips offered).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from linebot.v3.messaging import Message
from sqlalchemy import select

from .. import appointments, audit, postback, thai, ui
from ..appointments import Area, Claim, Done, Refused, Why
from ..cards.appointments import role_name
from ..context import Context, Input
from ..flows.engine import Flow
from ..flows.steps import Answer, Choice, Group, Option, Outcome, Redraw, Retry, Step, StepView
from ..i18n import N_, _
from ..models import AuditAction, AuditVia, Invitation, Member, Role, RoleGrant, ScopeKind, SeatNomination
from ..refusal import Refusal, guard
from ..router import Router
from ..scopes import Scope
from .menu import menu_chips

MAX_FOUND = 9  # numbered results: 1-9 plus invite chips and navigation stay within 13 chips
AREA_PAGE = 8
MAX_CARDS = 10
LOG_LINES = 15
APPOINTMENT_ACTIONS = (AuditAction.GRANT, AuditAction.REVOKE, AuditAction.NOMINATE, AuditAction.CONFIRM,
                       AuditAction.INVITE, AuditAction.INVITE_WITHDRAW, AuditAction.INVITE_ACCEPT)



def appointer(ctx: Context) -> bool:
    return appointments.is_appointer(ctx.member)


def national_office(ctx: Context) -> bool:
    return appointments.is_national_office(ctx.member)


APPOINTER = guard(appointer, N_("appoint.not_allowed"))
NATIONAL_OFFICE = guard(national_office, N_("appoint.secretariat_only"))


def _chips_after() -> list[ui.Chip]:
    return [ui.Chip(_("menu.appoint"), postback.encode(cmd="appoint")),
            ui.Chip(_("menu.dismiss"), postback.encode(cmd="dismiss")),
            ui.Chip(_("menu.invitations"), postback.encode(cmd="invitations")),
            ui.Chip(_("menu.appointments_log"), postback.encode(cmd="appointments_log")),
            ui.Chip(_("menu.menu"), postback.encode(cmd="menu"))]


def short_area(area: Area, locale: str) -> str:
    if area.scope.is_national:
        return _("scope.national")
    if area.scope.kind is ScopeKind.GROUP:
        return _("scope.group_short", name=area.name(locale))
    return area.name(locale)


def _where(ctx: Context, scope: Scope) -> str:
    return appointments.scope_name(ctx.session, scope, ctx.locale)


def _in_reach(ctx: Context, member: Member) -> bool:
    return appointments.in_reach(ctx.member, member)


def _person_label(ctx: Context, member: Member) -> str:
    name = member.full_name or member.display_name or f"#{member.id}"
    return f"{name} ({member.province.name(ctx.locale)})" if member.province else name


# ---- steps ---------------------------------------------------------------------------------------


class PersonStep(Step):
    """Find a person by (part of) their name or their phone, inside the actor's reach; numbered
    results to tap or type. With `invite`, a phone nobody registered, or a code, can be chosen."""

    def __init__(self, name: str, prompt: str, *, invite: bool, removable_only: bool = False, **kw: Any) -> None:
        super().__init__(name, prompt, **kw)
        self.invite = invite
        self.removable_only = removable_only

    def _found(self, ctx: Context, sv: StepView) -> list[Member]:
        ids = sv.view.get("found") or []
        members = {m.id: m for m in ctx.session.scalars(select(Member).where(Member.id.in_(ids)))} if ids else {}
        return [members[i] for i in ids if i in members]

    def question(self, ctx: Context, sv: StepView) -> str:
        found = self._found(ctx, sv)
        if found:
            lines = [f"{i}. {_person_label(ctx, m)}" for i, m in enumerate(found, 1)]
            return _("appoint.pick_person") + "\n" + "\n".join(lines)
        if sv.view.get("phone"):
            return _("appoint.phone_not_registered", phone=thai.format_phone(sv.view["phone"]))
        return _(self.prompt)

    def chips(self, ctx: Context, sv: StepView) -> list[ui.Chip]:
        chips = [ui.Chip(f"{i}. {m.full_name or m.display_name or m.id}", sv.data(v=f"m{m.id}"))
                 for i, m in enumerate(self._found(ctx, sv), 1)]
        if self.invite and sv.view.get("phone"):
            chips.append(ui.Chip(_("appoint.invite_phone"), sv.data(v=f"p{sv.view['phone']}")))
        if self.invite:
            chips.append(ui.Chip(_("appoint.invite_code"), sv.data(v="code")))
        return chips

    def accept(self, ctx: Context, sv: StepView, inp: Input) -> Outcome:
        if inp.kind == "postback" and "v" in inp.data:
            return self.parse_value(ctx, sv, inp.data["v"])
        if not inp.is_text:
            return Retry(_("appoint.type_name_or_phone"))
        found = sv.view.get("found") or []
        number = thai.parse_int(inp.text) if len(inp.text) <= 2 else None
        if found and number is not None and 1 <= number <= len(found):
            return self.parse_value(ctx, sv, f"m{found[number - 1]}")
        text = inp.text.strip()
        if len(text) < 2:
            return Retry(_("appoint.type_more"))
        # Removing: keep the removable ones BEFORE taking the first MAX_FOUND, or a removable person
        # ranked 10th would be "nobody to remove".
        people = appointments.find_people(ctx.session, ctx.member, text,
                                          limit=None if self.removable_only else MAX_FOUND)
        if self.removable_only:
            people = [m for m in people if appointments.removable(ctx.session, ctx.member, m)][:MAX_FOUND]
        phone = thai.parse_phone(text)
        sv.view.pop("phone", None)
        sv.view["found"] = [m.id for m in people]
        if people:
            return Redraw()
        if phone and self.invite:
            sv.view["phone"] = phone
            return Redraw()
        return Retry(_("appoint.nobody_to_remove") if self.removable_only else _("appoint.nobody_found"))

    def parse_value(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        if value == "code" and self.invite:
            return Answer("code")
        if value.startswith("p") and self.invite:
            phone = thai.parse_phone(value[1:])
            return Answer(f"p{phone}") if phone else Retry(_("flow.phone_invalid"))
        if value.startswith("m") and value[1:].isascii() and value[1:].isdigit():
            member = ctx.session.get(Member, int(value[1:]))
            if member is not None and _in_reach(ctx, member) and (
                    not self.removable_only or appointments.removable(ctx.session, ctx.member, member)):
                return Answer(value)
        return Retry(_("flow.choice_invalid"))

    def show(self, ctx: Context, value: Any) -> str:
        if value == "code":
            return _("appoint.show_code")
        if isinstance(value, str) and value.startswith("p"):
            return _("appoint.show_phone", phone=thai.format_phone(value[1:]))
        if isinstance(value, str) and value.startswith("m"):
            member = ctx.session.get(Member, int(value[1:]))
            if member is not None:
                label = _person_label(ctx, member)
                current = sorted({role_name(g.role) for g in member.roles})
                holds = _("appoint.now_holds", roles=", ".join(current))
                return f"{label}\n{holds}" if current else label
        return super().show(ctx, value)


def _appointable(ctx: Context, answers: dict[str, Any]) -> list[Area]:
    role = answers.get("role")
    return appointments.appointable(ctx.session, ctx.member, Role(role)) if role else []


def _area_option(ctx: Context, area: Area) -> Option:
    names = (("national", "ทั้งประเทศ", "ประเทศ") if area.scope.is_national else (area.name_th, area.name_en))
    return Option(str(area.scope), short_area(area, ctx.locale), names=names)


def _area_options(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    return [_area_option(ctx, a) for a in _appointable(ctx, answers)]


def _area_groups(ctx: Context, answers: dict[str, Any]) -> list[Group]:
    """Many areas are grouped by region (tap a region, then the area); a few are shown as they are."""
    areas = _appointable(ctx, answers)
    if len(areas) <= AREA_PAGE + 1:
        return []
    regions = [a for a in appointments.areas(ctx.session) if a.scope.kind is ScopeKind.REGION]
    groups = [Group(r.region, r.name(ctx.locale), tuple(_area_option(ctx, a) for a in areas if a.region == r.region))
              for r in regions]
    return [g for g in groups if g.options]


class AreaStep(Choice):
    """Choose where: only areas inside the actor's reach that the role takes (bot.appointments),
    grouped by region when there are many; typing a name works at any level."""

    def __init__(self, name: str, prompt: str, **kw: Any) -> None:
        super().__init__(name, prompt, options=_area_options, groups=_area_groups,
                         group_prompt=N_("appoint.ask_region"), unknown=N_("appoint.area_unknown"), **kw)

    def group_chips(self, ctx: Context, sv: StepView) -> list[ui.Chip]:
        # The whole country belongs to no region: offered beside the regions, one tap.
        national = [o for o in self.options(ctx, sv.answers) if o.value == str(Scope.NATIONAL)]
        return [ui.Chip(o.label, sv.data(v=o.value)) for o in national] + super().group_chips(ctx, sv)

    def show(self, ctx: Context, value: Any) -> str:
        return _where(ctx, Scope.parse(value)) if value else _("common.not_given")


def _role_options(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    return [Option(r.value, role_name(r), names=(r.value,)) for r in appointments.roles_offered(ctx.member)]


def _held_options(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    person = answers.get("person")
    if not person or not str(person).startswith("m"):
        return []
    member = ctx.session.get(Member, int(person[1:]))
    if member is None:
        return []
    out = []
    for i, held in enumerate(appointments.removable(ctx.session, ctx.member, member), 1):
        label = role_name(held.role)
        if held.kind == "n":
            label = _("appoint.nomination_label", role=label)
        full = f"{label} · {_where(ctx, held.scope)}"
        out.append(Option(held.token, f"{i}. {label}", names=(full, str(i))))
    return out


class HeldChoice(Choice):
    """The roles to remove, listed in full in the question (chips are short: "1. ผู้ประสานงาน")."""

    def question(self, ctx: Context, sv: StepView) -> str:
        options = self.options(ctx, sv.answers)
        return _(self.prompt) + "\n" + "\n".join(f"{o.label[:o.label.index('.')]}. {o.names[0]}" for o in options)

    def show(self, ctx: Context, value: Any) -> str:
        model = {"g": RoleGrant, "n": SeatNomination}.get(str(value)[:1])
        row = ctx.session.get(model, int(value[1:])) if model is not None and value[1:].isdigit() else None
        if row is None:
            return _("common.not_given")
        label = role_name(row.role) if isinstance(row, RoleGrant) else _("appoint.nomination_label",
                                                                          role=role_name(Role.DELEGATE))
        return f"{label} · {_where(ctx, Scope.of(row))}"


# ---- appointing ------------------------------------------------------------------------------------


def refusal_text(ctx: Context, refused: Refused, scope: Scope | None = None) -> str:
    if refused.why is Why.SEATS_FULL and scope is not None:
        states = {"seat": _("appoint.holder_seat"), "nominated": _("appoint.holder_nominated"),
                  "invited": _("appoint.holder_invited")}
        unnamed = _("appoint.holder_unnamed")
        names = [f"• {h.name or unnamed} ({states[h.state]})" for h in refused.holders]
        return _("appoint.seats_full", scope=_where(ctx, scope), n=len(refused.holders)) + "\n" + "\n".join(names)
    return _({Why.NOT_ALLOWED: N_("appoint.refused_not_allowed"), Why.WRONG_KIND: N_("appoint.refused_wrong_kind"),
              Why.UNKNOWN_SCOPE: N_("appoint.refused_unknown_scope"), Why.SELF: N_("appoint.refused_self"),
              Why.NO_PERSON: N_("appoint.refused_no_person"), Why.SEATS_FULL: N_("appoint.refused_not_allowed"),
              Why.INVITATION_CLOSED: N_("appoint.invitation_closed")}[refused.why])


def _expires(ctx: Context, moment: datetime) -> str:
    return thai.format_date(moment.astimezone(ctx.settings.timezone).date(), ctx.locale)


def _save_appointment(ctx: Context, answers: dict[str, Any]) -> list[Message]:
    role, scope, person = Role(answers["role"]), Scope.parse(answers["scope"]), answers["person"]
    member = ctx.session.get(Member, int(person[1:])) if person.startswith("m") else None
    phone = person[1:] if person.startswith("p") else None
    if person.startswith("m") and (member is None or not _in_reach(ctx, member)):
        raise Refusal(_("appoint.refused_not_allowed"))
    try:
        outcome = appointments.appoint(ctx.session, ctx.member, role=role, scope=scope, via=AuditVia.CHAT,
                                       now=ctx.now, member=member, phone=phone, by_code=person == "code")
    except Refused as refused:
        keep = refused.why is Why.SEATS_FULL
        raise Refusal(refusal_text(ctx, refused, scope), end_flow=not keep, chips=[
            ui.Chip(_("appoint.change_area"), postback.encode(f="appoint", s="__confirm", e="scope")),
            ui.Chip(_("common.cancel"), postback.encode(c="cancel"), display=_("common.cancel"))] if keep else None)
    ctx.after_commit += outcome.outbox
    where, what = _where(ctx, scope), role_name(role)
    name = None
    if outcome.member is not None:
        # Appointed by phone, someone registered outside the asker's area: named by the phone they
        # typed, not by a name their search would not have shown them.
        name = (outcome.member.full_name or outcome.member.display_name if _in_reach(ctx, outcome.member)
                else thai.format_phone(phone or ""))
    if outcome.done is Done.INVITED:
        inv = outcome.invitation
        assert inv is not None
        key = N_("appoint.invited_phone") if inv.phone else N_("appoint.invited_code")
        body = _(key, phone=thai.format_phone(inv.phone or ""), role=what, scope=where, code=" ".join(inv.code),
                 date=_expires(ctx, inv.expires_at))
    elif outcome.done is Done.ALREADY:
        body = _("appoint.already", role=what, scope=where)
    elif outcome.done is Done.NOMINATED:
        body = _("appoint.nominated_done", name=name, scope=where)
    else:
        body = _("appoint.granted_done", name=name, role=what, scope=where)
    return [ui.text(body, _chips_after())]


APPOINT = Flow(
    "appoint",
    title=N_("appoint.title"),
    confirm_title=N_("appoint.confirm_title"),
    steps=[
        PersonStep("person", N_("appoint.ask_person"), invite=True, label=N_("appoint.field_person")),
        Choice("role", N_("appoint.ask_role"), label=N_("appoint.field_role"), options=_role_options),
        AreaStep("scope", N_("appoint.ask_scope"), label=N_("appoint.field_scope")),
    ],
    on_complete=_save_appointment,
)


def start_appoint(ctx: Context, inp: Input) -> list[Message]:
    return ctx.flows.start(ctx, "appoint")


def _save_dismissal(ctx: Context, answers: dict[str, Any]) -> list[Message]:
    member = ctx.session.get(Member, int(answers["person"][1:]))
    if member is None:
        raise Refusal(_("appoint.refused_not_allowed"))
    try:
        outcome = appointments.remove(ctx.session, ctx.member, member, answers["held"], via=AuditVia.CHAT,
                                      now=ctx.now)
    except Refused as refused:
        raise Refusal(refusal_text(ctx, refused)) from None
    ctx.after_commit += outcome.outbox
    return [ui.text(_("appoint.removed_done", name=member.full_name or member.display_name or "",
                      role=role_name(outcome.role), scope=_where(ctx, outcome.scope)), _chips_after())]


DISMISS = Flow(
    "dismiss",
    title=N_("dismiss.title"),
    confirm_title=N_("dismiss.confirm_title"),
    steps=[
        PersonStep("person", N_("dismiss.ask_person"), invite=False, removable_only=True,
                   label=N_("appoint.field_person")),
        HeldChoice("held", N_("dismiss.ask_role"), label=N_("dismiss.field_role"), options=_held_options),
    ],
    on_complete=_save_dismissal,
)


def start_dismiss(ctx: Context, inp: Input) -> list[Message]:
    return ctx.flows.start(ctx, "dismiss")


def undo_invitation(ctx: Context, inp: Input) -> list[Message]:
    """The inviter's button under "X registered and is now ...": the dismiss card for that role,
    one more tap to remove it (the domain checks again when it is saved)."""
    member = ctx.session.get(Member, inp.data["m"])
    token = inp.data["t"]
    if member is None or not any(h.token == token for h in appointments.removable(ctx.session, ctx.member, member)):
        return [ui.text(_("appoint.undo_gone"), _chips_after())]
    return ctx.flows.start(ctx, "dismiss", answers={"person": f"m{member.id}", "held": token}, at_confirm=True)


# ---- seats waiting for confirmation ----------------------------------------------------------------


def seat_nominations(ctx: Context, inp: Input, note: str | None = None) -> list[Message]:
    waiting = appointments.pending_nominations(ctx.session, ctx.member)
    chips = [ui.Chip(_("menu.appoint"), postback.encode(cmd="appoint")), ui.Chip(_("menu.menu"), postback.encode(cmd="menu"))]
    head = [ui.text(note)] if note else []
    if not waiting:
        return [*head, ui.text(_("seats.none_waiting"), chips)]
    holders = appointments.seat_holders(ctx.session, ctx.now)
    bubbles = []
    for nom in waiting[:MAX_CARDS]:
        scope = Scope.of(nom)
        taken = len(holders.get(scope, []))
        by = nom.nominated_by.full_name or nom.nominated_by.display_name if nom.nominated_by else _("audit.operator")
        rows = [ui.Row(_("appoint.field_scope"), _where(ctx, scope)),
                ui.Row(_("seats.field_nominated_by"), by or "–"),
                ui.Row(_("seats.field_taken"), _("seats.taken_value", n=taken,
                                                  total=appointments.SEATS[scope.kind]))]
        bubbles.append(ui.card(nom.member.full_name or nom.member.display_name or "–", rows, buttons=[
            ui.button(_("seats.confirm"), postback.encode(a="seat.confirm", id=nom.id), style="primary")]).contents)
    intro = _("seats.waiting_intro", n=len(waiting), shown=min(len(waiting), MAX_CARDS))
    message, _shown = ui.carousel(intro, bubbles)
    return [*head, ui.text(intro), ui.with_chips(message, chips)]


def confirm_seat(ctx: Context, inp: Input) -> list[Message]:
    nomination = ctx.session.get(SeatNomination, inp.data["id"], with_for_update=True)
    if nomination is None:
        raise Refusal(_("seats.gone"))
    try:
        outcome = appointments.confirm(ctx.session, ctx.member, nomination, via=AuditVia.CHAT, now=ctx.now)
    except Refused as refused:
        raise Refusal(refusal_text(ctx, refused)) from None
    ctx.after_commit += outcome.outbox
    name = nomination.member.full_name or nomination.member.display_name or ""
    key = N_("seats.already_confirmed") if outcome.done is Done.ALREADY else N_("seats.confirmed")
    return seat_nominations(ctx, inp, note=_(key, name=name, scope=_where(ctx, outcome.scope)))


# ---- invitations -------------------------------------------------------------------------------------


def invitations(ctx: Context, inp: Input, note: str | None = None) -> list[Message]:
    rows = appointments.open_invitations(ctx.session, ctx.member, ctx.now)
    head = [ui.text(note)] if note else []
    chips = _chips_after()
    if not rows:
        return [*head, ui.text(_("invite.none_open"), chips)]
    bubbles = []
    for inv in rows[:MAX_CARDS]:
        who = inv.name or (thai.format_phone(inv.phone) if inv.phone else _("invite.by_code_only"))
        fields = [ui.Row(_("invite.field_for"), who),
                  ui.Row(_("appoint.field_scope"), _where(ctx, Scope.of(inv))),
                  ui.Row(_("invite.field_code"), " ".join(inv.code)),
                  ui.Row(_("invite.field_expires"), _expires(ctx, inv.expires_at))]
        bubbles.append(ui.card(role_name(inv.role), fields, buttons=[
            ui.button(_("invite.withdraw"), postback.encode(a="invite.withdraw", id=inv.id))]).contents)
    intro = _("invite.open_intro", n=len(rows), shown=min(len(rows), MAX_CARDS), days=appointments.INVITATION_DAYS)
    message, _shown = ui.carousel(intro, bubbles)
    return [*head, ui.text(intro), ui.with_chips(message, chips)]


def withdraw_invitation(ctx: Context, inp: Input) -> list[Message]:
    invitation = ctx.session.get(Invitation, inp.data["id"], with_for_update=True)
    if invitation is None or not appointments.may_withdraw(ctx.session, ctx.member, invitation):
        raise Refusal(_("common.unknown_button"))
    try:
        appointments.withdraw(ctx.session, ctx.member, invitation, via=AuditVia.CHAT, now=ctx.now)
    except Refused as refused:
        return invitations(ctx, inp, note=refusal_text(ctx, refused))
    return invitations(ctx, inp, note=_("invite.withdrawn", code=" ".join(invitation.code)))


def _claim(ctx: Context, code: str) -> list[Message] | None:
    member = ctx.member
    assert member is not None
    result, outcome = appointments.claim_code(ctx.session, member, code, ctx.now)
    if result is Claim.UNKNOWN:
        return None
    if result is Claim.CLOSED:
        return [ui.text(_("invite.code_unknown"), menu_chips(ctx))]
    if result is Claim.OWN:
        return [ui.text(_("invite.code_own"), menu_chips(ctx))]
    if result is Claim.INVITER_GONE:
        return [ui.text(_("invite.code_inviter_gone"), menu_chips(ctx))]
    assert outcome is not None
    what, where = role_name(outcome.role), _where(ctx, outcome.scope)
    if result is Claim.WAITING:
        return [ui.text(_("invite.code_waiting", role=what, scope=where),
                        [ui.Chip(_("menu.register"), postback.encode(cmd="register"))])]
    ctx.after_commit += outcome.outbox
    key = N_("invite.code_nominated") if outcome.done is Done.NOMINATED else N_("invite.code_accepted")
    return [ui.text(_(key, role=what, scope=where), menu_chips(ctx))]


def _save_code(ctx: Context, answers: dict[str, Any]) -> list[Message]:
    code = appointments.read_code(answers["code"])
    replies = _claim(ctx, code) if code else None
    if replies is None:
        raise Refusal(_("invite.code_unknown"), end_flow=False,
                      chips=[ui.Chip(_("common.back"), postback.encode(c="back"), display=_("common.back")),
                             ui.Chip(_("common.cancel"), postback.encode(c="cancel"), display=_("common.cancel"))])
    return replies


class CodeStep(Step):
    def parse_text(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        return Answer(value) if appointments.read_code(value) else Retry(_("invite.code_shape"))


ENTER_CODE = Flow("invite_code", title=N_("invite.code_title"),
                  steps=[CodeStep("code", N_("invite.ask_code"))], on_complete=_save_code)


def start_code(ctx: Context, inp: Input) -> list[Message]:
    return ctx.flows.start(ctx, "invite_code")


# ---- history -----------------------------------------------------------------------------------------

ACTION_TEXT = {
    AuditAction.GRANT: N_("audit.line_grant"),
    AuditAction.REVOKE: N_("audit.line_revoke"),
    AuditAction.NOMINATE: N_("audit.line_nominate"),
    AuditAction.CONFIRM: N_("audit.line_confirm"),
    AuditAction.INVITE: N_("audit.line_invite"),
    AuditAction.INVITE_WITHDRAW: N_("audit.line_invite_withdraw"),
    AuditAction.INVITE_ACCEPT: N_("audit.line_invite_accept"),
}
VIA_TEXT = {AuditVia.CHAT: N_("audit.via_chat"), AuditVia.CLI: N_("audit.via_cli"),
            AuditVia.IMPORT: N_("audit.via_import"), AuditVia.CONSOLE: N_("audit.via_console"),
            AuditVia.SYSTEM: N_("audit.via_system")}


def appointments_log(ctx: Context, inp: Input) -> list[Message]:
    """The audit lines of the asker's scope, newest first: names (never phones) in a 1:1 chat."""
    seen: dict[int, Any] = {}
    for scope in appointments.reach(ctx.member):
        for row in audit.entries(ctx.session, within=None if scope.is_national else scope, limit=LOG_LINES * 3):
            if row.action in APPOINTMENT_ACTIONS:
                seen.setdefault(row.id, row)
    rows = sorted(seen.values(), key=lambda r: (r.at, r.id), reverse=True)[:LOG_LINES]
    chips = _chips_after()
    if not rows:
        return [ui.text(_("audit.none"), chips)]
    tz = ctx.settings.timezone
    out = []
    for line in audit.lines(rows, erased_label=_("audit.erased"), personal=ctx.source_type == "user"):
        when = line.at.astimezone(tz)
        scope = _where(ctx, Scope.parse(line.scope)) if line.scope else "–"
        out.append(_("audit.line", date=thai.format_date(when.date(), ctx.locale), time=when.strftime("%H:%M"),
                     what=_(ACTION_TEXT[line.action], actor=line.actor or _("audit.operator"),
                            subject=line.subject or _("audit.someone_invited"), role=role_name(line.role),
                            scope=scope),
                     via=_(VIA_TEXT[line.via])))
    return [ui.text(_("audit.intro", n=len(rows)) + "\n\n" + "\n".join(out), chips)]


# ---- a code typed without asking -----------------------------------------------------------------


def register(router: Router) -> None:
    router.flow(APPOINT)
    router.flow(DISMISS)
    router.flow(ENTER_CODE)
    router.command("appoint", start_appoint, ["แต่งตั้ง", "appoint"], starts_flow=True, requires=APPOINTER)
    router.command("dismiss", start_dismiss, ["ถอดถอน", "dismiss"], starts_flow=True, requires=APPOINTER)
    router.command("appointments_log", appointments_log, ["ประวัติการแต่งตั้ง", "appointment history"],
                   requires=APPOINTER)
    router.command("invitations", invitations, ["คำเชิญ", "invitations"], requires=APPOINTER)
    router.command("seat_nominations", seat_nominations, ["ยืนยันผู้แทน", "seat nominations"],
                   requires=NATIONAL_OFFICE)
    router.command("invite_code", start_code, ["รหัสเชิญ", "invitation code"], starts_flow=True)
    router.action("seat.confirm", confirm_seat, requires=NATIONAL_OFFICE)
    router.action("invite.withdraw", withdraw_invitation, requires=APPOINTER)
    router.action("appoint.undo", undo_invitation, requires=APPOINTER)

    previous = router.fallback

    def code_or_fallback(ctx: Context, inp: Input) -> list[Message]:
        """Someone types the code read out at a meeting, without asking first: take it."""
        if inp.is_text and ctx.member is not None and ctx.source_type == "user":
            code = appointments.read_code(inp.raw or inp.text)
            if code:
                replies = _claim(ctx, code)
                if replies is not None:
                    return replies
                if any(ch.isdigit() for ch in code):  # shaped like a code, not a word: say so
                    return [ui.text(_("invite.code_unknown"), menu_chips(ctx))]
        return previous(ctx, inp) if previous else []

    router.fallback = code_or_fallback
