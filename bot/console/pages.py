"""The console's pages: overview, organizations, activity reports, assembly, exports (people and
roles, with appointments, are in `people`).

Every query is filtered by the viewer's scope (`in_scope`), and every id or code in a URL is
checked against it: outside it, the answer is 404, as for a row that does not exist.
"""
from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import audit, charts, exports, organizations, stats, thai
from ..assembly import tally, turnout
from ..cards.assembly import cell_text, option_labels
from ..data import label, load_organization_types
from ..i18n import N_, _, current_locale
from ..models import (ActivityReport, AuditAction, AuditVia, AssemblySession, ItemStatus, Organization,
                      OrgStatus, Province, ReportPhoto, StrategicIssue, organization_issues)
from ..handlers.reports import ACTIVITY_LABELS, BUDGET_SOURCE_LABELS
from ..organizations import NotYours
from ..scopes import in_scope
from .web import bp as web_bp, db, now, provinces_in, scope_name, services, signed_in, today, viewer

log = logging.getLogger(__name__)
PAGE_SIZE = 25
STATUS_LABELS = {OrgStatus.PENDING: N_("console.status_pending"), OrgStatus.CERTIFIED: N_("console.status_certified"),
                 OrgStatus.REJECTED: N_("console.status_rejected")}

ITEM_STATUS_LABELS = {ItemStatus.SCHEDULED: N_("console.item_scheduled"), ItemStatus.OPEN: N_("console.item_open"),
                      ItemStatus.CLOSED: N_("console.item_closed"), ItemStatus.WITHDRAWN: N_("console.item_withdrawn")}
OUTCOME_LABELS = {"passed": N_("console.outcome_passed"), "not_passed": N_("console.outcome_not_passed"),
                  "no_quorum": N_("console.outcome_no_quorum")}
AUDIT_LABELS = {AuditAction.GRANT: N_("console.audit_grant"), AuditAction.REVOKE: N_("console.audit_revoke"),
                AuditAction.NOMINATE: N_("console.audit_nominate"), AuditAction.CONFIRM: N_("console.audit_confirm"),
                AuditAction.INVITE: N_("console.audit_invite"),
                AuditAction.INVITE_WITHDRAW: N_("console.audit_invite_withdraw"),
                AuditAction.INVITE_ACCEPT: N_("console.audit_invite_accept"),
                AuditAction.SIGN_IN: N_("console.audit_sign_in"), AuditAction.EXPORT: N_("console.audit_export")}
VIA_LABELS = {AuditVia.CHAT: N_("console.via_chat"), AuditVia.CLI: N_("console.via_cli"),
              AuditVia.IMPORT: N_("console.via_import"), AuditVia.CONSOLE: N_("console.via_console"),
              AuditVia.SYSTEM: N_("console.via_system")}


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _province_filter() -> Province | None:
    """?province=<code>: a province inside the page's scope, or 404."""
    code = request.args.get("province", "")
    if not code:
        return None
    province = db().scalar(select(Province).where(Province.code == code))
    if province is None or not viewer().shows(province):
        abort(404)
    return province


def _issue_filter() -> StrategicIssue | None:
    code = request.args.get("issue", "")
    if not code:
        return None
    issue = db().scalar(select(StrategicIssue).where(StrategicIssue.code == code))
    if issue is None:
        abort(404)
    return issue


def _common() -> dict[str, Any]:
    """What the layout needs: the scope's name, the scopes one may switch to, the filters' lists."""
    v = viewer()
    session = db()
    return {"viewer": v, "scope_label": scope_name(session, v.scope),
            "scope_choices": [(str(s), scope_name(session, s)) for s in v.scopes],
            "provinces": provinces_in(session, v.scope),
            "issues": list(session.scalars(select(StrategicIssue).order_by(StrategicIssue.sort_order))),
            "locale": current_locale(), "args": request.args}


# ---- overview ---------------------------------------------------------------------------------


