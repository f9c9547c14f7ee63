"""The LINE emulator, exercised through the real line-bot-sdk v3 client over HTTP.

Bodies the SDK's own models would refuse to build (a text message without text, ...) are
sent as plain dicts through the SDK's transport (``ApiClient.call_api``), so every request
still travels the same path a bot's requests do.
"""

from __future__ import annotations

import json
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3
import yaml
from linebot.v3 import WebhookParser
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexMessage,
    FlexText,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
    ShowLoadingAnimationRequest,
    TextMessage,
    ValidateMessageRequest,
)
from linebot.v3.messaging.exceptions import NotFoundException, ServiceException, UnauthorizedException

from bot.emulator import (
    LineEmulator,
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
    sticker_event,
    text_event,
    unfollow_event,
)
from bot.emulator.server import ROUTES
from bot.emulator.validation import SPEC_DIR, messaging_schemas, validate_body, webhook_schemas

TOKEN = "test-access-token"
USER = "U" + "1" * 32
USER2 = "U" + "2" * 32
GROUP = "C" + "a" * 32
SECRET = "channel-secret"


# ---- fixtures and helpers --------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[LineEmulator]:
    emulator = LineEmulator(access_token=TOKEN).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def emu(server: LineEmulator) -> Iterator[LineEmulator]:
    server.reset()
    yield server
    server.strict = True
    server.quota_limit = 500
    server.auto_profiles = True
    server.reply_token_ttl = 60.0
    server.delay = 0.0


@pytest.fixture
def client(emu: LineEmulator) -> Iterator[ApiClient]:
    with ApiClient(Configuration(host=emu.base_url, access_token=TOKEN)) as api_client:
        yield api_client


@pytest.fixture
def api(client: ApiClient) -> MessagingApi:
    return MessagingApi(client)


@pytest.fixture
def blob(client: ApiClient) -> MessagingApiBlob:
    return MessagingApiBlob(client)


def call(
    client: ApiClient, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> Any:
    """Send ``body`` as-is through the SDK's transport; raises ApiException like the SDK."""
    header_params = {"Content-Type": "application/json", **(headers or {})}
    return client.call_api(
        path,
        method,
        header_params=header_params,
        body=body,
        response_types_map={},
        auth_settings=["Bearer"],
        _return_http_data_only=False,
    )


def push_body(*messages: dict[str, Any], to: str = USER) -> dict[str, Any]:
    return {"to": to, "messages": list(messages)}


def text(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **extra}


def rejection(
    client: ApiClient, path: str, body: Any, status: int = 400, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """POST ``body``, expect LINE's rejection, and return the parsed error body."""
    with pytest.raises(ApiException) as raised:
        call(client, "POST", path, body, headers)
    assert raised.value.status == status
    return json.loads(raised.value.body)


def rejected_properties(
    client: ApiClient, body: dict[str, Any], path: str = "/v2/bot/message/push"
) -> list[str]:
    error = rejection(client, path, body)
    assert error["message"].startswith("The request body has")
    return [detail["property"] for detail in error["details"]]


def png(width: int, height: int) -> bytes:
    """A real (all-black, greyscale) PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"".join(b"\x00" + bytes(width) for _ in range(height)))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def jpeg_header(width: int, height: int) -> bytes:
    """The first segments of a baseline JPEG: enough for size checks."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


# ---- accepted traffic ------------------------------------------------------------------


def test_push_reply_and_multicast_are_delivered_and_parsed_by_the_sdk(
    emu: LineEmulator, api: MessagingApi
) -> None:
    pushed = api.push_message_with_http_info(PushMessageRequest(to=USER, messages=[TextMessage(text="สวัสดี")]))
    token = emu.issue_reply_token(USER)
    replied = api.reply_message(
        ReplyMessageRequest(replyToken=token, messages=[TextMessage(text="a"), TextMessage(text="b")])
    )
    api.multicast(MulticastRequest(to=[USER, USER2], messages=[TextMessage(text="all")]))

    assert pushed.status_code == 200 and pushed.headers["x-line-request-id"]
    assert pushed.data.sent_messages[0].id.isdigit() and pushed.data.sent_messages[0].quote_token
    assert len(replied.sent_messages) == 2
    assert emu.messages_for(USER) == [
        {"type": "text", "text": "สวัสดี", "_via": "push"},
        {"type": "text", "text": "a", "_via": "reply"},
        {"type": "text", "text": "b", "_via": "reply"},
        {"type": "text", "text": "all", "_via": "multicast"},
    ]
    assert emu.messages_for(USER2) == [{"type": "text", "text": "all", "_via": "multicast"}]
    assert emu.consumption == 3  # push 1, reply free, multicast 1 per recipient
    assert emu.violations == []


def test_requests_are_recorded_with_what_the_sdk_sent(emu: LineEmulator, api: MessagingApi) -> None:
    key = str(uuid.uuid4())
    api.push_message(PushMessageRequest(to=USER, messages=[TextMessage(text="hi")]), x_line_retry_key=key)

    (recorded,) = emu.requests
    assert (recorded.method, recorded.path, recorded.status) == ("POST", "/v2/bot/message/push", 200)
    assert recorded.json == {
        "to": USER,
        "messages": [{"type": "text", "text": "hi"}],
        "notificationDisabled": False,
    }
    assert json.loads(recorded.raw) == recorded.json
    assert recorded.headers["Authorization"] == f"Bearer {TOKEN}"
    assert recorded.headers["User-Agent"].startswith("line-bot-sdk-python/")
    assert recorded.retry_key == key and recorded.errors == [] and not recorded.violation
    assert recorded.response["sentMessages"][0]["id"]


def test_flex_with_quick_reply_through_sdk_models_is_accepted(emu: LineEmulator, api: MessagingApi) -> None:
    bubble = FlexBubble(
        body=FlexBox(
            layout="vertical",
            contents=[
                FlexText(text="เมนู"),
                FlexButton(action=PostbackAction(label="สั่ง", data="order=1", displayText="สั่ง")),
            ],
        )
    )
    quick = QuickReply(items=[QuickReplyItem(action=PostbackAction(label="ใช่", data="yes"))])
    api.push_message(
        PushMessageRequest(to=USER, messages=[FlexMessage(altText="เมนู", contents=bubble, quickReply=quick)])
    )

    (message,) = emu.messages_for(USER)
    assert message["contents"]["body"]["contents"][1]["action"]["data"] == "order=1"
    assert message["quickReply"]["items"][0]["type"] == "action"


def test_validate_endpoints_answer_200_or_400(
    emu: LineEmulator, api: MessagingApi, client: ApiClient
) -> None:
    assert api.validate_push(ValidateMessageRequest(messages=[TextMessage(text="ok")])) is None
    error = rejection(client, "/v2/bot/message/validate/reply", {"messages": [{"type": "text"}]})
    assert error["details"] == [{"message": "must be specified", "property": "messages[0].text"}]
    assert emu.delivered == []


# ---- schema validation (discriminators resolved) ----------------------------------------


BUBBLE_BOX = {"type": "box", "layout": "vertical", "contents": []}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        pytest.param({"type": "text"}, "messages[0].text", id="text-without-text"),
        pytest.param({"type": "txt", "text": "x"}, "messages[0].type", id="unknown-message-type"),
        pytest.param(
            {
                "type": "flex",
                "altText": "x",
                "contents": {"type": "bubble", "body": {**BUBBLE_BOX, "contents": [{"type": "widget"}]}},
            },
            "messages[0].contents.body.contents[0].type",
            id="flex-unknown-component",
        ),
        pytest.param(
            {
                "type": "flex",
                "altText": "x",
                "contents": {"type": "bubble", "body": {**BUBBLE_BOX, "layout": "diagonal"}},
            },
            "messages[0].contents.body.layout",
            id="flex-bad-layout",
        ),
        pytest.param(
            {
                "type": "flex",
                "altText": "x",
                "contents": {"type": "bubble", "body": {**BUBBLE_BOX, "contents": [{"type": "button"}]}},
            },
            "messages[0].contents.body.contents[0].action",
            id="flex-button-without-action",
        ),
        pytest.param(
            {
                "type": "template",
                "altText": "x",
                "template": {"type": "buttons", "text": "t", "actions": [{"type": "postback", "label": "a"}]},
            },
            "messages[0].template.actions[0].data",
            id="postback-without-data",
        ),
        pytest.param(
            {
                "type": "template",
                "altText": "x",
                "template": {"type": "buttons", "text": "t", "actions": [{"type": "teleport", "label": "a"}]},
            },
            "messages[0].template.actions[0].type",
            id="unknown-action-type",
        ),
        pytest.param(
            {"type": "sticker", "packageId": "1"}, "messages[0].stickerId", id="sticker-without-sticker-id"
        ),
        pytest.param(
            text("x", sender={"name": "n" * 21}), "messages[0].sender.name", id="sender-name-over-20"
        ),
    ],
)
def test_bodies_the_spec_forbids_are_rejected(
    emu: LineEmulator, client: ApiClient, message: dict[str, Any], expected: str
) -> None:
    assert expected in rejected_properties(client, push_body(message))
    (violation,) = emu.violations
    assert violation.status == 400 and any(error.startswith(expected) for error in violation.errors)
    assert emu.delivered == []


