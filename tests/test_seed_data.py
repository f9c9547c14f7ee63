"""Seed data: the shipped YAML is complete and sane; bad files fail clearly."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from bot.data import (
    LABEL_MAX,
    MAX_CHOICES,
    Geography,
    SeedDataError,
    label,
    load_geography,
    load_organization_types,
    load_strategic_issues,
)


@pytest.fixture(scope="module")
def geo() -> Geography:
    return load_geography()


# ---------------------------------------------------------------- shipped data


def test_77_provinces_with_unique_two_digit_codes(geo: Geography) -> None:
    codes = [p.code for p in geo.provinces]
    assert len(codes) == 77
    assert len(set(codes)) == 77
    assert all(re.fullmatch(r"[1-9][0-9]", c) for c in codes)
    assert len({p.name_th for p in geo.provinces}) == 77
    assert len({p.name_en for p in geo.provinces}) == 77


@pytest.mark.parametrize(
    ("code", "name_th", "name_en"),
    [
        ("10", "กรุงเทพมหานคร", "Bangkok"),
        ("14", "พระนครศรีอยุธยา", "Phra Nakhon Si Ayutthaya"),
        ("30", "นครราชสีมา", "Nakhon Ratchasima"),
        ("38", "บึงกาฬ", "Bueng Kan"),
        ("50", "เชียงใหม่", "Chiang Mai"),
        ("77", "ประจวบคีรีขันธ์", "Prachuap Khiri Khan"),
        ("96", "นราธิวาส", "Narathiwat"),
    ],
)
def test_known_official_codes(geo: Geography, code: str, name_th: str, name_en: str) -> None:
    p = geo.provinces_by_code[code]
    assert (p.name_th, p.name_en) == (name_th, name_en)


def test_regions_and_groups(geo: Geography) -> None:
    assert len(geo.regions) == 8
    assert 20 <= len(geo.groups) <= 24
    per_group = Counter(p.group for p in geo.provinces)
    for g in geo.groups:
        assert 1 <= per_group[g.code] <= 7, g.code
        assert g.region in geo.regions_by_code
    for r in geo.regions:
        assert geo.groups_in(r.code), r.code
    # every province sits in exactly one, existing group
    assert sum(per_group.values()) == 77
    assert set(per_group) == {g.code for g in geo.groups}


def test_assembly_seat_formula(geo: Geography) -> None:
    seats = 3 * len(geo.provinces) + 2 * len(geo.groups) + 5 * len(geo.regions)
    assert seats == 77 * 3 + len(geo.groups) * 2 + 8 * 5
    # the issue's historical figure: 76 provinces, 22 groups, 8 regions
    assert 76 * 3 + 22 * 2 + 8 * 5 == 312


def test_aliases_resolve(geo: Geography) -> None:
    for text, code in [
        ("กทม", "10"), ("กรุงเทพฯ", "10"), ("bkk", "10"), ("Bangkok", "10"),
        ("โคราช", "30"), ("Korat", "30"), ("อยุธยา", "14"), ("Ayutthaya", "14"),
        ("Chiangmai", "50"), (" chiang  mai ", "50"), ("38", "38"),
    ]:
        found = geo.find_province(text)
        assert found is not None and found.code == code, text
    assert geo.find_province("Atlantis") is None


def test_all_quick_reply_labels_fit(geo: Geography) -> None:
    items = [*geo.regions, *geo.groups, *geo.provinces,
             *load_strategic_issues(), *load_organization_types()]
    for item in items:
        for locale in ("th", "en"):
            text = label(item, locale)
            assert text and len(text) <= LABEL_MAX, (item.code, text)


def test_issues_and_types() -> None:
    issues = load_strategic_issues()
    codes = {i.code for i in issues}
    assert {"housing", "land", "welfare", "councils", "natural_resources",
            "economy", "agriculture_food", "disaster"} <= codes
    assert len(issues) <= MAX_CHOICES
    types = load_organization_types()
    assert len(types) <= MAX_CHOICES
    assert types[-1].code == "other"
    assert label(issues[0], "en_US") == issues[0].short_en
    assert label(issues[0], "th") == issues[0].short_th


def test_packaged_organization_types_are_parsed_once_per_process(monkeypatch):
    """The org-type step renders them on every turn; parsing the YAML cost ~9 ms each time."""
    import bot.data

    first = load_organization_types()
    reads: list[str] = []
    real_read = bot.data._read
    monkeypatch.setattr(bot.data, "_read", lambda path, default: reads.append(default) or real_read(path, default))
    assert load_organization_types() is first
    assert reads == []


# ---------------------------------------------------------------- bad files

GOOD_GEO = """
regions:
  - {code: north, name_th: ภาคเหนือ, name_en: North}
groups:
  - {code: lanna, region: north, name_th: ล้านนา, name_en: Lanna}