@signed_in
def overview() -> Any:
    """Figures, the tile map of the scope's provinces coloured by this month's reports, silent
    provinces, certification waits and the 12-month chart (bot/stats.py, bot/charts.py)."""
    v, session, settings = viewer(), db(), services().settings
    by_status = dict(session.execute(select(Organization.status, func.count())
                                     .where(in_scope(Organization.province_id, v.scope))
                                     .group_by(Organization.status)).all())
    figures = stats.overview(session, v.scope, now=now(), tz=settings.timezone)
    locale = current_locale()
    return render_template("console/overview.html", figures=figures, month=figures.months[-1],
                           certified=by_status.get(OrgStatus.CERTIFIED, 0),
                           tile_map=Markup(charts.province_tile_map_svg(figures.provinces, locale=locale)),
                           **_common())


@signed_in
def chart() -> Any:
    """The 12-month chart as a PNG, for the overview's <img>; the same picture the digest sends."""
    v, session, settings = viewer(), db(), services().settings
    points = stats.monthly_activity(session, v.scope, now=now(), tz=settings.timezone)
    png = charts.monthly_chart_png(points, locale=current_locale(),
                                   title=_("console.chart_title", scope=scope_name(session, v.scope)))
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


# ---- organizations ----------------------------------------------------------------------------


def _org_query() -> Any:
    v = viewer()
    query = select(Organization).where(in_scope(Organization.province_id, v.scope))
    province = _province_filter()
    if province is not None:
        query = query.where(Organization.province_id == province.id)
    text = request.args.get("q", "").strip()
    if text:
        query = query.where(Organization.name.ilike(f"%{text[:100]}%"))
    org_type = request.args.get("type", "")
    if org_type:
        query = query.where(Organization.org_type == org_type)
    issue = _issue_filter()
    if issue is not None:
        query = query.where(Organization.id.in_(select(organization_issues.c.organization_id)
                                                .where(organization_issues.c.issue_id == issue.id)))
    status = request.args.get("status", "")
    if status:
        if status not in {s.value for s in OrgStatus}:
            abort(404)
        query = query.where(Organization.status == OrgStatus(status))
    return query


@signed_in
def organization_list() -> Any:
    session, page = db(), _page()
    query = _org_query()
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.options(selectinload(Organization.province), selectinload(Organization.issues))
                           .order_by(Organization.created_at.desc(), Organization.id.desc())
                           .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    types = [(t.code, label(t, current_locale())) for t in load_organization_types()]
    return render_template("console/organizations.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), types=types, type_names=dict(types),
                           statuses=[(s.value, _(STATUS_LABELS[s])) for s in OrgStatus],
                           status_names={s: _(STATUS_LABELS[s]) for s in OrgStatus}, **_common())


def _org_in_scope(org_id: int) -> Organization:
    org = db().get(Organization, org_id)
    if org is None or not viewer().covers(org.province):
        abort(404)
    return org


@signed_in
def organization_detail(org_id: int) -> Any:
    org = _org_in_scope(org_id)
    why = organizations.why_not_decide(viewer().member, org)
    types = {t.code: label(t, current_locale()) for t in load_organization_types()}
    return render_template("console/organization.html", org=org, may_decide=why is None, why=why,
                           type_name=types.get(org.org_type, org.org_type), status_name=_(STATUS_LABELS[org.status]),
                           NotYours=NotYours, **_common())


@signed_in
def organization_decide(org_id: int) -> Any:
    """Certify or reject: the same rule (`why_not_decide`) and notices (`decide`) as the chat."""
    session = db()
    org = session.get(Organization, org_id, with_for_update=True)
    if org is None or not viewer().covers(org.province):
        abort(404)
    choice = request.form.get("decision")
    if choice not in ("certify", "reject"):
        abort(400)
    why = organizations.why_not_decide(viewer().member, org)
    if why is not None:
        flash(_({NotYours.NOT_ALLOWED: N_("cert.not_allowed"), NotYours.OWN: N_("cert.not_own"),
                 NotYours.DECIDED: N_("console.already_decided")}[why]))
        return redirect(url_for("console.organization_detail", org_id=org.id))
    reason = request.form.get("reason", "").strip()
    if choice == "reject" and not 3 <= len(reason) <= 500:
        flash(_("console.reason_needed"))
        return redirect(url_for("console.organization_detail", org_id=org.id))
    ids = organizations.decide(session, org, viewer().member, now(), certified=choice == "certify",
                               reason=reason if choice == "reject" else None)
    session.commit()
    try:
        services().deliver_now(ids)
    except Exception:  # the worker sends it
        log.exception("the certification notice was left to the worker")
    flash(_("cert.approved", name=org.name) if choice == "certify" else _("cert.rejected", name=org.name))
    return redirect(url_for("console.organization_detail", org_id=org.id))


