"""The one carousel builder (bot/ui.py): LINE's bubble count and byte limits, checked by the emulator."""
from __future__ import annotations

from linebot.v3.messaging import FlexBox, FlexBubble, FlexText

from bot import ui
from bot.emulator import validation


def bubble(text: str = "องค์กร") -> FlexBubble:
    return FlexBubble(body=FlexBox(layout="vertical", contents=[FlexText(text=text, wrap=True)]))


def padded(n_bytes: int, mark: str = "ก") -> FlexBubble:
    """A bubble whose JSON is about n_bytes (Thai is 3 bytes a character)."""
    return bubble(mark * (n_bytes // 3))


def emulator_problems(message) -> list[str]:
    body = {"replyToken": "0" * 32, "messages": [message.to_dict()]}
    return [str(p) for p in validation.validate_body("ReplyMessageRequest", body)]


def test_budgets_are_the_emulators():
    assert (ui.BUBBLE_BYTES, ui.CAROUSEL_BYTES) == (validation.FLEX_BUBBLE_MAX_BYTES,
                                                    validation.FLEX_CAROUSEL_MAX_BYTES)
    assert ui.json_size(padded(9000)) == validation._json_size(padded(9000).to_dict())


def test_thirteen_bubbles_keep_twelve():
    bubbles = [bubble(f"องค์กรที่ {i}") for i in range(13)]
    assert emulator_problems(ui.carousel("alt", bubbles[:12])[0]) == []
    message, shown = ui.carousel("รายการ", bubbles)
    assert shown == 12
    assert [b.body.contents[0].text for b in message.contents.contents] == [f"องค์กรที่ {i}" for i in range(12)]
    assert emulator_problems(message) == []
    assert not ui.fits_carousel(bubbles) and ui.fits_carousel(bubbles[:12])


def test_a_caller_may_show_fewer():
    _message, shown = ui.carousel("alt", [bubble() for _ in range(11)], max_bubbles=10)
    assert shown == 10


def test_bubbles_over_the_carousel_bytes_are_cut():
    bubbles = [padded(9_000, mark) for mark in "กขคฆงจชซฌญ"]  # ten of ~9 KB: ~90 KB in all
    assert sum(ui.json_size(b) for b in bubbles) > validation.FLEX_CAROUSEL_MAX_BYTES
    whole = {"type": "flex", "altText": "x", "contents": {"type": "carousel", "contents": [b.to_dict() for b in bubbles]}}
    assert validation.validate_body("ReplyMessageRequest", {"replyToken": "0" * 32, "messages": [whole]})
    message, shown = ui.carousel("รายการยาว", bubbles)
    assert shown == 5  # 5 × 9 KB fits in 50 KB, a sixth does not
    assert ui.json_size(message.contents) <= ui.CAROUSEL_BYTES
    assert emulator_problems(message) == []
    # The first ones, in order: what the intro's "showing n of m" means.
    assert [b.body.contents[0].text[0] for b in message.contents.contents] == list("กขคฆง")


def test_cut_exactly_at_the_byte_limit():
    envelope = ui.json_size(ui.carousel("x", [bubble()])[0].contents) - ui.json_size(bubble())
    first = padded(25_000)
    room = ui.CAROUSEL_BYTES - envelope - ui.json_size(first) - 1  # minus the comma
    # Grow a second bubble to exactly the room left, then one byte more.
    second = bubble("a")
    second = bubble("a" * (1 + room - ui.json_size(second)))
    assert ui.json_size(second) == room
    message, shown = ui.carousel("x", [first, second])
    assert shown == 2 and ui.json_size(message.contents) == ui.CAROUSEL_BYTES
    assert emulator_problems(message) == []
    assert ui.carousel("x", [first, bubble("a" * (2 + room - ui.json_size(bubble("a"))))])[1] == 1


def test_a_bubble_over_its_own_limit_stops_the_carousel():
    big = padded(31 * 1024)
    assert ui.json_size(big) > ui.BUBBLE_BYTES
    message, shown = ui.carousel("x", [bubble("หนึ่ง"), big, bubble("สาม")])
    assert shown == 1 and emulator_problems(message) == []


def test_alt_text_is_clipped():
    message, _shown = ui.carousel("ก" * 2000, [bubble()])
    assert len(message.alt_text) <= ui.ALT_TEXT and emulator_problems(message) == []


def test_a_first_bubble_over_the_limit_is_a_builder_bug():
    import pytest

    with pytest.raises(ValueError):
        ui.carousel("x", [padded(31 * 1024)])


def test_sizes_measured_once_give_the_same_answers():
    """Callers that measured their bubbles (ui.bubble_sizes) pass the sizes: same cut, same verdict."""
    bubbles = [bubble("ก" * 2000) for _ in range(12)]  # together over the 50 KB carousel budget
    sizes = ui.bubble_sizes(bubbles)
    assert sizes == [ui.json_size(b) for b in bubbles]
    for n in (1, 5, 12):
        assert ui.fits_carousel(bubbles[:n], sizes[:n]) == ui.fits_carousel(bubbles[:n])
    message, shown = ui.carousel("alt", bubbles, sizes=sizes)
    assert (message.to_dict(), shown) == tuple((m.to_dict(), s) for m, s in [ui.carousel("alt", bubbles)])[0]
    assert shown < 12 and ui.json_size(message.contents) <= ui.CAROUSEL_BYTES
