"""GET /charts/monthly/<token>.png: the 12-month chart a weekly digest links to, drawn on request.

The token (bot/links.py) says which scope, month and language; a tampered one is answered 403,
an expired one 404 (as is a scope that no longer exists). The figures are counted when LINE (or a
group member's phone) fetches the image, up to the end of the linked month, so the image is
never stale and nothing is stored: any web process serves any link.

Edge level: reads the clock once per request, like the webhook.
"""
from __future__ import annotations

import calendar
import threading
from collections import OrderedDict
from datetime import datetime, time, timezone

from flask import Blueprint, Response, abort, current_app

from . import charts, stats
from .db import once_more_if_dropped
from .digests import scope_name
from .i18n import _, use_locale
from .links import CHART_PATH, LinkExpired, LinkInvalid, read_chart_token
from .scopes import ScopeError, resolve
from .services import Services

bp = Blueprint("chart_images", __name__)

# Drawing is the cost (0.2–0.8 s of matplotlib); counting is cheap (the day totals). On a Monday
# morning every bound group's phone fetches its digest's chart: the PNG is kept per process, keyed
# by what it shows (the figures themselves, the title, the language), so it is never stale and a
# process that has not drawn it simply draws it. A cache, not state: nothing else needs it.
_DRAWN: OrderedDict[str, bytes] = OrderedDict()
_DRAWN_MAX = 64
_DRAWN_LOCK = threading.Lock()


def _draw(points: list, *, locale: str, title: str) -> bytes:
    key = repr((locale, title, points))
    with _DRAWN_LOCK:
        png = _DRAWN.get(key)
        if png is not None:
            _DRAWN.move_to_end(key)
            return png
    png = charts.monthly_chart_png(points, locale=locale, title=title)
    with _DRAWN_LOCK:
        _DRAWN[key] = png
        while len(_DRAWN) > _DRAWN_MAX:
            _DRAWN.popitem(last=False)
    return png


def chart_title(scope_name: str) -> str:
    return _("chart.title", scope=scope_name)


@bp.get(CHART_PATH + "<token>.png")
def monthly_chart(token: str) -> Response:
    services: Services = current_app.extensions["khabuan"]
    now = datetime.now(timezone.utc)
    try:
        link = read_chart_token(services.settings, token, now=now)
    except LinkInvalid:
        abort(403)
    except LinkExpired:
        abort(404)
    tz = services.settings.timezone
    last_day = link.month.replace(day=calendar.monthrange(link.month.year, link.month.month)[1])
    as_of = min(now, datetime.combine(last_day, time(23, 59), tzinfo=tz))
    with services.session_factory() as session, use_locale(link.locale) as locale:
        def count() -> tuple[list[stats.MonthPoint], str]:
            try:
                scope = resolve(session, link.scope)
            except ScopeError:
                abort(404)
            return (stats.monthly_activity(session, scope, now=as_of, tz=tz),
                    chart_title(scope_name(session, scope.kind, scope.code, locale)))

        # No ping before use (bot/app.py): on a connection PostgreSQL dropped, once more on a fresh one.
        points, title = once_more_if_dropped(session, count)
    png = _draw(points, locale=locale, title=title)
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