# ---- activity reports -------------------------------------------------------------------------


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return thai.parse_date(raw, today=today())


def _report_dates() -> tuple[date | None, date | None]:
    start, end = _date_arg("from"), _date_arg("to")
    if "from" not in request.args and "to" not in request.args:
        start = today().replace(day=1)  # this month unless asked: a year of a whole country is a lot to list
    return start, end


def _report_query() -> Any:
    v = viewer()
    query = (select(ActivityReport).join(Organization, ActivityReport.organization_id == Organization.id)
             .where(in_scope(Organization.province_id, v.scope), ActivityReport.withdrawn_at.is_(None)))
    start, end = _report_dates()
    if start:
        query = query.where(ActivityReport.activity_date >= start)
    if end:
        query = query.where(ActivityReport.activity_date <= end)
    province = _province_filter()
    if province is not None:
        query = query.where(Organization.province_id == province.id)
    org_id = request.args.get("org", "")
    if org_id:
        if not (org_id.isascii() and org_id.isdigit()):
            abort(404)
        org = _org_in_scope(int(org_id))
        if not v.shows(org.province):
            abort(404)
        query = query.where(ActivityReport.organization_id == org.id)
    issue = _issue_filter()
    if issue is not None:
        query = query.where(ActivityReport.issue_id == issue.id)
    return query


