"""A local LINE Messaging API platform that the real line-bot-sdk client talks to over HTTP.

Tests and the browser simulator point ``linebot.v3.messaging.Configuration(host=...)`` at
:attr:`LineEmulator.base_url`. The emulator then behaves like the LINE Platform: it checks
the access token, validates every body against LINE's OpenAPI document plus its prose-only
limits (see :mod:`bot.emulator.validation`), enforces single-use expiring reply tokens,
retry-key idempotency and the monthly quota, and records every request so tests can assert
on what the bot sent and on what LINE would have rejected.

Everything is served from one host, although LINE serves content and rich menu images from
api-data.line.me: the SDK uses ``Configuration.host`` for both API classes.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from bot.emulator.login import LoginProvider
from bot.emulator.validation import (
    RICH_MENU_IMAGE_MAX_BYTES,
    RICH_MENU_IMAGE_SIZES,
    Problem,
    check_limits,
    image_info,
    messaging_schemas,
)

_log = logging.getLogger(__name__)

REPLY_TOKEN_TTL = 60.0
RETRY_KEY_TTL = 24 * 60 * 60.0
#: Message types LINE hands out a quote token for when a bot sends them.
QUOTABLE_TYPES = frozenset({"text", "textV2", "sticker", "image", "video", "audio", "location"})
_AUTH_FAILED = "Authentication failed. Confirm that the access token in the authorization header is valid."


@dataclass(frozen=True)
class RecordedRequest:
    """One call the emulator received, with the answer it gave.

    ``violation`` is true when LINE would have rejected the call because the bot did
    something wrong (bad body, limits, reply token, auth, unknown endpoint). Normal protocol
    answers such as 409 for a reused retry key, 429 for the quota or an injected fault are
    recorded with their status but are not violations.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    raw: bytes
    status: int
    errors: list[str]
    retry_key: str | None
    at: datetime
    violation: bool = False
    response: Any = None
    request_id: str = ""


class Delivery(NamedTuple):
    """One message object that reached a chat."""

    chat_id: str
    message: dict[str, Any]
    via: str  # "reply" | "push" | "multicast"


@dataclass
class _ReplyToken:
    chat_id: str
    issued_at: float
    used: bool = False


@dataclass
class _Fault:
    prefix: str
    status: int
    remaining: int
    delay: float
    retry_after: int | None


@dataclass(frozen=True)
class _Acceptance:
    """What a push/multicast with a retry key returned, so a retry gets the same answer."""

    request_id: str
    sent_messages: list[dict[str, str]] | None
    at: float


@dataclass
class _Content:
    data: bytes
    content_type: str
    expired: bool = False


@dataclass
class _Group:
    name: str
    picture_url: str | None
    members: list[str]


@dataclass
class _RichMenu:
    body: dict[str, Any]
    image: bytes | None = None
    image_type: str | None = None


@dataclass
class _State:
    """Everything :meth:`LineEmulator.reset` forgets, kept together so reset is one step."""

    requests: list[RecordedRequest] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    reply_tokens: dict[str, _ReplyToken] = field(default_factory=dict)
    acceptances: dict[str, _Acceptance] = field(default_factory=dict)
    faults: list[_Fault] = field(default_factory=list)
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    groups: dict[str, _Group] = field(default_factory=dict)
    contents: dict[str, _Content] = field(default_factory=dict)
    rich_menus: dict[str, _RichMenu] = field(default_factory=dict)
    default_rich_menu: str | None = None
    consumption: int = 0
    message_counter: int = 0


@dataclass(frozen=True)
class _Call:
    """A routed request, as handlers see it."""

    method: str
    params: dict[str, str]
    headers: Headers
    body: Any
    raw: bytes
    request_id: str
    retry_key: str | None


@dataclass(frozen=True)
class _Outcome:
    """The answer to one call and how it is recorded."""

    status: int
    body: Any = field(default_factory=dict)  # JSON-able, or bytes for binary content
    headers: Mapping[str, str] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    violation: bool = False
    content_type: str = "application/json"


def _ok(body: Any = None, status: int = 200) -> _Outcome:
    return _Outcome(status, {} if body is None else body)


def _refuse(status: int, message: str, headers: Mapping[str, str] | None = None, **extra: Any) -> _Outcome:
    """A normal protocol answer (404 for unknown resources, 409, 429): not a violation."""
    return _Outcome(status, {"message": message, **extra}, headers or {}, (message,))


