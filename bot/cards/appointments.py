"""What people see of appointments: role names, the push to someone appointed or removed, the
note to whoever invited someone who has now registered. Rendering only: the rules and the
scope names arrive from bot/appointments.py."""
from __future__ import annotations

from linebot.v3.messaging import FlexMessage, TextMessage

from .. import postback, ui
from ..i18n import N_, _
from ..models import Role

# The movement's words for its roles, the same everywhere (chat, pushes, history).
ROLE_NAMES = {
    Role.LEADER: N_("role.leader"),
    Role.DELEGATE: N_("role.delegate"),
    Role.COORDINATOR: N_("role.coordinator"),
    Role.SECRETARIAT: N_("role.secretariat"),
    Role.ADMIN: N_("role.admin"),
}

# What someone with the role can now do, in words, and the commands to start (menu keys).
ROLE_CAN = {
    Role.LEADER: N_("appoint.can_leader"),
    Role.DELEGATE: N_("appoint.can_delegate"),
    Role.COORDINATOR: N_("appoint.can_coordinator"),
    Role.SECRETARIAT: N_("appoint.can_secretariat"),
    Role.ADMIN: N_("appoint.can_secretariat"),
}
ROLE_BUTTONS: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.LEADER: ((N_("menu.register_org"), "register_org"),),
    Role.DELEGATE: ((N_("menu.my_ballots"), "my_ballots"),),
    Role.COORDINATOR: ((N_("menu.appoint"), "appoint"), (N_("menu.pending_orgs"), "pending_orgs"),
                       (N_("menu.new_meeting"), "new_meeting")),
    Role.SECRETARIAT: ((N_("menu.appoint"), "appoint"), (N_("menu.seat_nominations"), "seat_nominations"),
                       (N_("menu.pending_orgs"), "pending_orgs")),
    Role.ADMIN: ((N_("menu.appoint"), "appoint"), (N_("menu.seat_nominations"), "seat_nominations")),
}


def role_name(role: Role | str | None) -> str:
    if role is None:
        return "–"
    try:
        return _(ROLE_NAMES[Role(role)])
    except ValueError:
        return str(role)


def appointed_card(role: Role, where: str, *, nominated: bool = False) -> FlexMessage:
    """The one push an appointee gets: what they now are, what they can do, buttons to start."""
    if nominated:
        return ui.card(_("appoint.nominated_title"), [ui.Row(_("appoint.field_role"), role_name(role)),
                                                      ui.Row(_("appoint.field_scope"), where)],
                       note=_("appoint.nominated_note"),
                       buttons=[ui.button(_("menu.help"), postback.encode(cmd="help"))])
    buttons = [ui.button(_(label), postback.encode(cmd=command), style="primary" if i == 0 else "secondary")
               for i, (label, command) in enumerate(ROLE_BUTTONS[role])]
    return ui.card(_("appoint.appointed_title", role=role_name(role)),
                   [ui.Row(_("appoint.field_role"), role_name(role)), ui.Row(_("appoint.field_scope"), where)],
                   note=_(ROLE_CAN[role]), buttons=buttons)


def dismissed_text(role: Role, where: str) -> TextMessage:
    return ui.text(_("appoint.removed_notice", role=role_name(role), scope=where),
                   [ui.Chip(_("menu.menu"), postback.encode(cmd="menu"))])


def invitation_accepted_text(name: str, role: Role, where: str, *, member_id: int | None = None,
                             token: str | None = None) -> TextMessage:
    """To whoever invited: the name the person registered with (a phone proves nothing), and one
    tap to remove the role if that is not who they meant."""
    chips = [ui.Chip(_("menu.appointments_log"), postback.encode(cmd="appointments_log"))]
    key = N_("appoint.invitation_accepted")
    if member_id is not None and token is not None:
        key = N_("appoint.invitation_accepted_undo")
        chips.insert(0, ui.Chip(_("appoint.undo"), postback.encode(a="appoint.undo", m=member_id, t=token)))
    return ui.text(_(key, name=name, role=role_name(role), scope=where), chips)
