"""Message builders: every message the bot sends is shaped here, within LINE's limits.

Handlers describe *what* to say; these functions make sure it is something LINE
accepts (label lengths, item counts, text size) so a long Thai name can never
turn a reply into a 400.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any
from dataclasses import dataclass

from linebot.v3.messaging import (
    CameraAction,
    CameraRollAction,
    DatetimePickerAction,
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexCarousel,
    FlexMessage,
    FlexSeparator,
    FlexText,
    LocationAction,
    Message,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    TextMessage,
)

from .thai import truncate

MAX_QUICK_REPLIES = 13
QUICK_LABEL = 20
BUTTON_LABEL = 40
DISPLAY_TEXT = 300
TEXT_LIMIT = 5000
ALT_TEXT = 1500
# LINE's Flex limits: a carousel holds 1–12 bubbles, a bubble's JSON is at most 30 KB and the
# carousel's at most 50 KB, measured as compact UTF-8 JSON (as bot/emulator/validation.py does).
CAROUSEL_BUBBLES = 12
BUBBLE_BYTES = 30 * 1024
CAROUSEL_BYTES = 50 * 1024

# LINE's "ok" green and a muted grey that reads on cheap screens.
BRAND = "#06C755"
MUTED = "#888888"


@dataclass(frozen=True)
class Chip:
    """One quick-reply item, built lazily so every label is clipped in one place."""

    label: str
    data: str | None = None  # postback data, from bot.postback.encode
    display: str | None = None  # what appears in the chat as the person's own words
    kind: str = "postback"  # postback | date | datetime | time | location | camera | cameraRoll
    initial: str | None = None
    min: str | None = None
    max: str | None = None

    def item(self) -> QuickReplyItem:
        label = truncate(self.label, QUICK_LABEL)
        if self.kind == "postback":
            display = truncate(self.display if self.display is not None else self.label, DISPLAY_TEXT)
            action = PostbackAction(label=label, data=self.data, display_text=display)
        elif self.kind in ("date", "datetime", "time"):
            action = DatetimePickerAction(
                label=label, data=self.data, mode=self.kind, initial=self.initial, min=self.min, max=self.max
            )
        elif self.kind == "location":
            action = LocationAction(label=label)
        elif self.kind == "camera":
            action = CameraAction(label=label)
        elif self.kind == "cameraRoll":
            action = CameraRollAction(label=label)
        else:  # pragma: no cover - programming error
            raise ValueError(self.kind)
        return QuickReplyItem(action=action)


def quick_reply(chips: Sequence[Chip]) -> QuickReply | None:
    if not chips:
        return None
    if len(chips) > MAX_QUICK_REPLIES:
        raise ValueError(f"{len(chips)} quick replies; LINE allows {MAX_QUICK_REPLIES}")
    return QuickReply(items=[c.item() for c in chips])


def text(body: str, chips: Sequence[Chip] = ()) -> TextMessage:
    return TextMessage(text=truncate(body, TEXT_LIMIT), quick_reply=quick_reply(chips))


def with_chips(message: Message, chips: Sequence[Chip]) -> Message:
    """Attach quick replies to a message (they show under the last message only)."""
    message.quick_reply = quick_reply(chips)
    return message


def has_actions(message: Message) -> bool:
    """Does the message offer something to tap (quick replies, a template's or a card's buttons)?"""
    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            return isinstance(node.get("action"), dict) or bool(node.get("actions")) \
                or any(walk(v) for v in node.values())
        if isinstance(node, list):
            return any(walk(v) for v in node)
        return False
    return walk(message.to_dict())


def attach_chips(messages: list[Message], chips: Sequence[Chip]) -> list[Message]:
    if messages and chips:
        with_chips(messages[-1], chips)
    return messages


# ---- Flex cards -----------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    edit_data: str | None = None  # postback to change this field


def button(label: str, data: str, *, display: str | None = None, style: str = "secondary") -> FlexButton:
    return FlexButton(
        action=PostbackAction(
            label=truncate(label, BUTTON_LABEL),
            data=data,
            display_text=truncate(display if display is not None else label, DISPLAY_TEXT),
        ),
        style=style,
        height="sm",
        color=BRAND if style == "primary" else None,
    )


def card(
    title: str,
    rows: Iterable[Row] = (),
    *,
    note: str | None = None,
    buttons: Sequence[FlexButton] = (),
    edit_label: str | None = None,
    alt_text: str | None = None,
) -> FlexMessage:
    """A bubble: title, label/value rows (each optionally with an edit link), buttons."""
    body: list = [FlexText(text=truncate(title, 200), weight="bold", size="lg", wrap=True)]
    alt_lines = [title]
    rows = list(rows)
    if rows:
        body.append(FlexSeparator(margin="md"))
    for row in rows:
        value = row.value or "–"
        alt_lines.append(f"{row.label}: {value}")
        line: list = [
            FlexText(text=truncate(row.label, 60), size="sm", color=MUTED, flex=3, wrap=True),
            FlexText(text=truncate(value, 400), size="sm", flex=5, wrap=True),
        ]
        if row.edit_data and edit_label:
            line.append(
                FlexText(
                    text=truncate(edit_label, 20),
                    size="sm",
                    color=BRAND,
                    flex=2,
                    align="end",
                    action=PostbackAction(label=truncate(edit_label, BUTTON_LABEL), data=row.edit_data,
                                          display_text=truncate(f"{edit_label} {row.label}", DISPLAY_TEXT)),
                )
            )
        body.append(FlexBox(layout="horizontal", spacing="sm", margin="md", contents=line))
    if note:
        body.append(FlexText(text=truncate(note, 1000), size="xs", color=MUTED, wrap=True, margin="lg"))
        alt_lines.append(note)
    footer = FlexBox(layout="vertical", spacing="sm", contents=list(buttons)) if buttons else None
    bubble = FlexBubble(body=FlexBox(layout="vertical", spacing="sm", contents=body), footer=footer)
    return FlexMessage(alt_text=truncate(alt_text or "\n".join(alt_lines), ALT_TEXT), contents=bubble)


# ---- carousels ------------------------------------------------------------------


def json_size(node: Any) -> int:
    """Bytes of the compact UTF-8 JSON LINE measures a Flex container (or bubble) by."""
    data = node.to_dict() if hasattr(node, "to_dict") else node
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _envelope_size() -> int:
    """Bytes of an empty carousel, {"type":"carousel","contents":[]}: each bubble adds its own size
    and a comma, so a carousel is measured from its bubbles' sizes without serializing it again."""
    return json_size(FlexCarousel(contents=[]))


