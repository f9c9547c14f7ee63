"""Capability modules register their commands, actions, events and flows here, explicitly."""
from __future__ import annotations

from ..router import Router
from . import groups, menu, organizations, profile, registration

MODULES = (menu, registration, organizations, profile, groups)


def build_router() -> Router:
    router = Router()
    for module in MODULES:
        module.register(router)
    return router
