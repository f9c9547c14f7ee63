"""The national assembly's rules: who may vote, opening, casting, closing, counting, reminding.

Functions here take a session and "now" and do one thing to the database (plus the outbox rows
that go with it, in the same transaction); the chat handlers (handlers/assembly.py), the CLI and the
scheduler's jobs all call them, so a rule lives in one place.

Privacy of secret ballots (see models/assembly.py for the schema side): nothing in this module
logs, returns or renders a person's choice, except `cast_vote`, whose outcome goes back only to
the voter in their own 1:1 chat. Results are aggregate queries (GROUP BY option, region).
"""
from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, aliased

from . import scopes, thai, ui
from .cards.assembly import APPROVE, ballot_message, cell_text, option_labels, result_card
from .db import insert_or_skip
from .delivery import enqueue
from .i18n import N_, _, use_locale
from .models.assembly import FEWER, HIDDEN, MAX_OPTION_LABEL, MAX_OPTIONS, SMALL, Cell, Outcome
from .models import (
    AgendaItem,
    AssemblySession,
    Ballot,
    DecisionRule,
    ItemStatus,
    Member,
    Priority,
    Region,
    Role,
    RoleGrant,
    ScopeKind,
    Vote,
    VoteChange,
)
from .scopes import Scope

if TYPE_CHECKING:
    from .services import Services

log = logging.getLogger(__name__)

# The assembly's composition: seats per scope.
SEATS = {ScopeKind.PROVINCE: 3, ScopeKind.GROUP: 2, ScopeKind.REGION: 5}
DEFAULT_ABSTAIN = 2
ABSTAIN_WORDS = ("งดออกเสียง", "abstain", "งด")
REMINDERS = (("24h", timedelta(hours=24)), ("2h", timedelta(hours=2)))


# ---- who ---------------------------------------------------------------------------------------


def is_assembly_secretariat(member: Member | None) -> bool:
    """The assembly is national: its secretariat is a national-scope secretariat (or an admin)."""
    if member is None or not member.active or member.erased_at is not None:
        return False
    return any(g.role in (Role.SECRETARIAT, Role.ADMIN) and Scope.of(g).is_national for g in member.roles)


def secretariat_members(session: Session) -> list[Member]:
    return list(session.scalars(
        select(Member).join(RoleGrant, RoleGrant.member_id == Member.id)
        .where(RoleGrant.role.in_((Role.SECRETARIAT, Role.ADMIN)), RoleGrant.scope_kind == ScopeKind.NATIONAL,
               Member.active.is_(True), Member.erased_at.is_(None))
        .distinct().order_by(Member.id)))


def seat_grants(session: Session) -> list[RoleGrant]:
    """Delegate grants that are seats (province, group or region scope) of active, not erased members."""
    return list(session.scalars(
        select(RoleGrant).join(Member, RoleGrant.member_id == Member.id)
        .where(RoleGrant.role == Role.DELEGATE, RoleGrant.scope_kind.in_(tuple(SEATS)),
               Member.active.is_(True), Member.erased_at.is_(None))
        .order_by(RoleGrant.id)))


def eligible_delegates(session: Session) -> dict[int, int | None]:
    """member id → region id of their seat. Someone holding two seats still has one vote
    (their earliest grant's region); `khabuan delegates check` lists them for the secretariat."""
    regions = scopes.region_ids(session)
    out: dict[int, int | None] = {}
    for grant in seat_grants(session):
        out.setdefault(grant.member_id, regions.get(Scope.of(grant)))
    return out


@dataclass
class SeatReport:
    kind: ScopeKind
    code: str
    name: str
    required: int
    filled: int


def seat_report(session: Session) -> tuple[list[SeatReport], dict[int, list[str]], list[int]]:
    """Seats filled per scope, members holding more than one seat, members with a national
    delegate grant (which is not a seat, so gives no vote)."""
    by_scope: dict[tuple[ScopeKind, str], int] = {}
    seats_of: dict[int, list[str]] = {}
    for grant in seat_grants(session):
        by_scope[(grant.scope_kind, grant.scope_code)] = by_scope.get((grant.scope_kind, grant.scope_code), 0) + 1
        seats_of.setdefault(grant.member_id, []).append(grant.scope)
    rows: list[SeatReport] = []
    for kind, model in scopes.MODELS.items():
        for code, name in session.execute(select(model.code, model.name_th).order_by(model.code)):
            rows.append(SeatReport(kind, code, name, SEATS[kind], by_scope.get((kind, code), 0)))
    national = list(session.scalars(
        select(RoleGrant.member_id).where(RoleGrant.role == Role.DELEGATE, RoleGrant.scope_kind == ScopeKind.NATIONAL)))
    return rows, {m: s for m, s in seats_of.items() if len(s) > 1}, national


