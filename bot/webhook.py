"""POST /callback: signature on the raw body, once-only events, one transaction each."""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, abort, current_app, make_response, request
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhook import UnknownEvent, WebhookParser
from linebot.v3.webhooks import Event
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from werkzeug.wsgi import get_input_stream

from . import metrics, postback, ui
from .context import Context
from .db import insert_or_skip
from .i18n import _, use_locale
from .lineport import LiveLineReads, Prefetched, prefetch
from .models import ConversationState, Member, ProcessedEvent, happening_at, utcnow

if TYPE_CHECKING:
    from .dispatch import Dispatcher
    from .services import Services

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)
MAX_REPLY = 5
MAX_BODY = 1024 * 1024  # LINE's webhook bodies are far smaller; anything bigger is not LINE


@bp.post("/callback")
def callback() -> Response:
    services = current_app.extensions["khabuan"]
    dispatcher = current_app.extensions["khabuan.dispatcher"]
    raw = _read_body(current_app.config["MAX_CONTENT_LENGTH"])
    signature = request.headers.get("X-Line-Signature", "")
    if not signature:
        abort(400, "missing signature")
    try:
        body = raw.decode("utf-8")
        payload = WebhookParser(services.settings.channel_secret).parse(body, signature, as_payload=True)
        raw_events = json.loads(body)["events"]
    except InvalidSignatureError:
        log.warning("webhook with a bad signature rejected")
        abort(400, "bad signature")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        abort(400, "malformed body")
    if not isinstance(raw_events, list):
        abort(400, "malformed body")

    queued: list[int] = []
    for raw_event, event in zip(raw_events, payload.events):
        queued += handle_event(services, dispatcher, raw_event, event)
    response = make_response("OK", 200)
    if queued:
        # Pushes the events queued go out after LINE has its 200 (the server closes the
        # response once sent), so they never hold up the webhook; the worker retries leftovers.
        response.call_on_close(lambda: _deliver_quietly(services, queued))
    return response


