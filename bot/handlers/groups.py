"""Group chats: a short intro on join; binding a group to a scope; the digest on request.

In a group the bot speaks only when given a command, and never shows personal data. Binding is for
the secretariat and coordinators only, within the scopes their roles cover; every tap is checked
again against the tapper's roles (a button is not a permission), so anyone else in the group who
taps a binding button is refused as politely as one who types the command.
"""
from __future__ import annotations

from linebot.v3.messaging import Message
from sqlalchemy import delete, select

from .. import digests, postback, scopes, ui
from ..context import Context, Input
from ..i18n import N_, _, set_locale
from ..lineport import GROUP_SUMMARY
from ..models import BoundGroup, Member, Province, Role
from ..scopes import Scope, ScopeError
from ..refusal import Refusal
from ..router import Router

BINDER_ROLES = (Role.COORDINATOR, Role.SECRETARIAT, Role.ADMIN)
RECEIVES = {  # postback key → (column, label id)
    "daily": ("daily_digest", N_("group.recv_daily")),
    "weekly": ("weekly_digest", N_("group.recv_weekly")),
    "results": ("assembly_results", N_("group.recv_results")),
    "cert": ("certification_requests", N_("group.recv_cert")),
}


def bound_group(ctx: Context) -> BoundGroup | None:
    group = ctx.session.scalar(select(BoundGroup).where(BoundGroup.line_group_id == ctx.chat_id))
    if group is not None:
        set_locale(group.locale)  # everything this event says in the group speaks its language
    return group


def actor(ctx: Context) -> Member | None:
    if not ctx.actor_id:
        return None
    member = ctx.session.scalar(select(Member).where(Member.line_user_id == ctx.actor_id))
    if member is None or not member.active or member.erased_at is not None or not member.is_registered:
        return None
    return member


def binder_grants(member: Member | None) -> list:
    return [g for g in member.roles if g.role in BINDER_ROLES] if member is not None else []


def can_bind(ctx: Context, member: Member | None, scope: Scope) -> bool:
    """May this member bind a group to the scope: a secretariat/coordinator grant that contains it."""
    place = scopes.place_of(ctx.session, scope)
    if place is None:
        return False
    return any(scopes.contains(Scope.of(g), place) for g in binder_grants(member))


def scope_options(ctx: Context, member: Member) -> list[tuple[str, str]]:
    """(scope, label) a member may bind to: each grant's scope and the scopes one level inside it."""
    locale = member.locale or ctx.settings.default_locale
    found: dict[str, str] = {}
    children: dict[str, str] = {}
    for grant in sorted(binder_grants(member), key=lambda g: Scope.of(g).level):
        found.setdefault(grant.scope, digests.scope_name(ctx.session, grant.scope_kind, grant.scope_code, locale))
        for child, row in scopes.children(ctx.session, Scope.of(grant)):
            label = row.label(locale) if isinstance(row, Province) else row.name(locale)
            children.setdefault(str(child), label)
    for scope, label in children.items():
        found.setdefault(scope, label)
    return list(found.items())[:ui.MAX_QUICK_REPLIES]


def settings_card(ctx: Context, group: BoundGroup) -> Message:
    on, off = _("group.on"), _("group.off")
    rows = [ui.Row(_("group.scope"), digests.scope_name(ctx.session, group.scope_kind, group.scope_code, group.locale))]
    rows += [ui.Row(_(label), on if getattr(group, column) else off) for column, label in RECEIVES.values()]
    rows.append(ui.Row(_("group.language"), _("group.language_name")))
    buttons = [ui.button(_("group.toggle", what=_(label)), postback.encode(a="gset", k=key), display=_(label))
               for key, (_column, label) in RECEIVES.items()]
    buttons.append(ui.button(_("group.switch_language"), postback.encode(a="gset", k="lang")))
    return ui.card(_("group.bound_title", name=group.name) if group.name else _("group.bound_title_unnamed"), rows,
                   note=_("group.bound_note"), buttons=buttons)


# ---- events ---------------------------------------------------------------------------------


def on_join(ctx: Context, inp: Input) -> list[Message]:
    return [ui.text(_("group.intro"))]


def on_leave(ctx: Context, inp: Input) -> list[Message]:
    # Left or removed: nothing more may be pushed here, so the binding goes with us.
    ctx.session.execute(delete(BoundGroup).where(BoundGroup.line_group_id == ctx.chat_id))
    return []


def group_help(ctx: Context, inp: Input) -> list[Message]:
    # Never personal data here: this is read by everyone in the group.
    bound_group(ctx)
    return [ui.text(_("group.help"))]