# ---- options and the decision -----------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    quorum_met: bool
    outcome: Outcome
    winner: int | None  # the option that reached the required majority, if any
    decisive: int  # votes cast minus abstentions: the base of the majority


def decide(counts: Sequence[int], *, eligible: int, abstain_index: int | None, quorum_percent: int,
           rule: DecisionRule, motion: bool) -> Decision:
    """The result of an item from its counts. Pure, so every edge is easy to test.

    - Quorum: more than `quorum_percent`% of the eligible delegates voted; an abstention is a vote
      (the delegate took part). No eligible delegates, or nobody voting, is never a quorum.
    - Majority base: votes cast minus abstentions. With no decisive votes (nobody voted, or all
      abstained) nothing can pass.
    - MAJORITY: an option needs more than half of that base, so a tie never passes.
      TWO_THIRDS: at least two thirds of it (integer arithmetic, no rounding).
    - A motion (the default approve/reject/abstain) passes only if "approve" is the winner; with
      custom options (choosing between proposals) PASSED means one option carried, named by winner.
    """
    voted = sum(counts)
    quorum_met = eligible > 0 and voted * 100 > eligible * quorum_percent
    decisive = voted - (counts[abstain_index] if abstain_index is not None else 0)
    winner = None
    if decisive > 0:
        for index, n in enumerate(counts):
            if index == abstain_index:
                continue
            carried = n * 2 > decisive if rule is DecisionRule.MAJORITY else n * 3 >= decisive * 2
            if carried:
                winner = index  # at most one option can hold more than half (or two thirds)
                break
    if not quorum_met:
        return Decision(False, Outcome.NO_QUORUM, None, decisive)
    passed = winner is not None and (winner == APPROVE if motion else True)
    return Decision(True, Outcome.PASSED if passed else Outcome.NOT_PASSED, winner, decisive)


def parse_option_lines(text: str) -> tuple[list[str], int | None] | str:
    """Custom options separated by commas, "|" or new lines (chat input arrives on one line):
    2–10 distinct labels of ≤ 40 characters. An option named "งดออกเสียง"/"abstain" is the
    abstention. Returns the message id of the problem instead when the list is not usable."""
    raw = re.split(r"[\n,|]", text)
    labels = [" ".join(part.split()) for part in raw if part.strip()]
    if not 2 <= len(labels) <= MAX_OPTIONS:
        return N_("vote.options_count")
    if any(len(label) > MAX_OPTION_LABEL for label in labels):
        return N_("vote.options_too_long")
    if len({label.casefold() for label in labels}) != len(labels):
        return N_("vote.options_duplicate")
    abstain = [i for i, label in enumerate(labels) if label.casefold() in ABSTAIN_WORDS]
    if len(abstain) > 1 or len(labels) - len(abstain) < 2:  # something to decide between
        return N_("vote.options_count")
    return labels, abstain[0] if abstain else None


# ---- counting ---------------------------------------------------------------------------------


@dataclass
class RegionTally:
    region_id: int | None
    code: str
    name_th: str
    name_en: str
    eligible: int = 0
    voted: int = 0
    counts: list[int] = field(default_factory=list)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_th


@dataclass
class Result:
    item_id: int
    eligible: int
    voted: int
    counts: list[int]
    decision: Decision
    by_region: list[RegionTally]
    final: bool  # the item is closed: these are the final figures
    # What may be shown per region (the small-numbers rule of secret ballots); set by tally().
    breakdown: list[BreakdownRow] = field(default_factory=list)


