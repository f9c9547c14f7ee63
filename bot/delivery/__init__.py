"""Outbox delivery: enqueue with the change, send later (or right after commit), exactly once."""
from .outbox import enqueue, enqueue_users
from .sender import DeliveryStats, Sender

__all__ = ["enqueue", "enqueue_users", "DeliveryStats", "Sender"]
