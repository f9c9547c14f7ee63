"""The weekly digest's 12-month chart: an image message LINE fetches from the bot under a signed,
expiring link (bot/links.py, bot/chart_images.py)."""
from __future__ import annotations

import dataclasses
import io
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import time_machine
from PIL import Image

from bot import digests, links
from bot.config import ConfigError, load_settings
from bot.models import BoundGroup, ScopeKind

from .helpers import org_in, person, report_on

BASE = "https://khabuan.example.org"
MONDAY = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # Monday 08:00 in Bangkok
NORTH_GROUP = "C" + "4" * 32


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, public_url=BASE)


@pytest.fixture
def north(db):
    leader = person(db, "U" + "9" * 32)
    cm = org_in(db, "วิสาหกิจชุมชนบ้านแม่กำปอง", "50")
    report_on(db, cm, leader, date(2026, 11, 17), participants=12, created=datetime(2026, 11, 17, 3, tzinfo=timezone.utc))
    report_on(db, cm, leader, date(2026, 9, 3), participants=5, created=datetime(2026, 11, 18, 3, tzinfo=timezone.utc))
    db.add(BoundGroup(line_group_id=NORTH_GROUP, name="กลุ่มภาคเหนือ", locale="th", scope_kind=ScopeKind.REGION,
                      scope_code="north", bound_at=datetime(2026, 11, 1, tzinfo=timezone.utc)))
    db.commit()
    return db


def weekly_chart_url(services, emulator) -> str:
    with time_machine.travel(MONDAY, tick=False):
        assert digests.weekly_digests(services, MONDAY) == 1
        while services.sender.deliver(limit=50, now=MONDAY).claimed:
            pass
    messages = emulator.messages_for(NORTH_GROUP)
    assert [m["type"] for m in messages] == ["flex", "image"]  # the emulator checked both against LINE's spec
    image = messages[1]
    assert image["originalContentUrl"] == image["previewImageUrl"]
    assert image["originalContentUrl"].startswith(BASE + links.CHART_PATH)
    return image["originalContentUrl"]


def test_weekly_digest_carries_the_chart_and_the_link_serves_a_png(north, services, emulator, app):
    url = weekly_chart_url(services, emulator)
    client = app.test_client()
    with time_machine.travel(MONDAY + timedelta(hours=1), tick=False):
        response = client.get(urlsplit(url).path)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert len(response.data) < 1_000_000  # LINE's preview limit; the original may be 10 MB
    assert Image.open(io.BytesIO(response.data)).size == (1024, 640)


def test_tampered_or_expired_links_are_refused(north, services, emulator, app):
    path = urlsplit(weekly_chart_url(services, emulator)).path
    token = path[len(links.CHART_PATH):-len(".png")]
    client = app.test_client()
    with time_machine.travel(MONDAY + timedelta(days=1), tick=False):
        tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        assert client.get(f"{links.CHART_PATH}{tampered}.png").status_code == 403
        other_key = dataclasses.replace(services.settings, channel_secret="another-secret")
        forged = links.chart_url(other_key, "national", date(2026, 11, 1), "th", now=MONDAY)
        assert client.get(urlsplit(forged).path).status_code == 403
        assert client.get(f"{links.CHART_PATH}not-a-token.png").status_code == 403
    with time_machine.travel(MONDAY + links.CHART_LIFETIME + timedelta(minutes=1), tick=False):
        assert client.get(path).status_code == 404


def test_the_token_names_scope_month_language_and_expiry(services):
    url = links.chart_url(services.settings, "region:north", date(2026, 11, 1), "en", now=MONDAY)
    link = links.read_chart_token(services.settings, url.rsplit("/", 1)[1].removesuffix(".png"), now=MONDAY)
    assert (link.scope, link.month, link.locale, link.expires) == (
        "region:north", date(2026, 11, 1), "en", MONDAY + links.CHART_LIFETIME)
    with pytest.raises(links.LinkExpired):
        links.read_chart_token(services.settings, url.rsplit("/", 1)[1].removesuffix(".png"),
                               now=MONDAY + links.CHART_LIFETIME)


def test_no_public_https_address_means_no_image(services, tmp_path):
    plain = dataclasses.replace(services.settings, public_url="http://khabuan.example.org")
    assert links.chart_url(plain, "national", date(2026, 11, 1), "th", now=MONDAY) is None
    with pytest.raises(ConfigError):
        load_settings({"KHABUAN_PUBLIC_URL": "khabuan.example.org", "KHABUAN_INSTANCE_PATH": str(tmp_path)})
    https = load_settings({"KHABUAN_PUBLIC_URL": BASE + "/", "KHABUAN_INSTANCE_PATH": str(tmp_path)})
    assert https.public_url == BASE and https.public_https


def test_the_chart_is_drawn_once_per_figures_and_again_when_they_change(north, services, emulator, app, monkeypatch):
    """Every bound group's phones fetch the chart on a Monday morning: the drawing is kept (per
    process) by what it shows, so a second fetch draws nothing, and a new report draws it anew."""
    from bot import chart_images, charts

    url = weekly_chart_url(services, emulator)
    drawn = []
    real = charts.monthly_chart_png
    monkeypatch.setattr(charts, "monthly_chart_png", lambda *a, **kw: drawn.append(1) or real(*a, **kw))
    chart_images._DRAWN.clear()
    client = app.test_client()
    with time_machine.travel(MONDAY + timedelta(hours=1), tick=False):
        first = client.get(urlsplit(url).path).data
        second = client.get(urlsplit(url).path).data
        assert first == second and len(drawn) == 1
        leader = person(north, "U" + "5" * 32)
        report_on(north, org_in(north, "กลุ่มใหม่", "50"), leader, date(2026, 11, 20), participants=40,
                  created=datetime(2026, 11, 20, 3, tzinfo=timezone.utc))
        north.commit()
        third = client.get(urlsplit(url).path).data
    assert len(drawn) == 2 and third != first