def tally(session: Session, item: AgendaItem) -> Result:
    """Counts per option and region from aggregate queries only (no per-person rows are read)."""
    n = item.option_count
    regions = {r.id: r for r in session.scalars(select(Region).order_by(Region.id))}
    by_region: dict[int | None, RegionTally] = {}

    def slot(region_id: int | None) -> RegionTally:
        if region_id not in by_region:
            r = regions.get(region_id) if region_id is not None else None
            by_region[region_id] = RegionTally(region_id, r.code if r else "-", r.name_th if r else "ไม่ระบุภาค",
                                               r.name_en if r else "No region", counts=[0] * n)
        return by_region[region_id]

    for region_id, eligible, voted in session.execute(
            select(Ballot.region_id, func.count(), func.count(Ballot.voted_at))
            .where(Ballot.item_id == item.id).group_by(Ballot.region_id)):
        slot(region_id).eligible, slot(region_id).voted = eligible, voted
    counts = [0] * n
    for region_id, option, votes in session.execute(
            select(Vote.region_id, Vote.option_index, func.count())
            .where(Vote.item_id == item.id).group_by(Vote.region_id, Vote.option_index)):
        if 0 <= option < n:
            slot(region_id).counts[option] += votes
            counts[option] += votes
    eligible = item.eligible_count if item.eligible_count is not None else sum(t.eligible for t in by_region.values())
    decision = decide(counts, eligible=eligible, abstain_index=item.abstain_index,
                      quorum_percent=item.quorum_percent, rule=item.rule, motion=not item.custom_options)
    ordered = sorted(by_region.values(), key=lambda t: (t.region_id is None, t.region_id or 0))
    result = Result(item.id, eligible, sum(counts), counts, decision, ordered, item.status is ItemStatus.CLOSED)
    result.breakdown = breakdown_cells(item, result)
    return result


# ---- showing a breakdown without giving a secret ballot away -----------------------------------


@dataclass
class BreakdownRow:
    tally: RegionTally
    cells: list[Cell]  # one per option, in option order
    hidden: bool = False  # every cell is HIDDEN


def breakdown_cells(item: AgendaItem, result: Result) -> list[BreakdownRow]:
    """The per-region breakdown as displayable cells: the ONE place the small-numbers rule lives.
    Every renderer (chat cards, group results) and exporter (JSON, CSV) shows these, never
    `RegionTally.counts` directly.

    An open ballot shows every count (it lists who voted what anyway). A secret ballot keeps its
    turnout per region and its item totals public, and:

    1. Any option cell under 3 votes, 0 included, reads "fewer than 3". A 0 shown next to masked
       1s and 2s would tell them apart, and 0s are how unanimity shows (3 · 0 · 0 is each of three
       delegates' choice). A region with fewer than 3 voters therefore shows no number at all.
    2. A masked cell must not be recoverable by subtraction either: a region's turnout minus its
       shown cells, an option's item total minus its shown cells, and chains of both (see
       `_determined`). While some masked cell of a region with voters has only one possible
       value, a region's whole split is withheld ("not shown", one mark whatever the values, so
       the mark leaks no bound): first the region of that cell, then, if it is already withheld,
       another region with voters (one showing a number for that option first, then the
       smallest), until no masked cell is pinned down.

    Left knowable, by design: the item totals (a unanimous item is unanimous everywhere) and cells
    the totals and turnouts alone already fix (e.g. the only region with voters).
    """
    rows = result.by_region
    n = len(result.counts)
    if not item.secret:
        return [BreakdownRow(t, list(t.counts)) for t in rows]
    masked = [[c < SMALL for c in t.counts] for t in rows]
    hidden: set[int] = set()
    # A region with fewer than 3 voters is withheld already: every cell reads "fewer than 3", which
    # says no more than its turnout does. Hiding it "more" would change nothing.
    small = {r for r, t in enumerate(rows) if t.voted < SMALL}
    while True:
        cells = [[HIDDEN] * n if r in hidden else [FEWER if masked[r][o] else t.counts[o] for o in range(n)]
                 for r, t in enumerate(rows)]
        leak = _determined(rows, cells, result.counts)
        if leak is None:
            break
        r, o = leak
        if r not in hidden and r not in small:
            hidden.add(r)
            continue
        # Already withheld: the numbers elsewhere pin it. Withhold another region with voters,
        # one showing a number for that option first, the fewest voters first.
        others = [x for x in range(len(rows)) if x not in hidden and x not in small and rows[x].voted > 0]
        if not others:
            break  # every split is withheld: what is still fixed, the totals and turnouts fix
        hidden.add(min(others, key=lambda x: (not isinstance(cells[x][o], int), rows[x].voted, x)))
    return [BreakdownRow(t, cells[r], r in hidden) for r, t in enumerate(rows)]


