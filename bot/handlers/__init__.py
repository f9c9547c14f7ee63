"""Capability modules register their commands, actions, events and flows here, explicitly."""
from __future__ import annotations

from ..router import Router
from . import appointments, assembly, console, groups, meetings, menu, organizations, profile, registration, reports

MODULES = (menu, registration, organizations, profile, groups, reports, assembly, meetings, appointments, console)


def build_router() -> Router:
    router = Router()
    for module in MODULES:
        module.register(router)
    menu.answer_to_button_names(router)
    return router
