"""Webhook request bodies shaped exactly like the ones the LINE Platform POSTs to a bot.

The builders are pure: they hold no emulator state. A test gets a reply token from
:meth:`bot.emulator.LineEmulator.issue_reply_token` for the chat the event comes from,
builds events here, wraps them with :func:`callback_body`, encodes with
:func:`encode_body` and signs the exact bytes with :func:`sign`, as LINE does with the
channel secret. The shapes follow ``spec/webhook.yml`` (the ``CallbackRequest`` schema).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

Event = dict[str, Any]

DEFAULT_DESTINATION = "U" + "0" * 32
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_webhook_event_id(now_ms: int | None = None) -> str:
    """A 26-character ULID like LINE's ``webhookEventId``: 48-bit ms time + 80 random bits."""
    value = ((now_ms if now_ms is not None else _now_ms()) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def new_message_id() -> str:
    """A numeric message ID of the 18-digit kind LINE uses today."""
    return str(10**17 + secrets.randbelow(9 * 10**17))


def new_quote_token() -> str:
    """An opaque quote token; LINE's are long URL-safe strings."""
    return secrets.token_urlsafe(96)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def source(
    user_id: str | None = None, group_id: str | None = None, room_id: str | None = None
) -> dict[str, str]:
    """The ``source`` object: a group or room when given, else the one-on-one user."""
    if group_id is not None:
        return {"type": "group", "groupId": group_id, **({"userId": user_id} if user_id else {})}
    if room_id is not None:
        return {"type": "room", "roomId": room_id, **({"userId": user_id} if user_id else {})}
    if user_id is None:
        raise ValueError("a source needs a user_id, group_id or room_id")
    return {"type": "user", "userId": user_id}


def _event(kind: str, event_source: Mapping[str, str], reply_token: str | None, **fields: Any) -> Event:
    """Fields every webhook event carries, plus the event-specific ones."""
    now = _now_ms()
    event: Event = {
        "type": kind,
        "mode": "active",
        "timestamp": now,
        "source": dict(event_source),
        "webhookEventId": new_webhook_event_id(now),
        "deliveryContext": {"isRedelivery": False},
    }
    if reply_token is not None:
        event["replyToken"] = reply_token
    event.update(fields)
    return event


def _message_event(
    message: dict[str, Any],
    user_id: str,
    reply_token: str,
    group_id: str | None,
    room_id: str | None,
    message_id: str | None,
) -> Event:
    content = {"id": message_id or new_message_id(), **message}
    return _event("message", source(user_id, group_id, room_id), reply_token, message=content)


def text_event(
    user_id: str,
    text: str,
    reply_token: str,
    group_id: str | None = None,
    room_id: str | None = None,
    *,
    message_id: str | None = None,
) -> Event:
    """A text message event."""
    message = {"type": "text", "text": text, "quoteToken": new_quote_token()}
    return _message_event(message, user_id, reply_token, group_id, room_id, message_id)


def image_event(
    user_id: str,
    message_id: str,
    reply_token: str,
    group_id: str | None = None,
    room_id: str | None = None,
) -> Event:
    """An image sent from the LINE app; its bytes are served by ``emu.add_content``."""
    message = {"type": "image", "contentProvider": {"type": "line"}, "quoteToken": new_quote_token()}
    return _message_event(message, user_id, reply_token, group_id, room_id, message_id)


def sticker_event(
    user_id: str,
    package_id: str,
    sticker_id: str,
    reply_token: str,
    group_id: str | None = None,
    room_id: str | None = None,
    *,
    resource_type: str = "STATIC",
    keywords: Iterable[str] = (),
) -> Event:
    """A sticker message event."""
    message: dict[str, Any] = {
        "type": "sticker",
        "packageId": package_id,
        "stickerId": sticker_id,
        "stickerResourceType": resource_type,
        "quoteToken": new_quote_token(),
    }
    if keywords:
        message["keywords"] = list(keywords)
    return _message_event(message, user_id, reply_token, group_id, room_id, None)


def location_event(
    user_id: str,
    lat: float,
    lng: float,
    address: str,
    title: str | None = None,
    *,
    reply_token: str,
    group_id: str | None = None,
    room_id: str | None = None,
) -> Event:
    """A location shared from the LINE app (``title`` is absent for a dropped pin)."""
    message: dict[str, Any] = {"type": "location", "latitude": lat, "longitude": lng, "address": address}
    if title is not None:
        message["title"] = title
    return _message_event(message, user_id, reply_token, group_id, room_id, None)


def postback_event(
    user_id: str,
    data: str,
    reply_token: str,
    params: Mapping[str, str] | None = None,
    group_id: str | None = None,
    room_id: str | None = None,
) -> Event:
    """A postback event (a button tap).

    ``params`` carries a datetime picker's ``date``/``time``/``datetime`` or a rich menu
    switch's ``newRichMenuAliasId``/``status``.
    """
    postback: dict[str, Any] = {"data": data}
    if params is not None:
        postback["params"] = dict(params)
    return _event("postback", source(user_id, group_id, room_id), reply_token, postback=postback)


def follow_event(user_id: str, reply_token: str, *, is_unblocked: bool = False) -> Event:
    """The user added the bot as a friend (or unblocked it)."""
    return _event("follow", source(user_id), reply_token, follow={"isUnblocked": is_unblocked})


def unfollow_event(user_id: str) -> Event:
    """The user blocked the bot. There is nothing to reply to, so no reply token."""
    return _event("unfollow", source(user_id), None)


def join_event(group_id: str, reply_token: str) -> Event:
    """The bot was added to a group; the source names only the group."""
    return _event("join", source(group_id=group_id), reply_token)


def leave_event(group_id: str) -> Event:
    """The bot was removed from a group; no reply token."""
    return _event("leave", source(group_id=group_id), None)


def member_joined_event(group_id: str, user_ids: Iterable[str], reply_token: str) -> Event:
    """Users joined a group the bot is in."""
    members = [source(user_id) for user_id in user_ids]
    return _event("memberJoined", source(group_id=group_id), reply_token, joined={"members": members})


def member_left_event(group_id: str, user_ids: Iterable[str]) -> Event:
    """Users left a group the bot is in; no reply token."""
    members = [source(user_id) for user_id in user_ids]
    return _event("memberLeft", source(group_id=group_id), None, left={"members": members})


def redeliver(event: Mapping[str, Any]) -> Event:
    """The same event as LINE redelivers it: same ``webhookEventId``, ``isRedelivery`` true."""
    copied = copy.deepcopy(dict(event))
    copied["deliveryContext"] = {"isRedelivery": True}
    return copied


def callback_body(
    events: Iterable[Mapping[str, Any]], destination: str = DEFAULT_DESTINATION
) -> dict[str, Any]:
    """The webhook request body: the bot's user ID and the events."""
    return {"destination": destination, "events": [dict(event) for event in events]}


def encode_body(body: Mapping[str, Any]) -> bytes:
    """Serialise a body as LINE does (compact UTF-8 JSON); sign exactly these bytes."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(body: bytes, channel_secret: str) -> str:
    """The ``X-Line-Signature`` header value: base64 of HMAC-SHA256 keyed by the secret."""
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
