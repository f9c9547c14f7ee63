"""Charts drawn on the server: the 12-month activity chart (PNG) and the provinces' tile-grid map (SVG).

Figures arrive computed (bot/stats.py); this module only draws them. The chart is drawn by
matplotlib's Agg backend (no display, no browser) with the packaged Sarabun font, so Thai labels
and Buddhist-era months ("พ.ย. 69") look the same on any server and nothing is downloaded. Its PNG
(1024 × 640) stays far below LINE's image limits (preview ≤ 1 MB, original ≤ 10 MB).

The map is a tile grid: one square per province, placed from bot/data/province_tiles.csv (roughly
where each province lies), coloured by this month's reports. Silent provinces are hatched, not only
coloured, and every tile has a <title> naming the province and its figures for screen readers.

Rendering level: imports infrastructure only (catalogs, Thai dates, the data package).
"""
from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass
from functools import cache
from html import escape
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from .i18n import _, use_locale
from .thai import format_date, format_month, format_number

if TYPE_CHECKING:
    from .stats import MonthPoint, ProvinceActivity

WIDTH, HEIGHT, DPI = 1024, 640, 128
LINE_PREVIEW_LIMIT = 1_000_000  # bytes: LINE's preview image limit (the original may be 10 MB)

# Colours: one blue ramp for activity (colour-blind safe), a warm grey for silent provinces.
BAR = "#2b6cb0"
LINE_COLOUR = "#dd6b20"
LEVEL_COLOURS = ("#f1e9e2", "#c6dbef", "#6baed6", "#2171b5", "#08306b")  # silent, low … high
LEVEL_TEXT = ("#4a3f35", "#0b2545", "#0b2545", "#ffffff", "#ffffff")

# matplotlib keeps global state (font cache, rcParams); one figure at a time per process.
_LOCK = threading.Lock()


def _font_path(weight: str = "Regular") -> Path:
    import fontpkg_sarabun

    return Path(fontpkg_sarabun.ROOT) / "files" / f"Sarabun-{weight}.ttf"


@cache
def _matplotlib():  # type: ignore[no-untyped-def]
    """matplotlib with the Agg backend and Sarabun registered, imported on first use (it is slow to import)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import font_manager, pyplot

    for weight in ("Regular", "Bold"):
        font_manager.fontManager.addfont(str(_font_path(weight)))
    return pyplot


def monthly_chart_png(points: Sequence[MonthPoint], *, locale: str, title: str) -> bytes:
    """Reports per month as bars (figures on top), participants as a line on the right axis."""
    plt = _matplotlib()
    from matplotlib.ticker import MaxNLocator

    with use_locale(locale), _LOCK:
        # "พ.ย." over "69": twelve months side by side fit at a readable size.
        labels = [format_month(p.month, locale).replace(" ", "\n") for p in points]
        reports = [p.reports for p in points]
        people = [p.participants for p in points]
        with plt.rc_context({"font.family": "Sarabun", "font.size": 13, "axes.titlesize": 20,
                             "axes.titleweight": "bold", "svg.fonttype": "none"}):
            fig, ax = plt.subplots(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
            try:
                x = range(len(points))
                bars = ax.bar(x, reports, color=BAR, width=0.65, label=_("chart.reports"), zorder=2)
                figures = [format_number(n, locale) if n else "" for n in reports]
                widest = max((len(f) for f in figures), default=0)  # "153,855" must fit over its bar
                ax.bar_label(bars, labels=figures, padding=3, fontsize=11 if widest <= 5 else 9, color="#1a202c")
                ax.set_xticks(list(x), labels, fontsize=12)
                ax.set_ylabel(_("chart.reports"), color=BAR)
                ax.set_ylim(0, max(max(reports, default=0) * 1.18, 4))
                ax.grid(axis="y", color="#e2e8f0", zorder=0)
                ax.spines[["top", "right"]].set_visible(False)
                right = ax.twinx()
                right.plot(list(x), people, color=LINE_COLOUR, marker="o", linewidth=2.5, label=_("chart.participants"))
                right.set_ylabel(_("chart.participants"), color=LINE_COLOUR)
                # The line's scale tops out higher than the bars', so where the two trends run together
                # the line passes under the bars' figures rather than through them.
                right.set_ylim(0, max(max(people, default=0) * 1.45, 4))
                right.spines[["top", "left"]].set_visible(False)
                for axis in (ax, right):
                    axis.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
                    axis.yaxis.set_major_formatter(lambda v, _pos: format_number(int(v), locale))
                ax.set_title(title, loc="left", pad=40)
                handles = [bars, right.get_lines()[0]]
                ax.legend(handles, [h.get_label() for h in handles], loc="lower left", bbox_to_anchor=(0, 1.0),
                          frameon=False, ncols=2, fontsize=12, borderaxespad=0.2)
                if not any(reports):
                    ax.text(0.5, 0.5, _("chart.no_reports"), transform=ax.transAxes, ha="center", va="center",
                            fontsize=16, color="#4a5568")
                fig.tight_layout()
                out = io.BytesIO()
                fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
            finally:
                plt.close(fig)
    return out.getvalue()


# ---- the tile-grid map ---------------------------------------------------------------------------


@cache
def tile_layout() -> dict[str, tuple[int, int]]:
    """Province code → (row, col) from bot/data/province_tiles.csv (lines starting with # are notes)."""
    text = resources.files("bot.data").joinpath("province_tiles.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#"))
    return {r["code"]: (int(r["row"]), int(r["col"])) for r in rows}


