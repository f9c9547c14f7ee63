"""Capability modules register their commands, actions, events and flows here, explicitly."""
from __future__ import annotations

from ..router import Router
from . import groups, meetings, menu, organizations, profile, registration, reports, voting

MODULES = (menu, registration, organizations, profile, groups, reports, voting, meetings)


def build_router() -> Router:
    router = Router()
    for module in MODULES:
        module.register(router)
    return router
