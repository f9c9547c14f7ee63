"""The group digest as a Flex carousel, within LINE's count and byte budgets (bot/ui.carousel_of_dicts).

The bubbles are written as LINE's JSON (plain dicts), not as the SDK's models: a national digest
has ~600 components, and building their pydantic models, then serializing them to measure the
bubbles and again to send them, was most of its rendering time (scripts/bench_digest.py).
"""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from linebot.v3.messaging import FlexMessage

from .. import thai, ui
from ..i18n import N_, _

if TYPE_CHECKING:
    from ..digests import Digest

PROVINCE_ROWS_PER_BUBBLE = 20
ORG_NAME = 40  # characters of an organization's name shown in a table row
SILENT_NAMES = 10  # silent provinces named in full up to this many (a province group, a region)
SILENT_LONGEST = 5  # beyond that, only the longest silent are named, with how long


Node = dict[str, Any]  # a Flex component as LINE's JSON


def _t(text: str, **kw: Any) -> Node:
    """A text component; None values are left out, as the SDK's to_dict does."""
    node: Node = {"type": "text", "text": text or "–"}
    node.update((k, v) for k, v in kw.items() if v is not None)
    return node


def _row(cells: list[str], flexes: list[int], *, bold: bool = False, color: str | None = None) -> Node:
    """A table row: the first cell reads left, the numbers right."""
    contents = [_t(thai.truncate(cell, 60), size="xs", flex=f, align="start" if i == 0 else "end",
                   weight="bold" if bold else None, color=color, wrap=i == 0)
                for i, (cell, f) in enumerate(zip(cells, flexes))]
    return {"type": "box", "layout": "horizontal", "spacing": "sm", "contents": contents}


def _bubble(title: str, subtitle: str, body: list[Any]) -> Node:
    head = [_t(thai.truncate(title, 100), weight="bold", size="md", wrap=True),
            _t(thai.truncate(subtitle, 100), size="xxs", color=ui.MUTED, wrap=True),
            {"type": "separator", "margin": "sm"}]
    return {"type": "bubble", "size": "mega",
            "body": {"type": "box", "layout": "vertical", "spacing": "xs", "contents": head + body}}


def _kv(label: str, value: str) -> Node:
    return _row([label, value], [5, 3])


def _period_label(digest: Digest, locale: str) -> str:
    first, after = digest.period
    last = after - timedelta(days=1)
    if first == last:
        return thai.format_date(first, locale)
    return f"{thai.format_date(first, locale)} – {thai.format_date(last, locale)}"


def _overview(digest: Digest, title: str, subtitle: str, locale: str) -> Node:
    num = lambda n: thai.format_number(n, locale)  # noqa: E731
    body: list[Any] = [
        _kv(_("digest.new_members"), num(digest.new_members)),
        _kv(_("digest.new_orgs"), num(digest.new_orgs)),
        _kv(_("digest.reports"), num(digest.reports)),
        _kv(_("digest.participants"), num(digest.participants)),
        _kv(_("digest.baht"), thai.format_baht(digest.baht, locale)),
        _kv(_("digest.pending"), num(digest.pending)),
    ]
    if digest.pending_oldest:
        body.append(_t(_("digest.pending_oldest"), size="xs", weight="bold", margin="md"))
        body += [_row([thai.truncate(name, ORG_NAME), _days(days, locale)], [5, 2])
                 for name, days in digest.pending_oldest]
    if digest.open_votes:
        body.append(_t(_("digest.open_votes"), size="xs", weight="bold", margin="md"))
        for title_, voted, eligible in digest.open_votes:
            share = f"{round(100 * voted / eligible)}%" if eligible else "–"
            body.append(_row([thai.truncate(title_, ORG_NAME), f"{num(voted)}/{num(eligible)}", share], [5, 2, 1]))
    return _bubble(title, subtitle, body)


def _province_bubbles(digest: Digest, title: str, locale: str, shown: int) -> list[Node]:
    num = lambda n: thai.format_number(n, locale)  # noqa: E731
    lines = digest.provinces[:shown]
    rest = digest.provinces[shown:]
    flexes = [4, 2, 2, 3]
    header = _row([_("digest.col_province"), _("digest.col_reports"), _("digest.col_people"),
                   _("digest.col_baht")], flexes, bold=True, color=ui.MUTED)
    rows = [_row([p.name, num(p.reports), num(p.participants), num(int(p.baht))], flexes) for p in lines]
    if rest:
        rows.append(_row([_("digest.other_provinces", n=num(len(rest))), num(sum(p.reports for p in rest)),
                          num(sum(p.participants for p in rest)), num(int(sum(p.baht for p in rest)))],
                         flexes, color=ui.MUTED))
    rows.append(_row([_("digest.total"), num(digest.reports), num(digest.participants), num(int(digest.baht))],
                     flexes, bold=True))
    pages = [rows[i:i + PROVINCE_ROWS_PER_BUBBLE] for i in range(0, len(rows), PROVINCE_ROWS_PER_BUBBLE)]
    return [_bubble(title, _("digest.page", n=n, of=len(pages)) if len(pages) > 1 else "", [header, *page])
            for n, page in enumerate(pages, start=1)]


