"""A local LINE Messaging API platform (the test double for LINE) and webhook builders.

Tests and the browser simulator run the real line-bot-sdk client against
:class:`LineEmulator`; :mod:`bot.emulator.events` builds the signed webhook bodies LINE
would POST to the bot.
"""

from bot.emulator.events import (
    callback_body,
    encode_body,
    follow_event,
    image_event,
    join_event,
    leave_event,
    location_event,
    member_joined_event,
    member_left_event,
    postback_event,
    redeliver,
    sign,
    source,
    sticker_event,
    text_event,
    unfollow_event,
)
from bot.emulator.server import Delivery, LineEmulator, RecordedRequest

__all__ = [
    "Delivery",
    "LineEmulator",
    "RecordedRequest",
    "callback_body",
    "encode_body",
    "follow_event",
    "image_event",
    "join_event",
    "leave_event",
    "location_event",
    "member_joined_event",
    "member_left_event",
    "postback_event",
    "redeliver",
    "sign",
    "source",
    "sticker_event",
    "text_event",
    "unfollow_event",
]