def _determined(rows: Sequence[RegionTally], cells: list[list[Cell]], totals: Sequence[int]) -> tuple[int, int] | None:
    """A masked cell (region with voters, any option) whose value follows from what is shown, or None.

    A reader knows each region's turnout, each option's item total, the shown numbers, that a
    "fewer than 3" cell is 0–2 and a "not shown" one 0–turnout. The unknown cells then form a
    transportation problem: flows from regions (what their turnout leaves after the shown cells)
    to options (what their total leaves), each edge within its bounds. Its integer solutions give
    every cell an interval of values, so a cell is determined exactly when neither its value − 1
    nor its value + 1 is feasible; each test is one small max-flow. Cells that the totals and
    turnouts already fix without any breakdown (an option nobody or everybody chose, the only
    region with voters) are not counted: no mask can hide what the totals say.
    """
    n, everyone = len(totals), sum(t.voted for t in rows)
    unknown = [(r, o) for r, row in enumerate(cells) for o, cell in enumerate(row)
               if not isinstance(cell, int) and rows[r].voted > 0]
    if not unknown:
        return None
    supply = [t.voted - sum(c for c in row if isinstance(c, int)) for t, row in zip(rows, cells)]
    demand = [totals[o] - sum(row[o] for row in cells if isinstance(row[o], int)) for o in range(n)]
    cap = {(r, o): min(rows[r].voted, SMALL - 1) if cells[r][o] == FEWER else rows[r].voted for r, o in unknown}

    def feasible(fixed: tuple[int, int], value: int) -> bool:
        r0, o0 = fixed
        if not 0 <= value <= cap[fixed]:
            return False
        s, d = list(supply), list(demand)
        s[r0] -= value
        d[o0] -= value
        if min(s) < 0 or min(d) < 0:
            return False
        return _max_flow(s, d, {e: c for e, c in cap.items() if e != fixed}) == sum(s) == sum(d)

    lonely = sum(1 for t in rows if t.voted > 0) <= 1
    for r, o in unknown:
        if lonely or totals[o] in (0, everyone):
            continue
        value = rows[r].counts[o]
        if not feasible((r, o), value - 1) and not feasible((r, o), value + 1):
            return r, o
    return None


def _max_flow(supply: list[int], demand: list[int], cap: dict[tuple[int, int], int]) -> int:
    """Max flow source → regions → options → sink (augmenting paths; the graphs are tiny)."""
    flow: dict[tuple[int, int], int] = dict.fromkeys(cap, 0)
    sent_r, sent_o = [0] * len(supply), [0] * len(demand)
    total = 0
    while True:
        # Breadth-first search over the residual graph; nodes ("r", i) and ("o", j).
        start = [("r", r) for r in range(len(supply)) if sent_r[r] < supply[r]]
        parent: dict[tuple[str, int], tuple[str, int] | None] = {node: None for node in start}
        queue, end = list(start), None
        while queue and end is None:
            kind, i = queue.pop(0)
            steps = ([("o", o) for (r, o), c in cap.items() if r == i and flow[(r, o)] < c] if kind == "r"
                     else [("r", r) for (r, o), f in flow.items() if o == i and f > 0])
            for node in steps:
                if node not in parent:
                    parent[node] = (kind, i)
                    if node[0] == "o" and sent_o[node[1]] < demand[node[1]]:
                        end = node
                        break
                    queue.append(node)
        if end is None:
            return total
        node: tuple[str, int] | None = end
        while node is not None:  # one unit along the path: the numbers are small
            prev = parent[node]
            if prev is None:
                sent_r[node[1]] += 1
            elif node[0] == "o":
                flow[(prev[1], node[1])] += 1
            else:
                flow[(node[1], prev[1])] -= 1
            node = prev
        sent_o[end[1]] += 1
        total += 1


def turnout(session: Session, item: AgendaItem) -> tuple[int, int]:
    """(voted, eligible) — what may be shown while an item is open (no counts per option)."""
    voted = session.scalar(select(func.count()).where(Ballot.item_id == item.id, Ballot.voted_at.is_not(None)))
    return int(voted or 0), int(item.eligible_count or 0)


