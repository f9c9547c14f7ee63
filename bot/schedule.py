"""What the scheduler runs: the capability modules that register jobs (see bot/jobs.py).

The list sits on top of the domain (it names every capability with jobs) and below the edges
that run or show the schedule (`khabuan worker`, `khabuan jobs`, the simulator's clock panel).
"""
from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType

from . import assembly, digests, housekeeping, meetings, reminders
from .jobs import JobRegistry

# Modules with register_jobs(registry). Add a feature's module here to schedule its jobs.
JOB_MODULES: list[ModuleType] = [housekeeping, reminders, assembly, digests, meetings]


def build_registry(extra_modules: Sequence[str] = ()) -> JobRegistry:
    """The jobs of JOB_MODULES, plus modules named on the command line (tests, one-off operations)."""
    registry = JobRegistry()
    for module in [*JOB_MODULES, *(importlib.import_module(name) for name in extra_modules)]:
        module.register_jobs(registry)
    return registry
