"""Outbox delivery: enqueue with the change, send later (or right after commit), exactly once."""
from .outbox import enqueue
from .sender import Sender

__all__ = ["enqueue", "Sender"]