@pytest.mark.parametrize("count", [0, 6])
def test_message_count_must_be_1_to_5(client: ApiClient, count: int) -> None:
    assert rejected_properties(client, push_body(*[text("x")] * count)) == ["messages"]


def test_body_must_be_a_json_object(client: ApiClient) -> None:
    assert rejected_properties(client, "a JSON string") == [""]


def test_body_must_be_declared_json(client: ApiClient) -> None:
    error = rejection(client, "/v2/bot/message/push", '{"to": "x"}', 415, {"Content-Type": "text/plain"})
    assert error == {"message": "Content-Type must be application/json"}


def test_malformed_json_is_rejected(emu: LineEmulator) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    response = urllib3.request(
        "POST", f"{emu.base_url}/v2/bot/message/push", body=b'{"to": ', headers=headers
    )
    assert response.status == 400 and "JSON" in response.json()["message"]
    assert emu.violations[0].json is None and emu.violations[0].raw == b'{"to": '


# ---- LINE's prose-only limits ------------------------------------------------------------


def flex(container: dict[str, Any], alt: str = "alt") -> dict[str, Any]:
    return {"type": "flex", "altText": alt, "contents": container}


def bubble(*contents: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": list(contents)}}


def button(action: dict[str, Any]) -> dict[str, Any]:
    return {"type": "button", "action": action}


def postback(label: str = "ok", data: str = "d", **extra: Any) -> dict[str, Any]:
    return {"type": "postback", "label": label, "data": data, **extra}


def buttons(actions: list[dict[str, Any]], text_value: str = "pick", **extra: Any) -> dict[str, Any]:
    return {
        "type": "template",
        "altText": "alt",
        "template": {"type": "buttons", "text": text_value, "actions": actions, **extra},
    }


def confirm(actions: list[dict[str, Any]], text_value: str = "sure?") -> dict[str, Any]:
    return {
        "type": "template",
        "altText": "alt",
        "template": {"type": "confirm", "text": text_value, "actions": actions},
    }


def carousel_template(columns: int) -> dict[str, Any]:
    column = {"text": "c", "actions": [postback()]}
    return {
        "type": "template",
        "altText": "alt",
        "template": {"type": "carousel", "columns": [column] * columns},
    }


def quick(*actions: dict[str, Any]) -> dict[str, Any]:
    return text("q", quickReply={"items": [{"type": "action", "action": action} for action in actions]})


def picker(mode: str, **extra: Any) -> dict[str, Any]:
    return {"type": "datetimepicker", "label": "when", "data": "d", "mode": mode, **extra}


def big_text(size: int) -> dict[str, Any]:
    return {"type": "text", "text": "x" * size}


LIMITS = [
    # (id, message within the limit, message over it, property LINE names)
    ("text-5000-utf16", text("ก" * 5000), text("ก" * 5001), "messages[0].text"),
    ("text-counts-emoji-as-2", text("😀" * 2500), text("😀" * 2501), "messages[0].text"),
    ("text-not-empty", text("x"), text(""), "messages[0].text"),
    (
        "textV2-5000",
        {"type": "textV2", "text": "x" * 5000},
        {"type": "textV2", "text": "x" * 5001},
        "messages[0].text",
    ),
    ("flex-altText-1500", flex(bubble(), "a" * 1500), flex(bubble(), "a" * 1501), "messages[0].altText"),
    ("flex-altText-not-empty", flex(bubble(), "a"), flex(bubble(), ""), "messages[0].altText"),
    (
        "template-altText-1500",
        {**buttons([postback()]), "altText": "a" * 1500},
        {**buttons([postback()]), "altText": "a" * 1501},
        "messages[0].altText",
    ),
    (
        "quick-reply-13-items",
        quick(*[postback()] * 13),
        quick(*[postback()] * 14),
        "messages[0].quickReply.items",
    ),
    (
        "quick-reply-label-20",
        quick(postback("l" * 20)),
        quick(postback("l" * 21)),
        "messages[0].quickReply.items[0].action.label",
    ),
    (
        "quick-reply-label-required",
        quick(postback("l")),
        quick({"type": "postback", "data": "d"}),
        "messages[0].quickReply.items[0].action.label",
    ),
    (
        "quick-reply-camera-label",
        quick({"type": "camera", "label": "cam"}),
        quick({"type": "camera"}),
        "messages[0].quickReply.items[0].action.label",
    ),
    (
        "quick-reply-location-label-20",
        quick({"type": "location", "label": "l" * 20}),
        quick({"type": "location", "label": "l" * 21}),
        "messages[0].quickReply.items[0].action.label",
    ),
    (
        "buttons-4-actions",
        buttons([postback()] * 4),
        buttons([postback()] * 5),
        "messages[0].template.actions",
    ),
    (
        "buttons-label-20",
        buttons([postback("l" * 20)]),
        buttons([postback("l" * 21)]),
        "messages[0].template.actions[0].label",
    ),
    (
        "buttons-title-40",
        buttons([postback()], title="t" * 40),
        buttons([postback()], title="t" * 41),
        "messages[0].template.title",
    ),
    (
        "buttons-text-160",
        buttons([postback()], "x" * 160),
        buttons([postback()], "x" * 161),
        "messages[0].template.text",
    ),
    (
        "buttons-text-60-with-title",
        buttons([postback()], "x" * 60, title="t"),
        buttons([postback()], "x" * 61, title="t"),
        "messages[0].template.text",
    ),
    (
        "buttons-text-60-with-image",
        buttons([postback()], "x" * 60, thumbnailImageUrl="https://e.x/a.jpg"),
        buttons([postback()], "x" * 61, thumbnailImageUrl="https://e.x/a.jpg"),
        "messages[0].template.text",
    ),
    (
        "confirm-2-actions",
        confirm([postback(), postback()]),
        confirm([postback()] * 3),
        "messages[0].template.actions",
    ),
    (
        "confirm-text-240",
        confirm([postback(), postback()], "x" * 240),
        confirm([postback(), postback()], "x" * 241),
        "messages[0].template.text",
    ),
    (
        "confirm-label-20",
        confirm([postback("l" * 20), postback()]),
        confirm([postback("l" * 21), postback()]),
        "messages[0].template.actions[0].label",
    ),
    ("carousel-10-columns", carousel_template(10), carousel_template(11), "messages[0].template.columns"),
    (
        "flex-button-label-40",
        flex(bubble(button(postback("l" * 40)))),
        flex(bubble(button(postback("l" * 41)))),
        "messages[0].contents.body.contents[0].action.label",
    ),
    (
        "flex-bubble-30kb",
        flex(bubble(big_text(30 * 1024 - 200))),
        flex(bubble(big_text(30 * 1024))),
        "messages[0].contents",
    ),
    (
        "flex-carousel-12-bubbles",
        flex({"type": "carousel", "contents": [bubble()] * 12}),
        flex({"type": "carousel", "contents": [bubble()] * 13}),
        "messages[0].contents.contents",
    ),
    (
        "flex-carousel-50kb",
        flex({"type": "carousel", "contents": [bubble(big_text(12_000))] * 4}),
        flex({"type": "carousel", "contents": [bubble(big_text(13_000))] * 4}),
        "messages[0].contents",
    ),
    (
        "postback-data-300",
        buttons([postback(data="d" * 300)]),
        buttons([postback(data="d" * 301)]),
        "messages[0].template.actions[0].data",
    ),
    (
        "postback-data-not-empty",
        buttons([postback(data="d")]),
        buttons([postback(data="")]),
        "messages[0].template.actions[0].data",
    ),
    (
        "postback-displayText-300",
        buttons([postback(displayText="t" * 300)]),
        buttons([postback(displayText="t" * 301)]),
        "messages[0].template.actions[0].displayText",
    ),
    (
        "message-action-text-300",
        buttons([{"type": "message", "label": "m", "text": "t" * 300}]),
        buttons([{"type": "message", "label": "m", "text": "t" * 301}]),
        "messages[0].template.actions[0].text",
    ),
    (
        "message-action-text-required",
        buttons([{"type": "message", "label": "m", "text": "t"}]),
        buttons([{"type": "message", "label": "m"}]),
        "messages[0].template.actions[0].text",
    ),
    (
        "uri-1000",
        buttons([{"type": "uri", "label": "u", "uri": "https://e.x/" + "a" * 988}]),
        buttons([{"type": "uri", "label": "u", "uri": "https://e.x/" + "a" * 989}]),
        "messages[0].template.actions[0].uri",
    ),
    (
        "uri-scheme",
        buttons([{"type": "uri", "label": "u", "uri": "tel:+6621234567"}]),
        buttons([{"type": "uri", "label": "u", "uri": "javascript:alert(1)"}]),
        "messages[0].template.actions[0].uri",
    ),
    (
        "picker-mode-required",
        buttons([picker("date")]),
        buttons([{"type": "datetimepicker", "label": "w", "data": "d"}]),
        "messages[0].template.actions[0].mode",
    ),
    (
        "picker-date-format",
        buttons([picker("date", initial="2025-01-31")]),
        buttons([picker("date", initial="2025-01-31T10:00")]),
        "messages[0].template.actions[0].initial",
    ),
    (
        "picker-time-format",
        buttons([picker("time", max="23:59")]),
        buttons([picker("time", max="24:00")]),
        "messages[0].template.actions[0].max",
    ),
    (
        "picker-datetime-format",
        buttons([picker("datetime", min="2025-01-31T10:00")]),
        buttons([picker("datetime", min="2025-01-31")]),
        "messages[0].template.actions[0].min",
    ),
    (
        "image-https",
        {"type": "image", "originalContentUrl": "https://e.x/a.jpg", "previewImageUrl": "https://e.x/p.jpg"},
        {"type": "image", "originalContentUrl": "http://e.x/a.jpg", "previewImageUrl": "https://e.x/p.jpg"},
        "messages[0].originalContentUrl",
    ),
    (
        "image-url-2000",
        {
            "type": "image",
            "originalContentUrl": "https://e.x/a.jpg",
            "previewImageUrl": "https://e.x/" + "p" * 1988,
        },
        {
            "type": "image",
            "originalContentUrl": "https://e.x/a.jpg",
            "previewImageUrl": "https://e.x/" + "p" * 1989,
        },
        "messages[0].previewImageUrl",
    ),
    (
        "location-title-100",
        {"type": "location", "title": "t" * 100, "address": "a", "latitude": 13.7, "longitude": 100.5},
        {"type": "location", "title": "t" * 101, "address": "a", "latitude": 13.7, "longitude": 100.5},
        "messages[0].title",
    ),
    (
        "location-address-100",
        {"type": "location", "title": "t", "address": "a" * 100, "latitude": 13.7, "longitude": 100.5},
        {"type": "location", "title": "t", "address": "a" * 101, "latitude": 13.7, "longitude": 100.5},
        "messages[0].address",
    ),
    (
        "sender-name-20",
        text("x", sender={"name": "n" * 20}),
        text("x", sender={"name": "n" * 21}),
        "messages[0].sender.name",
    ),
]


@pytest.mark.parametrize(("within", "over", "prop"), [pytest.param(*case[1:], id=case[0]) for case in LIMITS])
def test_line_limits(
    emu: LineEmulator, client: ApiClient, within: dict[str, Any], over: dict[str, Any], prop: str
) -> None:
    call(client, "POST", "/v2/bot/message/push", push_body(within))
    assert emu.violations == []

    assert prop in rejected_properties(client, push_body(over))
    assert len(emu.violations) == 1 and len(emu.delivered) == 1


@pytest.mark.parametrize(
    ("body", "path", "prop"),
    [
        pytest.param(push_body(text("x"), to="U123"), "/v2/bot/message/push", "to", id="push-to-malformed"),
        pytest.param(
            push_body(text("x"), to="X" + "1" * 32), "/v2/bot/message/push", "to", id="push-to-unknown-kind"
        ),
        pytest.param(
            {"to": [GROUP], "messages": [text("x")]},
            "/v2/bot/message/multicast",
            "to[0]",
            id="multicast-to-group",
        ),
        pytest.param(
            {"to": [USER] * 501, "messages": [text("x")]},
            "/v2/bot/message/multicast",
            "to",
            id="multicast-over-500",
        ),
        pytest.param(
            {"to": [], "messages": [text("x")]}, "/v2/bot/message/multicast", "to", id="multicast-empty"
        ),
    ],
)
def test_recipients_must_be_line_ids(client: ApiClient, body: dict[str, Any], path: str, prop: str) -> None:
    assert prop in rejected_properties(client, body, path)


def test_push_to_group_and_room_ids_is_accepted(emu: LineEmulator, client: ApiClient) -> None:
    for target in (GROUP, "R" + "b" * 32):
        call(client, "POST", "/v2/bot/message/push", push_body(text("x"), to=target))
    assert [delivery.chat_id for delivery in emu.delivered] == [GROUP, "R" + "b" * 32]


def test_lenient_mode_delivers_limit_breaches_but_flags_them(emu: LineEmulator, client: ApiClient) -> None:
    emu.strict = False
    call(client, "POST", "/v2/bot/message/push", push_body(text("x" * 5001)))
    rejection(client, "/v2/bot/message/push", push_body({"type": "text"}))  # schema: still refused

    accepted, refused = emu.requests
    assert accepted.status == 200 and accepted.violation and accepted.errors[0].startswith("messages[0].text")
    assert refused.status == 400 and refused.violation
    assert len(emu.delivered) == 1


# ---- reply tokens ------------------------------------------------------------------------


def reply(api: MessagingApi, token: str, value: str = "r") -> Any:
    return api.reply_message(ReplyMessageRequest(replyToken=token, messages=[TextMessage(text=value)]))


def test_reply_token_is_single_use(emu: LineEmulator, api: MessagingApi) -> None:
    token = emu.issue_reply_token(USER)
    reply(api, token)
    with pytest.raises(ApiException) as raised:
        reply(api, token)
    assert raised.value.status == 400
    assert json.loads(raised.value.body) == {"message": "Invalid reply token"}
    assert [request.status for request in emu.violations] == [400]
    assert len(emu.messages_for(USER)) == 1


def test_reply_token_expires(emu: LineEmulator, api: MessagingApi) -> None:
    emu.reply_token_ttl = 0.05
    token = emu.issue_reply_token(USER)
    time.sleep(0.1)
    with pytest.raises(ApiException, match="Invalid reply token"):
        reply(api, token)
    assert emu.violations[0].errors == ["Invalid reply token"]


def test_unknown_reply_token_is_rejected(emu: LineEmulator, api: MessagingApi) -> None:
    with pytest.raises(ApiException) as raised:
        reply(api, "0" * 32)
    assert raised.value.status == 400 and len(emu.violations) == 1


def test_rejected_reply_does_not_consume_the_token(
    emu: LineEmulator, api: MessagingApi, client: ApiClient
) -> None:
    token = emu.issue_reply_token(USER)
    rejection(client, "/v2/bot/message/reply", {"replyToken": token, "messages": [text("x" * 5001)]})
    reply(api, token)
    assert emu.messages_for(USER) == [{"type": "text", "text": "r", "_via": "reply"}]


def test_reply_goes_to_the_chat_the_token_came_from(emu: LineEmulator, api: MessagingApi) -> None:
    reply(api, emu.issue_reply_token(GROUP), "to group")
    assert emu.messages_for(GROUP) == [{"type": "text", "text": "to group", "_via": "reply"}]
    assert emu.consumption == 0


# ---- retry keys --------------------------------------------------------------------------


def push(api: MessagingApi, value: str = "p", key: str | None = None, to: str = USER) -> Any:
    request = PushMessageRequest(to=to, messages=[TextMessage(text=value)])
    return api.push_message_with_http_info(request, x_line_retry_key=key)


def test_retry_key_accepted_twice_answers_409_without_redelivery(
    emu: LineEmulator, api: MessagingApi
) -> None:
    key = str(uuid.uuid4())
    first = push(api, key=key)
    with pytest.raises(ApiException) as raised:
        push(api, key=key)

    conflict = raised.value
    assert conflict.status == 409
    body = json.loads(conflict.body)
    assert body["message"] == "The retry key is already accepted"
    assert body["sentMessages"] == [message.to_dict() for message in first.data.sent_messages]
    assert conflict.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert len(emu.delivered) == 1 and emu.consumption == 1
    assert emu.violations == [] and emu.requests[-1].status == 409


def test_multicast_retry_key_conflict(emu: LineEmulator, api: MessagingApi) -> None:
    key = str(uuid.uuid4())
    request = MulticastRequest(to=[USER, USER2], messages=[TextMessage(text="m")])
    api.multicast(request, x_line_retry_key=key)
    with pytest.raises(ApiException) as raised:
        api.multicast(request, x_line_retry_key=key)
    assert raised.value.status == 409
    assert len(emu.delivered) == 2 and emu.consumption == 2


def test_retry_key_must_be_a_uuid(emu: LineEmulator, api: MessagingApi) -> None:
    with pytest.raises(ApiException) as raised:
        push(api, key="not-a-uuid")
    assert raised.value.status == 400 and len(emu.violations) == 1 and emu.delivered == []


def test_different_retry_keys_are_independent(emu: LineEmulator, api: MessagingApi) -> None:
    push(api, key=str(uuid.uuid4()))
    push(api, key=str(uuid.uuid4()))
    assert len(emu.delivered) == 2


# ---- fault injection -----------------------------------------------------------------------


def test_injected_500_is_not_an_acceptance_so_the_retry_succeeds(
    emu: LineEmulator, api: MessagingApi
) -> None:
    emu.fail_next("/v2/bot/message/push", status=500)
    key = str(uuid.uuid4())
    with pytest.raises(ServiceException) as raised:
        push(api, key=key)
    assert raised.value.status == 500
    push(api, key=key)
    assert len(emu.delivered) == 1
    assert [request.status for request in emu.requests] == [500, 200]
    assert emu.violations == []


def test_injected_429_carries_retry_after_and_counts_down(emu: LineEmulator, api: MessagingApi) -> None:
    emu.fail_next("/v2/bot/message", status=429, times=2, retry_after=7)
    for _ in range(2):
        with pytest.raises(ApiException) as raised:
            push(api)
        assert raised.value.status == 429 and raised.value.headers["Retry-After"] == "7"
    push(api)
    assert [request.status for request in emu.requests] == [429, 429, 200]


def test_faults_only_hit_matching_paths(emu: LineEmulator, api: MessagingApi) -> None:
    emu.fail_next("/v2/bot/profile", status=503)
    push(api)
    with pytest.raises(ServiceException):
        api.get_profile(USER)
    assert api.get_profile(USER).user_id == USER


def test_hang_makes_the_client_time_out_while_the_push_still_lands(
    emu: LineEmulator, api: MessagingApi
) -> None:
    emu.fail_next("/v2/bot/message/push", status=0, delay=0.5)
    key = str(uuid.uuid4())
    request = PushMessageRequest(to=USER, messages=[TextMessage(text="late")])
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        api.push_message(request, x_line_retry_key=key, _request_timeout=0.1)

    wait_for(lambda: len(emu.delivered) == 1)
    with pytest.raises(ApiException) as raised:  # the bot's retry with the same key
        api.push_message(request, x_line_retry_key=key)
    assert raised.value.status == 409 and len(emu.delivered) == 1


# ---- quota --------------------------------------------------------------------------------


def test_push_over_quota_answers_429_and_is_not_a_violation(emu: LineEmulator, api: MessagingApi) -> None:
    emu.quota_limit = 2
    push(api)
    api.push_message(PushMessageRequest(to=USER, messages=[TextMessage(text=str(n)) for n in range(5)]))
    with pytest.raises(ApiException) as raised:
        push(api)

    assert raised.value.status == 429
    assert json.loads(raised.value.body) == {"message": "You have reached your monthly limit."}
    assert emu.consumption == 2 and len(emu.delivered) == 6
    assert emu.violations == [] and emu.requests[-1].status == 429
    assert api.get_message_quota_consumption().total_usage == 2


def test_multicast_counts_each_recipient_against_the_quota(emu: LineEmulator, api: MessagingApi) -> None:
    emu.quota_limit = 2
    with pytest.raises(ApiException) as raised:
        api.multicast(MulticastRequest(to=[USER, USER2, "U" + "3" * 32], messages=[TextMessage(text="m")]))
    assert raised.value.status == 429 and emu.consumption == 0
    api.multicast(MulticastRequest(to=[USER, USER2], messages=[TextMessage(text="m")]))
    assert emu.consumption == 2


def test_push_to_a_group_counts_its_members(emu: LineEmulator, api: MessagingApi) -> None:
    emu.set_group(GROUP, "ครอบครัว", members=[USER, USER2, "U" + "3" * 32])
    push(api, to=GROUP)
    assert emu.consumption == 3


def test_quota_endpoint_reports_the_limit(emu: LineEmulator, api: MessagingApi) -> None:
    quota = api.get_message_quota()
    assert (quota.type.value, quota.value) == ("limited", 500)
    emu.quota_limit = None
    assert api.get_message_quota().type.value == "none"
    for _ in range(3):
        push(api)
    assert emu.consumption == 3


# ---- auth and routing ---------------------------------------------------------------------


def test_wrong_access_token_is_401_and_a_violation(emu: LineEmulator) -> None:
    with (
        ApiClient(Configuration(host=emu.base_url, access_token="stolen")) as other,
        pytest.raises(UnauthorizedException) as raised,
    ):
        MessagingApi(other).get_profile(USER)
    assert raised.value.status == 401
    (violation,) = emu.violations
    assert violation.path == f"/v2/bot/profile/{USER}" and violation.status == 401


def test_unknown_path_is_404_and_a_violation(emu: LineEmulator, client: ApiClient) -> None:
    with pytest.raises(NotFoundException):
        call(client, "GET", "/v2/bot/nothing/here")
    assert emu.violations[0].status == 404


def test_wrong_method_is_405_and_a_violation(emu: LineEmulator, client: ApiClient) -> None:
    with pytest.raises(ApiException) as raised:
        call(client, "GET", "/v2/bot/message/push")
    assert raised.value.status == 405 and emu.violations[0].status == 405


def test_every_route_is_an_operation_of_the_spec() -> None:
    paths = yaml.load((SPEC_DIR / "messaging-api.yml").read_bytes(), Loader=yaml.CSafeLoader)["paths"]
    for method, template, _handler in ROUTES:
        assert method.lower() in paths[template], (method, template)


# ---- profiles, groups, content -------------------------------------------------------------


def test_profiles(emu: LineEmulator, api: MessagingApi) -> None:
    emu.set_profile(USER, "สมชาย", picture_url="https://e.x/p.jpg", status_message="สบายดี")
    profile = api.get_profile(USER)
    assert (profile.display_name, profile.language, profile.picture_url, profile.status_message) == (
        "สมชาย",
        "th",
        "https://e.x/p.jpg",
        "สบายดี",
    )
    assert api.get_profile(USER2).display_name == f"ผู้ใช้ {USER2[-4:]}"

    emu.auto_profiles = False
    with pytest.raises(NotFoundException):
        api.get_profile(USER2)
    assert emu.violations == []


def test_group_summary_member_profile_and_leave(emu: LineEmulator, api: MessagingApi) -> None:
    emu.set_group(GROUP, "ครอบครัว", picture_url="https://e.x/g.jpg", members=[USER])
    emu.set_profile(USER, "สมชาย")

    summary = api.get_group_summary(GROUP)
    assert (summary.group_id, summary.group_name, summary.picture_url) == (
        GROUP,
        "ครอบครัว",
        "https://e.x/g.jpg",
    )
    assert api.get_group_member_profile(GROUP, USER).display_name == "สมชาย"
    with pytest.raises(NotFoundException):
        api.get_group_member_profile(GROUP, USER2)

    api.leave_group(GROUP)
    with pytest.raises(NotFoundException):
        api.get_group_summary(GROUP)
    assert emu.violations == []


def test_message_content_200_404_410(emu: LineEmulator, blob: MessagingApiBlob) -> None:
    emu.add_content("100", b"\xff\xd8jpeg-bytes", "image/jpeg")
    response = blob.get_message_content_with_http_info("100")
    assert bytes(response.data) == b"\xff\xd8jpeg-bytes"
    assert response.headers["Content-Type"] == "image/jpeg"

    with pytest.raises(NotFoundException):
        blob.get_message_content("404")
    emu.expire_content("100")
    with pytest.raises(ApiException) as raised:
        blob.get_message_content("100")
    assert raised.value.status == 410
    assert emu.violations == []


def test_loading_animation(emu: LineEmulator, api: MessagingApi, client: ApiClient) -> None:
    api.show_loading_animation(ShowLoadingAnimationRequest(chatId=USER, loadingSeconds=10))
    assert emu.requests[0].status == 202
    assert rejected_properties(client, {"chatId": GROUP}, "/v2/bot/chat/loading/start") == ["chatId"]
    assert rejected_properties(
        client, {"chatId": USER, "loadingSeconds": 7}, "/v2/bot/chat/loading/start"
    ) == ["loadingSeconds"]


# ---- rich menus ------------------------------------------------------------------------------


def rich_menu_request(width: int = 2500, height: int = 843) -> RichMenuRequest:
    area = RichMenuArea(
        bounds=RichMenuBounds(x=0, y=0, width=width, height=height),
        action=PostbackAction(label="เมนู", data="menu"),
    )
    return RichMenuRequest(
        size=RichMenuSize(width=width, height=height),
        selected=True,
        name="main",
        chatBarText="เมนู",
        areas=[area],
    )


def test_rich_menu_lifecycle(emu: LineEmulator, api: MessagingApi, blob: MessagingApiBlob) -> None:
    rich_menu_id = api.create_rich_menu(rich_menu_request()).rich_menu_id
    image = png(2500, 843)
    blob.set_rich_menu_image(rich_menu_id, image, _headers={"Content-Type": "image/png"})
    api.set_default_rich_menu(rich_menu_id)

    assert api.get_default_rich_menu_id().rich_menu_id == rich_menu_id
    assert api.get_rich_menu(rich_menu_id).chat_bar_text == "เมนู"
    assert [menu.rich_menu_id for menu in api.get_rich_menu_list().richmenus] == [rich_menu_id]
    assert bytes(blob.get_rich_menu_image(rich_menu_id)) == image

    api.delete_rich_menu(rich_menu_id)
    with pytest.raises(NotFoundException):
        api.get_default_rich_menu_id()
    with pytest.raises(NotFoundException):
        api.get_rich_menu(rich_menu_id)
    assert api.get_rich_menu_list().richmenus == []
    assert emu.violations == []


def test_default_rich_menu_can_be_cleared(api: MessagingApi, blob: MessagingApiBlob) -> None:
    rich_menu_id = api.create_rich_menu(rich_menu_request(1200, 405)).rich_menu_id
    blob.set_rich_menu_image(rich_menu_id, jpeg_header(1200, 405), _headers={"Content-Type": "image/jpeg"})
    api.set_default_rich_menu(rich_menu_id)
    api.cancel_default_rich_menu()
    with pytest.raises(NotFoundException):
        api.get_default_rich_menu_id()


@pytest.mark.parametrize(
    ("image", "content_type", "status"),
    [
        pytest.param(png(2500, 844), "image/png", 400, id="size-not-allowed"),
        pytest.param(png(1200, 405), "image/png", 400, id="size-differs-from-menu"),
        pytest.param(png(2500, 843), "image/jpeg", 400, id="content-type-mismatch"),
        pytest.param(png(2500, 843), "image/gif", 415, id="unsupported-type"),
        pytest.param(png(2500, 843) + bytes(1024 * 1024), "image/png", 413, id="over-1mb"),
        pytest.param(b"not an image", "image/png", 400, id="not-an-image"),
    ],
)
def test_rich_menu_image_is_checked(
    emu: LineEmulator, api: MessagingApi, blob: MessagingApiBlob, image: bytes, content_type: str, status: int
) -> None:
    rich_menu_id = api.create_rich_menu(rich_menu_request()).rich_menu_id
    with pytest.raises(ApiException) as raised:
        blob.set_rich_menu_image(rich_menu_id, image, _headers={"Content-Type": content_type})
    assert raised.value.status == status
    assert emu.violations[0].path == f"/v2/bot/richmenu/{rich_menu_id}/content"


def test_rich_menu_image_is_uploaded_once_and_required_for_default(
    emu: LineEmulator, api: MessagingApi, blob: MessagingApiBlob
) -> None:
    rich_menu_id = api.create_rich_menu(rich_menu_request()).rich_menu_id
    with pytest.raises(ApiException) as raised:
        api.set_default_rich_menu(rich_menu_id)
    assert raised.value.status == 400

    blob.set_rich_menu_image(rich_menu_id, png(2500, 843), _headers={"Content-Type": "image/png"})
    with pytest.raises(ApiException):
        blob.set_rich_menu_image(rich_menu_id, png(2500, 843), _headers={"Content-Type": "image/png"})
    assert len(emu.violations) == 2


@pytest.mark.parametrize(
    ("change", "prop"),
    [
        pytest.param({"chatBarText": "x" * 15}, "chatBarText", id="chat-bar-text-14"),
        pytest.param({"size": {"width": 2500, "height": 2000}}, "size", id="aspect-ratio"),
        pytest.param(
            {"areas": [{"bounds": {"x": 0, "y": 0, "width": 10, "height": 10}}] * 21}, "areas", id="areas-20"
        ),
        pytest.param(
            {"areas": [{"bounds": {"x": 0, "y": 0, "width": 10, "height": 10}}]},
            "areas[0].action",
            id="area-action-required",
        ),
        pytest.param({"name": None}, "name", id="name-required"),
    ],
)
def test_rich_menu_object_is_validated(
    emu: LineEmulator, client: ApiClient, change: dict[str, Any], prop: str
) -> None:
    body = {
        key: value for key, value in {**rich_menu_request().to_dict(), **change}.items() if value is not None
    }
    assert prop in rejected_properties(client, body, "/v2/bot/richmenu/validate")
    assert prop in rejected_properties(client, body, "/v2/bot/richmenu")
    call(client, "POST", "/v2/bot/richmenu/validate", rich_menu_request().to_dict())
    assert len(emu.violations) == 2


# ---- concurrency and reset --------------------------------------------------------------------


def test_concurrent_pushes_are_counted_exactly(emu: LineEmulator) -> None:
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            with ApiClient(Configuration(host=emu.base_url, access_token=TOKEN)) as own:
                request = PushMessageRequest(to=USER, messages=[TextMessage(text=str(index))])
                MessagingApi(own).push_message(request, x_line_retry_key=str(uuid.uuid4()))
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert emu.consumption == 20
    assert sorted(int(message["text"]) for message in emu.messages_for(USER)) == list(range(20))
    assert len({request.request_id for request in emu.requests}) == 20


def test_reset_forgets_state_but_keeps_configuration(emu: LineEmulator, api: MessagingApi) -> None:
    emu.quota_limit = 10
    emu.set_profile(USER, "สมชาย")
    emu.fail_next("/v2/bot/message/push")
    token = emu.issue_reply_token(USER)
    emu.reset()

    push(api)  # the fault is gone
    assert emu.consumption == 1 and len(emu.requests) == 1
    with pytest.raises(ApiException):
        reply(api, token)
    assert api.get_profile(USER).display_name != "สมชาย"
    assert api.get_message_quota().value == 10


def test_start_is_idempotent(emu: LineEmulator) -> None:
    url = emu.base_url
    assert emu.start() is emu and emu.base_url == url


def test_stopped_emulator_has_no_url() -> None:
    emulator = LineEmulator()
    with emulator:
        assert emulator.base_url.startswith("http://127.0.0.1:")
    with pytest.raises(RuntimeError):
        _ = emulator.base_url


# ---- webhook events ----------------------------------------------------------------------------


def all_events(emu: LineEmulator) -> list[dict[str, Any]]:
    return [
        text_event(USER, "สวัสดี", emu.issue_reply_token(USER)),
        text_event(USER, "ในกลุ่ม", emu.issue_reply_token(GROUP), group_id=GROUP),
        postback_event(USER, "action=pick", emu.issue_reply_token(USER), params={"date": "2025-01-31"}),
        follow_event(USER, emu.issue_reply_token(USER)),
        unfollow_event(USER),
        join_event(GROUP, emu.issue_reply_token(GROUP)),
        leave_event(GROUP),
        member_joined_event(GROUP, [USER, USER2], emu.issue_reply_token(GROUP)),
        member_left_event(GROUP, [USER2]),
        image_event(USER, "325708", emu.issue_reply_token(USER)),
        sticker_event(USER, "446", "1988", emu.issue_reply_token(USER)),
        location_event(USER, 13.7563, 100.5018, "กรุงเทพฯ", "บ้าน", reply_token=emu.issue_reply_token(USER)),
    ]


def test_event_bodies_match_the_webhook_spec(emu: LineEmulator) -> None:
    body = callback_body(all_events(emu))
    assert webhook_schemas().validate("CallbackRequest", body) == []


def test_event_validation_catches_malformed_events() -> None:
    event = text_event(USER, "x", "token")
    del event["message"]["quoteToken"]
    problems = webhook_schemas().validate("CallbackRequest", callback_body([event]))
    assert [problem.property for problem in problems] == ["events[0].message.quoteToken"]


def test_events_carry_line_metadata(emu: LineEmulator) -> None:
    events = all_events(emu)
    ids = [event["webhookEventId"] for event in events]
    assert len(set(ids)) == len(ids)
    assert all(len(value) == 26 and value == value.upper() for value in ids)
    assert all(
        event["mode"] == "active" and event["deliveryContext"] == {"isRedelivery": False} for event in events
    )
    assert all(isinstance(event["timestamp"], int) for event in events)
    assert events[0]["message"]["id"].isdigit()
    assert "replyToken" not in events[4] and "replyToken" not in events[6]
    assert events[1]["source"] == {"type": "group", "groupId": GROUP, "userId": USER}


def test_redelivery_keeps_the_event_id(emu: LineEmulator) -> None:
    event = text_event(USER, "x", emu.issue_reply_token(USER))
    again = redeliver(event)
    assert again["webhookEventId"] == event["webhookEventId"]
    assert again["deliveryContext"] == {"isRedelivery": True}
    assert event["deliveryContext"] == {"isRedelivery": False}


def test_signed_body_is_accepted_by_the_sdk_parser(emu: LineEmulator) -> None:
    payload = encode_body(callback_body(all_events(emu)))
    parsed = WebhookParser(SECRET).parse(payload.decode("utf-8"), sign(payload, SECRET))
    assert [event.type for event in parsed] == [
        "message",
        "message",
        "postback",
        "follow",
        "unfollow",
        "join",
        "leave",
        "memberJoined",
        "memberLeft",
        "message",
        "message",
        "message",
    ]
    assert parsed[0].message.text == "สวัสดี"


def test_reply_tokens_from_events_work_against_the_emulator(emu: LineEmulator, api: MessagingApi) -> None:
    event = text_event(USER, "hi", emu.issue_reply_token(GROUP), group_id=GROUP)
    reply(api, event["replyToken"])
    assert emu.messages_for(GROUP)[0]["_via"] == "reply"


# ---- the validator itself -----------------------------------------------------------------------


def test_discriminated_subtypes_are_checked_deep_inside_quick_replies() -> None:
    body = push_body(
        text("x", quickReply={"items": [{"type": "action", "action": {"type": "clipboard", "label": "c"}}]})
    )
    problems = validate_body("PushMessageRequest", body)
    assert [str(problem) for problem in problems] == [
        "messages[0].quickReply.items[0].action.clipboardText: must be specified"
    ]


def test_request_schema_is_read_from_the_spec() -> None:
    schemas = messaging_schemas()
    assert schemas.request_schema("POST", "/v2/bot/message/push") == "PushMessageRequest"
    assert schemas.request_schema("GET", "/v2/bot/profile/{userId}") is None
    assert schemas.request_schema("POST", "/v2/bot/richmenu/{richMenuId}/content") is None
