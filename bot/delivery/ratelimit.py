"""A token bucket per LINE endpoint, in process.

Why in process and not in the database: each worker runs one sender loop, and the web
process only sends the few pushes of the event it just handled, so the sum across
processes stays far under LINE's limit (2,000 requests/s for push and multicast) when
each bucket is set conservatively (default 100/s). If you run many workers, divide.
"""
from __future__ import annotations

import threading
import time


class TokenBucket:
    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate / 10)
        self._tokens = self.capacity
        self._stamp = time.monotonic()  # monotonic: a frozen or jumping wall clock can't stall us
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; returns seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return waited
                pause = (1 - self._tokens) / self.rate
            time.sleep(pause)
            waited += pause


class EndpointLimiter:
    """One bucket per endpoint name ("push", "multicast"), each with the same rate."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def acquire(self, endpoint: str) -> float:
        with self._lock:
            bucket = self._buckets.setdefault(endpoint, TokenBucket(self.rate))
        return bucket.acquire()
