"""Several web threads against one PostgreSQL: the same person's events never trip over each other."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from bot.emulator import events as ev
from bot.models import Member, ProcessedEvent

NEWCOMER = "U" + "7" * 32


@pytest.fixture
def postgres_only(services):
    if services.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite is the single-process embedded default")


def test_simultaneous_first_events_make_one_member(postgres_only, chat, db, emulator):
    chat.user(NEWCOMER)
    events = [ev.text_event(NEWCOMER, f"สวัสดี {i}", emulator.issue_reply_token(NEWCOMER)) for i in range(12)]
    duplicates = [ev.redeliver(e) for e in events[:4]]

    def post(event):
        return chat.post([event]).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(post, events + duplicates))
    assert statuses == [200] * 16
    assert db.scalar(select(func.count()).select_from(Member)) == 1
    assert db.scalar(select(func.count()).select_from(ProcessedEvent)) == 12
    replies = [m for m in emulator.messages_for(NEWCOMER) if m["_via"] == "reply"]
    assert len(replies) == 12  # each distinct event answered once, redeliveries not at all