def _reject(status: int, message: str, problems: Iterable[Problem] = ()) -> _Outcome:
    """An answer LINE gives because the bot sent something invalid: a violation."""
    problems = list(problems)
    body: dict[str, Any] = {"message": message}
    if problems:
        body["details"] = [problem.to_detail() for problem in problems]
    errors = tuple(map(str, problems)) or (message,)
    return _Outcome(status, body, errors=errors, violation=True)


def _invalid_body(problems: list[Problem]) -> _Outcome:
    return _reject(400, f"The request body has {len(problems)} error(s)", problems)


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

#: The operations the emulator implements:
#: (method, path template exactly as in the OpenAPI document, handler method name).
ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "/v2/bot/message/reply", "_reply"),
    ("POST", "/v2/bot/message/push", "_push"),
    ("POST", "/v2/bot/message/multicast", "_multicast"),
    ("POST", "/v2/bot/message/validate/reply", "_accept_valid_body"),
    ("POST", "/v2/bot/message/validate/push", "_accept_valid_body"),
    ("POST", "/v2/bot/message/validate/multicast", "_accept_valid_body"),
    ("GET", "/v2/bot/message/quota", "_quota"),
    ("GET", "/v2/bot/message/quota/consumption", "_quota_consumption"),
    ("GET", "/v2/bot/profile/{userId}", "_profile"),
    ("GET", "/v2/bot/group/{groupId}/summary", "_group_summary"),
    ("GET", "/v2/bot/group/{groupId}/member/{userId}", "_group_member_profile"),
    ("POST", "/v2/bot/group/{groupId}/leave", "_leave_group"),
    ("GET", "/v2/bot/message/{messageId}/content", "_message_content"),
    ("POST", "/v2/bot/richmenu", "_create_rich_menu"),
    ("POST", "/v2/bot/richmenu/validate", "_accept_valid_body"),
    ("GET", "/v2/bot/richmenu/list", "_list_rich_menus"),
    ("GET", "/v2/bot/richmenu/{richMenuId}", "_get_rich_menu"),
    ("DELETE", "/v2/bot/richmenu/{richMenuId}", "_delete_rich_menu"),
    ("POST", "/v2/bot/richmenu/{richMenuId}/content", "_upload_rich_menu_image"),
    ("GET", "/v2/bot/richmenu/{richMenuId}/content", "_download_rich_menu_image"),
    ("POST", "/v2/bot/user/all/richmenu/{richMenuId}", "_set_default_rich_menu"),
    ("GET", "/v2/bot/user/all/richmenu", "_get_default_rich_menu"),
    ("DELETE", "/v2/bot/user/all/richmenu", "_clear_default_rich_menu"),
    ("POST", "/v2/bot/chat/loading/start", "_start_loading"),
)


def _url_map() -> Map:
    rules = [
        Rule(re.sub(r"\{(\w+)\}", r"<\1>", template), methods=[method], endpoint=(template, handler))
        for method, template, handler in ROUTES
    ]
    return Map(rules)


