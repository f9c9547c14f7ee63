"""The production rich menu: six buttons, its image drawn here, deployed with `khabuan richmenu deploy`.

Each button sends the same `cmd=<key>` postback the text menu's chips send, so the router needs
nothing new and a button and a typed command always do the same thing. The image is drawn with
Pillow from the catalogs (Thai large, English small: one channel-wide menu serves both) using
Sarabun from the `fontpkg-sarabun` package, so nothing is downloaded when it runs.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

from linebot.v3.messaging import (
    PostbackAction,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
)
from PIL import Image, ImageDraw, ImageFont, features

from . import postback
from .i18n import N_, _, use_locale
from .line import RichMenuGateway

log = logging.getLogger(__name__)

# Every menu this code made carries this name; deploy replaces those and leaves others alone
# (an operator may keep a hand-made campaign menu in the same channel).
MENU_NAME = "khabuan-main"
WIDTH, HEIGHT = 2500, 1686  # LINE's large full-width size: 3 × 2 buttons a thumb can hit
COLUMNS, ROWS = 3, 2
MAX_IMAGE_BYTES = 1024 * 1024  # LINE refuses rich menu images over 1 MB

BACKGROUND = (255, 255, 255)
INK = (34, 34, 34)
MUTED = (110, 110, 110)
GRID = (221, 221, 221)


@dataclass(frozen=True)
class Button:
    command: str  # the router's command key: the postback is cmd=<command>
    label_id: str  # catalog id of the label (the same words as the text menu's chip)
    color: tuple[int, int, int]  # the tile's accent, so buttons are told apart at a glance


BUTTONS: tuple[Button, ...] = (
    Button("register", N_("menu.register"), (6, 199, 85)),
    Button("report", N_("menu.report"), (0, 122, 204)),
    Button("my_ballots", N_("menu.my_ballots"), (214, 120, 0)),
    Button("meetings", N_("menu.meetings"), (142, 68, 173)),
    Button("my_info", N_("menu.my_info"), (22, 160, 133)),
    Button("help", N_("menu.help"), (120, 120, 120)),
)


def _font_path(weight: str) -> Path:
    import fontpkg_sarabun

    return Path(fontpkg_sarabun.ROOT) / "files" / f"Sarabun-{weight}.ttf"


def _font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    # Raqm (HarfBuzz) shapes Thai: it places above/below vowels and tone marks on their consonant
    # instead of beside it. Without it (a Pillow built without libraqm) the basic layout still
    # draws every glyph, only less well stacked, which beats refusing to deploy.
    engine = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(_font_path(weight)), size, layout_engine=engine)


def label(button: Button, locale: str) -> str:
    with use_locale(locale):
        return _(button.label_id)


def _cell(index: int) -> tuple[int, int, int, int]:
    """x, y, width, height of button `index`; the last column/row absorbs the rounding."""
    col, row = index % COLUMNS, index // COLUMNS
    x, y = col * WIDTH // COLUMNS, row * HEIGHT // ROWS
    return x, y, (col + 1) * WIDTH // COLUMNS - x, (row + 1) * HEIGHT // ROWS - y


def _fit(draw: ImageDraw.ImageDraw, text: str, weight: str, size: int, max_width: int) -> ImageFont.FreeTypeFont:
    """The font at `size`, shrunk until `text` fits (an English label can be long)."""
    font = _font(weight, size)
    while size > 24 and draw.textlength(text, font=font) > max_width:
        size -= 4
        font = _font(weight, size)
    return font


def render_image() -> bytes:
    """The menu as a PNG of WIDTH × HEIGHT, under LINE's 1 MB limit."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for index, button in enumerate(BUTTONS):
        x, y, w, h = _cell(index)
        draw.rectangle((x, y, x + w - 1, y + h - 1), outline=GRID, width=4)
        # A coloured ring per button: a landmark found by colour once learned, for slow readers.
        cx, cy, r = x + w // 2, y + int(h * 0.34), int(h * 0.17)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=button.color)
        draw.ellipse((cx - r // 2, cy - r // 2, cx + r // 2, cy + r // 2), fill=BACKGROUND)
        thai, english = label(button, "th"), label(button, "en")
        big = _fit(draw, thai, "Bold", 118, w - 80)
        draw.text((cx, y + int(h * 0.68)), thai, font=big, fill=INK, anchor="mm")
        small = _fit(draw, english, "Regular", 64, w - 80)
        draw.text((cx, y + int(h * 0.84)), english, font=small, fill=MUTED, anchor="mm")
    buffer = io.BytesIO()
    # A palette PNG: a few flat colours and anti-aliased text compress far below 1 MB.
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(buffer, format="PNG", optimize=True)
    data = buffer.getvalue()
    if len(data) > MAX_IMAGE_BYTES:  # a font or layout change must not ship an image LINE refuses
        raise RuntimeError(f"rich menu image is {len(data)} bytes; LINE allows {MAX_IMAGE_BYTES}")
    return data


def menu_request(locale: str = "th") -> RichMenuRequest:
    """The menu's body: six postback areas over the image's six tiles."""
    areas = []
    for index, button in enumerate(BUTTONS):
        x, y, w, h = _cell(index)
        text = label(button, locale)
        areas.append(RichMenuArea(
            bounds=RichMenuBounds(x=x, y=y, width=w, height=h),
            # displayText: the tap shows in the chat as the person's words, like a chip does.
            action=PostbackAction(label=text[:20], data=postback.encode(cmd=button.command), display_text=text),
        ))
    with use_locale(locale):
        chat_bar = _("richmenu.chat_bar")
    return RichMenuRequest(size=RichMenuSize(width=WIDTH, height=HEIGHT), selected=True, name=MENU_NAME,
                           chat_bar_text=chat_bar[:14], areas=areas)


@dataclass(frozen=True)
class Deployment:
    rich_menu_id: str
    replaced: list[str]  # ids of earlier Khabuan menus deleted
    image_bytes: int


def deploy(rich_menus: RichMenuGateway, locale: str = "th") -> Deployment:
    """Create, upload and make default the menu, then delete earlier Khabuan menus.

    The new menu becomes default before the old ones go, so people never see the bar without a
    menu; running it again just replaces the menu once more (idempotent in effect). An upload
    that fails leaves a half-made menu, which is deleted so it cannot pile up.
    """
    image = render_image()
    previous = [menu.rich_menu_id for menu in rich_menus.list() if menu.name == MENU_NAME]
    rich_menu_id = rich_menus.create(menu_request(locale))
    try:
        rich_menus.upload_image(rich_menu_id, image, "image/png")
        rich_menus.set_default(rich_menu_id)
    except Exception:
        rich_menus.delete(rich_menu_id)
        raise
    for old in previous:
        rich_menus.delete(old)
    log.info("rich menu %s deployed; replaced %d", rich_menu_id, len(previous))
    return Deployment(rich_menu_id, previous, len(image))