def result_dict(session: Session, item: AgendaItem, result: Result) -> dict[str, Any]:
    """The export (`khabuan agenda results`): totals, and for an open (non-secret) ballot, who
    voted what. A secret ballot lists who voted, never their choice."""
    with use_locale("th"):
        labels = option_labels(item)
    data: dict[str, Any] = {
        "item_id": item.id, "title": item.title, "session": item.session.name, "status": item.status.value,
        "secret": item.secret, "rule": item.rule.value, "quorum_percent": item.quorum_percent,
        "opens_at": item.opens_at.isoformat(), "closes_at": item.closes_at.isoformat(),
        "eligible": result.eligible, "voted": result.voted, "quorum_met": result.decision.quorum_met,
        "outcome": result.decision.outcome.value,
        "winner": labels[result.decision.winner] if result.decision.winner is not None else None,
        "final": result.final,
        "options": [{"index": i, "label": label, "votes": result.counts[i], "abstain": i == item.abstain_index}
                    for i, label in enumerate(labels)],
    }
    with use_locale("th"):  # masked cells read as the bot shows them: "น้อยกว่า 3", "ไม่แสดง"
        data["by_region"] = [
            {"region": row.tally.code, "name": row.tally.name_th, "eligible": row.tally.eligible,
             "voted": row.tally.voted,
             "votes": {label: cell if isinstance(cell, int) else cell_text(cell, "th")
                       for label, cell in zip(labels, row.cells)}}
            for row in result.breakdown]
    voters = session.execute(
        select(Member.line_user_id, Member.full_name, Member.display_name, Ballot.voted_at)
        .join(Ballot, Ballot.member_id == Member.id)
        .where(Ballot.item_id == item.id, Ballot.voted_at.is_not(None)).order_by(Member.id)).all()
    data["voted_members"] = [{"line_user_id": uid, "name": full or display or ""} for uid, full, display, _at in voters]
    if not item.secret:
        data["votes"] = [{"line_user_id": uid, "name": name, "choice": labels[option]}
                         for _id, uid, name, option in open_ballot_votes(session, item)]
    return data


def open_ballot_votes(session: Session, item: AgendaItem) -> list[tuple[int, str, str, int]]:
    """Who voted what — for open ballots only. The one query that joins a person to a choice,
    and it refuses secret items outright."""
    if item.secret:
        raise PermissionError("a secret ballot has no list of who voted what")
    rows = session.execute(
        select(Member.id, Member.line_user_id, func.coalesce(Member.full_name, Member.display_name, ""),
               Vote.option_index)
        .join(Ballot, Ballot.member_id == Member.id).join(Vote, Vote.ballot_id == Ballot.id)
        .where(Ballot.item_id == item.id).order_by(Vote.option_index, Member.id))
    return [(member_id, uid, name, option) for member_id, uid, name, option in rows]


# ---- opening ----------------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(16)


@dataclass
class Opened:
    ballots: int
    outbox_ids: list[int]


