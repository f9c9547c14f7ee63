"""People and roles: members in scope and the audit log, and appointments as in chat.

Everything a person may do here is decided by bot/appointments.py, the same functions the chat's
"แต่งตั้ง", "ถอดถอน", "คำเชิญ" and "ยืนยันผู้แทน" call: who is an appointer (`is_appointer`), whom
they may pick (`in_reach`, `find_people`), which roles (`roles_offered`) and areas (`appointable`),
what they may remove (`removable`), withdraw (`open_invitations`) or confirm (`pending_nominations`).
The web layer only shows and asks; every POST goes through the domain again, which audits it
(via console) and queues the same pushes as the chat; they are sent once the request commits.

Refusals: a person, invitation or nomination id the viewer may not act on answers 404, as any
id outside the viewer's scope does; a role or an area they may not give answers 403.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from .. import appointments, audit, thai
from ..appointments import Area, Done, Power, Refused, Why
from ..cards.appointments import role_name
from ..i18n import N_, _, current_locale
from ..models import AuditVia, Invitation, Member, Region, Role, RoleGrant, ScopeKind, SeatNomination
from ..scopes import Scope, ScopeError, contains, in_scope, place_of
from .pages import AUDIT_LABELS, PAGE_SIZE, VIA_LABELS, _common, _page
from .web import bp, db, now, services, signed_in, viewer

log = logging.getLogger(__name__)
FOUND_LIMIT = 20
LIST_LIMIT = 20

# The chat's words for the domain's refusals (bot/handlers/appointments.py says the same).
WHY_TEXT = {Why.NOT_ALLOWED: N_("appoint.refused_not_allowed"), Why.WRONG_KIND: N_("appoint.refused_wrong_kind"),
            Why.UNKNOWN_SCOPE: N_("appoint.refused_unknown_scope"), Why.SELF: N_("appoint.refused_self"),
            Why.NO_PERSON: N_("appoint.refused_no_person"), Why.SEATS_FULL: N_("appoint.refused_not_allowed"),
            Why.INVITATION_CLOSED: N_("appoint.invitation_closed")}
HOLDER_TEXT = {"seat": N_("appoint.holder_seat"), "nominated": N_("appoint.holder_nominated"),
               "invited": N_("appoint.holder_invited")}


# ---- words ------------------------------------------------------------------------------------


def area_name(area: Area, locale: str) -> str:
    """An area as the chat names it ("จังหวัดเชียงใหม่"), from the row `appointable` already read."""
    if area.scope.is_national:
        return _("scope.national")
    if area.scope.kind is ScopeKind.PROVINCE:
        return _("scope.province", name=area.name(locale))
    if area.scope.kind is ScopeKind.GROUP:
        return _("scope.group", name=area.name(locale))
    return area.name(locale)


def where(scope: Scope) -> str:
    return appointments.scope_name(db(), scope, current_locale())


def person_name(member: Member) -> str:
    return member.full_name or member.display_name or f"#{member.id}"


def person_label(member: Member) -> str:
    name = person_name(member)
    return f"{name} ({member.province.name(current_locale())})" if member.province else name


def holds(member: Member) -> list[str]:
    return [f"{role_name(g.role)} · {where(Scope.of(g))}" for g in member.roles]


def refused_text(refused: Refused, scope: Scope | None = None) -> str:
    if refused.why is Why.SEATS_FULL and scope is not None:
        unnamed = _("appoint.holder_unnamed")
        names = [f"{h.name or unnamed} ({_(HOLDER_TEXT[h.state])})" for h in refused.holders]
        return _("appoint.seats_full", scope=where(scope), n=len(refused.holders)) + " " + ", ".join(names)
    return _(WHY_TEXT[refused.why])


# ---- what the request asks about ---------------------------------------------------------------


def _appointer() -> Member:
    """The viewer, if their roles let them appoint (the chat's APPOINTER guard); 403 otherwise."""
    actor = viewer().member
    if not appointments.is_appointer(actor):
        abort(403)
    return actor


@dataclass(frozen=True)
class Person:
    """Who is being appointed: a member ("m12"), a phone nobody in reach has ("p0812345678"),
    or whoever types an invitation code ("code")."""

    value: str
    member: Member | None = None
    phone: str | None = None

    @property
    def by_code(self) -> bool:
        return self.value == "code"


def _person(actor: Member, raw: str) -> Person:
    if raw == "code":
        return Person(raw)
    if raw.startswith("p"):
        phone = thai.parse_phone(raw[1:])
        if phone is None:
            abort(404)
        return Person(f"p{phone}", phone=phone)
    if raw.startswith("m") and raw[1:].isascii() and raw[1:].isdigit() and len(raw) < 12:
        member = db().get(Member, int(raw[1:]))
        if member is not None and appointments.in_reach(actor, member):
            return Person(raw, member=member)
    abort(404)


def _role(actor: Member, raw: str) -> Role:
    try:
        role = Role(raw)
    except ValueError:
        abort(404)
    if role not in appointments.roles_offered(actor):
        abort(403)
    return role


def _area(actor: Member, role: Role, raw: str) -> Area:
    try:
        scope = Scope.parse(raw)
    except ScopeError:
        abort(404)
    found = next((a for a in appointments.appointable(db(), actor, role) if a.scope == scope), None)
    if found is None:
        abort(403)
    return found


def _member_in_reach(actor: Member, member_id: int) -> Member:
    member = db().get(Member, member_id)
    if member is None or not appointments.in_reach(actor, member):
        abort(404)
    return member


def _commit_and_send(outbox: list[int], what: str) -> None:
    """Commit the change and its queued pushes, then send them (the worker retries leftovers)."""
    db().commit()
    if outbox:
        try:
            services().deliver_now(outbox)
        except Exception:
            log.exception("the %s notice was left to the worker", what)


# ---- people and roles -------------------------------------------------------------------------


def _members_in_scope(scope: Scope) -> Any:
    """Members living in the scope, or holding a role whose scope lies inside it."""
    session = db()
    # Distinct grant scopes are few (at most every region, group and province): one look-up each.
    inside = {(kind, code) for kind, code in session.execute(
                  select(RoleGrant.scope_kind, RoleGrant.scope_code).distinct())
              if (place := place_of(session, Scope(kind, code))) is not None and contains(scope, place)}
    granted = select(RoleGrant.member_id).where(or_(*[(RoleGrant.scope_kind == k) & (RoleGrant.scope_code == c)
                                                      for k, c in inside])) if inside else None
    where_ = in_scope(Member.province_id, scope)
    if granted is not None:
        where_ = or_(where_, Member.id.in_(granted)) if where_ is not True else where_
    return select(Member).where(where_, Member.erased_at.is_(None), Member.registered_at.is_not(None))


@signed_in
def people() -> Any:
    """Members in scope, the audit log; for appointers, the appoint button, open invitations and
    (national office) nominations waiting for confirmation."""
    session, page, v = db(), _page(), viewer()
    query = _members_in_scope(v.scope)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.options(selectinload(Member.roles), selectinload(Member.province))
                           .order_by(Member.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    entries = audit.entries(session, within=v.scope, since=now() - timedelta(days=90), limit=50)
    lines = audit.lines(entries, erased_label=_("console.erased_member"), personal=v.personal)
    appointer = appointments.is_appointer(v.member)
    invitations = appointments.open_invitations(session, v.member, now()) if appointer else []
    nominations = appointments.pending_nominations(session, v.member) \
        if appointments.is_national_office(v.member) else []
    holders = appointments.seat_holders(session, now()) if nominations else {}
    return render_template("console/people.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), lines=lines,
                           audit_labels=AUDIT_LABELS, via_labels=VIA_LABELS, appointer=appointer,
                           in_reach=lambda m: appointer and appointments.in_reach(v.member, m),
                           invitations=invitations[:LIST_LIMIT], invitations_total=len(invitations),
                           nominations=nominations[:LIST_LIMIT], nominations_total=len(nominations),
                           seats_taken=lambda s: len(holders.get(s, [])), seats=appointments.SEATS,
                           invitation_days=appointments.INVITATION_DAYS, Scope=Scope, where=where,
                           role_name=role_name, person_name=person_name,
                           format_phone=thai.format_phone, **_common())


@signed_in
def member_page(member_id: int) -> Any:
    """One person in the viewer's reach: what they hold, what the viewer may remove."""
    actor = _appointer()
    member = _member_in_reach(actor, member_id)
    held = [(h, role_name(h.role), where(h.scope)) for h in appointments.removable(db(), actor, member)]
    return render_template("console/person.html", member=member, label=person_label(member), holds=holds(member),
                           held=held, show_phone=viewer().personal_about(member.province), format_phone=thai.format_phone, **_common())


@signed_in
def remove_role(member_id: int) -> Any:
    """Remove one role or nomination `removable` offers (the domain checks the table again)."""
    actor = _appointer()
    member = _member_in_reach(actor, member_id)
    session = db()
    session.scalar(select(Member.id).where(Member.id == member.id).with_for_update())
    try:
        outcome = appointments.remove(session, actor, member, request.form.get("held", ""), via=AuditVia.CONSOLE,
                                      now=now())
    except Refused:
        abort(403)
    _commit_and_send(outcome.outbox, "removal")
    flash(_("appoint.removed_done", name=person_name(member), role=role_name(outcome.role), scope=where(outcome.scope)))
    return redirect(url_for("console.member_page", member_id=member.id))


# ---- appointing ---------------------------------------------------------------------------------


@signed_in
def appoint_page() -> Any:
    """Step by step, in the page's address: find the person (or a phone, or a code), then the role,
    then the area; the confirmation page shows what will change before anything is written."""
    actor = _appointer()
    session, locale = db(), current_locale()
    context: dict[str, Any] = {"q": request.args.get("q", "").strip()[:100], "found": None, "phone": None,
                               "note": None, "person": None, "roles": [], "role": None, "areas": None}
    raw_person = request.args.get("person", "")
    if not raw_person:
        text = context["q"]
        if len(text) >= 2:
            context["found"] = [(m, person_label(m), holds(m))
                                for m in appointments.find_people(session, actor, text, limit=FOUND_LIMIT)]
            phone = thai.parse_phone(text)
            if not context["found"] and phone:
                context["phone"] = phone
                context["note"] = _("appoint.phone_not_registered", phone=thai.format_phone(phone))
            elif not context["found"]:
                context["note"] = _("appoint.nobody_found")
        elif text:
            context["note"] = _("appoint.type_more")
        return render_template("console/appoint.html", **context, **_common())
    person = _person(actor, raw_person)
    context["person"] = person
    context["person_text"] = _describe(person)
    context["holds"] = holds(person.member) if person.member is not None else []
    context["roles"] = [(r.value, role_name(r)) for r in appointments.roles_offered(actor)]
    raw_role = request.args.get("role", "")
    if raw_role:
        role = _role(actor, raw_role)
        context["role"] = role.value
        areas = appointments.appointable(session, actor, role)
        regions = {r.code: r.name(locale) for r in session.scalars(select(Region))}
        grouped: list[tuple[str, list[tuple[str, str]]]] = []
        for area in areas:
            heading = regions.get(area.region, "") if area.region else ""
            if not grouped or grouped[-1][0] != heading:
                grouped.append((heading, []))
            grouped[-1][1].append((str(area.scope), area_name(area, locale)))
        context["areas"] = grouped
        if not areas:
            context["note"] = _("appoint.area_unknown")
    return render_template("console/appoint.html", **context, **_common())


def _describe(person: Person) -> str:
    if person.member is not None:
        return person_label(person.member)
    if person.phone:
        return _("appoint.show_phone", phone=thai.format_phone(person.phone))
    return _("appoint.show_code")


def _asked(source: Any) -> tuple[Member, Person, Role, Area]:
    actor = _appointer()
    person = _person(actor, source.get("person", ""))
    role = _role(actor, source.get("role", ""))
    return actor, person, role, _area(actor, role, source.get("area", ""))


@signed_in
def appoint_confirm() -> Any:
    """What will change, in words, before the POST: granted at once, a nomination the national
    office confirms, or an invitation (and how long it lasts); seats already taken in the area."""
    actor, person, role, area = _asked(request.args)
    session = db()
    power = appointments.power(actor, role, area.place)
    effects = []
    member = person.member
    already = member is not None and any(g.role is role and Scope.of(g) == area.scope for g in member.roles)
    if already:
        effects.append(_("appoint.already", role=role_name(role), scope=where(area.scope)))
    elif member is None:
        key = N_("console.appoint_effect_code") if person.by_code else N_("console.appoint_effect_phone")
        effects.append(_(key, days=appointments.INVITATION_DAYS))
    else:
        effects.append(_("console.appoint_effect_grant"))
    if role is Role.DELEGATE and power is Power.NOMINATE and not already:
        effects.append(_("console.appoint_effect_nominate"))
    seats = None
    if role is Role.DELEGATE:
        taken = len(appointments.seat_holders(session, now(), area.scope).get(area.scope, []))
        seats = _("seats.taken_value", n=taken, total=appointments.SEATS[area.scope.kind])
    return render_template("console/appoint_confirm.html", person=person, person_text=_describe(person),
                           holds=holds(member) if member is not None else [], role=role, role_label=role_name(role),
                           area=area, area_label=where(area.scope), effects=effects, seats=seats,
                           **_common())


@signed_in
def appoint_save() -> Any:
    """Appoint (or invite) through the domain, as the chat's confirm card does; the appointee gets
    the chat's push once this commits."""
    actor, person, role, area = _asked(request.form)
    session = db()
    try:
        outcome = appointments.appoint(session, actor, role=role, scope=area.scope, via=AuditVia.CONSOLE, now=now(),
                                       member=person.member, phone=person.phone, by_code=person.by_code)
    except Refused as refused:
        if refused.why in (Why.NOT_ALLOWED, Why.WRONG_KIND, Why.UNKNOWN_SCOPE):
            abort(403)
        session.rollback()
        flash(refused_text(refused, area.scope))
        return redirect(url_for("console.appoint_page", person=person.value, role=role.value))
    _commit_and_send(outcome.outbox, "appointment")
    what, scope = role_name(role), where(area.scope)
    if outcome.done is Done.INVITED:
        invitation = outcome.invitation
        assert invitation is not None
        expires = thai.format_date(invitation.expires_at.astimezone(services().settings.timezone).date(),
                                   current_locale())
        key = N_("appoint.invited_phone") if invitation.phone else N_("appoint.invited_code")
        flash(_(key, phone=thai.format_phone(invitation.phone or ""), role=what, scope=scope,
                code=" ".join(invitation.code), date=expires))
        return redirect(url_for("console.people"))
    appointed = outcome.member
    # Appointed by a phone someone outside the viewer's reach registered: named by that phone.
    name = (person_name(appointed) if appointed is not None and appointments.in_reach(actor, appointed)
            else thai.format_phone(person.phone or ""))
    if outcome.done is Done.ALREADY:
        flash(_("appoint.already", role=what, scope=scope))
    elif outcome.done is Done.NOMINATED:
        flash(_("appoint.nominated_done", name=name, scope=scope))
    else:
        flash(_("appoint.granted_done", name=name, role=what, scope=scope))
    if appointed is not None and appointments.in_reach(actor, appointed):
        return redirect(url_for("console.member_page", member_id=appointed.id))
    return redirect(url_for("console.people"))


# ---- invitations and nominations --------------------------------------------------------------


@signed_in
def withdraw_invitation(invitation_id: int) -> Any:
    actor = _appointer()
    session = db()
    invitation = session.get(Invitation, invitation_id, with_for_update=True)
    if invitation is None or not appointments.may_withdraw(session, actor, invitation):
        abort(404)
    try:
        appointments.withdraw(session, actor, invitation, via=AuditVia.CONSOLE, now=now())
    except Refused as refused:
        flash(refused_text(refused))
        return redirect(url_for("console.people"))
    _commit_and_send([], "withdrawal")
    flash(_("invite.withdrawn", code=" ".join(invitation.code)))
    return redirect(url_for("console.people"))


@signed_in
def confirm_nomination(nomination_id: int) -> Any:
    """The national office confirms a nominated seat (the chat's "ยืนยันผู้แทน")."""
    actor = _appointer()
    if not appointments.is_national_office(actor):
        abort(403)
    session = db()
    nomination = session.get(SeatNomination, nomination_id, with_for_update=True)
    if nomination is None or nomination.member.erased_at is not None:
        abort(404)
    try:
        outcome = appointments.confirm(session, actor, nomination, via=AuditVia.CONSOLE, now=now())
    except Refused:
        abort(403)
    _commit_and_send(outcome.outbox, "seat confirmation")
    key = N_("seats.already_confirmed") if outcome.done is Done.ALREADY else N_("seats.confirmed")
    flash(_(key, name=person_name(nomination.member), scope=where(outcome.scope)))
    return redirect(url_for("console.people"))


def register() -> None:
    bp.add_url_rule("/people", "people", people)
    bp.add_url_rule("/people/<int:member_id>", "member_page", member_page)
    bp.add_url_rule("/people/<int:member_id>/remove", "remove_role", remove_role, methods=["POST"])
    bp.add_url_rule("/people/appoint", "appoint_page", appoint_page)
    bp.add_url_rule("/people/appoint/confirm", "appoint_confirm", appoint_confirm)
    bp.add_url_rule("/people/appoint", "appoint_save", appoint_save, methods=["POST"])
    bp.add_url_rule("/invitations/<int:invitation_id>/withdraw", "withdraw_invitation", withdraw_invitation,
                    methods=["POST"])
    bp.add_url_rule("/nominations/<int:nomination_id>/confirm", "confirm_nomination", confirm_nomination,
                    methods=["POST"])


register()
