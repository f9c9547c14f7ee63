"""The production rich menu: its image, its buttons, and `khabuan richmenu deploy` against the emulator."""
from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from linebot.v3.messaging import RichMenuRequest, RichMenuSize
from PIL import Image

from bot import richmenu
from bot.cli import main
from bot.handlers import build_router
from bot.i18n import _, use_locale
from bot.models import AssemblySession
from bot.postback import parse as parse_pb

from .conftest import SECRET, TOKEN

U1 = "U" + "7" * 32
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def test_image_is_a_full_size_png_under_one_megabyte():
    data = richmenu.render_image()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "richmenu.png").write_bytes(data)  # to look at: the Thai labels' marks are stacked right
    assert len(data) <= 1024 * 1024
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (2500, 1686)
    # Every tile has ink in it (a label was drawn), not just the grid.
    gray = image.convert("L")
    for index in range(len(richmenu.BUTTONS)):
        x, y, w, h = richmenu._cell(index)
        lo, _hi = gray.crop((x + 40, y + int(h * 0.6), x + w - 40, y + h - 40)).getextrema()
        assert lo < 100, f"tile {index} has no label"


def test_thai_is_shaped_when_raqm_is_available():
    from PIL import features

    if not features.check("raqm"):
        pytest.skip("Pillow built without libraqm: Thai marks are drawn by the basic layout")
    font = richmenu._font("Bold", 100)
    # With shaping, the tone mark of "ข้อ" stacks above its consonant: the word is no wider than "ขอ".
    assert font.getlength("ข้อ") == pytest.approx(font.getlength("ขอ"), abs=2)


def test_six_buttons_cover_the_image_and_send_commands_the_router_knows():
    menu = richmenu.menu_request()
    assert menu.size.width == 2500 and menu.size.height == 1686
    assert [a.action.display_text for a in menu.areas] == [
        "ลงทะเบียน", "รายงานกิจกรรม", "ลงคะแนน", "ประชุม", "ข้อมูลของฉัน", "ช่วยเหลือ"]
    assert sum(a.bounds.width * a.bounds.height for a in menu.areas) == 2500 * 1686
    commands = build_router().commands
    for area in menu.areas:
        assert parse_pb(area.action.data)["cmd"] in commands


def test_every_button_gets_a_real_answer(chat):
    """Not the "I don't understand" fallback: each command exists for a newcomer too."""
    user = chat.user(U1)
    user.follow()
    with use_locale("th"):
        refusals = [_("menu.unknown"), _("common.unknown_button")]
    for area in richmenu.menu_request().areas:
        user.postback(area.action.data)
        assert user.replies(), area.action.data
        assert not any(r in user.last_text() for r in refusals), area.action.data


def test_meetings_button_lists_upcoming_assembly_sessions(chat, db):
    user = chat.user(U1)
    user.follow()
    user.postback("cmd=meetings")
    assert "ยังไม่มีนัดประชุม" in user.last_text()
    db.add(AssemblySession(name="สมัชชาองค์กรชุมชนแห่งชาติ", held_on=date.today() + timedelta(days=10),
                           place="ศูนย์ประชุมพอช."))
    db.add(AssemblySession(name="สมัชชาปีที่แล้ว", held_on=date.today() - timedelta(days=400), place="ที่เก่า"))
    db.commit()
    user.postback("cmd=meetings")
    text = user.last_text()
    assert "สมัชชาองค์กรชุมชนแห่งชาติ" in text and "ศูนย์ประชุมพอช." in text
    assert "สมัชชาปีที่แล้ว" not in text
    user.say("ประชุม")  # typed, the same command
    assert "สมัชชาองค์กรชุมชนแห่งชาติ" in user.last_text()


def test_deploy_creates_uploads_and_sets_default(services, emulator):
    deployed = richmenu.deploy(services.gateway.rich_menus)
    assert deployed.replaced == []
    assert services.gateway.rich_menus.default_id() == deployed.rich_menu_id
    image = services.gateway.rich_menus.image(deployed.rich_menu_id)
    assert Image.open(io.BytesIO(image)).size == (2500, 1686)
    paths = [(r.method, r.path.split("/richmenu-")[0]) for r in emulator.requests]
    assert ("POST", "/v2/bot/richmenu") in paths and ("POST", "/v2/bot/user/all/richmenu") in paths


def test_deploy_twice_replaces_only_its_own_menu(services):
    gateway = services.gateway.rich_menus
    # An operator's own campaign menu (another name) must survive a deploy.
    other = gateway.create(RichMenuRequest(size=RichMenuSize(width=2500, height=843), selected=False,
                                           name="campaign", chat_bar_text="campaign", areas=[]))
    first = richmenu.deploy(gateway)
    second = richmenu.deploy(gateway)
    assert second.replaced == [first.rich_menu_id]
    remaining = {m.rich_menu_id: m.name for m in gateway.list()}
    assert remaining == {other: "campaign", second.rich_menu_id: richmenu.MENU_NAME}
    assert gateway.default_id() == second.rich_menu_id


def test_failed_upload_leaves_no_half_made_menu(services, emulator):
    gateway = services.gateway.rich_menus
    before = richmenu.deploy(gateway)
    emulator.fail_next("/v2/bot/richmenu/richmenu-", status=500)  # the image upload (not list, not create)
    with pytest.raises(Exception, match="500"):
        richmenu.deploy(gateway)
    assert [m.rich_menu_id for m in gateway.list()] == [before.rich_menu_id]
    assert gateway.default_id() == before.rich_menu_id


def test_cli_deploy(app, settings, emulator, monkeypatch):
    for name, value in {"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                        "LINE_API_BASE_URL": settings.line_api_base_url, "DATABASE_URL": settings.database_url,
                        "KHABUAN_INSTANCE_PATH": str(settings.instance_path)}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["richmenu", "deploy"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "is the default" in result.output
    again = CliRunner().invoke(main, ["richmenu", "deploy"], catch_exceptions=False)
    assert again.exit_code == 0 and "replaced richmenu-" in again.output


def test_cli_deploy_without_a_channel_says_so(monkeypatch, settings):
    monkeypatch.delenv("LINE_CHANNEL_SECRET", raising=False)
    monkeypatch.delenv("LINE_CHANNEL_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("KHABUAN_INSTANCE_PATH", str(settings.instance_path))
    result = CliRunner().invoke(main, ["richmenu", "deploy"])
    assert result.exit_code != 0 and "no LINE channel configured" in result.output


def test_each_button_has_its_own_pictogram_on_its_colour():
    """Not a plain ring: white shapes on the button's disc, and no two buttons drawn alike."""
    drawn = {}
    for button in richmenu.BUTTONS:
        picture = richmenu.icon(button, 200).convert("RGB")
        pixels = [picture.getpixel((x, y)) for x in range(0, 200, 2) for y in range(0, 200, 2)]
        white = sum(1 for p in pixels if min(p) > 235) / len(pixels)
        accent = sum(1 for p in pixels if max(abs(a - b) for a, b in zip(p, button.color)) < 30) / len(pixels)
        assert 0.06 < white < 0.5, (button.command, white)  # a shape, neither a dot nor a blank disc
        assert accent > 0.2, (button.command, accent)
        drawn[button.command] = picture.convert("1").tobytes()
    assert len(set(drawn.values())) == len(drawn)
    assert set(drawn) == set(richmenu.PICTOGRAMS)