def open_item(session: Session, item: AgendaItem, now: datetime, tz: ZoneInfo) -> Opened | None:
    """Open a scheduled item: snapshot the eligible delegates and queue their ballots.

    The status moves with a conditional UPDATE, so the minute job and a secretariat's "open now"
    racing each other open it once (the loser gets None). Ballots go out per language, one
    multicast per 500 delegates, deduplicated per item and language.
    """
    moved = session.execute(
        update(AgendaItem).where(AgendaItem.id == item.id, AgendaItem.status == ItemStatus.SCHEDULED)
        .values(status=ItemStatus.OPEN, opened_at=now).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        return None
    session.refresh(item)
    voters = eligible_delegates(session)
    if voters:
        session.execute(insert(Ballot), [
            {"item_id": item.id, "member_id": member_id, "region_id": region_id, "changes": 0}
            for member_id, region_id in voters.items()])
    item.eligible_count = len(voters)
    outbox: list[int] = []
    for locale, users in _recipients_by_locale(session, select(Ballot.member_id).where(Ballot.item_id == item.id)):
        with use_locale(locale):
            rows = enqueue(session, users, [ballot_message(item, tz, locale)], now=now, kind="vote.ballot",
                           priority=Priority.HIGH, urgent=True, dedupe_key=f"vote:{item.id}:ballot:{locale}")
        outbox += [r.id for r in rows]
    log.info("agenda item %s opened with %d eligible delegates", item.id, len(voters))
    return Opened(len(voters), outbox)


def _recipients_by_locale(session: Session, member_ids: Any) -> Iterable[tuple[str, list[str]]]:
    groups: dict[str, list[str]] = {}
    for user_id, locale in session.execute(
            select(Member.line_user_id, Member.locale)
            .where(Member.id.in_(member_ids), Member.active.is_(True), Member.erased_at.is_(None))
            .order_by(Member.id)):
        groups.setdefault(locale, []).append(user_id)
    return sorted(groups.items())


def open_due_items(session: Session, now: datetime, tz: ZoneInfo) -> int:
    """Open every scheduled item whose window has begun (the minute job). Returns how many."""
    due = session.scalars(select(AgendaItem).where(
        AgendaItem.status == ItemStatus.SCHEDULED, AgendaItem.opens_at <= now).order_by(AgendaItem.opens_at)).all()
    opened = 0
    for item in due:
        if item.closes_at <= now:
            # Its whole window passed with no scheduler running: opening it now would send ballots
            # nobody can use. The secretariat sees it as "not opened" and can withdraw or re-import.
            log.warning("agenda item %s missed its voting window; left unopened", item.id)
            continue
        if open_item(session, item, now, tz) is not None:
            opened += 1
    return opened


# ---- voting -----------------------------------------------------------------------------------


class Cast(str, Enum):
    RECORDED = "recorded"
    CHANGED = "changed"
    SAME = "same"  # tapped the option already recorded (double tap, replay): nothing to do
    LOCKED = "locked"  # already voted and this item does not allow changes
    UNKNOWN = "unknown"  # no such ballot: forged or from a deleted item
    NOT_ELIGIBLE = "not_eligible"
    NOT_OPEN = "not_open"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    CONFIRM = "confirm"  # a first vote on an item that allows no change: ask before recording it


@dataclass
class CastResult:
    status: Cast
    item: AgendaItem | None = None
    option: int | None = None  # only for the voter's own reply
    # Whether the voter has other open items left to vote on, when it was read with the ballot
    # (the "next ballot" chip of the reply, without another query); None: not known.
    more_ballots: bool | None = None


def check_vote(session: Session, token: str, option: int, member: Member, now: datetime) -> CastResult | None:
    """Before a tap is cast: its refusal, Cast.CONFIRM when it would be a first vote on an item that
    allows no change (irreversible, so asked once more), or None when it may be cast at once.
    A plain read: cast_vote makes every check again, under its lock, when the vote is cast."""
    item = session.scalar(select(AgendaItem).where(AgendaItem.token == token)) if token else None
    if item is None:
        return CastResult(Cast.UNKNOWN)
    if not 0 <= option < item.option_count:
        return CastResult(Cast.UNKNOWN, item)
    refused = _refusal(item, now)
    if refused is not None:
        return CastResult(refused, item)
    ballot = session.scalar(select(Ballot).where(Ballot.item_id == item.id, Ballot.member_id == member.id))
    if ballot is None or not member.active or member.erased_at is not None:
        return CastResult(Cast.NOT_ELIGIBLE, item)
    if item.allow_change or ballot.voted_at is not None:
        return None  # changeable, or a repeat or change cast_vote answers (SAME, LOCKED)
    return CastResult(Cast.CONFIRM, item, option)


def cast_vote(session: Session, token: str, option: int, member: Member, now: datetime) -> CastResult:
    """Record (or change) a delegate's vote; every check is made here, none is taken from the tap.

    Few statements, one lock: a first vote is SELECT item FOR SHARE, SELECT ballot (with whether
    other ballots wait, for the reply), INSERT vote ON CONFLICT DO NOTHING, UPDATE ballot. The unique constraint on votes.ballot_id, not a row
    lock, decides which of two simultaneous first taps records the vote; the other finds the
    vote and goes on as a repeat or a change (which locks the vote row it changes)."""
    if not token:
        return CastResult(Cast.UNKNOWN)
    # A shared lock, taken by the first read: votes do not wait for each other, but closing
    # (FOR UPDATE) waits for the votes in flight, and every later vote then reads the item closed
    # (a locking read returns the newest version): none slips past the count. A late tap waits
    # for a close in progress at most, and is then refused.
    item = session.scalar(select(AgendaItem).where(AgendaItem.token == token).with_for_update(read=True)
                          .execution_options(populate_existing=True))
    if item is None:
        return CastResult(Cast.UNKNOWN)
    if not 0 <= option < item.option_count:
        return CastResult(Cast.UNKNOWN, item)
    refused = _refusal(item, now)
    if refused is not None:
        return CastResult(refused, item)
    # The ballot, and in the same statement whether other open items wait for this voter's vote.
    other, other_item = aliased(Ballot), aliased(AgendaItem)
    more = (select(other.id).join(other_item, other_item.id == other.item_id)
            .where(other.member_id == member.id, other.item_id != item.id, other.voted_at.is_(None),
                   other_item.status == ItemStatus.OPEN, other_item.closes_at > now).exists())
    row = session.execute(select(Ballot, more).where(Ballot.item_id == item.id, Ballot.member_id == member.id)).first()
    ballot, more_ballots = (row[0], bool(row[1])) if row is not None else (None, None)
    if ballot is None or not member.active or member.erased_at is not None:
        return CastResult(Cast.NOT_ELIGIBLE, item)
    if ballot.voted_at is None:
        recorded = session.execute(
            insert_or_skip(session, Vote, "ballot_id")
            .values(item_id=item.id, ballot_id=ballot.id, option_index=option, region_id=ballot.region_id)
            .returning(Vote.id)).first()
        if recorded is not None:
            ballot.voted_at = now
            return CastResult(Cast.RECORDED, item, option, more_ballots)
        # A simultaneous tap on the same ballot recorded its vote first (PostgreSQL waited for it
        # to commit): this one is a repeat or a change of that vote.
    vote = session.scalar(select(Vote).where(Vote.ballot_id == ballot.id).with_for_update()
                          .execution_options(populate_existing=True))
    if vote is None:  # voted, then the link was cut: the item closed under us
        return CastResult(Cast.CLOSED, item)
    if vote.option_index == option:
        return CastResult(Cast.SAME, item, option, more_ballots)
    if not item.allow_change:
        return CastResult(Cast.LOCKED, item)
    session.add(VoteChange(item_id=item.id, ballot_id=ballot.id, secret=item.secret, changed_at=now,
                           from_option=None if item.secret else vote.option_index,
                           to_option=None if item.secret else option))
    vote.option_index = option
    # Counted in SQL: the ballot row is not locked, the vote row is (changes are one at a time).
    ballot.changes = Ballot.changes + 1
    return CastResult(Cast.CHANGED, item, option, more_ballots)


def _refusal(item: AgendaItem, now: datetime) -> Cast | None:
    if item.status is ItemStatus.WITHDRAWN:
        return Cast.WITHDRAWN
    if item.status is ItemStatus.CLOSED or (item.status is ItemStatus.OPEN and now >= item.closes_at):
        return Cast.CLOSED
    if item.status is not ItemStatus.OPEN:
        return Cast.NOT_OPEN
    return None


def current_sessions(session: Session, today: date) -> list[AssemblySession]:
    """Sessions still to come or with an item open or scheduled, soonest first (the secretariat's
    screen). With none, the newest session, so its results stay one tap away."""
    live = select(AgendaItem.session_id).where(AgendaItem.status.in_((ItemStatus.OPEN, ItemStatus.SCHEDULED)))
    found = list(session.scalars(select(AssemblySession).where(
        (AssemblySession.held_on >= today) | AssemblySession.id.in_(live))
        .order_by(AssemblySession.held_on, AssemblySession.id)))
    if found:
        return found
    newest = session.scalar(select(AssemblySession).order_by(AssemblySession.held_on.desc(),
                                                             AssemblySession.id.desc()))
    return [newest] if newest is not None else []


def unvoted_open_items(session: Session, member: Member, now: datetime) -> list[AgendaItem]:
    """Open items this member may still vote on ("my ballots"), closing soonest first."""
    return list(session.scalars(
        select(AgendaItem).join(Ballot, Ballot.item_id == AgendaItem.id)
        .where(Ballot.member_id == member.id, Ballot.voted_at.is_(None),
               AgendaItem.status == ItemStatus.OPEN, AgendaItem.closes_at > now)
        .order_by(AgendaItem.closes_at, AgendaItem.id)))


# ---- reminders --------------------------------------------------------------------------------


def send_reminders(session: Session, now: datetime, tz: ZoneInfo) -> int:
    """24 h and 2 h before close, remind eligible delegates who have not voted.

    A reminder goes only if the item was already open at its mark (an item opened an hour before
    closing gets no "24 hours left"), and the 24 h one is skipped once the 2 h mark has passed.
    Dedupe keys per item, mark and language make re-runs queue nothing. Returns rows queued.
    """
    queued = 0
    items = session.scalars(select(AgendaItem).where(
        AgendaItem.status == ItemStatus.OPEN, AgendaItem.closes_at > now,
        AgendaItem.closes_at <= now + REMINDERS[0][1])).all()
    for item in items:
        mark = None
        for name, before in reversed(REMINDERS):  # the latest mark that has passed
            if now >= item.closes_at - before:
                mark = (name, before)
                break
        if mark is None or item.opened_at is None or item.opened_at > item.closes_at - mark[1]:
            continue
        name = mark[0]
        pending = select(Ballot.member_id).where(Ballot.item_id == item.id, Ballot.voted_at.is_(None))
        for locale, users in _recipients_by_locale(session, pending):
            with use_locale(locale):
                messages = [ui.text(_("vote.reminder", title=item.title,
                                      time=thai.format_datetime(item.closes_at, locale, tz))),
                            ballot_message(item, tz, locale)]
                # The 24 h reminder may wait for the end of quiet hours (a day is left); the 2 h one
                # may not: an item closing at 08:00 would otherwise be closed before it arrives.
                rows = enqueue(session, users, messages, now=now, kind=f"vote.reminder_{name}",
                               priority=Priority.NORMAL,
                               urgent=name == "2h", dedupe_key=f"vote:{item.id}:remind{name}:{locale}")
            queued += len(rows)
    return queued


# ---- closing ----------------------------------------------------------------------------------


@dataclass
class Closed:
    result: Result
    outbox_ids: list[int]


def close_item(session: Session, item: AgendaItem, now: datetime, tz: ZoneInfo) -> Closed | None:
    """Close an open item (at closes_at, or early): count, unlink secret votes, tell the secretariat.

    The item row is locked first, so votes in flight finish (and are counted) and later ones see
    it closed. Returns None if it was not open (already closed by someone else, or withdrawn).
    """
    session.execute(select(AgendaItem.id).where(AgendaItem.id == item.id).with_for_update())
    session.refresh(item)
    if item.status is not ItemStatus.OPEN:
        return None
    item.status, item.closed_at = ItemStatus.CLOSED, now
    session.flush()
    if item.secret:
        _unlink_votes(session, item)
    result = tally(session, item)
    outbox: list[int] = []
    for locale, users in _recipients_by_locale(session, [m.id for m in secretariat_members(session)]):
        with use_locale(locale):
            rows = enqueue(session, users, [result_card(item, result, tz, locale)], now=now, kind="vote.result",
                           priority=Priority.HIGH, urgent=True, dedupe_key=f"vote:{item.id}:result:{locale}")
        outbox += [r.id for r in rows]
    log.info("agenda item %s closed: %d of %d voted, %s", item.id, result.voted, result.eligible,
             result.decision.outcome.value)
    return Closed(result, outbox)


def _unlink_votes(session: Session, item: AgendaItem) -> None:
    # Once a secret item can take no more votes, nothing needs to know whose vote is whose.
    session.execute(update(Vote).where(Vote.item_id == item.id).values(ballot_id=None)
                    .execution_options(synchronize_session=False))


def close_due_items(session: Session, now: datetime, tz: ZoneInfo) -> int:
    due = session.scalars(select(AgendaItem).where(
        AgendaItem.status == ItemStatus.OPEN, AgendaItem.closes_at <= now).order_by(AgendaItem.closes_at)).all()
    return sum(1 for item in due if close_item(session, item, now, tz) is not None)


def withdraw_item(session: Session, item: AgendaItem, now: datetime) -> bool:
    """Take an item off the agenda (before or during voting); its votes will never be counted."""
    session.execute(select(AgendaItem.id).where(AgendaItem.id == item.id).with_for_update())
    session.refresh(item)
    if item.status not in (ItemStatus.SCHEDULED, ItemStatus.OPEN):
        return False
    item.status, item.closed_at = ItemStatus.WITHDRAWN, now
    session.flush()
    if item.secret:
        _unlink_votes(session, item)
    return True


# ---- what people receive ----------------------------------------------------------------------


# ---- scheduled jobs ---------------------------------------------------------------------------


def _job(work: Any) -> Any:
    def run(services: Services, now: datetime) -> int:
        from .db import transaction

        with transaction(services.session_factory) as session:
            return int(work(session, now, services.settings.timezone))
    run.__name__ = work.__name__
    return run


def register_jobs(registry: Any) -> None:
    """Every minute: open what is due, close what is due, remind who has not voted.

    Each job is safe to run twice for the same minute (conditional status updates, dedupe keys).
    """
    from .jobs import JobSpec

    every_minute = {"minute": "*"}
    registry.add(JobSpec("assembly.open_due", _job(open_due_items), every_minute,
                         "open agenda items whose voting window has begun and send the ballots"))
    registry.add(JobSpec("assembly.close_due", _job(close_due_items), every_minute,
                         "close agenda items at closes_at and send the results to the secretariat"))
    registry.add(JobSpec("assembly.remind", _job(send_reminders), every_minute,
                         "remind delegates who have not voted, 24 h and 2 h before an item closes"))
