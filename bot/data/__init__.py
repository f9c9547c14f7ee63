"""Seed data: the movement's geography, strategic issues and organization types.

The YAML files beside this module are edited by operators, not developers, so
the loader validates everything up front and fails with a `SeedDataError` that
names the file and the offending entry, instead of letting a typo surface later
as a broken quick reply or a wrong seat count. `khabuan seed` upserts the loaded
records by `code`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import Any, Iterable, Protocol, TypeVar

import yaml

__all__ = [
    "LABEL_MAX",
    "MAX_CHOICES",
    "Geography",
    "OrganizationTypeData",
    "ProvinceData",
    "ProvinceGroupData",
    "RegionData",
    "SeedDataError",
    "StrategicIssueData",
    "label",
    "load_geography",
    "load_organization_types",
    "load_strategic_issues",
]

#: LINE quick-reply action labels are limited to 20 characters.
LABEL_MAX = 20
#: LINE allows 13 quick-reply chips; one is kept for "done"/"back".
MAX_CHOICES = 12

_ASCII_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_PROVINCE_CODE = re.compile(r"^[0-9]{2}$")


class SeedDataError(ValueError):
    """A seed YAML file is malformed; the message names the file and entry."""


@dataclass(frozen=True)
class RegionData:
    """A region (ภาค), the level above province groups."""

    code: str
    name_th: str
    name_en: str
    short_th: str | None = None
    short_en: str | None = None


@dataclass(frozen=True)
class ProvinceGroupData:
    """A province group (กลุ่มจังหวัด) inside one region."""

    code: str
    name_th: str
    name_en: str
    region: str
    short_th: str | None = None
    short_en: str | None = None


@dataclass(frozen=True)
class ProvinceData:
    """A province (จังหวัด); `code` is the official 2-digit province code."""

    code: str
    name_th: str
    name_en: str
    group: str
    aliases: tuple[str, ...] = ()
    short_th: str | None = None
    short_en: str | None = None


@dataclass(frozen=True)
class StrategicIssueData:
    """A strategic issue (ประเด็นยุทธศาสตร์) a leader can work on."""

    code: str
    name_th: str
    name_en: str
    short_th: str | None = None
    short_en: str | None = None


@dataclass(frozen=True)
class OrganizationTypeData:
    """A kind of community organization a leader can register."""

    code: str
    name_th: str
    name_en: str
    short_th: str | None = None
    short_en: str | None = None


@dataclass(frozen=True)
class Geography:
    """The validated province -> group -> region tree, in file order."""

    regions: tuple[RegionData, ...]
    groups: tuple[ProvinceGroupData, ...]
    provinces: tuple[ProvinceData, ...]

    @cached_property
    def regions_by_code(self) -> dict[str, RegionData]:
        return {r.code: r for r in self.regions}

    @cached_property
    def groups_by_code(self) -> dict[str, ProvinceGroupData]:
        return {g.code: g for g in self.groups}

    @cached_property
    def provinces_by_code(self) -> dict[str, ProvinceData]:
        return {p.code: p for p in self.provinces}

    def groups_in(self, region_code: str) -> tuple[ProvinceGroupData, ...]:
        """Groups of one region, in file order (for drill-down menus)."""
        return tuple(g for g in self.groups if g.region == region_code)

    def provinces_in(self, group_code: str) -> tuple[ProvinceData, ...]:
        """Provinces of one group, in file order."""
        return tuple(p for p in self.provinces if p.group == group_code)

    def find_province(self, text: str) -> ProvinceData | None:
        """Province whose code, name or alias matches `text` (case-insensitive).

        Aliases are validated to be unambiguous, so at most one can match.
        """
        return self._lookup.get(_norm(text))

    @cached_property
    def _lookup(self) -> dict[str, ProvinceData]:
        table: dict[str, ProvinceData] = {}
        for p in self.provinces:
            for key in (p.code, p.name_th, p.name_en, p.short_th, p.short_en, *p.aliases):
                if key:
                    table[_norm(key)] = p
        return table


class _Labelled(Protocol):
    name_th: str
    name_en: str
    short_th: str | None
    short_en: str | None


def label(item: _Labelled, locale: str) -> str:
    """Button label (<= 20 chars) for `item`: short name if any, else the name.

    `locale` is e.g. "th", "en", "en_US"; anything not English is Thai, the
    bot's default language.
    """
    if locale.lower().startswith("en"):
        return item.short_en or item.name_en
    return item.short_th or item.name_th


# --------------------------------------------------------------------------
# Loading and validation

PathLike = str | os.PathLike[str]
T = TypeVar("T")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _read(path: PathLike | None, default: str) -> tuple[Any, str]:
    """Parse YAML from `path` or the packaged default; returns (data, filename)."""
    if path is None:
        name = default
        text = resources.files(__name__).joinpath(default).read_text(encoding="utf-8")
    else:
        name = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise SeedDataError(f"{name}: cannot read file: {exc}") from exc
    try:
        return yaml.safe_load(text), name
    except yaml.YAMLError as exc:
        raise SeedDataError(f"{name}: invalid YAML: {exc}") from exc


def _section(data: Any, key: str, fname: str) -> list[Any]:
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise SeedDataError(f"{fname}: expected a top-level '{key}:' list")
    return data[key]


def _entries(
    items: list[Any],
    key: str,
    fname: str,
    cls: type[T],
    required: tuple[str, ...],
    code_re: re.Pattern[str] = _ASCII_CODE,
) -> tuple[T, ...]:
    """Build one kind of record, checking fields, codes, names and label lengths."""
    allowed = set(required) | {"short_th", "short_en"} | ({"aliases"} if cls is ProvinceData else set())
    out: list[T] = []
    seen: dict[tuple[str, str], str] = {}
    for i, raw in enumerate(items):
        where = f"{fname}: {key}[{i}]"
        if not isinstance(raw, dict):
            raise SeedDataError(f"{where}: expected a mapping, got {raw!r}")
        if isinstance(raw.get("code"), str):
            where += f" (code {raw['code']!r})"
        missing = [f for f in required if f not in raw or raw[f] in (None, "")]
        if missing:
            raise SeedDataError(f"{where}: missing field(s) {', '.join(missing)}")
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise SeedDataError(f"{where}: unknown field(s) {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for f, v in raw.items():
            if f == "aliases":
                v = [] if v is None else v
                if not isinstance(v, list) or not all(isinstance(a, str) and a.strip() for a in v):
                    raise SeedDataError(f"{where}: 'aliases' must be a list of non-empty strings")
                values[f] = tuple(a.strip() for a in v)
            elif v is None:
                continue
            elif not isinstance(v, str):
                hint = ' (quote it, e.g. code: "50")' if f == "code" else ""
                raise SeedDataError(f"{where}: '{f}' must be a string, got {v!r}{hint}")
            else:
                values[f] = v.strip()
        if not code_re.match(values["code"]):
            raise SeedDataError(f"{where}: bad code {values['code']!r} (must match {code_re.pattern})")
        for lang in ("th", "en"):
            name, short = values[f"name_{lang}"], values.get(f"short_{lang}")
            if short is not None and len(short) > LABEL_MAX:
                raise SeedDataError(
                    f"{where}: short_{lang} {short!r} is {len(short)} characters; max {LABEL_MAX}"
                )
            if short is None and len(name) > LABEL_MAX:
                raise SeedDataError(
                    f"{where}: name_{lang} {name!r} is {len(name)} characters (LINE labels allow "
                    f"{LABEL_MAX}); add a short_{lang}"
                )
        for f in ("code", "name_th", "name_en"):
            k = (f, _norm(values[f]))
            if k in seen:
                raise SeedDataError(f"{where}: duplicate {f} {values[f]!r} (also {seen[k]})")
            seen[k] = f"{key}[{i}]"
        out.append(cls(**values))
    return tuple(out)


def load_geography(path: PathLike | None = None) -> Geography:
    """Load and validate regions, province groups and provinces.

    Beyond per-entry checks: every reference resolves, every region has a group
    and every group a province (an empty unit would still get assembly seats),
    and no alias can mean two provinces.
    """
    data, fname = _read(path, "geography.yaml")
    regions = _entries(
        _section(data, "regions", fname), "regions", fname, RegionData, ("code", "name_th", "name_en")
    )
    groups = _entries(
        _section(data, "groups", fname), "groups", fname, ProvinceGroupData,
        ("code", "name_th", "name_en", "region"),
    )
    provinces = _entries(
        _section(data, "provinces", fname), "provinces", fname, ProvinceData,
        ("code", "name_th", "name_en", "group"), _PROVINCE_CODE,
    )
    region_codes = {r.code for r in regions}
    group_codes = {g.code for g in groups}
    for i, g in enumerate(groups):
        if g.region not in region_codes:
            raise SeedDataError(f"{fname}: groups[{i}] (code {g.code!r}): unknown region {g.region!r}")
    for i, p in enumerate(provinces):
        if p.group not in group_codes:
            raise SeedDataError(f"{fname}: provinces[{i}] (code {p.code!r}): unknown group {p.group!r}")
    _check_nonempty(fname, "region", regions, {g.region for g in groups}, "group")
    _check_nonempty(fname, "group", groups, {p.group for p in provinces}, "province")
    _check_aliases(fname, provinces)
    return Geography(regions, groups, provinces)


def _check_nonempty(
    fname: str, kind: str, items: Iterable[RegionData | ProvinceGroupData], used: set[str], child: str
) -> None:
    for item in items:
        if item.code not in used:
            raise SeedDataError(f"{fname}: {kind} {item.code!r} ({item.name_th}) has no {child}")


def _check_aliases(fname: str, provinces: tuple[ProvinceData, ...]) -> None:
    """Reject an alias that equals another province's code, name or alias."""
    owner: dict[str, ProvinceData] = {}
    for p in provinces:
        for key in {_norm(k) for k in (p.code, p.name_th, p.name_en, p.short_th, p.short_en) if k}:
            owner[key] = p
    for p in provinces:
        for alias in p.aliases:
            other = owner.setdefault(_norm(alias), p)
            if other is not p:
                raise SeedDataError(
                    f"{fname}: province {p.code!r} ({p.name_th}): alias {alias!r} "
                    f"already means province {other.code!r} ({other.name_th})"
                )