class _QuietHandler(WSGIRequestHandler):
    """Keeps werkzeug's per-request access log out of test output; errors still log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        _log.debug("%s %s -> %s", self.command, self.path, code)


class LineEmulator:
    """A LINE Messaging API platform on 127.0.0.1 for the real SDK to talk to.

    Configuration attributes may be changed at any time: ``reply_token_ttl`` (seconds),
    ``quota_limit`` (None means unlimited), ``auto_profiles`` (fabricate profiles for
    unknown users instead of answering 404), ``delay`` (latency added to every call).

    With ``strict=False`` the prose-only LINE limits are recorded as violations but the
    request is still carried out, which lets a simulator show a message LINE would have
    refused. Bodies that break the OpenAPI schema, and auth/token/retry-key rules, are
    enforced in both modes.
    """

    def __init__(self, access_token: str = "test-access-token", *, strict: bool = True) -> None:
        self.access_token = access_token
        self.strict = strict
        self.reply_token_ttl = REPLY_TOKEN_TTL
        self.quota_limit: int | None = 500
        self.auto_profiles = True
        self.delay = 0.0
        self._lock = threading.RLock()
        self._state = _State()
        self._url_map = _url_map()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        # LINE Login (OpenID Connect) for the web console: its own paths, no bearer token.
        self.login = LoginProvider(self._known_people)

    def _known_people(self) -> dict[str, str]:
        with self._lock:
            return {uid: p.get("displayName", uid) for uid, p in self._state.profiles.items()}

    # ---- lifecycle ---------------------------------------------------------------------

    def start(self) -> LineEmulator:
        """Serve on a free port of 127.0.0.1 in a background thread; a no-op if running."""
        messaging_schemas()  # load the spec now, not inside a bot's first (timed) request
        with self._lock:
            if self._server is None:
                self._server = make_server(
                    "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler
                )
                self._thread = threading.Thread(
                    target=self._server.serve_forever,
                    kwargs={"poll_interval": 0.05},  # how long stop() waits for the loop
                    name="line-emulator",
                    daemon=True,
                )
                self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests still sleeping in a fault delay are abandoned."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is not None and thread is not None:
            server.shutdown()
            server.server_close()
            thread.join()

    def __enter__(self) -> LineEmulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``Configuration(host=...)``."""
        server = self._server
        if server is None:
            raise RuntimeError("LineEmulator is not started")
        return f"http://127.0.0.1:{server.server_port}"

    def reset(self) -> None:
        """Forget all state, keeping the configuration attributes.

        That is requests, messages, reply tokens, retry keys, faults, profiles, groups,
        content, rich menus and consumption.
        """
        with self._lock:
            self._state = _State()
        self.login.reset()

    # ---- scenario set-up -----------------------------------------------------------------

    def issue_reply_token(self, source_id: str) -> str:
        """A reply token for an event from chat ``source_id`` (user, group or room ID)."""
        token = secrets.token_hex(16)
        with self._lock:
            self._state.reply_tokens[token] = _ReplyToken(source_id, time.time())
        return token

    def set_profile(
        self,
        user_id: str,
        display_name: str,
        language: str = "th",
        picture_url: str | None = None,
        status_message: str | None = None,
    ) -> None:
        """Register the profile GET /v2/bot/profile/{userId} returns for ``user_id``."""
        profile = {"userId": user_id, "displayName": display_name, "language": language}
        if picture_url is not None:
            profile["pictureUrl"] = picture_url
        if status_message is not None:
            profile["statusMessage"] = status_message
        with self._lock:
            self._state.profiles[user_id] = profile

    def set_group(
        self,
        group_id: str,
        name: str,
        picture_url: str | None = None,
        members: Iterable[str] = (),
    ) -> None:
        """Register a group the bot is in.

        Member profiles resolve only for ``members``, and a push to the group counts one
        message per member (at least one), as LINE does.
        """
        with self._lock:
            self._state.groups[group_id] = _Group(name, picture_url, list(members))

    def add_content(self, message_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        """Make ``data`` downloadable at GET /v2/bot/message/{message_id}/content."""
        with self._lock:
            self._state.contents[message_id] = _Content(data, content_type)

    def expire_content(self, message_id: str) -> None:
        """Make the content answer 410 Gone, as LINE does once it deleted user content."""
        with self._lock:
            self._state.contents.setdefault(message_id, _Content(b"", "")).expired = True

    def fail_next(
        self,
        path: str,
        status: int = 500,
        times: int = 1,
        delay: float = 0.0,
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``times`` calls whose path starts with ``path`` fail.

        Each waits ``delay`` seconds, then answers ``status``. ``status=0`` only delays and
        then answers normally, to drive a client timeout. ``retry_after`` adds a
        Retry-After header (meant for 429).
        """
        with self._lock:
            self._state.faults.append(_Fault(path, status, times, delay, retry_after))

    # ---- inspection ----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every call received so far, oldest first (a snapshot)."""
        with self._lock:
            return list(self._state.requests)

    @property
    def violations(self) -> list[RecordedRequest]:
        """The calls LINE would have rejected because the bot got something wrong."""
        return [request for request in self.requests if request.violation]

    @property
    def delivered(self) -> list[Delivery]:
        """Every delivered message object as (chat_id, message, via), in delivery order."""
        with self._lock:
            return list(self._state.deliveries)

    def messages_for(self, chat_id: str) -> list[dict[str, Any]]:
        """Message objects delivered to ``chat_id`` in order, each with ``"_via"`` added."""
        return [
            {**delivery.message, "_via": delivery.via}
            for delivery in self.delivered
            if delivery.chat_id == chat_id
        ]

    @property
    def consumption(self) -> int:
        """Messages counted against the quota this month, counted the way LINE counts."""
        with self._lock:
            return self._state.consumption

    # ---- request pipeline ----------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if self.login.owns(request.path):
            status, response = self.login.handle(request, self.base_url)
            self._record(request, b"", None, str(uuid.uuid4()), _Outcome(status, {}, errors=()))
            return response(environ, start_response)
        raw = request.get_data()
        request_id = str(uuid.uuid4())
        body = _parse_json(raw)
        try:
            outcome = self._process(request, raw, body, request_id)
        except Exception:  # keep serving, and make the failure visible in the record
            _log.exception("emulator failed on %s %s", request.method, request.path)
            outcome = _Outcome(500, {"message": "emulator error"}, errors=("emulator error",))
        self._record(request, raw, body, request_id, outcome)
        return _response(outcome, request_id)(environ, start_response)

    def _process(self, request: Request, raw: bytes, body: Any, request_id: str) -> _Outcome:
        if self.delay:
            time.sleep(self.delay)
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return _reject(401, _AUTH_FAILED)
        fault = self._take_fault(request.path)
        if fault is not None:
            time.sleep(fault.delay)
            if fault.status:
                return _fault_outcome(fault)
        try:
            (template, handler_name), params = self._url_map.bind("emulator").match(
                request.path, method=request.method
            )
        except MethodNotAllowed:
            return _reject(405, "Method not allowed")
        except HTTPException:
            return _reject(404, "Not found")
        call = _Call(
            request.method,
            dict(params),
            request.headers,
            body,
            raw,
            request_id,
            request.headers.get("X-Line-Retry-Key"),
        )
        handler: Callable[[_Call], _Outcome] = getattr(self, handler_name)
        return self._validated(call, template, handler)

    def _validated(self, call: _Call, template: str, handler: Callable[[_Call], _Outcome]) -> _Outcome:
        """Run ``handler`` if the body satisfies the operation's schema and LINE's limits."""
        schema_name = messaging_schemas().request_schema(call.method, template)
        if schema_name is None:
            return handler(call)
        if _mimetype(call.headers) != "application/json":
            return _reject(415, "Content-Type must be application/json")
        if call.body is None:
            return _reject(400, "The request body is not valid JSON")
        problems = messaging_schemas().validate(schema_name, call.body)
        if problems:
            return _invalid_body(problems)
        problems = check_limits(schema_name, call.body)
        if problems and self.strict:
            return _invalid_body(problems)
        outcome = handler(call)
        if problems:  # lenient mode: carried out, but flagged
            return replace(outcome, errors=tuple(map(str, problems)) + outcome.errors, violation=True)
        return outcome

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._state.faults:
                if path.startswith(fault.prefix):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._state.faults.remove(fault)
                    return fault
        return None

    def _record(self, request: Request, raw: bytes, body: Any, request_id: str, outcome: _Outcome) -> None:
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.args),
            headers=dict(request.headers),
            json=body,
            raw=raw,
            status=outcome.status,
            errors=list(outcome.errors),
            retry_key=request.headers.get("X-Line-Retry-Key"),
            at=datetime.now(UTC),
            violation=outcome.violation,
            response=None if isinstance(outcome.body, bytes) else outcome.body,
            request_id=request_id,
        )
        with self._lock:
            self._state.requests.append(recorded)

    # ---- messaging -----------------------------------------------------------------------

    def _reply(self, call: _Call) -> _Outcome:
        with self._lock:
            token = self._state.reply_tokens.get(call.body["replyToken"])
            if token is None or token.used or time.time() - token.issued_at > self.reply_token_ttl:
                return _reject(400, "Invalid reply token")
            token.used = True  # consumed only by an accepted reply, as on LINE
            sent = self._deliver(token.chat_id, call.body["messages"], "reply")
        return _ok({"sentMessages": sent})

    def _push(self, call: _Call) -> _Outcome:
        return self._send(call, [call.body["to"]], "push")

    def _multicast(self, call: _Call) -> _Outcome:
        return self._send(call, call.body["to"], "multicast")

    def _send(self, call: _Call, recipients: list[str], via: str) -> _Outcome:
        """Push or multicast, with LINE's retry-key idempotency and monthly quota."""
        if call.retry_key is not None and not _UUID.fullmatch(call.retry_key):
            return _reject(400, "The retry key must be a UUID")
        with self._lock:
            previous = self._previous_acceptance(call.retry_key)
            if previous is not None:
                return _already_accepted(previous)
            cost = sum(self._recipient_count(chat_id) for chat_id in recipients)
            if self.quota_limit is not None and self._state.consumption + cost > self.quota_limit:
                return _refuse(429, "You have reached your monthly limit.")
            self._state.consumption += cost
            sent = [self._deliver(chat_id, call.body["messages"], via) for chat_id in recipients]
            body = {"sentMessages": sent[0]} if via == "push" else {}
            if call.retry_key is not None:
                self._state.acceptances[call.retry_key] = _Acceptance(
                    call.request_id, body.get("sentMessages"), time.time()
                )
        return _ok(body)

    def _previous_acceptance(self, retry_key: str | None) -> _Acceptance | None:
        acceptance = self._state.acceptances.get(retry_key) if retry_key else None
        if acceptance is None or time.time() - acceptance.at > RETRY_KEY_TTL:
            return None
        return acceptance

    def _recipient_count(self, chat_id: str) -> int:
        """LINE counts a message to a group once per member."""
        group = self._state.groups.get(chat_id)
        return max(1, len(group.members)) if group is not None else 1

    def _deliver(self, chat_id: str, messages: list[dict[str, Any]], via: str) -> list[dict[str, str]]:
        """Append the messages to the chat; return the ``sentMessages`` LINE would report."""
        sent = []
        for message in messages:
            self._state.message_counter += 1
            entry = {"id": str(600_000_000_000_000_000 + self._state.message_counter)}
            if message["type"] in QUOTABLE_TYPES:
                entry["quoteToken"] = secrets.token_urlsafe(48)
            sent.append(entry)
            self._state.deliveries.append(Delivery(chat_id, message, via))
        return sent

    def _accept_valid_body(self, _call: _Call) -> _Outcome:
        """The validate/* endpoints: reaching here means the body passed validation."""
        return _ok()

    def _quota(self, _call: _Call) -> _Outcome:
        if self.quota_limit is None:
            return _ok({"type": "none"})
        return _ok({"type": "limited", "value": self.quota_limit})

    def _quota_consumption(self, _call: _Call) -> _Outcome:
        return _ok({"totalUsage": self.consumption})

    def _start_loading(self, _call: _Call) -> _Outcome:
        return _ok(status=202)

    # ---- users and groups ----------------------------------------------------------------

    def _profile_of(self, user_id: str) -> dict[str, str] | None:
        profile = self._state.profiles.get(user_id)
        if profile is None and self.auto_profiles:
            profile = {"userId": user_id, "displayName": f"ผู้ใช้ {user_id[-4:]}", "language": "th"}
        return profile

    def _profile(self, call: _Call) -> _Outcome:
        with self._lock:
            profile = self._profile_of(call.params["userId"])
        return _ok(profile) if profile is not None else _refuse(404, "Not found")

    def _group_summary(self, call: _Call) -> _Outcome:
        group_id = call.params["groupId"]
        with self._lock:
            group = self._state.groups.get(group_id)
        if group is None:
            return _refuse(404, "Not found")
        summary = {"groupId": group_id, "groupName": group.name}
        if group.picture_url is not None:
            summary["pictureUrl"] = group.picture_url
        return _ok(summary)

    def _group_member_profile(self, call: _Call) -> _Outcome:
        user_id = call.params["userId"]
        with self._lock:
            group = self._state.groups.get(call.params["groupId"])
            profile = self._profile_of(user_id) if group and user_id in group.members else None
        if profile is None:
            return _refuse(404, "Not found")
        return _ok({key: profile[key] for key in ("displayName", "userId", "pictureUrl") if key in profile})

    def _leave_group(self, call: _Call) -> _Outcome:
        with self._lock:
            group = self._state.groups.pop(call.params["groupId"], None)
        return _ok() if group is not None else _refuse(404, "Not found")

    def _message_content(self, call: _Call) -> _Outcome:
        with self._lock:
            content = self._state.contents.get(call.params["messageId"])
        if content is None:
            return _refuse(404, "Not found")
        if content.expired:
            return _refuse(410, "Gone")
        return _Outcome(200, content.data, content_type=content.content_type)

    # ---- rich menus ----------------------------------------------------------------------

    def _create_rich_menu(self, call: _Call) -> _Outcome:
        rich_menu_id = f"richmenu-{secrets.token_hex(16)}"
        with self._lock:
            self._state.rich_menus[rich_menu_id] = _RichMenu(dict(call.body))
        return _ok({"richMenuId": rich_menu_id})

    def _list_rich_menus(self, _call: _Call) -> _Outcome:
        with self._lock:
            menus = [{"richMenuId": key, **menu.body} for key, menu in self._state.rich_menus.items()]
        return _ok({"richmenus": menus})

    def _get_rich_menu(self, call: _Call) -> _Outcome:
        rich_menu_id = call.params["richMenuId"]
        with self._lock:
            menu = self._state.rich_menus.get(rich_menu_id)
        if menu is None:
            return _refuse(404, "Not found")
        return _ok({"richMenuId": rich_menu_id, **menu.body})

    def _delete_rich_menu(self, call: _Call) -> _Outcome:
        rich_menu_id = call.params["richMenuId"]
        with self._lock:
            if self._state.rich_menus.pop(rich_menu_id, None) is None:
                return _refuse(404, "Not found")
            if self._state.default_rich_menu == rich_menu_id:
                self._state.default_rich_menu = None
        return _ok()

    def _upload_rich_menu_image(self, call: _Call) -> _Outcome:
        content_type = _mimetype(call.headers)
        if content_type not in ("image/png", "image/jpeg"):
            return _reject(415, "Content-Type must be image/png or image/jpeg")
        if len(call.raw) > RICH_MENU_IMAGE_MAX_BYTES:
            return _reject(413, f"The image must be at most {RICH_MENU_IMAGE_MAX_BYTES} bytes")
        info = image_info(call.raw)
        if info is None or info.content_type != content_type:
            return _reject(400, f"The body is not a {content_type} image")
        if info.size not in RICH_MENU_IMAGE_SIZES:
            return _reject(400, f"Image size {info.size[0]}x{info.size[1]} is not allowed for a rich menu")
        with self._lock:
            menu = self._state.rich_menus.get(call.params["richMenuId"])
            if menu is None:
                return _refuse(404, "Not found")
            return _attach_image(menu, call.raw, content_type, info.size)

    def _download_rich_menu_image(self, call: _Call) -> _Outcome:
        with self._lock:
            menu = self._state.rich_menus.get(call.params["richMenuId"])
        if menu is None or menu.image is None or menu.image_type is None:
            return _refuse(404, "Not found")
        return _Outcome(200, menu.image, content_type=menu.image_type)

    def _set_default_rich_menu(self, call: _Call) -> _Outcome:
        rich_menu_id = call.params["richMenuId"]
        with self._lock:
            menu = self._state.rich_menus.get(rich_menu_id)
            if menu is None:
                return _refuse(404, "Not found")
            if menu.image is None:
                return _reject(400, "must upload richmenu image before applying it to user")
            self._state.default_rich_menu = rich_menu_id
        return _ok()

    def _get_default_rich_menu(self, _call: _Call) -> _Outcome:
        with self._lock:
            rich_menu_id = self._state.default_rich_menu
        if rich_menu_id is None:
            return _refuse(404, "no default richmenu")
        return _ok({"richMenuId": rich_menu_id})

    def _clear_default_rich_menu(self, _call: _Call) -> _Outcome:
        with self._lock:
            self._state.default_rich_menu = None
        return _ok()