@dataclass(frozen=True)
class Tile:
    code: str
    row: int
    col: int
    name: str  # short name in the requested language
    full_name: str
    reports: int
    last_report: object  # date | None
    level: int  # 0 silent, 1..4 more reports this month


def activity_level(reports: int, busiest: int) -> int:
    """0 for a silent province, else 1..4 by quarters of the busiest province's count."""
    if reports <= 0:
        return 0
    if busiest <= 0:
        return 1
    return min(4, 1 + (4 * reports - 1) // busiest)


def province_tile_map(activities: Sequence[ProvinceActivity], *, locale: str = "th") -> list[Tile]:
    """A tile per province of the activities (those the layout knows), in the layout's order."""
    layout = tile_layout()
    busiest = max((a.reports for a in activities), default=0)
    tiles = [Tile(a.code, *layout[a.code], a.label(locale), a.name(locale), a.reports, a.last_report,
                  activity_level(a.reports, busiest))
             for a in activities if a.code in layout]
    return sorted(tiles, key=lambda t: (t.row, t.col))


TILE, GAP, PAD = 64, 4, 8
LEGEND_WIDTH, LEGEND_HEIGHT = 200, 52


def _legend(x: int, y: int) -> str:
    """A hatched square for "no report this month", then the four blues from few to many."""
    silent, few, many = _("map.legend_silent"), _("map.legend_few"), _("map.legend_many")
    parts = [f'<g class="legend" font-size="12" fill="#2d3748">'
             f'<rect x="{x}" y="{y}" width="16" height="16" rx="3" fill="url(#silent)" stroke="#8c7b6b"/>'
             f'<text x="{x + 22}" y="{y + 13}">{escape(silent)}</text>']
    y += 22  # the scale on a line of its own: Thai and English labels differ in width
    parts.append(f'<text x="{x}" y="{y + 13}">{escape(few)}</text>')
    for i, colour in enumerate(LEVEL_COLOURS[1:]):
        parts.append(f'<rect x="{x + 40 + i * 18}" y="{y}" width="16" height="16" rx="3" fill="{colour}"/>')
    parts.append(f'<text x="{x + 40 + 4 * 18 + 4}" y="{y + 13}">{escape(many)}</text></g>')
    return "".join(parts)


def province_tile_map_svg(activities: Sequence[ProvinceActivity], *, locale: str) -> str:
    """The tile-grid map as a self-contained SVG (no script, no external font or link).

    Only the tiles' rows and columns in use are drawn, so a region's map is as small as the region."""
    tiles = province_tile_map(activities, locale=locale)
    with use_locale(locale):
        title = _("map.title")
        if not tiles:
            empty = _("map.empty")
            return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 200 40" width="200" height="40">'
                    f'<title>{escape(title)}</title><text x="8" y="24">{escape(empty)}</text></svg>')
        top, left = min(t.row for t in tiles), min(t.col for t in tiles)
        rows, cols = max(t.row for t in tiles) - top + 1, max(t.col for t in tiles) - left + 1
        width = max(PAD * 2 + cols * (TILE + GAP), LEGEND_WIDTH)
        height = PAD * 2 + rows * (TILE + GAP) + LEGEND_HEIGHT
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="map-title" '
                 f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
                 f'font-family="Sarabun, Tahoma, sans-serif">',
                 f'<title id="map-title">{escape(title)}</title>',
                 '<defs><pattern id="silent" width="8" height="8" patternUnits="userSpaceOnUse" '
                 'patternTransform="rotate(45)"><rect width="8" height="8" fill="#f1e9e2"/>'
                 '<line x1="0" y1="0" x2="0" y2="8" stroke="#c9b8a8" stroke-width="3"/></pattern></defs>']
        for t in tiles:
            x, y = PAD + (t.col - left) * (TILE + GAP), PAD + (t.row - top) * (TILE + GAP)
            if t.level == 0:
                status = (_("map.silent_since", date=format_date(t.last_report, locale))  # type: ignore[arg-type]
                          if t.last_report else _("map.never"))
            else:
                status = _("map.reports", n=format_number(t.reports, locale))
            fill = "url(#silent)" if t.level == 0 else LEVEL_COLOURS[t.level]
            parts.append(
                f'<g class="tile level-{t.level}" data-code="{escape(t.code)}"><title>{escape(t.full_name)}: '
                f'{escape(status)}</title><rect x="{x}" y="{y}" width="{TILE}" height="{TILE}" rx="6" '
                f'fill="{fill}" stroke="{"#8c7b6b" if t.level == 0 else "#ffffff"}" stroke-width="1"/>'
                f'<text x="{x + TILE / 2}" y="{y + TILE / 2 - 4}" text-anchor="middle" font-size="12" '
                f'fill="{LEVEL_TEXT[t.level]}">{escape(_short(t.name))}</text>'
                f'<text x="{x + TILE / 2}" y="{y + TILE / 2 + 16}" text-anchor="middle" font-size="15" '
                f'font-weight="bold" fill="{LEVEL_TEXT[t.level]}">{escape(format_number(t.reports, locale))}</text></g>')
        parts.append(_legend(PAD, height - LEGEND_HEIGHT + 4))
        parts.append("</svg>")
    return "".join(parts)


def _short(name: str, limit: int = 9) -> str:
    """A tile holds about nine characters at 12 px; longer names are cut with an ellipsis."""
    from .thai import truncate

    return truncate(name, limit)