@signed_in
def report_list() -> Any:
    session, page = db(), _page()
    query = _report_query()
    start, end = _report_dates()
    if not request.args.get("org") and not request.args.get("issue"):
        # Dates and provinces only: the sums the database keeps per province and day (stats).
        province = _province_filter()
        found = stats.totals_between(session, viewer().scope, start=start, end=end,
                                     province_id=province.id if province else None)
        count, participants, baht = found.reports, found.participants, list(found.baht_by_source.items())
    else:  # the same joins and filters as the rows, aggregated in the database
        count, participants = session.execute(query.with_only_columns(
            func.count(ActivityReport.id), func.coalesce(func.sum(ActivityReport.participants), 0))).one()
        baht = session.execute(query.with_only_columns(ActivityReport.budget_source, func.sum(ActivityReport.budget))
                               .where(ActivityReport.budget.is_not(None))
                               .group_by(ActivityReport.budget_source)).all()
    by_source = [(_(BUDGET_SOURCE_LABELS[s]) if s else _("console.source_unknown"), Decimal(total or 0)) for s, total in baht]
    rows = session.scalars(query.options(selectinload(ActivityReport.organization).selectinload(Organization.province),
                                         selectinload(ActivityReport.photos), selectinload(ActivityReport.issue))
                           .order_by(ActivityReport.activity_date.desc(), ActivityReport.id.desc())
                           .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return render_template("console/reports.html", rows=rows, default_from=today().replace(day=1).isoformat(), total=count, participants=participants,
                           by_source=by_source, baht_total=sum((t for _s, t in by_source), Decimal(0)),
                           page=page, pages=max(1, -(-count // PAGE_SIZE)), source_labels=BUDGET_SOURCE_LABELS, activity_labels=ACTIVITY_LABELS,
                           format_baht=lambda amount: thai.format_baht(amount, current_locale()), **_common())


@signed_in
def photo(photo_id: int) -> Any:
    row = db().get(ReportPhoto, photo_id)
    if row is None or row.report is None or row.path is None or not viewer().covers(row.report.organization.province):
        abort(404)
    # Through the media store, so a photo saved by any host (the instance folder, or S3) is served.
    try:
        data = services().media.get(row.path)
    except ValueError:  # a key the store refuses (outside its folder): as good as missing
        data = None
    if data is None:
        abort(404)
    response = Response(data, mimetype=row.content_type or "image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# ---- assembly ---------------------------------------------------------------------------------


@signed_in
def assembly() -> Any:
    """Sessions and items; while an item is open, turnout by region; once closed, the result
    with the small-numbers rule of secret ballots (`Result.breakdown`, as the chat shows it)."""
    session = db()
    sessions = session.scalars(select(AssemblySession).options(selectinload(AssemblySession.items))
                               .order_by(AssemblySession.held_on.desc())).all()
    details: dict[int, dict[str, Any]] = {}
    locale = current_locale()
    for meeting in sessions:
        for item in meeting.items:
            if item.status is ItemStatus.OPEN:
                result = tally(session, item)
                voted, eligible = turnout(session, item)
                details[item.id] = {"kind": "open", "voted": voted, "eligible": eligible,
                                    "regions": [(t.name(locale), t.voted, t.eligible) for t in result.by_region]}
            elif item.status is ItemStatus.CLOSED:
                result = tally(session, item)
                details[item.id] = {
                    "kind": "closed", "labels": option_labels(item), "counts": result.counts,
                    "voted": result.voted, "eligible": result.eligible, "outcome": result.decision.outcome.value,
                    "quorum_met": result.decision.quorum_met,
                    "rows": [(row.tally.name(locale), row.tally.voted, [cell_text(c, locale) for c in row.cells])
                             for row in result.breakdown]}
    return render_template("console/assembly.html", sessions=sessions, details=details,
                           item_labels=ITEM_STATUS_LABELS, outcome_labels=OUTCOME_LABELS, **_common())


# ---- exports ----------------------------------------------------------------------------------


EXPORT_LABELS = {"organizations": N_("console.export_organizations"), "reports": N_("console.export_reports"),
                 "delegates": N_("console.export_delegates"), "results": N_("console.export_results")}


@signed_in
def exports_page() -> Any:
    v = viewer()
    day = today()
    files = [(kind, _(EXPORT_LABELS[kind]), [(fmt, exports.filename(kind, v.scope, day, fmt)) for fmt in exports.FORMATS])
             for kind in exports.KINDS]
    return render_template("console/exports.html", files=files, **_common())


@signed_in
def export_file(kind: str, fmt: str) -> Any:
    """One export of the viewer's scope, streamed; recorded in the audit log before the first byte.

    Personal columns (names, phones) only where a secretariat/admin grant of the viewer holds the
    scope exported (`Viewer.personal`), not for any such role held elsewhere."""
    if kind not in exports.KINDS or fmt not in exports.FORMATS:
        abort(404)
    v, settings = viewer(), services().settings
    session = db()
    audit.record(session, action=AuditAction.EXPORT, via=AuditVia.CONSOLE, now=now(), actor=v.member, scope=v.scope,
                 details={"kind": kind, "format": fmt, "personal": v.personal})
    session.commit()
    reader = services().session_factory()  # its own session: the stream outlives this view
    try:
        result = exports.export(reader, kind, v.scope, fmt=fmt, personal=v.personal, now=now(),
                                locale=current_locale(), tz=settings.timezone)
    except Exception:
        reader.close()
        raise

    def stream() -> Any:
        try:
            yield from result.chunks
        finally:
            reader.close()

    response = Response(stream_with_context(stream()), mimetype=result.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/", "overview", overview)
    bp.add_url_rule("/chart.png", "chart", chart)
    bp.add_url_rule("/exports", "exports", exports_page)
    bp.add_url_rule("/exports/<kind>.<fmt>", "export_file", export_file)
    bp.add_url_rule("/organizations", "organization_list", organization_list)
    bp.add_url_rule("/organizations/<int:org_id>", "organization_detail", organization_detail)
    bp.add_url_rule("/organizations/<int:org_id>/decide", "organization_decide", organization_decide,
                    methods=["POST"])
    bp.add_url_rule("/reports", "report_list", report_list)
    bp.add_url_rule("/photos/<int:photo_id>", "photo", photo)
    bp.add_url_rule("/assembly", "assembly", assembly)


register(web_bp)
