"""Log lines for operators: plain text by default, one JSON object per line with LOG_FORMAT=json.

Stdlib logging only. Fields passed with `extra=` (the webhook's `webhook_event_id`, `event_type`,
`outcome`, `duration_ms`; the worker's counts) become keys of the JSON object, and are appended
as `key=value` to a text line. What goes into a log line is decided where it is logged: ids,
kinds, counts and durations, never a person's name, phone or message text
(tests/test_operations.py scans the logs of a whole conversation for them).
"""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(extras(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The classic line, with the record's extras appended as key=value."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = extras(record)
        if fields:
            tail = " ".join(f"{k}={v}" for k, v in fields.items())
            first, sep, rest = line.partition("\n")  # keep a traceback below the fields
            line = f"{first} [{tail}]{sep}{rest}"
        return line


def configure(log_format: str = "text", level: str = "INFO", *, force: bool = False) -> None:
    """Set up the root logger once per process (a second call changes nothing unless `force`).

    gunicorn, the worker and the CLI all call this; a host that configured logging itself (a
    test runner's capture handler, an embedding app) keeps its handlers unless `force`.
    """
    root = logging.getLogger()
    if root.handlers and not force:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
