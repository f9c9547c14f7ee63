"""bot/charts.py: the 12-month PNG within LINE's limits, and the tile-grid map of the 77 provinces."""
from __future__ import annotations

import io
import re
from datetime import date
from xml.etree import ElementTree

from PIL import Image

from bot import charts, stats
from bot.data import load_geography


def points(reports=(5, 0, 12, 30, 7, 0, 0, 44, 18, 9, 3, 21)) -> list[stats.MonthPoint]:
    return [stats.MonthPoint(stats.month_start(date(2026, 11, 18), 11 - i), reports=n, participants=n * 9)
            for i, n in enumerate(reports)]


def activities(reports: dict[str, int] | None = None) -> list[stats.ProvinceActivity]:
    reports = reports or {}
    return [stats.ProvinceActivity(p.code, p.name_th, p.name_en, p.short_th or p.name_th, p.short_en or p.name_en,
                                   reports.get(p.code, 0), date(2026, 9, 1) if p.code == "57" else None)
            for p in load_geography().provinces]


def test_monthly_chart_is_a_png_within_line_limits():
    for locale in ("th", "en"):
        png = charts.monthly_chart_png(points(), locale=locale, title="กิจกรรม 12 เดือน")
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.size == (charts.WIDTH, charts.HEIGHT)
        assert len(png) < charts.LINE_PREVIEW_LIMIT


def test_an_empty_year_still_draws():
    png = charts.monthly_chart_png(points((0,) * 12), locale="th", title="ยังไม่มีรายงาน")
    assert Image.open(io.BytesIO(png)).size == (charts.WIDTH, charts.HEIGHT)


def test_the_layout_places_every_province_once():
    layout = charts.tile_layout()
    codes = {p.code for p in load_geography().provinces}
    assert set(layout) == codes and len(codes) == 77
    assert len(set(layout.values())) == 77  # no two provinces share a tile


def test_tiles_carry_levels_and_names():
    tiles = charts.province_tile_map(activities({"50": 40, "10": 10, "40": 1}), locale="en")
    assert len(tiles) == 77
    by_code = {t.code: t for t in tiles}
    assert (by_code["50"].level, by_code["10"].level, by_code["40"].level, by_code["57"].level) == (4, 1, 1, 0)
    assert by_code["50"].name == "Chiang Mai" and (by_code["50"].row, by_code["50"].col) == charts.tile_layout()["50"]
    assert [charts.activity_level(n, 40) for n in (0, 1, 10, 11, 20, 21, 30, 31, 40)] == [0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_map_svg_is_well_formed_and_accessible():
    svg = charts.province_tile_map_svg(activities({"50": 3}), locale="th")
    root = ElementTree.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert root.get("role") == "img" and root.find("s:title", ns).text == "รายงานกิจกรรมเดือนนี้ รายจังหวัด"
    groups = [g for g in root.findall("s:g", ns) if g.get("data-code")]
    assert len(groups) == 77
    titles = {g.get("data-code"): g.find("s:title", ns).text for g in groups}
    assert titles["50"] == "เชียงใหม่: 3 รายงานเดือนนี้"
    assert titles["57"] == "เชียงราย: ยังไม่มีรายงานเดือนนี้ (ล่าสุด 1 ก.ย. 2569)"
    assert titles["10"] == "กรุงเทพมหานคร: ยังไม่เคยมีรายงาน"
    silent = [g for g in groups if "level-0" in g.get("class")]
    assert len(silent) == 76 and all(g.find("s:rect", ns).get("fill") == "url(#silent)" for g in silent)
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", svg)  # loads nothing from the internet


def test_a_region_map_is_only_as_big_as_the_region():
    north = [a for a in activities() if a.code in {"50", "57", "58"}]
    svg = charts.province_tile_map_svg(north, locale="en")
    width = int(ElementTree.fromstring(svg).get("width"))
    assert width < 5 * (charts.TILE + charts.GAP) + 2 * charts.PAD
    assert "No province" in charts.province_tile_map_svg([], locale="en")


def test_the_map_explains_its_colours():
    svg = charts.province_tile_map_svg(activities({"50": 3}), locale="th")
    legend = ElementTree.fromstring(svg).find("{http://www.w3.org/2000/svg}g[@class='legend']")
    texts = [t.text for t in legend.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["ยังไม่มีรายงานเดือนนี้", "น้อย", "มาก"]
