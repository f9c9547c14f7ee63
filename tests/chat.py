"""`chat`: speak to the bot as a LINE user or group would, and read what it answered."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.emulator import events as ev


def _walk(node: Any):
    """Every dict inside a message (flex boxes nest deeply)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def actions_in(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Tappable actions of a message: quick replies, buttons, tappable texts."""
    found = []
    for node in _walk(message):
        action = node.get("action") if isinstance(node.get("action"), dict) else None
        if action and action not in found:
            found.append(action)
    return found


def texts_in(message: dict[str, Any]) -> list[str]:
    out = []
    for node in _walk(message):
        for key in ("text", "altText", "label"):
            if isinstance(node.get(key), str):
                out.append(node[key])
    return out


class Chat:
    def __init__(self, app, emulator, secret: str) -> None:
        self.app = app
        self.client = app.test_client()
        self.emulator = emulator
        self.secret = secret
        self.posted_event_ids: list[str] = []  # every webhookEventId posted, in order (redeliveries too)

    def post(self, events: list[dict[str, Any]], *, signature: str | None = None, raw: bytes | None = None):
        body = raw if raw is not None else ev.encode_body(ev.callback_body(events))
        if raw is None:
            self.posted_event_ids += [e.get("webhookEventId", "") for e in events]
        sig = ev.sign(body, self.secret) if signature is None else signature
        headers = {"Content-Type": "application/json"}
        if sig:
            headers["X-Line-Signature"] = sig
        response = self.client.post("/callback", data=body, headers=headers)
        response.close()  # as a WSGI server does once the response is sent: runs after-response work
        return response

    def user(self, user_id: str, display_name: str = "สมศรี") -> User:
        self.emulator.set_profile(user_id, display_name)
        return User(self, user_id)

    def group(self, group_id: str, name: str = "กองเลขา") -> Group:
        self.emulator.set_group(group_id, name)
        return Group(self, group_id)


@dataclass
class User:
    chat: Chat
    user_id: str
    seen: int = 0  # messages already read, so last_* means "since my last action"
    last_event: dict[str, Any] | None = field(default=None, repr=False)

    # ---- acting ------------------------------------------------------------------
    def _send(self, event: dict[str, Any]) -> None:
        self.seen = len(self.chat.emulator.messages_for(self.user_id))
        self.last_event = event
        resp = self.chat.post([event])
        assert resp.status_code == 200, resp.data

    def token(self) -> str:
        return self.chat.emulator.issue_reply_token(self.user_id)

    def follow(self) -> None:
        self._send(ev.follow_event(self.user_id, self.token()))

    def unfollow(self) -> None:
        self._send(ev.unfollow_event(self.user_id))

    def say(self, text: str) -> None:
        self._send(ev.text_event(self.user_id, text, self.token()))

    def postback(self, data: str, params: dict[str, str] | None = None) -> None:
        self._send(ev.postback_event(self.user_id, data, self.token(), params=params))

    def sticker(self) -> None:
        self._send(ev.sticker_event(self.user_id, "446", "1988", self.token()))

    def location(self, lat: float = 18.79, lng: float = 98.98, address: str = "เชียงใหม่") -> None:
        self._send(ev.location_event(self.user_id, lat, lng, address, reply_token=self.token()))

    def image(self, message_id: str) -> None:
        self._send(ev.image_event(self.user_id, message_id, self.token()))

    def resend_last(self, *, redelivery: bool = True) -> None:
        """LINE delivering the same event again (same webhookEventId)."""
        assert self.last_event is not None
        event = ev.redeliver(self.last_event) if redelivery else dict(self.last_event)
        event["replyToken"] = self.token()
        self._send(event)

    def action(self, label: str) -> dict[str, Any]:
        """Find a tappable action by its label among what the bot last said."""
        for message in reversed(self.replies()):
            for action in actions_in(message):
                if action.get("label") == label:
                    return action
        labels = [a.get("label") for m in self.replies() for a in actions_in(m)]
        raise AssertionError(f"no button {label!r}; have {labels}")

    def tap(self, label: str) -> None:
        action = self.action(label)
        assert action["type"] == "postback", action
        self.postback(action["data"])

    def pick_date(self, label: str, value: str) -> None:
        action = self.action(label)
        assert action["type"] == "datetimepicker", action
        self.postback(action["data"], params={"date": value})

    # ---- reading -----------------------------------------------------------------
    def replies(self) -> list[dict[str, Any]]:
        """Messages the bot sent this user since their last action."""
        return self.chat.emulator.messages_for(self.user_id)[self.seen:]

    def all_messages(self) -> list[dict[str, Any]]:
        return self.chat.emulator.messages_for(self.user_id)

    def last_text(self) -> str:
        return "\n".join(t for m in self.replies() for t in texts_in(m))

    def last_message(self) -> dict[str, Any]:
        replies = self.replies()
        assert replies, "the bot said nothing"
        return replies[-1]

    def chips(self) -> list[str]:
        message = self.last_message()
        items = (message.get("quickReply") or {}).get("items", [])
        return [i["action"].get("label") for i in items]

    def sees(self, *fragments: str) -> bool:
        blob = json.dumps(self.replies(), ensure_ascii=False)
        return all(f in blob for f in fragments)


@dataclass
class Group:
    chat: Chat
    group_id: str
    seen: int = 0

    def _send(self, event: dict[str, Any]) -> None:
        self.seen = len(self.chat.emulator.messages_for(self.group_id))
        resp = self.chat.post([event])
        assert resp.status_code == 200, resp.data

    def join(self) -> None:
        self._send(ev.join_event(self.group_id, self.chat.emulator.issue_reply_token(self.group_id)))

    def leave(self) -> None:
        self._send(ev.leave_event(self.group_id))

    def say(self, user_id: str, text: str) -> None:
        token = self.chat.emulator.issue_reply_token(self.group_id)
        self._send(ev.text_event(user_id, text, token, group_id=self.group_id))

    def replies(self) -> list[dict[str, Any]]:
        return self.chat.emulator.messages_for(self.group_id)[self.seen:]

    def last_text(self) -> str:
        return "\n".join(t for m in self.replies() for t in texts_in(m))