def _attach_image(menu: _RichMenu, data: bytes, content_type: str, size: tuple[int, int]) -> _Outcome:
    declared = menu.body.get("size", {})
    if size != (declared.get("width"), declared.get("height")):
        return _reject(400, "The image size must match the rich menu size")
    if menu.image is not None:
        return _reject(400, "An image has already been uploaded to the richmenu")
    menu.image, menu.image_type = data, content_type
    return _ok()


def _already_accepted(previous: _Acceptance) -> _Outcome:
    """LINE's 409 for a retry key it already accepted: not delivered again, not an error."""
    extra = {"sentMessages": previous.sent_messages} if previous.sent_messages else {}
    headers = {"x-line-accepted-request-id": previous.request_id}
    return _refuse(409, "The retry key is already accepted", headers, **extra)


def _fault_outcome(fault: _Fault) -> _Outcome:
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    message = HTTP_STATUS_CODES.get(fault.status, "Injected fault")
    return _Outcome(fault.status, {"message": message}, headers, (f"injected fault: {fault.status}",))


def _mimetype(headers: Headers) -> str:
    return headers.get("Content-Type", "").partition(";")[0].strip().lower()


def _parse_json(raw: bytes) -> Any:
    """The body as JSON, or None when it is empty or not JSON."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _response(outcome: _Outcome, request_id: str) -> Response:
    data = outcome.body if isinstance(outcome.body, bytes) else json.dumps(outcome.body, ensure_ascii=False)
    response = Response(data, status=outcome.status, content_type=outcome.content_type)
    response.headers["x-line-request-id"] = request_id
    response.headers.extend(outcome.headers)
    return response