def _load_choices(path: PathLike | None, default: str, key: str, cls: type[T]) -> tuple[T, ...]:
    data, fname = _read(path, default)
    items = _entries(_section(data, key, fname), key, fname, cls, ("code", "name_th", "name_en"))
    if not items or len(items) > MAX_CHOICES:
        raise SeedDataError(
            f"{fname}: {len(items)} entries; need 1 to {MAX_CHOICES} to fit one quick-reply list"
        )
    return items


def load_strategic_issues(path: PathLike | None = None) -> tuple[StrategicIssueData, ...]:
    """Load and validate the strategic issues (file order = display order)."""
    return _load_choices(path, "strategic_issues.yaml", "issues", StrategicIssueData)


def load_organization_types(path: PathLike | None = None) -> tuple[OrganizationTypeData, ...]:
    """Load and validate the organization types (file order = display order).

    The packaged file is read once per process: it ships with the code, so it cannot change while
    the process runs, and parsing it costs ~9 ms, which every render of the org-type step paid.
    The result is a tuple of frozen records, safe to share between threads. An explicit `path`
    (an operator's file being checked) is read afresh every time.
    """
    if path is None:
        return _packaged_organization_types()
    return _load_choices(path, "organization_types.yaml", "types", OrganizationTypeData)


@cache
def _packaged_organization_types() -> tuple[OrganizationTypeData, ...]:
    return _load_choices(None, "organization_types.yaml", "types", OrganizationTypeData)