provinces:
  - {code: "50", group: lanna, name_th: เชียงใหม่, name_en: Chiang Mai, aliases: [Chiangmai]}
  - {code: "51", group: lanna, name_th: ลำพูน, name_en: Lamphun}
"""


def _write(tmp_path: Path, text: str, name: str = "seed.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_small_good_file_loads(tmp_path: Path) -> None:
    geo = load_geography(_write(tmp_path, GOOD_GEO))
    assert [p.code for p in geo.provinces] == ["50", "51"]
    assert geo.provinces[0].aliases == ("Chiangmai",)
    assert geo.provinces[1].aliases == ()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("group: lanna, name_th: ลำพูน", "group: nowhere, name_th: ลำพูน", r"'51'.*unknown group 'nowhere'"),
        ("region: north", "region: south", r"'lanna'.*unknown region 'south'"),
        ('code: "51"', 'code: "50"', r"provinces\[1\].*duplicate code '50'"),
        ("name_th: ลำพูน", "name_th: เชียงใหม่", r"'51'.*duplicate name_th"),
        ("name_en: Lamphun", "name_en: chiang mai", r"'51'.*duplicate name_en"),
        (", name_en: Lamphun", "", r"'51'.*missing field\(s\) name_en"),
        ('code: "51"', "code: 51", r"provinces\[1\].*must be a string.*quote it"),
        ('code: "51"', 'code: "5"', r"provinces\[1\].*bad code '5'"),
        ("name_en: Lamphun", "name_en: Lamphun Province of Thailand", r"'51'.*name_en.*add a short_en"),
        ("name_en: Lamphun", "name_en: Lamphun, short_th: ลำพูนลำพูนลำพูนลำพูนลำพูน", r"'51'.*short_th.*max 20"),
        ("name_en: Lamphun", "name_en: Lamphun, colour: red", r"'51'.*unknown field\(s\) colour"),
        ("name_en: Lamphun}", "name_en: Lamphun, aliases: [chiangmai]}", r"'51'.*alias 'chiangmai' already means province '50'"),
        ("name_en: Lamphun}", "name_en: Lamphun, aliases: [Chiang Mai]}", r"'51'.*alias 'Chiang Mai'"),
    ],
)
def test_bad_geography_names_the_entry(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GOOD_GEO
    path = _write(tmp_path, GOOD_GEO.replace(old, new, 1))
    with pytest.raises(SeedDataError, match=expected) as info:
        load_geography(path)
    assert "seed.yaml" in str(info.value)


def test_empty_group_and_region_rejected(tmp_path: Path) -> None:
    extra_group = GOOD_GEO.replace(
        "provinces:", "  - {code: empty, region: north, name_th: ว่าง, name_en: Empty}\nprovinces:"
    )
    with pytest.raises(SeedDataError, match=r"group 'empty'.*has no province"):
        load_geography(_write(tmp_path, extra_group))
    extra_region = GOOD_GEO.replace(
        "groups:", "  - {code: lonely, name_th: เดียวดาย, name_en: Lonely}\ngroups:"
    )
    with pytest.raises(SeedDataError, match=r"region 'lonely'.*has no group"):
        load_geography(_write(tmp_path, extra_region))


def test_structural_errors(tmp_path: Path) -> None:
    with pytest.raises(SeedDataError, match=r"seed.yaml.*'provinces:'"):
        load_geography(_write(tmp_path, "regions: []\ngroups: []\n"))
    with pytest.raises(SeedDataError, match=r"seed.yaml.*invalid YAML"):
        load_geography(_write(tmp_path, "regions: [\n"))
    with pytest.raises(SeedDataError, match=r"cannot read"):
        load_geography(tmp_path / "missing.yaml")


def test_bad_issue_and_type_files(tmp_path: Path) -> None:
    dup = _write(tmp_path, """
issues:
  - {code: land, name_th: ที่ดิน, name_en: Land}
  - {code: land, name_th: ที่ดินอีก, name_en: More land}
""")
    with pytest.raises(SeedDataError, match=r"issues\[1\] \(code 'land'\): duplicate code"):
        load_strategic_issues(dup)
    too_long = _write(tmp_path, """
types:
  - {code: council, name_th: สภาองค์กรชุมชนตำบลแห่งประเทศไทย, name_en: Council}
""")
    with pytest.raises(SeedDataError, match=r"types\[0\] \(code 'council'\): name_th.*add a short_th"):
        load_organization_types(too_long)
    many = "types:\n" + "".join(
        f"  - {{code: t{i}, name_th: ประเภท{i}, name_en: Type {i}}}\n" for i in range(MAX_CHOICES + 1)
    )
    with pytest.raises(SeedDataError, match=r"13 entries"):
        load_organization_types(_write(tmp_path, many))
