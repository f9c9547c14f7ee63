"""The production rich menu: six buttons, its image drawn here, deployed with `khabuan richmenu deploy`.

Each button sends the same `cmd=<key>` postback the text menu's chips send, so the router needs
nothing new and a button and a typed command always do the same thing. The image is drawn with
Pillow from the catalogs (Thai large, English small: one channel-wide menu serves both) using
Sarabun from the `fontpkg-sarabun` package, so nothing is downloaded when it runs.
"""
from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linebot.v3.messaging import (
    PostbackAction,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
)
from PIL import Image, ImageDraw, ImageFont, features

from . import menus, postback
from .i18n import _, use_locale
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
    label_id: str  # catalog id of the label (bot/menus.py: the same words as the chip and help)
    color: tuple[int, int, int]  # the tile's accent, so buttons are told apart at a glance


# The tiles' accents, one per command of menus.RICH_MENU (labels and order come from bot/menus.py).
COLORS: dict[str, tuple[int, int, int]] = {
    "register": (6, 160, 70),
    "report": (0, 110, 190),
    "my_ballots": (200, 105, 0),
    "meetings": (130, 60, 165),
    "my_info": (18, 140, 118),
    "help": (105, 105, 105),
}

BUTTONS: tuple[Button, ...] = tuple(
    Button(command, menus.ENTRIES[command].label_id, COLORS[command]) for command in menus.RICH_MENU)


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


# ---- pictograms: what each button does, drawn here (no icon files, nothing downloaded) ----------

SUPERSAMPLE = 4  # icons are drawn 4× larger and scaled down, so their edges are smooth
WHITE = (255, 255, 255)


class _Pen:
    """Draws in a 100 × 100 box scaled to the icon's size: the pictograms below read as sketches."""

    def __init__(self, draw: ImageDraw.ImageDraw, size: int, color: tuple[int, int, int]) -> None:
        self.draw, self.k, self.color = draw, size / 100, color
        self.dark = tuple(int(c * 0.6) for c in color)

    def _xy(self, *points: float) -> list[float]:
        return [p * self.k for p in points]

    def box(self, x0: float, y0: float, x1: float, y1: float, fill: Any = WHITE, radius: float = 0,
            outline: Any = None, width: float = 0) -> None:
        self.draw.rounded_rectangle(self._xy(x0, y0, x1, y1), radius=radius * self.k, fill=fill,
                                    outline=outline, width=round(width * self.k))

    def disc(self, x0: float, y0: float, x1: float, y1: float, fill: Any = WHITE) -> None:
        self.draw.ellipse(self._xy(x0, y0, x1, y1), fill=fill)

    def shoulders(self, x0: float, y0: float, x1: float, y1: float, fill: Any = WHITE) -> None:
        """The upper half of the ellipse in the box: a person's shoulders under their head."""
        self.draw.chord(self._xy(x0, y0, x1, y1), 180, 360, fill=fill)

    def line(self, *points: float, fill: Any = WHITE, width: float = 4) -> None:
        self.draw.line(self._xy(*points), fill=fill, width=round(width * self.k), joint="curve")


def _person_plus(pen: _Pen) -> None:  # register: a person and a plus, "add me"
    pen.disc(26, 22, 50, 46)
    pen.shoulders(15, 52, 61, 100)
    pen.box(67, 26, 75, 54, radius=2)
    pen.box(57, 36, 85, 44, radius=2)


def _clipboard(pen: _Pen) -> None:  # report: a clipboard with written lines
    pen.box(28, 22, 72, 82, radius=6)
    pen.box(39, 15, 61, 29, fill=pen.dark, radius=4, outline=WHITE, width=3)
    for y, right in ((40, 64), (52, 64), (64, 55)):
        pen.box(36, y, right, y + 5, fill=pen.color, radius=2)


def _ballot_box(pen: _Pen) -> None:  # vote: a ticked ballot going into a box
    pen.box(37, 16, 63, 60, outline=pen.dark, width=2.5)
    pen.line(43, 35, 49, 42, 58, 26, fill=pen.color, width=5)
    pen.box(20, 52, 80, 84, radius=4)
    pen.box(32, 57, 68, 62, fill=pen.dark, radius=2)


def _calendar(pen: _Pen) -> None:  # meetings: a calendar page with its days
    pen.box(22, 26, 78, 80, radius=6)
    pen.box(22, 26, 78, 42, fill=pen.dark, radius=6)
    pen.box(22, 36, 78, 42, fill=pen.dark)
    for x in (34, 60):
        pen.box(x, 18, x + 7, 34, radius=3, outline=pen.dark, width=2)
    for y in (49, 64):
        for x in (30, 45, 60):
            pen.box(x, y, x + 10, y + 9, fill=pen.color, radius=2)


def _id_card(pen: _Pen) -> None:  # my info: a card with the person's picture and details
    pen.box(16, 28, 84, 74, radius=6)
    pen.disc(24, 36, 40, 52, fill=pen.color)
    pen.shoulders(20, 53, 44, 77, fill=pen.color)
    for y, right in ((40, 76), (50, 76), (60, 68)):
        pen.box(50, y, right, y + 5, fill=pen.color, radius=2)


def _question(pen: _Pen) -> None:  # help: a question mark
    font = _font("Bold", round(86 * pen.k))
    pen.draw.text((50 * pen.k, 52 * pen.k), "?", font=font, fill=WHITE, anchor="mm")


PICTOGRAMS: dict[str, Callable[[_Pen], None]] = {
    "register": _person_plus,
    "report": _clipboard,
    "my_ballots": _ballot_box,
    "meetings": _calendar,
    "my_info": _id_card,
    "help": _question,
}


def icon(button: Button, size: int) -> Image.Image:
    """The button's pictogram: white shapes on a disc of its colour, `size` pixels square (RGBA)."""
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, big - 1, big - 1), fill=button.color)
    PICTOGRAMS[button.command](_Pen(draw, big, button.color))
    return image.resize((size, size), Image.Resampling.LANCZOS)


def render_image() -> bytes:
    """The menu as a PNG of WIDTH × HEIGHT, under LINE's 1 MB limit."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for index, button in enumerate(BUTTONS):
        x, y, w, h = _cell(index)
        draw.rectangle((x, y, x + w - 1, y + h - 1), outline=GRID, width=4)
        # A pictogram of what the button does, on a disc of its colour: found by picture and
        # colour once learned, before the words are read.
        cx, cy, r = x + w // 2, y + int(h * 0.34), int(h * 0.2)
        picture = icon(button, 2 * r)
        image.paste(picture, (cx - r, cy - r), picture)
        thai, english = label(button, "th"), label(button, "en")
        big = _fit(draw, thai, "Bold", 118, w - 80)
        draw.text((cx, y + int(h * 0.7)), thai, font=big, fill=INK, anchor="mm")
        small = _fit(draw, english, "Regular", 64, w - 80)
        draw.text((cx, y + int(h * 0.86)), english, font=small, fill=MUTED, anchor="mm")
    buffer = io.BytesIO()
    # A palette PNG: a few flat colours and anti-aliased edges compress far below 1 MB.
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(buffer, format="PNG", optimize=True)
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