def _issues_bubble(digest: Digest, title: str, locale: str) -> Node | None:
    num = lambda n: thai.format_number(n, locale)  # noqa: E731
    body: list[Any] = []
    if digest.issues:
        body.append(_row([_("digest.col_issue"), _("digest.col_reports"), _("digest.col_people")], [5, 2, 2],
                         bold=True, color=ui.MUTED))
        body += [_row([name, num(n), num(people)], [5, 2, 2]) for name, n, people in digest.issues]
    if digest.top_orgs:
        body.append(_t(_("digest.top_orgs"), size="xs", weight="bold", margin="md"))
        body += [_row([thai.truncate(name, ORG_NAME), num(n)], [6, 2]) for name, n in digest.top_orgs]
    return _bubble(title, "", body) if body else None


def _days(days: int, locale: str) -> str:
    """"3 วัน", and "วันนี้" rather than "0 วัน"."""
    return _("digest.today") if days == 0 else _("digest.days", n=thai.format_number(days, locale))


def _silent_bubble(digest: Digest, title: str, locale: str) -> Node | None:
    """How many provinces have no report this month; their names when few (a province group, a
    region), else how many never reported and the longest silent, with how long: a national
    group is not read a block of 75 names."""
    if not digest.silent_provinces:
        return None
    num = lambda n: thai.format_number(n, locale)  # noqa: E731
    body: list[Any] = [_t(_("digest.silent_count", n=num(len(digest.silent_provinces)),
                            of=num(digest.scope_province_count)), size="xs", wrap=True)]
    if len(digest.silent_provinces) <= SILENT_NAMES:
        body.append(_t(", ".join(digest.silent_provinces), size="xs", color=ui.MUTED, wrap=True))
        return _bubble(title, "", body)
    # Provinces that never reported are counted (in a new deployment they are most of them, and
    # naming five of them by alphabet says nothing); the longest silent of the others are named.
    never = sum(1 for _name, days in digest.longest_silent if days is None)
    if never:
        body.append(_t(_("digest.never_reported", n=num(never)), size="xs", wrap=True))
    longest = [(name, days) for name, days in digest.longest_silent if days is not None][:SILENT_LONGEST]
    if longest:
        body.append(_t(_("digest.silent_longest"), size="xs", weight="bold", margin="md"))
        body += [_row([name, _("digest.silent_for", days=_days(days, locale))], [4, 4]) for name, days in longest]
    return _bubble(title, "", body)


def render(digest: Digest, *, weekly: bool, locale: str) -> FlexMessage:
    """The digest as a carousel: overview, provinces (paged), issues and top organizations, silent
    provinces. Province rows are cut (the rest summed into one row) until it fits LINE's limits."""
    title = _(N_("digest.title_weekly") if weekly else N_("digest.title_daily"), scope=digest.scope)
    subtitle = _period_label(digest, locale)
    alt = _("digest.alt", title=title, period=subtitle, reports=thai.format_number(digest.reports, locale),
            members=thai.format_number(digest.new_members, locale),
            orgs=thai.format_number(digest.new_orgs, locale))
    fixed_head = [_overview(digest, title, subtitle, locale)]
    fixed_tail = [b for b in (_issues_bubble(digest, _("digest.by_issue"), locale),
                              _silent_bubble(digest, _("digest.silent"), locale)) if b is not None]
    # Each bubble is serialized once to be measured (that is most of the cost): the fixed ones
    # before the loop, the province pages once per try, and the sizes go on to ui.carousel.
    fixed_sizes = ui.bubble_sizes(fixed_head + fixed_tail)
    head_sizes, tail_sizes = fixed_sizes[:len(fixed_head)], fixed_sizes[len(fixed_head):]
    shown = len(digest.provinces)
    while True:
        provinces = _province_bubbles(digest, _("digest.by_province"), locale, shown) if digest.provinces else []
        bubbles = fixed_head + provinces + fixed_tail
        sizes = head_sizes + ui.bubble_sizes(provinces) + tail_sizes
        if ui.fits_carousel(bubbles, sizes) or shown == 0:
            break
        shown = max(0, shown - 10)
    message, _kept = ui.carousel_of_dicts(alt, bubbles, sizes=sizes)
    return message