def bubble_sizes(bubbles: Sequence[FlexBubble]) -> list[int]:
    """Each bubble's JSON size, measured once (serializing a Flex tree is the costly part of building
    a big carousel: pass these to fits_carousel and carousel rather than measuring again)."""
    return [json_size(b) for b in bubbles]


def fits_carousel(bubbles: Sequence[FlexBubble], sizes: Sequence[int] | None = None) -> bool:
    """Whether all these bubbles make one carousel LINE accepts (count and bytes)."""
    if not 1 <= len(bubbles) <= CAROUSEL_BUBBLES:
        return False
    sizes = bubble_sizes(bubbles) if sizes is None else sizes
    return (all(size <= BUBBLE_BYTES for size in sizes)
            and _envelope_size() + sum(sizes) + len(sizes) - 1 <= CAROUSEL_BYTES)


def carousel(alt_text: str, bubbles: Sequence[FlexBubble], *,
             max_bubbles: int = CAROUSEL_BUBBLES, sizes: Sequence[int] | None = None) -> tuple[FlexMessage, int]:
    """The one carousel builder: the first bubbles, in order, that fit LINE's count and byte limits.

    Returns the message and how many bubbles it holds, so the caller can say "showing n of m".
    Cutting stops at the first bubble that does not fit (a later, smaller one is not slipped in:
    the shown ones stay the first n). A first bubble that alone breaks the limits is a builder bug
    (texts are truncated where bubbles are made), so it raises rather than send what LINE refuses.
    `sizes`, when given, are the bubbles' JSON sizes (bubble_sizes) already measured by the caller.
    """
    kept = _fitting(bubbles, max_bubbles, sizes)
    message = FlexMessage(alt_text=truncate(alt_text, ALT_TEXT), contents=FlexCarousel(contents=kept))
    return message, len(kept)


def _fitting(bubbles: Sequence[Any], max_bubbles: int, sizes: Sequence[int] | None) -> list[Any]:
    limit = min(max_bubbles, CAROUSEL_BUBBLES)
    kept: list[Any] = []
    total = _envelope_size()
    for i, bubble in enumerate(bubbles[:limit]):
        size = json_size(bubble) if sizes is None else sizes[i]
        added = size + (1 if kept else 0)  # the comma between bubbles
        if size > BUBBLE_BYTES or total + added > CAROUSEL_BYTES:
            break
        kept.append(bubble)
        total += added
    if not kept:
        raise ValueError("the first bubble alone is over LINE's Flex size limits")
    return kept


class Prebuilt:
    """A Flex container already written as LINE's JSON (plain dicts), carried by a FlexMessage.

    For big generated tables (the group digest: ~600 components) building the SDK's pydantic models
    and serializing them again cost most of the rendering; the dicts are the same JSON. The message's
    `to_dict()` returns this JSON as is: treat it as read-only.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @property
    def contents(self) -> Any:
        return self.data.get("contents")

    def to_dict(self) -> dict[str, Any]:
        return self.data


def carousel_of_dicts(alt_text: str, bubbles: Sequence[dict[str, Any]], *, sizes: Sequence[int] | None = None,
                      max_bubbles: int = CAROUSEL_BUBBLES) -> tuple[FlexMessage, int]:
    """`carousel` for bubbles written as LINE's JSON (Prebuilt): the same cutting, no model built."""
    kept = _fitting(bubbles, max_bubbles, sizes)
    message = FlexMessage.construct(type="flex", alt_text=truncate(alt_text, ALT_TEXT),
                                    contents=Prebuilt({"type": "carousel", "contents": kept}))
    return message, len(kept)