def _read_body(limit: int) -> bytes:
    """The body, at most `limit` bytes; anything longer is a 413, whether or not it said its
    length (a chunked body or a bare stream has none): never more than limit+1 bytes are read."""
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    # The WSGI stream itself (bounded by Content-Length when given), with no limit of werkzeug's:
    # this loop is the limit, so a body of exactly `limit` bytes passes.
    stream = get_input_stream(request.environ, max_content_length=None)
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(min(64 * 1024, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        abort(413)
    return b"".join(chunks)


def _deliver_quietly(services: Any, outbox_ids: list[int]) -> None:
    try:
        services.deliver_now(outbox_ids)
    except Exception:  # the rows stay pending; the worker sends them
        log.exception("immediate delivery of %d outbox rows failed; left to the worker", len(outbox_ids))


def _read_line_first(services: Services, dispatcher: Dispatcher, event: Event, event_id: str,
                     source_type: str, chat_id: str, actor_id: str | None) -> Prefetched:
    """What the event's handler will read from LINE, asked now, while no transaction is open.

    The event's transaction locks the member's row (and on SQLite takes the write lock), so a
    call to LINE inside it would make the person's next event, or everyone's, wait for LINE.
    """
    def flow_now() -> tuple[str, str] | None:
        with services.session_factory() as session:  # a short read, no lock; closed at once
            row = session.execute(select(ConversationState.flow, ConversationState.step).join(Member).where(
                Member.line_user_id == chat_id)).first()
            return (row[0], row[1]) if row else None

    wants = dispatcher.wants(event, source_type=source_type, chat_id=chat_id, actor_id=actor_id,
                             flow_now=flow_now)
    if not wants:
        return Prefetched()
    if event_id:
        with services.session_factory() as session:
            if session.get(ProcessedEvent, event_id) is not None:
                return Prefetched()  # a redelivery: skipped below, so LINE need not be asked
    return prefetch(LiveLineReads(services.gateway), wants)


def event_kind(raw: dict[str, Any]) -> str:
    """The event's type for logs and metric labels: `follow`, `postback`, `message.text`…

    Taken from LINE's own vocabulary and cut short, so a label never carries anything else.
    """
    kind = str(raw.get("type") or "unknown")
    message = raw.get("message")
    if kind == "message" and isinstance(message, dict):
        kind = f"message.{message.get('type') or 'unknown'}"
    return kind[:40]


def handle_event(services: Services, dispatcher: Dispatcher, raw: dict[str, Any], event: Event) -> list[int]:
    """Process one event in its own transaction; failures are contained and logged by id.

    Returns the outbox rows it queued, to be sent once the response is out. Each event gets one
    log line (its webhookEventId, type, outcome and duration; never what the person said) and
    is counted in the metrics (bot.metrics).
    """
    started = time.perf_counter()
    event_id = str(raw.get("webhookEventId") or "")
    kind = event_kind(raw)
    outcome = "failed"
    try:
        queued, outcome = _handle_event(services, dispatcher, raw, event, event_id)
        return queued
    finally:
        elapsed = time.perf_counter() - started
        metrics.WEBHOOK_EVENTS.labels(kind, outcome).inc()
        metrics.WEBHOOK_SECONDS.labels(kind).observe(elapsed)
        log.info("webhook event %s %s: %s in %.0f ms", event_id or "-", kind, outcome, elapsed * 1000,
                 extra={"webhook_event_id": event_id, "event_type": kind, "outcome": outcome,
                        "duration_ms": round(elapsed * 1000, 1)})


def _handle_event(services: Services, dispatcher: Dispatcher, raw: dict[str, Any], event: Event,
                  event_id: str) -> tuple[list[int], str]:
    if isinstance(event, UnknownEvent):
        log.debug("unknown event type %r ignored (%s)", raw.get("type"), event_id)
        return [], "ignored"
    source = getattr(event, "source", None)
    source_type = getattr(source, "type", None) or "unknown"
    chat_id = (getattr(source, "group_id", None) or getattr(source, "room_id", None)
               or getattr(source, "user_id", None))
    reply_token = getattr(event, "reply_token", None)
    if chat_id is None:
        log.debug("event %s without a source ignored", event_id)
        return [], "ignored"

    actor_id = getattr(source, "user_id", None)
    try:
        line = _read_line_first(services, dispatcher, event, event_id, source_type, chat_id, actor_id)
    except Exception:  # e.g. the database blinked during the peek: handle the event without LINE's answers
        log.exception("event %s (%s): LINE reads before the transaction failed", event_id, event.type)
        line = Prefetched()
    messages: list = []
    ctx: Context | None = None
    now = utcnow()  # the edge reads the clock once; everything this event does happens at `now`
    # The locale set while dispatching (the person's) stays in force for the apology below.
    with use_locale(services.settings.default_locale), happening_at(now):
        for attempt in (1, 2):
            try:
                messages, ctx = _transaction(services, dispatcher, event, event_id, now, line, source_type,
                                             chat_id, reply_token, actor_id)
                break
            except DBAPIError as exc:
                # The web app's pool does not ping each connection before use (one round trip per
                # event saved, bot/app.py): a connection PostgreSQL dropped (a restart, a failover)
                # fails its first statement instead, the pool discards every connection of that
                # age, and the event runs once more on a fresh one. Nothing of it was committed (or,
                # if the commit went through as the connection dropped, the retry finds the event id).
                if attempt == 1 and exc.connection_invalidated:
                    log.warning("event %s: database connection lost; trying once more", event_id)
                    continue
                _apologize(services, event, event_id, reply_token, source_type)
                return [], "failed"
            except Exception:
                _apologize(services, event, event_id, reply_token, source_type)
                return [], "failed"
        if ctx is None:  # a redelivery: skipped
            return [], "duplicate"

    if messages and reply_token:
        if len(messages) > MAX_REPLY:
            log.error("handler produced %d messages for one reply; extra dropped", len(messages))
            messages = messages[: MAX_REPLY - 1] + messages[-1:]
        services.gateway.reply(reply_token, messages)
    return (list(ctx.after_commit) if ctx is not None else []), "handled"


def _transaction(services: Services, dispatcher: Dispatcher, event: Event, event_id: str, now: datetime,
                 line: Prefetched, source_type: str, chat_id: str, reply_token: str | None,
                 actor_id: str | None) -> tuple[list, Context | None]:
    """The event's one transaction: its id recorded once, then the dispatcher. (None context: a redelivery.)"""
    with services.session_factory() as session, session.begin():
        # Once only, in one statement: a redelivery finds the row (or waits for the
        # transaction still handling the first delivery) and inserts nothing.
        if event_id and session.execute(
                insert_or_skip(session, ProcessedEvent, "webhook_event_id")
                .values(webhook_event_id=event_id, event_type=event.type, processed_at=now)
                .returning(ProcessedEvent.webhook_event_id)).first() is None:
            log.debug("duplicate event %s skipped", event_id)
            return [], None
        ctx = Context(
            session=session, settings=services.settings, line=line, now=now,
            source_type=source_type, chat_id=chat_id, reply_token=reply_token, actor_id=actor_id,
        )
        return dispatcher.dispatch(ctx, event), ctx


def _apologize(services: Services, event: Event, event_id: str, reply_token: str | None, source_type: str) -> None:
    # Nothing of this event was saved, so LINE's redelivery (or the person) can try again.
    log.exception("event %s (%s) failed; rolled back", event_id, event.type)
    if reply_token:
        # Nothing can be read now (the transaction is gone), so the way forward is the
        # menu and help, which need no data: never an apology with nothing to tap.
        chips = [ui.Chip(_("menu.menu"), postback.encode(cmd="menu")),
                 ui.Chip(_("menu.help"), postback.encode(cmd="help"))] if source_type == "user" else []
        services.gateway.reply(reply_token, [ui.text(_("common.error_retry"), chips)])
