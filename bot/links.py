"""Signed, expiring links to images the bot renders itself (the weekly digest's 12-month chart).

A link names what to draw (the scope, the month the chart ends with, the language) and when it
expires, signed with a key derived from the channel secret (itsdangerous, which Flask ships; a
salt of its own, so no other signed value can be passed off as a chart). Nothing is stored: any
web process checks the signature and draws the image from the database on request. Without a
public HTTPS address (KHABUAN_PUBLIC_URL starting with https://) or a channel secret there are no links, and the digest
goes without its image.

Infrastructure level: settings in, a URL or a checked payload out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from itsdangerous import BadSignature, URLSafeSerializer

from .config import Settings

CHART_SALT = "khabuan.chart.monthly"
CHART_LIFETIME = timedelta(days=14)  # two weekly digests: a group scrolling back still sees it
CHART_PATH = "/charts/monthly/"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


@dataclass(frozen=True)
class ChartLink:
    scope: str  # "national" | "region:north" | …
    month: date  # first day of the last month drawn
    locale: str
    expires: datetime


def _serializer(settings: Settings) -> URLSafeSerializer | None:
    if not settings.channel_secret:
        return None
    return URLSafeSerializer(settings.channel_secret, salt=CHART_SALT)


def chart_url(settings: Settings, scope: str, month: date, locale: str, *, now: datetime) -> str | None:
    """The chart's URL for LINE to fetch, or None when the bot has no public HTTPS address."""
    serializer = _serializer(settings)
    if serializer is None or not settings.public_https:
        return None
    expires = int((now + CHART_LIFETIME).timestamp())
    token = serializer.dumps({"s": scope, "m": month.strftime("%Y-%m"), "l": locale, "e": expires})
    return f"{settings.public_url}{CHART_PATH}{token}.png"


def read_chart_token(settings: Settings, token: str, *, now: datetime) -> ChartLink:
    """The link's payload; LinkInvalid when the signature or the payload is wrong, LinkExpired after its time."""
    serializer = _serializer(settings)
    if serializer is None:
        raise LinkInvalid("no signing key")
    try:
        data = serializer.loads(token)
        link = ChartLink(str(data["s"]), datetime.strptime(data["m"], "%Y-%m").date(), str(data["l"]),
                         datetime.fromtimestamp(int(data["e"]), timezone.utc))
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid(str(exc)) from None
    if now >= link.expires:
        raise LinkExpired(link.expires.isoformat())
    return link
