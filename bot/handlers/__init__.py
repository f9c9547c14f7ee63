"""Capability modules register their commands, actions, events and flows here, explicitly."""
from __future__ import annotations

from ..router import Router
from . import assembly, console, groups, meetings, menu, organizations, profile, registration, reports

MODULES = (menu, registration, organizations, profile, groups, reports, assembly, meetings, console)


def build_router() -> Router:
    router = Router()
    for module in MODULES:
        module.register(router)
    return router
