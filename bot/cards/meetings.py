"""What a meeting notice looks like: the card with its RSVP buttons, and the place on a map."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from linebot.v3.messaging import LocationMessage, Message

from .. import postback, thai, ui
from ..i18n import N_, _
from ..models import MeetingNotice, RsvpAnswer

ANSWERS = {  # answer → (button label id, count label id)
    RsvpAnswer.GOING: (N_("meeting.going"), N_("meeting.count_going")),
    RsvpAnswer.NOT_GOING: (N_("meeting.not_going"), N_("meeting.count_not_going")),
    RsvpAnswer.MAYBE: (N_("meeting.maybe"), N_("meeting.count_maybe")),
}


def notice_rows(notice: MeetingNotice, tz: ZoneInfo, locale: str) -> list[ui.Row]:
    rows = [ui.Row(_("meeting.when"), thai.format_datetime(notice.starts_at, locale, tz, long=True))]
    place = ", ".join(filter(None, [notice.place, notice.address]))
    if place:
        rows.append(ui.Row(_("meeting.where"), place))
    if notice.details:
        rows.append(ui.Row(_("meeting.details"), notice.details))
    return rows


def notice_card(notice: MeetingNotice, tz: ZoneInfo, locale: str, *, with_answers: bool = True,
                heading: str | None = None) -> Message:
    buttons = [ui.button(_(label), postback.encode(a="rsvp", id=notice.id, v=answer.value),
                         style="primary" if answer is RsvpAnswer.GOING else "secondary")
               for answer, (label, _count) in ANSWERS.items()] if with_answers else []
    title = heading or _("meeting.card_title", title=notice.title)
    return ui.card(title, notice_rows(notice, tz, locale), note=_("meeting.card_note") if with_answers else None,
                   buttons=buttons)


def _map_link(notice: MeetingNotice) -> Message | None:
    if notice.latitude is None or notice.longitude is None:
        return None
    return LocationMessage(title=thai.truncate(notice.place or notice.title, 100),
                           address=thai.truncate(notice.address or notice.place or "-", 100),
                           latitude=notice.latitude, longitude=notice.longitude)


def notice_messages(notice: MeetingNotice, tz: ZoneInfo, locale: str) -> list[Message]:
    location = _map_link(notice)
    return [notice_card(notice, tz, locale)] + ([location] if location else [])
