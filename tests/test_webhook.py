"""The webhook contract: signatures, limits, malformed bodies, redelivery, isolation of failures."""
from __future__ import annotations

import io
import json

from sqlalchemy import func, select

from bot.webhook import MAX_BODY
from bot.emulator import events as ev
from bot.models import Member, ProcessedEvent

from .helpers import U1, U2


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_console_verify_request(chat):
    assert chat.post([]).status_code == 200


def test_missing_or_bad_signature_is_400_without_side_effects(chat, db, emulator):
    event = ev.follow_event(U1, emulator.issue_reply_token(U1))
    assert chat.post([event], signature="").status_code == 400
    assert chat.post([event], signature="bm90IGEgc2lnbmF0dXJl").status_code == 400
    assert count(db, Member) == 0 and count(db, ProcessedEvent) == 0
    assert emulator.messages_for(U1) == []


def test_signature_is_checked_on_the_raw_body(chat, db, emulator):
    body = ev.encode_body(ev.callback_body([ev.follow_event(U1, emulator.issue_reply_token(U1))]))
    signature = ev.sign(body, chat.secret)
    reformatted = json.dumps(json.loads(body), indent=2).encode()  # same JSON, other bytes
    assert chat.post([], raw=reformatted, signature=signature).status_code == 400
    assert chat.post([], raw=body, signature=signature).status_code == 200


def test_malformed_json_with_valid_signature(chat):
    assert chat.post([], raw=b"{not json").status_code == 400
    assert chat.post([], raw=b'{"destination": "x"}').status_code == 400
    assert chat.post([], raw=b'{"events": "nope"}').status_code == 400


def test_body_over_1mb_is_413(chat):
    raw = b'{"events": [], "pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert chat.post([], raw=raw).status_code == 413


def _big_body(extra: int = 1) -> bytes:
    """A body MAX_BODY + extra bytes long (valid JSON, so only its size can refuse it)."""
    head, tail = b'{"events": [], "pad": "', b'"}'
    return head + b"x" * (MAX_BODY + extra - len(head) - len(tail)) + tail


class _Chunks(io.RawIOBase):
    """A request body arriving in pieces from a generator, its length known to no one."""

    def __init__(self, body: bytes) -> None:
        self.chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))
        self.left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.left:
            self.left = next(self.chunks, b"")
        n = min(len(buffer), len(self.left))
        buffer[:n], self.left = self.left[:n], self.left[n:]
        return n


def _stream_post(chat, body: bytes, *, chunked: bool):
    """POST without Content-Length: chunked from a generator, or a bare input stream."""
    headers = {"Content-Type": "application/json", "X-Line-Signature": ev.sign(body, chat.secret)}
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
    # As a WSGI server passes a body of unknown length: a stream that ends, marked as such.
    environ = {"wsgi.input": _Chunks(body) if chunked else io.BytesIO(body), "wsgi.input_terminated": True}
    response = chat.client.post("/callback", headers=headers, environ_overrides=environ)
    assert "CONTENT_LENGTH" not in response.request.environ
    response.close()
    return response


def test_body_over_1mb_is_413_without_content_length(chat, emulator):
    for chunked in (True, False):
        assert _stream_post(chat, _big_body(), chunked=chunked).status_code == 413, chunked
        assert _stream_post(chat, _big_body(4 * MAX_BODY), chunked=chunked).status_code == 413, chunked
    # Exactly the limit, and a small real event, still get through when streamed.
    assert _stream_post(chat, _big_body(0), chunked=True).status_code == 200
    event = ev.follow_event(U1, emulator.issue_reply_token(U1))
    assert _stream_post(chat, ev.encode_body(ev.callback_body([event])), chunked=True).status_code == 200
    assert emulator.messages_for(U1)


def test_redelivered_event_takes_effect_once(chat, db, emulator):
    leader = chat.user(U1)
    leader.follow()
    leader.tap("ยินยอม")
    leader.say("สมศรี ใจดี")
    before = len(emulator.messages_for(U1))
    leader.resend_last(redelivery=True)   # LINE redelivers
    leader.resend_last(redelivery=False)  # or a duplicate POST
    assert len(emulator.messages_for(U1)) == before  # no second answer, no second effect
    leader.say("0812345678")
    assert "จังหวัด" in leader.last_text() or "ภาค" in leader.last_text()


def test_unknown_event_types_are_ignored_and_others_still_processed(chat, db, emulator):
    weird = {"type": "somethingNew", "mode": "active", "timestamp": 1, "webhookEventId": "01WEIRD",
             "deliveryContext": {"isRedelivery": False}, "source": {"type": "user", "userId": U1}}
    follow = ev.follow_event(U2, emulator.issue_reply_token(U2))
    assert chat.post([weird, follow]).status_code == 200
    assert "สวัสดี" in json.dumps(emulator.messages_for(U2), ensure_ascii=False)


def test_one_failing_event_does_not_lose_the_others(chat, db, emulator, app, monkeypatch):
    dispatcher = app.extensions["khabuan.dispatcher"]
    original = dispatcher.dispatch

    def explode_for_u1(ctx, event):
        if ctx.chat_id == U1:
            raise RuntimeError("boom")
        return original(ctx, event)

    monkeypatch.setattr(dispatcher, "dispatch", explode_for_u1)
    first = ev.follow_event(U1, emulator.issue_reply_token(U1))
    second = ev.follow_event(U2, emulator.issue_reply_token(U2))
    assert chat.post([first, second]).status_code == 200
    # U1 got a kind apology (no stack trace), U2 was served, and U1's event can be retried.
    assert "ขออภัย" in json.dumps(emulator.messages_for(U1), ensure_ascii=False)
    assert "สวัสดี" in json.dumps(emulator.messages_for(U2), ensure_ascii=False)
    ids = set(db.scalars(select(ProcessedEvent.webhook_event_id)))
    assert second["webhookEventId"] in ids and first["webhookEventId"] not in ids
    monkeypatch.setattr(dispatcher, "dispatch", original)
    first = dict(first, replyToken=emulator.issue_reply_token(U1))
    assert chat.post([ev.redeliver(first)]).status_code == 200
    assert "สวัสดี" in json.dumps(emulator.messages_for(U1), ensure_ascii=False)


def test_healthz(app):
    client = app.test_client()
    assert client.get("/healthz").status_code == 200


def test_an_event_on_a_connection_postgresql_dropped_runs_again_on_a_fresh_one(chat, services, db):
    """The web app's pool does not ping before use: after PostgreSQL drops its connections (a restart,
    a failover), the next event fails on a dead one, and runs once more, unseen by the person."""
    import pytest
    from sqlalchemy import text

    from bot.db import make_engine

    if services.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop connections")
    user = chat.user("U" + "7" * 32)
    user.follow()
    user.say("เมนู")
    menu = user.last_message()
    db.close()
    pooled = services.engine.pool.checkedin()
    assert pooled  # the app's connections wait in its pool, unchecked
    # The server cuts every idle connection to this database (from outside the app's pool).
    outside = make_engine(services.engine.url.render_as_string(hide_password=False))
    with outside.connect() as conn:
        cut = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                "AND state = 'idle'")).scalar()
    outside.dispose()
    assert cut >= 1
    user.say("เมนู")
    assert user.last_message() == menu  # the menu again, not the apology