# ---- binding --------------------------------------------------------------------------------


def bind(ctx: Context, inp: Input) -> list[Message]:
    group = bound_group(ctx)
    if ctx.source_type != "group":
        return [ui.text(_("group.bind_groups_only"))]
    member = actor(ctx)
    if not binder_grants(member):
        raise Refusal(_("group.bind_refused"))
    assert member is not None
    if group is not None and not can_bind(ctx, member, Scope.of(group)):
        raise Refusal(_("group.bind_out_of_scope"))
    chips = [ui.Chip(label, postback.encode(a="gbind", s=scope)) for scope, label in scope_options(ctx, member)]
    messages: list[Message] = [settings_card(ctx, group)] if group is not None else []
    return messages + [ui.text(_("group.bind_pick_scope"), chips)]


def bind_scope(ctx: Context, inp: Input) -> list[Message]:
    group = bound_group(ctx)
    if ctx.source_type != "group":
        return []
    member = actor(ctx)
    if not binder_grants(member):
        raise Refusal(_("group.bind_refused"))
    try:
        scope = scopes.resolve(ctx.session, inp.data["s"])
    except ScopeError:
        raise Refusal(_("common.unknown_button"))
    if not can_bind(ctx, member, scope) or (
            group is not None and not can_bind(ctx, member, Scope.of(group))):
        raise Refusal(_("group.bind_out_of_scope"))
    if group is None:
        summary = ctx.line.group_summary(ctx.chat_id)
        group = BoundGroup(line_group_id=ctx.chat_id, locale=member.locale or ctx.settings.default_locale,
                           name=((summary.group_name if summary else "") or "")[:100], bound_at=ctx.now,
                           scope_kind=scope.kind, scope_code=scope.code)
        ctx.session.add(group)
        set_locale(group.locale)
    else:
        summary = ctx.line.group_summary(ctx.chat_id)
        if summary is not None and summary.group_name:
            group.name = summary.group_name[:100]
        group.scope_kind, group.scope_code = scope.kind, scope.code
    group.bound_by_id = member.id
    ctx.session.flush()
    return [ui.text(_("group.bound", scope=digests.scope_name(ctx.session, scope.kind, scope.code, group.locale))),
            settings_card(ctx, group)]


def change_setting(ctx: Context, inp: Input) -> list[Message]:
    group = bound_group(ctx)
    if group is None:
        raise Refusal(_("group.not_bound"))
    if not can_bind(ctx, actor(ctx), Scope.of(group)):
        raise Refusal(_("group.bind_refused"))
    key = inp.data["k"]
    if key == "lang":
        group.locale = "en" if group.locale == "th" else "th"
        set_locale(group.locale)
    elif key in RECEIVES:
        column = RECEIVES[key][0]
        setattr(group, column, not getattr(group, column))
    else:
        raise Refusal(_("common.unknown_button"))
    return [settings_card(ctx, group)]


def unbind(ctx: Context, inp: Input) -> list[Message]:
    group = bound_group(ctx)
    if group is None:
        raise Refusal(_("group.not_bound"))
    if not can_bind(ctx, actor(ctx), Scope.of(group)):
        raise Refusal(_("group.bind_refused"))
    ctx.session.delete(group)
    return [ui.text(_("group.unbound"))]


def summary(ctx: Context, inp: Input) -> list[Message]:
    """The digest so far today, as a reply (free), for anyone in a bound group."""
    group = bound_group(ctx)
    if group is None:
        raise Refusal(_("group.not_bound"))
    digest, message = digests.digest_for_group(ctx.session, group, weekly=False, now=ctx.now,
                                               tz=ctx.settings.timezone)
    return [ui.text(_("group.summary_empty"))] if digest.empty else [message]


def register(router: Router) -> None:
    router.on("join", on_join)
    router.on("leave", on_leave)
    router.command("group_help", group_help, ["ช่วยเหลือ", "help", "วิธีใช้", "@ขบวน"], group=True)
    router.command("group_bind", bind, ["ผูกกลุ่ม", "bind", "ตั้งค่ากลุ่ม", "group settings"], group=True)
    router.command("group_unbind", unbind, ["ยกเลิกผูกกลุ่ม", "unbind"], group=True)
    router.command("group_summary", summary, ["สรุป", "summary", "digest", "สรุปวันนี้"], group=True)
    router.action("group.gbind", bind_scope, needs=[GROUP_SUMMARY])  # the group's name
    router.action("group.gset", change_setting)
