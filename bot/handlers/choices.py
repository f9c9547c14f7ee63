"""Options the flows offer, read from the reference data in the person's language."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..context import Context
from ..data import label, load_organization_types
from ..flows.steps import Group, Option
from ..i18n import current_locale
from ..models import Province, ProvinceGroup, Region, StrategicIssue


LEADING_VOWELS = "เแโใไ"


def thai_sort_key(name: str) -> str:
    """Thai dictionary order ignores a leading vowel (เชียงราย sorts under ช, not after ฮ)."""
    if len(name) > 1 and name[0] in LEADING_VOWELS:
        return name[1] + name[0] + name[2:]
    return name


def _sort_name(p: Province, locale: str) -> str:
    return thai_sort_key(p.name_th) if locale == "th" else p.name_en


def _province_option(p: Province, locale: str) -> Option:
    return Option(str(p.id), p.label(locale), (p.name_th, p.name_en, p.code, *p.aliases.split("|")))


def province_options(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    locale = current_locale()
    provinces = sorted(ctx.session.scalars(select(Province)), key=lambda p: _sort_name(p, locale))
    return [_province_option(p, locale) for p in provinces]


def provinces_by_region(ctx: Context, answers: dict[str, Any]) -> list[Group]:
    """Region first, then its provinces: 8 regions and ≤ 20 provinces each fit LINE's chips."""
    locale = current_locale()
    regions = ctx.session.scalars(
        select(Region).order_by(Region.id).options(selectinload(Region.groups).selectinload(ProvinceGroup.provinces)))
    groups = []
    for region in regions:
        provinces = sorted((p for g in region.groups for p in g.provinces), key=lambda p: _sort_name(p, locale))
        groups.append(Group(region.code, region.name(locale)[:20], tuple(_province_option(p, locale) for p in provinces)))
    return groups


def issue_options(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    locale = current_locale()
    issues = ctx.session.scalars(select(StrategicIssue).order_by(StrategicIssue.sort_order))
    return [Option(i.code, i.label(locale), (i.name_th, i.name_en, i.short_th, i.short_en)) for i in issues]


def org_type_options(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    locale = current_locale()
    return [Option(t.code, label(t, locale), (t.name_th, t.name_en)) for t in load_organization_types()]

