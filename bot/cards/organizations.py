"""An organization as people see it: its details, and the certification request card."""
from __future__ import annotations

from linebot.v3.messaging import FlexMessage

from .. import postback, thai, ui
from ..data import label, load_organization_types
from ..i18n import _
from ..models import Organization


def org_rows(org: Organization, locale: str) -> list[ui.Row]:
    types = {t.code: label(t, locale) for t in load_organization_types()}
    return [
        ui.Row(_("field.org_type"), types.get(org.org_type, org.org_type)),
        ui.Row(_("field.province"), org.province.name(locale)),
        ui.Row(_("field.locality"), org.locality or _("common.not_given")),
        ui.Row(_("field.issues"), ", ".join(i.label(locale) for i in org.issues) or _("common.not_given")),
        ui.Row(_("field.member_count"), thai.format_number(org.member_count, locale)),
        ui.Row(_("field.founded_year"), str(org.founded_year + 543 if locale == "th" else org.founded_year)
               if org.founded_year else _("common.not_given")),
    ]


def certification_card(org: Organization, locale: str) -> FlexMessage:
    registrant = org.registered_by
    rows = org_rows(org, locale)
    if registrant is not None and registrant.full_name:
        rows.append(ui.Row(_("field.registered_by"), registrant.full_name))
    if org.contact_phone:
        rows.append(ui.Row(_("field.contact_phone"), thai.format_phone(org.contact_phone)))
    return ui.card(
        _("cert.request_title", name=org.name),
        rows,
        note=_("cert.request_note"),
        buttons=[
            ui.button(_("cert.approve"), postback.encode(a="org.approve", id=org.id), style="primary"),
            ui.button(_("cert.reject"), postback.encode(a="org.reject", id=org.id)),
        ],
    )
