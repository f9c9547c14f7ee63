"""`khabuan seed`: upsert reference data by code. Safe to run again after editing the YAML."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .data import label, load_geography, load_strategic_issues
from .models import Province, ProvinceGroup, Region, StrategicIssue


def _upsert(session: Session, model, code: str, **values):
    row = session.scalar(select(model).where(model.code == code))
    if row is None:
        row = model(code=code, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    return row


def seed(session: Session) -> dict[str, int]:
    geo = load_geography()
    regions = {r.code: _upsert(session, Region, r.code, name_th=r.name_th, name_en=r.name_en) for r in geo.regions}
    session.flush()
    groups = {}
    for g in geo.groups:
        groups[g.code] = _upsert(session, ProvinceGroup, g.code, name_th=g.name_th, name_en=g.name_en,
                                 region_id=regions[g.region].id)
    session.flush()
    for p in geo.provinces:
        _upsert(session, Province, p.code, name_th=p.name_th, name_en=p.name_en, short_th=label(p, "th"),
                short_en=label(p, "en"), aliases="|".join(p.aliases), group_id=groups[p.group].id)
    issues = load_strategic_issues()
    for order, issue in enumerate(issues):
        _upsert(session, StrategicIssue, issue.code, name_th=issue.name_th, name_en=issue.name_en,
                short_th=label(issue, "th"), short_en=label(issue, "en"), sort_order=order)
    session.flush()
    return {"regions": len(geo.regions), "groups": len(geo.groups), "provinces": len(geo.provinces),
            "issues": len(issues)}
